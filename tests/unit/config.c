/*
 * config.t - cli/config.c: the configuration file.
 *
 * Config files are written by the test into a temporary directory (the
 * password rule depends on file modes, which git does not keep).  Every
 * error case checks the kind and the whole "FILE:LINE:COL: message".
 */
#include <dirent.h>
#include <errno.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "tests/tap.h"

static char tmpdir[256];

static const char *
write_cfg(const char *name, const char *text, mode_t mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (!f || fputs(text, f) == EOF || fclose(f) || chmod(path, mode)) {
		diag("cannot write %s: %s", path, strerror(errno));
		exit(1);
	}
	return path;
}

/* Expect failure of kind with message path + rest. */
static void
expect_err(const char *name, const char *text, mode_t mode,
	   enum nl_errkind kind, const char *rest)
{
	struct config *c = (struct config *)1;
	const char *path = write_cfg(name, text, mode);
	struct nl_err e;
	char want[2048];
	int r;

	nl_err_clear(&e);
	r = config_load(path, &c, &e);
	snprintf(want, sizeof want, "%s%s", path, rest);
	ok(r == -1 && c == NULL, "%s: fails, no config", name);
	is_str(nl_errkind_name(e.kind), nl_errkind_name(kind), "%s: kind",
	       name);
	is_str(e.msg, want, "%s: message", name);
	ok(!strstr(e.msg, "hunter2"), "%s: no password in the message", name);
	if (r == 0)
		config_free(c);
}

static struct config *
load_ok(const char *path, const char *name)
{
	struct config *c = NULL;
	struct nl_err e;

	nl_err_clear(&e);
	if (!ok(config_load(path, &c, &e) == 0 && c, "%s loads", name))
		diag("error: %s", e.msg);
	return c;
}

static void
test_full(void)
{
	static const char text[] =
		"# every key\n"
		"smtp: smtps://mail.example.org:465\n"
		"user: notes\n"
		"password: hunter2\n"
		"password_command: pass show mail\n"
		"from: Harbour Notes <notes@harbour.example>\n"
		"return_path: bounces@harbour.example\n"
		"list_id: notes.harbour.example\n"
		"unsubscribe_url: https://harbour.example/u?t={{token}}\n"
		"unsubscribe_mailto: unsub@harbour.example\n"
		"lists_dir: lists\n"
		"concurrency: 8\n"
		"rate: 2000/day\n"
		"image_base_url: https://img.harbour.example/\n"
		"unsubscribe_secret: 'sekrit'\n"
		"template_dir: /srv/templates\n"
		"dkim:\n"
		"  domain: harbour.example\n"
		"  selector: s2021\n"
		"  key: ~/keys/dkim.pem\n";
	char want[1024];
	struct config *c;
	const char *path, *home = getenv("HOME");

	path = write_cfg("full.yaml", text, 0600);
	c = load_ok(path, "every key");
	if (!c)
		return;
	is_str(c->path, path, "path");
	is_str(c->dir, tmpdir, "dir");
	is_str(c->smtp, "smtps://mail.example.org:465", "smtp");
	is_str(c->user, "notes", "user");
	is_str(c->password, "hunter2", "password");
	is_str(c->password_command, "pass show mail", "password_command");
	is_str(c->from, "Harbour Notes <notes@harbour.example>", "from");
	is_str(c->return_path, "bounces@harbour.example", "return_path");
	is_str(c->list_id, "notes.harbour.example", "list_id");
	is_str(c->unsubscribe_url, "https://harbour.example/u?t={{token}}",
	       "unsubscribe_url kept as a template");
	is_str(c->unsubscribe_mailto, "unsub@harbour.example",
	       "unsubscribe_mailto");
	snprintf(want, sizeof want, "%s/lists", tmpdir);
	is_str(c->lists_dir, want, "relative lists_dir: beside the config");
	is_int(c->concurrency, 8, "concurrency");
	is_str(c->rate, "2000/day", "rate as written");
	is_int(c->window_count, 2000, "window count");
	is_int(c->window_seconds, 86400, "window seconds");
	ok(c->rate_per_sec > 0.0231 && c->rate_per_sec < 0.0232,
	   "rate per second %f", c->rate_per_sec);
	is_str(c->image_base_url, "https://img.harbour.example/",
	       "image_base_url");
	is_str(c->unsubscribe_secret, "sekrit", "unsubscribe_secret");
	is_str(c->template_dir, "/srv/templates", "absolute template_dir");
	is_str(c->dkim_domain, "harbour.example", "dkim domain");
	is_str(c->dkim_selector, "s2021", "dkim selector");
	if (home && *home) {
		snprintf(want, sizeof want, "%s/keys/dkim.pem", home);
		is_str(c->dkim_key, want, "dkim key: ~/ is $HOME");
	}
	config_free(c);
}

static void
test_values(void)
{
	struct config *c;

	c = load_ok(write_cfg("empty.yaml", "", 0644), "an empty file");
	if (c) {
		ok(!c->smtp && !c->password && c->concurrency == 0 &&
		   c->rate_per_sec == 0.0 && !c->dkim_key, "all unset");
		config_free(c);
	}
	c = load_ok(write_cfg("comments.yaml", "# nothing yet\n", 0644),
		    "only comments");
	config_free(c);
	c = load_ok(write_cfg("rate5.yaml", "rate: 5\nsmtp: SMTP://relay\n"
			      "password:\nconcurrency: 64\n", 0644),
		    "rate 5, a null password in a 0644 file");
	if (c) {
		ok(c->rate_per_sec == 5.0 && c->window_count == 0 &&
		   c->window_seconds == 0, "5 per second, no window");
		ok(!c->password, "password: (null) is unset");
		is_str(c->smtp, "SMTP://relay", "scheme in any case");
		is_int(c->concurrency, 64, "concurrency 64");
		config_free(c);
	}
	c = load_ok(write_cfg("rate-h.yaml", "rate: 100/hour\n", 0644),
		    "100/hour");
	if (c) {
		ok(c->window_count == 100 && c->window_seconds == 3600,
		   "100 per 3600 s");
		config_free(c);
	}
	c = load_ok(write_cfg("pw.yaml", "password: hunter2\n", 0600),
		    "a password in a 0600 file");
	config_free(c);
	c = load_ok(write_cfg("pw400.yaml", "password: hunter2\n", 0400),
		    "a password in a 0400 file");
	config_free(c);
}

static void
test_errors(void)
{
	expect_err("unknown.yaml", "smtp: smtp://x\nconcurency: 4\n", 0644,
		   NL_ECONFIG, ":2:1: unknown key 'concurency'");
	expect_err("dup.yaml", "rate: 5\nrate: 6\n", 0644, NL_ECONFIG,
		   ":2:1: duplicate key 'rate' (first at line 1)");
	expect_err("listid-utf8.yaml", "list_id: nouvelles.h\xc3\xa9" "bergeur.example\n",
		   0644, NL_ECONFIG, ":1:10: 'list_id' must be LABEL.DOMAIN in "
		   "ASCII letters, digits and dots (RFC 2919; byte 12 is not)");
	expect_err("listid-nodot.yaml", "list_id: notes\n", 0644, NL_ECONFIG,
		   ":1:10: 'list_id' must be LABEL.DOMAIN in ASCII letters, "
		   "digits and dots (RFC 2919; it has no dot)");
	expect_err("listid-space.yaml", "list_id: \"a b.example\"\n", 0644,
		   NL_ECONFIG, ":1:10: 'list_id' must be LABEL.DOMAIN in ASCII "
		   "letters, digits and dots (RFC 2919; byte 2 is not)");
	expect_err("conc0.yaml", "concurrency: 0\n", 0644, NL_ECONFIG,
		   ":1:14: 'concurrency' must be a whole number from 1 to 64");
	expect_err("conc65.yaml", "concurrency: 65\n", 0644, NL_ECONFIG,
		   ":1:14: 'concurrency' must be a whole number from 1 to 64");
	expect_err("conc-x.yaml", "concurrency: four\n", 0644, NL_ECONFIG,
		   ":1:14: 'concurrency' must be a whole number from 1 to 64");
	expect_err("conc-list.yaml", "concurrency: [4]\n", 0644, NL_ECONFIG,
		   ":1:14: 'concurrency' must be a whole number, not a list");
	expect_err("rate-bad.yaml", "rate: 2000/week\n", 0644, NL_ECONFIG,
		   ":1:7: 'rate' must be N (messages per second), or "
		   "N/second, N/minute, N/hour or N/day");
	expect_err("rate-zero.yaml", "rate: 0\n", 0644, NL_ECONFIG,
		   ":1:7: 'rate' must be N (messages per second), or "
		   "N/second, N/minute, N/hour or N/day");
	expect_err("rate-neg.yaml", "rate: -5\n", 0644, NL_ECONFIG,
		   ":1:7: 'rate' must be N (messages per second), or "
		   "N/second, N/minute, N/hour or N/day");
	expect_err("smtp-http.yaml", "\nsmtp: http://mail.example\n", 0644,
		   NL_ECONFIG, ":2:7: 'smtp' must be smtp://host[:port] or "
		   "smtps://host[:port]");
	expect_err("smtp-nohost.yaml", "smtp: smtp://\n", 0644, NL_ECONFIG,
		   ":1:7: 'smtp' must be smtp://host[:port] or "
		   "smtps://host[:port]");
	expect_err("unsub.yaml", "unsubscribe_url: example.com/u\n", 0644,
		   NL_ECONFIG, ":1:18: 'unsubscribe_url' must be an https:// "
		   "(or http://) URL");
	expect_err("smtp-map.yaml", "smtp:\n  host: x\n", 0644, NL_ECONFIG,
		   ":2:3: 'smtp' must be a string, not a mapping");
	expect_err("dkim-part.yaml", "dkim:\n  domain: d.example\n", 0644,
		   NL_ECONFIG, ":2:3: 'dkim' needs 'domain', 'selector' and "
		   "'key' (missing 'selector')");
	expect_err("dkim-key.yaml", "dkim: {domain: d, selector: s, key: k,"
		   " algo: rsa}\n", 0644, NL_ECONFIG,
		   ":1:40: unknown key 'algo' in 'dkim'");
	expect_err("dkim-str.yaml", "dkim: yes\n", 0644, NL_ECONFIG,
		   ":1:7: 'dkim' must be a mapping, not a string");
	expect_err("top-list.yaml", "- smtp\n", 0644, NL_ECONFIG,
		   ":1:1: expected a mapping of keys, found a list");
	expect_err("syntax.yaml", "user: \"open\nrate: 5\n", 0644,
		   NL_ECONFIG, ":1:7: found unexpected end of stream at line "
		   "3, column 1 (while scanning a quoted scalar that starts "
		   "here)");
	expect_err("alias.yaml", "user: &u me\nfrom: *u\n", 0644,
		   NL_ECONFIG, ":1:7: anchors and aliases are not supported");
	expect_err("utf8.yaml", "user: \xff\n", 0644, NL_ECONFIG,
		   ":1:7: invalid UTF-8 (byte offset 6)");
	expect_err("user-lf.yaml", "user: \"a\\nb\"\n", 0644, NL_ECONFIG,
		   ":1:7: line break in 'user' (a value must be one line)");
	/* The password's own errors must not show it. */
	expect_err("pw-lf.yaml", "password: \"hunter2\\r\\nx\"\n", 0600,
		   NL_ECONFIG, ":1:11: line break in 'password' (a value "
		   "must be one line)");
	expect_err("pw-map.yaml", "password: {hunter2: x}\n", 0600,
		   NL_ECONFIG, ":1:11: 'password' must be a string, not a "
		   "mapping");
	expect_err("pw-nul.yaml", "password: \"hunter2\\0\"\n", 0600,
		   NL_ECONFIG, ":1:11: NUL character in 'password'");

	/* A password others (or the group) can read is refused. */
	{
		char rest[600];

		snprintf(rest, sizeof rest, ": holds a password but is "
			 "readable by others (chmod 600 %s/pw644.yaml)",
			 tmpdir);
		expect_err("pw644.yaml", "smtp: smtps://m.example\npassword: "
			   "hunter2\n", 0644, NL_ECONFIG, rest);
		snprintf(rest, sizeof rest, ": holds a password but is "
			 "readable by others (chmod 600 %s/pw640.yaml)",
			 tmpdir);
		expect_err("pw640.yaml", "password: hunter2\n", 0640,
			   NL_ECONFIG, rest);
		snprintf(rest, sizeof rest, ": holds a password but is "
			 "readable by others (chmod 600 %s/pw604.yaml)",
			 tmpdir);
		expect_err("pw604.yaml", "password: hunter2\n", 0604,
			   NL_ECONFIG, rest);
		/* A password inside the URL is a password too. */
		snprintf(rest, sizeof rest, ": holds a password but is "
			 "readable by others (chmod 600 %s/pw-url.yaml)",
			 tmpdir);
		expect_err("pw-url.yaml", "smtp: smtps://ada:hunter2@m.example\n",
			   0644, NL_ECONFIG, rest);
	}
}

/* First of all: nothing before it may have held a password. */
static void
test_dumpable(void)
{
	struct config *c = NULL;
	struct nl_err e;
	const char *p = write_cfg("user-url.yaml",
				  "smtp: smtps://ada@m.example\n", 0644);

	ok(config_load(p, &c, &e) == 0, "a user without a password in "
	   "the URL needs no 0600");
	config_free(c);
	ok(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1, "no secret: the "
	   "process may dump core");
	p = write_cfg("pw-url-600.yaml",
		      "smtp: smtps://ada:hunter2@m.example\n", 0600);
	c = NULL;
	ok(config_load(p, &c, &e) == 0, "the URL password in a 0600 file");
	config_free(c);
	ok(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "once a password "
	   "is held the process is not dumpable (no core with it)");
}

static void
test_search(void)
{
	char cwd[1024], xdg[300], path[400], want[800];
	struct config *c;
	struct nl_err e;
	int r;

	/* An explicit path that is missing. */
	snprintf(path, sizeof path, "%s/none.yaml", tmpdir);
	c = (struct config *)1;
	r = config_load(path, &c, &e);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	ok(r == -1 && !c && e.kind == NL_ENOINPUT, "explicit missing: noinput");
	is_str(e.msg, want, "explicit missing: message");

	if (!getcwd(cwd, sizeof cwd) || chdir(tmpdir)) {
		diag("chdir: %s", strerror(errno));
		exit(1);
	}
	/* Nothing anywhere: an empty config. */
	snprintf(xdg, sizeof xdg, "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	c = load_ok(NULL, "no config anywhere");
	if (c) {
		ok(!c->path && !c->smtp, "empty config, no path");
		config_free(c);
	}
	/* $XDG_CONFIG_HOME/nlsend/config.yaml. */
	mkdir(xdg, 0700);
	snprintf(path, sizeof path, "%s/nlsend", xdg);
	mkdir(path, 0700);
	write_cfg("xdg/nlsend/config.yaml", "user: from-xdg\n"
		  "lists_dir: l\n", 0600);
	c = load_ok(NULL, "found in XDG_CONFIG_HOME");
	if (c) {
		is_str(c->user, "from-xdg", "the XDG file");
		snprintf(want, sizeof want, "%s/nlsend/config.yaml", xdg);
		is_str(c->path, want, "its path");
		snprintf(want, sizeof want, "%s/nlsend/l", xdg);
		is_str(c->lists_dir, want, "lists_dir beside it");
		config_free(c);
	}
	/* ./nlsend.yaml wins over it. */
	write_cfg("nlsend.yaml", "user: from-cwd\nlists_dir: l\n", 0600);
	c = load_ok(NULL, "found in the working directory");
	if (c) {
		is_str(c->user, "from-cwd", "./nlsend.yaml first");
		is_str(c->path, "./nlsend.yaml", "its path");
		is_str(c->lists_dir, "l", "lists_dir relative to '.' as is");
		config_free(c);
	}
	/* Errors in a found file are reported with its path. */
	write_cfg("nlsend.yaml", "usr: x\n", 0600);
	c = (struct config *)1;
	r = config_load(NULL, &c, &e);
	ok(r == -1 && !c && e.kind == NL_ECONFIG, "bad ./nlsend.yaml fails");
	is_str(e.msg, "./nlsend.yaml:1:1: unknown key 'usr'",
	       "bad ./nlsend.yaml message");
	unlink("nlsend.yaml");
	/* Without XDG_CONFIG_HOME (or a relative one): $HOME/.config. */
	setenv("XDG_CONFIG_HOME", "relative/ignored", 1);
	setenv("HOME", tmpdir, 1);
	snprintf(path, sizeof path, "%s/.config", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.config/nlsend", tmpdir);
	mkdir(path, 0700);
	write_cfg(".config/nlsend/config.yaml", "user: from-home\n", 0600);
	c = load_ok(NULL, "found in ~/.config");
	if (c) {
		is_str(c->user, "from-home", "the ~/.config file");
		config_free(c);
	}
	if (chdir(cwd))
		exit(1);
}

static void
test_rate(void)
{
	static const struct {
		const char *s;
		int r;
		double per_sec;
		long count, secs;
	} cases[] = {
		{ "5", 0, 5.0, 0, 0 },
		{ "0.5", 0, 0.5, 0, 0 },
		{ "12.25", 0, 12.25, 0, 0 },
		{ "10/second", 0, 10.0, 10, 1 },
		{ "60/minute", 0, 1.0, 60, 60 },
		{ "7200/hour", 0, 2.0, 7200, 3600 },
		{ "86400/day", 0, 1.0, 86400, 86400 },
		{ "0", -1, 0, 0, 0 },
		{ "0.0", -1, 0, 0, 0 },
		{ ".5", -1, 0, 0, 0 },
		{ "5.", -1, 0, 0, 0 },
		{ "1e3", -1, 0, 0, 0 },
		{ "inf", -1, 0, 0, 0 },
		{ "5 ", -1, 0, 0, 0 },
		{ "0/day", -1, 0, 0, 0 },
		{ "-1/day", -1, 0, 0, 0 },
		{ "2000/days", -1, 0, 0, 0 },
		{ "/day", -1, 0, 0, 0 },
		{ "", -1, 0, 0, 0 },
	};
	double ps;
	long n, s;
	size_t i;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ps = -1;
		n = s = -1;
		r = config_parse_rate(cases[i].s, &ps, &n, &s);
		ok(r == cases[i].r && (r || (ps == cases[i].per_sec &&
					     n == cases[i].count &&
					     s == cases[i].secs)),
		   "rate '%s' -> %d (got %d %g %ld/%ld)", cases[i].s,
		   cases[i].r, r, ps, n, s);
	}
}

static void
cleanup_dir(const char *dir)
{
	char path[1024];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			cleanup_dir(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/nlsend-config-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	test_dumpable();
	test_full();
	test_values();
	test_errors();
	test_rate();
	test_search();
	cleanup_dir(tmpdir);
	return done_testing();
}
