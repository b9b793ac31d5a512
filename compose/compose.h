/*
 * compose.h - what the composer derives from a loaded issue
 * (nlsend-issue(5), "What the composer derives"): markdown rendered once to
 * HTML and text, section numbers and headings, word counts per section and
 * in total, the reading time, the metadata line and the default subject.
 *
 * The result is the issue model every later stage reads; nothing after this
 * re-parses YAML or markdown.  It borrows the struct issue (which must
 * outlive it) and owns everything else; composed_free() releases it.
 *
 * Errors: NL_EDATA for content that cannot be rendered (a header-bound
 * default that holds a line break), NL_ENOMEM.
 */
#ifndef NL_COMPOSE_H
#define NL_COMPOSE_H

#include "compose/issue.h"
#include "compose/markdown.h"
#include "util/buf.h"
#include "util/err.h"

struct composed_section {
	const struct issue_section *src;
	unsigned number;		/* 1..N */
	char *heading;			/* "1 big thing: T" or "2. T" */
	char *heading_text;		/* heading wrapped at 72 for text/plain */
	char *caption_text;		/* "[Image: ALT] CREDIT" wrapped at 72,
					   NULL without an image */
	struct md_out body;
	unsigned long words;		/* label + title + credit + body */
};

struct composed {
	const struct issue *issue;
	struct md_out intro, outro;
	struct composed_section *sections;
	size_t nsections;
	unsigned long words_computed;
	unsigned long words;		/* stated when given, else computed */
	unsigned long minutes;		/* reading time from `words` */
	char *meta_line;		/* "This newsletter is 1,513 words, ..." */
	char *subject;			/* the issue's, or the default */
};

/* cb (may be NULL) sees every link and image of every markdown field. */
int compose_issue(const struct issue *is, md_link_fn cb, void *cb_arg,
		  struct composed **out, struct nl_err *err);
void composed_free(struct composed *c);

/* max(1, round_half_up(words / wpm)) */
unsigned long reading_minutes(unsigned long words, unsigned long wpm);
/* "1,513": digits grouped by commas.  Appends to out. */
int fmt_thousands(struct buf *out, unsigned long n);
/* The metadata line, with "a"/"an" chosen by how the number is spoken. */
int meta_line(struct buf *out, unsigned long words, unsigned long minutes);

#endif
