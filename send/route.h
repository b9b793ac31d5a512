/*
 * route.h - internal to send/: which relay takes the next recipient.  A
 * route is one relay as the run sees it (its pool, pool.h, does the
 * connections): its weight, priority, quota, health and what it has done.
 * Routes are objects apart from the connections, as in OpenSMTPD's mta:
 * the policy here, the mechanics there.
 *
 * The policy (README, "Several relays"):
 * - Priority: only the routes of the lowest priority that are up and have
 *   quota left take recipients; higher ones only when those are down or
 *   out of quota.
 * - Weight: among those, stride scheduling: a route's pass grows by
 *   1/weight for each recipient it takes, and a route may take one only
 *   while its pass is not above the lowest pass of the routes that keep
 *   their turn (pool_keeps_turn).  A route that is busy keeps it: its
 *   connections will free up, and the others wait for it, so shares
 *   follow the weights.  One that is paced (its `rate`), held after a
 *   throttle, or whose connections are all backing off does not hold the
 *   others back: it takes what it can and the others the rest.
 * - Quota: a relay's N per period, counted from the journal's rows of that
 *   relay across runs (journal_sent_since_relay) plus what this run has
 *   sent or has in flight on it.  The one relay of an old-style config
 *   ("default") counts every row, as its `rate: N/day` always did.
 * - Health: a relay whose connections keep failing (pool_unreachable:
 *   unreachable, AUTH refused, TLS refused) is down for 30 s, doubling up
 *   to 5 min, then tried again (its next connection is the probe); its
 *   recipients go back to the queue for the others.  Coming back, its pass
 *   starts at the others' lowest, so it does not take everything to catch
 *   up.
 * - A deferred recipient is retried on another relay when one is
 *   eligible; a 5xx is final (the run never shops a 550 around).
 *
 * Ownership: struct routes is the run's; each route borrows its pool and
 * its relay settings, which outlive it.
 */
#ifndef NL_SEND_ROUTE_H
#define NL_SEND_ROUTE_H

#include "send/deliver.h"
#include "send/pool.h"

#define ROUTE_DOWN_FIRST 30.0	/* seconds down, doubling */
#define ROUTE_DOWN_MAX 300.0

struct route {
	struct deliver_relay r;		/* the settings */
	struct pool *p;
	struct deliver_relay_stats *st;	/* in the run's deliver_stats */
	double pass;
	int global_window;	/* the quota counts every relay's rows */
	long quota_base;	/* sent in the window before this run */
	unsigned long sent, inflight;
	int down;
	double down_until, down_since, down_for;
};

struct routes {
	struct route v[DELIVER_MAX_RELAYS];
	int n;
};

/* Has route i quota left for one more? */
int route_quota_left(const struct routes *rs, int i);
/* May route i take a recipient now (up, its priority's turn, quota,
 * its stride turn)? */
int route_may_take(const struct routes *rs, int i, double now);
/* Is a route other than i eligible (for a retry elsewhere)? */
int route_other(const struct routes *rs, int i);
void route_took(struct routes *rs, int i);
/* One of route i's recipients ended (sent: counted against its quota). */
void route_ended(struct routes *rs, int i, int sent);
/* Down (why) and back up, as the health rule says; 1 when a route went
 * down now. */
void route_down(struct routes *rs, int i, double now, const char *why);
int route_check(struct routes *rs, double now);
/* No route can take anything ever again in this run: all down for good
 * is not a state; all out of quota is. */
int routes_quota_gone(const struct routes *rs);
int routes_all_down(const struct routes *rs);
/* Every route that has quota left is down (and one has): nothing can be
 * sent until one comes back, and the run stops instead of waiting. */
int routes_usable_down(const struct routes *rs);
/* At the end: the time each was down into its stats. */
void routes_finish(struct routes *rs, double now);

#endif
