/*
 * path.h - small file-system helpers shared by the modules that write
 * state files and resolve paths relative to an input file.
 */
#ifndef NL_PATH_H
#define NL_PATH_H

#include <sys/types.h>

/* The directory part of path: "." when it has no slash, "/" for a file in
 * the root.  malloc'ed (caller frees); NULL when out of memory. */
char *path_dir(const char *path);

/* Create the missing parent directories of the file at path (mkdir -p of
 * its directory) with the given mode.  Returns 0, or -1 with errno of the
 * last mkdir that failed for another reason than EEXIST. */
int path_make_parents(const char *path, mode_t mode);

/* Open path for reading only if it is a regular file: O_NONBLOCK for the
 * open, so that a FIFO or a device cannot block us before the check, and
 * blocking again for the reads.  0 with *fd (and *st when not NULL); 1
 * when path is not a regular file (nothing left open); -1 with errno. */
struct stat;
int path_open_regular(const char *path, int *fd, struct stat *st);

/* Seconds on the monotonic clock, for durations and rates. */
double mono_seconds(void);

#endif
