/*
 * utf8.h - UTF-8 validation and the two Unicode character classes nlsend
 * needs (white space and letter-or-digit, for the word count of
 * nlsend-issue(5)).  Validation follows RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF.
 */
#ifndef NL_UTF8_H
#define NL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offset of the first invalid byte, or n when all n bytes are valid. */
size_t utf8_invalid_offset(const char *s, size_t n);

/*
 * Decode one code point at s (n bytes available).  Returns its length in
 * bytes (1-4) and stores it in *cp; on an invalid sequence returns 1 and
 * stores U+FFFD, so a loop over bad input still advances.
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Unicode White_Space (tab, LF, VT, FF, CR, space, NEL, NBSP, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). */
bool uc_is_space(uint32_t cp);

/* Letter or digit (Unicode general categories L* and N*), as the C.UTF-8
 * locale's iswalnum() knows them; CJK ideographs are letters. */
bool uc_is_alnum(uint32_t cp);

/* Number of code points in s[0..n) (invalid bytes count one each). */
size_t utf8_length(const char *s, size_t n);

#endif
