#include "compose/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/words.h"

unsigned long
reading_minutes(unsigned long words, unsigned long wpm)
{
	unsigned long m;

	if (wpm == 0)
		wpm = 250;
	/* round half up: floor(words / wpm + 1/2) in integers */
	m = (2 * words + wpm) / (2 * wpm);
	return m ? m : 1;
}

int
fmt_thousands(struct buf *out, unsigned long n)
{
	char digits[32];
	int len, i;

	len = snprintf(digits, sizeof digits, "%lu", n);
	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0 && buf_addc(out, ','))
			return -1;
		if (buf_addc(out, digits[i]))
			return -1;
	}
	return 0;
}

/*
 * English writes "an" before a number whose spoken form starts with a
 * vowel sound: eight, eleven, eighteen, eighty-..., eight hundred ...
 * Only the leading group of digits (before the first comma) is spoken
 * first: 11,000 is "eleven thousand", 1,100 is "one thousand ...".
 */
static int
takes_an(unsigned long n)
{
	while (n >= 1000)
		n /= 1000;
	return n == 8 || n == 11 || n == 18 || (n >= 80 && n <= 89) ||
	       (n >= 800 && n <= 899);
}

int
meta_line(struct buf *out, unsigned long words, unsigned long minutes)
{
	if (buf_adds(out, "This newsletter is ") || fmt_thousands(out, words) ||
	    buf_adds(out, words == 1 ? " word, " : " words, ") ||
	    buf_adds(out, takes_an(minutes) ? "an " : "a ") ||
	    fmt_thousands(out, minutes) || buf_adds(out, "-minute read."))
		return -1;
	return 0;
}

static unsigned long
plain_words(const char *s)
{
	return s ? words_count(s, strlen(s)) : 0;
}

static int
render_field(const char *md, md_link_fn cb, void *arg, struct md_out *out,
	     struct nl_err *err)
{
	memset(out, 0, sizeof *out);
	if (!md)
		return 0;
	return md_render(md, strlen(md), cb, arg, out, err);
}

static int
make_heading(struct composed_section *cs, struct nl_err *err)
{
	const struct issue_section *s = cs->src;
	struct buf b, w;
	int r = -1;

	buf_init(&b, 0);
	buf_init(&w, 0);
	if (s->label && *s->label) {
		if (buf_printf(&b, "%s: %s", s->label, s->title))
			goto nomem;
	} else if (buf_printf(&b, "%u. %s", cs->number, s->title)) {
		goto nomem;
	}
	if (text_wrap(&w, b.data, b.len, 72, "", ""))
		goto nomem;
	cs->heading = buf_detach(&b, NULL);
	cs->heading_text = buf_detach(&w, NULL);
	if (!cs->heading || !cs->heading_text)
		goto nomem;
	if (s->image) {
		/* Alt texts run as long as headlines: a template cannot wrap. */
		const struct issue_image *im = s->image;

		if (buf_printf(&b, "[Image%s%s]%s%s",
			       im->alt && *im->alt ? ": " : "",
			       im->alt ? im->alt : "",
			       im->credit && *im->credit ? " " : "",
			       im->credit ? im->credit : "") ||
		    text_wrap(&w, b.data, b.len, 72, "", ""))
			goto nomem;
		cs->caption_text = buf_detach(&w, NULL);
		if (!cs->caption_text)
			goto nomem;
	}
	r = 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory composing headings");
out:
	buf_free(&b);
	buf_free(&w);
	return r;
}

int
compose_issue(const struct issue *is, md_link_fn cb, void *cb_arg,
	      struct composed **out, struct nl_err *err)
{
	struct composed *c;
	struct buf b;
	size_t i;
	int r = -1;

	buf_init(&b, 0);
	c = calloc(1, sizeof *c);
	if (!c)
		goto nomem;
	c->issue = is;
	c->sections = calloc(is->nsections ? is->nsections : 1,
			     sizeof *c->sections);
	if (!c->sections)
		goto nomem;
	if (render_field(is->intro, cb, cb_arg, &c->intro, err) ||
	    render_field(is->outro, cb, cb_arg, &c->outro, err))
		goto out;
	c->words_computed = c->intro.words + c->outro.words;
	for (i = 0; i < is->nsections; i++) {
		struct composed_section *cs = &c->sections[i];
		const struct issue_section *s = &is->sections[i];

		c->nsections++;
		cs->src = s;
		cs->number = (unsigned)i + 1;
		if (render_field(s->body, cb, cb_arg, &cs->body, err) ||
		    make_heading(cs, err))
			goto out;
		cs->words = cs->body.words + plain_words(s->label) +
			    plain_words(s->title) +
			    (s->image ? plain_words(s->image->credit) : 0);
		c->words_computed += cs->words;
	}
	c->words = is->words >= 0 ? (unsigned long)is->words : c->words_computed;
	c->minutes = reading_minutes(c->words, (unsigned long)is->wpm);
	if (meta_line(&b, c->words, c->minutes))
		goto nomem;
	c->meta_line = buf_detach(&b, NULL);
	c->subject = issue_subject(is);
	if (!c->meta_line || !c->subject)
		goto nomem;
	*out = c;
	c = NULL;
	r = 0;
	goto out;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory composing the issue");
out:
	buf_free(&b);
	composed_free(c);
	return r;
}

void
composed_free(struct composed *c)
{
	size_t i;

	if (!c)
		return;
	md_out_free(&c->intro);
	md_out_free(&c->outro);
	for (i = 0; i < c->nsections; i++) {
		free(c->sections[i].heading);
		free(c->sections[i].heading_text);
		free(c->sections[i].caption_text);
		md_out_free(&c->sections[i].body);
	}
	free(c->sections);
	free(c->meta_line);
	free(c->subject);
	free(c);
}
