/*
 * --due DIR: cron mode (nlsend(1), nlsend-issue(5) "Cron").  Every *.yaml in
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
#include "cli/exitcode.h"
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

/* Worst outcome first: nlsend(1) gives 75 precedence over 1; an issue that
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
		if (r->cfg->nrelays && !r->o->smtp) {
			e.nrelays = res->st.nrelays;
			e.relays = res->st.relay;
		}
	}
	e.exit_status = status;
	runlog_write(log, &e);
}

/* One --due run's progress over its issues. */
struct due_run {
	struct run *r;
	struct runlog log;
	struct journal *j;
	enum nl_errkind worst;	/* of the issues so far */
	struct nl_err first;	/* the error that goes with it */
};

static void
note(struct due_run *dr, const struct nl_err *e)
{
	dr->worst = worse(dr->worst, e->kind);
	if (dr->first.kind == NL_OK || e->kind == dr->worst)
		dr->first = *e;
}

/* Load every issue (those that do not load are reported in the loop) and
 * sort them by schedule. */
static int
load_all(struct due *v, size_t n, struct nl_err *err)
{
	struct buf b;
	size_t i;
	int rc = 0;

	buf_init(&b, 4096);
	for (i = 0; i < n && rc == 0; i++) {
		if (issue_load(v[i].path, &v[i].is, &v[i].err))
			continue;
		v[i].when = v[i].is->has_schedule ? v[i].is->schedule : 0;
		buf_reset(&b);
		if (campaign_id_of(v[i].is, &b) || !(v[i].id = strdup(b.data)))
			rc = nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	buf_free(&b);
	/* qsort()'s array is declared nonnull, and v is NULL when the
	 * directory holds no issue. */
	if (n && rc == 0)
		qsort(v, n, sizeof *v, by_time);
	return rc;
}

/* One issue: not loadable, not due, complete, or sent.  -1 stops the
 * whole run (err set): the server or the config is wrong for every issue
 * alike, so failing each one the same way would only repeat it. */
static int
due_one(struct due_run *dr, struct due *d, struct nl_err *err)
{
	struct run *r = dr->r;
	struct send_result res;
	struct nl_err e;
	char when[32];
	int done;

	if (!d->is) {
		nl_report(d->err.msg);
		log_issue(&dr->log, r, d, "error", NULL, 65, d->err.msg);
		note(dr, &d->err);
		return 0;
	}
	if (d->when > r->now) {
		time_t t = (time_t)d->when;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (!r->o->quiet)
			nl_reportf("%s: not due until %s", d->path, when);
		log_issue(&dr->log, r, d, "not-due", NULL, 0, NULL);
		return 0;
	}
	if (journal_issue_done(dr->j, d->id, &done, err))
		return -1;
	if (done) {
		log_issue(&dr->log, r, d, "complete", NULL, 0, NULL);
		return 0;
	}
	nl_err_clear(&e);
	if (run_send(r, d->path, &res, &e) == 0) {
		log_issue(&dr->log, r, d, res.outcome, &res, 0, NULL);
		return 0;
	}
	nl_report(e.msg);
	log_issue(&dr->log, r, d, res.outcome, &res, nl_exitcode(e.kind), e.msg);
	if (e.kind == NL_EUNAVAIL || e.kind == NL_ECONFIG ||
	    e.kind == NL_EUSAGE || e.kind == NL_ENOMEM || e.kind == NL_EIO) {
		*err = e;
		return -1;
	}
	note(dr, &e);
	return 0;
}

int
run_due(struct run *r, struct nl_err *err)
{
	struct due_run dr;
	struct state *st = NULL;
	struct due *v = NULL;
	size_t i, n = 0;
	int lockfd = -1, rc = -1;

	memset(&dr, 0, sizeof dr);
	dr.r = r;
	nl_err_clear(&dr.first);
	if (runlog_open(&dr.log, r->o->log, err))
		return -1;
	if (state_lock(r->state_path, r->o->lock_wait, &lockfd, err))
		goto out;
	r->locked = true;
	if (scan(r->o->due_dir, &v, &n, err) || load_all(v, n, err) ||
	    state_open(r->state_path, STATE_RW, &st, err) ||
	    journal_open(st, &dr.j, err))
		goto out;
	for (i = 0; i < n; i++)
		if (due_one(&dr, &v[i], err))
			goto out;
	if (dr.worst != NL_OK) {
		/* Each problem was printed as it happened; the status says the
		 * worst of them. */
		*err = dr.first;
		err->kind = dr.worst;
		snprintf(err->msg, sizeof err->msg, "%s: some issues were not fully "
			 "delivered (see above)", r->o->due_dir);
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
	journal_close(dr.j);
	state_close(st);
	state_unlock(lockfd);
	r->locked = false;
	runlog_close(&dr.log);
	return rc;
}
