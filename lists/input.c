/* A list file read through a fixed buffer (input.h). */
#include "lists/input.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char bom[3] = { '\xEF', '\xBB', '\xBF' };

int
input_open(struct input *f, const char *path, struct nl_err *err)
{
	struct stat st;

	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->line = 1;
	f->path = strdup(path);
	if (!f->path)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		nl_err_set(err, NL_ENOINPUT, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		nl_err_set(err, NL_ENOINPUT, "%s: %s", path, strerror(EISDIR));
		goto fail;
	}
	return 0;
fail:
	input_close(f);
	return -1;
}

/* The BOM is skipped at the very start only (off is 0 until a reader
 * consumes something).  1: read more before deciding. */
static int
skip_bom(struct input *f)
{
	if (f->off != 0)
		return 0;
	if (f->len < 3 && memcmp(f->in, bom, f->len) == 0)
		return 1;
	if (f->len >= 3 && memcmp(f->in, bom, 3) == 0) {
		f->off = 3;
		memmove(f->in, f->in + 3, f->len - 3);
		f->len -= 3;
		return f->len == 0;
	}
	return 0;
}

int
input_fill(struct input *f, struct nl_err *err)
{
	ssize_t n;

	assert(f->pos == f->len);
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
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nl_err_set(err, NL_EIO, "%s: %s", f->path,
					  strerror(errno));
		if (n == 0) {
			f->eof = 1;
			break;
		}
		f->len += (size_t)n;
		if (!skip_bom(f))
			break;
	}
	return f->len ? 1 : 0;
}

void
input_close(struct input *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->in);
	f->in = NULL;
	free(f->path);
	f->path = NULL;
	f->pos = f->len = 0;
}
