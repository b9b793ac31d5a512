/*
 * The fuzz harnesses of tests/fuzz/ without libFuzzer (issue 7): every
 * file of tests/fuzz/corpus/NAME/ (the seeds) and tests/fuzz/regress/NAME/
 * (inputs that once crashed, leaked or broke a property: each is a
 * regression test of the fix) is run through harness NAME, in `make
 * check`, under SAN=1 and under valgrind.  A harness checks its
 * properties itself and aborts when one fails, so a failure shows as this
 * program dying after "# replaying FILE" (prove reports it); a clean run
 * prints one "ok" per input.
 *
 * The harnesses share this one translation unit (FUZZ_REPLAY turns each
 * FUZZ_TARGET(NAME) into a function fuzz_NAME()).  The tree is found
 * through NLSEND_TOP (set by make check), else the current directory.
 */
#define FUZZ_REPLAY 1

#include <dirent.h>

#include "tests/fuzz/address.c"
#include "tests/fuzz/config.c"
#include "tests/fuzz/issue.c"
#include "tests/fuzz/list_csv.c"
#include "tests/fuzz/list_txt.c"
#include "tests/fuzz/markdown.c"
#include "tests/fuzz/mbox.c"
#include "tests/fuzz/mime_encode.c"
#include "tests/fuzz/mime_header.c"
#include "tests/fuzz/mustache.c"
#include "tests/fuzz/smtp.c"
#include "tests/fuzz/smtp_model.c"
#include "tests/tap.h"

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
	{ "issue", fuzz_issue },
	{ "list_csv", fuzz_list_csv },
	{ "list_txt", fuzz_list_txt },
	{ "address", fuzz_address },
	{ "mustache", fuzz_mustache },
	{ "markdown", fuzz_markdown },
	{ "mime_encode", fuzz_mime_encode },
	{ "mime_header", fuzz_mime_header },
	{ "mbox", fuzz_mbox },
	{ "config", fuzz_config },
	{ "smtp", fuzz_smtp },
	{ "smtp_model", fuzz_smtp_model },
};

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file (inputs are small: a few MiB at most). */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL, *np;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 4096;
			np = realloc(p, cap);
			if (!np) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = np;
		}
		n = fread(p + *len, 1, cap - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	fclose(f);
	return p;
}

/* Replay every file of top/sub/name in name order; returns how many. */
static int
replay_dir(const char *top, const char *sub, size_t t)
{
	char dir[4096], path[8192];
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, i, len;
	unsigned char *data;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", top, sub,
		 targets[t].name);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof *names);
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		data = slurp(path, &len);
		if (!data && len == 0) {
			/* an empty file reads as NULL: replay it as empty */
			data = malloc(1);
		}
		printf("# replaying %s\n", path);
		fflush(stdout);
		ok(data && targets[t].fn(data, len) == 0, "%s %s/%s",
		   targets[t].name, sub, names[i]);
		free(data);
		free(names[i]);
	}
	free(names);
	return (int)n;
}

int
main(void)
{
	const char *top = getenv("NLSEND_TOP");
	size_t t;
	int seeds;

	if (!top || !*top)
		top = ".";
	for (t = 0; t < sizeof targets / sizeof *targets; t++) {
		seeds = replay_dir(top, "corpus", t);
		ok(seeds > 0, "%s: a seed corpus (%d files)",
		   targets[t].name, seeds);
		replay_dir(top, "regress", t);
	}
	return done_testing();
}
