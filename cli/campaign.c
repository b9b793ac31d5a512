#include "cli/campaign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lists/address.h"
#include "util/path.h"
#include "util/utf8.h"
#include "mime/message.h"
#include "mime/sniff.h"
#include "mime/unsub.h"
#include "state/key.h"
#include "templates/context.h"
#include "templates/mustache.h"
#include "templates/tplset.h"

/* Largest image embedded in a message (issue 7: limits are enforced and
 * named): a newsletter image over this belongs on a web server. */
#define IMAGE_MAX_BYTES ((size_t)5 << 20)
/* Gmail clips messages whose HTML passes about 102 KB. */
#define GMAIL_CLIP_BYTES ((size_t)102 * 1024)
#define MAX_WARNINGS 200

/* Adapts a specialised template to mime/'s part source. */
struct part {
	struct mst *res;
	const struct tv *root;
	enum mst_escape esc;
};

struct campaign {
	const struct config *cfg;
	struct campaign_opts opts;
	struct issue *issue;
	struct composed *comp;
	struct tplset *tpl;
	struct tv_arena arena;		/* the issue context */
	struct tv *root;
	struct part html, text;
	struct msg_tmpl *msg;
	char *from, *from_name, *from_email, *from_domain;
	char *list_id, *id;
	struct mst *unsub_tmpl;		/* config unsubscribe_url, or NULL */
	char *unsub_mailto;		/* address the mailto: goes to */
	char *secret;
	size_t secretlen;
	char **image_urls;		/* per section */
	struct msg_image *images;
	unsigned char **image_data;
	char **image_cids;
	size_t nimages;
	char **warnings;
	size_t nwarnings;
	/* per-recipient scratch, reused */
	struct tv_arena rarena;
	struct buf token, url, mailto, tmp;
};

int
slugify(struct buf *out, const char *s)
{
	int pending = 0, any = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    (ch >= 'A' && ch <= 'Z')) {
			if (pending && any && buf_addc(out, '-'))
				return -1;
			if (buf_addc(out, (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch)))
				return -1;
			pending = 0;
			any = 1;
		} else {
			pending = 1;
		}
	}
	return 0;
}

int
campaign_id_of(const struct issue *is, struct buf *out)
{
	if (is->id)
		return buf_adds(out, is->id);
	if (slugify(out, is->newsletter) || buf_printf(out, "-%s", is->date))
		return -1;
	return 0;
}

int
campaign_warn(struct campaign *c, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char **w;

	if (!c->opts.collect_warnings || c->nwarnings >= MAX_WARNINGS)
		return 0;
	buf_init(&b, 4096);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap)) {
		va_end(ap);
		buf_free(&b);
		return -1;
	}
	va_end(ap);
	w = realloc(c->warnings, (c->nwarnings + 1) * sizeof *w);
	if (!w) {
		buf_free(&b);
		return -1;
	}
	c->warnings = w;
	c->warnings[c->nwarnings++] = buf_detach(&b, NULL);
	return 0;
}

static int
has_scheme(const char *url)
{
	const char *p = url;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

static int
is_remote(const char *src)
{
	return strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0;
}

/* --check's link warnings, fed by the markdown renderer. */
static void
on_link(void *arg, const struct md_link *l)
{
	struct campaign *c = arg;

	if (l->is_image && (!l->alt || !*l->alt))
		campaign_warn(c, "image without alt text: %s", l->url);
	if (!l->is_image && *l->url && *l->url != '#' && !has_scheme(l->url))
		campaign_warn(c, "link without a scheme: %s (mail clients cannot "
			      "resolve relative links)", l->url);
}

static const char *
part_text(void *arg, size_t i, size_t *len)
{
	struct part *p = arg;

	return mst_text(p->res, i, len);
}

static int
part_render(void *arg, size_t i, const void *ctx, struct buf *out,
	    struct nl_err *err)
{
	struct part *p = arg;
	const struct tv *stack[2];

	stack[0] = p->root;
	stack[1] = ctx;
	return mst_render_item(p->res, i, stack, 2, p->esc, out, err);
}

static int
render_whole(struct part *p, const struct tv *ctx, struct buf *out,
	     struct nl_err *err)
{
	size_t i, n = mst_count(p->res), len;
	const char *s;

	for (i = 0; i < n; i++) {
		s = mst_text(p->res, i, &len);
		if (s) {
			if (buf_add(out, s, len))
				return nl_err_set(err, NL_ENOMEM,
						  "message larger than the buffer cap");
		} else if (part_render(p, i, ctx, out, err)) {
			return -1;
		}
	}
	return 0;
}

/* The unsubscribe key: the config's, else the state's (state/key.h). */
static int
load_secret(struct campaign *c, struct nl_err *err)
{
	if (c->cfg->unsubscribe_secret) {
		c->secret = strdup(c->cfg->unsubscribe_secret);
		c->secretlen = c->secret ? strlen(c->secret) : 0;
		return c->secret ? 0 : nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	return state_key(c->opts.state_path, &c->secret, &c->secretlen, err);
}

static int
read_file(const char *path, size_t max, unsigned char **data, size_t *len,
	  struct nl_err *err)
{
	struct stat st;
	FILE *f;
	int r = -1;

	f = fopen(path, "rb");
	if (!f)
		return 1;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		nl_err_set(err, NL_ENOINPUT, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		nl_err_set(err, NL_EDATA, "%s: image larger than %zu bytes "
			   "(the limit for embedded images)", path, max);
		goto out;
	}
	*data = malloc((size_t)st.st_size + 1);
	if (!*data) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	*len = fread(*data, 1, (size_t)st.st_size, f);
	if (*len != (size_t)st.st_size) {
		nl_err_set(err, NL_ENOINPUT, "%s: read error", path);
		free(*data);
		*data = NULL;
		goto out;
	}
	r = 0;
out:
	fclose(f);
	return r;
}

/* Decide each section image's src (issue-format.md, section.image) and
 * load the ones to embed. */
static int
prepare_images(struct campaign *c, struct nl_err *err)
{
	const struct issue *is = c->issue;
	const struct config *cfg = c->cfg;
	struct buf b;
	size_t i, n = is->nsections;
	int r = -1;

	buf_init(&b, 8192);
	c->image_urls = calloc(n + 1, sizeof *c->image_urls);
	c->images = calloc(n + 1, sizeof *c->images);
	c->image_data = calloc(n + 1, sizeof *c->image_data);
	c->image_cids = calloc(n + 1, sizeof *c->image_cids);
	if (!c->image_urls || !c->images || !c->image_data || !c->image_cids)
		goto nomem;
	for (i = 0; i < n; i++) {
		const struct issue_image *im = is->sections[i].image;
		struct msg_image *mi;
		unsigned char *data = NULL;
		const char *type;
		size_t len = 0;
		int rr;

		if (!im || !im->src)
			continue;
		if (c->opts.collect_warnings && (!im->alt || !*im->alt))
			campaign_warn(c, "section %zu: image without alt text: %s",
				      i + 1, im->src);
		buf_reset(&b);
		if (is_remote(im->src)) {
			if (buf_adds(&b, im->src))
				goto nomem;
		} else if (has_scheme(im->src)) {
			nl_err_at(err, NL_EDATA, is->path, im->src_pos.line,
				  im->src_pos.col, "section %zu: image src '%s': "
				  "only http(s) URLs or local files", i + 1, im->src);
			goto out;
		} else if (c->opts.images == CAMPAIGN_IMAGES_PREVIEW) {
			char *abs;

			if (buf_printf(&b, "%s/%s", is->dir, im->src))
				goto nomem;
			abs = realpath(b.data, NULL);
			if (!abs) {
				nl_err_at(err, NL_ENOINPUT, is->path, im->src_pos.line,
					  im->src_pos.col, "section %zu: image %s: %s",
					  i + 1, im->src, strerror(errno));
				goto out;
			}
			buf_reset(&b);
			rr = buf_adds(&b, "file://") || buf_adds(&b, abs);
			free(abs);
			if (rr)
				goto nomem;
		} else if (cfg->image_base_url && !c->opts.embed_images) {
			size_t bl = strlen(cfg->image_base_url);

			if (buf_adds(&b, cfg->image_base_url) ||
			    (bl && cfg->image_base_url[bl - 1] != '/' && buf_addc(&b, '/')) ||
			    buf_adds(&b, im->src[0] == '/' ? im->src + 1 : im->src))
				goto nomem;
		} else {
			if (buf_printf(&b, "%s/%s", is->dir, im->src))
				goto nomem;
			rr = read_file(b.data, IMAGE_MAX_BYTES, &data, &len, err);
			if (rr == 1) {
				nl_err_at(err, NL_ENOINPUT, is->path, im->src_pos.line,
					  im->src_pos.col, "section %zu: image %s: %s",
					  i + 1, im->src, strerror(errno));
				goto out;
			}
			if (rr)
				goto out;
			type = mime_sniff(data, len);
			if (!type) {
				free(data);
				nl_err_at(err, NL_EDATA, is->path, im->src_pos.line,
					  im->src_pos.col, "section %zu: image %s is not "
					  "PNG, JPEG, GIF or WebP", i + 1, im->src);
				goto out;
			}
			c->image_data[c->nimages] = data;
			buf_reset(&b);
			if (buf_printf(&b, "image%zu.%s@%s", i + 1, c->id,
				       c->from_domain))
				goto nomem;
			c->image_cids[c->nimages] = strdup(b.data);
			if (!c->image_cids[c->nimages])
				goto nomem;
			mi = &c->images[c->nimages];
			mi->cid = c->image_cids[c->nimages];
			mi->content_type = type;
			mi->filename = strrchr(im->src, '/') ? strrchr(im->src, '/') + 1
							      : im->src;
			mi->data = data;
			mi->len = len;
			c->nimages++;
			buf_reset(&b);
			if (buf_printf(&b, "cid:%s", mi->cid))
				goto nomem;
		}
		c->image_urls[i] = strdup(b.data);
		if (!c->image_urls[i])
			goto nomem;
	}
	r = 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory preparing images");
out:
	buf_free(&b);
	return r;
}

/* From, List-Id, campaign id: the config fills what the issue leaves out
 * (cli.md, Configuration). */
static int
identities(struct campaign *c, struct nl_err *err)
{
	const struct issue *is = c->issue;
	const char *from = is->from ? is->from : c->cfg->from;
	char why[128], *at;
	struct buf b;
	int r = -1;

	buf_init(&b, 4096);
	if (!from)
		return nl_err_at(err, NL_EDATA, is->path, 0, 0,
				 "no 'from' address: set from: in the issue or the config");
	if (addr_parse_mailbox(from, &c->from_name, &c->from_email, why, sizeof why)) {
		if (is->from)
			nl_err_at(err, NL_EDATA, is->path, is->from_pos.line,
				  is->from_pos.col, "from: %s", why);
		else
			nl_err_at(err, NL_ECONFIG, c->cfg->path ? c->cfg->path : "config",
				  0, 0, "from: %s", why);
		goto out;
	}
	if (is->reply_to) {
		char *n = NULL, *a = NULL;
		int bad = addr_parse_mailbox(is->reply_to, &n, &a, why, sizeof why);

		free(n);
		free(a);
		if (bad) {
			nl_err_at(err, NL_EDATA, is->path, is->reply_to_pos.line,
				  is->reply_to_pos.col, "reply_to: %s", why);
			goto out;
		}
	}
	c->from = strdup(from);
	at = strrchr(c->from_email, '@');
	c->from_domain = strdup(at ? at + 1 : "localhost");
	if (!c->from || !c->from_domain)
		goto nomem;
	if (campaign_id_of(is, &b))
		goto nomem;
	c->id = buf_detach(&b, NULL);
	if (c->cfg->list_id) {
		c->list_id = strdup(c->cfg->list_id);
	} else {
		if (slugify(&b, is->newsletter) ||
		    buf_printf(&b, ".%s", c->from_domain))
			goto nomem;
		c->list_id = buf_detach(&b, NULL);
	}
	c->unsub_mailto = strdup(c->cfg->unsubscribe_mailto ?
				 c->cfg->unsubscribe_mailto : c->from_email);
	if (!c->id || !c->list_id || !c->unsub_mailto)
		goto nomem;
	if (c->cfg->unsubscribe_url) {
		if (mst_compile(c->cfg->unsubscribe_url, strlen(c->cfg->unsubscribe_url),
				"config:unsubscribe_url", NULL, NULL,
				&c->unsub_tmpl, err))
			goto out;
		if (strncmp(c->cfg->unsubscribe_url, "https://", 8) != 0)
			campaign_warn(c, "unsubscribe_url is not https: bulk senders "
				      "need an https one-click URL (RFC 8058)");
	} else {
		campaign_warn(c, "no unsubscribe_url in the config: List-Unsubscribe "
			      "is mailto only; bulk senders need an https one-click "
			      "URL (RFC 8058)");
	}
	r = 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory");
out:
	buf_free(&b);
	return r;
}

bool
campaign_has_https_unsubscribe(const struct campaign *c)
{
	return c->cfg->unsubscribe_url &&
	       strncmp(c->cfg->unsubscribe_url, "https://", 8) == 0;
}

int
campaign_open(const char *issue_path, const struct config *cfg,
	      const struct campaign_opts *o, struct campaign **out,
	      struct nl_err *err)
{
	struct campaign *c;
	struct tpl_info info;
	struct msg_spec spec;
	const struct tv *stack[1];
	size_t sublen;
	int r = -1;

	c = calloc(1, sizeof *c);
	if (!c)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	c->cfg = cfg;
	c->opts = *o;
	tv_arena_init(&c->arena, 0);
	tv_arena_init(&c->rarena, 0);
	buf_init(&c->token, 4096);
	buf_init(&c->url, 8192);
	buf_init(&c->mailto, 8192);
	buf_init(&c->tmp, 8192);
	if (issue_load(issue_path, &c->issue, err) ||
	    compose_issue(c->issue, o->collect_warnings ? on_link : NULL, c,
			  &c->comp, err) ||
	    identities(c, err) || load_secret(c, err) || prepare_images(c, err))
		goto out;
	sublen = utf8_length(c->comp->subject, strlen(c->comp->subject));
	if (sublen > 78)
		campaign_warn(c, "subject is %zu characters; mail clients cut it "
			      "near 78 (RFC 5322 section 2.1.1 line length)", sublen);
	if (tplset_load(c->issue->tmpl, c->issue->dir, cfg->template_dir,
			&c->tpl, err))
		goto out;
	info.c = c->comp;
	info.from_name = c->from_name;
	info.from_email = c->from_email;
	info.image_urls = (const char *const *)c->image_urls;
	if (tpl_context(&c->arena, &info, &c->root, err))
		goto out;
	stack[0] = c->root;
	if (mst_specialize(c->tpl->html, stack, 1, MST_ESCAPE_HTML, tpl_is_late,
			   &c->html.res, err) ||
	    mst_specialize(c->tpl->text, stack, 1, MST_ESCAPE_NONE, tpl_is_late,
			   &c->text.res, err))
		goto out;
	c->html.root = c->text.root = c->root;
	c->html.esc = MST_ESCAPE_HTML;
	c->text.esc = MST_ESCAPE_NONE;
	if (o->images == CAMPAIGN_IMAGES_MESSAGE) {
		memset(&spec, 0, sizeof spec);
		spec.from = c->from;
		spec.reply_to = c->issue->reply_to;
		spec.subject = c->comp->subject;
		spec.date = o->now;
		spec.list_name = c->issue->newsletter;
		spec.list_id = c->list_id;
		spec.campaign_id = c->id;
		spec.one_click = campaign_has_https_unsubscribe(c);
		spec.text.n = mst_count(c->text.res);
		spec.text.text = part_text;
		spec.text.render = part_render;
		spec.text.arg = &c->text;
		spec.html.n = mst_count(c->html.res);
		spec.html.text = part_text;
		spec.html.render = part_render;
		spec.html.arg = &c->html;
		spec.images = c->images;
		spec.nimages = c->nimages;
		if (msg_prepare(&spec, &c->msg, err))
			goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	campaign_close(c);
	return r;
}

void
campaign_close(struct campaign *c)
{
	size_t i;

	if (!c)
		return;
	msg_tmpl_free(c->msg);
	mst_free(c->html.res);
	mst_free(c->text.res);
	mst_free(c->unsub_tmpl);
	tplset_free(c->tpl);
	tv_arena_free(&c->arena);
	tv_arena_free(&c->rarena);
	if (c->image_urls)
		for (i = 0; c->issue && i < c->issue->nsections; i++)
			free(c->image_urls[i]);
	for (i = 0; i < c->nimages; i++) {
		free(c->image_data[i]);
		free(c->image_cids[i]);
	}
	free(c->image_urls);
	free(c->images);
	free(c->image_data);
	free(c->image_cids);
	for (i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	composed_free(c->comp);
	issue_free(c->issue);
	free(c->from);
	free(c->from_name);
	free(c->from_email);
	free(c->from_domain);
	free(c->list_id);
	free(c->id);
	free(c->unsub_mailto);
	free(c->secret);
	buf_free(&c->token);
	buf_free(&c->url);
	buf_free(&c->mailto);
	buf_free(&c->tmp);
	free(c);
}

/* Per recipient: the token, the URL and mailto, and the recipient map. */
static int
recipient(struct campaign *c, const struct subscriber *s, struct tv **map,
	  struct nl_err *err)
{
	struct tv *m;
	const struct tv *stack[1];

	tv_arena_reset(&c->rarena);
	buf_reset(&c->token);
	buf_reset(&c->url);
	buf_reset(&c->mailto);
	if (unsub_token(c->secret, c->secretlen, c->list_id, s->email, &c->token))
		goto nomem;
	if (c->unsub_tmpl) {
		m = tv_map(&c->rarena);
		if (!m || tv_map_set(&c->rarena, m, "token",
				     tv_strref(&c->rarena, c->token.data, c->token.len)) ||
		    tv_map_sets(&c->rarena, m, "list_id", c->list_id))
			goto nomem;
		stack[0] = m;
		if (mst_render(c->unsub_tmpl, stack, 1, MST_ESCAPE_NONE, &c->url, err))
			return -1;
	}
	if (buf_adds(&c->mailto, "mailto:") ||
	    buf_adds(&c->mailto, c->unsub_mailto) ||
	    buf_adds(&c->mailto, "?subject=unsubscribe%20") ||
	    buf_add(&c->mailto, c->token.data, c->token.len))
		goto nomem;
	return tpl_recipient(&c->rarena, s,
			     c->url.len ? c->url.data : c->mailto.data, map, err);
nomem:
	return nl_err_set(err, NL_ENOMEM, "out of memory");
}

int
campaign_compose(struct campaign *c, const struct subscriber *s,
		 struct buf *out, struct nl_err *err)
{
	struct msg_rcpt r;
	struct tv *map;

	if (!c->msg)
		return nl_err_set(err, NL_EINTERNAL, "campaign opened for previews");
	if (recipient(c, s, &map, err))
		return -1;
	r.email = s->email;
	r.name = s->name ? s->name : "";
	r.unsub_url = c->url.len ? c->url.data : NULL;
	r.unsub_mailto = c->mailto.data;
	r.ctx = map;
	return msg_compose(c->msg, &r, out, err);
}

int
campaign_render(struct campaign *c, const struct subscriber *s,
		struct buf *html, struct buf *text, struct nl_err *err)
{
	struct tv *map;

	if (recipient(c, s, &map, err))
		return -1;
	if (html && render_whole(&c->html, map, html, err))
		return -1;
	if (text && render_whole(&c->text, map, text, err))
		return -1;
	if (html && c->opts.collect_warnings && html->len > GMAIL_CLIP_BYTES)
		campaign_warn(c, "the HTML part is %zu bytes: Gmail clips messages "
			      "over 102 KB", html->len);
	return 0;
}

const struct composed *campaign_composed(const struct campaign *c) { return c->comp; }
const struct issue *campaign_issue(const struct campaign *c) { return c->issue; }
const char *campaign_id(const struct campaign *c) { return c->id; }
const char *campaign_from_email(const struct campaign *c) { return c->from_email; }

const char *
campaign_return_path(const struct campaign *c)
{
	return c->cfg->return_path ? c->cfg->return_path : c->from_email;
}

size_t campaign_nwarnings(const struct campaign *c) { return c->nwarnings; }
const char *campaign_warning(const struct campaign *c, size_t i) { return c->warnings[i]; }
