/*
 * encode.h - the body encodings of RFC 2045 (quoted-printable, section 6.7;
 * base64, section 6.8) and base64url (RFC 4648 section 5), written by hand
 * for speed and for one property libetpan's writers do not have.
 *
 * Why not libetpan here: mailmime_quoted_printable_write_mem() and
 * mailmime_base64_write_mem() encode a whole body through a per-chunk
 * write callback into an MMAPString, carrying a column across calls; nlsend
 * needs to encode the parts that are the same for every recipient ONCE per
 * issue and only the holes per recipient, which requires chunks that can be
 * concatenated in any order (below), and a per-recipient path that writes
 * straight into the output buffer without a second copy.  libetpan's QP
 * writer also leaves a line-initial "." alone (we encode it, for SMTP and
 * broken dot-stuffers).  libetpan stays the independent decoder of
 * everything written here (tests/unit/mime_encode.c).
 *
 * The chunk contract of qp_encode_chunk(): each chunk is encoded as if it
 * started at column 0, and its encoded form ends in CRLF (a hard line break
 * when the chunk ends with LF, the soft line break "=\r\n" otherwise), so
 * encoded chunks can be concatenated in any order and the result decodes to
 * the concatenated text.  Lines (without CRLF) never exceed 76 octets.
 *
 * Line breaks: in the text, LF and CRLF are line breaks and become CRLF on
 * the wire (hard breaks); a lone CR is data (=0D).  Pitfall: a CR that ends
 * one chunk and an LF that starts the next are NOT one line break (the CR
 * is encoded as =0D); template output uses LF, so this does not arise.
 *
 * Errors: functions return 0, or -1 with errno (E2BIG when the buffer's cap
 * would be passed, ENOMEM, EINVAL for bad base64url input) and leave the
 * buffer as it was (never a partial append).
 */
#ifndef NL_MIME_ENCODE_H
#define NL_MIME_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Longest encoded line in a body, without its CRLF (RFC 2045 6.7 (5)). */
#define QP_LINE_MAX 76
#define B64_LINE_MAX 76

/*
 * Append the quoted-printable form of s[0..n) under the chunk contract
 * above.  Encoded: '=', every octet outside printable ASCII (so all of
 * UTF-8 and controls, CR included), space and tab before a hard line break
 * (RFC 2045 6.7 (3)), a '.' at the start of an encoded line (=2E) and the
 * 'F' of "From " there (=46, so mbox writers never quote it).  An empty
 * chunk appends nothing.  Escapes are never split by a soft line break.
 */
int qp_encode_chunk(struct buf *out, const char *s, size_t n);

/* Length qp_encode_chunk() would append (for choosing QP or base64). */
size_t qp_encoded_len(const char *s, size_t n);

/*
 * Append the base64 form of p[0..n) in lines of 76 characters, each ending
 * in CRLF (the last one too, when n > 0).  With text, every LF not preceded
 * by CR is encoded as CRLF first (canonical form of text types, RFC 2046
 * 4.1.1), so the decoded text has CRLF line breaks like the QP one.
 */
int b64_encode_lines(struct buf *out, const void *p, size_t n, bool text);

/* Length b64_encode_lines() would append. */
size_t b64_encoded_len(const void *p, size_t n, bool text);

/* base64url without padding (RFC 4648 section 5 and 3.2). */
int b64url_encode(struct buf *out, const void *p, size_t n);
/* Decode unpadded base64url; EINVAL on any character outside the alphabet,
 * a length of 1 mod 4, or non-zero unused trailing bits (so every string
 * has at most one accepted form). */
int b64url_decode(struct buf *out, const char *s, size_t n);

#endif
