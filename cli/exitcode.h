/*
 * exitcode.h - the one place where an error kind becomes an exit status
 * (sysexits(3), as nlsend(1), EXIT STATUS says).
 */
#ifndef NL_EXITCODE_H
#define NL_EXITCODE_H

#include "util/err.h"

int nl_exitcode(enum nl_errkind kind);

#endif
