/* jopen.h - for the unit tests: a journal together with its state
 * database, opened and closed as one (state/db.h, state/journal.h). */
#ifndef NL_TEST_JOPEN_H
#define NL_TEST_JOPEN_H

#include "state/db.h"
#include "state/journal.h"

#define JOPEN_MAX 64

static struct { struct journal *j; struct state *st; } jopen_open[JOPEN_MAX];

static int
open_journal(const char *path, struct journal **j, struct nl_err *e)
{
	struct state *st = NULL;
	int i;

	*j = NULL;
	if (state_open(path, STATE_RW, &st, e))
		return -1;
	if (journal_open(st, j, e)) {
		state_close(st);
		return -1;
	}
	for (i = 0; i < JOPEN_MAX && jopen_open[i].j; i++)
		;
	if (i < JOPEN_MAX) {
		jopen_open[i].j = *j;
		jopen_open[i].st = st;
	}
	return 0;
}

static void
close_journal(struct journal *j)
{
	int i;

	if (!j)
		return;
	journal_close(j);
	for (i = 0; i < JOPEN_MAX; i++)
		if (jopen_open[i].j == j) {
			state_close(jopen_open[i].st);
			jopen_open[i].j = NULL;
			jopen_open[i].st = NULL;
		}
}

#endif
