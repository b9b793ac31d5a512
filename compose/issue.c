#include "compose/issue.h"
#include "compose/markdown.h"
#include "util/path.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/yamlread.h"

enum {
	K_NEWSLETTER, K_DATE, K_SUBJECT, K_PREHEADER, K_AUTHOR, K_FROM,
	K_REPLY_TO, K_INTRO, K_SECTIONS, K_OUTRO, K_WORDS, K_WPM, K_SCHEDULE,
	K_TEMPLATE, K_ID, K_COUNT
};
static const char *const top_keys[K_COUNT] = {
	"newsletter", "date", "subject", "preheader", "author", "from",
	"reply_to", "intro", "sections", "outro", "words", "wpm", "schedule",
	"template", "id",
};

enum { S_TITLE, S_LABEL, S_IMAGE, S_BODY, S_COUNT };
static const char *const section_keys[S_COUNT] = {
	"title", "label", "image", "body",
};

enum { I_SRC, I_ALT, I_CREDIT, I_HREF, I_COUNT };
static const char *const image_keys[I_COUNT] = {
	"src", "alt", "credit", "href",
};

static struct issue_pos
ipos(struct yr_pos p)
{
	struct issue_pos q = { p.line, p.col };

	return q;
}

static bool
is_blank(const char *s)
{
	size_t n = strlen(s), i = 0;
	uint32_t cp;

	while (i < n) {
		i += utf8_decode(s + i, n - i, &cp);
		if (!uc_is_space(cp))
			return false;
	}
	return true;
}

/* An optional string: empty or null is the same as absent (NULL, and the
 * position stays 0). */
static int
opt_string(struct yr *y, const char *key, const char *where, char **dst,
	   struct issue_pos *pos, bool one_line)
{
	struct yr_pos p;
	char *s;

	if (yr_string(y, key, where, &s, &p))
		return -1;
	if (s && !*s) {
		free(s);
		s = NULL;
	}
	*dst = s;
	if (s && pos)
		*pos = ipos(p);
	if (one_line)
		return yr_one_line(y, key, where, s, p);
	return 0;
}

/* An image's link reaches the HTML part as an href: the scheme check of
 * markdown links (md_url_is_safe) applies, and an unsafe one is the
 * editor's to fix, so it is an error with its place. */
static int
load_href(struct yr *y, const char *where, char **dst)
{
	struct issue_pos pos;
	struct yr_pos p;

	if (opt_string(y, "href", where, dst, &pos, true))
		return -1;
	if (!*dst || md_url_is_safe(*dst, false))
		return 0;
	p.line = pos.line;
	p.col = pos.col;
	return yr_err(y, p, "'href'%s is not a link a mail client may follow "
		      "(javascript:, vbscript:, file: and data: are refused)",
		      where);
}

/* A required string: there, and not only white space. */
static int
req_string(struct yr *y, const char *key, const char *where, char **dst,
	   struct issue_pos *pos, bool one_line)
{
	struct yr_pos p;

	if (yr_string(y, key, where, dst, &p))
		return -1;
	if (pos)
		*pos = ipos(p);
	if (!*dst || is_blank(*dst))
		return yr_err(y, p, "'%s'%s is empty", key, where);
	if (one_line)
		return yr_one_line(y, key, where, *dst, p);
	return 0;
}

/* words and wpm: a whole number >= min; `what` says what min means. */
static int
opt_long(struct yr *y, const char *key, long min, const char *what,
	 long *dst, struct issue_pos *pos)
{
	struct yr_pos p;
	char *s = NULL;
	long v;
	int r;

	r = yr_scalar(y, key, "", "a whole number", &s, &p);
	if (r || !s)
		goto out;
	r = yr_parse_long(s, &v);
	if (r == -1)
		r = yr_err(y, p, "'%s' must be a whole number, not '%.40s'",
			   key, s);
	else if (r == -2)
		r = yr_err(y, p, "'%s' is too large", key);
	else if (v < min)
		r = yr_err(y, p, "'%s' must be %s", key, what);
	if (r)
		goto out;
	*dst = v;
	*pos = ipos(p);
out:
	free(s);
	return r;
}

static int
load_date(struct yr *y, struct issue *is)
{
	struct yr_pos p;

	if (yr_string(y, "date", "", &is->date, &p))
		return -1;
	is->date_pos = ipos(p);
	if (!is->date || is_blank(is->date))
		return yr_err(y, p, "'date' is empty");
	if (issue_parse_date(is->date, &is->year, &is->month, &is->day))
		return yr_err(y, p, "'date' must be a calendar date "
			      "YYYY-MM-DD, not '%.40s'", is->date);
	return 0;
}

static int
load_schedule(struct yr *y, struct issue *is)
{
	struct yr_pos p;
	char *s = NULL;
	int r;

	r = yr_string(y, "schedule", "", &s, &p);
	if (r || !s)
		goto out;
	r = issue_parse_time(s, &is->schedule);
	if (r == -2)
		r = yr_err(y, p, "'schedule' needs a UTC offset (Z or +HH:MM "
			   "or -HH:MM), e.g. 2020-09-15T06:00:00-04:00");
	else if (r)
		r = yr_err(y, p, "'schedule' must be an ISO 8601 timestamp "
			   "with a UTC offset, e.g. 2020-09-15T06:00:00-04:00,"
			   " not '%.40s'", s);
	if (r)
		goto out;
	is->has_schedule = true;
	is->schedule_pos = ipos(p);
out:
	free(s);
	return r;
}

static int
load_image(struct yr *y, struct issue_section *sec, size_t n,
	   const char *swhere)
{
	struct yr_pos seen[I_COUNT] = { { 0, 0 } }, mpos, kpos;
	struct issue_image *img;
	char where[64];
	size_t k;
	int r;

	r = yr_start(y, YAML_MAPPING_START_EVENT, "image", swhere, &mpos);
	if (r)
		return r < 0 ? -1 : 0;	/* `image:` alone: no image */
	img = calloc(1, sizeof *img);
	if (!img)
		return nl_err_set(y->err, NL_ENOMEM, "out of memory");
	sec->image = img;
	img->pos = ipos(mpos);
	snprintf(where, sizeof where, " in the image of section %zu", n);
	while ((r = yr_key(y, image_keys, I_COUNT, seen, where, &k,
			   &kpos)) == 0) {
		switch (k) {
		case I_SRC:
			r = req_string(y, "src", where, &img->src,
				       &img->src_pos, false);
			break;
		case I_ALT:
			r = opt_string(y, "alt", where, &img->alt, NULL, false);
			break;
		case I_CREDIT:
			r = opt_string(y, "credit", where, &img->credit, NULL,
				       false);
			break;
		case I_HREF:
			r = load_href(y, where, &img->href);
			break;
		}
		if (r)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!seen[I_SRC].line)
		return yr_err(y, mpos, "missing required key 'src'%s", where);
	return 0;
}

static int
load_section(struct yr *y, struct issue_section *sec, size_t n)
{
	struct yr_pos seen[S_COUNT] = { { 0, 0 } }, mpos, kpos;
	char where[48];
	size_t k;
	int r;

	mpos = yr_here(y);
	sec->pos = ipos(mpos);
	snprintf(where, sizeof where, " in section %zu", n);
	while ((r = yr_key(y, section_keys, S_COUNT, seen, where, &k,
			   &kpos)) == 0) {
		switch (k) {
		case S_TITLE:
			r = req_string(y, "title", where, &sec->title,
				       &sec->title_pos, false);
			break;
		case S_LABEL:
			r = opt_string(y, "label", where, &sec->label,
				       &sec->label_pos, false);
			break;
		case S_IMAGE:
			r = load_image(y, sec, n, where);
			break;
		case S_BODY:
			r = req_string(y, "body", where, &sec->body,
				       &sec->body_pos, false);
			break;
		}
		if (r)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!seen[S_TITLE].line)
		return yr_err(y, mpos, "missing required key 'title'%s", where);
	if (!seen[S_BODY].line)
		return yr_err(y, mpos, "missing required key 'body'%s", where);
	return 0;
}

static int
load_sections(struct yr *y, struct issue *is)
{
	struct issue_section *ns;
	struct yr_pos vpos;
	size_t cap = 0, n;
	int r;

	r = yr_start(y, YAML_SEQUENCE_START_EVENT, "sections", "", &vpos);
	if (r < 0)
		return -1;
	is->sections_pos = ipos(vpos);
	if (r == 1)
		return yr_err(y, vpos, "no sections");
	for (;;) {
		if (yr_next(y))
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		n = is->nsections + 1;
		if (y->ev.type != YAML_MAPPING_START_EVENT)
			return yr_err(y, yr_here(y), "section %zu must be a "
				      "mapping (title, label, image, body), "
				      "not %s", n, yr_what(y));
		if (n > ISSUE_MAX_SECTIONS)
			return yr_err(y, yr_here(y), "more than %d sections",
				      ISSUE_MAX_SECTIONS);
		if (is->nsections == cap) {
			cap = cap ? cap * 2 : 8;
			ns = realloc(is->sections, cap * sizeof *ns);
			if (!ns)
				return nl_err_set(y->err, NL_ENOMEM,
						  "out of memory");
			is->sections = ns;
		}
		/* Counted before it is filled, so issue_free() sees it. */
		memset(&is->sections[is->nsections], 0, sizeof *ns);
		is->nsections++;
		if (load_section(y, &is->sections[n - 1], n))
			return -1;
	}
	if (!is->nsections)
		return yr_err(y, vpos, "no sections");
	return 0;
}

/* The value of top-level key k. */
static int
load_top_value(struct yr *y, struct issue *is, size_t k)
{
	switch (k) {
	case K_NEWSLETTER:
		return req_string(y, "newsletter", "", &is->newsletter,
				  &is->newsletter_pos, true);
	case K_DATE:
		return load_date(y, is);
	case K_SUBJECT:
		return opt_string(y, "subject", "", &is->subject,
				  &is->subject_pos, true);
	case K_PREHEADER:
		return opt_string(y, "preheader", "", &is->preheader,
				  &is->preheader_pos, true);
	case K_AUTHOR:
		return opt_string(y, "author", "", &is->author,
				  &is->author_pos, true);
	case K_FROM:
		return opt_string(y, "from", "", &is->from, &is->from_pos, true);
	case K_REPLY_TO:
		return opt_string(y, "reply_to", "", &is->reply_to,
				  &is->reply_to_pos, true);
	case K_INTRO:
		return opt_string(y, "intro", "", &is->intro, &is->intro_pos,
				  false);
	case K_SECTIONS:
		return load_sections(y, is);
	case K_OUTRO:
		return opt_string(y, "outro", "", &is->outro, &is->outro_pos,
				  false);
	case K_WORDS:
		return opt_long(y, "words", 0, "0 or more", &is->words,
				&is->words_pos);
	case K_WPM:
		return opt_long(y, "wpm", 1, "1 or more", &is->wpm, &is->wpm_pos);
	case K_SCHEDULE:
		return load_schedule(y, is);
	case K_TEMPLATE:
		return opt_string(y, "template", "", &is->tmpl, &is->tmpl_pos,
				  false);
	case K_ID:
		return opt_string(y, "id", "", &is->id, &is->id_pos, true);
	default:
		assert(!"a key yr_key() did not offer");
		return -1;
	}
}

static int
load_top(struct yr *y, struct issue *is)
{
	struct yr_pos seen[K_COUNT] = { { 0, 0 } }, mpos, kpos;
	struct yr_pos start = { 1, 1 }, tp;
	bool empty;
	size_t k;
	int r;

	if (yr_begin(y, &empty))
		return -1;
	if (empty)
		return yr_err(y, start, "empty issue: 'newsletter', 'date' and "
			      "'sections' are required");
	mpos = yr_here(y);
	while ((r = yr_key(y, top_keys, K_COUNT, seen, "", &k, &kpos)) == 0)
		if (load_top_value(y, is, k))
			return -1;
	if (r < 0)
		return -1;
	if (!seen[K_NEWSLETTER].line)
		return yr_err(y, mpos, "missing required key 'newsletter'");
	if (!seen[K_DATE].line)
		return yr_err(y, mpos, "missing required key 'date'");
	if (!seen[K_SECTIONS].line)
		return yr_err(y, mpos, "missing required key 'sections'");
	/* load_sections() refuses a list without a section. */
	assert(is->nsections > 0 && is->sections[0].title);
	/* The default subject carries the first title into a header. */
	if (!is->subject && strpbrk(is->sections[0].title, "\r\n")) {
		tp.line = is->sections[0].title_pos.line;
		tp.col = is->sections[0].title_pos.col;
		return yr_err(y, tp, "line break in 'title' in section 1, "
			      "which makes the default subject (a mail header "
			      "must be one line): set 'subject' or write the "
			      "title on one line");
	}
	return yr_end(y);
}

int
issue_load(const char *path, struct issue **out, struct nl_err *err)
{
	struct issue *is = NULL;
	struct yr y;
	int r = -1;

	*out = NULL;
	memset(&y, 0, sizeof y);
	if (yr_open(&y, path, ISSUE_MAX_BYTES, NL_EDATA, NULL, err))
		goto out;
	is = calloc(1, sizeof *is);
	if (!is || !(is->path = strdup(path)) || !(is->dir = path_dir(path))) {
		nl_err_set(err, NL_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	is->words = -1;
	is->wpm = ISSUE_DEFAULT_WPM;
	if (load_top(&y, is))
		goto out;
	*out = is;
	is = NULL;
	r = 0;
out:
	yr_close(&y);
	issue_free(is);
	return r;
}

void
issue_free(struct issue *is)
{
	struct issue_section *s;
	size_t i;

	if (!is)
		return;
	for (i = 0; i < is->nsections; i++) {
		s = &is->sections[i];
		free(s->title);
		free(s->label);
		free(s->body);
		if (s->image) {
			free(s->image->src);
			free(s->image->alt);
			free(s->image->credit);
			free(s->image->href);
			free(s->image);
		}
	}
	free(is->sections);
	free(is->path);
	free(is->dir);
	free(is->newsletter);
	free(is->date);
	free(is->subject);
	free(is->preheader);
	free(is->author);
	free(is->from);
	free(is->reply_to);
	free(is->intro);
	free(is->outro);
	free(is->tmpl);
	free(is->id);
	free(is);
}

char *
issue_subject(const struct issue *is)
{
	const char *title;
	size_t n;
	char *s;

	if (is->subject)
		return strdup(is->subject);
	title = is->nsections ? is->sections[0].title : "";
	n = strlen(is->newsletter) + 2 + strlen(title) + 1;
	s = malloc(n);
	if (s)
		snprintf(s, n, "%s: %s", is->newsletter, title);
	return s;
}

/* Exactly n ASCII digits at s, as a number; -1 otherwise. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				     30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* The date at the start of s (10 bytes, then anything). */
static int
date_prefix(const char *s, int *year, int *month, int *day)
{
	int y, m, d;

	if (strnlen(s, 10) < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*year = y;
	*month = m;
	*day = d;
	return 0;
}

int
issue_parse_date(const char *s, int *year, int *month, int *day)
{
	if (!s || strlen(s) != 10)
		return -1;
	return date_prefix(s, year, month, day);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
issue_parse_time(const char *s, long long *out)
{
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 1;
	const char *p;

	if (!s || date_prefix(s, &y, &mo, &d))
		return -1;
	p = s + 10;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	h = digits(p, 2);
	if (h < 0 || h > 23 || p[2] != ':')
		return -1;
	mi = digits(p + 3, 2);
	if (mi < 0 || mi > 59)
		return -1;
	p += 5;
	if (*p == ':') {
		sec = digits(p + 1, 2);
		if (sec < 0 || sec > 59)
			return -1;
		p += 3;
		if (*p == '.' || *p == ',') {
			p++;
			if (*p < '0' || *p > '9')
				return -1;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == '\0')
		return -2;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		oh = digits(p + 1, 2);
		if (oh < 0 || oh > 23)
			return -1;
		p += 3;
		if (*p == ':' || *p) {
			p += *p == ':';
			om = digits(p, 2);
			if (om < 0 || om > 59)
				return -1;
			p += 2;
		}
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600LL + om * 60);
	return 0;
}
