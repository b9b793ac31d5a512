#include "cli/runlog.h"

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"

int
runlog_open(struct runlog *l, const char *path, struct nl_err *err)
{
	l->f = NULL;
	l->use_syslog = false;
	if (path) {
		l->f = fopen(path, "a");
		if (!l->f)
			return nl_err_set(err, NL_ECANTCREAT, "%s: %s", path,
					  strerror(errno));
		return 0;
	}
	if (!isatty(STDERR_FILENO)) {
		openlog("nlsend", LOG_PID, LOG_MAIL);
		l->use_syslog = true;
	}
	return 0;
}

static void
kv(struct buf *b, const char *k, const char *v)
{
	const char *p;

	if (!v)
		return;
	buf_printf(b, " %s=", k);
	if (*v && !strpbrk(v, " \t\"\\=")) {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, (*p == '\n' || *p == '\r') ? ' ' : *p);
	}
	buf_addc(b, '"');
}

/* "relay NAME: sent N, deferred N, failed N, throttled N times, down N
 * s" as logfmt, after the line. */
static void
relay_lines(struct runlog *l, const char *when, const struct runlog_entry *e)
{
	const struct deliver_relay_stats *r;
	struct buf b;
	int i;

	buf_init(&b, 4096);
	for (i = 0; i < e->nrelays; i++) {
		r = &e->relays[i];
		buf_reset(&b);
		kv(&b, "issue", e->id);
		kv(&b, "relay", r->name);
		buf_printf(&b, " sent=%lu deferred=%lu failed=%lu throttled=%lu "
			   "down_seconds=%.0f", r->sent, r->deferred, r->failed,
			   r->throttled, r->down_seconds);
		if (l->f)
			fprintf(l->f, "%s%s\n", when, buf_cstr(&b));
		if (l->use_syslog)
			syslog(LOG_INFO, "%s", buf_cstr(&b) + 1);
	}
	if (l->f)
		fflush(l->f);
	buf_free(&b);
}

void
runlog_write(struct runlog *l, const struct runlog_entry *e)
{
	struct buf b;
	char when[32];
	time_t t = (time_t)e->when;
	struct tm tm;

	if (!l->f && !l->use_syslog)
		return;
	buf_init(&b, 8192);
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	kv(&b, "issue", e->id);
	kv(&b, "file", e->file);
	kv(&b, "outcome", e->outcome);
	buf_printf(&b, " sent=%lu failed=%lu deferred=%lu skipped=%lu exit=%d "
		   "seconds=%.1f", e->sent, e->failed, e->deferred, e->skipped,
		   e->exit_status, e->seconds);
	kv(&b, "msg", e->msg);
	if (l->f) {
		fprintf(l->f, "%s%s\n", when, buf_cstr(&b));
		fflush(l->f);
	}
	if (l->use_syslog)
		syslog(e->exit_status == 0 ? LOG_INFO :
		       e->exit_status == 75 ? LOG_WARNING : LOG_ERR,
		       "%s", buf_cstr(&b) + 1);
	buf_free(&b);
	relay_lines(l, when, e);
}

void
runlog_close(struct runlog *l)
{
	if (l->f)
		fclose(l->f);
	if (l->use_syslog)
		closelog();
	l->f = NULL;
	l->use_syslog = false;
}
