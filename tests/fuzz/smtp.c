/*
 * Fuzz target "smtp": send/smtp.h, the SMTP transaction engine, with the
 * fuzzer's bytes as the server's replies (untrusted input: RFC 5321
 * section 4.2 replies, or anything else a broken or hostile server sends).
 *
 * Input: one control byte, then what the server says.
 *   bit 0     the server advertised PIPELINING (RFC 2920)
 *   bits 1-2  how the replies arrive: 0 one byte at a time, 1 seven bytes
 *             at a time, 2 all at once, 3 one line (up to each LF) at a
 *             time
 *   bit 3     one of the transactions is a probe (rcpt NULL); bits 4-5:
 *             which one (0-3)
 *   bit 6     QUIT once the fourth transaction has ended
 *   bit 7     a slow writer: at most 5 bytes of output go out per step
 *             (replies are fed while commands are still queued)
 * The harness drives up to 3 connections (smtp_init() on the used struct
 * after smtp_abort() of the one before) and up to 4 transactions in all,
 * begun whenever smtp_can_begin() says so (their handles are addresses in
 * a static array; transaction i sends message i, each with lines that
 * need dot-stuffing).  Each step: begin, write, feed the next piece of
 * input, take every event (a 354 is answered with smtp_body() at once, as
 * smtp.h asks).  A connection ends when it is closing (after QUIT: once
 * QUIT's reply came) or the input ends, with smtp_abort().
 * Properties:
 *  - every transaction begun gets exactly one SMTP_DONE, none before its
 *    begin or after it, on the connection it was begun on; after
 *    smtp_abort() none is open (smtp_open() is 0), nothing is awaited or
 *    queued; smtp_open() always matches the events taken;
 *  - SMTP_BODY comes once, with code 354, never for a probe, and
 *    smtp_body() accepts it;
 *  - a DONE's code is 0 or 200-599; data_sent is 1 exactly when the
 *    transaction's message was given and all of it, its end of data
 *    included, was handed to smtp_sent() (a probe never sends one); a
 *    2xx DONE of a non-probe has data_sent 1; head 0 only with code 0 and
 *    no data sent;
 *  - event replies and smtp_why() are NUL-terminated within
 *    SMTP_REPLY_MAX and hold no byte below 0x20 and no 0x7f; a reply with
 *    a code starts with three digits; smtp_why() is set when the
 *    connection closes without QUIT;
 *  - smtp_awaiting() <= SMTP_WAIT_MAX, smtp_open() <= SMTP_TX_MAX (1
 *    without PIPELINING); smtp_can_begin() is what smtp.h says (never
 *    while closing; without PIPELINING only when idle; with it also
 *    behind one message that went out, never behind an envelope); a
 *    begin that smtp_can_begin() refuses, and a body for a transaction
 *    with no 354 waiting, fail with EINVAL and queue nothing;
 *  - the output is, outside the messages, lines ending in CRLF without
 *    another CR or LF, each "MAIL FROM:<from>", "RCPT TO:<rcpt>" (of a
 *    transaction begun), "DATA", "RSET", "QUIT" or "." (the end of an
 *    empty message after a refused recipient), and one MAIL FROM per
 *    transaction begun; each message goes out right after a DATA line,
 *    dot-stuffed (RFC 5321 section 4.5.2: un-stuffed it is the message
 *    again, with a CRLF added when it had no final one), and ends in
 *    CRLF "." CRLF.
 */
#include "tests/fuzz/fuzz.h"

#include "send/smtp.h"

#define SMTP_FUZZ_TXS 4		/* transactions per input */
#define SMTP_FUZZ_CONNS 3	/* connections per input */
#define SMTP_FUZZ_OUT 16384	/* output of one connection (bounded) */
#define SMTP_FUZZ_FROM "news@example.org"

/* The handles: only their addresses matter (smtp.h never dereferences). */
static char smtp_fuzz_handle[SMTP_FUZZ_TXS];
static char smtp_fuzz_stray;	/* a handle never begun */

static const char *const smtp_fuzz_rcpt[SMTP_FUZZ_TXS] = {
	"ada@example.org", "bob@example.net", "cy@example.com",
	"dee@example.org",
};

/* CRLF line ends only (smtp.h's contract); lines "." and "..x", a final
 * line without CRLF, an empty message. */
static const char *const smtp_fuzz_msg[SMTP_FUZZ_TXS] = {
	".\r\n..x\r\nline\r\n.\r\nend",
	"Subject: t\r\n\r\n.\r\n..x\r\n",
	"",
	"x\r\n.",
};

struct smtp_fuzz_tx {
	int begun, done, probe, body, conn;
	size_t dot_end;		/* the output offset after its end of data */
};

struct smtp_fuzz {
	struct smtp c;
	unsigned opt;
	int conn;		/* the connection's number, from 1 */
	int quit_sent;
	unsigned nbegun;	/* over the whole input */
	unsigned conn_begun;	/* on this connection */
	struct smtp_fuzz_tx tx[SMTP_FUZZ_TXS];
	/* this connection's output so far (written, then what was left) */
	char out[SMTP_FUZZ_OUT];
	size_t outlen;
	size_t sent;		/* of it, handed to smtp_sent() */
	/* where in it each message went: [start, end) */
	size_t seg[SMTP_FUZZ_TXS][2];
	unsigned nseg;
};

static void
smtp_fuzz_text(const char *what, const char *s)
{
	const char *z = memchr(s, '\0', SMTP_REPLY_MAX);
	const char *q;

	FUZZ_CHECK(z, "%s: not NUL-terminated within SMTP_REPLY_MAX", what);
	for (q = s; q < z; q++)
		FUZZ_CHECK((unsigned char)*q >= 0x20 && *q != 0x7f,
			   "%s holds byte 0x%02x: %s", what,
			   (unsigned char)*q, s);
}

/* The message as it went out (p[0..n)): CRLF lines, the last one ".";
 * un-stuffed (one '.' off each other line that starts with one) it is
 * msg, plus CRLF when msg had no final one. */
static void
smtp_fuzz_check_body(const char *p, size_t n, const char *msg)
{
	size_t mlen = strlen(msg), got = 0, i, len;
	char want[256], un[256];
	const char *e = p + n, *cr;

	FUZZ_CHECK(mlen + 2 < sizeof want, "test message too long");
	memcpy(want, msg, mlen);
	if (mlen < 2 || memcmp(msg + mlen - 2, "\r\n", 2) != 0) {
		memcpy(want + mlen, "\r\n", 2);
		mlen += 2;
	}
	for (i = 0; i < n; i++)
		FUZZ_CHECK(p[i] != '\n' || (i > 0 && p[i - 1] == '\r'),
			   "bare LF in a message");
	while (p < e) {
		cr = memmem(p, (size_t)(e - p), "\r\n", 2);
		FUZZ_CHECK(cr, "message line without CRLF");
		len = (size_t)(cr - p);
		if (len == 1 && p[0] == '.') {
			FUZZ_CHECK(cr + 2 == e, "a line \".\" inside a message "
				   "(the end of data before its end)");
			break;
		}
		if (len && p[0] == '.') {
			FUZZ_CHECK(len >= 2 && p[1] == '.',
				   "line-initial '.' not doubled");
			p++;
			len--;
		}
		FUZZ_CHECK(got + len + 2 <= sizeof un, "message grew");
		memcpy(un + got, p, len);
		memcpy(un + got + len, "\r\n", 2);
		got += len + 2;
		p = cr + 2;
	}
	FUZZ_CHECK(p < e, "message without the end of data");
	FUZZ_CHECK(got == mlen && memcmp(un, want, mlen) == 0,
		   "the message un-stuffs to something else");
}

/* The connection's output outside the messages: command lines. */
static void
smtp_fuzz_check_lines(const struct smtp_fuzz *f)
{
	char l[600];
	const char *p, *cr;
	size_t pos = 0, end, len, mails = 0;
	unsigned s = 0, i;
	int okline;

	while (pos < f->outlen) {
		if (s < f->nseg && pos == f->seg[s][0]) {
			/* a message goes out right after its DATA */
			FUZZ_CHECK(pos >= 6 && memcmp(f->out + pos - 6,
						      "DATA\r\n", 6) == 0,
				   "a message that does not follow DATA");
			pos = f->seg[s++][1];
			continue;
		}
		end = s < f->nseg ? f->seg[s][0] : f->outlen;
		FUZZ_CHECK(end >= pos && end <= f->outlen,
			   "messages out of order in the output");
		p = f->out + pos;
		cr = memmem(p, end - pos, "\r\n", 2);
		FUZZ_CHECK(cr, "a command without CRLF: %.*s", (int)(end - pos),
			   p);
		len = (size_t)(cr - p);
		FUZZ_CHECK(!memchr(p, '\r', len) && !memchr(p, '\n', len),
			   "a bare CR or LF in a command");
		okline = (len == 4 && (memcmp(p, "DATA", 4) == 0 ||
				       memcmp(p, "RSET", 4) == 0 ||
				       memcmp(p, "QUIT", 4) == 0)) ||
			 (len == 1 && p[0] == '.');
		snprintf(l, sizeof l, "MAIL FROM:<%s>", SMTP_FUZZ_FROM);
		if (len == strlen(l) && memcmp(p, l, len) == 0) {
			okline = 1;
			mails++;
		}
		for (i = 0; i < SMTP_FUZZ_TXS && !okline; i++) {
			snprintf(l, sizeof l, "RCPT TO:<%s>",
				 smtp_fuzz_rcpt[i]);
			okline = f->tx[i].begun && !f->tx[i].probe &&
				 f->tx[i].conn == f->conn &&
				 len == strlen(l) && memcmp(p, l, len) == 0;
		}
		FUZZ_CHECK(okline, "unexpected command: %.*s", (int)len, p);
		pos += len + 2;
	}
	FUZZ_CHECK(mails == f->conn_begun, "%zu MAIL FROM for %u "
		   "transactions", mails, f->conn_begun);
}

/* Move what the engine has to write into f->out: at most max bytes,
 * marked written with smtp_sent() unless peek. */
static void
smtp_fuzz_write(struct smtp_fuzz *f, size_t max, int peek)
{
	size_t n;
	const char *p = smtp_out(&f->c, &n);

	if (n > max)
		n = max;
	FUZZ_CHECK(f->outlen + n <= sizeof f->out, "output without bound");
	memcpy(f->out + f->outlen, p, n);
	f->outlen += n;
	if (!peek && n) {
		smtp_sent(&f->c, n);
		f->sent += n;
	}
}

static void
smtp_fuzz_invariants(struct smtp_fuzz *f)
{
	unsigned open = 0, envelope = 0, i, may;

	for (i = 0; i < SMTP_FUZZ_TXS; i++) {
		open += f->tx[i].begun && !f->tx[i].done;
		envelope += f->tx[i].begun && !f->tx[i].done &&
			    !f->tx[i].body;
	}
	/* smtp.h: without PIPELINING only on an idle connection; with it
	 * also behind one message that went out, never behind an envelope
	 * (RFC 2920 section 3.1: DATA is the last command of a group). */
	may = !smtp_closing(&f->c) &&
	      (f->c.pipelining ? open == 0 || (open == 1 && !envelope) :
	       open == 0 && smtp_awaiting(&f->c) == 0);
	FUZZ_CHECK(!smtp_can_begin(&f->c) == !may,
		   "smtp_can_begin() %d with %u open, %u before their 354, "
		   "%u replies awaited", smtp_can_begin(&f->c), open,
		   envelope, smtp_awaiting(&f->c));
	FUZZ_CHECK(smtp_open(&f->c) == open, "smtp_open() %u, %u open",
		   smtp_open(&f->c), open);
	FUZZ_CHECK(open <= (f->c.pipelining ? SMTP_TX_MAX : 1),
		   "%u transactions open", open);
	FUZZ_CHECK(smtp_awaiting(&f->c) <= SMTP_WAIT_MAX,
		   "%u replies awaited", smtp_awaiting(&f->c));
	if (smtp_closing(&f->c)) {
		FUZZ_CHECK(!smtp_can_begin(&f->c), "a begin while closing");
		smtp_fuzz_text("smtp_why()", smtp_why(&f->c));
		FUZZ_CHECK(f->quit_sent || smtp_why(&f->c)[0],
			   "closing without a reason");
	}
}

/* smtp_begin() and smtp_body() refuse what is not allowed, and then
 * queue nothing: a begin smtp_can_begin() refuses; a body for a handle
 * never begun, or for an open transaction (every 354 was answered at
 * once, so none waits for its message). */
static void
smtp_fuzz_misuse(struct smtp_fuzz *f)
{
	size_t before, after;
	unsigned w = smtp_awaiting(&f->c), i;

	smtp_out(&f->c, &before);
	if (!smtp_can_begin(&f->c)) {
		errno = 0;
		FUZZ_CHECK(smtp_begin(&f->c, &smtp_fuzz_stray, SMTP_FUZZ_FROM,
				      "x@example.org") == -1 &&
			   errno == EINVAL, "a begin smtp_can_begin() refused "
			   "went through");
	}
	errno = 0;
	FUZZ_CHECK(smtp_body(&f->c, &smtp_fuzz_stray, "x\r\n", 3) == -1 &&
		   errno == EINVAL, "a body for a transaction never begun");
	for (i = 0; i < SMTP_FUZZ_TXS; i++) {
		if (!f->tx[i].begun || f->tx[i].done)
			continue;
		errno = 0;
		FUZZ_CHECK(smtp_body(&f->c, &smtp_fuzz_handle[i], "x\r\n",
				     3) == -1 && (errno == EINVAL ||
						  (errno == EPIPE &&
						   smtp_closing(&f->c))),
			   "a body for transaction %u without a 354 went "
			   "through", i);
	}
	smtp_out(&f->c, &after);
	FUZZ_CHECK(after == before && smtp_awaiting(&f->c) == w,
		   "a refused call queued something");
}

static void
smtp_fuzz_events(struct smtp_fuzz *f)
{
	struct smtp_event ev;
	struct smtp_fuzz_tx *t;
	const char *m, *p;
	size_t i, p0, p1;
	int r;

	while (smtp_event(&f->c, &ev)) {
		for (i = 0; i < SMTP_FUZZ_TXS; i++)
			if (ev.tx == &smtp_fuzz_handle[i])
				break;
		FUZZ_CHECK(i < SMTP_FUZZ_TXS, "an event for an unknown handle");
		t = &f->tx[i];
		FUZZ_CHECK(t->begun && !t->done && t->conn == f->conn,
			   "an event for transaction %zu, which is not open "
			   "(begun %d, done %d)", i, t->begun, t->done);
		smtp_fuzz_text("an event's reply", ev.reply);
		if (ev.kind == SMTP_BODY) {
			FUZZ_CHECK(!t->probe, "a 354 for a probe");
			FUZZ_CHECK(!t->body, "a second 354 for one transaction");
			FUZZ_CHECK(ev.code == 354, "SMTP_BODY with code %d",
				   ev.code);
			m = smtp_fuzz_msg[i];
			smtp_out(&f->c, &p0);
			if (smtp_closing(&f->c)) {
				/* The 421 came with the 354: nothing may be
				 * queued (smtp.h), the abort ends it. */
				errno = 0;
				r = smtp_body(&f->c, ev.tx, m, strlen(m));
				FUZZ_CHECK(r == -1 && errno == EPIPE,
					   "smtp_body() while closing: %d "
					   "(errno %d)", r, errno);
				smtp_out(&f->c, &p1);
				FUZZ_CHECK(p1 == p0, "smtp_body() queued "
					   "while closing");
				continue;
			}
			r = smtp_body(&f->c, ev.tx, m, strlen(m));
			FUZZ_CHECK(r == 0, "smtp_body() failed (errno %d)",
				   errno);
			p = smtp_out(&f->c, &p1);
			FUZZ_CHECK(p1 > p0, "smtp_body() queued nothing");
			smtp_fuzz_check_body(p + p0, p1 - p0, m);
			FUZZ_CHECK(f->nseg < SMTP_FUZZ_TXS, "too many messages");
			f->seg[f->nseg][0] = f->outlen + p0;
			f->seg[f->nseg][1] = f->outlen + p1;
			f->nseg++;
			t->body = 1;
			t->dot_end = f->sent + p1;
			continue;
		}
		FUZZ_CHECK(ev.kind == SMTP_DONE, "event kind %d", ev.kind);
		t->done = 1;
		FUZZ_CHECK(ev.code == 0 || (ev.code >= 200 && ev.code <= 599),
			   "DONE with code %d", ev.code);
		FUZZ_CHECK(ev.data_sent == (t->body && f->sent >= t->dot_end),
			   "data_sent %d, but the message was %s", ev.data_sent,
			   !t->body ? "not given" : f->sent >= t->dot_end ?
			   "all written" : "not all written");
		FUZZ_CHECK(!(ev.code >= 200 && ev.code <= 299 && !t->probe) ||
			   ev.data_sent == 1,
			   "a %d without the message: %s", ev.code, ev.reply);
		FUZZ_CHECK(ev.head || (ev.code == 0 && !ev.data_sent),
			   "head 0 with code %d, data_sent %d", ev.code,
			   ev.data_sent);
		if (ev.code)
			FUZZ_CHECK(ev.reply[0] >= '2' && ev.reply[0] <= '5' &&
				   ev.reply[1] >= '0' && ev.reply[1] <= '9' &&
				   ev.reply[2] >= '0' && ev.reply[2] <= '9' &&
				   (ev.reply[3] == ' ' || !ev.reply[3]),
				   "code %d with the reply '%s'", ev.code,
				   ev.reply);
	}
}

/* Begin what may begin (the probe is the one the control byte names). */
static void
smtp_fuzz_begin(struct smtp_fuzz *f)
{
	unsigned i;
	int probe, r;

	while (f->nbegun < SMTP_FUZZ_TXS && smtp_can_begin(&f->c)) {
		i = f->nbegun++;
		probe = (f->opt & 8) && ((f->opt >> 4) & 3) == i;
		r = smtp_begin(&f->c, &smtp_fuzz_handle[i], SMTP_FUZZ_FROM,
			       probe ? NULL : smtp_fuzz_rcpt[i]);
		FUZZ_CHECK(r == 0, "smtp_begin() failed (errno %d)", errno);
		f->tx[i].begun = 1;
		f->tx[i].probe = probe;
		f->tx[i].conn = f->conn;
		f->conn_begun++;
	}
}

/* The length of the next piece of input. */
static size_t
smtp_fuzz_piece(unsigned opt, const uint8_t *p, size_t n)
{
	const uint8_t *nl;

	switch ((opt >> 1) & 3) {
	case 0:
		return 1;
	case 1:
		return n < 7 ? n : 7;
	case 2:
		return n;
	default:
		nl = memchr(p, '\n', n);
		return nl ? (size_t)(nl - p) + 1 : n;
	}
}

FUZZ_TARGET(smtp)
{
	static struct smtp_fuzz f;	/* large: not on the stack */
	struct smtp_event ev;
	const uint8_t *p, *end;
	size_t n;
	unsigned i;

	if (size < 1 || size > 8192)
		return 0;
	memset(&f, 0, sizeof f);
	f.opt = data[0];
	p = data + 1;
	end = data + size;
	for (f.conn = 1; f.conn <= SMTP_FUZZ_CONNS; f.conn++) {
		smtp_init(&f.c, f.opt & 1);
		f.quit_sent = 0;
		f.conn_begun = 0;
		f.outlen = 0;
		f.sent = 0;
		f.nseg = 0;
		for (;;) {
			smtp_fuzz_begin(&f);
			if ((f.opt & 0x40) && f.nbegun == SMTP_FUZZ_TXS &&
			    !f.quit_sent && !smtp_closing(&f.c) &&
			    smtp_open(&f.c) == 0 &&
			    smtp_awaiting(&f.c) == 0) {
				FUZZ_CHECK(smtp_quit(&f.c) == 0,
					   "smtp_quit() failed");
				f.quit_sent = 1;
				FUZZ_CHECK(smtp_closing(&f.c) &&
					   !smtp_why(&f.c)[0],
					   "QUIT: not closing, or a reason");
			}
			smtp_fuzz_write(&f, f.opt & 0x80 ? 5 : (size_t)-1, 0);
			smtp_fuzz_misuse(&f);
			smtp_fuzz_invariants(&f);
			if (smtp_closing(&f.c) &&
			    !(f.quit_sent && smtp_awaiting(&f.c)))
				break;
			if (p == end)
				break;
			n = smtp_fuzz_piece(f.opt, p, (size_t)(end - p));
			FUZZ_CHECK(smtp_in(&f.c, (const char *)p, n) == 0,
				   "smtp_in() failed (errno %d)", errno);
			p += n;
			smtp_fuzz_events(&f);
			smtp_fuzz_invariants(&f);
		}
		/* What is left to write is checked too, then dropped. */
		smtp_fuzz_write(&f, (size_t)-1, 1);
		smtp_fuzz_check_lines(&f);
		smtp_abort(&f.c, "fuzz: connection closed");
		smtp_fuzz_events(&f);
		FUZZ_CHECK(smtp_open(&f.c) == 0, "open after smtp_abort()");
		for (i = 0; i < SMTP_FUZZ_TXS; i++)
			FUZZ_CHECK(!f.tx[i].begun || f.tx[i].done ||
				   f.tx[i].conn != f.conn,
				   "transaction %u without its DONE", i);
		smtp_out(&f.c, &n);
		FUZZ_CHECK(n == 0 && smtp_awaiting(&f.c) == 0 &&
			   smtp_closing(&f.c) && !smtp_event(&f.c, &ev),
			   "smtp_abort() left something behind");
		smtp_fuzz_invariants(&f);
		if (p == end)
			break;
	}
	for (i = 0; i < SMTP_FUZZ_TXS; i++)
		FUZZ_CHECK(!f.tx[i].begun || f.tx[i].done,
			   "transaction %u without its DONE", i);
	smtp_free(&f.c);
	return 0;
}
