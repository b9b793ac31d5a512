/*
 * yamlread.h - read a small, schema-checked YAML file with libyaml's event
 * API, every error naming FILE:LINE:COL.  Shared by compose/issue.c (the
 * issue file) and cli/config.c (the configuration).
 *
 * Why events and not libyaml's document loader: the loader expands aliases
 * (a "billion laughs" file of a few hundred bytes becomes gigabytes) and
 * builds a tree of everything, wanted or not.  Here the caller walks the
 * events along its schema and stops at the first thing it does not expect,
 * so memory is bounded by the file size and nesting never goes deeper than
 * the schema.  Anchors and aliases are rejected outright.
 *
 * Positions are 1-based, lines and columns as libyaml counts them: a line
 * ends at LF, CR, CRLF, NEL (U+0085), LS or PS (U+2028/9); a column counts
 * code points, not bytes; a UTF-8 byte order mark takes no column.
 *
 * Errors: every function returns 0 (or a documented positive value) on
 * success and -1 on failure, with the error in the struct nl_err given to
 * yr_open.  Errors about the content carry the kind given to yr_open
 * (NL_EDATA for an issue, NL_ECONFIG for the configuration); a file that
 * cannot be opened or read is NL_ENOINPUT "PATH: strerror"; out of memory
 * is NL_ENOMEM.
 *
 * Values: scalars of every style are strings.  A plain scalar that YAML
 * calls null (empty, "~", "null", "Null", "NULL", with no explicit tag)
 * reads as NULL.  Tags are otherwise ignored.  A NUL character in a value
 * (possible through a "\0" escape) is an error: values are C strings and a
 * NUL would silently cut them.
 *
 * Usage:
 *	struct yr y;
 *	if (yr_open(&y, path, max, NL_EDATA, NULL, err)) goto out;
 *	r = yr_begin(&y, &empty);           // root mapping start is current
 *	while ((r = yr_key(&y, names, n, seen, "", &i, &kpos)) == 0)
 *		... yr_string(&y, names[i], "", &val, &vpos) ...
 *	if (r < 0) goto out;
 *	r = yr_end(&y);
 *   out:
 *	yr_close(&y);                       // always, even after a failed open
 */
#ifndef NL_YAMLREAD_H
#define NL_YAMLREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <yaml.h>

#include "util/err.h"

struct yr_pos {
	unsigned long line, col;	/* 1-based; 0 = none */
};

struct yr {
	yaml_parser_t parser;
	yaml_event_t ev;	/* the current event, after yr_next() */
	bool have_ev;
	bool have_parser;
	const char *file;	/* as given, for messages; not owned */
	char *data;		/* the file's bytes, owned */
	size_t len;
	enum nl_errkind kind;	/* kind of content errors */
	struct nl_err *err;
};

/*
 * Read the file at path (at most max bytes: more is a `kind` error naming
 * the limit), check that it is UTF-8 (RFC 3629; the error gives the line,
 * column and byte offset of the first bad byte) and get ready to parse.
 * st, when not NULL, receives fstat() of the opened file (so a permission
 * check sees the very file that was read).  path is kept, not copied: it
 * must outlive y.  Call yr_close() even when this fails.
 */
int yr_open(struct yr *y, const char *path, size_t max, enum nl_errkind kind,
	    struct stat *st, struct nl_err *err);

/* Free everything; safe on a zeroed or partly opened struct yr. */
void yr_close(struct yr *y);

/*
 * Next event into y->ev.  Parse errors carry libyaml's problem and mark,
 * except for a construct that runs away (an unclosed quote or flow
 * collection, a simple key without ':'), which is reported where it
 * starts: the place an editor has to fix.  Aliases and anchors are errors.
 */
int yr_next(struct yr *y);

/* Position of the current event's start. */
struct yr_pos yr_here(const struct yr *y);

/* Set a content error at pos (kind as given to yr_open); returns -1. */
int yr_err(struct yr *y, struct yr_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Start the single document; its root must be a mapping, whose start is
 * then the current event.  A stream with no document, or whose root is
 * null (only comments, or a bare "---"), sets *empty and consumes the
 * stream (returns 0; yr_end() must not be called then).
 */
int yr_begin(struct yr *y, bool *empty);

/* After the root mapping's end: the document must end and be the only
 * one ("more than one YAML document" at the second one's start). */
int yr_end(struct yr *y);

/*
 * Inside a mapping: read the next key, which must be one of names[0..n).
 * Returns 0 with *idx and *pos (the key's position) set, 1 at the end of
 * the mapping, -1 on error: a key that is not a scalar, an unknown key
 * ("unknown key 'titel'" + where) or one seen before (seen[] holds the
 * first position of each name; the caller zeroes it per mapping).
 * `where` is appended to messages, e.g. " in section 2" (may be "").
 */
int yr_key(struct yr *y, const char *const names[], size_t n,
	   struct yr_pos seen[], const char *where, size_t *idx,
	   struct yr_pos *pos);

/*
 * Read the value of `key` as a string: *out is malloc'ed (caller frees),
 * or NULL for a null scalar; *pos is the value's position.  A mapping or a
 * list is an error at its position ("'key' must be a string, not a list").
 */
int yr_string(struct yr *y, const char *key, const char *where, char **out,
	      struct yr_pos *pos);
/* The same, for a scalar that the caller converts: `noun` names what it
 * must be in the message ("'words' must be a whole number, not a list"). */
int yr_scalar(struct yr *y, const char *key, const char *where,
	      const char *noun, char **out, struct yr_pos *pos);

/* Read the value of `key`, which must start a mapping (type
 * YAML_MAPPING_START_EVENT) or a list (YAML_SEQUENCE_START_EVENT).
 * Returns 0 when it does, 1 (without error) for a null scalar, -1 with
 * "'key' must be a mapping|list, not a ..." otherwise.  *pos: the value. */
int yr_start(struct yr *y, yaml_event_type_t type, const char *key,
	     const char *where, struct yr_pos *pos);

/* "a string", "a list", "a mapping" for the current event (for messages). */
const char *yr_what(const struct yr *y);

/* Error unless s is one line: CR or LF in a value that ends up in a mail
 * header would start a new header (RFC 5322 section 2.2). */
int yr_one_line(struct yr *y, const char *key, const char *where,
		const char *s, struct yr_pos pos);

/* Parse a decimal integer ([+-]digits, nothing else).  Returns 0, or -1
 * when s is not one, or -2 when it does not fit a long. */
int yr_parse_long(const char *s, long *out);

/* Position of byte offset off in data[0..len) (off <= len), counted the
 * way libyaml counts (see above). */
struct yr_pos yr_pos_of_offset(const char *data, size_t len, size_t off);

#endif
