/* The templates specialised for one issue, and the MIME skeleton built on
 * them (campaign.h). */
#include "campaign/internal.h"

#include <string.h>

#include "templates/context.h"

static const char *
part_text(void *arg, size_t i, size_t *len)
{
	struct campaign_part *p = arg;

	return mst_text(p->res, i, len);
}

static int
part_render(void *arg, size_t i, const void *ctx, struct buf *out,
	    struct nl_err *err)
{
	struct campaign_part *p = arg;
	const struct tv *stack[2];

	stack[0] = p->root;
	stack[1] = ctx;
	return mst_render_item(p->res, i, stack, 2, p->esc, out, err);
}

int
campaign_part_whole(struct campaign_part *p, const struct tv *ctx,
		    struct buf *out, struct nl_err *err)
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

/* Everything that does not depend on the recipient is rendered now; what
 * does (templates/context.h, tpl_is_late) is left as holes. */
int
campaign_parts(struct campaign *c, struct nl_err *err)
{
	struct tpl_info info;
	const struct tv *stack[1];

	if (tplset_load(c->issue->tmpl, c->issue->dir, c->template_dir,
			&c->tpl, err))
		return -1;
	info.c = c->comp;
	info.from_name = c->from_name;
	info.from_email = c->from_email;
	info.image_urls = (const char *const *)c->image_urls;
	if (tpl_context(&c->arena, &info, &c->root, err))
		return -1;
	stack[0] = c->root;
	if (mst_specialize(c->tpl->html, stack, 1, MST_ESCAPE_HTML, tpl_is_late,
			   &c->html.res, err) ||
	    mst_specialize(c->tpl->text, stack, 1, MST_ESCAPE_NONE, tpl_is_late,
			   &c->text.res, err))
		return -1;
	c->html.root = c->text.root = c->root;
	c->html.esc = MST_ESCAPE_HTML;
	c->text.esc = MST_ESCAPE_NONE;
	return 0;
}

/* mime/'s message template over the two parts and the images. */
int
campaign_skeleton(struct campaign *c, struct nl_err *err)
{
	struct msg_spec spec;

	memset(&spec, 0, sizeof spec);
	spec.from = c->from;
	spec.reply_to = c->issue->reply_to;
	spec.subject = c->comp->subject;
	spec.date = c->opts.now;
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
	return msg_prepare(&spec, &c->msg, err);
}
