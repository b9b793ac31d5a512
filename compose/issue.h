/*
 * issue.h - load and validate an issue file (issue.yaml), as
 * nlsend-issue(5) describes it, into a plain model.
 *
 * Only the file's own rules are checked here: keys, types, required keys,
 * dates and the schedule, one-line header values.  Addresses (`from`,
 * `reply_to`) are kept as written and parsed elsewhere (mime/, with
 * libetpan); markdown is kept as written and rendered by the composer.
 *
 * Errors (struct nl_err, "FILE:LINE:COL: message", FILE as given):
 *  - NL_ENOINPUT  "PATH: No such file or directory" (or the strerror of
 *                 whatever kept the file from being read; no position);
 *  - NL_EDATA     everything else: over ISSUE_MAX_BYTES ("PATH: file is
 *                 larger than the 16 MiB limit"), invalid UTF-8 ("invalid
 *                 UTF-8 (byte offset N)", 0-based), malformed YAML
 *                 (libyaml's problem; an unclosed quote or flow collection
 *                 at the line where it starts), anchors and aliases
 *                 ("aliases are not supported"), more than one document,
 *                 unknown and duplicate keys (at the key), wrong types
 *                 and bad values (at the value), missing required keys (at
 *                 the enclosing mapping), "no sections";
 *  - NL_ENOMEM    out of memory.
 * Sections are named by their 1-based number ("unknown key 'titel' in
 * section 2").
 *
 * Values: every scalar style is a string (a plain `2020` is "2020").  An
 * optional key given an empty value (`subject:`, `subject: ""`, `~`) is
 * the same as an absent one.  A required string that is empty or only
 * white space is an error.  No value may hold a NUL character.
 *
 * Header-bound values must be one line (no CR or LF), since a line break
 * there would start a new mail header (RFC 5322 section 2.2): newsletter,
 * subject, preheader, author, from, reply_to, id, and - when `subject` is
 * absent and so defaults to "<newsletter>: <first title>" - the first
 * section's title.  A folded (`>`) or literal (`|`) block keeps its final
 * line break, so such a value is refused: write it on one line (or `>-`).
 *
 * Ownership: issue_load() gives the caller a struct issue that owns every
 * string in it; issue_free() frees it all.  Strings are NUL-terminated,
 * UTF-8, as YAML decoded them (markdown is not trimmed).
 */
#ifndef NL_ISSUE_H
#define NL_ISSUE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* An issue file larger than this is refused. */
#define ISSUE_MAX_BYTES ((size_t)16 << 20)
/* And so is an issue with more sections: far beyond any newsletter, and it
 * keeps a hostile file from making a huge model. */
#define ISSUE_MAX_SECTIONS 1000
#define ISSUE_DEFAULT_WPM 250

struct issue_pos {
	unsigned long line, col;	/* 1-based, of the value; 0 = absent */
};

struct issue_image {
	char *src;		/* required: a URL or a path relative to the
				 * issue file's directory (see issue.dir) */
	char *alt, *credit, *href;	/* NULL when absent */
	struct issue_pos pos;		/* the image mapping */
	struct issue_pos src_pos;
};

struct issue_section {
	char *title;		/* required */
	char *label;		/* NULL when absent */
	char *body;		/* required; markdown */
	struct issue_image *image;	/* NULL if none */
	struct issue_pos pos;		/* the section mapping */
	struct issue_pos title_pos, body_pos;
	struct issue_pos label_pos;	/* 0 when absent */
};

struct issue {
	char *path;		/* as given */
	char *dir;		/* directory of the file, for relative image
				 * paths: "." when path has no '/' */
	/* NULL when absent; newsletter and date never are. */
	char *newsletter, *date /* "YYYY-MM-DD" */, *subject, *preheader,
	     *author, *from, *reply_to, *intro, *outro,
	     *tmpl /* `template:` */, *id;
	int year, month, day;		/* of date */
	long words;			/* -1 when absent */
	long wpm;			/* ISSUE_DEFAULT_WPM when absent */
	bool has_schedule;
	long long schedule;		/* Unix time (UTC) */
	struct issue_section *sections;	/* at least one */
	size_t nsections;
	struct issue_pos newsletter_pos, subject_pos, from_pos, reply_to_pos,
			 date_pos, schedule_pos, id_pos;
	/* Also kept, for warnings that point at the file; 0 when absent. */
	struct issue_pos words_pos, wpm_pos, tmpl_pos, preheader_pos,
			 author_pos, intro_pos, outro_pos, sections_pos;
};

/* Load and validate the issue at path.  On success *out is the caller's
 * (issue_free); on failure *out is NULL and err says why. */
int issue_load(const char *path, struct issue **out, struct nl_err *err);

/* Free an issue and everything it owns; NULL is fine. */
void issue_free(struct issue *is);

/*
 * The subject line: `subject`, or the default "<newsletter>: <title of
 * the first section>".  Returns a malloc'ed string (caller frees), NULL
 * only when out of memory.
 */
char *issue_subject(const struct issue *is);

/*
 * Parse an ISO 8601 timestamp with a UTC offset into Unix time:
 *   YYYY-MM-DD(T|t|space)HH:MM[:SS[.fraction]](Z|z|+HH:MM|-HH:MM|+HHMM|+HH)
 * e.g. 2020-09-15T06:00:00-04:00 -> 1600164000.  The fraction is dropped
 * (rounded down).  Returns 0, or -1 when s is not such a timestamp, or -2
 * when it is one but lacks the offset (a local time would mean something
 * different on every machine).  Also for NLSEND_NOW.
 */
int issue_parse_time(const char *s, long long *out);

/* Check a calendar date "YYYY-MM-DD" (Gregorian, years 0001-9999, a real
 * day: no 2021-02-29).  Returns 0 and the parts, or -1. */
int issue_parse_date(const char *s, int *year, int *month, int *day);

#endif
