/*
 * Fuzz target "config": cli/config.h config_load() on any bytes (YAML,
 * through util/yamlread and libyaml), and config_parse_rate() on the
 * input as a string.
 *
 * Input: one control byte; bit 0 set: the line `password: "SECRET"` (a
 * fixed marker) is put before the rest.
 * Properties (config.h): a failure is NL_ECONFIG (or NL_ENOMEM) and its
 * message never holds the password; on success every value is one line,
 * concurrency is 0 or 1..64, smtp is smtp:// or smtps://, the URLs are
 * http(s), rate and rate_per_sec agree, dkim is all or nothing; a rate
 * config_parse_rate() accepts is positive and finite.
 */
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <strings.h>

#include "cli/config.h"

#define CFG_FUZZ_SECRET "S3cr3t-Xyzzy-4242"

static void
cfg_fuzz_line(const char *what, const char *s)
{
	if (s)
		FUZZ_CHECK(!strpbrk(s, "\r\n"), "%s holds a line break", what);
}

FUZZ_TARGET(config)
{
	static const char pre[] = "password: \"" CFG_FUZZ_SECRET "\"\n";
	struct config *c = NULL;
	struct nl_err err;
	char path[64], *in, *str;
	size_t n = 0;
	double per;
	long cnt, secs;
	int fd;

	if (size < 1 || size > 65536)
		return 0;
	in = malloc(sizeof pre + size);
	FUZZ_CHECK(in, "out of memory");
	if (data[0] & 1) {
		memcpy(in, pre, sizeof pre - 1);
		n = sizeof pre - 1;
	}
	memcpy(in + n, data + 1, size - 1);
	n += size - 1;
	fd = fuzz_memfd(in, n, 0600, path, sizeof path);
	free(in);
	if (fd < 0)
		return 0;
	nl_err_clear(&err);
	if (config_load(path, &c, &err)) {
		FUZZ_CHECK(!c, "failure left *out set");
		FUZZ_CHECK(err.kind == NL_ECONFIG || err.kind == NL_ENOMEM,
			   "failed with %s: %s", nl_errkind_name(err.kind),
			   err.msg);
		/* (unless the fuzzed part spells it: an unknown key is
		 * named in the message, and may be anything) */
		FUZZ_CHECK(!strstr(err.msg, CFG_FUZZ_SECRET) ||
			   memmem(data + 1, size - 1, CFG_FUZZ_SECRET,
				  sizeof CFG_FUZZ_SECRET - 1),
			   "the password in a message: %s", err.msg);
		goto rate;
	}
	FUZZ_CHECK(c, "success without a config");
	cfg_fuzz_line("smtp", c->smtp);
	cfg_fuzz_line("user", c->user);
	cfg_fuzz_line("password", c->password);
	cfg_fuzz_line("password_command", c->password_command);
	cfg_fuzz_line("from", c->from);
	cfg_fuzz_line("return_path", c->return_path);
	cfg_fuzz_line("list_id", c->list_id);
	cfg_fuzz_line("unsubscribe_url", c->unsubscribe_url);
	cfg_fuzz_line("unsubscribe_mailto", c->unsubscribe_mailto);
	cfg_fuzz_line("image_base_url", c->image_base_url);
	cfg_fuzz_line("unsubscribe_secret", c->unsubscribe_secret);
	cfg_fuzz_line("rate", c->rate);
	cfg_fuzz_line("dkim_domain", c->dkim_domain);
	cfg_fuzz_line("dkim_selector", c->dkim_selector);
	FUZZ_CHECK(c->concurrency >= 0 &&
		   c->concurrency <= CONFIG_MAX_CONCURRENCY, "concurrency %ld",
		   c->concurrency);
	FUZZ_CHECK(!c->smtp || strncasecmp(c->smtp, "smtp://", 7) == 0 ||
		   strncasecmp(c->smtp, "smtps://", 8) == 0, "smtp scheme");
	FUZZ_CHECK(!c->unsubscribe_url ||
		   strncasecmp(c->unsubscribe_url, "http://", 7) == 0 ||
		   strncasecmp(c->unsubscribe_url, "https://", 8) == 0,
		   "unsubscribe_url scheme");
	FUZZ_CHECK(!c->rate == !(c->rate_per_sec > 0),
		   "rate '%s' but rate_per_sec %g", c->rate ? c->rate : "",
		   c->rate_per_sec);
	FUZZ_CHECK(!c->dkim_domain == !c->dkim_selector &&
		   !c->dkim_domain == !c->dkim_key, "dkim half set");
	config_free(c);
rate:
	close(fd);
	str = strndup((const char *)data + 1, size - 1);
	FUZZ_CHECK(str, "out of memory");
	if (config_parse_rate(str, &per, &cnt, &secs) == 0)
		FUZZ_CHECK(per > 0 && isfinite(per) && cnt >= 0 && secs >= 0,
			   "rate '%s' parsed as %g, %ld/%ld s", str, per, cnt,
			   secs);
	free(str);
	return 0;
}
