/* The unsubscribe key file beside the state database (key.h). */
#include "state/key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "state/db.h"
#include "util/buf.h"
#include "util/path.h"

#define KEY_HEX 64

/* A new key, unless another process made one first (EEXIST: fine). */
static int
create_key(const char *path, struct nl_err *err)
{
	unsigned char raw[KEY_HEX / 2];
	char hex[KEY_HEX + 1];
	size_t i;
	int fd, bad;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return nl_err_set(err, NL_EINTERNAL, "getrandom: %s",
				  strerror(errno));
	for (i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof raw);
	/* The state directory may not exist yet; it names people. */
	path_make_parents(path, 0700);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		explicit_bzero(hex, sizeof hex);
		if (errno == EEXIST)
			return 0;
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	}
	bad = write(fd, hex, KEY_HEX) != KEY_HEX;
	bad |= close(fd) != 0;
	explicit_bzero(hex, sizeof hex);
	if (bad)
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path,
				  strerror(errno));
	return 0;
}

int
state_key(const char *db_path, char **key, size_t *len, struct nl_err *err)
{
	char hex[KEY_HEX];
	struct buf path;
	ssize_t n;
	int fd = -1, rc = -1;

	*key = NULL;
	*len = 0;
	buf_init(&path, 4096);
	if (state_sibling(db_path, STATE_KEY_FILE, &path)) {
		nl_err_set(err, NL_ENOMEM, "%s: path too long", db_path);
		goto out;
	}
	if (state_tighten_file(path.data, err))
		goto out;
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (create_key(path.data, err))
			goto out;
		fd = open(path.data, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		nl_err_set(err, NL_ENOINPUT, "%s: %s", path.data, strerror(errno));
		goto out;
	}
	n = read(fd, hex, sizeof hex);
	if (n < 16) {
		nl_err_set(err, NL_ECONFIG, "%s: unsubscribe key too short",
			   path.data);
		goto out;
	}
	*key = malloc((size_t)n + 1);
	if (!*key) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*key, hex, (size_t)n);
	(*key)[n] = '\0';
	*len = (size_t)n;
	rc = 0;
out:
	explicit_bzero(hex, sizeof hex);
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	return rc;
}
