/* Unit tests of compose/compose.c: reading time, the metadata line's
 * grammar, numbering and headings, and the per-section word counts. */
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

int
main(void)
{
	const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
	char path[4096];
	struct issue *is = NULL;
	struct composed *c = NULL;
	struct nl_err err;
	unsigned long sum;
	size_t i;

	is_int(reading_minutes(1513, 250), 6, "1513/250 = 6.05 rounds to 6");
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

	snprintf(path, sizeof path, "%s/corpus/2020-09-15-axios-china.yaml", shared);
	if (!ok(issue_load(path, &is, &err) == 0, "corpus issue loads"))
		diag("%s", err.msg);
	if (is && !ok(compose_issue(is, NULL, NULL, &c, &err) == 0, "composes"))
		diag("%s", err.msg);
	if (c) {
		is_int(c->nsections, 6, "six sections");
		is_str(c->sections[0].heading,
		       "1 big thing: How democracies can push back on China's "
		       "growing tech dominance", "a labelled section's heading");
		is_str(c->sections[1].heading,
		       "2. Ed Royce, once an outspoken critic of Vietnam's "
		       "Communist Party, is now lobbying for Tencent",
		       "an unlabelled section is numbered");
		is_str(c->sections[5].heading, "6. 1 piano thing",
		       "the sixth section's heading");
		ok(strchr(c->sections[0].heading_text, '\n') <
		   c->sections[0].heading_text + strlen(c->sections[0].heading_text) - 1,
		   "a long heading is wrapped for the text part");
		ok(c->sections[5].caption_text &&
		   strstr(c->sections[5].caption_text, "[Image: A worker moves") &&
		   strstr(c->sections[5].caption_text, "Photo: Milan Jaros/AFP"),
		   "the piano caption for the text part");
		ok(c->sections[2].caption_text == NULL, "no caption without an image");
		is_int(c->words, 1513, "the stated count is the one templates use");
		is_str(c->meta_line, "This newsletter is 1,513 words, a 6-minute read.",
		       "the corpus metadata line");
		sum = c->intro.words + c->outro.words;
		for (i = 0; i < c->nsections; i++)
			sum += c->sections[i].words;
		is_int(c->words_computed, sum,
		       "the computed total is intro + sections + outro");
		ok(c->sections[0].words > c->sections[0].body.words,
		   "a section counts its label, title and credit too");
		is_str(c->subject, "Axios China: A democratic tech alliance, "
		       "Tencent's new lobbyist", "the stated subject");
	}
	composed_free(c);
	issue_free(is);
	return done_testing();
}
