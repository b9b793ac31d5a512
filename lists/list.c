/* The merged reader over several lists, and list names (list.h). */
#include "lists/list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lists/addrset.h"
#include "lists/reader.h"
#include "util/buf.h"

struct lfile {
	const struct list_reader_ops *ops;
	void *state;		/* the reader's; NULL once finished */
};

struct lists {
	struct lfile *files;
	size_t nfiles, cur;
	struct list_sink sink;
	unsigned long dups;
	struct addrset *seen;
};

static int
is_file(const char *path, int *errnum)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		*errnum = errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		*errnum = EISDIR;
		return 0;
	}
	return 1;
}

static int
has_ext(const char *s, const char *ext)
{
	size_t n = strlen(s), e = strlen(ext);

	return n > e && list_casecmp(s + n - e, ext) == 0;
}

int
list_resolve(const char *arg, const char *lists_dir_opt,
	     const char *lists_dir_conf, char **path, struct nl_err *err)
{
	static const char *const exts[] = { ".csv", ".txt" };
	const char *dir, *sep;
	struct buf b;
	int errnum = 0, dummy, r = -1;
	size_t i;

	*path = NULL;
	buf_init(&b, 4 * 4096);
	if (!arg || !*arg) {
		nl_err_set(err, NL_EUSAGE, "empty list name");
		goto out;
	}
	if (is_file(arg, &errnum)) {
		if (buf_adds(&b, arg))
			goto nomem;
		goto found;
	}
	if (lists_dir_opt && *lists_dir_opt)
		dir = lists_dir_opt;
	else if (lists_dir_conf && *lists_dir_conf)
		dir = lists_dir_conf;
	else
		dir = "./lists";
	sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		buf_reset(&b);
		if (buf_printf(&b, "%s%s%s%s", dir, sep, arg, exts[i]))
			goto nomem;
		if (is_file(b.data, &dummy))
			goto found;
	}
	if (strchr(arg, '/') || has_ext(arg, ".csv") || has_ext(arg, ".txt"))
		nl_err_set(err, NL_ENOINPUT, "%s: %s", arg, strerror(errnum));
	else
		nl_err_set(err, NL_ENOINPUT,
			   "no list '%s' (looked for %s%s%s.csv and %s%s%s.txt)",
			   arg, dir, sep, arg, dir, sep, arg);
	goto out;
found:
	*path = buf_detach(&b, NULL);
	if (!*path)
		goto nomem;
	r = 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory");
out:
	buf_free(&b);
	return r;
}

int
lists_open(const char *const *paths, size_t n, list_warn_fn warn,
	   void *warn_arg, struct lists **out, struct nl_err *err)
{
	struct lists *l;
	struct input in;
	size_t i;
	int r = -1;

	*out = NULL;
	l = calloc(1, sizeof *l);
	if (!l)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	l->sink.warn = warn;
	l->sink.arg = warn_arg;
	l->files = calloc(n ? n : 1, sizeof *l->files);
	l->seen = addrset_new();
	if (!l->files || !l->seen) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	/* Every file now, and every CSV header: a missing file or a bad
	 * header stops the run before the first message. */
	for (i = 0; i < n; i++) {
		struct lfile *f = &l->files[i];

		f->ops = has_ext(paths[i], ".csv") ? &list_csv_reader :
						     &list_txt_reader;
		if (input_open(&in, paths[i], err) ||
		    f->ops->open(&in, &l->sink, &f->state, err))
			goto out;
		l->nfiles = i + 1;
	}
	*out = l;
	l = NULL;
	r = 0;
out:
	lists_close(l);
	return r;
}

/* A subscriber is new, or a duplicate (0), or the set is full (-1). */
static int
dedup(struct lists *l, const struct subscriber *s, struct nl_err *err)
{
	int r = addrset_add(l->seen, s->email);

	if (r >= 0)
		return r;
	if (errno == E2BIG)
		return nl_err_set(err, NL_ENOMEM, "%s:%lu: more than %zu "
				  "subscribers", s->file, s->line,
				  (size_t)ADDRSET_MAX);
	return nl_err_set(err, NL_ENOMEM, "out of memory");
}

int
lists_next(struct lists *l, struct subscriber *s, struct nl_err *err)
{
	struct lfile *f;
	int r;

	for (;;) {
		if (l->cur >= l->nfiles)
			return 0;
		f = &l->files[l->cur];
		r = f->ops->next(f->state, s, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			/* Done: its buffers go now, not at the end. */
			f->ops->close(f->state);
			f->state = NULL;
			l->cur++;
			continue;
		}
		r = dedup(l, s, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			l->dups++;
			continue;
		}
		return 1;
	}
}

unsigned long
lists_skipped(const struct lists *l)
{
	return l->sink.skipped;
}

unsigned long
lists_duplicates(const struct lists *l)
{
	return l->dups;
}

void
lists_close(struct lists *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nfiles; i++)
		if (l->files[i].state)
			l->files[i].ops->close(l->files[i].state);
	free(l->files);
	addrset_free(l->seen);
	free(l);
}
