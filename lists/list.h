/*
 * list.h - reading subscriber lists (nlsend(1), "Lists"): streamed, checked,
 * de-duplicated, several lists merged in --list order.
 *
 * Formats, by file name: "*.csv" (any case of the extension) is CSV,
 * anything else is the txt format.
 *
 * CSV (RFC 4180, read leniently the way spreadsheets write it):
 *   - a header row names the columns; names are trimmed and matched
 *     without case: "email" is required, "name" is the display name, every
 *     other named column is an extra field (its name as written, trimmed);
 *     columns with an empty name are ignored; a name used twice is an
 *     error; blank lines before the header are skipped;
 *   - quoted fields may hold commas, doubled quotes and line breaks (kept
 *     as written); a quote inside an unquoted field is taken literally and
 *     text after a closing quote is appended (as Python's csv module does);
 *     spaces and tabs before an opening quote are dropped (people type
 *     `a@b.c, "Hopper, Grace"`);
 *   - a UTF-8 byte order mark at the start is skipped; lines end in CRLF,
 *     LF or a lone CR; the last line may lack its line end;
 *   - a row with fewer fields than the header has "" for the missing ones;
 *     one with more is skipped ("too many fields (N, the header has M)");
 *   - blank lines and rows whose fields are all empty or white space
 *     (",,," as spreadsheets export them) are skipped silently;
 *   - the email and name fields are trimmed of spaces and tabs; extra
 *     fields are passed as written.
 * txt: one mailbox a line, "addr@domain" or "Name <addr@domain>" (see
 *   addr_parse_mailbox); surrounding white space ignored; blank lines and
 *   lines whose first non-blank character is '#' are skipped.
 * Both: UTF-8.  Column names and the extension are compared in ASCII,
 *   whatever the locale.  A record is at most LIST_ROW_MAX bytes (as in
 *   the file, without its final line end); a longer one is skipped and
 *   reading goes on after it (for CSV: after the end of the record, quotes
 *   honoured).  The CSV reader allocates nothing per row; a txt line with
 *   a display name goes through libetpan, which does.
 *
 * Bad rows are skipped and reported through the warn callback as
 * "FILE:LINE: reason", LINE being where the record starts (a quoted field
 * may span lines).  Reasons:
 *   "'ADDR': <addr_check() reason>"  e.g. "'bob@localhost': no dot in the
 *                          domain" (ADDR quoted as written, control
 *                          characters shown as '?', long ones cut)
 *   "no email address"     (an empty email field)
 *   "email contains a line break", "name contains a line break",
 *   "name contains a control character",
 *   "email contains a NUL byte", "name contains a NUL byte",
 *   "column 'X' contains a NUL byte", "line contains a NUL byte" (txt),
 *   "invalid UTF-8 (byte offset N)"  (N: offset in the file, from 0),
 *   "too many fields (N, the header has M)",
 *   "unterminated quoted field" (a quote still open at the end of file),
 *   "row longer than 65536 bytes",
 *   "'LINE': <addr_parse_mailbox() reason>" (txt).
 *
 * Duplicates: the whole address is compared after ASCII lower-casing
 * (addrset.h says why); the first occurrence in --list order wins, later
 * ones are dropped silently and counted.
 *
 * Streaming: each reader (lists/reader.h: csv.c, txt.c over input.c)
 * holds one record at a time (a fixed LIST_ROW_MAX buffer and, for CSV, a
 * field table that grows to the widest row, both reused); memory grows
 * only with the de-duplication set.  All files are opened, and the CSV
 * headers read, by lists_open(); a file's buffers live until the file is
 * finished.
 */
#ifndef NL_LIST_H
#define NL_LIST_H

#include <stddef.h>

#include "util/err.h"

#define LIST_ROW_MAX 65536

struct subscriber {
	const char *email;	/* checked addr-spec, as written (case kept) */
	const char *name;	/* display name, "" when none */
	size_t nextra;		/* other CSV columns (0 for txt) */
	const char *const *extra_keys;	  /* nextra column names (NULL if 0) */
	const char *const *extra_values;  /* nextra values, "" if missing */
	const char *file;	/* the list's path, as opened */
	unsigned long line;	/* where the record starts (1-based) */
};

/* Called for each skipped row: msg is "FILE:LINE: reason" (no newline),
 * valid during the call only. */
typedef void (*list_warn_fn)(void *arg, const char *msg);

struct lists;	/* a merged reader over several lists */

/*
 * Resolve a --list argument: an existing path (not a directory) as is;
 * else NAME looked up as DIR/NAME.csv then DIR/NAME.txt, where DIR is
 * lists_dir_opt (--lists-dir), else lists_dir_conf (lists_dir in the
 * config), else "./lists" (NULL or "" mean unset).  On success *path is
 * malloc'd (the caller frees it).  Errors: NL_ENOINPUT when nothing
 * matches ("no list 'NAME' (looked for DIR/NAME.csv and DIR/NAME.txt)",
 * or "ARG: No such file or directory" when ARG looks like a path: it has a
 * '/' or ends in .csv or .txt), NL_EUSAGE for an empty argument, NL_ENOMEM.
 */
int list_resolve(const char *arg, const char *lists_dir_opt,
		 const char *lists_dir_conf, char **path, struct nl_err *err);

/*
 * Open n lists (paths as list_resolve gives them) to be read in that
 * order.  Every file is opened now and every CSV header read now, so that
 * a missing file or a bad header stops the run before the first message:
 * NL_ENOINPUT "PATH: strerror" (missing, unreadable, a directory),
 * NL_EDATA "PATH:LINE: no 'email' column" (also "no header row (the file
 * is empty)", "duplicate column 'X'", "header row longer than 65536
 * bytes", "unterminated quoted field in the header row", "invalid UTF-8
 * (byte offset N)", "NUL byte in the header row"), NL_EIO, NL_ENOMEM.
 * warn may be NULL (skipped rows are then only counted).  The paths are
 * copied.  On success *out is to be freed with lists_close().
 */
int lists_open(const char *const *paths, size_t n, list_warn_fn warn,
	       void *warn_arg, struct lists **out, struct nl_err *err);

/*
 * 1: *s holds the next unique valid subscriber; its strings are valid
 * until the next lists_next() or lists_close() (copy what you keep).
 * 0: end of all lists (and on every later call).  -1: fatal, err set:
 * NL_EIO (read error), NL_ENOMEM (also when the de-duplication set reaches
 * its cap, ADDRSET_MAX addresses).  Header errors (NL_EDATA "FILE:1: no
 * 'email' column") are reported by lists_open(), before any row.
 */
int lists_next(struct lists *l, struct subscriber *s, struct nl_err *err);

unsigned long lists_skipped(const struct lists *l);	/* bad rows reported */
unsigned long lists_duplicates(const struct lists *l);	/* dropped */

/* Close every file and free everything; l may be NULL. */
void lists_close(struct lists *l);

#endif
