/*
 * Fuzz target "address": lists/address.h addr_check(),
 * addr_parse_mailbox() and addr_check_name() on any string.
 * Properties (address.h): an accepted address is ASCII, has no space or
 * control, at most 254 bytes, one '@' outside a quoted local part, a local
 * part of at most 64 bytes and a dotted domain; an address that
 * addr_check() accepts is also read by addr_parse_mailbox() alone and in
 * angle brackets with the address unchanged and no name; what
 * addr_parse_mailbox() accepts has an address addr_check() accepts, a
 * name addr_check_name() accepts and valid UTF-8, and on failure both
 * outputs are NULL.
 */
#include "tests/fuzz/fuzz.h"

#include "lists/address.h"
#include "util/utf8.h"

static void
address_mailbox(const char *s, const char *want_addr)
{
	char why[160], why2[160];
	char *name = (char *)1, *addr = (char *)1;
	size_t n;

	if (addr_parse_mailbox(s, &name, &addr, why, sizeof why)) {
		FUZZ_CHECK(!name && !addr, "failure left outputs set");
		FUZZ_CHECK(why[0], "failure without a reason");
		FUZZ_CHECK(!want_addr, "'%s' refused (%s) though addr_check "
			   "accepts '%s'", s, why, want_addr);
		return;
	}
	FUZZ_CHECK(name && addr, "success with NULL outputs");
	FUZZ_CHECK(addr_check(addr, why2, sizeof why2) == 0,
		   "mailbox '%s' gave address '%s' that addr_check refuses "
		   "(%s)", s, addr, why2);
	FUZZ_CHECK(addr_check_name(name, why2, sizeof why2) == 0,
		   "mailbox gave a name addr_check_name refuses (%s)", why2);
	n = strlen(name);
	FUZZ_CHECK(utf8_invalid_offset(name, n) == n, "name not UTF-8");
	if (want_addr) {
		FUZZ_CHECK(strcmp(addr, want_addr) == 0,
			   "'%s' read as address '%s'", s, addr);
		FUZZ_CHECK(name[0] == '\0', "'%s' read with name '%s'", s,
			   name);
	}
	free(name);
	free(addr);
}

FUZZ_TARGET(address)
{
	char why[160], *s, *bracket;
	const char *at, *p;
	size_t n, i;
	int quoted;

	if (size > 4096 || fuzz_has_byte((const char *)data, size, '\0'))
		return 0;
	s = malloc(size + 1);
	bracket = malloc(size + 3);
	if (!s || !bracket)
		FUZZ_FAIL("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	bracket[0] = '<';
	memcpy(bracket + 1, data, size);
	bracket[size + 1] = '>';
	bracket[size + 2] = '\0';

	why[0] = '\0';
	if (addr_check(s, why, sizeof why) == 0) {
		n = strlen(s);
		FUZZ_CHECK(n <= ADDR_MAX, "accepted %zu bytes", n);
		quoted = 0;
		at = NULL;
		for (p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;

			FUZZ_CHECK(c > 0x20 && c < 0x7f,
				   "accepted octet 0x%02x", c);
			if (quoted && c == '\\' && p[1]) {
				p++;	/* quoted-pair */
				continue;
			}
			if (c == '"')
				quoted = !quoted;
			if (c == '@' && !quoted) {
				FUZZ_CHECK(!at, "two '@' in '%s'", s);
				at = p;
			}
		}
		FUZZ_CHECK(at, "no '@' in accepted '%s'", s);
		FUZZ_CHECK(at - s >= 1 && at - s <= ADDR_LOCAL_MAX,
			   "local part of %d bytes", (int)(at - s));
		FUZZ_CHECK(strchr(at + 1, '.'), "no dot in the domain");
		address_mailbox(s, s);
		address_mailbox(bracket, s);
	} else {
		FUZZ_CHECK(why[0], "refusal without a reason");
		address_mailbox(s, NULL);
	}
	/* A name check never reads past the string and gives a reason. */
	why[0] = '\0';
	if (utf8_invalid_offset(s, size) == size &&
	    addr_check_name(s, why, sizeof why)) {
		FUZZ_CHECK(why[0], "name refusal without a reason");
		for (i = 0; i < size && s[i] != '\r' && s[i] != '\n' &&
		     ((unsigned char)s[i] >= 0x20 || s[i] == '\t') &&
		     s[i] != 0x7f; i++)
			;
		FUZZ_CHECK(i < size, "name refused without a control");
	}
	free(s);
	free(bracket);
	return 0;
}
