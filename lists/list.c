/* The merged reader over several lists, name resolution, shared input. */
#define LISTS_INTERNAL
#include "lists/list.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char bom[3] = { '\xEF', '\xBB', '\xBF' };

int
lfile_fill(struct lfile *f, struct nl_err *err)
{
	ssize_t n;

	if (f->eof)
		return 0;
	if (!f->in) {
		f->in = malloc(LIST_INBUF);
		if (!f->in)
			return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	f->pos = f->len = 0;
	for (;;) {
		n = read(f->fd, f->in + f->len, LIST_INBUF - f->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return nl_err_set(err, NL_EIO, "%s: %s", f->path,
					  strerror(errno));
		}
		if (n == 0) {
			f->eof = 1;
			break;
		}
		f->len += (size_t)n;
		/* The UTF-8 BOM is skipped at the very start only (off is 0
		 * until the scanners consume something); through a pipe it
		 * may arrive a byte at a time. */
		if (f->off == 0) {
			if (f->len < 3 && memcmp(f->in, bom, f->len) == 0)
				continue;
			if (f->len >= 3 && memcmp(f->in, bom, 3) == 0) {
				f->off = 3;
				memmove(f->in, f->in + 3, f->len - 3);
				f->len -= 3;
				if (!f->len)
					continue;
			}
		}
		break;
	}
	return f->len ? 1 : 0;
}

const char *
lists_echo(char *dst, size_t n, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	if (n < 8) {
		if (n)
			dst[0] = '\0';
		return dst;
	}
	dst[i++] = '\'';
	for (k = 0; u[k]; k++) {
		/* Cut between characters, never inside a UTF-8 sequence. */
		if ((k >= 100 || i + 6 >= n) && (u[k] & 0xC0) != 0x80) {
			memcpy(dst + i, "...", 3);
			i += 3;
			break;
		}
		if (i + 6 >= n)
			break;
		dst[i++] = u[k] < 0x20 || u[k] == 0x7f ? '?' : (char)u[k];
	}
	dst[i++] = '\'';
	dst[i] = '\0';
	return dst;
}

void
lists_warnf(struct lists *l, const struct lfile *f, unsigned long line,
	    const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	l->skipped++;
	if (!l->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	snprintf(l->msg, sizeof l->msg, "%s:%lu: %s", f->path, line, reason);
	l->warn(l->warn_arg, l->msg);
}

int
lists_casecmp(const char *a, const char *b)
{
	unsigned char x, y;

	do {
		x = (unsigned char)*a++;
		y = (unsigned char)*b++;
		if ((unsigned)(x - 'A') < 26u)
			x |= 0x20;
		if ((unsigned)(y - 'A') < 26u)
			y |= 0x20;
	} while (x && x == y);
	return x - y;
}

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

	return n > e && lists_casecmp(s + n - e, ext) == 0;
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
	struct lfile *f;
	struct stat st;
	size_t i;
	int r = -1;

	*out = NULL;
	l = calloc(1, sizeof *l);
	if (!l)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	buf_init(&l->name, LIST_ROW_MAX);
	buf_init(&l->addr, LIST_ROW_MAX);
	l->warn = warn;
	l->warn_arg = warn_arg;
	l->files = calloc(n ? n : 1, sizeof *l->files);
	l->seen = addrset_new();
	l->rec = malloc(LIST_ROW_MAX + 2);
	if (!l->files || !l->seen || !l->rec)
		goto nomem;
	for (i = 0; i < n; i++) {
		f = &l->files[i];
		f->fd = -1;
		l->nfiles = i + 1;
		f->path = strdup(paths[i]);
		if (!f->path)
			goto nomem;
		f->line = 1;
		f->name_col = (size_t)-1;
		f->csv = has_ext(f->path, ".csv");
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0) {
			nl_err_set(err, NL_ENOINPUT, "%s: %s", f->path,
				   strerror(errno));
			goto out;
		}
		if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			nl_err_set(err, NL_ENOINPUT, "%s: %s", f->path,
				   strerror(EISDIR));
			goto out;
		}
		if (f->csv && csv_header(l, f, err))
			goto out;
	}
	*out = l;
	l = NULL;
	r = 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory");
out:
	lists_close(l);
	return r;
}

static void
lfile_done(struct lfile *f)
{
	free(f->in);
	f->in = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
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
		r = f->csv ? csv_next(l, f, s, err) : txt_next(l, f, s, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			lfile_done(f);
			l->cur++;
			continue;
		}
		r = addrset_add(l->seen, s->email);
		if (r < 0) {
			if (errno == E2BIG)
				return nl_err_set(err, NL_ENOMEM,
						  "%s:%lu: more than %zu "
						  "subscribers", s->file,
						  s->line, (size_t)ADDRSET_MAX);
			return nl_err_set(err, NL_ENOMEM, "out of memory");
		}
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
	return l->skipped;
}

unsigned long
lists_duplicates(const struct lists *l)
{
	return l->dups;
}

void
lists_close(struct lists *l)
{
	struct lfile *f;
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nfiles; i++) {
		f = &l->files[i];
		lfile_done(f);
		free(f->path);
		free(f->hdr);
		free(f->keys);
		free(f->cols);
		free(f->vals);
	}
	free(l->files);
	addrset_free(l->seen);
	free(l->rec);
	free(l->fld);
	buf_free(&l->name);
	buf_free(&l->addr);
	free(l);
}
