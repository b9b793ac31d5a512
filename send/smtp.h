/*
 * smtp.h - the mail transactions of an SMTP client on a connection that
 * is already open, as a state machine with no I/O.
 *
 * libcurl opens the connection (greeting, EHLO, STARTTLS, AUTH: everything
 * before the first MAIL FROM, with CURLOPT_CONNECT_ONLY) and moves the
 * bytes (curl_easy_send/curl_easy_recv, through TLS when there is TLS).
 * This module writes the commands and reads the replies of the
 * transactions themselves (RFC 5321 section 3.3): MAIL FROM, one RCPT TO,
 * DATA, the dot-stuffed message (section 4.5.2), the end of data; RSET
 * after a failed transaction; QUIT.
 *
 * Why not libcurl's own SMTP transfer (pool.h has the figures):
 * libcurl 7.88 copies every byte of the message through a byte-at-a-time
 * end-of-data scan (Curl_smtp_escape_eob), waits for the reply to the end
 * of data synchronously inside the multi loop (smtp_done ->
 * smtp_block_statemach), never pipelines, and closes the connection after
 * any failed transaction.  Here:
 * - with PIPELINING advertised (RFC 2920), a transaction's MAIL FROM,
 *   RCPT TO and DATA go out in one write, and the next transaction's
 *   commands follow the previous message's end of data in the same write
 *   (section 3.1: "the actual transfer of message content is explicitly
 *   allowed to be the first 'command' in a group"; DATA is last): one
 *   round trip per message instead of four.  Without PIPELINING each
 *   command waits for the reply to the one before.
 * - at most two transactions are open on a connection: one whose message
 *   went out and awaits its reply, and the next one's envelope.
 * - a failed transaction is followed by RSET, and the connection is kept.
 *
 * Use:
 *   smtp_init(&c, pipelining);
 *   smtp_begin(&c, tx, from, rcpt);     when smtp_can_begin(&c)
 *   loop: write smtp_out() to the socket, smtp_sent(n);
 *         feed what the socket gives to smtp_in(); then take the events:
 *         SMTP_BODY  -> smtp_body(&c, tx, message) (and maybe the next
 *                       smtp_begin: it follows in the same write);
 *         SMTP_DONE  -> the transaction's outcome;
 *         smtp_closing() -> close the connection (after smtp_abort()).
 *   the connection dies: smtp_abort(&c, why) ends every open transaction.
 *
 * tx is the caller's handle for a transaction (never dereferenced here).
 *
 * Ownership: struct smtp owns its buffers (smtp_free).  Nothing here keeps
 * a pointer to the caller's strings or message after the call returns.
 *
 * Errors: functions that can fail return 0, or -1 with errno: ENOMEM, E2BIG
 * (the output buffer's cap), EINVAL (misuse: a begin that is not allowed, a
 * body for a transaction that has no 354, CR or LF in an address).  A
 * protocol error of the server (a line that is not a reply, a reply that
 * nothing awaits, 421) is not an error of the call: the connection is then
 * closing (smtp_closing), and smtp_abort() gives the outcomes.
 *
 * Pitfalls:
 * - The message given to smtp_body() must use CRLF line ends (mime/ writes
 *   nothing else): a '.' is added after every LF that is followed by '.',
 *   and the end of data is CRLF "." CRLF (a CRLF is added first when the
 *   message does not end with one).  A bare CR followed by '.' is sent as
 *   it is.
 * - A SMTP_BODY event must be answered by smtp_body() before more input is
 *   fed (or the connection closed): the server waits for the message.
 * - An outcome's data_sent says the end of data went out (all of it was
 *   handed to smtp_sent()): the server may have the message even without
 *   a reply (a duplicate is possible if it is sent again; never
 *   otherwise).
 * - A reply is credited to a command only once all of that command has
 *   been written (each awaited reply knows the output offset its command
 *   ends at).  One that comes sooner (a 250 after the first kilobyte of a
 *   message, a 552 and then a 500 for every line of the rest) is a
 *   protocol error: the connection is closing, and the transactions open
 *   on it end without a code (their outcome is unknown: retried, never
 *   "sent").  A 421 may come at any time (RFC 5321 section 3.8).
 */
#ifndef NL_SMTP_H
#define NL_SMTP_H

#include <stddef.h>

#include "util/buf.h"

#define SMTP_REPLY_MAX 512	/* kept of a reply: code and text */
#define SMTP_TX_MAX 2		/* transactions open on one connection */
#define SMTP_WAIT_MAX 16	/* replies awaited at once */
#define SMTP_LINE_MAX 2048	/* longer reply lines are cut (RFC 5321
				 * section 4.5.3.1.5 says 512) */

enum smtp_evkind {
	SMTP_BODY = 1,		/* 354 to tx's DATA: smtp_body() it now */
	SMTP_DONE		/* tx is over (outcome below) */
};

struct smtp_event {
	enum smtp_evkind kind;
	void *tx;
	/* SMTP_DONE: the reply that decided (MAIL FROM's for a probe), or 0
	 * when none came (connection lost, timed out: reply says why). */
	int code;
	int data_sent;		/* the end of data went out */
	int head;		/* 1: the outcome is this transaction's own (a
				 * reply to it, or the server had answered
				 * part of it, or its message went out);
				 * 0: code 0 and none of its commands was
				 * answered: it may be sent again at once */
	char reply[SMTP_REPLY_MAX];	/* "550 5.1.1 text"; control
					 * characters replaced by '?' */
};

enum smtp_txstate {
	TX_FREE = 0,
	TX_ENVELOPE,		/* MAIL/RCPT/DATA out or queued */
	TX_BODY,		/* 354 came; waiting for smtp_body() */
	TX_DOT,			/* the message went out; its reply awaited */
	TX_ABORTING		/* failed, but DATA got 354: "." went out */
};

struct smtp_tx {
	enum smtp_txstate state;
	void *tx;
	int probe;		/* MAIL FROM then RSET, no recipient */
	int failed;		/* a reply refused it; code/reply hold it */
	int answered;		/* a reply to one of its commands came */
	int code;
	unsigned long long dot_end;	/* offset after its end of data */
	char rcpt[SMTP_REPLY_MAX];	/* kept for the non-pipelined RCPT */
	char reply[SMTP_REPLY_MAX];
};

struct smtp {
	int pipelining;
	int closing;		/* no new transactions: close when told */
	unsigned long begun;	/* transactions begun on this connection */
	unsigned long ended;	/* ... that got their last reply */
	struct buf out;		/* bytes to write, from out_off */
	size_t out_off;
	unsigned long long out_base;	/* offset of out.data[0] in all that
					 * this connection queued */
	/* the replies awaited, oldest first, each with the offset its
	 * command ends at: a reply before that is not to it */
	struct {
		unsigned char cmd;
		signed char tx;
		unsigned long long end;
	} wait[SMTP_WAIT_MAX];
	unsigned nwait;
	unsigned long replies;	/* complete replies read */
	struct smtp_tx tx[SMTP_TX_MAX];
	/* events not yet taken */
	struct smtp_event ev[2 * SMTP_TX_MAX + 2];
	unsigned nev, evtake;
	/* the reply being read */
	char line[SMTP_LINE_MAX];
	size_t linelen;
	char cur[SMTP_REPLY_MAX];
	int in_multi;
	char why[SMTP_REPLY_MAX];	/* why closing, for smtp_abort() */
};

/* A fresh connection: no transaction, nothing to write.  pipelining: the
 * server's EHLO reply listed PIPELINING.  c is zeroed memory or a struct
 * smtp used before (its output buffer's storage is kept). */
void smtp_init(struct smtp *c, int pipelining);
void smtp_free(struct smtp *c);

/* May a transaction begin now?  Not while closing; without pipelining only
 * on an idle connection (no reply awaited); with it, also while one
 * transaction's message awaits its reply. */
int smtp_can_begin(const struct smtp *c);

/* Queue "MAIL FROM:<from>", "RCPT TO:<rcpt>" and "DATA" for tx (without
 * pipelining only MAIL FROM now, the rest as replies come).  rcpt NULL: a
 * probe, "MAIL FROM:<from>" then "RSET"; its SMTP_DONE carries MAIL FROM's
 * reply.  from and rcpt: no CR, LF, '<' or '>' (EINVAL). */
int smtp_begin(struct smtp *c, void *tx, const char *from, const char *rcpt);

/* The message of tx (its SMTP_BODY came), dot-stuffed, then the end of
 * data.  Copies msg.  -1 with EPIPE when the connection is closing (a 421
 * came with the 354): nothing is queued, smtp_abort() ends tx. */
int smtp_body(struct smtp *c, void *tx, const char *msg, size_t len);

/* Queue QUIT.  The connection is closing from then on: no transaction
 * begins, but QUIT's reply is still read (smtp_awaiting() drops to 0 with
 * it); close on it, on EOF, or after a short wait. */
int smtp_quit(struct smtp *c);

/* The bytes to write now (*len 0: none) and how many went out. */
const char *smtp_out(const struct smtp *c, size_t *len);
void smtp_sent(struct smtp *c, size_t n);

/* Replies awaited (0: the server owes nothing). */
unsigned smtp_awaiting(const struct smtp *c);

/* Complete replies read so far: the caller's timeout bounds each whole
 * reply, not each read (a server trickling "250-" lines for ever must not
 * keep a connection alive). */
unsigned long smtp_replies(const struct smtp *c);

/* Transactions open (begun, no SMTP_DONE yet). */
unsigned smtp_open(const struct smtp *c);

/* Feed what the server sent (any split).  Complete replies make events.
 * Returns 0, or -1 (ENOMEM/E2BIG: a command could not be queued; the
 * connection should be closed). */
int smtp_in(struct smtp *c, const char *p, size_t n);

/* Take the next event; 0 when there is none. */
int smtp_event(struct smtp *c, struct smtp_event *ev);

/* The connection must close: 421, a protocol error, a refused RSET, or
 * after QUIT.  smtp_why() says why (for the outcomes), "" after QUIT. */
int smtp_closing(const struct smtp *c);
const char *smtp_why(const struct smtp *c);

/* The connection is gone (lost, timed out, closed by us): every open
 * transaction gets its SMTP_DONE with code 0 and this reason. */
void smtp_abort(struct smtp *c, const char *why);

#endif
