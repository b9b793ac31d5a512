/*
 * mbox.h - the mboxrd writer of --dry-run (readable by mutt, Python's
 * mailbox module, mblaze).
 *
 * mboxrd (as in qmail's mbox(5) and RFC 4155's discussion): each message
 * starts with a separator line "From ENVELOPE-SENDER DATE" where DATE is
 * asctime(3) form in UTC ("Tue Sep 15 10:00:00 2020"); in the message,
 * every line matching ^>*From  (any number of '>' then "From ") gains one
 * more '>', so a reader removes exactly one and gets the message back; the
 * message ends with an empty line.  Line ends are LF in the file (CRLF in
 * the message becomes LF; a lone CR stays).  A message without a final
 * line break gets one.
 *
 * Bodies from mime/message.h never start a line with "From " (QP writes
 * "=46rom "), so quoting matters only for other messages.
 */
#ifndef NL_MIME_MBOX_H
#define NL_MIME_MBOX_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

/*
 * Append msg[0..len) to f.  envelope_from: the envelope sender, NULL or ""
 * for "MAILER-DAEMON"; a space, control or non-ASCII octet in it is
 * NL_EDATA (it would break the separator line).  when: Unix time.
 * Write errors are NL_EIO (checked with ferror(); the caller still
 * fflush()es/fcloses and checks that).  On error part of the message may
 * have been written.
 */
int mbox_append(FILE *f, const char *envelope_from, long long when,
		const char *msg, size_t len, struct nl_err *err);

#endif
