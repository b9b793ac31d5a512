/*
 * Fuzz target "smtp_model": send/smtp.h against a model of an SMTP server
 * that reads exactly what the client wrote, to check the rule that a
 * reply is credited to a command only once all of the command is written.
 *
 * The fuzzer's bytes choose the schedule, not the replies: each step one
 * byte, whose low 3 bits are
 *   0-2  write up to (next byte) * 37 + 1 bytes of the client's output
 *        to the model (it reads them as a server would: commands line by
 *        line, the message until its end of data);
 *   3    the model sends its oldest queued reply;
 *   4    an early reply, out of turn: 250, 354, 552, 500 or 421 (next
 *        byte), as broken servers send them;
 *   5    begin a transaction (when smtp_can_begin());
 *   6    the model sends every reply it has queued;
 *   7    nothing.
 * The model answers MAIL 250, RCPT 250 (550 for the recipients the first
 * byte marks), DATA 354, the end of data 250, RSET 250, QUIT 221: only
 * for what it has wholly read, and nothing after an early reply (it would
 * be one reply out of step).
 * Properties:
 *  - data_sent (and so "sent") only once all of the transaction's end of
 *    data was written;
 *  - an outcome with a code only once all of its MAIL FROM was written
 *    (no reply is credited to a command not sent);
 *  - without early replies on a connection, nothing closes it, and every
 *    transaction ends with the model's code for it (250, or 550 for a
 *    refused recipient).
 */
#include "tests/fuzz/fuzz.h"

#include "send/smtp.h"

#define SMODEL_TXS 6
#define SMODEL_OUT 65536

static char smodel_handle[SMODEL_TXS];
static const char *const smodel_rcpt[SMODEL_TXS] = {
	"a@example.org", "b@example.org", "c@example.org", "d@example.org",
	"e@example.org", "f@example.org",
};
static const char smodel_msg[] =
	"Subject: model\r\n\r\n.line\r\nmore text\r\n..two\r\nend\r\n";

struct smodel {
	struct smtp c;
	unsigned refuse;	/* bit i: refuse recipient i */
	int early;		/* an early reply was fed on this connection */
	unsigned nbegun;	/* transactions begun (all connections) */
	int conn_first;		/* the first transaction of this connection */
	/* the model server */
	char line[1024];
	size_t linelen;
	int in_data;		/* reading a message */
	size_t datalen;		/* of the current message, for its end */
	char tail[5];		/* its last bytes, to find CRLF "." CRLF */
	int mails;		/* MAIL lines read on this connection */
	int refused[SMODEL_TXS];	/* by transaction: its RCPT refused */
	/* what the client wrote: all of it, and where (in all it queued)
	 * each transaction's MAIL FROM and end of data end */
	unsigned long long written;
	unsigned long long mail_end[SMODEL_TXS], dot_end[SMODEL_TXS];
	char replies[64][48];	/* queued, oldest first */
	int nreplies;
	int done[SMODEL_TXS];
};

static void
smodel_queue(struct smodel *m, const char *r)
{
	if (m->nreplies < 64)
		snprintf(m->replies[m->nreplies++], sizeof m->replies[0],
			 "%s\r\n", r);
}

/* The transaction the model's k-th MAIL on this connection belongs to. */
static int
smodel_tx(const struct smodel *m, int k)
{
	int i = m->conn_first + k;

	return i < SMODEL_TXS ? i : SMODEL_TXS - 1;
}

static void
smodel_command(struct smodel *m)
{
	const char *l = m->line;
	int t;

	if (strncmp(l, "MAIL FROM:", 10) == 0) {
		m->mails++;
		smodel_queue(m, "250 2.1.0 ok");
	} else if (strncmp(l, "RCPT TO:", 8) == 0) {
		t = smodel_tx(m, m->mails - 1);
		m->refused[t] = (m->refuse >> t) & 1;
		smodel_queue(m, m->refused[t] ? "550 5.1.1 no such user" :
			     "250 2.1.5 ok");
	} else if (strcmp(l, "DATA") == 0) {
		smodel_queue(m, "354 go ahead");
		m->in_data = 1;
		m->datalen = 0;
		memset(m->tail, 0, sizeof m->tail);
		/* The line end that ended "DATA" starts the first line. */
		memcpy(m->tail + 3, "\r\n", 2);
	} else if (strcmp(l, "RSET") == 0) {
		smodel_queue(m, "250 2.0.0 ok");
	} else if (strcmp(l, "QUIT") == 0) {
		smodel_queue(m, "221 2.0.0 bye");
	} else {
		smodel_queue(m, "500 5.5.1 unknown command");
	}
}

/* The model reads one byte the client wrote. */
static void
smodel_byte(struct smodel *m, char ch)
{
	int t;

	if (m->in_data) {
		memmove(m->tail, m->tail + 1, 4);
		m->tail[4] = ch;
		m->datalen++;
		if (memcmp(m->tail, "\r\n.\r\n", 5) == 0) {
			m->in_data = 0;
			t = smodel_tx(m, m->mails - 1);
			smodel_queue(m, m->refused[t] ? "554 5.5.1 no valid "
				     "recipients" : "250 2.0.0 queued");
		}
		return;
	}
	if (ch == '\n') {
		if (m->linelen && m->line[m->linelen - 1] == '\r')
			m->linelen--;
		m->line[m->linelen] = '\0';
		m->linelen = 0;
		smodel_command(m);
	} else if (m->linelen + 1 < sizeof m->line) {
		m->line[m->linelen++] = ch;
	}
}

static void
smodel_write(struct smodel *m, size_t max)
{
	size_t n, i;
	const char *p = smtp_out(&m->c, &n);

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		smodel_byte(m, p[i]);
	if (n)
		smtp_sent(&m->c, n);
	m->written += n;
}

static void
smodel_events(struct smodel *m)
{
	struct smtp_event ev;
	int i;

	while (smtp_event(&m->c, &ev)) {
		i = (int)((char *)ev.tx - smodel_handle);
		FUZZ_CHECK(i >= 0 && i < SMODEL_TXS, "an event for no "
			   "transaction");
		if (ev.kind == SMTP_BODY) {
			size_t n;

			if (smtp_body(&m->c, ev.tx, smodel_msg,
				      strlen(smodel_msg)) == 0) {
				smtp_out(&m->c, &n);
				m->dot_end[i] = m->written + n;
			} else {
				FUZZ_CHECK(errno == EPIPE, "smtp_body() failed");
			}
			continue;
		}
		FUZZ_CHECK(!m->done[i], "a second outcome for %d", i);
		m->done[i] = 1;
		FUZZ_CHECK(!ev.data_sent || (m->dot_end[i] &&
					       m->written >= m->dot_end[i]),
			   "data_sent for %d (%d %s) before its end of data was "
			   "all written", i, ev.code, ev.reply);
		FUZZ_CHECK(ev.code == 0 || m->written >= m->mail_end[i],
			   "transaction %d has the outcome %d but its MAIL FROM "
			   "was not all written", i, ev.code);
		if (!m->early)
			FUZZ_CHECK(ev.code == (m->refused[i] ? 550 : 250) ||
				   ev.code == 0, "transaction %d: %d, the model "
				   "said %d", i, ev.code, m->refused[i] ? 550 : 250);
	}
}

static void
smodel_reply(struct smodel *m, const char *r)
{
	FUZZ_CHECK(smtp_in(&m->c, r, strlen(r)) == 0, "smtp_in() failed");
	smodel_events(m);
}

/* After an early reply the model's own replies are out of step with the
 * client's (one reply too many): the model says nothing more on that
 * connection. */
static void
smodel_send(struct smodel *m, int all)
{
	if (m->early)
		return;
	do {
		if (!m->nreplies)
			return;
		smodel_reply(m, m->replies[0]);
		memmove(m->replies, m->replies + 1,
			(size_t)--m->nreplies * sizeof m->replies[0]);
	} while (all);
}

static const char *const smodel_early[] = {
	"250 2.0.0 queued\r\n", "354 go\r\n", "552 5.3.4 too big\r\n",
	"500 5.5.1 unknown command\r\n", "421 4.3.2 bye\r\n",
};

/* One step of the schedule; 0 when the input is used up. */
static int
smodel_step(struct smodel *m, const uint8_t **p, const uint8_t *end)
{
	unsigned op, arg;

	if (*p + 2 > end)
		return 0;
	op = (*p)[0] & 7;
	arg = (*p)[1];
	*p += 2;
	if (op <= 2) {
		smodel_write(m, (size_t)arg * 37 + 1);
	} else if (op == 3 || op == 6) {
		smodel_send(m, op == 6);
	} else if (op == 4) {
		m->early = 1;
		smodel_reply(m, smodel_early[arg % 5]);
	} else if (op == 5 && m->nbegun < SMODEL_TXS &&
		   smtp_can_begin(&m->c)) {
		size_t before;

		smtp_out(&m->c, &before);
		FUZZ_CHECK(smtp_begin(&m->c, &smodel_handle[m->nbegun],
				      "news@example.org",
				      smodel_rcpt[m->nbegun]) == 0,
			   "smtp_begin() failed");
		/* "MAIL FROM:<news@example.org>" CRLF, first of what
		 * smtp_begin() queued */
		m->mail_end[m->nbegun] = m->written + before + 30;
		m->nbegun++;
	}
	return 1;
}

FUZZ_TARGET(smtp_model)
{
	static struct smodel m;
	const uint8_t *p, *end;
	int conn;

	if (size < 2 || size > 4096)
		return 0;
	memset(&m, 0, sizeof m);
	m.refuse = data[0];
	p = data + 1;
	end = data + size;
	for (conn = 0; conn < 2 && p < end; conn++) {
		smtp_init(&m.c, data[0] & 0x80);
		m.early = 0;
		m.conn_first = (int)m.nbegun;
		m.mails = m.in_data = 0;
		m.linelen = 0;
		m.nreplies = 0;
		while (!smtp_closing(&m.c) && smodel_step(&m, &p, end))
			;
		FUZZ_CHECK(m.early || !smtp_closing(&m.c) ||
			   strstr(smtp_why(&m.c), "421"), "the connection "
			   "closed without an early reply: %s", smtp_why(&m.c));
		smtp_abort(&m.c, "fuzz: closed");
		smodel_events(&m);
	}
	smtp_free(&m.c);
	return 0;
}
