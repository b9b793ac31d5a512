#include "templates/context.h"

#include <stdio.h>
#include <string.h>

static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

bool
tpl_is_late(const char *name, size_t len)
{
	static const char sub[] = "subscriber", unsub[] = "unsubscribe_url";

	if (len >= sizeof sub - 1 && memcmp(name, sub, sizeof sub - 1) == 0 &&
	    (len == sizeof sub - 1 || name[sizeof sub - 1] == '.'))
		return true;
	return len == sizeof unsub - 1 && memcmp(name, unsub, len) == 0;
}

static struct tv *
num(struct tv_arena *a, unsigned long n, int thousands)
{
	struct buf b;
	struct tv *v = NULL;

	buf_init(&b, 64);
	if (thousands ? fmt_thousands(&b, n) == 0 : buf_printf(&b, "%lu", n) == 0)
		v = tv_str(a, b.data, b.len);
	buf_free(&b);
	return v;
}

static struct tv *
md(struct tv_arena *a, const char *s, size_t n)
{
	return s ? tv_strref(a, s, n) : tv_strz(a, "");
}

static int
image_map(struct tv_arena *a, const struct composed_section *cs,
	  const char *url, struct tv **out)
{
	const struct issue_image *im = cs->src->image;
	struct tv *m = tv_map(a);

	if (!m || tv_map_sets(a, m, "url", url) ||
	    tv_map_sets(a, m, "caption_text", cs->caption_text) ||
	    tv_map_sets(a, m, "alt", im->alt) ||
	    tv_map_sets(a, m, "credit", im->credit) ||
	    tv_map_sets(a, m, "href", im->href))
		return -1;
	*out = m;
	return 0;
}

static int
section_map(struct tv_arena *a, const struct tpl_info *info, size_t i,
	    struct tv **out)
{
	const struct composed_section *cs = &info->c->sections[i];
	const struct issue_section *s = cs->src;
	struct tv *m = tv_map(a), *img;

	if (!m || tv_map_set(a, m, "number", num(a, cs->number, 0)) ||
	    tv_map_sets(a, m, "label", s->label) ||
	    tv_map_sets(a, m, "title", s->title) ||
	    tv_map_sets(a, m, "heading", cs->heading) ||
	    tv_map_sets(a, m, "heading_text", cs->heading_text) ||
	    tv_map_set(a, m, "body_html",
		       md(a, cs->body.html, cs->body.html_len)) ||
	    tv_map_set(a, m, "body_text",
		       md(a, cs->body.text, cs->body.text_len)) ||
	    tv_map_set(a, m, "words", num(a, cs->words, 1)) ||
	    tv_map_setb(a, m, "first", i == 0) ||
	    tv_map_setb(a, m, "last", i + 1 == info->c->nsections))
		return -1;
	if (s->image && info->image_urls && info->image_urls[i]) {
		if (image_map(a, cs, info->image_urls[i], &img) ||
		    tv_map_set(a, m, "image", img))
			return -1;
	} else if (tv_map_setb(a, m, "image", false)) {
		return -1;
	}
	*out = m;
	return 0;
}

int
tpl_context(struct tv_arena *a, const struct tpl_info *info, struct tv **root,
	    struct nl_err *err)
{
	const struct composed *c = info->c;
	const struct issue *is = c->issue;
	struct tv *m, *list, *sec;
	char date_long[64], year[16];
	size_t i;

	snprintf(date_long, sizeof date_long, "%s %d, %d",
		 months[(is->month - 1) % 12], is->day, is->year);
	snprintf(year, sizeof year, "%d", is->year);
	m = tv_map(a);
	list = tv_list(a);
	if (!m || !list)
		goto nomem;
	if (tv_map_sets(a, m, "newsletter", is->newsletter) ||
	    tv_map_sets(a, m, "date", is->date) ||
	    tv_map_sets(a, m, "date_long", date_long) ||
	    tv_map_sets(a, m, "year", year) ||
	    tv_map_sets(a, m, "subject", c->subject) ||
	    tv_map_sets(a, m, "preheader", is->preheader) ||
	    tv_map_sets(a, m, "author", is->author) ||
	    tv_map_sets(a, m, "from_name", info->from_name) ||
	    tv_map_sets(a, m, "from_email", info->from_email) ||
	    tv_map_set(a, m, "intro_html", md(a, c->intro.html, c->intro.html_len)) ||
	    tv_map_set(a, m, "intro_text", md(a, c->intro.text, c->intro.text_len)) ||
	    tv_map_set(a, m, "outro_html", md(a, c->outro.html, c->outro.html_len)) ||
	    tv_map_set(a, m, "outro_text", md(a, c->outro.text, c->outro.text_len)) ||
	    tv_map_sets(a, m, "meta_line", c->meta_line) ||
	    tv_map_set(a, m, "words", num(a, c->words, 1)) ||
	    tv_map_set(a, m, "words_computed", num(a, c->words_computed, 1)) ||
	    tv_map_set(a, m, "reading_minutes", num(a, c->minutes, 0)))
		goto nomem;
	for (i = 0; i < c->nsections; i++)
		if (section_map(a, info, i, &sec) || tv_list_push(a, list, sec))
			goto nomem;
	if (tv_map_set(a, m, "sections", list))
		goto nomem;
	*root = m;
	return 0;
nomem:
	return nl_err_set(err, NL_ENOMEM, "out of memory building the template context");
}

int
tpl_recipient(struct tv_arena *a, const struct subscriber *s,
	      const char *unsubscribe_url, struct tv **map, struct nl_err *err)
{
	struct tv *m = tv_map(a), *sub = tv_map(a);
	size_t i;

	if (!m || !sub)
		goto nomem;
	/* Extra columns first, so that email and name always win. */
	for (i = 0; i < s->nextra; i++)
		if (tv_map_set(a, sub, s->extra_keys[i],
			       tv_strref(a, s->extra_values[i],
					 strlen(s->extra_values[i]))))
			goto nomem;
	if (tv_map_set(a, sub, "email", tv_strref(a, s->email, strlen(s->email))) ||
	    tv_map_set(a, sub, "name",
		       tv_strref(a, s->name ? s->name : "",
				 s->name ? strlen(s->name) : 0)) ||
	    tv_map_set(a, m, "subscriber", sub) ||
	    tv_map_set(a, m, "unsubscribe_url",
		       tv_strref(a, unsubscribe_url, strlen(unsubscribe_url))))
		goto nomem;
	*map = m;
	return 0;
nomem:
	return nl_err_set(err, NL_ENOMEM, "out of memory building a recipient");
}
