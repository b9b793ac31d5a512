/*
 * campaign.h - the one composition path: an issue file, the config and the
 * run's options in; per recipient, a complete message (or, for previews
 * and --check, the two rendered parts) out.  Dry runs, real sends, previews
 * and checks all go through here, so what the preview shows is what is
 * sent (architecture.md).
 *
 * campaign_open() does everything that is the same for every recipient
 * once: load and validate the issue, render markdown, count words, build
 * the template context, specialise the templates so that only the
 * per-recipient holes remain, load and encode embedded images, and
 * prepare the MIME skeleton.  campaign_compose() then costs one pass over
 * the pre-encoded bytes plus the holes.
 *
 * Ownership: the campaign borrows cfg (which must outlive it) and owns the
 * rest.  Not thread-safe: per-recipient scratch space lives inside.
 * Errors: as the stages report them (NL_EDATA, NL_ENOINPUT, NL_ENOMEM...).
 */
#ifndef NL_CAMPAIGN_H
#define NL_CAMPAIGN_H

#include <stdbool.h>

#include "cli/config.h"
#include "compose/compose.h"
#include "lists/list.h"
#include "util/buf.h"
#include "util/err.h"

enum campaign_images {
	CAMPAIGN_IMAGES_MESSAGE,	/* embed local images, or link them under
					   image_base_url unless embed_images */
	CAMPAIGN_IMAGES_PREVIEW		/* link local images as file:// URLs */
};

struct campaign_opts {
	enum campaign_images images;
	bool embed_images;
	long long now;			/* Unix time for the Date header */
	const char *state_path;		/* the unsubscribe key lives beside it */
	bool collect_warnings;		/* for --check */
};

struct campaign;

int campaign_open(const char *issue_path, const struct config *cfg,
		  const struct campaign_opts *o, struct campaign **out,
		  struct nl_err *err);
void campaign_close(struct campaign *c);

/* Append the complete message for s (CRLF, RFC 5322) to out. */
int campaign_compose(struct campaign *c, const struct subscriber *s,
		     struct buf *out, struct nl_err *err);
/* Append the rendered HTML and text parts for s (before any transfer
 * encoding); either buffer may be NULL. */
int campaign_render(struct campaign *c, const struct subscriber *s,
		    struct buf *html, struct buf *text, struct nl_err *err);

const struct composed *campaign_composed(const struct campaign *c);
const struct issue *campaign_issue(const struct campaign *c);
const char *campaign_id(const struct campaign *c);
const char *campaign_from_email(const struct campaign *c);
/* The envelope sender: return_path from the config, else the From. */
const char *campaign_return_path(const struct campaign *c);
bool campaign_has_https_unsubscribe(const struct campaign *c);

/* Warnings gathered while opening (only with collect_warnings): one
 * message each, without the "warning: " prefix. */
size_t campaign_nwarnings(const struct campaign *c);
const char *campaign_warning(const struct campaign *c, size_t i);
int campaign_warn(struct campaign *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The campaign id (the journal's key) of a loaded issue: `id:`, else the
 * newsletter's slug and the date ("axios-china-2020-09-15").  Appends. */
int campaign_id_of(const struct issue *is, struct buf *out);

/* "axios-china": lowercase ASCII letters and digits, every other run one
 * hyphen, none at the ends (issue-format.md, List-Id). */
int slugify(struct buf *out, const char *s);

#endif
