/*
 * internal.h - internal to campaign/: the state of one campaign, shared by
 * its files (campaign.h says which file does what).  Nothing outside
 * campaign/ includes it.
 */
#ifndef NL_CAMPAIGN_INTERNAL_H
#define NL_CAMPAIGN_INTERNAL_H

#include "campaign/campaign.h"
#include "compose/markdown.h"
#include "mime/message.h"
#include "templates/mustache.h"
#include "templates/tplset.h"
#include "templates/value.h"

/* Largest image embedded in a message: a newsletter image over this
 * belongs on a web server. */
#define CAMPAIGN_IMAGE_MAX ((size_t)5 << 20)
/* Gmail clips messages whose HTML passes about 102 KB. */
#define CAMPAIGN_GMAIL_CLIP ((size_t)102 * 1024)
#define CAMPAIGN_MAX_WARNINGS 200

/* A specialised template adapted to mime/'s part source. */
struct campaign_part {
	struct mst *res;
	const struct tv *root;
	enum mst_escape esc;
};

struct campaign {
	struct campaign_opts opts;
	/* the settings, copied */
	char *origin, *image_base_url, *template_dir, *return_path;
	char *secret;
	size_t secretlen;
	struct issue *issue;
	struct composed *comp;
	struct tplset *tpl;
	struct tv_arena arena;		/* the issue context */
	struct tv *root;
	struct campaign_part html, text;
	struct msg_tmpl *msg;
	/* identity.c */
	char *from, *from_name, *from_email, *from_domain;
	char *list_id, *id;
	struct mst *unsub_tmpl;		/* unsubscribe_url, or NULL */
	int unsub_https;
	char *unsub_mailto;		/* address the mailto: goes to */
	/* assets.c */
	char **image_urls;		/* per section */
	struct msg_image *images;
	unsigned char **image_data;
	char **image_cids;
	size_t nimages;
	/* warn.c */
	char **warnings;
	size_t nwarnings;
	/* recipient.c: per-recipient scratch, reused */
	struct tv_arena rarena;
	struct buf token, url, mailto;
};

/* identity.c */
int campaign_identity(struct campaign *c, const struct campaign_conf *conf,
		      struct nl_err *err);
/* assets.c */
int campaign_images(struct campaign *c, struct nl_err *err);
void campaign_images_free(struct campaign *c);
/* A URL with a scheme ("x:..." per RFC 3986 section 3.1). */
int campaign_has_scheme(const char *url);
/* warn.c: only with collect_warnings; at most CAMPAIGN_MAX_WARNINGS, and
 * none when out of memory (a warning is advice, not the issue). */
void campaign_warn(struct campaign *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void campaign_on_link(void *arg, const struct md_link *l);
/* parts.c */
int campaign_parts(struct campaign *c, struct nl_err *err);
int campaign_part_whole(struct campaign_part *p, const struct tv *ctx,
			struct buf *out, struct nl_err *err);
int campaign_skeleton(struct campaign *c, struct nl_err *err);

#endif
