/*
 * report.h - the one reporter: every line nlsend writes to stderr goes
 * through here, so that no input can forge a line of the program's output
 * and a progress line is never left half-overwritten.
 *
 * Lines are "nlsend: MSG\n", every control character of MSG (CR and LF
 * included) shown as '?': messages echo keys, values and list fields from
 * files.  A line longer than NL_REPORT_MAX bytes is cut.
 *
 * The progress line (report_progress) is transient: it is drawn with a
 * leading CR and erased before any other line, so it only makes sense on
 * a terminal; the caller decides whether to draw it (--progress).
 *
 * Output to stdout (the results of --check, --suppressed and the like) is
 * the verbs' own: it is data, not a report.
 *
 * Not thread-safe: only the main thread reports.
 */
#ifndef NL_REPORT_H
#define NL_REPORT_H

#define NL_REPORT_MAX 2048

/* "nlsend: MSG". */
void nl_report(const char *msg);
/* The same, formatted. */
void nl_reportf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A line without the "nlsend: " prefix (usage hints). */
void report_plain(const char *msg);

/* Draw (or redraw) the progress line: LINE without a line end. */
void report_progress(const char *line);
/* Erase the progress line if one is shown. */
void report_progress_clear(void);

#endif
