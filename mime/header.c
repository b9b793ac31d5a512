#include "mime/header.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "util/utf8.h"

#define EW_MAX 75		/* RFC 2047 section 2 */
#define EW_OVERHEAD 12		/* "=?UTF-8?Q?" + "?=" */
#define EW_PAYLOAD (EW_MAX - EW_OVERHEAD)
#define EW_MIN_ROOM 12		/* one 4-octet character in Q */

static const char hexdig[] = "0123456789ABCDEF";

bool
hdr_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

bool
hdr_has_breaks(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return true;
	return false;
}

int
hdr_raw(struct hdr *h, const char *p, size_t n)
{
	if (h->col + n > HDR_LINE_HARD) {
		errno = EOVERFLOW;
		return -1;
	}
	if (buf_add(h->b, p, n))
		return -1;
	h->col += n;
	return 0;
}

int
hdr_begin(struct hdr *h, struct buf *b, const char *name)
{
	h->b = b;
	h->col = 0;
	h->fold_ok = false;
	if (hdr_raw(h, name, strlen(name)) || hdr_raw(h, ": ", 2))
		return -1;
	return 0;
}

int
hdr_put(struct hdr *h, const char *sep, size_t seplen, const char *tok,
	size_t toklen)
{
	if (h->fold_ok && seplen && h->col + seplen + toklen > HDR_LINE_SOFT) {
		if (buf_add(h->b, "\r\n", 2))
			return -1;
		h->col = 0;
	}
	if (hdr_raw(h, sep, seplen) || hdr_raw(h, tok, toklen))
		return -1;
	h->fold_ok = true;
	return 0;
}

int
hdr_put_angle(struct hdr *h, const char *sep, size_t seplen, const char *s,
	      size_t n)
{
	if (h->fold_ok && seplen && h->col + seplen + n + 2 > HDR_LINE_SOFT) {
		if (buf_add(h->b, "\r\n", 2))
			return -1;
		h->col = 0;
	}
	if (hdr_raw(h, sep, seplen) || hdr_raw(h, "<", 1) ||
	    hdr_raw(h, s, n) || hdr_raw(h, ">", 1))
		return -1;
	h->fold_ok = true;
	return 0;
}

int
hdr_end(struct hdr *h)
{
	return buf_add(h->b, "\r\n", 2);
}

/* Characters Q may leave as they are in any context (RFC 2047 5 (3)). */
static bool
q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/';
}

static size_t
q_len(unsigned char c)
{
	return q_plain(c) || c == ' ' ? 1 : 3;
}

/* Length of the UTF-8 sequence at s (1 for an invalid octet). */
static size_t
seqlen(const char *s, size_t n)
{
	uint32_t cp;

	return utf8_decode(s, n, &cp);
}

/* Encoded length of s[0..n) in Q or B, without the word's overhead. */
static size_t
enc_len(const char *s, size_t n, bool useq)
{
	size_t i, q = 0;

	if (!useq)
		return (n + 2) / 3 * 4;
	for (i = 0; i < n; i++)
		q += q_len((unsigned char)s[i]);
	return q;
}

/*
 * Write s[0..n) as encoded-words, the first one after sep (the text's own
 * whitespace), the next ones after a space that decoders drop.
 */
/* The payload one encoded word may carry here: a rest that fits one word
 * goes whole (after a fold if needed); a longer one fills the current
 * line first.  So does a word that cannot be moved to a new line (the
 * first one after "Name: ", or one with no separator), found by fuzzing:
 * else "Subject: " + a 72-character word made an 81-octet line (RFC 2047
 * section 2: lines with encoded-words stay short; RFC 5322 2.1.1). */
static size_t
word_cap(const struct hdr *h, size_t sl, const char *rest, size_t n,
	 bool useq)
{
	size_t cap = EW_PAYLOAD, room;

	if (h->col + sl + EW_OVERHEAD < HDR_LINE_SOFT) {
		room = HDR_LINE_SOFT - h->col - sl - EW_OVERHEAD;
		if (room >= EW_MIN_ROOM && room < cap &&
		    (enc_len(rest, n, useq) > EW_PAYLOAD ||
		     !(h->fold_ok && sl)))
			cap = room;
	}
	return cap;
}

/* Where the word that starts at pos ends: whole UTF-8 sequences while the
 * payload fits cap. */
static size_t
word_end(const char *s, size_t n, size_t pos, size_t cap, bool useq)
{
	size_t k, cl, len = 0, m, j;

	for (k = pos; k < n; k += cl) {
		cl = seqlen(s + k, n - k);
		if (useq) {
			for (m = 0, j = 0; j < cl; j++)
				m += q_len((unsigned char)s[k + j]);
			if (len + m > cap)
				break;
			len += m;
		} else if ((k + cl - pos + 2) / 3 * 4 > cap) {
			break;
		}
	}
	/* cap >= EW_MIN_ROOM (12) holds the longest sequence, encoded */
	assert(cap >= EW_MIN_ROOM);
	return k > pos ? k : pos + seqlen(s + pos, n - pos);
}

/* s[pos..k) as one encoded word into w (EW_MAX + 1 bytes); its length.
 * w holds bytes with a length, never a C string. */
static size_t
word_encode(char *w, const char *s, size_t pos, size_t k, bool useq)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = 10, i;
	unsigned char c;
	uint32_t v;

	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
	memcpy(w, useq ? "=?UTF-8?Q?" : "=?UTF-8?B?", 10);
	for (i = pos; useq && i < k; i++) {
		c = (unsigned char)s[i];
		if (c == ' ') {
			w[len++] = '_';
		} else if (q_plain(c)) {
			w[len++] = (char)c;
		} else {
			w[len++] = '=';
			w[len++] = hexdig[c >> 4];
			w[len++] = hexdig[c & 15];
		}
	}
	for (i = pos; !useq && i < k; i += 3) {
		v = (uint32_t)(unsigned char)s[i] << 16;
		if (i + 1 < k)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < k)
			v |= (unsigned char)s[i + 2];
		w[len++] = b64[v >> 18];
		w[len++] = b64[(v >> 12) & 63];
		w[len++] = i + 1 < k ? b64[(v >> 6) & 63] : '=';
		w[len++] = i + 2 < k ? b64[v & 63] : '=';
	}
	w[len++] = '?';
	w[len++] = '=';
	assert(len <= EW_MAX);
	return len;
}

static int
encoded_words(struct hdr *h, const char *sep, size_t seplen, const char *s,
	      size_t n)
{
	char w[EW_MAX + 1];
	size_t pos, k, sl, len;
	bool useq = enc_len(s, n, true) <= enc_len(s, n, false);

	for (pos = 0; pos < n; pos = k) {
		sl = pos ? 1 : seplen;
		k = word_end(s, n, pos, word_cap(h, sl, s + pos, n - pos, useq),
			     useq);
		len = word_encode(w, s, pos, k, useq);
		if (hdr_put(h, pos ? " " : sep, sl, w, len))
			return -1;
	}
	return 0;
}

/* Printable ASCII without "=?" (which a decoder could take for an
 * encoded-word even inside a quoted-string). */
static bool
plain_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '?')
			return false;
	}
	return true;
}

/* Words of atext separated by single spaces, each short enough to fit a
 * continuation line. */
static bool
atoms_only(const char *s, size_t n)
{
	size_t i, w = 0;

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == ' ') {
			if (s[i - 1] == ' ')
				return false;
			w = 0;
		} else if (!hdr_is_atext((unsigned char)s[i]) ||
			   ++w > HDR_LINE_SOFT - 2) {
			return false;
		}
	}
	return true;
}

int
hdr_phrase(struct hdr *h, const char *s, size_t n, bool quote)
{
	size_t i, j, qlen;

	if (n == 0)
		return 0;
	if (!plain_ascii(s, n))
		return encoded_words(h, "", 0, s, n);
	if (!quote && atoms_only(s, n)) {
		for (i = 0; i < n; i = j + 1) {
			for (j = i; j < n && s[j] != ' '; j++)
				;
			if (hdr_put(h, " ", i ? 1 : 0, s + i, j - i))
				return -1;
		}
		return 0;
	}
	/* quoted-string (RFC 5322 3.2.4): '"' and '\' take a backslash. */
	qlen = n + 2;
	for (i = 0; i < n; i++)
		if (s[i] == '"' || s[i] == '\\')
			qlen++;
	if (h->col + qlen > HDR_LINE_SOFT)
		return encoded_words(h, "", 0, s, n);
	if (hdr_raw(h, "\"", 1))
		return -1;
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && s[j] != '"' && s[j] != '\\'; j++)
			;
		if (hdr_raw(h, s + i, j - i))
			return -1;
		if (j < n) {
			if (hdr_raw(h, "\\", 1) || hdr_raw(h, s + j, 1))
				return -1;
			j++;
		}
	}
	if (hdr_raw(h, "\"", 1))
		return -1;
	h->fold_ok = true;
	return 0;
}

/* A word of unstructured text that cannot stay as it is. */
static bool
needs_encoding(const char *s, size_t n)
{
	size_t i;

	if (n > HDR_LINE_SOFT - 1)
		return true;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return true;
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '?')
			return true;
	}
	return false;
}

/*
 * Next token at *i: spaces [ss, ws) and the word [ws, we).  The last word
 * takes the trailing spaces along (they would be lost as trailing
 * whitespace on the line), which makes it need encoding.
 */
static void
next_word(const char *s, size_t n, size_t end, size_t *i, size_t *ss,
	  size_t *ws, size_t *we, bool *enc)
{
	size_t k = *i;

	*ss = k;
	while (k < end && s[k] == ' ')
		k++;
	if (k == end) {	/* only spaces left: the whole subject */
		*ws = *ss;
		*we = n;
		*enc = true;
		*i = n;
		return;
	}
	*ws = k;
	while (k < end && s[k] != ' ')
		k++;
	if (k == end && end < n) {
		*we = n;
		*enc = true;
	} else {
		*we = k;
		*enc = needs_encoding(s + *ws, k - *ws);
	}
	*i = *we;
}

int
hdr_unstructured(struct hdr *h, const char *s, size_t n)
{
	size_t i = 0, j, end = n, ss, ws, we, ss2, ws2, we2, re;
	bool enc, enc2;

	while (end > 0 && s[end - 1] == ' ')
		end--;
	while (i < n) {
		next_word(s, n, end, &i, &ss, &ws, &we, &enc);
		if (!enc) {
			if (hdr_put(h, s + ss, ws - ss, s + ws, we - ws))
				return -1;
			continue;
		}
		/* Extend the run over following words that need encoding:
		 * the spaces between them go inside the encoded-words. */
		re = we;
		while (i < n) {
			j = i;
			next_word(s, n, end, &j, &ss2, &ws2, &we2, &enc2);
			if (!enc2)
				break;
			re = we2;
			i = j;
		}
		if (encoded_words(h, s + ss, ws - ss, s + ws, re - ws))
			return -1;
	}
	return 0;
}

int
hdr_date(struct buf *b, long long t)
{
	static const char wd[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				       "Fri", "Sat" };
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
					 "Jun", "Jul", "Aug", "Sep", "Oct",
					 "Nov", "Dec" };
	struct tm tm;
	time_t tt;

	/* 1900-01-01 .. 9999-12-31: four-digit years (RFC 5322 3.3). */
	if (t < -2208988800LL || t > 253402300799LL) {
		errno = EOVERFLOW;
		return -1;
	}
	tt = (time_t)t;
	if (!gmtime_r(&tt, &tm)) {
		errno = EOVERFLOW;
		return -1;
	}
	return buf_printf(b, "%s, %d %s %04d %02d:%02d:%02d +0000",
			  wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
			  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
