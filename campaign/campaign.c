/* Opening and closing a campaign, and what it tells about itself
 * (campaign.h). */
#include "campaign/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* The settings the campaign keeps, copied so that conf may go. */
static int
copy_conf(struct campaign *c, const struct campaign_conf *conf)
{
	static const char none[] = "";

	c->origin = strdup(conf->origin ? conf->origin : "config");
	c->image_base_url = conf->image_base_url ? strdup(conf->image_base_url)
						 : NULL;
	c->template_dir = conf->template_dir ? strdup(conf->template_dir) : NULL;
	c->return_path = conf->return_path ? strdup(conf->return_path) : NULL;
	c->secret = malloc(conf->secretlen + 1);
	if (!c->origin || (conf->image_base_url && !c->image_base_url) ||
	    (conf->template_dir && !c->template_dir) ||
	    (conf->return_path && !c->return_path) || !c->secret)
		return -1;
	memcpy(c->secret, conf->secret ? conf->secret : none, conf->secretlen);
	c->secret[conf->secretlen] = '\0';
	c->secretlen = conf->secretlen;
	return 0;
}

static void
subject_warning(struct campaign *c)
{
	size_t n = utf8_length(c->comp->subject, strlen(c->comp->subject));

	if (n > 78)
		campaign_warn(c, "subject is %zu characters; mail clients cut it "
			      "near 78 (RFC 5322 section 2.1.1 line length)", n);
}

int
campaign_open(const char *issue_path, const struct campaign_conf *conf,
	      const struct campaign_opts *o, struct campaign **out,
	      struct nl_err *err)
{
	struct campaign *c;
	int r = -1;

	*out = NULL;
	c = calloc(1, sizeof *c);
	if (!c)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	c->opts = *o;
	tv_arena_init(&c->arena, 0);
	tv_arena_init(&c->rarena, 0);
	buf_init(&c->token, 4096);
	buf_init(&c->url, 8192);
	buf_init(&c->mailto, 8192);
	if (copy_conf(c, conf)) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	if (issue_load(issue_path, &c->issue, err) ||
	    compose_issue(c->issue, o->collect_warnings ? campaign_on_link : NULL,
			  c, &c->comp, err) ||
	    campaign_identity(c, conf, err) || campaign_images(c, err))
		goto out;
	subject_warning(c);
	if (campaign_parts(c, err))
		goto out;
	if (o->images == CAMPAIGN_IMAGES_MESSAGE && campaign_skeleton(c, err))
		goto out;
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
	campaign_images_free(c);
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
	if (c->secret)
		explicit_bzero(c->secret, c->secretlen);
	free(c->secret);
	free(c->origin);
	free(c->image_base_url);
	free(c->template_dir);
	free(c->return_path);
	buf_free(&c->token);
	buf_free(&c->url);
	buf_free(&c->mailto);
	free(c);
}

const struct composed *
campaign_composed(const struct campaign *c)
{
	return c->comp;
}

const struct issue *
campaign_issue(const struct campaign *c)
{
	return c->issue;
}

const char *
campaign_id(const struct campaign *c)
{
	return c->id;
}

const char *
campaign_from_email(const struct campaign *c)
{
	return c->from_email;
}

const char *
campaign_return_path(const struct campaign *c)
{
	return c->return_path ? c->return_path : c->from_email;
}

bool
campaign_has_https_unsubscribe(const struct campaign *c)
{
	return c->unsub_tmpl && c->unsub_https;
}
