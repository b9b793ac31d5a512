#include "state/lock.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
state_lock(const char *state_path, long wait_seconds, int *fd,
	 struct nl_err *err)
{
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	char path[4096];
	long waited_ms = 0;
	int f;

	if (snprintf(path, sizeof path, "%s.lock", state_path) >= (int)sizeof path)
		return nl_err_set(err, NL_EUSAGE, "%s: path too long", state_path);
	/* The state directory names people: 0700. */
	path_make_parents(path, 0700);
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path, strerror(errno));
	while (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			nl_err_set(err, NL_EIO, "%s: %s", path, strerror(errno));
			close(f);
			return -1;
		}
		if (waited_ms >= wait_seconds * 1000) {
			close(f);
			return nl_err_set(err, NL_ETEMPFAIL, "another nlsend run holds "
					  "%s (waited %ld s): try again later", path,
					  wait_seconds);
		}
		nanosleep(&nap, NULL);
		waited_ms += 100;
	}
	*fd = f;
	return 0;
}

void
state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
