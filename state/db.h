/*
 * db.h - the state database: the one SQLite file in which nlsend keeps
 * what it must remember between runs (default
 * $XDG_STATE_HOME/nlsend/state.db).  This module owns the file: where it
 * lives, its mode, its pragmas and its schema.  The tables belong to the
 * modules beside it (journal.h: delivery, issue_done; suppress.h:
 * suppression); each module prepares its own statements on the handle
 * that state_db() gives.  Nothing outside state/ includes <sqlite3.h>.
 *
 * Schema versions (PRAGMA user_version) and migrations: every version is
 * one entry of the migration table in db.c, applied in order, each in one
 * transaction together with its version bump, so that a database made by
 * any earlier release opens and is brought up to date, and a crash half
 * way through a migration leaves the previous version intact.  A new table
 * (bounce events, relays) is a new entry at the end; an entry is never
 * edited once released.  Version 0 is the database of releases before
 * versioning: its tables, where present, are those of version 1.
 * PRAGMA application_id marks the file as nlsend's (STATE_APP_ID).
 *
 * Refused, never taken for an empty state (which would send to everyone
 * again): a file that is not an SQLite database or is shorter than its
 * header says (NL_EIO), another program's database (NL_ECONFIG: marked
 * with another application_id, or unmarked with tables that are not
 * ours), a directory anybody may write to (NL_ECONFIG).  A state file
 * others may read is tightened to 0600, the default state directory to
 * 0700, and that is reported.
 *
 * Modes: STATE_RW creates a missing file (mode 0600 from its first byte,
 * its missing parent directories 0700: it names every subscriber), sets
 * WAL mode with synchronous=NORMAL (a commit survives the death of the
 * process without an fsync per message; journal.h says why that is the
 * trade) and migrates.  STATE_RO (dry runs, checks) never creates or
 * writes: a missing file is no error and gives *out = NULL, which every
 * reader in state/ takes as "nothing recorded".  An RO database of an
 * older version is read as it is (its tables are a subset of today's).
 *
 * Concurrency: one struct state per thread.  Several processes may share
 * the file (a send, a cron run, an unsubscribe server): WAL lets readers
 * and one writer go on together, and a 5 s busy timeout rides over the
 * other writers' commits.
 *
 * Errors: NL_ECANTCREAT (the directory or file cannot be made), NL_EIO
 * (SQLite refuses the file: corrupt, not a database, WAL impossible),
 * NL_ECONFIG (a schema newer than this release knows: an older nlsend
 * must not write into a newer one's database), NL_ENOMEM.  Messages name
 * the file.
 */
#ifndef NL_STATE_DB_H
#define NL_STATE_DB_H

#include <sqlite3.h>

#include "util/err.h"

/* 'nlsd': PRAGMA application_id of every database nlsend makes. */
#define STATE_APP_ID 0x6e6c7364

/* The WAL's auto-checkpoint in pages (db.c says why so many), and the
 * smaller one a nearly full disk gets (journal_space_low). */
#define STATE_WAL_PAGES 8000
#define STATE_WAL_PAGES_TIGHT 256

enum state_mode { STATE_RW, STATE_RO };

struct state;

int state_open(const char *path, enum state_mode mode, struct state **out,
	       struct nl_err *err);
/* Close; NULL is fine.  Statements prepared on the handle must be
 * finalised first (the modules' close functions do). */
void state_close(struct state *st);

/* For the modules of state/ only. */
sqlite3 *state_db(struct state *st);
const char *state_path(const struct state *st);
/* The schema version after open (the latest for STATE_RW). */
int state_version(const struct state *st);
/* The version this release writes. */
int state_latest_version(void);

/* "FILE: WHAT: sqlite's message" as NL_EIO; returns -1. */
int state_dberr(struct state *st, struct nl_err *err, const char *what);

/* A file of the state (the database, its -wal and -shm, the lock, the
 * unsubscribe key) whose mode lets group or others in is made 0600, and
 * that is reported (util/report.h).  Missing: nothing to do. */
int state_tighten_file(const char *path, struct nl_err *err);

/* The path of a file kept beside the database ("DIR/NAME"), appended to
 * out (util/buf.h); -1 when out is full. */
struct buf;
int state_sibling(const char *db_path, const char *name, struct buf *out);

#endif
