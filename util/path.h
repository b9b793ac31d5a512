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

/* Seconds on the monotonic clock, for durations and rates. */
double mono_seconds(void);

#endif
