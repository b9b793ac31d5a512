/*
 * Unit tests of send/smtp: the SMTP transaction engine as a pure state
 * machine.  Every check drives it through smtp_begin/smtp_body/smtp_in and
 * compares the exact bytes it queues (smtp_out) and the exact events it
 * gives (smtp_event), rendered as one line per event:
 *   "BODY t1 [354 go]"  "DONE t1 250 d1 h1 [250 queued]"
 * (d: data_sent, h: head).  RFC 5321 sections 3.3, 4.1.1.4, 4.2.1, 4.5.2
 * and RFC 2920 section 3.1 give the expected behaviour.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send/smtp.h"
#include "tests/tap.h"
#include "util/buf.h"

/* Transaction handles: only their addresses matter to the engine. */
static char T1, T2, T3, P;

static const char *
txname(const void *tx)
{
	return tx == &T1 ? "t1" : tx == &T2 ? "t2" : tx == &T3 ? "t3" :
	       tx == &P ? "p" : "?";
}

/* ---- output: everything queued, as one string, then marked written ---- */

static struct buf outb;

static const char *
drain(struct smtp *c)
{
	size_t n;
	const char *p = smtp_out(c, &n);

	buf_reset(&outb);
	if (n && buf_add(&outb, p, n)) {
		diag("drain: out of memory");
		exit(2);
	}
	smtp_sent(c, n);
	return buf_cstr(&outb);
}

/* ---- input: feed a reply string, collect the events as text ---------- */

static char evtext[8192];
static struct smtp_event evs[16];
static int nevs, feed_rc;

static const char *
take_events(struct smtp *c)
{
	struct smtp_event ev;
	size_t off = 0;

	evtext[0] = '\0';
	nevs = 0;
	while (smtp_event(c, &ev)) {
		int n;

		if (nevs < (int)(sizeof evs / sizeof evs[0]))
			evs[nevs] = ev;
		nevs++;
		if (ev.kind == SMTP_BODY)
			n = snprintf(evtext + off, sizeof evtext - off,
				     "%sBODY %s [%s]", off ? "; " : "",
				     txname(ev.tx), ev.reply);
		else
			n = snprintf(evtext + off, sizeof evtext - off,
				     "%sDONE %s %d d%d h%d [%s]",
				     off ? "; " : "", txname(ev.tx), ev.code,
				     ev.data_sent, ev.head, ev.reply);
		if (n < 0 || (size_t)n >= sizeof evtext - off)
			break;
		off += (size_t)n;
	}
	return evtext;
}

/* chunk 0: all at once; otherwise in pieces of chunk bytes. */
static const char *
feedn(struct smtp *c, const char *s, size_t len, size_t chunk)
{
	size_t i, k;

	feed_rc = 0;
	if (!chunk)
		chunk = len ? len : 1;
	for (i = 0; i < len && !feed_rc; i += k) {
		k = len - i < chunk ? len - i : chunk;
		feed_rc = smtp_in(c, s + i, k);
	}
	return take_events(c);
}

static const char *
feed(struct smtp *c, const char *s)
{
	return feedn(c, s, strlen(s), 0);
}

/* A pipelined transaction t up to its SMTP_BODY, output drained. */
static int
to_body(struct smtp *c, void *t)
{
	char want[64];

	if (smtp_begin(c, t, "a@x", "b@y"))
		return -1;
	drain(c);
	snprintf(want, sizeof want, "BODY %s [354 go]", txname(t));
	return strcmp(feed(c, "250 ok\r\n250 ok\r\n354 go\r\n"), want) ? -1 : 0;
}

/* ---- 1. pipelining --------------------------------------------------- */

static void
test_pipelined(void)
{
	struct smtp c = {0};
	const char *msg = "Subject: one\r\n\r\nhello\r\n";
	char want[256];

	smtp_init(&c, 1);
	ok(smtp_can_begin(&c), "pipelined: a fresh connection can begin");
	is_int(smtp_begin(&c, &T1, "a@x", "b@y"), 0, "pipelined: begin t1");
	is_str(drain(&c), "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
	       "pipelined: MAIL, RCPT and DATA in one output");
	is_int(smtp_awaiting(&c), 3, "pipelined: three replies awaited");
	is_int(smtp_open(&c), 1, "pipelined: one transaction open");
	ok(!smtp_can_begin(&c), "pipelined: no begin while t1's envelope "
	   "is unanswered (RFC 2920 3.1: DATA is last in a group)");
	is_str(feed(&c, "250 ok\r\n250 ok\r\n354 go\r\n"), "BODY t1 [354 go]",
	       "pipelined: 250 250 354 give one BODY for t1");
	is_str(drain(&c), "", "pipelined: nothing queued before the body");
	ok(!smtp_can_begin(&c), "pipelined: no begin while t1 waits for "
	   "its body");
	is_int(smtp_body(&c, &T1, msg, strlen(msg)), 0, "pipelined: body t1");
	ok(smtp_can_begin(&c), "pipelined: can begin while t1's end of "
	   "data awaits its reply");
	is_int(smtp_begin(&c, &T2, "a@x", "c@z"), 0, "pipelined: begin t2");
	ok(!smtp_can_begin(&c), "pipelined: no begin with two open");
	errno = 0;
	ok(smtp_begin(&c, &T3, "a@x", "d@w") == -1 && errno == EINVAL,
	   "pipelined: a third begin is -1 EINVAL");
	is_int(smtp_open(&c), 2, "pipelined: two open");
	snprintf(want, sizeof want, "%s.\r\n%s", msg,
		 "MAIL FROM:<a@x>\r\nRCPT TO:<c@z>\r\nDATA\r\n");
	is_str(drain(&c), want, "pipelined: t1's body and end of data, then "
	       "t2's envelope, in one output");
	is_str(feed(&c, "250 queued\r\n250\r\n250\r\n354\r\n"),
	       "DONE t1 250 d1 h1 [250 queued]; BODY t2 [354]",
	       "pipelined: DONE(t1, 250, data sent) then BODY(t2)");
	is_int(smtp_body(&c, &T2, "x\r\n", 3), 0, "pipelined: body t2");
	is_str(drain(&c), "x\r\n.\r\n", "pipelined: t2's body");
	is_str(feed(&c, "250 2.0.0 queued as B\r\n"),
	       "DONE t2 250 d1 h1 [250 2.0.0 queued as B]",
	       "pipelined: DONE(t2)");
	ok(smtp_open(&c) == 0 && smtp_awaiting(&c) == 0 &&
	   smtp_can_begin(&c) && !smtp_closing(&c),
	   "pipelined: idle again after both");
	smtp_free(&c);
}

/* Output written in pieces: smtp_out gives what is left. */
static void
test_partial_write(void)
{
	struct smtp c = {0};
	const char *p;
	size_t n;

	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	smtp_sent(&c, 5);
	p = smtp_out(&c, &n);
	ok(n == 33 && memcmp(p, "FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n",
			     33) == 0,
	   "partial write: smtp_out gives the rest after smtp_sent(5)");
	smtp_sent(&c, n);
	smtp_out(&c, &n);
	is_int(n, 0, "partial write: nothing left after all of it");
	smtp_free(&c);
}

/* ---- 2. without pipelining ------------------------------------------- */

static void
test_not_pipelined(void)
{
	struct smtp c = {0};

	smtp_init(&c, 0);
	is_int(smtp_begin(&c, &T1, "a@x", "b@y"), 0, "lockstep: begin");
	is_str(drain(&c), "MAIL FROM:<a@x>\r\n", "lockstep: MAIL alone");
	ok(!smtp_can_begin(&c), "lockstep: no begin while MAIL is open");
	is_str(feed(&c, "250 ok\r\n"), "", "lockstep: no event on MAIL's 250");
	is_str(drain(&c), "RCPT TO:<b@y>\r\n", "lockstep: RCPT after MAIL's "
	       "250");
	is_str(drain(&c), "", "lockstep: nothing more before RCPT's reply");
	is_str(feed(&c, "250 ok\r\n"), "", "lockstep: no event on RCPT's 250");
	is_str(drain(&c), "DATA\r\n", "lockstep: DATA after RCPT's 250");
	is_str(feed(&c, "354 go\r\n"), "BODY t1 [354 go]", "lockstep: BODY "
	       "on 354");
	is_int(smtp_body(&c, &T1, "hi\r\n", 4), 0, "lockstep: body");
	is_str(drain(&c), "hi\r\n.\r\n", "lockstep: the message and its end");
	ok(!smtp_can_begin(&c), "lockstep: no begin while the end of data "
	   "is unanswered");
	is_str(feed(&c, "250 ok\r\n"), "DONE t1 250 d1 h1 [250 ok]",
	       "lockstep: DONE on the final reply");
	ok(smtp_can_begin(&c), "lockstep: can begin after the final reply");
	smtp_free(&c);
}

/* ---- 3. dot-stuffing (RFC 5321 section 4.5.2) ------------------------ */

static struct buf bodyb;

/* What smtp_body queues for msg on a fresh pipelined connection. */
static const char *
stuffed(const char *msg, size_t len, size_t *outlen)
{
	struct smtp c = {0};
	const char *p;
	size_t n;

	buf_reset(&bodyb);
	smtp_init(&c, 1);
	if (to_body(&c, &T1) || smtp_body(&c, &T1, msg, len)) {
		smtp_free(&c);
		*outlen = 0;
		return "(failed)";
	}
	p = smtp_out(&c, &n);
	if (buf_add(&bodyb, p, n)) {
		diag("stuffed: out of memory");
		exit(2);
	}
	smtp_free(&c);
	*outlen = n;
	return buf_cstr(&bodyb);
}

static void
stuff_is(const char *msg, const char *want, const char *name)
{
	size_t n;

	is_str(stuffed(msg, strlen(msg), &n), want, "dots: %s", name);
}

static unsigned long long rng = 0x2545F4914F6CDD1DULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)((rng >> 11) % n);
}

static void
test_dots(void)
{
	static const char chars[] = "abc .xyz..\r";
	struct buf m, u;
	const char *out, *end;
	size_t n, i, lines = 0, dotlines = 0;
	int sol;

	stuff_is(".x\r\n", "..x\r\n.\r\n", "a leading '.' is doubled");
	stuff_is("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n",
		 "a line of one '.' inside is doubled");
	stuff_is("a\r\n..x\r\n", "a\r\n...x\r\n.\r\n",
		 "a line starting '..' gets a third");
	stuff_is(".", "..\r\n.\r\n", "a message of one '.'");
	stuff_is("a\r\n.", "a\r\n..\r\n.\r\n", "a last line of '.' "
		 "without CRLF");
	stuff_is("abc", "abc\r\n.\r\n", "no final CRLF: one is added");
	stuff_is("abc\r\n", "abc\r\n.\r\n", "a final CRLF: none added");
	stuff_is("abc\r\n\r\n", "abc\r\n\r\n.\r\n", "a final empty line "
		 "is kept");
	stuff_is("a\r.b\r\n", "a\r.b\r\n.\r\n", "a bare CR then '.' is "
		 "sent as it is");
	stuff_is("a.\r\nb.c\r\n", "a.\r\nb.c\r\n.\r\n", "dots inside lines "
		 "are left alone");
	/* The contract (smtp.h): a CRLF is added when the message does not
	 * end with one, so the empty message is one empty line. */
	stuff_is("", "\r\n.\r\n", "the empty message");

	/* ~200 KB of CRLF lines, a third of them starting with '.'. */
	buf_init(&m, 0);
	buf_init(&u, 0);
	while (m.len < 200 * 1024) {
		unsigned len = rnd(90), k;

		if (rnd(3) == 0) {
			buf_addc(&m, '.');
			if (rnd(4) == 0)
				len = rnd(3);	/* ".", "..", "..x" */
		}
		for (k = 0; k < len; k++)
			buf_addc(&m, chars[rnd(sizeof chars - 1)]);
		buf_add(&m, "\r\n", 2);
		lines++;
	}
	/* Lines starting with '.', forced or by chance. */
	for (i = 0, dotlines = 0; i < m.len; i++)
		dotlines += m.data[i] == '.' && (!i || m.data[i - 1] == '\n');
	out = stuffed(m.data, m.len, &n);
	is_int(n, m.len + dotlines + 3, "dots: 200 KB: one '.' added per "
	       "dot line (%zu of %zu) and \".\\r\\n\"", dotlines, lines);
	end = memmem(out, n, "\r\n.\r\n", 5);
	ok(end && end == out + n - 5, "dots: 200 KB: the only CRLF.CRLF "
	   "is the end of data");
	ok(n >= 3 && memcmp(out + n - 3, ".\r\n", 3) == 0, "dots: 200 KB: "
	   "ends with .CRLF");
	for (i = 0, sol = 1; n >= 3 && i < n - 3; i++) {
		if (!(sol && out[i] == '.'))
			buf_addc(&u, out[i]);
		sol = out[i] == '\n';
	}
	ok(u.len == m.len && memcmp(u.data, m.data, m.len) == 0,
	   "dots: 200 KB: un-stuffing the output gives the message back");
	buf_free(&m);
	buf_free(&u);
}

/* ---- 4. failures ----------------------------------------------------- */

static void
test_failures(void)
{
	struct smtp c = {0};

	/* Pipelined: RCPT refused; the outcome waits for DATA's reply. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "250 ok\r\n550 5.1.1 no such user\r\n"), "",
	       "fail pipelined RCPT 550: no outcome before DATA's reply");
	is_str(feed(&c, "503 5.5.1 no valid recipients\r\n"),
	       "DONE t1 550 d0 h1 [550 5.1.1 no such user]",
	       "fail pipelined RCPT 550: DONE carries RCPT's reply");
	is_str(drain(&c), "RSET\r\n", "fail pipelined RCPT 550: RSET queued");
	ok(smtp_can_begin(&c), "fail pipelined: can begin behind the RSET");
	is_int(smtp_begin(&c, &T2, "a@x", "c@z"), 0,
	       "fail pipelined: begin t2 behind the RSET");
	is_str(drain(&c), "MAIL FROM:<a@x>\r\nRCPT TO:<c@z>\r\nDATA\r\n",
	       "fail pipelined: t2's envelope");
	is_str(feed(&c, "250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
	       "BODY t2 [354 go]", "fail pipelined: RSET's 250 then t2's "
	       "BODY");

	/* Pipelined: MAIL refused. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "451 4.3.0 try later\r\n503 5.5.1 MAIL first\r\n"
		    "503 5.5.1 MAIL first\r\n"),
	       "DONE t1 451 d0 h1 [451 4.3.0 try later]",
	       "fail pipelined MAIL 451: DONE carries MAIL's reply");
	is_str(drain(&c), "RSET\r\n", "fail pipelined MAIL 451: RSET queued");

	/* Pipelined: DATA refused. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "250 ok\r\n250 ok\r\n554 5.7.1 not now\r\n"),
	       "DONE t1 554 d0 h1 [554 5.7.1 not now]",
	       "fail pipelined DATA 554: DONE 554");
	is_str(drain(&c), "RSET\r\n", "fail pipelined DATA 554: RSET queued");

	/* Pipelined: RCPT refused but DATA accepted (RFC 2920 3.1). */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "250 ok\r\n550 no user\r\n354 go ahead\r\n"), "",
	       "fail 354 after RCPT 550: no BODY event");
	is_str(drain(&c), ".\r\n", "fail 354 after RCPT 550: \".\\r\\n\" "
	       "alone ends the data");
	errno = 0;
	ok(smtp_body(&c, &T1, "x\r\n", 3) == -1 && errno == EINVAL,
	   "fail 354 after RCPT 550: smtp_body is -1 EINVAL");
	is_str(feed(&c, "554 5.5.1 no valid recipients\r\n"),
	       "DONE t1 550 d0 h1 [550 no user]",
	       "fail 354 after RCPT 550: DONE carries RCPT's 550");
	is_str(drain(&c), "RSET\r\n", "fail 354 after RCPT 550: RSET queued");

	/* End of data refused. */
	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "x\r\n", 3);
	drain(&c);
	is_str(feed(&c, "552 5.3.4 too big\r\n"),
	       "DONE t1 552 d1 h1 [552 5.3.4 too big]",
	       "fail end of data 552: DONE 552, data sent");
	is_str(drain(&c), "", "fail end of data 552: no RSET (the "
	       "transaction is over, RFC 5321 4.1.1.4)");
	ok(smtp_can_begin(&c), "fail end of data 552: can begin");

	/* Without pipelining: RCPT refused; DATA never sent. */
	smtp_init(&c, 0);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	feed(&c, "250 ok\r\n");
	drain(&c);
	is_str(feed(&c, "550 5.1.1 no such user\r\n"),
	       "DONE t1 550 d0 h1 [550 5.1.1 no such user]",
	       "fail lockstep RCPT 550: DONE at once");
	is_str(drain(&c), "RSET\r\n", "fail lockstep RCPT 550: RSET, "
	       "no DATA");
	ok(!smtp_can_begin(&c), "fail lockstep: no begin before RSET's "
	   "reply");
	is_str(feed(&c, "250 reset\r\n"), "", "fail lockstep: RSET's 250");
	ok(smtp_can_begin(&c), "fail lockstep: can begin after RSET's reply");
	is_int(smtp_begin(&c, &T2, "a@x", "c@z"), 0,
	       "fail lockstep: begin after the RSET");
	is_str(drain(&c), "MAIL FROM:<a@x>\r\n", "fail lockstep: next MAIL");

	/* Without pipelining: MAIL refused; no RCPT. */
	smtp_init(&c, 0);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "451 4.3.0 later\r\n"),
	       "DONE t1 451 d0 h1 [451 4.3.0 later]",
	       "fail lockstep MAIL 451: DONE at once");
	ok(!strstr(drain(&c), "RCPT"), "fail lockstep MAIL 451: no RCPT");

	/* A refused RSET closes the connection. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	feed(&c, "250 ok\r\n550 no\r\n503 no\r\n");
	drain(&c);
	ok(!smtp_closing(&c), "RSET refused: not closing before its reply");
	feed(&c, "500 5.5.2 what\r\n");
	ok(smtp_closing(&c), "RSET refused: closing");
	ok(strstr(smtp_why(&c), "500 5.5.2 what") != NULL,
	   "RSET refused: why has the reply ('%s')", smtp_why(&c));
	ok(!smtp_can_begin(&c), "RSET refused: no begin");
	smtp_free(&c);
}

/* A 2xx reply to DATA is not a 354: the message was never sent, so the
 * outcome must not read as a delivery (deliver.c takes any 2xx code of a
 * DONE as "sent"). */
static void
test_data_2xx(void)
{
	struct smtp c = {0};

	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	feed(&c, "250 ok\r\n250 ok\r\n250 ok\r\n");
	if (!nevs) {
		/* Not ended by the 250: then the connection's end does. */
		smtp_abort(&c, "closed");
		take_events(&c);
	}
	ok(nevs == 1 && evs[0].kind == SMTP_DONE &&
	   !(evs[0].code / 100 == 2 && !evs[0].data_sent),
	   "DATA answered 250: the outcome is not a 2xx without data "
	   "(got: %s)", evtext);
	smtp_free(&c);
}

/* ---- 5. multi-line replies (RFC 5321 section 4.2.1) ------------------ */

/* A whole pipelined conversation; the events of every feed, joined. */
static const char *
script(size_t chunk, const char *eol)
{
	static char all[4096];
	struct smtp c = {0};
	char r1[256], r2[256];
	size_t off = 0;
	int n;

	snprintf(r1, sizeof r1, "250-first%s250-second%s250 last%s250 ok%s"
		 "354 go%s", eol, eol, eol, eol, eol);
	snprintf(r2, sizeof r2, "250-2.0.0 queued%s250 as X%s250%s550-5.1.1 "
		 "no%s550 such user%s503 none%s421-bye%s421 now%s", eol, eol,
		 eol, eol, eol, eol, eol, eol);
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	n = snprintf(all, sizeof all, "%s | ",
		     feedn(&c, r1, strlen(r1), chunk));
	smtp_body(&c, &T1, "m\r\n", 3);
	smtp_begin(&c, &T2, "a@x", "c@z");
	drain(&c);
	off = n > 0 ? (size_t)n : 0;
	feedn(&c, r2, strlen(r2), chunk);	/* before smtp_closing() */
	snprintf(all + off, sizeof all - off, "%s | closing %d", evtext,
		 smtp_closing(&c));
	smtp_free(&c);
	return all;
}

static void
test_multiline(void)
{
	struct smtp c = {0};
	const char *whole =
		"BODY t1 [354 go] | "
		"DONE t1 250 d1 h1 [250 2.0.0 queued as X]; "
		"DONE t2 550 d0 h1 [550 5.1.1 no such user] | closing 1";

	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "250-first\r\n250-second\r\n250 last\r\n"), "",
	       "multi-line: no event for MAIL's 250");
	is_int(smtp_awaiting(&c), 2, "multi-line: three lines are one reply");
	feed(&c, "250 ok\r\n354 go\r\n");
	smtp_body(&c, &T1, "m\r\n", 3);
	drain(&c);
	is_str(feed(&c, "250-first\r\n250-second\r\n250 last\r\n"),
	       "DONE t1 250 d1 h1 [250 first second last]",
	       "multi-line: the text is joined");
	smtp_free(&c);

	is_str(script(0, "\r\n"), whole, "multi-line: a whole conversation");
	is_str(script(1, "\r\n"), whole, "multi-line: fed one byte at a time");
	is_str(script(7, "\r\n"), whole, "multi-line: fed 7 bytes at a time");
	is_str(script(0, "\n"), whole, "multi-line: LF line ends");
	is_str(script(1, "\n"), whole, "multi-line: LF, one byte at a time");
}

/* ---- 6, 7. 421 and abort --------------------------------------------- */

static void
test_421(void)
{
	struct smtp c = {0};

	/* 421 to MAIL: the outcome comes from smtp_abort. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "421 4.3.2 shutting down\r\n250 ok\r\n"), "",
	       "421 to MAIL: no event yet");
	ok(smtp_closing(&c), "421 to MAIL: closing");
	is_str(smtp_why(&c), "421 4.3.2 shutting down", "421 to MAIL: why");
	ok(!smtp_can_begin(&c), "421 to MAIL: no begin");
	smtp_abort(&c, smtp_why(&c));
	is_str(take_events(&c), "DONE t1 421 d0 h1 [421 4.3.2 shutting down]",
	       "421 to MAIL: abort gives DONE 421");
	is_int(smtp_open(&c), 0, "421 to MAIL: none open after abort");

	/* 421 to t1's end of data, t2's envelope behind it. */
	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "m\r\n", 3);
	smtp_begin(&c, &T2, "a@x", "c@z");
	drain(&c);
	is_str(feed(&c, "421 4.4.2 bye\r\n"),
	       "DONE t1 421 d1 h1 [421 4.4.2 bye]",
	       "421 to the end of data: DONE(t1, 421, data sent)");
	ok(smtp_closing(&c), "421 to the end of data: closing");
	smtp_abort(&c, smtp_why(&c));
	take_events(&c);
	ok(nevs == 1 && evs[0].tx == &T2 && evs[0].code == 0 &&
	   evs[0].data_sent == 0, "421 then abort: t2 gets code 0, no data");
	ok(nevs == 1 && evs[0].head == 0, "421 then abort: t2's commands "
	   "were never answered, head 0 (got: %s)", evtext);

	/* 421 to DATA: no RSET. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "250 ok\r\n250 ok\r\n421 gone\r\n"),
	       "DONE t1 421 d0 h1 [421 gone]", "421 to DATA: DONE 421");
	is_str(drain(&c), "", "421 to DATA: no RSET");

	/* Without pipelining, 421 to RCPT: DONE at once, no RSET. */
	smtp_init(&c, 0);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	feed(&c, "250 ok\r\n");
	drain(&c);
	is_str(feed(&c, "421 gone\r\n"), "DONE t1 421 d0 h1 [421 gone]",
	       "lockstep 421 to RCPT: DONE 421");
	ok(smtp_closing(&c) && !*drain(&c), "lockstep 421 to RCPT: closing, "
	   "no RSET");
	smtp_free(&c);
}

static void
test_abort(void)
{
	struct smtp c = {0};

	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "m\r\n", 3);
	drain(&c);
	smtp_abort(&c, "timed out after 30 s");
	is_str(take_events(&c), "DONE t1 0 d1 h1 [timed out after 30 s]",
	       "abort at the end of data: code 0, data sent, head");
	ok(smtp_closing(&c) && smtp_open(&c) == 0 && smtp_awaiting(&c) == 0,
	   "abort: closing, nothing open or awaited");

	/* Lost with t2's envelope behind t1's end of data, none of it
	 * written: t1's message never left (d0), whatever was queued. */
	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "m\r\n", 3);
	smtp_begin(&c, &T2, "a@x", "c@z");
	smtp_abort(&c, "lost");
	is_str(take_events(&c), "DONE t1 0 d0 h1 [lost]; DONE t2 0 d0 h0 "
	       "[lost]", "abort with two open: t1 head, its message not "
	       "written; t2 queued behind");
	is_str(drain(&c), "", "abort: pending output dropped");

	/* head (smtp.h): 1 once any of its commands was answered. */
	smtp_init(&c, 0);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	smtp_abort(&c, "lost");
	is_str(take_events(&c), "DONE t1 0 d0 h0 [lost]",
	       "abort before MAIL's reply: head 0 (may be sent again)");
	smtp_init(&c, 0);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	feed(&c, "250 ok\r\n");
	smtp_abort(&c, "lost");
	is_str(take_events(&c), "DONE t1 0 d0 h1 [lost]",
	       "abort after MAIL's 250: head 1");
	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_abort(&c, "lost");
	is_str(take_events(&c), "DONE t1 0 d0 h1 [lost]",
	       "abort between 354 and the body: head 1, no data");

	/* A refused RCPT whose connection dies keeps its reply. */
	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	feed(&c, "250 ok\r\n550 no user\r\n");
	smtp_abort(&c, "lost");
	is_str(take_events(&c), "DONE t1 550 d0 h1 [550 no user]",
	       "abort after a refused RCPT: DONE carries the 550");
	smtp_free(&c);
}

/* ---- 8. protocol errors ---------------------------------------------- */

static void
test_protocol(void)
{
	static const char *bad[] = { "hello\r\n", "25\r\n", "250x\r\n",
				     "\r\n", "2500 ok\r\n", "650 ok\r\n" };
	struct smtp c = {0};
	struct buf big;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		smtp_init(&c, 1);
		smtp_begin(&c, &T1, "a@x", "b@y");
		drain(&c);
		feed(&c, bad[i]);
		ok(smtp_closing(&c) && nevs == 0 && *smtp_why(&c),
		   "protocol: line %zu (not a reply) closes", i);
	}

	smtp_init(&c, 1);
	feed(&c, "250 ok\r\n");
	ok(smtp_closing(&c), "protocol: an unsolicited 250 closes");
	smtp_init(&c, 0);
	feed(&c, "421 idle\r\n");
	ok(smtp_closing(&c) && strstr(smtp_why(&c), "421 idle"),
	   "protocol: an unsolicited 421 closes, why '%s'", smtp_why(&c));

	/* 10 KB reply lines are cut; what follows them still parses. */
	buf_init(&big, 0);
	buf_adds(&big, "250 ");
	for (i = 0; i < 10 * 1024; i++)
		buf_addc(&big, (char)('a' + i % 26));
	buf_adds(&big, "\r\n");
	for (i = 0; i < 2; i++) {
		smtp_init(&c, 1);
		smtp_begin(&c, &T1, "a@x", "b@y");
		drain(&c);
		feedn(&c, big.data, big.len, i ? 1 : 0);
		feed(&c, "250 ok\r\n354 go\r\n");
		ok(nevs == 1 && evs[0].kind == SMTP_BODY && !smtp_closing(&c),
		   "protocol: a 10 KB MAIL reply is cut (%s)",
		   i ? "bytewise" : "at once");
		smtp_body(&c, &T1, "m\r\n", 3);
		drain(&c);
		feedn(&c, big.data, big.len, i ? 1 : 0);
		ok(nevs == 1 && strlen(evs[0].reply) == SMTP_REPLY_MAX - 1 &&
		   strncmp(evs[0].reply, big.data, SMTP_REPLY_MAX - 1) == 0,
		   "protocol: a 10 KB reply text is cut to %d chars (%s)",
		   SMTP_REPLY_MAX - 1, i ? "bytewise" : "at once");
	}
	/* A long multi-line reply: joined text cut too. */
	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "m\r\n", 3);
	drain(&c);
	for (i = 0; i < 40; i++)
		feed(&c, "250-0123456789012345678901234567890123456789\r\n");
	feed(&c, "250 end\r\n");
	ok(nevs == 1 && evs[0].code == 250 &&
	   strlen(evs[0].reply) <= SMTP_REPLY_MAX - 1 &&
	   strncmp(evs[0].reply, "250 0123", 8) == 0,
	   "protocol: a 40-line reply is one, its text cut");

	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "m\r\n", 3);
	drain(&c);
	is_str(feed(&c, "550 a\tb\001c\177 d\re\r\n"),
	       "DONE t1 550 d1 h1 [550 a?b?c? d?e]",
	       "protocol: control characters become '?'");
	buf_free(&big);
	smtp_free(&c);
}

/* ---- 9. probe --------------------------------------------------------- */

static void
test_probe(void)
{
	struct smtp c = {0};
	int pl;

	for (pl = 1; pl >= 0; pl--) {
		smtp_init(&c, pl);
		is_int(smtp_begin(&c, &P, "a@x", NULL), 0, "probe%s: begin",
		       pl ? "" : " lockstep");
		is_str(drain(&c), "MAIL FROM:<a@x>\r\n", "probe%s: MAIL alone",
		       pl ? "" : " lockstep");
		is_str(feed(&c, "250 2.1.0 ok\r\n"),
		       "DONE p 250 d0 h1 [250 2.1.0 ok]",
		       "probe%s: DONE 250", pl ? "" : " lockstep");
		is_str(drain(&c), "RSET\r\n", "probe%s: RSET after 250",
		       pl ? "" : " lockstep");
	}
	smtp_init(&c, 1);
	smtp_begin(&c, &P, "a@x", NULL);
	drain(&c);
	is_str(feed(&c, "550 5.7.1 no\r\n"), "DONE p 550 d0 h1 [550 5.7.1 no]",
	       "probe: DONE 550");
	is_str(drain(&c), "", "probe: no RSET after 550");
	smtp_free(&c);
}

/* ---- 10. misuse, QUIT ------------------------------------------------- */

/* A reply is to a command only once all of the command is written: the
 * two shapes of an early reply, pipelined and not.  Neither may end as
 * "sent", nor credit its reply to the next transaction. */
static void
test_early_reply(int pipelining)
{
	struct smtp c = {0};
	static char big[200000];
	const char *p;
	size_t n;
	const char *mode = pipelining ? "pipelined" : "not pipelined";
	char want[256];

	memset(big, 'x', sizeof big);
	for (n = 76; n < sizeof big; n += 78) {
		big[n] = '\r';
		big[n + 1] = '\n';
	}
	memcpy(big + sizeof big - 2, "\r\n", 2);

	/* 1. 250 after the first kilobyte, then the connection resets. */
	smtp_init(&c, pipelining);
	if (pipelining) {
		to_body(&c, &T1);
	} else {
		smtp_begin(&c, &T1, "a@x", "b@y");
		drain(&c);
		feed(&c, "250 ok\r\n");
		drain(&c);
		feed(&c, "250 ok\r\n");
		drain(&c);
		feed(&c, "354 go\r\n");
	}
	smtp_body(&c, &T1, big, sizeof big);
	smtp_out(&c, &n);
	smtp_sent(&c, 1024);
	is_str(feed(&c, "250 2.0.0 queued\r\n"), "", "%s: a 250 to a "
	       "message 1 KiB of which went out makes no outcome", mode);
	ok(smtp_closing(&c), "%s: it closes the connection", mode);
	smtp_abort(&c, "connection reset");
	is_str(take_events(&c), "DONE t1 0 d0 h1 [connection reset]",
	       "%s: the transaction ends without a code, its message not "
	       "sent (retried, never journaled sent)", mode);

	/* 2. 552 early, then a 500 for every line of the rest, read as
	 * commands; the next transaction is pipelined behind. */
	smtp_init(&c, pipelining);
	if (pipelining) {
		to_body(&c, &T1);
	} else {
		smtp_begin(&c, &T1, "a@x", "b@y");
		drain(&c);
		feed(&c, "250 ok\r\n");
		drain(&c);
		feed(&c, "250 ok\r\n");
		drain(&c);
		feed(&c, "354 go\r\n");
	}
	smtp_body(&c, &T1, big, sizeof big);
	if (pipelining)
		smtp_begin(&c, &T2, "a@x", "c@z");
	p = smtp_out(&c, &n);
	(void)p;
	smtp_sent(&c, 4096);
	snprintf(want, sizeof want, "%s", "");
	is_str(feed(&c, "552 5.3.4 too big\r\n500 5.5.1 unknown\r\n"
		    "500 5.5.1 unknown\r\n"), want, "%s: an early 552 and "
	       "the 500s that follow make no outcome", mode);
	ok(smtp_closing(&c), "%s: the connection closes", mode);
	smtp_abort(&c, "closed");
	snprintf(want, sizeof want, "DONE t1 0 d0 h1 [closed]%s",
		 pipelining ? "; DONE t2 0 d0 h0 [closed]" : "");
	is_str(take_events(&c), want, "%s: no one is failed with a reply "
	       "meant for a body line", mode);

	/* 3. The same reply once all of it is written is the outcome. */
	smtp_init(&c, pipelining);
	if (pipelining) {
		to_body(&c, &T1);
	} else {
		smtp_begin(&c, &T1, "a@x", "b@y");
		drain(&c);
		feed(&c, "250 ok\r\n");
		drain(&c);
		feed(&c, "250 ok\r\n");
		drain(&c);
		feed(&c, "354 go\r\n");
	}
	smtp_body(&c, &T1, big, sizeof big);
	drain(&c);
	is_str(feed(&c, "250 2.0.0 queued\r\n"), "DONE t1 250 d1 h1 "
	       "[250 2.0.0 queued]", "%s: a 250 after the end of data is "
	       "sent", mode);
	ok(smtp_replies(&c) >= 1, "%s: replies are counted", mode);

	/* 4. 421 may come at any time (RFC 5321 section 3.8). */
	smtp_init(&c, pipelining);
	smtp_begin(&c, &T1, "a@x", "b@y");
	smtp_sent(&c, 3);
	is_str(feed(&c, "421 4.3.2 shutting down\r\n"), "", "%s: an early "
	       "421 makes no outcome", mode);
	ok(smtp_closing(&c) && strstr(smtp_why(&c), "421"), "%s: and closes "
	   "with its text", mode);
	smtp_free(&c);
}

static void
test_misuse(void)
{
	struct smtp c = {0};

	smtp_init(&c, 1);
	errno = 0;
	ok(smtp_begin(&c, &T1, "a@x", "a\r\nb") == -1 && errno == EINVAL,
	   "misuse: CRLF in rcpt is -1 EINVAL");
	errno = 0;
	ok(smtp_begin(&c, &T1, "a\r\nb", "b@y") == -1 && errno == EINVAL,
	   "misuse: CRLF in from is -1 EINVAL");
	errno = 0;
	ok(smtp_begin(&c, &T1, "a@x", "<x>") == -1 && errno == EINVAL,
	   "misuse: brackets in rcpt are -1 EINVAL");
	errno = 0;
	ok(smtp_begin(&c, &T1, "<x>", NULL) == -1 && errno == EINVAL,
	   "misuse: brackets in a probe's from are -1 EINVAL");
	ok(!*drain(&c) && smtp_open(&c) == 0 && smtp_awaiting(&c) == 0,
	   "misuse: nothing queued, nothing open");
	errno = 0;
	ok(smtp_body(&c, &T1, "x", 1) == -1 && errno == EINVAL,
	   "misuse: body for no transaction is -1 EINVAL");
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	errno = 0;
	ok(smtp_body(&c, &T1, "x", 1) == -1 && errno == EINVAL,
	   "misuse: body before 354 is -1 EINVAL");
	is_str(drain(&c), "", "misuse: the refused body queued nothing");
	feed(&c, "250 ok\r\n250 ok\r\n354 go\r\n");
	errno = 0;
	ok(smtp_body(&c, &T2, "x", 1) == -1 && errno == EINVAL,
	   "misuse: body for another tx is -1 EINVAL");
	smtp_body(&c, &T1, "x\r\n", 3);
	errno = 0;
	ok(smtp_body(&c, &T1, "x\r\n", 3) == -1 && errno == EINVAL,
	   "misuse: a second body is -1 EINVAL");
	is_str(drain(&c), "x\r\n.\r\n", "misuse: one body only");
	feed(&c, "250 ok\r\n");

	is_int(smtp_quit(&c), 0, "quit: ok");
	is_str(drain(&c), "QUIT\r\n", "quit: QUIT queued");
	ok(smtp_closing(&c), "quit: closing");
	is_str(smtp_why(&c), "", "quit: why is empty");
	ok(!smtp_can_begin(&c), "quit: no begin");
	/* deliver.c ends a QUIT connection when smtp_awaiting() is 0: the
	 * reply to QUIT must not stay awaited once it came. */
	feed(&c, "221 2.0.0 bye\r\n");
	is_int(smtp_awaiting(&c), 0, "quit: nothing awaited after QUIT's 221");
	smtp_free(&c);
}

/* ---- 11. re-init ------------------------------------------------------ */

/* Fuzzing found both: a reply whose lines change code, and a 354 that
 * arrives with the 421 that closes the connection. */
static void
test_mixed_and_closing(void)
{
	struct smtp c = {0};

	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "x\r\n", 3);
	drain(&c);
	is_str(feed(&c, "550-5.0.0 no\r\n250 2.0.0 queued\r\n"), "",
	       "mixed codes: no outcome from \"550-\" then \"250 \"");
	ok(smtp_closing(&c) && strstr(smtp_why(&c), "different codes"),
	   "mixed codes: the connection is closing (RFC 5321 4.2.1): %s",
	   smtp_why(&c));
	smtp_abort(&c, "gone");
	is_str(take_events(&c), "DONE t1 0 d1 h1 [gone]", "mixed codes: the "
	       "message is not counted sent (code 0, data sent)");

	smtp_init(&c, 1);
	smtp_begin(&c, &T1, "a@x", "b@y");
	drain(&c);
	is_str(feed(&c, "250 ok\r\n250 ok\r\n354 go\r\n421 bye\r\n"),
	       "BODY t1 [354 go]", "354 then 421 in one read: BODY");
	ok(smtp_closing(&c), "354 then 421: closing");
	errno = 0;
	ok(smtp_body(&c, &T1, "x\r\n", 3) == -1 && errno == EPIPE,
	   "354 then 421: smtp_body refuses (EPIPE)");
	is_str(drain(&c), "", "354 then 421: nothing queued");
	smtp_abort(&c, "closed");
	is_str(take_events(&c), "DONE t1 0 d0 h1 [closed]", "354 then 421: "
	       "the outcome says nothing was sent");
	smtp_free(&c);
}

static void
test_reinit(void)
{
	struct smtp c = {0};
	char *storage;

	smtp_init(&c, 1);
	to_body(&c, &T1);
	smtp_body(&c, &T1, "m\r\n", 3);
	smtp_begin(&c, &T2, "a@x", "c@z");
	feed(&c, "421 x\r\n");
	storage = c.out.data;
	smtp_init(&c, 0);
	ok(!smtp_closing(&c) && smtp_open(&c) == 0 && smtp_awaiting(&c) == 0
	   && !*smtp_why(&c) && smtp_can_begin(&c),
	   "re-init: fresh state");
	ok(c.out.data == storage && c.out.len == 0,
	   "re-init: output emptied, storage kept");
	is_str(take_events(&c), "", "re-init: no stale events");
	smtp_begin(&c, &T3, "a@x", "b@y");
	is_str(drain(&c), "MAIL FROM:<a@x>\r\n", "re-init: works, now "
	       "without pipelining");
	feed(&c, "250 ok\r\n");
	is_str(drain(&c), "RCPT TO:<b@y>\r\n", "re-init: lockstep RCPT");
	smtp_free(&c);
	smtp_init(&c, 1);
	ok(smtp_can_begin(&c), "re-init: after smtp_free");
	smtp_free(&c);
}

int
main(void)
{
	buf_init(&outb, 0);
	buf_init(&bodyb, 0);
	test_pipelined();
	test_partial_write();
	test_not_pipelined();
	test_dots();
	test_failures();
	test_data_2xx();
	test_multiline();
	test_421();
	test_abort();
	test_protocol();
	test_probe();
	test_early_reply(1);
	test_early_reply(0);
	test_misuse();
	test_reinit();
	test_mixed_and_closing();
	buf_free(&outb);
	buf_free(&bodyb);
	return done_testing();
}
