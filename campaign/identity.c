/* Who a campaign is from and what it is called: From, Reply-To, the
 * campaign id, List-Id, the unsubscribe URL and mailto (campaign.h). */
#include "campaign/internal.h"

#include <stdlib.h>
#include <string.h>

#include "lists/address.h"

int
campaign_slug(struct buf *out, const char *s)
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
	if (campaign_slug(out, is->newsletter) || buf_printf(out, "-%s", is->date))
		return -1;
	return 0;
}

/* From and Reply-To must be mailboxes (RFC 5322 section 3.4); the issue's
 * From wins over the config's. */
static int
mailboxes(struct campaign *c, const struct campaign_conf *conf,
	  struct nl_err *err)
{
	const struct issue *is = c->issue;
	const char *from = is->from ? is->from : conf->from;
	char why[128], *n = NULL, *a = NULL;
	int bad;

	if (!from)
		return nl_err_at(err, NL_EDATA, is->path, 0, 0,
				 "no 'from' address: set from: in the issue or the config");
	if (addr_parse_mailbox(from, &c->from_name, &c->from_email, why, sizeof why)) {
		if (is->from)
			return nl_err_at(err, NL_EDATA, is->path, is->from_pos.line,
					 is->from_pos.col, "from: %s", why);
		return nl_err_at(err, NL_ECONFIG, c->origin, 0, 0, "from: %s", why);
	}
	if (!is->reply_to)
		return 0;
	bad = addr_parse_mailbox(is->reply_to, &n, &a, why, sizeof why);
	free(n);
	free(a);
	if (bad)
		return nl_err_at(err, NL_EDATA, is->path, is->reply_to_pos.line,
				 is->reply_to_pos.col, "reply_to: %s", why);
	return 0;
}

/* The unsubscribe link: the config's template, else mailto only
 * (nlsend-issue(5), "The message"). */
static int
unsubscribe(struct campaign *c, const struct campaign_conf *conf,
	    struct nl_err *err)
{
	const char *u = conf->unsubscribe_url;

	c->unsub_mailto = strdup(conf->unsubscribe_mailto ?
				 conf->unsubscribe_mailto : c->from_email);
	if (!c->unsub_mailto)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	if (!u) {
		campaign_warn(c, "no unsubscribe_url in the config: "
			      "List-Unsubscribe is mailto only; bulk senders "
			      "need an https one-click URL (RFC 8058)");
		return 0;
	}
	if (mst_compile(u, strlen(u), "config:unsubscribe_url", NULL, NULL,
			&c->unsub_tmpl, err))
		return -1;
	c->unsub_https = strncmp(u, "https://", 8) == 0;
	if (!c->unsub_https)
		campaign_warn(c, "unsubscribe_url is not https: bulk senders "
			      "need an https one-click URL (RFC 8058)");
	return 0;
}

int
campaign_identity(struct campaign *c, const struct campaign_conf *conf,
		  struct nl_err *err)
{
	const char *at;
	struct buf b;
	int r = -1;

	buf_init(&b, 4096);
	if (mailboxes(c, conf, err))
		goto out;
	c->from = strdup(c->issue->from ? c->issue->from : conf->from);
	if (!c->from)
		goto nomem;
	at = strrchr(c->from_email, '@');
	c->from_domain = strdup(at ? at + 1 : "localhost");
	if (!c->from_domain || campaign_id_of(c->issue, &b))
		goto nomem;
	c->id = buf_detach(&b, NULL);
	if (conf->list_id) {
		c->list_id = strdup(conf->list_id);
	} else {
		if (campaign_slug(&b, c->issue->newsletter) ||
		    buf_printf(&b, ".%s", c->from_domain))
			goto nomem;
		c->list_id = buf_detach(&b, NULL);
	}
	if (!c->id || !c->list_id)
		goto nomem;
	r = unsubscribe(c, conf, err) ? -1 : 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory");
out:
	buf_free(&b);
	return r;
}
