/*
 * fuzz.h - what every libFuzzer harness in tests/fuzz/ shares.
 *
 * Each tests/fuzz/NAME.c is built twice:
 *  - by mk/fuzz.mk with clang -fsanitize=fuzzer,address,undefined into
 *    B/fuzz/NAME: FUZZ_TARGET(NAME) is then LLVMFuzzerTestOneInput();
 *  - by tests/unit/fuzz_regress.c, which #defines FUZZ_REPLAY and
 *    #includes every harness into one TAP program that replays the seed
 *    corpora and the regression inputs (tests/fuzz/regress/NAME/) in
 *    `make check`, under SAN=1 and under valgrind: FUZZ_TARGET(NAME) is
 *    then an ordinary function fuzz_NAME().
 * So a harness's own static functions and globals carry its name as a
 * prefix (they share one translation unit in the replay build).
 *
 * A property that does not hold calls FUZZ_FAIL(), which prints why and
 * aborts: libFuzzer saves the input as a crash, the replay test dies and
 * prove reports it.
 *
 * Inputs that name a file: the modules under test take paths, so a harness
 * writes the input to a memfd and passes "/proc/self/fd/N" (no disk
 * write), or, when the module looks at the file name (lists: ".csv"), to
 * a file in a private temporary directory made once per process.
 */
#ifndef NL_FUZZ_H
#define NL_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name)                                              \
	int fuzz_##name(const uint8_t *data, size_t size);             \
	int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name)                                              \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

#define FUZZ_FAIL(...)                                                 \
	do {                                                           \
		fprintf(stderr, "fuzz property failed at %s:%d: ",     \
			__FILE__, __LINE__);                           \
		fprintf(stderr, __VA_ARGS__);                          \
		fprintf(stderr, "\n");                                 \
		abort();                                               \
	} while (0)

#define FUZZ_CHECK(cond, ...)                                          \
	do {                                                           \
		if (!(cond))                                           \
			FUZZ_FAIL(__VA_ARGS__);                        \
	} while (0)

/* Write p[0..n) to a new memfd; *path is "/proc/self/fd/N" (opening it
 * gives a fresh offset 0).  mode: what fchmod sets (the config loader
 * looks at it).  Returns the fd to close(), or -1. */
static int __attribute__((unused))
fuzz_memfd(const void *p, size_t n, mode_t mode, char *path, size_t pathlen)
{
	const char *c = p;
	ssize_t w;
	int fd;

	fd = memfd_create("nlsend-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	if (fchmod(fd, mode)) {
		close(fd);
		return -1;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static char fuzz_tmpdir[4096];
static char fuzz_tmpfile[4096];

static void
fuzz_tmp_cleanup(void)
{
	if (fuzz_tmpfile[0])
		unlink(fuzz_tmpfile);
	if (fuzz_tmpdir[0])
		rmdir(fuzz_tmpdir);
}

/* Write p[0..n) to TMPDIR/nlsend-fuzz.XXXXXX/NAME (the directory is made
 * once and removed at exit; one file at a time).  Returns the path, or
 * NULL. */
static const char * __attribute__((unused))
fuzz_tmpfile_write(const char *name, const void *p, size_t n)
{
	const char *t = getenv("TMPDIR");
	FILE *f;
	size_t w;

	if (!fuzz_tmpdir[0]) {
		snprintf(fuzz_tmpdir, sizeof fuzz_tmpdir,
			 "%s/nlsend-fuzz.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(fuzz_tmpdir)) {
			fuzz_tmpdir[0] = '\0';
			return NULL;
		}
		atexit(fuzz_tmp_cleanup);
	}
	if (fuzz_tmpfile[0])
		unlink(fuzz_tmpfile);
	snprintf(fuzz_tmpfile, sizeof fuzz_tmpfile, "%s/%s", fuzz_tmpdir,
		 name);
	f = fopen(fuzz_tmpfile, "wb");
	if (!f)
		return NULL;
	w = n ? fwrite(p, 1, n, f) : 0;
	if (fclose(f) || w != n)
		return NULL;
	return fuzz_tmpfile;
}

/* An error or warning message is one line: a CR or LF from the input
 * echoed in it would forge lines of nlsend's output. */
#define FUZZ_CHECK_MSG(msg)                                            \
	FUZZ_CHECK(!strpbrk((msg), "\r\n"),                          \
		   "message holds a line break: %s", (msg))

/* True when s[0..n) holds b (a byte). */
static int __attribute__((unused))
fuzz_has_byte(const char *s, size_t n, char b)
{
	return n && memchr(s, b, n) != NULL;
}

#endif
