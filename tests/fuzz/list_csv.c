/*
 * Fuzz target "list_csv": the CSV list reader (lists/list.h lists_open()
 * and lists_next() on a file named "*.csv").
 * Properties: no crash, leak or undefined behaviour; every subscriber
 * given out has an address that addr_check() accepts, a display name that
 * addr_check_name() accepts, valid UTF-8 everywhere, no two addresses
 * equal after ASCII lower-casing, and extra fields as many as declared;
 * failures of lists_open() are NL_EDATA/NL_ENOMEM/NL_EIO with a message.
 * Shared with list_txt.c (which includes this file with LIST_FUZZ_TXT).
 */
#include "tests/fuzz/fuzz.h"

#include "lists/address.h"
#include "lists/list.h"
#include "util/utf8.h"

#ifndef LIST_FUZZ_GUARD
#define LIST_FUZZ_GUARD

static void
list_fuzz_warn(void *arg, const char *msg)
{
	unsigned long *n = arg;

	FUZZ_CHECK(msg && *msg && strlen(msg) < 4096, "bad warning");
	FUZZ_CHECK_MSG(msg);
	(*n)++;
}

static void
list_fuzz_utf8(const char *what, const char *s)
{
	size_t n = strlen(s);

	FUZZ_CHECK(utf8_invalid_offset(s, n) == n, "%s: invalid UTF-8", what);
}

/* ASCII lower-case copy, for the duplicate check (addrset.h). */
static void
list_fuzz_lower(char *dst, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i]; i++)
		dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	dst[i] = '\0';
}

static int
list_fuzz_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_fuzz_run(const char *fname, const uint8_t *data, size_t size)
{
	const char *path;
	struct lists *l = NULL;
	struct subscriber s;
	struct nl_err err;
	unsigned long warned = 0;
	char why[160], low[ADDR_MAX + 2];
	char **seen = NULL;
	size_t nseen = 0, i;
	int r;

	path = fuzz_tmpfile_write(fname, data, size);
	if (!path)
		return;
	nl_err_clear(&err);
	if (lists_open(&path, 1, list_fuzz_warn, &warned, &l, &err)) {
		FUZZ_CHECK(err.kind == NL_EDATA || err.kind == NL_ENOMEM ||
			   err.kind == NL_EIO, "lists_open failed with %s: %s",
			   nl_errkind_name(err.kind), err.msg);
		FUZZ_CHECK(err.msg[0], "lists_open failure without message");
		FUZZ_CHECK_MSG(err.msg);
		return;
	}
	while ((r = lists_next(l, &s, &err)) == 1) {
		FUZZ_CHECK(addr_check(s.email, why, sizeof why) == 0,
			   "address given out that addr_check refuses: %s",
			   why);
		FUZZ_CHECK(s.name, "NULL name");
		FUZZ_CHECK(addr_check_name(s.name, why, sizeof why) == 0,
			   "name given out that addr_check_name refuses: %s",
			   why);
		list_fuzz_utf8("name", s.name);
		FUZZ_CHECK(s.line >= 1, "line 0");
		for (i = 0; i < s.nextra; i++) {
			FUZZ_CHECK(s.extra_keys[i] && s.extra_values[i],
				   "extra %zu NULL", i);
			list_fuzz_utf8("extra key", s.extra_keys[i]);
			list_fuzz_utf8("extra value", s.extra_values[i]);
		}
		list_fuzz_lower(low, s.email, sizeof low);
		seen = realloc(seen, (nseen + 1) * sizeof *seen);
		FUZZ_CHECK(seen, "out of memory");
		seen[nseen] = strdup(low);
		FUZZ_CHECK(seen[nseen], "out of memory");
		nseen++;
	}
	FUZZ_CHECK(r == 0 || err.kind == NL_ENOMEM || err.kind == NL_EIO,
		   "lists_next failed with %s: %s", nl_errkind_name(err.kind),
		   err.msg);
	FUZZ_CHECK(lists_next(l, &s, &err) == r || r < 0,
		   "lists_next not 0 again at the end");
	FUZZ_CHECK(lists_skipped(l) == warned,
		   "skipped %lu but warned %lu", lists_skipped(l), warned);
	if (nseen > 1) {
		qsort(seen, nseen, sizeof *seen, list_fuzz_cmp);
		for (i = 1; i < nseen; i++)
			FUZZ_CHECK(strcmp(seen[i - 1], seen[i]) != 0,
				   "duplicate given out: %s", seen[i]);
	}
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	lists_close(l);
}
#endif

#ifndef LIST_FUZZ_TXT
FUZZ_TARGET(list_csv)
{
	list_fuzz_run("list.csv", data, size);
	return 0;
}
#endif
