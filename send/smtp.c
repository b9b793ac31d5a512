/* SMTP mail transactions without I/O (smtp.h). */
#include "send/smtp.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What an awaited reply answers. */
enum { W_MAIL = 1, W_RCPT, W_DATA, W_DOT, W_DOTABORT, W_RSET, W_QUIT };

void
smtp_init(struct smtp *c, int pipelining)
{
	struct buf out = c->out;	/* its storage is reused */

	memset(c, 0, sizeof *c);
	c->out = out;
	if (!c->out.max)
		buf_init(&c->out, 0);
	buf_reset(&c->out);
	c->pipelining = pipelining ? 1 : 0;
}

void
smtp_free(struct smtp *c)
{
	buf_free(&c->out);
	memset(c, 0, sizeof *c);
}

/* Copy a string, cut to fit (replies are longer than RFC 5321 allows
 * only from broken servers). */
static void
cpy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
closing(struct smtp *c, const char *why)
{
	if (!c->closing)
		cpy(c->why, sizeof c->why, why);
	c->closing = 1;
	return 0;
}

static struct smtp_tx *
find(struct smtp *c, void *tx)
{
	int i;

	for (i = 0; i < SMTP_TX_MAX; i++)
		if (c->tx[i].state != TX_FREE && c->tx[i].tx == tx)
			return &c->tx[i];
	return NULL;
}

unsigned
smtp_open(const struct smtp *c)
{
	unsigned n = 0;
	int i;

	for (i = 0; i < SMTP_TX_MAX; i++)
		n += c->tx[i].state != TX_FREE;
	return n;
}

unsigned
smtp_awaiting(const struct smtp *c)
{
	return c->nwait;
}

unsigned long
smtp_replies(const struct smtp *c)
{
	return c->replies;
}

/* All that was handed to smtp_sent(), as an offset of all queued. */
static unsigned long long
written(const struct smtp *c)
{
	return c->out_base + c->out_off;
}

int
smtp_closing(const struct smtp *c)
{
	return c->closing;
}

const char *
smtp_why(const struct smtp *c)
{
	return c->why;
}

int
smtp_can_begin(const struct smtp *c)
{
	unsigned open = smtp_open(c);
	int i;

	if (c->closing)
		return 0;
	if (!c->pipelining)
		return open == 0 && c->nwait == 0;
	if (open == 0)
		return 1;
	if (open >= SMTP_TX_MAX)
		return 0;
	/* One open: only behind a message that went out (RFC 2920 section
	 * 3.1: the content first in a group, the next DATA last). */
	for (i = 0; i < SMTP_TX_MAX; i++)
		if (c->tx[i].state != TX_FREE)
			return c->tx[i].state == TX_DOT;
	return 0;
}

/* ---- output ------------------------------------------------------------- */

const char *
smtp_out(const struct smtp *c, size_t *len)
{
	*len = c->out.len - c->out_off;
	return c->out.data ? c->out.data + c->out_off : "";
}

void
smtp_sent(struct smtp *c, size_t n)
{
	assert(n <= c->out.len - c->out_off);
	c->out_off += n;
	if (c->out_off >= c->out.len) {
		c->out_base += c->out.len;
		buf_reset(&c->out);
		c->out_off = 0;
	}
}

static int
await(struct smtp *c, int cmd, int tx)
{
	if (c->nwait >= SMTP_WAIT_MAX) {
		errno = EINVAL;
		return -1;
	}
	assert(tx >= -1 && tx < SMTP_TX_MAX);
	c->wait[c->nwait].cmd = (unsigned char)cmd;
	c->wait[c->nwait].tx = (signed char)tx;
	c->wait[c->nwait].end = c->out_base + c->out.len;
	c->nwait++;
	return 0;
}

/* One command line and the reply it awaits; nothing queued on failure. */
static int
command(struct smtp *c, int cmd, int tx, const char *verb, const char *arg)
{
	size_t len = c->out.len;

	if (c->nwait >= SMTP_WAIT_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (buf_adds(&c->out, verb) ||
	    (arg && (buf_adds(&c->out, arg) || buf_addc(&c->out, '>'))) ||
	    buf_add(&c->out, "\r\n", 2)) {
		buf_setlen(&c->out, len);
		return -1;
	}
	return await(c, cmd, tx);
}

/* RFC 5321 section 4.1.2: a path's mailbox has no CR, LF or brackets. */
static int
bad_path(const char *s)
{
	return strpbrk(s, "\r\n<>") != NULL || strlen(s) > 500;
}

int
smtp_begin(struct smtp *c, void *tx, const char *from, const char *rcpt)
{
	struct smtp_tx *t = NULL;
	unsigned nwait = c->nwait;
	size_t len = c->out.len;
	int i;

	if (!smtp_can_begin(c) || !from || bad_path(from) ||
	    (rcpt && bad_path(rcpt))) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < SMTP_TX_MAX && !t; i++)
		if (c->tx[i].state == TX_FREE)
			t = &c->tx[i];
	if (!t) {
		errno = EINVAL;
		return -1;
	}
	i = (int)(t - c->tx);
	memset(t, 0, sizeof *t);
	t->tx = tx;
	t->probe = rcpt == NULL;
	if (rcpt)
		cpy(t->rcpt, sizeof t->rcpt, rcpt);
	if (command(c, W_MAIL, i, "MAIL FROM:<", from))
		goto fail;
	if (rcpt && c->pipelining &&
	    (command(c, W_RCPT, i, "RCPT TO:<", rcpt) ||
	     command(c, W_DATA, i, "DATA", NULL)))
		goto fail;
	t->state = TX_ENVELOPE;
	c->begun++;
	return 0;
fail:
	c->nwait = nwait;
	buf_setlen(&c->out, len);
	t->tx = NULL;
	return -1;
}

int
smtp_body(struct smtp *c, void *tx, const char *msg, size_t len)
{
	struct smtp_tx *t = find(c, tx);
	size_t start = c->out.len;
	const char *p = msg, *q = msg, *e = msg + len, *nl;

	if (!t || t->state != TX_BODY || c->nwait >= SMTP_WAIT_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* The same read that brought the 354 closed the connection: the
	 * message would never leave, so it is not queued (data_sent stays
	 * 0 for its outcome). */
	if (c->closing) {
		errno = EPIPE;
		return -1;
	}
	if (buf_reserve(&c->out, len + 8))
		return -1;
	/* RFC 5321 section 4.5.2: a line that starts with "." gets one more.
	 * mime/ never writes such a line (its quoted-printable encodes a
	 * line-initial "."), so this is a scan, not a copy loop. */
	if (len && msg[0] == '.' && buf_addc(&c->out, '.'))
		goto fail;
	while ((nl = memchr(q, '\n', (size_t)(e - q)))) {
		q = nl + 1;
		if (q < e && *q == '.') {
			if (buf_add(&c->out, p, (size_t)(q - p)) ||
			    buf_addc(&c->out, '.'))
				goto fail;
			p = q;
		}
	}
	if (buf_add(&c->out, p, (size_t)(e - p)))
		goto fail;
	/* Section 4.1.1.4: the end of data is CRLF "." CRLF, the first CRLF
	 * being the message's last line end. */
	if ((len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n') &&
	    buf_add(&c->out, "\r\n", 2))
		goto fail;
	if (buf_add(&c->out, ".\r\n", 3))
		goto fail;
	t->state = TX_DOT;
	t->dot_end = c->out_base + c->out.len;
	return await(c, W_DOT, (int)(t - c->tx));
fail:
	buf_setlen(&c->out, start);
	return -1;
}

int
smtp_quit(struct smtp *c)
{
	if (command(c, W_QUIT, -1, "QUIT", NULL))
		return -1;
	closing(c, "");
	return 0;
}

/* ---- input -------------------------------------------------------------- */

static void
event(struct smtp *c, enum smtp_evkind kind, struct smtp_tx *t, int code,
      const char *reply, int head)
{
	struct smtp_event *ev;

	if (c->nev >= sizeof c->ev / sizeof c->ev[0]) {
		/* Cannot happen: each transaction makes at most two events
		 * per smtp_in(); a server replying to what was not sent is
		 * stopped by the awaited list first. */
		closing(c, "too many replies at once");
		return;
	}
	ev = &c->ev[c->nev++];
	memset(ev, 0, sizeof *ev);
	ev->kind = kind;
	ev->tx = t->tx;
	ev->code = code;
	ev->data_sent = t->state == TX_DOT && written(c) >= t->dot_end;
	ev->head = head;
	cpy(ev->reply, sizeof ev->reply, reply);
}

static void
done(struct smtp *c, struct smtp_tx *t, int code, const char *reply, int head)
{
	event(c, SMTP_DONE, t, code, reply, head);
	memset(t, 0, sizeof *t);
	c->ended++;
}

static void
fail(struct smtp_tx *t, int code, const char *reply)
{
	if (t->failed)
		return;
	t->failed = 1;
	t->code = code;
	cpy(t->reply, sizeof t->reply, reply);
}

/* The reply to MAIL FROM. */
static int
reply_mail(struct smtp *c, struct smtp_tx *t, int code, int ok)
{
	if (t->probe) {
		done(c, t, code, c->cur, 1);
		if (ok && !c->closing)
			return command(c, W_RSET, -1, "RSET", NULL);
		return 0;
	}
	if (!ok) {
		fail(t, code, c->cur);
		if (!c->pipelining)
			done(c, t, t->code, t->reply, 1);
		return 0;
	}
	if (!c->pipelining && !c->closing)
		return command(c, W_RCPT, (int)(t - c->tx), "RCPT TO:<", t->rcpt);
	return 0;
}

/* The reply to RCPT TO. */
static int
reply_rcpt(struct smtp *c, struct smtp_tx *t, int code, int ok)
{
	if (!ok) {
		fail(t, code, c->cur);
		if (c->pipelining)
			return 0;
		done(c, t, t->code, t->reply, 1);
		return c->closing ? 0 : command(c, W_RSET, -1, "RSET", NULL);
	}
	if (!c->pipelining && !c->closing && !t->failed)
		return command(c, W_DATA, (int)(t - c->tx), "DATA", NULL);
	return 0;
}

/* The reply to DATA. */
static int
reply_data(struct smtp *c, struct smtp_tx *t, int code)
{
	if (code == 354 && !t->failed) {
		t->state = TX_BODY;
		event(c, SMTP_BODY, t, code, c->cur, 1);
		return 0;
	}
	if (code == 354) {
		/* RFC 2920 section 3.1: DATA accepted although a recipient
		 * was refused; an empty message ends it. */
		t->state = TX_ABORTING;
		if (buf_add(&c->out, ".\r\n", 3))
			return -1;
		return await(c, W_DOTABORT, (int)(t - c->tx));
	}
	/* A success other than 354 would leave the message unsent while
	 * looking delivered: a broken server, not an outcome. */
	if (code < 400 && !t->failed)
		return closing(c, "the server answered DATA without 354");
	fail(t, code, c->cur);
	done(c, t, t->code, t->reply, 1);
	return c->closing ? 0 : command(c, W_RSET, -1, "RSET", NULL);
}

/* The oldest awaited reply: what it answers, once all of its command is
 * out (smtp.h).  1 with *cmd and *t (NULL for RSET, QUIT), 0 when the
 * connection is closing instead. */
static int
pop_awaited(struct smtp *c, int code, int *cmd, struct smtp_tx **t)
{
	if (c->nwait == 0)
		/* RFC 5321 section 3.8: a server may send 421 and close at
		 * any time, e.g. when the connection is idle too long. */
		return closing(c, code == 421 ? c->cur :
			       "the server sent a reply nothing asked for");
	if (written(c) < c->wait[0].end)
		return closing(c, code == 421 ? c->cur : "the server replied "
			       "before our command was all sent (a reply to "
			       "part of a message is no reply to it)");
	*cmd = c->wait[0].cmd;
	*t = c->wait[0].tx >= 0 ? &c->tx[c->wait[0].tx] : NULL;
	assert(*cmd == W_RSET || *cmd == W_QUIT ||
	       (*t && (*t)->state != TX_FREE));
	if (*t)
		(*t)->answered = 1;
	c->nwait--;
	memmove(c->wait, c->wait + 1, c->nwait * sizeof c->wait[0]);
	return 1;
}

/* A complete reply (code, and its text joined in c->cur). */
static int
reply(struct smtp *c, int code)
{
	struct smtp_tx *t = NULL;
	int cmd = 0;

	c->replies++;
	if (!pop_awaited(c, code, &cmd, &t))
		return 0;
	if (code == 421)
		closing(c, c->cur);
	switch (cmd) {
	case W_MAIL:
		return reply_mail(c, t, code, code / 100 == 2);
	case W_RCPT:
		return reply_rcpt(c, t, code, code / 100 == 2);
	case W_DATA:
		return reply_data(c, t, code);
	case W_DOT:
		done(c, t, code, c->cur, 1);
		return 0;
	case W_DOTABORT:
		done(c, t, t->code, t->reply, 1);
		return c->closing ? 0 : command(c, W_RSET, -1, "RSET", NULL);
	case W_RSET:
		if (code / 100 != 2) {
			char why[SMTP_REPLY_MAX + 32];
			snprintf(why, sizeof why, "RSET refused: %s", c->cur);
			closing(c, why);
		}
		return 0;
	default:	/* W_QUIT */
		return 0;
	}
}

/* One line of a reply, CRLF stripped (RFC 5321 section 4.2.1: "ddd-text"
 * continues, "ddd text" or "ddd" ends). */
static int
line(struct smtp *c, const char *p, size_t n)
{
	int code, last;
	size_t cl, add;

	if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || (n > 3 && p[3] != ' ' && p[3] != '-'))
		return closing(c, "the server sent a line that is not an SMTP "
			       "reply");
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	last = n == 3 || p[3] == ' ';
	/* Section 4.2.1: every line of a reply has the same code; a reply
	 * that starts "550-" and ends "250 " must not read as a success. */
	if (c->in_multi && memcmp(c->cur, p, 3) != 0)
		return closing(c, "the server sent a reply whose lines have "
			       "different codes");
	if (!c->in_multi) {
		cl = n < SMTP_REPLY_MAX - 1 ? n : SMTP_REPLY_MAX - 1;
		memcpy(c->cur, p, cl);
		c->cur[cl] = '\0';
		if (cl > 3)
			c->cur[3] = ' ';
	} else if (n > 4) {
		cl = strlen(c->cur);
		if (cl + 2 < SMTP_REPLY_MAX) {
			add = n - 4;
			if (add > SMTP_REPLY_MAX - 2 - cl)
				add = SMTP_REPLY_MAX - 2 - cl;
			c->cur[cl++] = ' ';
			memcpy(c->cur + cl, p + 4, add);
			c->cur[cl + add] = '\0';
		}
	}
	c->in_multi = !last;
	if (!last)
		return 0;
	/* The reply goes to a terminal, a log and the journal. */
	for (char *q = c->cur; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return reply(c, code);
}

int
smtp_in(struct smtp *c, const char *p, size_t n)
{
	const char *e = p + n, *nl;
	size_t take, len;

	if (c->nev && c->evtake == c->nev)
		c->nev = c->evtake = 0;
	/* After a 421 or a protocol error nothing more is read; after QUIT
	 * its own reply still is. */
	while (p < e && (!c->closing ||
			 (c->nwait && c->wait[c->nwait - 1].cmd == W_QUIT))) {
		nl = memchr(p, '\n', (size_t)(e - p));
		take = (size_t)((nl ? nl : e) - p);
		if (c->linelen + take > SMTP_LINE_MAX)
			take = SMTP_LINE_MAX - c->linelen;	/* cut */
		memcpy(c->line + c->linelen, p, take);
		c->linelen += take;
		if (!nl)
			break;
		p = nl + 1;
		len = c->linelen;
		if (len && c->line[len - 1] == '\r')
			len--;
		c->linelen = 0;
		if (line(c, c->line, len))
			return -1;
	}
	return 0;
}

int
smtp_event(struct smtp *c, struct smtp_event *ev)
{
	if (c->evtake >= c->nev) {
		c->nev = c->evtake = 0;
		return 0;
	}
	*ev = c->ev[c->evtake++];
	return 1;
}

void
smtp_abort(struct smtp *c, const char *why)
{
	int i;
	struct smtp_tx *t;

	if (c->nev && c->evtake == c->nev)
		c->nev = c->evtake = 0;
	for (i = 0; i < SMTP_TX_MAX; i++) {
		t = &c->tx[i];
		if (t->state == TX_FREE)
			continue;
		/* A transaction the server never answered is not to blame
		 * (its commands followed another one's end of data, and the
		 * server closed after that one: RFC 2920 section 3.1). */
		if (t->failed)
			done(c, t, t->code, t->reply, 1);
		else
			done(c, t, 0, why, t->answered ||
			     t->state == TX_DOT);
	}
	c->nwait = 0;
	closing(c, why);
	buf_reset(&c->out);
	c->out_off = 0;
}
