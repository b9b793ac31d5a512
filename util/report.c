/* The reporter (report.h). */
#include "util/report.h"

#include <stdarg.h>
#include <stdio.h>

static int progress_shown;

static void
clean(char *dst, size_t n, const char *msg)
{
	size_t i, k = 0;

	for (i = 0; msg[i] && k < n - 1; i++) {
		unsigned char ch = (unsigned char)msg[i];

		dst[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	dst[k] = '\0';
}

void
report_progress_clear(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	progress_shown = 0;
}

void
nl_report(const char *msg)
{
	char line[NL_REPORT_MAX];

	clean(line, sizeof line, msg);
	report_progress_clear();
	fprintf(stderr, "nlsend: %s\n", line);
}

void
nl_reportf(const char *fmt, ...)
{
	char msg[NL_REPORT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	nl_report(msg);
}

void
report_plain(const char *msg)
{
	char line[NL_REPORT_MAX];

	clean(line, sizeof line, msg);
	report_progress_clear();
	fprintf(stderr, "%s\n", line);
}

void
report_progress(const char *line)
{
	char clean_line[NL_REPORT_MAX];

	clean(clean_line, sizeof clean_line, line);
	fprintf(stderr, "\r%s\033[K", clean_line);
	fflush(stderr);
	progress_shown = 1;
}
