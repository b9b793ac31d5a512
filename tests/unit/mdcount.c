/*
 * mdcount.t - md_render() seen from outside.
 *
 *   mdcount.t --count FILE   print the word count md_render gives FILE
 *   mdcount.t --plain FILE   print words_count() of FILE (no markdown)
 *   mdcount.t --text FILE    print the plain text rendering
 *   mdcount.t --html FILE    print the HTML rendering
 *   mdcount.t                TAP: every fixture tests/data/md/NAME.md is
 *                            rendered and compared with the hand-written
 *                            NAME.txt (plain text), NAME.html and
 *                            NAME.words (the count) that exist beside it.
 *
 * The first two modes let tests/t/20-wordcount.t compare the C count with
 * an independent one (tests/lib/wordcount.py) field by field.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/markdown.h"
#include "compose/words.h"
#include "tests/tap.h"
#include "util/buf.h"
#include "util/err.h"

/* The whole file in *b; 0 or -1 (missing or unreadable). */
static int
slurp(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f;
	int r = 0;

	buf_init(b, 0);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(b, chunk, n)) {
			r = -1;
			break;
		}
	if (ferror(f))
		r = -1;
	fclose(f);
	if (r)
		buf_free(b);
	return r;
}

static int
one_file(const char *mode, const char *path)
{
	struct md_out o;
	struct nl_err err;
	struct buf b;
	int r = 1;

	if (slurp(path, &b)) {
		fprintf(stderr, "mdcount: cannot read %s\n", path);
		return 66;
	}
	if (!strcmp(mode, "--plain")) {
		printf("%lu\n", words_count(buf_cstr(&b), b.len));
		r = 0;
		goto out;
	}
	if (md_render(buf_cstr(&b), b.len, NULL, NULL, &o, &err)) {
		fprintf(stderr, "mdcount: %s: %s\n", path, err.msg);
		goto out;
	}
	if (!strcmp(mode, "--count"))
		printf("%lu\n", o.words);
	else if (!strcmp(mode, "--text"))
		fwrite(o.text, 1, o.text_len, stdout);
	else if (!strcmp(mode, "--html"))
		fwrite(o.html, 1, o.html_len, stdout);
	md_out_free(&o);
	r = 0;
out:
	buf_free(&b);
	return r;
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n > k && !strcmp(s + n - k, suf);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir/stem + suffix, into a fresh buffer (paths have no fixed bound). */
static const char *
path_of(struct buf *p, const char *dir, const char *stem, size_t n,
	const char *suffix)
{
	buf_reset(p);
	if (buf_printf(p, "%s/%.*s%s", dir, (int)n, stem, suffix))
		return "";
	return buf_cstr(p);
}

static void
check_fixture(const char *dir, const char *name)
{
	struct buf md, want, path;
	struct md_out o;
	struct nl_err err;
	size_t stem = strlen(name) - 3;
	int st = (int)stem;

	buf_init(&path, 0);
	if (slurp(path_of(&path, dir, name, strlen(name), ""), &md)) {
		ok(0, "%s readable", name);
		goto out;
	}
	if (!ok(md_render(buf_cstr(&md), md.len, NULL, NULL, &o, &err) == 0,
		"%s renders", name)) {
		diag("%s", err.msg);
		buf_free(&md);
		goto out;
	}
	if (!slurp(path_of(&path, dir, name, stem, ".txt"), &want)) {
		is_str(o.text, buf_cstr(&want), "%.*s: plain text", st, name);
		buf_free(&want);
	}
	if (!slurp(path_of(&path, dir, name, stem, ".html"), &want)) {
		is_str(o.html, buf_cstr(&want), "%.*s: HTML", st, name);
		buf_free(&want);
	}
	if (!slurp(path_of(&path, dir, name, stem, ".words"), &want)) {
		is_int(o.words, strtoul(buf_cstr(&want), NULL, 10),
		       "%.*s: word count", st, name);
		buf_free(&want);
	}
	md_out_free(&o);
	buf_free(&md);
out:
	buf_free(&path);
}

static int
fixtures(void)
{
	const char *top = getenv("NLSEND_TOP");
	char **names = NULL, **grown;
	struct buf dirb;
	const char *dir;
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;

	buf_init(&dirb, 0);
	if (buf_printf(&dirb, "%s/tests/data/md", top ? top : "."))
		return 70;
	dir = buf_cstr(&dirb);
	d = opendir(dir);
	if (!ok(d != NULL, "fixture directory %s", dir)) {
		buf_free(&dirb);
		return done_testing();
	}
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".md"))
			continue;
		grown = realloc(names, (n + 1) * sizeof *names);
		if (!grown)
			break;
		names = grown;
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	ok(n > 0, "fixtures found (%zu)", n);
	qsort(names, n, sizeof *names, by_name);
	for (i = 0; i < n; i++) {
		check_fixture(dir, names[i]);
		free(names[i]);
	}
	free(names);
	buf_free(&dirb);
	return done_testing();
}

int
main(int argc, char **argv)
{
	if (argc == 3 && (!strcmp(argv[1], "--count") ||
			  !strcmp(argv[1], "--plain") ||
			  !strcmp(argv[1], "--text") ||
			  !strcmp(argv[1], "--html")))
		return one_file(argv[1], argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: mdcount.t [--count|--plain|--text|"
			"--html FILE]\n");
		return 64;
	}
	return fixtures();
}
