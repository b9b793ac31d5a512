/* Unit tests of lists/address.c: addr_check, addr_parse_mailbox,
 * addr_check_name. */
#include <stdlib.h>
#include <string.h>

#include "lists/address.h"
#include "tests/tap.h"

static void
valid(const char *addr)
{
	char why[128] = "";

	if (!ok(addr_check(addr, why, sizeof why) == 0, "valid: %s", addr))
		diag("reason: %s", why);
}

static void
invalid(const char *addr, const char *reason, const char *label)
{
	char why[128] = "";

	ok(addr_check(addr, why, sizeof why) == -1, "invalid: %s", label);
	is_str(why, reason, "  reason for %s", label);
}

static void
mailbox(const char *s, const char *name, const char *addr)
{
	char why[128] = "", *n = NULL, *a = NULL;

	if (!ok(addr_parse_mailbox(s, &n, &a, why, sizeof why) == 0,
		"mailbox: %s", s))
		diag("reason: %s", why);
	is_str(n, name, "  name of %s", s);
	is_str(a, addr, "  addr of %s", s);
	free(n);
	free(a);
}

static void
bad_mailbox(const char *s, const char *reason, const char *label)
{
	char why[128] = "", *n = (char *)"x", *a = (char *)"x";

	ok(addr_parse_mailbox(s, &n, &a, why, sizeof why) == -1 && !n && !a,
	   "bad mailbox: %s", label);
	is_str(why, reason, "  reason for %s", label);
}

/* n copies of c then suffix, into dst (callers size it). */
static const char *
rep(char *dst, char c, size_t n, const char *suffix)
{
	memset(dst, c, n);
	memcpy(dst + n, suffix, strlen(suffix) + 1);
	return dst;
}

int
main(void)
{
	char a[600], b[100], lp[80], why[8];

	/* RFC 5322 section 3.4.1 addr-specs that a relay takes. */
	valid("ada@example.com");
	valid("o'brien@example.ie");
	valid("first.last@sub.example.co.uk");
	valid("user+tag@example.com");
	valid("!#$%&'*+-/=?^_`{|}~@example.com");
	valid("ADA@EXAMPLE.COM");
	valid("x@a-b.example");
	valid("a@b.co");
	valid("x@xn--bcher-kva.example");
	/* quoted local parts (RFC 5322 section 3.2.4) */
	valid("\"john.doe\"@example.com");
	valid("\"john..doe\"@example.com");
	valid("\"a\\\"b\"@example.com");
	valid("\"a@b\"@example.com");
	valid("\"a,b<c>\"@example.com");

	invalid("", "empty address", "empty");
	invalid("not-an-address", "not an address", "no @");
	invalid("bob@localhost", "no dot in the domain", "bob@localhost");
	invalid("a@b", "no dot in the domain", "a@b");
	invalid("a b@example.com", "contains a space", "space in local part");
	invalid("a@exa mple.com", "contains a space", "space in domain");
	invalid(" a@example.com", "contains a space", "leading space");
	invalid("\"a b\"@example.com", "contains a space",
		"space in quoted local part (cli.md)");
	invalid("a\t@example.com", "contains a space", "tab");
	invalid("a@example.com\r\nBcc: x@y.z", "contains a line break",
		"CRLF injection");
	invalid("a\n@example.com", "contains a line break", "LF");
	invalid("a\r@example.com", "contains a line break", "CR");
	invalid("zo\xc3\xab@example.net",
		"non-ASCII address (SMTPUTF8 not supported)",
		"non-ASCII local part");
	invalid("a@b\xc3\xbc" "cher.example",
		"non-ASCII address (SMTPUTF8 not supported)",
		"non-ASCII domain");
	invalid("a\x01@example.com", "contains a control character", "C0");
	invalid("a\x7f@example.com", "contains a control character", "DEL");
	invalid("@example.com", "empty local part", "empty local part");
	invalid(".a@example.com", "bad local part", "leading dot");
	invalid("a.@example.com", "bad local part", "trailing dot");
	invalid("a..b@example.com", "bad local part", "two dots");
	invalid("a\"b@example.com", "bad local part", "quote inside atom");
	invalid("\"ab@example.com", "bad local part", "unterminated quote");
	invalid("\"a\"b@example.com", "bad local part", "text after quotes");
	invalid("<a@example.com>", "bad local part", "angle brackets");
	invalid("a(b)@example.com", "bad local part", "comment");
	invalid("a@", "no domain", "no domain");
	invalid("a@@example.com", "bad domain", "two @");
	invalid("a@exa_mple.com", "bad domain", "underscore in domain");
	invalid("a@[192.0.2.1]", "domain literal not supported",
		"domain literal");
	invalid("a@-example.com", "bad domain (label starts or ends with '-')",
		"leading hyphen");
	invalid("a@example-.com", "bad domain (label starts or ends with '-')",
		"trailing hyphen");
	invalid("a@example..com", "bad domain (empty label)", "empty label");
	invalid("a@example.com.", "bad domain (empty label)", "trailing dot");
	invalid("a@.example.com", "bad domain (empty label)", "leading dot");
	invalid("a@192.0.2.1", "bad domain (numeric top-level label)",
		"bare IPv4");
	invalid("a@example.com (Ada)", "contains a space", "trailing comment");

	/* RFC 5321 section 4.5.3.1: 64-byte local part, 254-byte address. */
	valid(rep(a, 'l', 64, "@example.com"));
	invalid(rep(a, 'l', 65, "@example.com"),
		"too long (local part over 64 bytes)", "65-byte local part");
	/* 64 + 1 + (63 + 1 + 63 + 1 + 61) = 254 */
	rep(b, 'c', 61, "");
	snprintf(a, sizeof a, "%s@%s.%s.%s", rep(lp, 'l', 64, ""),
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 b);
	is_int(strlen(a), 254, "254-byte address built");
	valid(a);
	memcpy(a + 254, "c", 2);
	invalid(a, "too long (over 254 bytes)", "255-byte address");
	snprintf(a, sizeof a, "a@%s.com", rep(b, 'd', 64, ""));
	invalid(a, "bad domain (label over 63 bytes)", "64-byte label");
	snprintf(a, sizeof a, "a@%s.com", rep(b, 'd', 63, ""));
	valid(a);

	ok(addr_check("bad", NULL, 0) == -1, "why may be NULL");
	addr_check("not-an-address", why, sizeof why);
	is_str(why, "not an ", "why is truncated to whylen");

	/* Display names. */
	ok(addr_check_name("Zo\xc3\xab Salda\xc3\xb1" "a", why, sizeof why) ==
	   0, "UTF-8 name");
	ok(addr_check_name("A\tB", why, sizeof why) == 0, "tab in a name");
	ok(addr_check_name("Mallory\nInjected", a, sizeof a) == -1 &&
	   strcmp(a, "name contains a line break") == 0, "LF in a name");
	ok(addr_check_name("M\rI", a, sizeof a) == -1 &&
	   strcmp(a, "name contains a line break") == 0, "CR in a name");
	ok(addr_check_name("M\x1b[31m", a, sizeof a) == -1 &&
	   strcmp(a, "name contains a control character") == 0,
	   "ESC in a name");

	/* RFC 5322 section 3.4 mailboxes (the txt format). */
	mailbox("ada@example.com", "", "ada@example.com");
	mailbox("  ada@example.com  ", "", "ada@example.com");
	mailbox("Grace Hopper <grace@example.org>", "Grace Hopper",
		"grace@example.org");
	mailbox("Zo\xc3\xab Salda\xc3\xb1" "a <zoe@example.net>",
		"Zo\xc3\xab Salda\xc3\xb1" "a", "zoe@example.net");
	mailbox("\xe6\xb2\x88\xe5\xb2\xb3 <shen@example.cn>",
		"\xe6\xb2\x88\xe5\xb2\xb3", "shen@example.cn");
	mailbox("Conan O'Brien <o'brien@example.ie>", "Conan O'Brien",
		"o'brien@example.ie");
	mailbox("\"Hopper, Grace\" <grace@example.org>", "Hopper, Grace",
		"grace@example.org");
	mailbox("Hopper, Grace <grace@example.org>", "Hopper, Grace",
		"grace@example.org");
	mailbox("\"A \\\"B\\\" C\" <a@example.com>", "A \"B\" C",
		"a@example.com");
	mailbox("Ada \"The Countess\" Lovelace <a@example.com>",
		"Ada The Countess Lovelace", "a@example.com");
	mailbox("=?utf-8?q?Zo=C3=AB?= Saldana <zoe@example.net>",
		"Zo\xc3\xab Saldana", "zoe@example.net");
	mailbox("=?iso-8859-1?q?Zo=EB?= <zoe@example.net>", "Zo\xc3\xab",
		"zoe@example.net");
	mailbox("<ada@example.com>", "", "ada@example.com");
	mailbox("  Ada  <  ada@example.com  >  ", "Ada", "ada@example.com");
	mailbox("\"a<b\" <ada@example.com>", "a<b", "ada@example.com");
	mailbox("Ada <\"a>b\"@example.com>", "Ada", "\"a>b\"@example.com");
	mailbox("Ada (work) <ada@example.com>", "Ada (work)",
		"ada@example.com");

	bad_mailbox("not-an-address", "not an address", "no @");
	bad_mailbox("Bob <bob@localhost>", "no dot in the domain", "no dot");
	bad_mailbox("Bob <b ob@example.com>", "contains a space",
		    "space inside brackets");
	bad_mailbox("Bob bob@example.com", "contains a space",
		    "name without brackets");
	bad_mailbox("Bob <bob@example.com", "no closing '>'", "no '>'");
	bad_mailbox("Bob <bob@example.com> x", "text after the address",
		    "trailing text");
	bad_mailbox("A <a@example.com>, B <b@example.com>",
		    "text after the address", "two mailboxes");
	bad_mailbox("Bob <>", "empty address", "empty brackets");
	bad_mailbox("Bob\r\n <bob@example.com>", "contains a line break",
		    "CRLF");
	bad_mailbox("\xff <bob@example.com>", "invalid UTF-8", "bad UTF-8");
	bad_mailbox("=?utf-8?q?a=0D=0ABcc:_x@y.zz?= <bob@example.com>",
		    "name contains a line break",
		    "encoded word hiding a CRLF");
	bad_mailbox("Zo\xc3\xab <zo\xc3\xab@example.net>",
		    "non-ASCII address (SMTPUTF8 not supported)",
		    "non-ASCII address");
	bad_mailbox("", "empty address", "empty");
	return done_testing();
}
