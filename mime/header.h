/*
 * header.h - writing RFC 5322 header fields: folding (section 2.2.3),
 * phrases and unstructured text with RFC 2047 encoded-words, the date
 * (section 3.3).
 *
 * Why by hand: libetpan's header writers (mailimf_header_string_write_mem
 * and friends) fold but do not RFC 2047-encode, and libetpan has no
 * encoded-word writer at all (only the decoder, mailmime_encoded_phrase_
 * parse, which the tests use to check everything written here).  The
 * recipient's display name is encoded per message, so this is also on the
 * hot path.
 *
 * Folding: a field is written as "Name: " and then tokens, each with the
 * whitespace before it; a fold (CRLF) is inserted before that whitespace
 * when the line would pass 78 octets (RFC 5322 2.1.1), so unfolding gives
 * the original text back.  Nothing is folded right after "Name: ".  A line
 * never passes 998 octets: hdr_put() fails with EOVERFLOW instead (callers
 * keep values below that, see message.c).
 *
 * Encoded-words (RFC 2047): "=?UTF-8?Q?...?=" or "?B?", whichever is
 * shorter for the text; each word at most 75 characters (section 2) and
 * never splitting a UTF-8 sequence (section 5 (3)); Q uses only the
 * characters allowed in a phrase (section 5 (3)), so the same words are
 * valid in Subject, display names and List-Id.  Adjacent encoded-words are
 * separated by a space (or a fold), which decoders drop (section 6.2), so
 * the spaces of the text travel inside the encoded-words.
 *
 * Inputs must be valid UTF-8 without CR, LF or NUL: the caller checks
 * (message.c turns a violation into NL_EDATA naming the field).
 *
 * Errors: 0, or -1 with errno (E2BIG/ENOMEM from the buffer, EOVERFLOW for
 * a line over 998 octets or a date out of range).  On error the buffer may
 * hold part of the field: callers truncate to where the message began.
 */
#ifndef NL_MIME_HEADER_H
#define NL_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define HDR_LINE_SOFT 78	/* RFC 5322 2.1.1 SHOULD */
#define HDR_LINE_HARD 998	/* RFC 5322 2.1.1 MUST */

struct hdr {
	struct buf *b;
	size_t col;		/* octets on the current line */
	bool fold_ok;		/* a token was written after "Name: " */
};

/* Start a field: appends "name: ". */
int hdr_begin(struct hdr *h, struct buf *b, const char *name);
/* Append sep (spaces only; may be empty, then no fold is possible) and tok,
 * folding before sep when the line would pass 78. */
int hdr_put(struct hdr *h, const char *sep, size_t seplen, const char *tok,
	    size_t toklen);
/* Append p[0..n) where no fold may go (e.g. the ',' after a list item). */
int hdr_raw(struct hdr *h, const char *p, size_t n);
/* As hdr_put() with the token "<" s ">" (an angle-addr or a URL). */
int hdr_put_angle(struct hdr *h, const char *sep, size_t seplen,
		  const char *s, size_t n);
/* End the field with CRLF. */
int hdr_end(struct hdr *h);

/*
 * A display name or List-Id description as an RFC 5322 phrase (3.2.5):
 * - atoms as they are when the text is words of atext separated by single
 *   spaces (and quote is false);
 * - a quoted-string when it is printable ASCII with specials (or quote is
 *   true), e.g. "Hopper, Grace", as long as it fits the line;
 * - otherwise (non-ASCII, controls, "=?", too long) encoded-words.
 * Empty text writes nothing.
 */
int hdr_phrase(struct hdr *h, const char *s, size_t n, bool quote);

/*
 * Unstructured text (Subject, RFC 5322 3.2.5 and RFC 2047 section 5 (1)):
 * words of printable ASCII stay as they are; runs of words that need it
 * (non-ASCII, controls, "=?", longer than a line, trailing spaces) become
 * encoded-words; folded at the text's own spaces.
 */
int hdr_unstructured(struct hdr *h, const char *s, size_t n);

/* Append the date-time of RFC 5322 3.3 in UTC: "Tue, 15 Sep 2020
 * 10:00:00 +0000".  Years 1900..9999 only. */
int hdr_date(struct buf *b, long long t);

/* True when s[0..n) holds CR, LF or NUL (would end or split a header). */
bool hdr_has_breaks(const char *s, size_t n);

/* RFC 5322 atext (3.2.3). */
bool hdr_is_atext(unsigned char c);

#endif
