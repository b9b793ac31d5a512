/* From the run to a campaign: the config's settings and the unsubscribe
 * key handed to campaign/ (which knows nothing of the config). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "state/key.h"

void
run_campaign_opts(const struct run *r, struct campaign_opts *co)
{
	memset(co, 0, sizeof *co);
	co->images = CAMPAIGN_IMAGES_MESSAGE;
	co->embed_images = r->o->embed_images;
	co->now = r->now;
}

int
run_campaign_open(struct run *r, const char *issue,
		  const struct campaign_opts *co, struct campaign **c,
		  struct nl_err *err)
{
	const struct config *cfg = r->cfg;
	struct campaign_conf cc;
	char *key = NULL;
	size_t keylen = 0;
	int rc;

	memset(&cc, 0, sizeof cc);
	if (cfg->unsubscribe_secret) {
		cc.secret = cfg->unsubscribe_secret;
		cc.secretlen = strlen(cfg->unsubscribe_secret);
	} else {
		if (state_key(r->state_path, &key, &keylen, err))
			return -1;
		cc.secret = key;
		cc.secretlen = keylen;
	}
	cc.from = cfg->from;
	cc.return_path = cfg->return_path;
	cc.list_id = cfg->list_id;
	cc.unsubscribe_url = cfg->unsubscribe_url;
	cc.unsubscribe_mailto = cfg->unsubscribe_mailto;
	cc.image_base_url = cfg->image_base_url;
	cc.template_dir = cfg->template_dir;
	cc.origin = cfg->path;
	rc = campaign_open(issue, &cc, co, c, err);
	if (key) {
		explicit_bzero(key, keylen);
		free(key);
	}
	return rc;
}

int
run_compose_row(struct campaign *c, const struct subscriber *s,
		enum campaign_sign sign, struct buf *out, struct nl_err *err)
{
	char why[NL_ERRMSG_MAX];

	if (campaign_compose(c, s, sign, out, err) == 0)
		return 0;
	if (err->kind != NL_EDATA)
		return -1;
	snprintf(why, sizeof why, "%s", err->msg);
	nl_err_set(err, NL_EDATA, "%s:%lu: %s", s->file ? s->file : "?",
		   s->line, why);
	return 1;
}
