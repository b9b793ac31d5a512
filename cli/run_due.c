/*
 * --due DIR: cron mode (cli.md, issue-format.md "Cron").  Every *.yaml in
 * DIR whose schedule has passed (or that has none) and that is not fully
 * delivered is sent, oldest schedule first; issues not yet due are
 * reported with their due time; an issue fully delivered costs a YAML
 * load and a journal look-up, never a composition.  The state lock is held
 * for the whole run, so overlapping cron runs take turns.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/lock.h"
#include "cli/run.h"
#include "cli/runlog.h"
#include "state/db.h"
#include "state/journal.h"

struct due {
	char *path;
	long long when;		/* schedule, or 0: due at once */
	char *id;
	struct issue *is;	/* NULL when it did not load */
	struct nl_err err;
};

static int
by_time(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' &&
	       ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
		(n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

static int
scan(const char *dir, struct due **out, size_t *n, struct nl_err *err)
{
	struct due *v = NULL, *nv;
	struct dirent *de;
	struct buf b;
	DIR *d;
	size_t cap = 0;

	*n = 0;
	d = opendir(dir);
	if (!d)
		return nl_err_set(err, NL_ENOINPUT, "%s: %s", dir, strerror(errno));
	buf_init(&b, 8192);
	while ((de = readdir(d))) {
		if (!is_yaml(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof *v);
			if (!nv)
				goto nomem;
			v = nv;
		}
		memset(&v[*n], 0, sizeof v[*n]);
		buf_reset(&b);
		if (buf_printf(&b, "%s/%s", dir, de->d_name) ||
		    !(v[*n].path = strdup(b.data)))
			goto nomem;
		(*n)++;
	}
	closedir(d);
	buf_free(&b);
	*out = v;
	return 0;
nomem:
	closedir(d);
	buf_free(&b);
	*out = v;
	return nl_err_set(err, NL_ENOMEM, "out of memory");
}

/* Worst outcome first: cli.md gives 75 precedence over 1; an issue that
 * cannot be read at all is worse than a partial send. */
static enum nl_errkind
worse(enum nl_errkind a, enum nl_errkind b)
{
	static const enum nl_errkind order[] = {
		NL_OK, NL_EPERMFAIL, NL_ETEMPFAIL, NL_EDATA, NL_ENOINPUT,
	};
	size_t i, ia = 0, ib = 0;

	for (i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (order[i] == a)
			ia = i;
		if (order[i] == b)
			ib = i;
	}
	return ib > ia ? b : a;
}

static void
log_issue(struct runlog *log, struct run *r, const struct due *d,
	  const char *outcome, const struct send_result *res, int status,
	  const char *msg)
{
	struct runlog_entry e;

	memset(&e, 0, sizeof e);
	e.when = r->now;
	e.file = d->path;
	e.id = d->id;
	e.outcome = outcome;
	e.msg = msg;
	if (res) {
		e.sent = res->st.sent;
		e.failed = res->st.failed;
		e.deferred = res->st.deferred;
		e.skipped = res->st.skipped;
		e.seconds = res->st.seconds;
	}
	e.exit_status = status;
	runlog_write(log, &e);
}

int
run_due(struct run *r, struct nl_err *err)
{
	const struct options *o = r->o;
	enum nl_errkind worst = NL_OK;
	struct nl_err first, e;
	struct send_result res;
	struct journal *j = NULL;
	struct state *st = NULL;
	struct runlog log;
	struct due *v = NULL;
	struct buf b;
	size_t i, n = 0;
	int lockfd = -1, done, rc = -1;
	char when[32];

	buf_init(&b, 4096);
	nl_err_clear(&first);
	if (runlog_open(&log, o->log, err))
		return -1;
	if (state_lock(r->state_path, o->lock_wait, &lockfd, err))
		goto out;
	r->locked = true;
	if (scan(o->due_dir, &v, &n, err))
		goto out;
	for (i = 0; i < n; i++) {
		if (issue_load(v[i].path, &v[i].is, &v[i].err))
			continue;
		v[i].when = v[i].is->has_schedule ? v[i].is->schedule : 0;
		buf_reset(&b);
		if (campaign_id_of(v[i].is, &b) || !(v[i].id = strdup(b.data))) {
			nl_err_set(err, NL_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* scan-build (issue 7): qsort()'s array is declared nonnull, and v
	 * is NULL when the directory holds no issue (UBSan would stop). */
	if (n)
		qsort(v, n, sizeof *v, by_time);
	if (state_open(r->state_path, STATE_RW, &st, err) ||
	    journal_open(st, &j, err))
		goto out;
	for (i = 0; i < n; i++) {
		struct due *d = &v[i];

		if (!d->is) {
			nl_report(d->err.msg);
			log_issue(&log, r, d, "error", NULL, 65, d->err.msg);
			worst = worse(worst, d->err.kind);
			if (first.kind == NL_OK)
				first = d->err;
			continue;
		}
		if (d->when > r->now) {
			time_t t = (time_t)d->when;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
			if (!o->quiet)
				nl_reportf("%s: not due until %s",
					d->path, when);
			log_issue(&log, r, d, "not-due", NULL, 0, NULL);
			continue;
		}
		if (journal_issue_done(j, d->id, &done, err))
			goto out;
		if (done) {
			log_issue(&log, r, d, "complete", NULL, 0, NULL);
			continue;
		}
		nl_err_clear(&e);
		if (run_send(r, d->path, &res, &e) == 0) {
			log_issue(&log, r, d, res.outcome, &res, 0, NULL);
			continue;
		}
		nl_report(e.msg);
		log_issue(&log, r, d, res.outcome, &res,
			  e.kind == NL_ETEMPFAIL ? 75 : e.kind == NL_EPERMFAIL ? 1 : 65,
			  e.msg);
		/* The server or the config is wrong for every issue alike:
		 * stop here rather than fail each one the same way. */
		if (e.kind == NL_EUNAVAIL || e.kind == NL_ECONFIG ||
		    e.kind == NL_EUSAGE || e.kind == NL_ENOMEM || e.kind == NL_EIO) {
			*err = e;
			goto out;
		}
		worst = worse(worst, e.kind);
		if (first.kind == NL_OK || e.kind == worst)
			first = e;
	}
	if (worst != NL_OK) {
		/* Each problem was printed as it happened; the status says the
		 * worst of them. */
		*err = first;
		err->kind = worst;
		snprintf(err->msg, sizeof err->msg, "%s: some issues were not fully "
			 "delivered (see above)", o->due_dir);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].id);
		issue_free(v[i].is);
	}
	free(v);
	journal_close(j);
	state_close(st);
	state_unlock(lockfd);
	r->locked = false;
	runlog_close(&log);
	buf_free(&b);
	return rc;
}
