#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int
path_make_parents(const char *path, mode_t mode)
{
	char *dir = path_dir(path), *p;
	int r = 0;

	if (!dir)
		return -1;
	for (p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, mode) != 0 && errno != EEXIST)
				r = -1;
			else
				r = 0;
			*p = c;
			if (!c)
				break;
		}
	}
	free(dir);
	return r;
}

double
mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
path_open_regular(const char *path, int *fd, struct stat *st)
{
	struct stat sb;
	int f, fl;

	*fd = -1;
	f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (f < 0)
		return -1;
	if (fstat(f, &sb) != 0) {
		close(f);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(f);
		return 1;
	}
	fl = fcntl(f, F_GETFL);
	if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(f);
		return -1;
	}
	if (st)
		*st = sb;
	*fd = f;
	return 0;
}
