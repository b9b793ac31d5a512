#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
nl_err_clear(struct nl_err *e)
{
	if (!e)
		return;
	e->kind = NL_OK;
	e->msg[0] = '\0';
}

static void
vset(struct nl_err *e, enum nl_errkind kind, const char *prefix,
     const char *fmt, va_list ap)
{
	size_t n;

	e->kind = kind;
	n = (size_t)snprintf(e->msg, sizeof e->msg, "%s", prefix);
	if (n >= sizeof e->msg)
		return;
	vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
}

int
nl_err_set_(struct nl_err *e, enum nl_errkind kind, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vset(e, kind, "", fmt, ap);
	va_end(ap);
	return -1;
}

int
nl_err_at_(struct nl_err *e, enum nl_errkind kind, const char *file,
	   unsigned long line, unsigned long col, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;

	if (!e)
		return -1;
	if (line && col)
		snprintf(prefix, sizeof prefix, "%s:%lu:%lu: ", file, line, col);
	else if (line)
		snprintf(prefix, sizeof prefix, "%s:%lu: ", file, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", file);
	va_start(ap, fmt);
	vset(e, kind, prefix, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
nl_errkind_name(enum nl_errkind kind)
{
	static const char *const names[] = {
		"ok", "usage", "data", "noinput", "unavailable", "cantcreat",
		"tempfail", "permfail", "config", "io", "nomem", "internal",
	};

	if ((size_t)kind < sizeof names / sizeof names[0])
		return names[kind];
	return "unknown";
}
