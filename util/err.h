/*
 * err.h - the one error model of nlsend.
 *
 * Every fallible function returns 0 on success and -1 on failure, and on
 * failure fills a caller-owned struct nl_err with a kind and a message.
 * The kind says what went wrong in terms a caller can act on; only
 * cli/exitcode.c turns a kind into a sysexits(3) status, so nothing below
 * the command line knows about exit codes.
 *
 * Messages follow the OpenSMTPD/compiler convention "FILE:LINE:COL: text"
 * when they have a place (nl_err_at), plain text otherwise.  They never
 * carry the "nlsend: " prefix: the reporter (util/report.h) adds it.
 */
#ifndef NL_ERR_H
#define NL_ERR_H

#include <stddef.h>

#include "util/report.h"

enum nl_errkind {
	NL_OK = 0,
	NL_EUSAGE,	/* bad command line */
	NL_EDATA,	/* malformed input: issue, list, template, over-limit */
	NL_ENOINPUT,	/* an input file is missing or unreadable */
	NL_EUNAVAIL,	/* SMTP server unreachable or refused us */
	NL_ECANTCREAT,	/* an output file cannot be created */
	NL_ETEMPFAIL,	/* try again later (deferred recipients, lock held) */
	NL_EPERMFAIL,	/* some recipients failed permanently */
	NL_ECONFIG,	/* configuration is wrong */
	NL_EIO,		/* I/O error while writing or reading */
	NL_ENOMEM,	/* out of memory or a buffer cap was reached */
	NL_EINTERNAL	/* a bug or an unexpected library failure */
};

#define NL_ERRMSG_MAX 1024

struct nl_err {
	enum nl_errkind kind;
	char msg[NL_ERRMSG_MAX];
};

/* Reset to NL_OK with an empty message. */
void nl_err_clear(struct nl_err *e);

/*
 * Set kind and a printf-style message; returns -1 so that callers can write
 * `return nl_err_set(err, NL_EDATA, "...")`.  e may be NULL (the error is
 * then dropped).  Messages longer than NL_ERRMSG_MAX are truncated.
 *
 * Macros over nl_err_ret(): the static analyzer does not follow variadic
 * functions, so it would take `return nl_err_set(...)` for a success with
 * the out-parameters unset; nl_err_ret() is plain and inline, so every
 * file sees the -1.
 */
int nl_err_set_(struct nl_err *e, enum nl_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As nl_err_set, prefixed with "FILE:LINE:COL: " (1-based line and column;
 * col 0 omits the column, line 0 omits both). */
int nl_err_at_(struct nl_err *e, enum nl_errkind kind, const char *file,
	       unsigned long line, unsigned long col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static inline int
nl_err_ret(int set)
{
	(void)set;
	return -1;
}

#define nl_err_set(...) nl_err_ret(nl_err_set_(__VA_ARGS__))
#define nl_err_at(...) nl_err_ret(nl_err_at_(__VA_ARGS__))

/* Name of a kind, for logs and tests ("data", "noinput", ...). */
const char *nl_errkind_name(enum nl_errkind kind);

#endif
