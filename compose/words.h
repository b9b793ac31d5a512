/*
 * words.h - the two things nlsend does to plain text: count its words the
 * way nlsend-issue(5) ("What the composer derives") defines them, and wrap
 * it to a width for the text/plain part.
 *
 * Both work on UTF-8 and are linear in their input.  Neither validates:
 * an invalid byte is decoded as U+FFFD (not a space, not a letter), so bad
 * input never loops or crashes, it only counts or measures oddly.
 */
#ifndef NL_WORDS_H
#define NL_WORDS_H

#include <stddef.h>

#include "util/buf.h"

/*
 * Words of s[0..n): a word is a maximal run of non-space (uc_is_space)
 * characters holding at least one letter or digit (uc_is_alnum).  So
 * "沈岳" is one word, a lone "—" or "•" is none, "1." is one (list markers
 * are excluded by md_render never emitting them into the counted text,
 * not by this rule).  No markdown is interpreted here: use it for plain
 * fields (label, title, credit); md_render counts markdown.
 */
unsigned long words_count(const char *s, size_t n);

/*
 * Wrap one paragraph s[0..n) greedily to `width` columns and append it to
 * out, every line (the last one included) ending in "\n".  The first line
 * starts with `first`, the others with `rest` (a hanging indent: "• " and
 * "  ", or "> " and "> "); the prefix counts towards the width.  Columns
 * are code points (a CJK ideograph counts one, as the spec's "72 columns"
 * is measured by the tests).
 *
 * Lines break only at U+0020 SPACE: never inside a word, so never inside
 * a URL (callers render URLs without spaces), and never at a no-break
 * space.  The run of spaces at a break is dropped; runs between words on
 * one line are kept as written.  A word longer than the width stands alone
 * on its line, unbroken.  A '\n' in s is a hard break: the text after it
 * starts a new line (with `rest`).  An empty s yields one line holding
 * just `first`; trailing spaces of prefix-only lines are trimmed.
 *
 * Returns 0, or -1 with errno (ENOMEM, or E2BIG at out's cap) leaving a
 * partial paragraph in out: callers treat -1 as fatal for the whole text.
 */
int text_wrap(struct buf *out, const char *s, size_t n, size_t width,
	      const char *first, const char *rest);

#endif
