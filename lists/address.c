#include "lists/address.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util/utf8.h"

static int
fail(char *why, size_t whylen, const char *reason)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", reason);
	return -1;
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* atext, RFC 5322 section 3.2.3. */
static int
is_atext(unsigned char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* dot-atom-text or quoted-string (RFC 5322 sections 3.2.3, 3.2.4) up to
 * the '@'; its length, or 0 with *reason set. */
static size_t
local_part(const unsigned char *s, size_t n, const char **reason)
{
	size_t i;
	int dot = 1;

	if (s[0] == '"') {
		for (i = 1; i < n && s[i] != '"'; i++) {
			/* quoted-pair: any VCHAR after the backslash (WSP
			 * and controls were refused before) */
			if (s[i] == '\\' && ++i == n)
				break;
		}
		if (i >= n || i + 1 >= n || s[i + 1] != '@') {
			*reason = "bad local part";
			return 0;
		}
		return i + 1;
	}
	for (i = 0; i < n && s[i] != '@'; i++) {
		if (s[i] == '.') {
			if (dot)
				break;
			dot = 1;
		} else if (is_atext(s[i])) {
			dot = 0;
		} else {
			break;
		}
	}
	if (i == 0 && s[0] == '@') {
		*reason = "empty local part";
		return 0;
	}
	if (i == n || s[i] != '@' || dot) {
		*reason = "bad local part";
		return 0;
	}
	return i;
}

/* A host name with a dot (RFC 5321 section 4.1.2 Domain, nlsend(1)). */
static const char *
domain(const unsigned char *d, size_t n)
{
	size_t i, label = 0;
	int dots = 0, digits = 1;

	if (n == 0)
		return "no domain";
	if (d[0] == '[')
		return "domain literal not supported";
	for (i = 0; i < n; i++) {
		if (d[i] == '.')
			dots = 1;
		else if (!is_alnum(d[i]) && d[i] != '-')
			return "bad domain";
	}
	if (!dots)
		return "no dot in the domain";
	for (i = 0; i <= n; i++) {
		if (i < n && d[i] != '.') {
			if (d[i] < '0' || d[i] > '9')
				digits = 0;
			label++;
			continue;
		}
		if (label == 0)
			return "bad domain (empty label)";
		if (label > 63)
			return "bad domain (label over 63 bytes)";
		if (d[i - label] == '-' || d[i - 1] == '-')
			return "bad domain (label starts or ends with '-')";
		if (i == n && digits)
			return "bad domain (numeric top-level label)";
		label = 0;
		digits = 1;
	}
	return NULL;
}

int
addr_check(const char *addr, char *why, size_t whylen)
{
	const unsigned char *s = (const unsigned char *)addr;
	const char *reason = NULL;
	int lb = 0, hi = 0, sp = 0, ctl = 0;
	size_t n, at;
	unsigned char c;

	if (!addr || !*addr)
		return fail(why, whylen, "empty address");
	for (n = 0; s[n]; n++) {
		c = s[n];
		if (c >= 0x80)
			hi = 1;
		else if (c == '\r' || c == '\n')
			lb = 1;
		else if (c == ' ' || c == '\t')
			sp = 1;
		else if (c < 0x20 || c == 0x7f)
			ctl = 1;
	}
	/* The most telling reason first. */
	if (lb)
		return fail(why, whylen, "contains a line break");
	if (hi)
		return fail(why, whylen,
			    "non-ASCII address (SMTPUTF8 not supported)");
	if (sp)
		return fail(why, whylen, "contains a space");
	if (ctl)
		return fail(why, whylen, "contains a control character");
	if (n > ADDR_MAX)
		return fail(why, whylen, "too long (over 254 bytes)");
	if (!memchr(s, '@', n))
		return fail(why, whylen, "not an address");
	at = local_part(s, n, &reason);
	if (!at)
		return fail(why, whylen, reason);
	if (at > ADDR_LOCAL_MAX)
		return fail(why, whylen, "too long (local part over 64 bytes)");
	reason = domain(s + at + 1, n - at - 1);
	if (reason)
		return fail(why, whylen, reason);
	return 0;
}

int
addr_check_name(const char *name, char *why, size_t whylen)
{
	const unsigned char *s = (const unsigned char *)name;
	int ctl = 0;

	for (; *s; s++) {
		if (*s == '\r' || *s == '\n')
			return fail(why, whylen, "name contains a line break");
		if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
			ctl = 1;
	}
	if (ctl)
		return fail(why, whylen, "name contains a control character");
	return 0;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Past the quoted string or comment opening at s[i] (nested comments,
 * backslash escapes: RFC 5322 sections 3.2.2, 3.2.4); n when unclosed. */
static size_t
skip_quoted(const char *s, size_t i, size_t n)
{
	int depth = 0;
	char open = s[i];

	for (; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (open == '"') {
			if (s[i] == '"' && depth++)
				return i + 1;
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && --depth == 0) {
			return i + 1;
		}
	}
	return n;
}

static char *
dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/*
 * The display name of the mailbox in s[0..n) whose addr-spec is addr,
 * as libetpan reads it; NULL when libetpan reads the line differently
 * (then the caller takes the phrase literally).  malloc'd.
 */
static char *
etpan_name(const char *s, size_t n, const char *addr)
{
	struct mailimf_mailbox *mb = NULL;
	size_t idx = 0;
	char *name = NULL, *dec = NULL;
	int r;

	r = mailimf_mailbox_parse(s, n, &idx, &mb);
	if (r != MAILIMF_NO_ERROR)
		return NULL;
	/* All of it read, and the same address: libetpan agrees with our
	 * split, so its unquoting can be trusted. */
	if (idx != n || !mb->mb_display_name ||
	    strcmp(mb->mb_addr_spec, addr) != 0)
		goto out;
	if (strstr(mb->mb_display_name, "=?")) {
		/* RFC 2047 encoded words, to UTF-8. */
		idx = 0;
		r = mailmime_encoded_phrase_parse("utf-8", mb->mb_display_name,
						  strlen(mb->mb_display_name),
						  &idx, "utf-8", &dec);
		if (r == MAILIMF_NO_ERROR && dec) {
			name = dec;
			dec = NULL;
			goto out;
		}
	}
	name = strdup(mb->mb_display_name);
out:
	free(dec);
	mailimf_mailbox_free(mb);
	return name;
}

/* The phrase s[0..n) taken literally: one pair of surrounding quotes
 * removed with the backslash escapes inside.  malloc'd. */
static char *
literal_name(const char *s, size_t n)
{
	char *p;
	size_t i, j;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return dupn(s, n);
	p = malloc(n);
	if (!p)
		return NULL;
	for (i = 1, j = 0; i < n - 1; i++) {
		if (s[i] == '\\' && i + 1 < n - 1)
			i++;
		p[j++] = s[i];
	}
	p[j] = '\0';
	return p;
}

/* Trim white space of a malloc'd string in place. */
static void
trim(char *s)
{
	size_t b = 0, e = strlen(s);

	while (b < e && is_wsp(s[b]))
		b++;
	while (e > b && is_wsp(s[e - 1]))
		e--;
	memmove(s, s + b, e - b);
	s[e - b] = '\0';
}

/* The first '<' outside quoted strings and comments opens the angle-addr
 * (RFC 5322 section 3.4); e when there is none. */
static size_t
find_angle(const char *s, size_t b, size_t e)
{
	size_t lt;

	for (lt = b; lt < e; lt++) {
		if (s[lt] == '"' || s[lt] == '(')
			lt = skip_quoted(s, lt, e) - 1;
		else if (s[lt] == '<')
			break;
	}
	return lt;
}

/* The display name before s[lt] ('<'), unquoted and decoded by libetpan,
 * else taken literally; checked.  0 with *nm, or -1 with why. */
static int
display_name(const char *s, size_t b, size_t lt, size_t e, const char *ad,
	     char **nm, char *why, size_t whylen)
{
	size_t i;

	for (i = lt; i > b && is_wsp(s[i - 1]); i--)
		;
	if (i == b)
		*nm = strdup("");
	else if (!(*nm = etpan_name(s + b, e - b, ad)))
		*nm = literal_name(s + b, i - b);
	if (!*nm) {
		errno = ENOMEM;
		return fail(why, whylen, "out of memory");
	}
	trim(*nm);
	if (utf8_invalid_offset(*nm, strlen(*nm)) != strlen(*nm))
		/* an encoded word in a charset that did not convert */
		return fail(why, whylen, "invalid UTF-8");
	return addr_check_name(*nm, why, whylen);
}

/* "Name <addr>" from s[b..e), lt the '<': the address inside the
 * brackets, then the name before them. */
static int
angle_mailbox(const char *s, size_t b, size_t lt, size_t e, char **nm,
	      char **ad, char *why, size_t whylen)
{
	size_t gt, ab, ae;

	for (gt = lt + 1; gt < e && s[gt] != '>'; gt++)
		if (s[gt] == '"')
			gt = skip_quoted(s, gt, e) - 1;
	if (gt >= e)
		return fail(why, whylen, "no closing '>'");
	if (gt + 1 != e)
		return fail(why, whylen, "text after the address");
	/* CFWS may surround the addr-spec inside the brackets. */
	for (ab = lt + 1; ab < gt && is_wsp(s[ab]); ab++)
		;
	for (ae = gt; ae > ab && is_wsp(s[ae - 1]); ae--)
		;
	*ad = dupn(s + ab, ae - ab);
	if (!*ad) {
		errno = ENOMEM;
		return fail(why, whylen, "out of memory");
	}
	if (addr_check(*ad, why, whylen))
		return -1;
	return display_name(s, b, lt, e, *ad, nm, why, whylen);
}

int
addr_parse_mailbox(const char *s, char **name, char **addr, char *why,
		   size_t whylen)
{
	size_t b = 0, e, lt;
	char *nm = NULL, *ad = NULL;
	int r = -1;

	*name = *addr = NULL;
	e = strlen(s);
	if (strpbrk(s, "\r\n")) {
		fail(why, whylen, "contains a line break");
		goto out;
	}
	if (utf8_invalid_offset(s, e) != e) {
		fail(why, whylen, "invalid UTF-8");
		goto out;
	}
	while (b < e && is_wsp(s[b]))
		b++;
	while (e > b && is_wsp(s[e - 1]))
		e--;
	lt = find_angle(s, b, e);
	if (lt < e) {
		if (angle_mailbox(s, b, lt, e, &nm, &ad, why, whylen))
			goto out;
	} else {
		/* A bare addr-spec. */
		ad = dupn(s + b, e - b);
		nm = strdup("");
		if (!ad || !nm) {
			errno = ENOMEM;
			fail(why, whylen, "out of memory");
			goto out;
		}
		if (addr_check(ad, why, whylen))
			goto out;
	}
	*name = nm;
	*addr = ad;
	nm = ad = NULL;
	r = 0;
out:
	free(nm);
	free(ad);
	return r;
}
