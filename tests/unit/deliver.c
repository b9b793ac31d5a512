/*
 * Engine tests of send/deliver against real servers on 127.0.0.1:
 * Postfix's smtp-sink (bulk, byte-identical, kill -9) and tests/lib/smtpd.py
 * (aiosmtpd, scripted per recipient: 4xx, 5xx, drops, slow replies, TLS,
 * AUTH).  Every server is started here, bounded by --lifetime or by us,
 * and stopped by PID.  The whole program is bounded by alarm().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "send/deliver.h"
#include "tests/unit/jopen.h"
#include "tests/tap.h"

static char tmp[] = "/tmp/nldeliver.XXXXXX";
static const char *top = ".";
static char tlsdir[600];
static int have_tls;

/* ---- a source of N generated subscribers -------------------------------- */

struct tsrc {
	unsigned long n, i, base;
	size_t big;		/* extra body bytes */
	unsigned long stop_after;	/* set *stop after this many composes */
	volatile int *stop;
	int stop_value;		/* what to set *stop to (default 1) */
	pid_t kill_pid;		/* SIGKILL this server after kill_after */
	unsigned long kill_after;
	unsigned long composed;
	char email[128], name[64];
};

static void
addr_of(unsigned long k, char *out, size_t len)
{
	snprintf(out, len, "user%05lu@example.org", k);
}

/* The message for recipient k: dot lines to exercise dot-stuffing, CRLF. */
static void
make_msg(unsigned long k, size_t big, struct buf *b)
{
	char a[128];
	size_t i;

	addr_of(k, a, sizeof a);
	buf_printf(b, "From: Test <sender@example.org>\r\nTo: <%s>\r\n"
		   "Subject: Issue 1 for %s\r\nMessage-ID: <%lu.1@example.org>"
		   "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
		   "charset=utf-8\r\n\r\nHello user %lu,\r\n.a line with a "
		   "leading dot\r\n..and two\r\n.\r\nlast line\r\n", a, a, k, k);
	for (i = 0; i < big; i += 76)
		buf_adds(b, "0123456789012345678901234567890123456789012345678"
			 "901234567890123456789012345\r\n");
}

static int
t_next(void *arg, struct subscriber *s, struct nl_err *err)
{
	struct tsrc *t = arg;

	(void)err;
	if (t->i >= t->n)
		return 0;
	memset(s, 0, sizeof *s);
	addr_of(t->base + t->i, t->email, sizeof t->email);
	snprintf(t->name, sizeof t->name, "User %lu", t->base + t->i);
	s->email = t->email;
	s->name = t->name;
	s->file = "generated";
	s->line = t->i + 1;
	t->i++;
	return 1;
}

static int
t_compose(void *arg, const struct subscriber *s, int variant, struct buf *out,
	  struct nl_err *err)
{
	struct tsrc *t = arg;
	unsigned long k;

	if (sscanf(s->email, "user%lu@", &k) != 1)
		return nl_err_set(err, NL_EDATA, "bad test address %s",
				  s->email);
	make_msg(k, t->big, out);
	t->composed++;
	if (t->stop && t->stop_after && t->composed >= t->stop_after)
		*t->stop = t->stop_value ? t->stop_value : 1;
	if (t->kill_pid > 0 && t->composed == t->kill_after)
		kill(t->kill_pid, SIGKILL);
	return 0;
}

/* ---- processes ---------------------------------------------------------- */

static void
stop_pid(pid_t pid)
{
	int i, st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* Start smtpd.py with the given options (NULL-terminated); its port. */
static pid_t
smtpd(const char *dir, int *port, ...)
{
	char *argv[40], script[700], line[32];
	int pfd[2], n = 0, len = 0;
	struct pollfd p;
	va_list ap;
	pid_t pid;
	ssize_t r;

	snprintf(script, sizeof script, "%s/tests/lib/smtpd.py", top);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = script;
	argv[n++] = "--dir";
	argv[n++] = (char *)dir;
	argv[n++] = "--lifetime";
	argv[n++] = "300";
	va_start(ap, port);
	while (n < 38 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	mkdir(dir, 0700);
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	p.fd = pfd[0];
	p.events = POLLIN;
	while (len < (int)sizeof line - 1 && poll(&p, 1, 15000) == 1) {
		r = read(pfd[0], line + len, sizeof line - 1 - (size_t)len);
		if (r <= 0)
			break;
		len += (int)r;
		if (memchr(line, '\n', (size_t)len))
			break;
	}
	close(pfd[0]);
	line[len] = '\0';
	*port = atoi(line);
	if (*port <= 0) {
		diag("smtpd.py did not start");
		stop_pid(pid);
		return -1;
	}
	return pid;
}

static int
can_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(0x7f000001);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* smtp-sink dumping every message to DIR/; a random free port. */
static pid_t
sink(const char *dir, int *port)
{
	char tmpl[700], addr[64];
	int tries, i, st;
	pid_t pid;

	mkdir(dir, 0700);
	snprintf(tmpl, sizeof tmpl, "%s/%%M.", dir);
	for (tries = 0; tries < 20; tries++) {
		*port = 20000 + rand() % 40000;
		snprintf(addr, sizeof addr, "127.0.0.1:%d", *port);
		pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			if (geteuid() == 0)
				execl("/usr/sbin/smtp-sink", "smtp-sink", "-u",
				      "root", "-d", tmpl, addr, "100",
				      (char *)NULL);
			else
				execl("/usr/sbin/smtp-sink", "smtp-sink", "-d",
				      tmpl, addr, "100", (char *)NULL);
			_exit(127);
		}
		for (i = 0; i < 40; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				break;
			if (can_connect(*port))
				return pid;
			usleep(50000);
		}
		stop_pid(pid);
	}
	return -1;
}

/* ---- reading what the servers got ----------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1))) {
		*len = fread(p, 1, (size_t)n, f);
		p[*len] = '\0';
	}
	fclose(f);
	return p;
}

/* Lines of DIR/log.jsonl containing a and (when not NULL) b. */
static int
count_log(const char *dir, const char *a, const char *b)
{
	char path[700], *s, *line, *save = NULL;
	size_t len;
	int n = 0;

	snprintf(path, sizeof path, "%s/log.jsonl", dir);
	s = slurp(path, &len);
	if (!s)
		return 0;
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	free(s);
	return n;
}

/*
 * Check every "message" event of smtpd.py: the file holds exactly the
 * composed bytes for its recipient.  counts[k] per recipient index.
 * Returns the number of mismatches.
 */
static int
check_smtpd_msgs(const char *dir, size_t big, unsigned *counts,
		 unsigned long n)
{
	char path[700], *s, *line, *save = NULL, *p, file[64];
	size_t len, flen;
	unsigned long k;
	int bad = 0;
	struct buf want;

	snprintf(path, sizeof path, "%s/log.jsonl", dir);
	s = slurp(path, &len);
	if (!s)
		return 1;
	buf_init(&want, 0);
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *got;
		if (!strstr(line, "\"ev\": \"message\"") ||
		    strstr(line, "\"late\": true"))
			continue;
		p = strstr(line, "\"rcpt\": [\"user");
		if (!p || sscanf(p, "\"rcpt\": [\"user%lu@", &k) != 1 ||
		    k >= n) {
			bad++;
			continue;
		}
		p = strstr(line, "\"file\": \"");
		if (!p || sscanf(p, "\"file\": \"%63[^\"]", file) != 1) {
			bad++;
			continue;
		}
		counts[k]++;
		snprintf(path, sizeof path, "%s/%s", dir, file);
		got = slurp(path, &flen);
		buf_reset(&want);
		make_msg(k, big, &want);
		if (!got || flen != want.len || memcmp(got, want.data, flen)) {
			if (bad++ < 3)
				diag("message for user%05lu differs (%zu vs "
				     "%zu bytes)", k, got ? flen : 0, want.len);
		}
		free(got);
	}
	buf_free(&want);
	free(s);
	return bad;
}

/* smtp-sink's dumps: its own header lines (X-... and a 3-line Received:),
 * then the message with LF line ends and dot-stuffing undone, then one
 * empty line. */
static int
check_sink_dumps(const char *dir, unsigned *counts, unsigned long n)
{
	DIR *dd = opendir(dir);
	struct dirent *de;
	struct buf want, lf;
	int bad = 0;

	if (!dd)
		return 1;
	buf_init(&want, 0);
	buf_init(&lf, 0);
	while ((de = readdir(dd))) {
		char path[1000], *s, *p;
		size_t len, i;
		unsigned long k;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		s = slurp(path, &len);
		if (!s)
			continue;
		p = strstr(s, "\nX-Rcpt-Args: <user");
		if (!p || sscanf(p, "\nX-Rcpt-Args: <user%lu@", &k) != 1 ||
		    k >= n || !(p = strstr(s, "\nReceived: "))) {
			bad++;
			free(s);
			continue;
		}
		p = strchr(p + 1, '\n');		/* by ... */
		p = p ? strchr(p + 1, '\n') : NULL;	/* date */
		p = p ? strchr(p + 1, '\n') : NULL;
		if (!p) {
			bad++;
			free(s);
			continue;
		}
		p++;
		counts[k]++;
		buf_reset(&want);
		buf_reset(&lf);
		make_msg(k, 0, &want);
		for (i = 0; i < want.len; i++) {
			if (want.data[i] == '\r')
				continue;
			/* undo nothing: the sink undid the dot-stuffing */
			buf_addc(&lf, want.data[i]);
		}
		buf_addc(&lf, '\n');
		if ((size_t)(s + len - p) != lf.len ||
		    memcmp(p, lf.data, lf.len)) {
			if (bad++ < 3)
				diag("dump %s differs from the composed "
				     "message", de->d_name);
		}
		free(s);
	}
	closedir(dd);
	buf_free(&want);
	buf_free(&lf);
	return bad;
}

/* ---- running ---------------------------------------------------------------- */

static char url_buf[128];

static const char *
url(const char *scheme, int port)
{
	snprintf(url_buf, sizeof url_buf, "%s://127.0.0.1:%d", scheme, port);
	return url_buf;
}

static void
conf_init(struct deliver_conf *c, const char *u, struct journal *j)
{
	memset(c, 0, sizeof *c);
	c->url = u;
	c->tls = 0;
	c->mail_from = "bounces@example.org";
	c->concurrency = 4;
	c->timeout_ms = 10000;
	c->backoff_ms = 100;
	c->issue_id = "2024-05-issue";
	c->journal = j;
	c->quiet = 1;
}

static int
run(struct deliver_conf *c, struct tsrc *t, struct deliver_stats *st,
    struct nl_err *e)
{
	struct deliver_src src = { t_next, t_compose, t };

	t->i = 0;
	nl_err_clear(e);
	return deliver_run(c, &src, st, e);
}

static struct journal *
jopen(const char *name)
{
	char path[700];
	struct journal *j = NULL;
	struct nl_err e;

	snprintf(path, sizeof path, "%s/%s.db", tmp, name);
	if (open_journal(path, &j, &e))
		diag("journal_open: %s", e.msg);
	return j;
}

static unsigned long
jcount(struct journal *j, enum jstate s)
{
	unsigned long c[J_NSTATES];
	struct nl_err e;

	if (journal_counts(j, "2024-05-issue", c, &e))
		return (unsigned long)-1;
	return c[s];
}

static unsigned long
jtotal(struct journal *j)
{
	unsigned long c[J_NSTATES];
	struct nl_err e;
	int i;
	unsigned long n = 0;

	if (journal_counts(j, "2024-05-issue", c, &e))
		return (unsigned long)-1;
	for (i = 0; i < J_NSTATES; i++)
		n += c[i];
	return n;
}

static int
all_once(const unsigned *counts, unsigned long n, unsigned long *lost,
	 unsigned long *dups)
{
	unsigned long k;

	*lost = *dups = 0;
	for (k = 0; k < n; k++) {
		if (!counts[k])
			(*lost)++;
		else
			*dups += counts[k] - 1;
	}
	return *lost == 0 && *dups == 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run with stderr captured to a file; returns the text (free it). */
static char *
run_captured(struct deliver_conf *c, struct tsrc *t, struct deliver_stats *st,
	     struct nl_err *e, int *rc)
{
	char path[700];
	int fd, saved;
	size_t len;

	snprintf(path, sizeof path, "%s/stderr.txt", tmp);
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	*rc = run(c, t, st, e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return slurp(path, &len);
}

/* Does the file (or its -wal) contain s? */
static int
file_has(const char *path, const char *s)
{
	char p2[800];
	size_t len, n = strlen(s), i;
	char *d;
	int found = 0, k;

	for (k = 0; k < 2 && !found; k++) {
		snprintf(p2, sizeof p2, "%s%s", path, k ? "-wal" : "");
		d = slurp(p2, &len);
		if (!d)
			continue;
		for (i = 0; i + n <= len && !found; i++)
			found = memcmp(d + i, s, n) == 0;
		free(d);
	}
	return found;
}

/* ---- the tests ---------------------------------------------------------------- */

static void
test_sink_bulk(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("bulk");
	struct tsrc t = { .n = 300 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[300] = { 0 };
	unsigned long lost, dups;
	int r;

	snprintf(dir, sizeof dir, "%s/sink-bulk", tmp);
	pid = sink(dir, &port);
	if (pid < 0 || !j) {
		ok(0, "smtp-sink started");
		return;
	}
	conf_init(&c, url("smtp", port), j);
	r = run(&c, &t, &st, &e);
	ok(r == 0, "300 to smtp-sink: run completes (%s)", e.msg);
	is_int(st.sent, 300, "300 sent");
	ok(st.failed == 0 && st.deferred == 0, "nothing failed or deferred");
	is_int(st.reconnects, 0, "connections were reused (no reconnect)");
	is_int(jcount(j, J_SENT), 300, "journal: 300 sent");
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 0 && st.skipped == 300, "a second run sends "
	   "nothing (sent %lu, skipped %lu)", st.sent, st.skipped);
	close_journal(j);
	stop_pid(pid);
	is_int(check_sink_dumps(dir, counts, 300), 0, "every dump is the "
	       "composed message");
	r = all_once(counts, 300, &lost, &dups);
	ok(r, "each received exactly once "
	   "(lost %lu, duplicates %lu)", lost, dups);
}

static void
test_smtpd_basic(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("basic");
	struct tsrc t = { .n = 40 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[40] = { 0 };
	unsigned long lost, dups;
	int r;

	snprintf(dir, sizeof dir, "%s/basic", tmp);
	pid = smtpd(dir, &port, NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), j);
	c.concurrency = 3;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 40, "40 sent through 3 connections (%s)",
	   e.msg);
	stop_pid(pid);
	ok(count_log(dir, "\"ev\": \"connect\"", NULL) <= 3, "at most 3 "
	   "connections for 40 messages (%d)",
	   count_log(dir, "\"ev\": \"connect\"", NULL));
	is_int(count_log(dir, "\"line\": \"503", NULL), 0, "never a 503 (no "
	       "transaction ever started on a dirty one)");
	is_int(count_log(dir, "\"ev\": \"mail\"", "bounces@example.org"), 41,
	       "MAIL FROM <bounces@example.org> 40 times + the probe");
	is_int(check_smtpd_msgs(dir, 0, counts, 40), 0, "server got the "
	       "composed bytes (CRLF, dots)");
	r = all_once(counts, 40, &lost, &dups);
	ok(r, "each exactly once (lost %lu, "
	   "dups %lu)", lost, dups);
	close_journal(j);
}

static void
test_big_message(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct tsrc t = { .n = 3, .big = 3 * 1024 * 1024 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[3] = { 0 };
	int r;

	snprintf(dir, sizeof dir, "%s/big", tmp);
	pid = smtpd(dir, &port, NULL);
	if (pid < 0) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), NULL);
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 3, "3 messages of 3 MB sent, no journal (%s)",
	   e.msg);
	stop_pid(pid);
	is_int(check_smtpd_msgs(dir, t.big, counts, 3), 0, "3 MB messages "
	       "arrive byte for byte");
}

static void
test_max_per_connection(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct tsrc t = { .n = 20 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	int r;

	snprintf(dir, sizeof dir, "%s/mpc", tmp);
	pid = smtpd(dir, &port, "--max-per-session", "5", NULL);
	if (pid < 0) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), NULL);
	c.concurrency = 1;
	c.max_per_connection = 5;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 20 && st.retries == 0, "max_per_connection "
	   "5: 20 sent, no retry (%s)", e.msg);
	stop_pid(pid);
	is_int(count_log(dir, "\"ev\": \"connect\"", NULL), 4, "4 connections "
	       "for 20 messages");
	is_int(count_log(dir, "\"line\": \"421", NULL), 0, "the server's cap "
	       "was never hit");
	is_int(count_log(dir, "\"ev\": \"quit\"", NULL), 4, "each closed with "
	       "QUIT");

	/* Without the option: the server's 421 at its cap is a reconnect. */
	snprintf(dir, sizeof dir, "%s/mpc421", tmp);
	pid = smtpd(dir, &port, "--max-per-session", "4", NULL);
	conf_init(&c, url("smtp", port), NULL);
	c.concurrency = 2;
	t.n = 20;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 20 && st.deferred == 0, "421 Too many "
	   "messages: reconnected, all 20 sent (retries %lu)", st.retries);
	stop_pid(pid);
	ok(count_log(dir, "\"line\": \"421", NULL) >= 1, "the server did say "
	   "421");
	is_int(count_log(dir, "\"ev\": \"message\"", NULL), 20, "20 "
	       "messages, no duplicate");
}

static void
test_drop_after(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct tsrc t = { .n = 30 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[30] = { 0 };
	unsigned long lost, dups;
	int r;

	snprintf(dir, sizeof dir, "%s/drop", tmp);
	pid = smtpd(dir, &port, "--drop-after", "3", NULL);
	if (pid < 0) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), NULL);
	c.concurrency = 2;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 30 && st.deferred == 0, "connection dropped "
	   "after every 3rd message: all 30 sent (%s)", e.msg);
	stop_pid(pid);
	ok(count_log(dir, "\"ev\": \"connect\"", NULL) >= 10, "it did "
	   "reconnect (%d connections)",
	   count_log(dir, "\"ev\": \"connect\"", NULL));
	check_smtpd_msgs(dir, 0, counts, 30);
	r = all_once(counts, 30, &lost, &dups);
	ok(r, "each exactly once (lost %lu, "
	   "dups %lu)", lost, dups);
}

static void
test_4xx_5xx(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("codes");
	struct tsrc t = { .n = 6 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	struct jrow row;
	int r;

	snprintf(dir, sizeof dir, "%s/codes", tmp);
	/* user00000: 451 twice then accepted in the run;
	 * user00001: 451 four times: deferred after 3, sent next run;
	 * user00002: 550 at RCPT; user00003: 554 after DATA;
	 * user00004: 452 after DATA twice. */
	pid = smtpd(dir, &port,
		    "--rule", "user00000@example.org=rcpt:451 4.7.1 Greylisted,"
		    "rcpt:451 4.7.1 Greylisted",
		    "--rule", "user00001@example.org=rcpt:451 4.3.0 A,"
		    "rcpt:451 4.3.0 B,rcpt:451 4.3.0 C,rcpt:451 4.3.0 D",
		    "--rule", "user00002@example.org=rcpt:550 5.1.1 No such user",
		    "--rule", "user00003@example.org=data:554 5.7.1 Spam",
		    "--rule", "user00004@example.org=data:452 4.3.1 Full,"
		    "data:452 4.3.1 Full",
		    NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), j);
	c.concurrency = 2;
	r = run(&c, &t, &st, &e);
	ok(r == 0, "run completes (%s)", e.msg);
	is_int(st.sent, 3, "sent: 451 twice then accept, 452 twice then "
	       "accept, and the plain one");
	is_int(st.failed, 2, "failed: the 550 and the 554");
	is_int(st.deferred, 1, "deferred: 451 four times");
	journal_get_row(j, c.issue_id, "user00000@example.org", &row, &e);
	ok(row.state == J_SENT && row.attempts == 3, "451 twice: sent at the "
	   "3rd attempt (%s, %ld)", jstate_name(row.state), row.attempts);
	journal_get_row(j, c.issue_id, "user00001@example.org", &row, &e);
	ok(row.state == J_DEFERRED && row.last_code == 451 &&
	   strstr(row.last_reply, "4.3.0 C"), "deferred with its last reply "
	   "(%s %d %s)", jstate_name(row.state), row.last_code,
	   row.last_reply);
	journal_get_row(j, c.issue_id, "user00002@example.org", &row, &e);
	ok(row.state == J_FAILED && row.last_code == 550 && row.attempts == 1,
	   "550 failed at once (%s)", row.last_reply);
	journal_get_row(j, c.issue_id, "user00003@example.org", &row, &e);
	ok(row.state == J_FAILED && row.last_code == 554, "554 after DATA "
	   "failed (%s)", row.last_reply);

	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 1 && st.deferred == 0 && st.skipped == 3 &&
	   st.prior_failed == 2, "second run: the deferred one is sent, the "
	   "failed are not retried (sent %lu, skipped %lu, prior failed %lu)",
	   st.sent, st.skipped, st.prior_failed);
	is_int(count_log(dir, "\"ev\": \"rcpt\"", "user00002@"), 1,
	       "the 550 address was not tried again");
	c.retry_failed = 1;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 2 && st.skipped == 4, "--retry-failed: the "
	   "two failed are sent, none of the sent (sent %lu, skipped %lu)",
	   st.sent, st.skipped);
	stop_pid(pid);
	is_int(count_log(dir, "\"ev\": \"message\"", NULL), 6, "6 messages "
	       "in all: nobody twice");
	is_int(jcount(j, J_SENT), 6, "journal: all 6 sent");
	close_journal(j);
}

static void
test_slow(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("slow");
	struct tsrc t = { .n = 4 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	struct jrow row;
	double t0;
	int r;

	snprintf(dir, sizeof dir, "%s/slow", tmp);
	pid = smtpd(dir, &port,
		    "--rule", "user00001@example.org=sleep:4,sleep:4",
		    "--rule", "user00002@example.org=sleepdata:4",
		    "--rule", "user00011@example.org=sleep:4,sleep:4",
		    "--rule", "user00012@example.org=sleepdata:4,sleepdata:4",
		    NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), j);
	c.timeout_ms = 1000;
	c.max_attempts = 2;
	c.concurrency = 1;
	t0 = now_s();
	r = run(&c, &t, &st, &e);
	ok(r == 0 && now_s() - t0 < 10, "slow replies: the run ends in "
	   "%.1f s (timeout 1 s, 2 attempts)", now_s() - t0);
	ok(st.sent == 3 && st.deferred == 1, "sent 3 (the slow DATA one on "
	   "its retry), deferred 1 (sent %lu, deferred %lu)", st.sent,
	   st.deferred);
	journal_get_row(j, c.issue_id, "user00001@example.org", &row, &e);
	ok(row.state == J_DEFERRED && strstr(row.last_reply, "timed out"),
	   "slow RCPT: deferred, '%s'", row.last_reply);
	journal_get_row(j, c.issue_id, "user00002@example.org", &row, &e);
	ok(row.state == J_SENT && row.attempts == 2, "slow reply to the "
	   "data: sent on the retry (%s, %ld attempts)",
	   jstate_name(row.state), row.attempts);

	/* In parallel: libcurl 7.88 waits for the reply to the end of data
	 * without returning to the loop, so other transfers may time out
	 * too; what must hold is that the run ends, in bounded time, with
	 * every recipient sent or deferred. */
	c.concurrency = 4;
	t.base = 10;
	t.n = 8;
	t0 = now_s();
	r = run(&c, &t, &st, &e);
	ok(r == 0 && now_s() - t0 < 20 && st.sent + st.deferred == 8 &&
	   st.deferred >= 2, "4 in parallel with slow replies: ends in %.1f s, "
	   "sent %lu, deferred %lu", now_s() - t0, st.sent, st.deferred);
	stop_pid(pid);
	close_journal(j);
}

static void
test_tls(void)
{
	char dir[700], cert[700], key[700], ca[700], other[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("tls");
	struct tsrc t = { .n = 5 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	int r;

	snprintf(cert, sizeof cert, "%s/server.pem", tlsdir);
	snprintf(key, sizeof key, "%s/server.key", tlsdir);
	snprintf(ca, sizeof ca, "%s/ca.pem", tlsdir);
	snprintf(other, sizeof other, "%s/other-ca.pem", tlsdir);

	/* No STARTTLS offered, TLS required: 69, nothing sent in clear. */
	snprintf(dir, sizeof dir, "%s/notls", tmp);
	pid = smtpd(dir, &port, NULL);
	conf_init(&c, url("smtp", port), j);
	c.tls = 1;
	c.ca_file = ca;
	c.user = "ada";
	c.password = "pw-notls";
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_EUNAVAIL && strstr(e.msg, "STARTTLS"),
	   "no STARTTLS offered: unavailable (%s)", e.msg);
	stop_pid(pid);
	is_int(count_log(dir, "\"ev\": \"mail\"", NULL) +
	       count_log(dir, "\"ev\": \"auth\"", NULL) +
	       count_log(dir, "\"ev\": \"message\"", NULL), 0,
	       "no MAIL, no AUTH, no message in clear");
	is_int(jtotal(j), 0, "nobody marked in the journal");

	if (!have_tls) {
		ok(0, "tls.sh made the test CA");
		close_journal(j);
		return;
	}
	/* STARTTLS with the test CA. */
	snprintf(dir, sizeof dir, "%s/starttls", tmp);
	pid = smtpd(dir, &port, "--cert", cert, "--key", key, "--starttls",
		    "--require-starttls", NULL);
	conf_init(&c, url("smtp", port), j);
	c.tls = 1;
	c.ca_file = ca;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 5, "STARTTLS verified with the test CA (%s)",
	   e.msg);
	is_int(count_log(dir, "\"ev\": \"message\"", "\"tls\": true"), 5,
	       "5 messages under TLS");
	/* The wrong CA. */
	c.ca_file = other;
	c.resend = 1;
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_EUNAVAIL, "wrong CA refused (%s)", e.msg);
	stop_pid(pid);
	is_int(count_log(dir, "\"ev\": \"message\"", NULL), 5, "nothing "
	       "sent with the wrong CA");

	/* Implicit TLS. */
	snprintf(dir, sizeof dir, "%s/smtps", tmp);
	pid = smtpd(dir, &port, "--cert", cert, "--key", key,
		    "--implicit-tls", NULL);
	conf_init(&c, url("smtps", port), NULL);
	c.ca_file = ca;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 5, "smtps:// verified with the test CA (%s)",
	   e.msg);
	is_int(count_log(dir, "\"ev\": \"message\"", "\"tls\": true"), 5,
	       "5 messages under implicit TLS");
	c.ca_file = other;
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_EUNAVAIL, "smtps:// with the wrong CA "
	   "refused (%s)", e.msg);
	stop_pid(pid);
	close_journal(j);
}

static void
test_auth(void)
{
	char dir[700], cert[700], key[700], ca[700], jpath[700], netrc[700];
	const char *pw = "s3cret-Pa55-do-not-print";
	int port;
	pid_t pid;
	struct journal *j = jopen("auth");
	struct tsrc t = { .n = 6 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	char *out, *home;
	FILE *f;
	int r;

	snprintf(jpath, sizeof jpath, "%s/auth.db", tmp);
	snprintf(cert, sizeof cert, "%s/server.pem", tlsdir);
	snprintf(key, sizeof key, "%s/server.key", tlsdir);
	snprintf(ca, sizeof ca, "%s/ca.pem", tlsdir);
	snprintf(dir, sizeof dir, "%s/auth", tmp);
	if (!have_tls) {
		ok(0, "tls.sh made the test CA");
		return;
	}
	pid = smtpd(dir, &port, "--cert", cert, "--key", key, "--starttls",
		    "--auth", "ada:s3cret-Pa55-do-not-print", "--auth-required",
		    "--rule", "user00003@example.org=rcpt:550 5.1.1 Unknown",
		    NULL);
	conf_init(&c, url("smtp", port), j);
	c.tls = 1;
	c.ca_file = ca;
	c.user = "ada";
	c.password = "wrong-password";
	c.quiet = 0;
	c.verbose = 1;
	out = run_captured(&c, &t, &st, &e, &r);
	ok(r == -1 && e.kind == NL_EUNAVAIL && strstr(e.msg, "login"),
	   "a refused login: unavailable (%s)", e.msg);
	ok(!strstr(e.msg, "wrong-password") && out &&
	   !strstr(out, "wrong-password"), "the wrong password is not shown");
	is_int(jtotal(j), 0, "nobody marked after a refused login");
	free(out);

	c.password = pw;
	out = run_captured(&c, &t, &st, &e, &r);
	ok(r == 0 && st.sent == 5 && st.failed == 1, "AUTH PLAIN: sent 5, "
	   "failed 1 (%s)", e.msg);
	is_int(count_log(dir, "\"ev\": \"message\"", "\"auth\": \"ada\""), 5,
	       "every message after a login as ada");
	ok(count_log(dir, "\"mech\": \"PLAIN\"", "\"ok\": true") >= 1,
	   "AUTH PLAIN accepted");
	ok(out && strstr(out, "nlsend: user00000@example.org: 250 2.0.0 Ok"),
	   "--verbose: 'nlsend: EMAIL: 250 2.0.0 Ok...'");
	ok(out && strstr(out, "nlsend: user00003@example.org: 550 5.1.1 "
			 "Unknown"), "--verbose: the 550 reply");
	ok(out && !strstr(out, pw) && !strstr(out, "AUTH") &&
	   !strstr(out, "czNjcmV0"), "no password, no AUTH line in the output");
	if (out && strstr(out, pw))
		diag("%s", out);
	free(out);
	close_journal(j);
	j = NULL;
	ok(!file_has(jpath, pw) && !file_has(jpath, "wrong-password"),
	   "the password is nowhere in the journal file or its WAL");

	/* ~/.netrc (curl's, for a user without a password) */
	home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	snprintf(netrc, sizeof netrc, "%s/.netrc", tmp);
	f = fopen(netrc, "w");
	if (f) {
		fprintf(f, "machine 127.0.0.1 login ada password %s\n", pw);
		fclose(f);
		chmod(netrc, 0600);
	}
	setenv("HOME", tmp, 1);
	conf_init(&c, url("smtp", port), NULL);
	c.tls = 1;
	c.ca_file = ca;
	t.n = 2;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 2, "login from ~/.netrc (%s)", e.msg);
	if (home) {
		setenv("HOME", home, 1);
		free(home);
	}
	stop_pid(pid);
	is_int(count_log(dir, "\"ev\": \"message\"", "\"auth\": \"ada\""), 7,
	       "and its messages went after the login");
}

static void
test_probe_failures(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("probe");
	struct tsrc t = { .n = 3 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	int r, s;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;

	/* A port nobody listens on: bind one, read it, close it. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(0x7f000001);
	bind(s, (struct sockaddr *)&sa, sizeof sa);
	getsockname(s, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	close(s);
	conf_init(&c, url("smtp", port), j);
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_EUNAVAIL && strstr(e.msg, "connect"),
	   "unreachable: unavailable (%s)", e.msg);
	is_int(jtotal(j), 0, "nobody marked");

	snprintf(dir, sizeof dir, "%s/badsender", tmp);
	pid = smtpd(dir, &port, "--rule", "*=mail:553 5.7.1 Sender rejected",
		    NULL);
	conf_init(&c, url("smtp", port), j);
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_EUNAVAIL && strstr(e.msg, "553 5.7.1"),
	   "the envelope sender refused: unavailable (%s)", e.msg);
	is_int(jtotal(j), 0, "nobody marked");
	stop_pid(pid);

	conf_init(&c, "http://127.0.0.1/", j);
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_ECONFIG, "not an SMTP URL (%s)", e.msg);
	conf_init(&c, "smtp://ada:hunter2@127.0.0.1:1", j);
	r = run(&c, &t, &st, &e);
	ok(r == -1 && !strstr(e.msg, "hunter2") && strstr(e.msg,
	   "smtp://127.0.0.1:1"), "a password in the URL is not shown (%s)",
	   e.msg);
	close_journal(j);
}

static void
test_throttle(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct tsrc t = { .n = 12 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	double t0;
	int r;

	snprintf(dir, sizeof dir, "%s/throttle", tmp);
	pid = smtpd(dir, &port, "--rule", "*=ok,ok,rcpt:454 4.7.0 Throttling "
		    "failure: Maximum sending rate exceeded,rcpt:421 4.7.0 Try "
		    "again later,rcpt:454 4.7.0 Throttling failure: Maximum "
		    "sending rate exceeded", NULL);
	if (pid < 0) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), NULL);
	c.concurrency = 2;
	c.max_attempts = 5;
	t0 = now_s();
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 12, "454 Throttling / 421 4.7.0: all 12 sent "
	   "in the end (%s)", e.msg);
	ok(now_s() - t0 > 1.5, "and the sending slowed down (%.1f s)",
	   now_s() - t0);
	stop_pid(pid);
	is_int(count_log(dir, "\"ev\": \"message\"", NULL), 12, "12 "
	       "messages, no duplicate");
}

static void
test_rate_window(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("rate");
	struct tsrc t = { .n = 8 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	double t0;
	int r;

	snprintf(dir, sizeof dir, "%s/window", tmp);
	pid = smtpd(dir, &port, NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	conf_init(&c, url("smtp", port), j);
	c.rate = 10;
	t0 = now_s();
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 8 && now_s() - t0 >= 0.6, "rate 10/s: 8 "
	   "messages take %.2f s", now_s() - t0);

	close_journal(j);
	/* Its own journal: the window counts every issue's sent rows. */
	j = jopen("window");
	journal_set_now(j, 1700000000);
	conf_init(&c, url("smtp", port), j);
	c.issue_id = "issue-window";
	c.window_count = 5;
	c.window_seconds = 3600;
	t.base = 100;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 5 && st.deferred == 3, "window 5/hour: 5 "
	   "sent, 3 deferred (sent %lu, deferred %lu)", st.sent, st.deferred);
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 0 && st.deferred == 3 && st.skipped == 5,
	   "the window holds across runs (sent %lu)", st.sent);
	journal_set_now(j, 1700000000 + 3601);
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 3 && st.deferred == 0, "an hour later the "
	   "rest goes (sent %lu)", st.sent);
	stop_pid(pid);
	close_journal(j);
}

static void
test_stop_and_resume(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("stop");
	volatile int stop = 0;
	struct tsrc t = { .n = 50, .stop_after = 10 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[50] = { 0 };
	unsigned long lost, dups, sent1;
	int r;

	snprintf(dir, sizeof dir, "%s/stop", tmp);
	pid = smtpd(dir, &port, NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	t.stop = &stop;
	conf_init(&c, url("smtp", port), j);
	c.stop = &stop;
	r = run(&c, &t, &st, &e);
	ok(r == -1 && e.kind == NL_ETEMPFAIL, "stopped: tempfail (%s)", e.msg);
	sent1 = st.sent;
	ok(sent1 >= 10 && sent1 < 50, "the in-flight ones finished (%lu sent)",
	   sent1);
	is_int(jcount(j, J_INFLIGHT), 0, "nothing left in flight");
	is_int(jcount(j, J_SENT), sent1, "every sent one recorded");

	/* Rows left in flight by a "dead" run are resent. */
	{
		struct nl_err e2;
		journal_set(j, c.issue_id, "user00049@example.org", J_INFLIGHT,
			    0, NULL, &e2);
	}
	stop = 0;
	t.stop = NULL;
	c.stop = NULL;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 50 - sent1 && st.skipped == sent1 &&
	   st.resumed == 1, "re-run: the rest (%lu), resumed 1 in-flight row",
	   st.sent);
	stop_pid(pid);
	check_smtpd_msgs(dir, 0, counts, 50);
	r = all_once(counts, 50, &lost, &dups);
	ok(r, "each exactly once (lost %lu, "
	   "dups %lu)", lost, dups);

	c.resend = 1;
	pid = smtpd(dir, &port, NULL);
	c.url = url("smtp", port);
	t.n = 3;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 3 && st.skipped == 0, "--resend ignores the "
	   "sent rows");
	stop_pid(pid);
	close_journal(j);
}

/* stop = 2 (a second signal): the transfers in flight are abandoned, their
 * rows stay in flight and the next run sends them. */
static void
test_abandon(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("abandon");
	volatile int stop = 0;
	struct tsrc t = { .n = 30, .stop_after = 8, .stop_value = 2 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[30] = { 0 };
	unsigned long lost, dups, infl;
	int r;

	snprintf(dir, sizeof dir, "%s/abandon", tmp);
	/* slow replies to the end of data keep messages in flight (sent,
	 * not yet answered) when the stop comes */
	pid = smtpd(dir, &port, "--rule", "*=sleepdata:0.3,sleepdata:0.3,"
		    "sleepdata:0.3,sleepdata:0.3,sleepdata:0.3,sleepdata:0.3,"
		    "sleepdata:0.3,sleepdata:0.3,sleepdata:0.3,sleepdata:0.3,"
		    "sleepdata:0.3,sleepdata:0.3", NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	t.stop = &stop;
	conf_init(&c, url("smtp", port), j);
	c.stop = &stop;
	r = run(&c, &t, &st, &e);
	infl = jcount(j, J_INFLIGHT);
	ok(r == -1 && e.kind == NL_ETEMPFAIL && infl >= 1 && infl <= 4,
	   "abandoned: tempfail, %lu rows left in flight (at most 4)", infl);
	stop = 0;
	t.stop = NULL;
	c.stop = NULL;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.resumed == infl && st.sent + st.skipped == 30,
	   "re-run: resumed %lu, all done", st.resumed);
	stop_pid(pid);
	check_smtpd_msgs(dir, 0, counts, 30);
	all_once(counts, 30, &lost, &dups);
	ok(lost == 0 && dups <= 4, "nobody lost, duplicates %lu <= 4", dups);
	close_journal(j);
}

/* The server dies in the middle of the run: the run stops (tempfail) with
 * the rest left for later, instead of burning through the list. */
static void
test_server_dies(void)
{
	char dir[700];
	int port;
	pid_t pid;
	struct journal *j = jopen("dies");
	struct tsrc t = { .n = 200, .kill_after = 20 };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	unsigned counts[200] = { 0 };
	unsigned long lost, dups, sent1;
	int r;

	snprintf(dir, sizeof dir, "%s/dies", tmp);
	pid = smtpd(dir, &port, NULL);
	if (pid < 0 || !j) {
		ok(0, "smtpd.py started");
		return;
	}
	t.kill_pid = pid;
	conf_init(&c, url("smtp", port), j);
	c.quiet = 1;
	r = run(&c, &t, &st, &e);
	stop_pid(pid);
	sent1 = st.sent;
	ok(r == -1 && e.kind == NL_ETEMPFAIL && strstr(e.msg, "stopped "
	   "accepting"), "server gone mid-run: tempfail (%s)", e.msg);
	ok(t.composed < 60, "it did not burn through the list (%lu composed "
	   "of 200)", t.composed);
	is_int(jcount(j, J_INFLIGHT), 0, "nothing left in flight");
	ok(jcount(j, J_SENT) == sent1 && sent1 <= 20, "%lu sent and recorded",
	   sent1);

	snprintf(dir, sizeof dir, "%s/dies2", tmp);
	pid = smtpd(dir, &port, NULL);
	c.url = url("smtp", port);
	t.kill_pid = 0;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent == 200 - sent1 && st.skipped == sent1,
	   "a re-run to a live server finishes (sent %lu)", st.sent);
	stop_pid(pid);
	check_smtpd_msgs(dir, 0, counts, 200);
	all_once(counts, 200, &lost, &dups);
	is_int(dups, 0, "no duplicate in the second server");
	close_journal(j);
}

/* kill -9 of a sending process at a random moment, then a re-run. */
static void
test_kill9(void)
{
	enum { N = 2000, CONC = 4 };
	char dir[700], jpath[700];
	int port, st_, k;
	pid_t spid, child;
	struct journal *j;
	struct tsrc t = { .n = N };
	struct deliver_conf c;
	struct deliver_stats st;
	struct nl_err e;
	static unsigned counts[N];
	unsigned long lost, dups, target;
	DIR *dd;
	struct dirent *de;
	int n = 0, r;

	snprintf(dir, sizeof dir, "%s/kill", tmp);
	snprintf(jpath, sizeof jpath, "%s/kill.db", tmp);
	spid = sink(dir, &port);
	if (spid < 0) {
		ok(0, "smtp-sink started");
		return;
	}
	target = 200 + (unsigned long)rand() % (N - 600);
	child = fork();
	if (child == 0) {
		if (open_journal(jpath, &j, &e))
			_exit(2);
		conf_init(&c, url("smtp", port), j);
		c.concurrency = CONC;
		run(&c, &t, &st, &e);
		_exit(0);
	}
	for (k = 0; k < 3000; k++) {
		n = 0;
		dd = opendir(dir);
		while (dd && (de = readdir(dd)))
			n += de->d_name[0] != '.';
		if (dd)
			closedir(dd);
		if ((unsigned long)n >= target)
			break;
		usleep(2000);
	}
	kill(child, SIGKILL);
	waitpid(child, &st_, 0);
	ok(WIFSIGNALED(st_), "killed with -9 after about %d of %d messages",
	   n, N);
	j = jopen("kill");
	if (!j)
		return;
	diag("journal after the kill: %lu sent, %lu in flight",
	     jcount(j, J_SENT), jcount(j, J_INFLIGHT));
	ok(jcount(j, J_INFLIGHT) <= CONC, "at most %d rows in flight on disk",
	   CONC);
	conf_init(&c, url("smtp", port), j);
	c.concurrency = CONC;
	r = run(&c, &t, &st, &e);
	ok(r == 0 && st.sent + st.skipped == N, "the re-run completes (sent "
	   "%lu, skipped %lu, resumed %lu)", st.sent, st.skipped, st.resumed);
	close_journal(j);
	stop_pid(spid);
	is_int(check_sink_dumps(dir, counts, N), 0, "every dump is a "
	       "composed message");
	all_once(counts, N, &lost, &dups);
	diag("kill -9 then re-run: lost %lu, duplicates %lu", lost, dups);
	is_int(lost, 0, "zero recipients lost");
	ok(dups <= CONC, "duplicates (%lu) at most the concurrency (%d)", dups,
	   CONC);
}

int
main(void)
{
	char cmd[1500];

	alarm(900);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (getenv("NLSEND_TOP"))
		top = getenv("NLSEND_TOP");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	if (access("/usr/bin/python3", X_OK) || system("/usr/bin/python3 -c "
						      "'import aiosmtpd' 2>/dev/null")) {
		printf("1..0 # SKIP needs /usr/bin/python3 with python3-aiosmtpd "
		       "(apt-get install python3-aiosmtpd)\n");
		return 0;
	}
	if (access("/usr/sbin/smtp-sink", X_OK)) {
		printf("1..0 # SKIP needs /usr/sbin/smtp-sink (apt-get install "
		       "postfix)\n");
		return 0;
	}
	snprintf(tlsdir, sizeof tlsdir, "%s/tls", tmp);
	snprintf(cmd, sizeof cmd, "sh '%s/tests/lib/tls.sh' '%s'", top, tlsdir);
	have_tls = system(cmd) == 0;
	ok(have_tls, "tls.sh made a test CA and a server certificate");

	test_sink_bulk();
	test_smtpd_basic();
	test_big_message();
	test_max_per_connection();
	test_drop_after();
	test_4xx_5xx();
	test_slow();
	test_tls();
	test_auth();
	test_probe_failures();
	test_throttle();
	test_rate_window();
	test_stop_and_resume();
	test_abandon();
	test_server_dies();
	test_kill9();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		diag("could not remove %s", tmp);
	return done_testing();
}
