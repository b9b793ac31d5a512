/*
 * message.h - one RFC 5322 / MIME message per recipient, fast: what is the
 * same for everyone is encoded once per issue (msg_prepare), and per
 * recipient (msg_compose) only the holes are rendered and encoded while
 * the rest is copied.
 *
 * The message (nlsend-issue(5) "The message"):
 *
 *   Date, From, To (this recipient), [Reply-To], Subject, Message-ID,
 *   MIME-Version: 1.0, List-Id (RFC 2919), List-Unsubscribe (RFC 2369),
 *   [List-Unsubscribe-Post (RFC 8058)], Content-Type
 *
 *   multipart/alternative
 *     text/plain; charset=utf-8
 *     text/html; charset=utf-8               (no images)
 *     multipart/related; type="text/html"    (with images, RFC 2387)
 *       text/html; charset=utf-8
 *       image/...; Content-ID <cid>; inline; base64   (one per image)
 *
 * CRLF line ends; body lines at most 76 octets, header lines at most 78
 * where the content allows and never over 998.  Boundaries start with "=_",
 * which neither quoted-printable nor base64 can produce (RFC 2045 6.7 note),
 * and are derived from the campaign id, so the same issue gives the same
 * bytes.
 *
 * Parts: each body is a struct msg_part_src, a sequence of items that are
 * static (the same for every recipient: text() returns it) or dynamic
 * (text() returns NULL; render() appends the recipient's text).  This is
 * the shape of templates/mustache.h's residual (mst_count, mst_text,
 * mst_render_item).  Per part, msg_prepare() picks quoted-printable or
 * base64, whichever is shorter for the static text (RFC 2045 6.7/6.8):
 * - QP: each run of static items is encoded once as one chunk
 *   (mime/encode.h's chunk contract: starts at column 0, ends in CRLF or
 *   the soft break "=\r\n"); per recipient each dynamic item is rendered
 *   and encoded the same way, and the pieces are concatenated, which is
 *   valid QP decoding to the rendered text.  The text's line breaks (LF
 *   or CRLF) become CRLF; a line-initial "From " or "." is encoded.
 * - base64 (text mostly non-ASCII): per recipient the whole part is
 *   rendered and then encoded; a part without dynamic items is encoded
 *   once.
 * Images are base64-encoded once, in msg_prepare().
 *
 * Why not libetpan's mailmime tree (mailmime_new_message_data,
 * mailmime_smart_add_part, mailmime_write_mem): it encodes and writes the
 * whole tree on every call, so per recipient the work would grow with the
 * 45 KB of static text (the target is >= 20,000 messages/s on one core,
 * about 50 us each; this code needs about 1.2 us), it cannot splice
 * pre-encoded bytes around holes, and it has no RFC 2047 writer.  The
 * image parts go through the same base64 writer as the bodies (one code
 * path, checked against libetpan's decoder) rather than a second tree just
 * for them.  libetpan is used where it is the better judge: parsing From
 * and Reply-To (mailimf_mailbox_parse) and, in the tests, decoding
 * everything written here (mailmime_parse and its decoders).
 *
 * Header values: From/Reply-To are parsed with libetpan
 * (mailimf_mailbox_parse), display names are written as RFC 5322 phrases
 * with RFC 2047 encoded-words when needed (mime/header.h); address local
 * parts and domains are never encoded.  CR, LF or NUL in any value bound
 * for a header is NL_EDATA naming the field: nothing from input can create
 * a header.
 *
 * Ownership: msg_prepare() copies every string of the spec and encodes the
 * images, so the spec's strings and image data may be freed afterwards;
 * but the part sources' callbacks and arg are called by msg_compose() and
 * must stay valid until msg_tmpl_free().  A template is not changed by
 * msg_compose(), so several threads may compose from one template if the
 * render callbacks allow it.
 *
 * Errors: 0, or -1 with err filled: NL_EDATA for bad input (the message
 * names the field: "from: ...", "recipient name: ..."), NL_ENOMEM for a
 * full buffer or failed allocation, NL_EINTERNAL for library failures and
 * misuse (a required spec field NULL, dynamic items without render);
 * render errors are passed through.  On error msg_compose() leaves out as
 * it was before the call.
 */
#ifndef NL_MIME_MESSAGE_H
#define NL_MIME_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/*
 * A part body as items (see above).  text(arg, i, &len) returns item i's
 * static text (len octets, not necessarily NUL-terminated) or NULL when
 * item i is dynamic; it is called by msg_prepare() only, which copies
 * what it needs (it may be called more than once per item and must give
 * the same text each time).  render(arg, i, rcpt_ctx, out, err) appends
 * dynamic item i for the recipient whose msg_rcpt.ctx is rcpt_ctx (it
 * must only append: out is a scratch buffer) and returns 0, or -1 with err
 * (passed through msg_compose()).  render may be NULL when no item is
 * dynamic.  n == 0 is an empty body.
 */
struct msg_part_src {
	size_t n;
	const char *(*text)(void *arg, size_t i, size_t *len);
	int (*render)(void *arg, size_t i, const void *rcpt_ctx,
		      struct buf *out, struct nl_err *err);
	void *arg;
};

/* An embedded image: the HTML refers to it as "cid:" + cid. */
struct msg_image {
	const char *cid;	/* id-left "@" id-right, without <> */
	const char *content_type; /* NULL: mime/sniff.h decides, else
				   application/octet-stream */
	const char *filename;	/* NULL: no filename parameter */
	const unsigned char *data;
	size_t len;
};

struct msg_spec {
	const char *from;	/* "Name <addr>" or "addr" (UTF-8 name, or
				   RFC 2047 words, allowed) */
	const char *reply_to;	/* NULL (or "") when absent */
	const char *subject;	/* UTF-8 */
	long long date;		/* Unix time, written in UTC "+0000" */
	const char *list_name;	/* the newsletter name: List-Id phrase */
	const char *list_id;	/* "label.domain" (RFC 2919 list-id) */
	const char *campaign_id; /* Message-ID and boundaries */
	bool one_click;		/* List-Unsubscribe-Post (RFC 8058), written
				   for recipients with an https unsub_url */
	struct msg_part_src text, html;
	const struct msg_image *images;
	size_t nimages;		/* > 0: multipart/related around the HTML */
};

struct msg_rcpt {
	const char *email;	/* addr-spec, checked by lists/; here only
				   what would break the header is refused */
	const char *name;	/* display name, UTF-8; "" or NULL: none */
	const char *unsub_url;	/* http(s) URL or NULL */
	const char *unsub_mailto; /* "mailto:..." or NULL; one of the two
				   is required (nlsend-issue(5)) */
	const void *ctx;	/* passed to render() */
};

struct msg_tmpl;

/* Check and pre-encode everything that is the same for every recipient.
 * On success *out is a template to msg_tmpl_free(). */
int msg_prepare(const struct msg_spec *spec, struct msg_tmpl **out,
		struct nl_err *err);

/* Append one complete message for r (CRLF line ends, RFC 5322) to out.
 * Calls only r's render callbacks; never re-reads or re-encodes static
 * text of QP parts. */
int msg_compose(const struct msg_tmpl *t, const struct msg_rcpt *r,
		struct buf *out, struct nl_err *err);

/* NULL is allowed. */
void msg_tmpl_free(struct msg_tmpl *t);

/* Size in octets of the pre-encoded parts copied into every message (for
 * sizing buffers and for the tests' "no per-recipient encoding" check). */
size_t msg_tmpl_static_size(const struct msg_tmpl *t);

/*
 * Append the Message-ID "<HEX.SLUG@DOMAIN>" (RFC 5322 3.6.4): HEX is the
 * first 12 octets (96 bits), in hex, of SHA-256(campaign_id "\n"
 * lower-cased email) (ASCII case only), SLUG the campaign id reduced to
 * [a-z0-9-] and cut so that the header line keeps to 78 octets when the
 * domain allows (8 to 40 characters; "nl" when nothing is left).
 * Deterministic, so a message resent after a crash carries the same id;
 * distinct per recipient and campaign.  The Message-ID msg_compose()
 * writes uses the From address's domain.  domain must be a dot-atom
 * (UTF-8 allowed) or a domain literal.  Returns 0, or -1 with errno
 * EINVAL (bad domain, CR/LF) or from the buffer.
 */
int msg_id(const char *campaign_id, const char *email, const char *domain,
	   struct buf *out);

#endif
