/* Unit tests of compose/compose.c: reading time, the metadata line's
 * grammar, numbering and headings, and the per-section word counts, on
 * the test issue tests/data/newsletter/issue.yaml and, when it is there,
 * on the corpus issue in $NLSEND_CORPUS (default ../shared/corpus). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "tests/tap.h"

static void
line_is(unsigned long words, unsigned long minutes, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	meta_line(&b, words, minutes);
	is_str(buf_cstr(&b), want, "meta line for %lu words, %lu min", words,
	       minutes);
	buf_free(&b);
}

static void
thousands(unsigned long n, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	fmt_thousands(&b, n);
	is_str(buf_cstr(&b), want, "%lu with thousands separators", n);
	buf_free(&b);
}

/* What one issue must compose to. */
struct want {
	const char *name;	/* for the test names */
	const char *heading[3];	/* of sections 1, 2 and 6 */
	const char *caption[2];	/* two pieces of section 6's caption */
	const char *subject;
	const char *meta_line;
	long words, words_computed;
};

static void
composes(const char *path, const struct want *w)
{
	struct issue *is = NULL;
	struct composed *c = NULL;
	struct nl_err err;
	unsigned long sum;
	size_t i;

	if (!ok(issue_load(path, &is, &err) == 0, "%s issue loads", w->name))
		diag("%s", err.msg);
	if (is && !ok(compose_issue(is, NULL, NULL, &c, &err) == 0,
		      "%s issue composes", w->name))
		diag("%s", err.msg);
	if (!c)
		goto out;
	if (!is_int(c->nsections, 6, "%s: six sections", w->name))
		goto out;
	is_str(c->sections[0].heading, w->heading[0],
	       "%s: a labelled section's heading", w->name);
	is_str(c->sections[1].heading, w->heading[1],
	       "%s: an unlabelled section is numbered", w->name);
	is_str(c->sections[5].heading, w->heading[2],
	       "%s: the sixth section's heading", w->name);
	ok(strchr(c->sections[0].heading_text, '\n') <
	   c->sections[0].heading_text + strlen(c->sections[0].heading_text) - 1,
	   "%s: a long heading is wrapped for the text part", w->name);
	ok(c->sections[5].caption_text &&
	   strstr(c->sections[5].caption_text, w->caption[0]) &&
	   strstr(c->sections[5].caption_text, w->caption[1]),
	   "%s: the local image's caption for the text part", w->name);
	ok(c->sections[2].caption_text == NULL,
	   "%s: no caption without an image", w->name);
	is_int(c->words, w->words, "%s: the stated count is the one templates "
	       "use", w->name);
	is_int(c->words_computed, w->words_computed, "%s: the computed count",
	       w->name);
	is_str(c->meta_line, w->meta_line, "%s: the metadata line", w->name);
	sum = c->intro.words + c->outro.words;
	for (i = 0; i < c->nsections; i++)
		sum += c->sections[i].words;
	is_int(c->words_computed, sum,
	       "%s: the computed total is intro + sections + outro", w->name);
	ok(c->sections[0].words > c->sections[0].body.words,
	   "%s: a section counts its label, title and credit too", w->name);
	is_str(c->subject, w->subject, "%s: the stated subject", w->name);
out:
	composed_free(c);
	issue_free(is);
}

static const struct want own = {
	"test",
	{ "1 big thing: How Port Aster plans to run every one of its trams "
	  "on sunlight by 2030",
	  "2. The harbour pilot who fought the new bridge for a decade now "
	  "chairs its opening committee",
	  "6. 1 bright thing" },
	{ "[Image: The restored lighthouse on Skarv Island",
	  "Photo: S\xc3\xb8ren Dahl/Meridian" },
	"Meridian Weekly: Trams on sunlight, a bridge's unlikely champion",
	"This newsletter is 1,380 words, a 6-minute read.",
	1380, 1176,
};

static const struct want corpus = {
	"corpus",
	{ "1 big thing: How democracies can push back on China's growing "
	  "tech dominance",
	  "2. Ed Royce, once an outspoken critic of Vietnam's Communist "
	  "Party, is now lobbying for Tencent",
	  "6. 1 piano thing" },
	{ "[Image: A worker moves", "Photo: Milan Jaros/AFP" },
	"Axios China: A democratic tech alliance, Tencent's new lobbyist",
	"This newsletter is 1,513 words, a 6-minute read.",
	1513, 1801,
};

int
main(void)
{
	const char *top = getenv("NLSEND_TOP"), *dir;
	char path[4096], buf[2048];

	is_int(reading_minutes(1513, 250), 6, "1513/250 = 6.05 rounds to 6");
	is_int(reading_minutes(1380, 250), 6, "1380/250 = 5.52 rounds to 6");
	is_int(reading_minutes(1176, 250), 5, "1176/250 = 4.704 rounds to 5");
	is_int(reading_minutes(1625, 250), 7, "6.5 rounds half up to 7");
	is_int(reading_minutes(1624, 250), 6, "6.496 rounds down");
	is_int(reading_minutes(0, 250), 1, "never under one minute");
	is_int(reading_minutes(100, 250), 1, "0.4 is still one minute");
	is_int(reading_minutes(600, 200), 3, "wpm is honoured");

	thousands(0, "0");
	thousands(999, "999");
	thousands(1000, "1,000");
	thousands(1513, "1,513");
	thousands(1234567, "1,234,567");

	line_is(1513, 6, "This newsletter is 1,513 words, a 6-minute read.");
	line_is(2000, 8, "This newsletter is 2,000 words, an 8-minute read.");
	line_is(2750, 11, "This newsletter is 2,750 words, an 11-minute read.");
	line_is(4500, 18, "This newsletter is 4,500 words, an 18-minute read.");
	line_is(20000, 80, "This newsletter is 20,000 words, an 80-minute read.");
	line_is(200000, 800, "This newsletter is 200,000 words, an 800-minute read.");
	line_is(2750000, 11000, "This newsletter is 2,750,000 words, an 11,000-minute read.");
	line_is(250000, 1000, "This newsletter is 250,000 words, a 1,000-minute read.");
	line_is(27500, 110, "This newsletter is 27,500 words, a 110-minute read.");
	line_is(1, 1, "This newsletter is 1 word, a 1-minute read.");
	line_is(250, 1, "This newsletter is 250 words, a 1-minute read.");

	if (!top || !*top)
		top = ".";
	snprintf(path, sizeof path, "%s/tests/data/newsletter/issue.yaml", top);
	composes(path, &own);
	dir = outside_dir("NLSEND_CORPUS", top, "../shared/corpus", buf,
			  sizeof buf);
	if (dir) {
		snprintf(path, sizeof path, "%s/2020-09-15-axios-china.yaml",
			 dir);
		composes(path, &corpus);
	} else {
		skip("NLSEND_CORPUS not set and ../shared/corpus absent: the "
		     "corpus issue not composed");
	}
	return done_testing();
}
