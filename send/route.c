/* Which relay takes the next recipient (route.h). */
#include "send/route.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>

#include "util/report.h"

int
route_quota_left(const struct routes *rs, int i)
{
	const struct route *rt = &rs->v[i];
	unsigned long used = rt->sent + rt->inflight;
	int k;

	if (rt->r.quota_count <= 0 || rt->r.quota_seconds <= 0)
		return 1;
	if (rt->global_window)
		for (used = 0, k = 0; k < rs->n; k++)
			used += rs->v[k].sent + rs->v[k].inflight;
	return rt->quota_base + (long)used < rt->r.quota_count;
}

/* The lowest priority among the routes that are up with quota left. */
static int
tier(const struct routes *rs)
{
	int i, t = INT_MAX;

	for (i = 0; i < rs->n; i++)
		if (!rs->v[i].down && route_quota_left(rs, i) &&
		    rs->v[i].r.priority < t)
			t = rs->v[i].r.priority;
	return t;
}

static int
eligible(const struct routes *rs, int i, int t)
{
	return !rs->v[i].down && rs->v[i].r.priority == t &&
	       route_quota_left(rs, i);
}

int
route_other(const struct routes *rs, int i)
{
	int k, t = tier(rs);

	for (k = 0; k < rs->n; k++)
		if (k != i && eligible(rs, k, t))
			return 1;
	return 0;
}

int
route_may_take(const struct routes *rs, int i, double now)
{
	const struct route *rt = &rs->v[i];
	int k, t = tier(rs);

	if (!eligible(rs, i, t))
		return 0;
	if (rs->n == 1)
		return 1;
	/* Stride: not ahead of a route that keeps its turn. */
	for (k = 0; k < rs->n; k++)
		if (k != i && eligible(rs, k, t) && rs->v[k].pass < rt->pass &&
		    pool_keeps_turn(rs->v[k].p, now))
			return 0;
	return 1;
}

void
route_took(struct routes *rs, int i)
{
	struct route *rt = &rs->v[i];

	rt->pass += 1.0 / (rt->r.weight > 0 ? rt->r.weight : 1);
	rt->inflight++;
}

void
route_ended(struct routes *rs, int i, int sent)
{
	struct route *rt = &rs->v[i];

	assert(rt->inflight > 0);
	rt->inflight--;
	if (sent)
		rt->sent++;
}

void
route_down(struct routes *rs, int i, double now, const char *why)
{
	struct route *rt = &rs->v[i];

	if (rt->down)
		return;
	rt->down = 1;
	rt->down_since = now;
	rt->down_for = rt->down_for > 0 ? rt->down_for * 2 : ROUTE_DOWN_FIRST;
	if (rt->down_for > ROUTE_DOWN_MAX)
		rt->down_for = ROUTE_DOWN_MAX;
	rt->down_until = now + rt->down_for;
	snprintf(rt->st->why_down, sizeof rt->st->why_down, "%s", why);
	if (rs->n > 1)
		nl_reportf("relay %s: down for %.0f s (%s); its recipients go to "
			   "the others", rt->r.name, rt->down_for, why);
}

/* Back up: its pass starts at the lowest of those up, so that it does
 * not take everything to catch up. */
static void
route_up(struct routes *rs, int i, double now)
{
	struct route *rt = &rs->v[i];
	double low = -1;
	int k;

	for (k = 0; k < rs->n; k++)
		if (k != i && !rs->v[k].down && (low < 0 || rs->v[k].pass < low))
			low = rs->v[k].pass;
	rt->down = 0;
	rt->st->down_seconds += now - rt->down_since;
	if (low > rt->pass)
		rt->pass = low;
	pool_revive(rt->p);
}

int
route_check(struct routes *rs, double now)
{
	int i, went = 0;

	for (i = 0; i < rs->n; i++) {
		struct route *rt = &rs->v[i];

		if (!rt->down && pool_unreachable(rt->p)) {
			route_down(rs, i, now, rt->p->connfail[0] ?
				   rt->p->connfail : "connections fail");
			went = 1;
		} else if (rt->down && now >= rt->down_until) {
			route_up(rs, i, now);
		}
	}
	return went;
}

int
routes_quota_gone(const struct routes *rs)
{
	int i;

	for (i = 0; i < rs->n; i++)
		if (route_quota_left(rs, i))
			return 0;
	return 1;
}

int
routes_usable_down(const struct routes *rs)
{
	int i, any = 0;

	for (i = 0; i < rs->n; i++) {
		if (!route_quota_left(rs, i))
			continue;
		any = 1;
		if (!rs->v[i].down)
			return 0;
	}
	return any;
}

int
routes_all_down(const struct routes *rs)
{
	int i;

	for (i = 0; i < rs->n; i++)
		if (!rs->v[i].down)
			return 0;
	return 1;
}

void
routes_finish(struct routes *rs, double now)
{
	int i;

	for (i = 0; i < rs->n; i++) {
		struct route *rt = &rs->v[i];

		if (rt->down) {
			rt->st->down_seconds += now - rt->down_since;
			rt->st->down = 1;
		}
		rt->st->throttled = rt->p->st.throttled;
	}
}
