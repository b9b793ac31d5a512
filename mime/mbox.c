#include "mime/mbox.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int
mbox_append(FILE *f, const char *envelope_from, long long when,
	    const char *msg, size_t len, struct nl_err *err)
{
	static const char wd[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				       "Fri", "Sat" };
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
					 "Jun", "Jul", "Aug", "Sep", "Oct",
					 "Nov", "Dec" };
	const char *from = envelope_from && *envelope_from ? envelope_from :
			   "MAILER-DAEMON";
	const char *p, *nl, *end = msg + len, *q;
	size_t n;
	struct tm tm;
	time_t tt;

	for (q = from; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return nl_err_set(err, NL_EDATA,
					  "mbox: envelope sender '%s' has a "
					  "space or control character", from);
	tt = (time_t)when;
	if (when < 0 || when > 253402300799LL || !gmtime_r(&tt, &tm))
		return nl_err_set(err, NL_EDATA, "mbox: time %lld out of "
				  "range", when);
	/* One lock for the whole message: the per-line stdio calls below
	 * would otherwise take it twice a line (a message has ~1,000). */
	flockfile(f);
	fprintf(f, "From %s %s %s %2d %02d:%02d:%02d %d\n", from,
		wd[tm.tm_wday], mon[tm.tm_mon], tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	for (p = msg; p < end; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (nl && n && p[n - 1] == '\r')
			n--;
		/* ^>*From  gains one '>' (mboxrd). */
		for (q = p; q < p + n && *q == '>'; q++)
			;
		if ((size_t)(p + n - q) >= 5 && memcmp(q, "From ", 5) == 0)
			putc_unlocked('>', f);
		if (n)
			fwrite_unlocked(p, 1, n, f);
		putc_unlocked('\n', f);
	}
	putc_unlocked('\n', f);
	funlockfile(f);
	if (ferror(f))
		return nl_err_set(err, NL_EIO, "mbox: write failed: %s",
				  strerror(errno));
	return 0;
}
