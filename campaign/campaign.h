/*
 * campaign.h - one issue made ready to send: the issue file and the
 * sender's settings in; per recipient, a complete message (or, for
 * previews and checks, the two rendered parts) out.  Dry runs, real
 * sends, previews, checks (and every later writer of an issue: a signer,
 * an archive, a confirmation mail) go through here, so that what the
 * preview shows is what is sent.
 *
 * campaign_open() does everything that is the same for every recipient
 * once, in the jobs of its files:
 *   identity.c  From, Reply-To, the campaign id, List-Id, the unsubscribe
 *               URL template and mailto (nlsend-issue(5), "The message");
 *   assets.c    section images: linked, embedded (read, size-capped,
 *               sniffed) or file:// for previews;
 *   warn.c      what --check tells the editor;
 *   parts.c     the templates specialised for the issue, leaving only the
 *               per-recipient holes, adapted to mime/'s part sources;
 *   recipient.c per recipient: the token, the URLs, the recipient map, the
 *               message or the rendered parts.
 * campaign_compose() then costs one pass over the pre-encoded bytes plus
 * the holes.
 *
 * Ownership: the campaign copies what it keeps of conf (conf may go after
 * campaign_open returns) and owns the rest.  Not thread-safe:
 * per-recipient scratch space lives inside.
 * Errors: as the stages report them: NL_EDATA (the issue, with
 * FILE:LINE:COL), NL_ENOINPUT (a missing image or template), NL_ECONFIG
 * (a bad From or unsubscribe_url in the config), NL_ENOMEM.
 */
#ifndef NL_CAMPAIGN_H
#define NL_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "compose/compose.h"
#include "lists/list.h"
#include "util/buf.h"
#include "util/err.h"

enum campaign_images {
	CAMPAIGN_IMAGES_MESSAGE,	/* embed local images, or link them under
					   image_base_url unless embed_images */
	CAMPAIGN_IMAGES_PREVIEW		/* link local images as file:// URLs */
};

/* The sender's settings that shape a message (the config's keys of the
 * same names; NULL when unset). */
struct campaign_conf {
	const char *from, *return_path, *list_id;
	const char *unsubscribe_url;	/* a Mustache template: {{token}},
					   {{list_id}} */
	const char *unsubscribe_mailto;
	const char *image_base_url, *template_dir;
	const char *origin;		/* where these came from, for
					   messages (the config's path) */
	const char *secret;		/* the unsubscribe key (state/key.h or
					   unsubscribe_secret) */
	size_t secretlen;
};

struct campaign_opts {
	enum campaign_images images;
	bool embed_images;
	long long now;			/* Unix time for the Date header */
	bool collect_warnings;		/* for --check */
};

struct campaign;

int campaign_open(const char *issue_path, const struct campaign_conf *conf,
		  const struct campaign_opts *o, struct campaign **out,
		  struct nl_err *err);
void campaign_close(struct campaign *c);

/* Which DKIM signatures a message carries (a relay may refuse two:
 * Amazon SES answers "554 Duplicate header"). */
enum campaign_sign {
	CAMPAIGN_SIGN_ALL = 0,	/* every key configured */
	CAMPAIGN_SIGN_RSA,	/* the RSA key's only */
	CAMPAIGN_SIGN_NONE	/* none */
};

/* Append the complete message for s (CRLF, RFC 5322) to out, signed as
 * sign says. */
int campaign_compose(struct campaign *c, const struct subscriber *s,
		     enum campaign_sign sign, struct buf *out,
		     struct nl_err *err);
/* Append the rendered HTML and text parts for s (before any transfer
 * encoding); either buffer may be NULL. */
int campaign_render(struct campaign *c, const struct subscriber *s,
		    struct buf *html, struct buf *text, struct nl_err *err);

const struct composed *campaign_composed(const struct campaign *c);
const struct issue *campaign_issue(const struct campaign *c);
const char *campaign_id(const struct campaign *c);
const char *campaign_from_email(const struct campaign *c);
/* The envelope sender: return_path, else the From address. */
const char *campaign_return_path(const struct campaign *c);
bool campaign_has_https_unsubscribe(const struct campaign *c);

/* Warnings gathered while opening and rendering (only with
 * collect_warnings): one message each, without the "warning: " prefix. */
size_t campaign_nwarnings(const struct campaign *c);
const char *campaign_warning(const struct campaign *c, size_t i);

/* The campaign id (the journal's key) of a loaded issue: `id:`, else the
 * newsletter's slug and the date ("axios-china-2020-09-15").  Appends. */
int campaign_id_of(const struct issue *is, struct buf *out);

/* "axios-china": lowercase ASCII letters and digits, every other run one
 * hyphen, none at the ends (nlsend-issue(5), List-Id).  Appends. */
int campaign_slug(struct buf *out, const char *s);

#endif
