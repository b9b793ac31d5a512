/* What --check tells the editor (campaign.h). */
#include "campaign/internal.h"

#include <stdarg.h>
#include <stdlib.h>

void
campaign_warn(struct campaign *c, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char **w;
	int bad;

	if (!c->opts.collect_warnings || c->nwarnings >= CAMPAIGN_MAX_WARNINGS)
		return;
	buf_init(&b, 4096);
	va_start(ap, fmt);
	bad = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	w = bad ? NULL : realloc(c->warnings, (c->nwarnings + 1) * sizeof *w);
	if (!w) {
		buf_free(&b);
		return;
	}
	c->warnings = w;
	c->warnings[c->nwarnings++] = buf_detach(&b, NULL);
}

/* The markdown renderer's links and images: alt text, relative links. */
void
campaign_on_link(void *arg, const struct md_link *l)
{
	struct campaign *c = arg;

	if (l->is_image && (!l->alt || !*l->alt))
		campaign_warn(c, "image without alt text: %s", l->url);
	if (!l->is_image && *l->url && *l->url != '#' &&
	    !campaign_has_scheme(l->url))
		campaign_warn(c, "link without a scheme: %s (mail clients cannot "
			      "resolve relative links)", l->url);
}

size_t
campaign_nwarnings(const struct campaign *c)
{
	return c->nwarnings;
}

const char *
campaign_warning(const struct campaign *c, size_t i)
{
	return i < c->nwarnings ? c->warnings[i] : NULL;
}
