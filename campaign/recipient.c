/* Per recipient: the token, the unsubscribe URL and mailto, the recipient
 * map, then the message or the two rendered parts (campaign.h). */
#include "campaign/internal.h"

#include "mime/unsub.h"
#include "templates/context.h"

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
	/* RFC 2369 section 3.2: mailto with the token as the subject. */
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
		 enum campaign_sign sign, struct buf *out, struct nl_err *err)
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
	(void)sign;	/* no DKIM key is configured yet: nothing to sign */
	return msg_compose(c->msg, &r, out, err);
}

int
campaign_render(struct campaign *c, const struct subscriber *s,
		struct buf *html, struct buf *text, struct nl_err *err)
{
	struct tv *map;

	if (recipient(c, s, &map, err))
		return -1;
	if (html && campaign_part_whole(&c->html, map, html, err))
		return -1;
	if (text && campaign_part_whole(&c->text, map, text, err))
		return -1;
	if (html && html->len > CAMPAIGN_GMAIL_CLIP)
		campaign_warn(c, "the HTML part is %zu bytes: Gmail clips messages "
			      "over 102 KB", html->len);
	return 0;
}
