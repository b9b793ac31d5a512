/* Who a run is for: the --list arguments resolved, read by lists/, the
 * suppression list of state/ as the filter (run.h). */
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "state/db.h"
#include "state/suppress.h"

static void
print_row_warning(void *arg, const char *msg)
{
	(void)arg;
	nl_report(msg);
}

static int
suppressed(void *arg, const char *email, int *yes, struct nl_err *err)
{
	return suppress_has(arg, email, yes, err);
}

int
audience_open(struct run *r, struct state *st, struct audience *a,
	      struct nl_err *err)
{
	return audience_open_warn(r, st, print_row_warning, NULL, a, err);
}

int
audience_open_warn(struct run *r, struct state *st, list_warn_fn warn,
		   void *warn_arg, struct audience *a, struct nl_err *err)
{
	const struct options *o = r->o;
	char **paths;
	size_t i, n = 0;
	int rc = -1;

	memset(a, 0, sizeof *a);
	paths = calloc(o->nlists ? o->nlists : 1, sizeof *paths);
	if (!paths)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	for (i = 0; i < o->nlists; i++, n++)
		if (list_resolve(o->lists[i], o->lists_dir, r->cfg->lists_dir,
				 &paths[i], err))
			goto out;
	if (suppress_open(st, &a->sup, err))
		goto out;
	rc = recipients_open(&a->rc, (const char *const *)paths, n,
			     warn, warn_arg, a->sup ? suppressed : NULL,
			     a->sup, err);
	if (rc == 0 && o->nshards)
		recipients_shard(&a->rc, o->shard, o->nshards);
out:
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	if (rc)
		audience_close(a);
	return rc;
}

int
audience_next(struct audience *a, struct subscriber *s, struct nl_err *err)
{
	return recipients_next(&a->rc, s, err);
}

void
audience_close(struct audience *a)
{
	recipients_close(&a->rc);
	suppress_close(a->sup);
	a->sup = NULL;
}

int
audience_first(struct run *r, struct subscriber **first, unsigned long *n,
	       struct nl_err *err)
{
	struct audience a;
	struct subscriber s;
	struct state *st = NULL;
	int rc;

	*first = NULL;
	*n = 0;
	if (r->o->nlists == 0)
		return 0;
	if (state_open(r->state_path, STATE_RO, &st, err))
		return -1;
	if (audience_open(r, st, &a, err)) {
		state_close(st);
		return -1;
	}
	while ((rc = audience_next(&a, &s, err)) == 1)
		if ((*n)++ == 0 && !(*first = subscriber_copy(&s))) {
			rc = nl_err_set(err, NL_ENOMEM, "out of memory");
			break;
		}
	audience_close(&a);
	state_close(st);
	if (rc < 0) {
		free(*first);
		*first = NULL;
		return -1;
	}
	return 0;
}
