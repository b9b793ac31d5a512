/*
 * --status ISSUE.yaml [--failed]: what the journal knows of one issue's
 * send, so an editor need not open SQLite: counts by state and by relay,
 * the first and last times; with --failed one line per failed or
 * deferred reader, ADDRESS TAB STATE TAB RELAY TAB REPLY.  Read only:
 * nothing is sent, nothing is changed (the database is opened as any run
 * would, so an older one is brought up to date).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/run.h"
#include "state/db.h"
#include "state/journal.h"
#include "state/suppress.h"

struct by_relay {
	char name[DELIVER_RELAY_NAME_MAX + 1];
	unsigned long n[J_NSTATES];
};

struct status {
	struct by_relay v[DELIVER_MAX_RELAYS + 1];
	int nv;
	unsigned long total[J_NSTATES];
};

static void
count(void *arg, const char *relay, enum jstate st, unsigned long n)
{
	struct status *s = arg;
	int i;

	for (i = 0; i < s->nv; i++)
		if (strcmp(s->v[i].name, relay) == 0)
			break;
	if (i == s->nv && s->nv < DELIVER_MAX_RELAYS + 1)
		snprintf(s->v[s->nv++].name, sizeof s->v[0].name, "%s", relay);
	if (i < s->nv)
		s->v[i].n[st] += n;
	s->total[st] += n;
}

static void
iso(char *out, size_t n, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
failed_line(void *arg, const struct jentry *e)
{
	const char *q;

	(void)arg;
	if (e->state != J_FAILED && e->state != J_DEFERRED)
		return 0;
	printf("%s\t%s\t%s\t", e->email, jstate_name(e->state),
	       *e->relay ? e->relay : "-");
	/* The reply is the server's text: one line, no tab, as stored. */
	for (q = e->reply; *q; q++)
		putchar(*q == '\t' || (unsigned char)*q < 0x20 ? ' ' : *q);
	putchar('\n');
	return 0;
}

static int
count_suppressed(void *arg, const struct suppress_row *r)
{
	(void)r;
	(*(unsigned long *)arg)++;
	return 0;
}

static void
print_status(const char *id, const struct status *s, unsigned long nsup,
	     long long first, long long last)
{
	char a[32], b[32];
	int i;

	iso(a, sizeof a, first);
	iso(b, sizeof b, last);
	printf("issue: %s\nsent: %lu\ndeferred: %lu\nfailed: %lu\n"
	       "in flight: %lu\nsuppressed: %lu (the suppression list)\n"
	       "first: %s\nlast: %s\n", id, s->total[J_SENT],
	       s->total[J_DEFERRED], s->total[J_FAILED], s->total[J_INFLIGHT],
	       nsup, a, b);
	for (i = 0; i < s->nv; i++)
		printf("relay %s: sent %lu, deferred %lu, failed %lu, in flight "
		       "%lu\n", *s->v[i].name ? s->v[i].name : "default",
		       s->v[i].n[J_SENT], s->v[i].n[J_DEFERRED],
		       s->v[i].n[J_FAILED], s->v[i].n[J_INFLIGHT]);
}

int
run_status(struct run *r, struct nl_err *err)
{
	struct issue *is = NULL;
	struct state *st = NULL;
	struct journal *j = NULL;
	struct suppress *sup = NULL;
	struct status s;
	unsigned long nsup = 0;
	long long first, last;
	struct buf id;
	int rc = -1;

	memset(&s, 0, sizeof s);
	buf_init(&id, 4096);
	if (issue_load(r->o->issue, &is, err))
		goto out;
	if (campaign_id_of(is, &id)) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	if (state_open(r->state_path, STATE_RW, &st, err) ||
	    journal_open(st, &j, err) || suppress_open(st, &sup, err) ||
	    journal_by_relay(j, id.data, count, &s, err) ||
	    journal_times(j, id.data, &first, &last, err) ||
	    suppress_each(sup, count_suppressed, &nsup, err))
		goto out;
	if (r->o->failed) {
		if (journal_each_unsent(j, id.data, failed_line, NULL, err))
			goto out;
	} else {
		print_status(id.data, &s, nsup, first, last);
	}
	rc = fflush(stdout) ? nl_err_set(err, NL_EIO, "stdout: write error") : 0;
out:
	suppress_close(sup);
	journal_close(j);
	state_close(st);
	issue_free(is);
	buf_free(&id);
	return rc;
}
