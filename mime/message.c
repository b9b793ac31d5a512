#include "mime/message.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>

#include "mime/encode.h"
#include "mime/header.h"
#include "mime/sniff.h"
#include "util/utf8.h"

/* Longest address, URL or name we put in a header: keeps every header line
 * under 998 octets (RFC 5322 2.1.1) whatever the folding. */
#define VALUE_MAX 900

/*
 * A template is a program: a list of ops that append, in order, either a
 * stretch of pre-encoded bytes (the same for every recipient) or a hole
 * filled per recipient.
 */
enum op_kind {
	OP_STATIC,	/* blob[off, off+len) */
	OP_TO,		/* To: */
	OP_MSGID,	/* Message-ID: */
	OP_UNSUB,	/* List-Unsubscribe: [and -Post:] */
	OP_QP_ITEM,	/* dynamic item `item` of part `part`, QP */
	OP_B64_PART	/* the whole of part `part`, rendered then base64 */
};

struct op {
	enum op_kind kind;
	int part;
	size_t off, len, item;
};

/* A static item of a base64 part with holes: raw[off, off+len). */
struct rawitem {
	size_t off, len;
	bool dynamic;
};

struct part {
	struct msg_part_src src;
	bool b64;
	struct rawitem *items;	/* only for base64 parts with holes */
};

struct msg_tmpl {
	struct buf blob;	/* pre-encoded static bytes */
	struct buf raw;		/* raw static text of base64 parts */
	struct op *ops;
	size_t nops, capops;
	struct part parts[2];	/* 0 text/plain, 1 text/html */
	char *campaign_id;
	char *domain;		/* of From, for Message-ID */
	bool one_click;
};

enum { PART_TEXT, PART_HTML };

static int
nomem(struct nl_err *err, const char *what)
{
	if (errno == E2BIG)
		return nl_err_set(err, NL_ENOMEM, "%s: larger than the buffer "
				  "cap", what);
	if (errno == EOVERFLOW)
		return nl_err_set(err, NL_EDATA, "%s: header line too long",
				  what);
	return nl_err_set(err, NL_ENOMEM, "%s: out of memory", what);
}

static int
add_op(struct msg_tmpl *t, enum op_kind kind, int part, size_t item)
{
	struct op *o;
	size_t cap;

	if (t->nops == t->capops) {
		cap = t->capops ? t->capops * 2 : 32;
		o = realloc(t->ops, cap * sizeof *o);
		if (!o) {
			errno = ENOMEM;
			return -1;
		}
		t->ops = o;
		t->capops = cap;
	}
	assert(t->ops && t->nops < t->capops);
	o = &t->ops[t->nops++];
	o->kind = kind;
	o->part = part;
	o->item = item;
	o->off = t->blob.len;
	o->len = 0;
	return 0;
}

/* Account for blob bytes appended since the last op: they become (or
 * extend) a static op. */
static int
seal(struct msg_tmpl *t)
{
	struct op *last = t->nops ? &t->ops[t->nops - 1] : NULL;
	size_t end = last ? last->off + (last->kind == OP_STATIC ?
					 last->len : 0) : 0;

	if (t->blob.len == end)
		return 0;
	if (last && last->kind == OP_STATIC) {
		last->len = t->blob.len - last->off;
		return 0;
	}
	if (add_op(t, OP_STATIC, 0, 0))
		return -1;
	t->ops[t->nops - 1].off = end;
	t->ops[t->nops - 1].len = t->blob.len - end;
	return 0;
}

/* A hole: seal the static bytes before it, then add it. */
static int
hole(struct msg_tmpl *t, enum op_kind kind, int part, size_t item)
{
	if (seal(t) || add_op(t, kind, part, item))
		return -1;
	/* Holes take no blob bytes: the next static op starts here. */
	t->ops[t->nops - 1].off = t->blob.len;
	return 0;
}

/*
 * Value checks.  Each returns 0 or sets err (NL_EDATA, naming the field)
 * and returns -1.
 */
static int
check_header_text(const char *field, const char *s, struct nl_err *err)
{
	size_t n = strlen(s), bad;

	if (hdr_has_breaks(s, n))
		return nl_err_set(err, NL_EDATA, "%s: CR or LF in a header "
				  "value", field);
	bad = utf8_invalid_offset(s, n);
	if (bad != n)
		return nl_err_set(err, NL_EDATA, "%s: invalid UTF-8 (byte "
				  "offset %zu)", field, bad);
	return 0;
}

/* An address as it goes into a header: something@something, no spaces,
 * controls or angle brackets (lists/ checks the full addr-spec syntax). */
static int
check_addr(const char *field, const char *s, size_t n, struct nl_err *err)
{
	const char *at = memrchr(s, '@', n);
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n')
			return nl_err_set(err, NL_EDATA, "%s: CR or LF in a "
					  "header value", field);
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == ',')
			return nl_err_set(err, NL_EDATA, "%s: '%.*s' is not an "
					  "address", field, (int)(n > 200 ?
								   200 : n), s);
	}
	if (!at || at == s || at == s + n - 1 || n > VALUE_MAX)
		return nl_err_set(err, NL_EDATA, "%s: '%.*s' is not an "
				  "address", field, (int)(n > 200 ? 200 : n),
				  s);
	if (utf8_invalid_offset(s, n) != n)
		return nl_err_set(err, NL_EDATA, "%s: invalid UTF-8", field);
	return 0;
}

/* A dot-atom-text (RFC 5322 3.2.3), UTF-8 allowed (RFC 6532). */
static bool
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i - 1] == '.')
				return false;
		} else if (c < 0x80 && !hdr_is_atext(c)) {
			return false;
		}
	}
	return true;
}

/* A domain usable in a msg-id: dot-atom or [dtext] (RFC 5322 3.6.4). */
static bool
is_id_right(const char *s, size_t n)
{
	size_t i;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		for (i = 1; i + 1 < n; i++)
			if ((unsigned char)s[i] < 33 ||
			    (unsigned char)s[i] > 126 || s[i] == '[' ||
			    s[i] == ']' || s[i] == '\\')
				return false;
		return true;
	}
	return is_dot_atom(s, n);
}

/* A URI for List-Unsubscribe: ASCII without spaces, controls or <>
 * (RFC 2369 2: the URL goes between angle brackets). */
static int
check_uri(const char *field, const char *s, const char *scheme,
	  const char *scheme2, struct nl_err *err)
{
	size_t n = strlen(s), i;

	if (hdr_has_breaks(s, n))
		return nl_err_set(err, NL_EDATA, "%s: CR or LF in a header "
				  "value", field);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return nl_err_set(err, NL_EDATA, "%s: a space, control, "
					  "non-ASCII or <> in the URI (percent-"
					  "encode it)", field);
	}
	if (n > VALUE_MAX)
		return nl_err_set(err, NL_EDATA, "%s: URI longer than %d",
				  field, VALUE_MAX);
	if (strncasecmp(s, scheme, strlen(scheme)) != 0 &&
	    (!scheme2 || strncasecmp(s, scheme2, strlen(scheme2)) != 0))
		return nl_err_set(err, NL_EDATA, "%s: not a %s URI", field,
				  scheme);
	return 0;
}

/*
 * Parse "Name <addr>" or "addr" with libetpan (RFC 5322 3.4 mailbox).
 * The display name comes back unquoted; RFC 2047 words in it are decoded
 * (mailmime_encoded_phrase_parse) so that it is re-encoded as one text.
 */
static int
parse_mailbox(const char *field, const char *s, struct buf *name,
	      struct buf *addr, struct nl_err *err)
{
	struct mailimf_mailbox *mb = NULL;
	size_t n, idx = 0, i2 = 0;
	const char *dn;
	char *dec = NULL;
	int r = -1;

	if (check_header_text(field, s, err))
		return -1;
	n = strlen(s);
	if (mailimf_mailbox_parse(s, n, &idx, &mb) != MAILIMF_NO_ERROR) {
		nl_err_set(err, NL_EDATA, "%s: '%s' is not an address", field,
			   s);
		goto out;
	}
	while (idx < n && (s[idx] == ' ' || s[idx] == '\t'))
		idx++;
	if (idx != n) {
		nl_err_set(err, NL_EDATA, "%s: unexpected '%s' after the "
			   "address", field, s + idx);
		goto out;
	}
	if (check_addr(field, mb->mb_addr_spec, strlen(mb->mb_addr_spec),
		       err))
		goto out;
	dn = mb->mb_display_name ? mb->mb_display_name : "";
	if (strstr(dn, "=?") &&
	    mailmime_encoded_phrase_parse("utf-8", dn, strlen(dn), &i2,
					  "utf-8", &dec) == MAILIMF_NO_ERROR &&
	    dec && i2 == strlen(dn))
		dn = dec;
	if (check_header_text(field, dn, err))
		goto out;
	if (strlen(dn) > VALUE_MAX) {
		nl_err_set(err, NL_EDATA, "%s: display name longer than %d",
			   field, VALUE_MAX);
		goto out;
	}
	if (buf_adds(name, dn) || buf_adds(addr, mb->mb_addr_spec)) {
		nomem(err, field);
		goto out;
	}
	r = 0;
out:
	free(dec);
	if (mb)
		mailimf_mailbox_free(mb);
	return r;
}

/* "Field: phrase <addr>" or "Field: addr". */
static int
put_mailbox(struct buf *b, const char *field, const char *name, size_t nlen,
	    const char *addr, size_t alen)
{
	struct hdr h;

	if (hdr_begin(&h, b, field))
		return -1;
	if (nlen) {
		if (hdr_phrase(&h, name, nlen, false) ||
		    hdr_put_angle(&h, " ", 1, addr, alen))
			return -1;
	} else if (hdr_put(&h, "", 0, addr, alen)) {
		return -1;
	}
	return hdr_end(&h);
}

static void
lower_hex(char *o, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		o[2 * i] = hex[p[i] >> 4];
		o[2 * i + 1] = hex[p[i] & 15];
	}
}

int
msg_id(const char *campaign_id, const char *email, const char *domain,
       struct buf *out)
{
	unsigned char dig[32];
	char stack[1024], *in = stack, hex[24], slug[40];
	size_t cl, el, dl, i, k = 0, start = out->len, slugmax;
	bool dash = false;
	int r = -1;

	if (!campaign_id || !email || !domain) {
		errno = EINVAL;
		return -1;
	}
	cl = strlen(campaign_id);
	el = strlen(email);
	dl = strlen(domain);
	if (hdr_has_breaks(campaign_id, cl) || hdr_has_breaks(email, el) ||
	    !is_id_right(domain, dl) || dl > VALUE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (cl + el + 1 > sizeof stack) {
		in = malloc(cl + el + 1);
		if (!in) {
			errno = ENOMEM;
			return -1;
		}
	}
	memcpy(in, campaign_id, cl);
	in[cl] = '\n';
	for (i = 0; i < el; i++)
		in[cl + 1 + i] = email[i] >= 'A' && email[i] <= 'Z' ?
				 (char)(email[i] - 'A' + 'a') : email[i];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, in, cl + el + 1, dig) < 0) {
		errno = EIO;
		goto out;
	}
	lower_hex(hex, dig, sizeof hex / 2);
	/* The slug only helps a human reading logs: [a-z0-9-], short
	 * enough that "Message-ID: <...>" keeps to 78 octets when the
	 * domain allows (at least 8 characters, at most 40). */
	slugmax = 12 + 1 + sizeof hex + 1 + 1 + dl + 1;
	slugmax = slugmax + 8 >= HDR_LINE_SOFT ? 8 : HDR_LINE_SOFT - slugmax;
	if (slugmax > sizeof slug)
		slugmax = sizeof slug;
	for (i = 0; i < cl && k < slugmax; i++) {
		char c = campaign_id[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && k && k + 1 < slugmax)
				slug[k++] = '-';
			dash = false;
			slug[k++] = c;
		} else {
			dash = true;
		}
	}
	if (buf_addc(out, '<') || buf_add(out, hex, sizeof hex) ||
	    buf_addc(out, '.') ||
	    (k ? buf_add(out, slug, k) : buf_adds(out, "nl")) ||
	    buf_addc(out, '@') || buf_add(out, domain, dl) ||
	    buf_addc(out, '>'))
		goto out;
	r = 0;
out:
	if (in != stack)
		free(in);
	if (r)
		buf_setlen(out, start);
	return r;
}

/* Boundary "=_" + 24 hex + "." + tag: '=' followed by '_' never occurs in
 * quoted-printable, nor '=' before the end or '_' at all in base64
 * (RFC 2045 6.7, note on boundaries), so no body can contain it. */
static int
boundary(const char *campaign_id, char tag, char out[30])
{
	unsigned char dig[32];
	struct buf in;
	int r = -1;

	buf_init(&in, 0);
	if (buf_adds(&in, "nlsend boundary\n") || buf_adds(&in, campaign_id))
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, in.data, in.len, dig) < 0) {
		errno = EIO;
		goto out;
	}
	out[0] = '=';
	out[1] = '_';
	lower_hex(out + 2, dig, 12);
	out[26] = '.';
	out[27] = tag;
	out[28] = '\0';
	r = 0;
out:
	buf_free(&in);
	return r;
}

/* Where raw's bytes from off on are; never NULL + 0 (undefined). */
static const char *
rawp(const struct msg_tmpl *t, size_t off)
{
	return t->raw.data ? t->raw.data + off : "";
}

/*
 * Part body: choose the encoding from the static text (RFC 2045: QP for
 * mostly ASCII, base64 when that is shorter) and pre-encode what can be.
 */
static int
prepare_part(struct msg_tmpl *t, int which, const struct msg_part_src *src,
	     const char *name, struct nl_err *err)
{
	struct part *p = &t->parts[which];
	size_t i, len, qlen = 0, blen, rawstart = t->raw.len, ndyn = 0, k, run;
	const char *s;

	p->src = *src;
	if (src->n && !src->text)
		return nl_err_set(err, NL_EINTERNAL, "%s part: no text "
				  "callback", name);
	for (i = 0; i < src->n; i++) {
		s = src->text(src->arg, i, &len);
		if (!s) {
			ndyn++;
			continue;
		}
		qlen += qp_encoded_len(s, len);
		if (buf_add(&t->raw, s, len))
			return nomem(err, name);
	}
	if (ndyn && !src->render)
		return nl_err_set(err, NL_EINTERNAL, "%s part: dynamic items "
				  "but no render callback", name);
	blen = b64_encoded_len(rawp(t, rawstart), t->raw.len - rawstart,
			       true);
	p->b64 = blen < qlen;
	if (buf_printf(&t->blob, "Content-Type: text/%s; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: %s\r\n\r\n", name,
		       p->b64 ? "base64" : "quoted-printable"))
		return nomem(err, name);
	if (p->b64 && !ndyn) {
		if (b64_encode_lines(&t->blob, rawp(t, rawstart),
				     t->raw.len - rawstart, true))
			return nomem(err, name);
		buf_setlen(&t->raw, rawstart);
		return 0;
	}
	if (p->b64) {
		/* Keep the static text; the whole part is encoded per
		 * recipient (OP_B64_PART). */
		p->items = calloc(src->n, sizeof *p->items);
		if (!p->items) {
			errno = ENOMEM;
			return nomem(err, name);
		}
		for (i = 0, len = rawstart; i < src->n; i++) {
			size_t l;

			if (!src->text(src->arg, i, &l)) {
				p->items[i].dynamic = true;
				continue;
			}
			p->items[i].off = len;
			p->items[i].len = l;
			len += l;
		}
		return hole(t, OP_B64_PART, which, 0) ? nomem(err, name) : 0;
	}
	/* QP: adjacent static items are encoded as one chunk (fewer soft
	 * breaks); raw holds them in order, so walk it alongside. */
	for (i = 0, k = rawstart, run = rawstart; i <= src->n; i++) {
		s = i < src->n ? src->text(src->arg, i, &len) : NULL;
		if (s) {
			k += len;
			continue;
		}
		if (qp_encode_chunk(&t->blob, rawp(t, run), k - run))
			return nomem(err, name);
		run = k;
		if (i < src->n && hole(t, OP_QP_ITEM, which, i))
			return nomem(err, name);
	}
	buf_setlen(&t->raw, rawstart);
	return 0;
}

/* A Content-Disposition filename parameter: a quoted-string for ASCII,
 * RFC 2231 (section 4) ext-value for anything else. */
static int
put_filename(struct buf *b, const char *fn)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(fn), i;
	bool ascii = true;

	for (i = 0; i < n; i++)
		if ((unsigned char)fn[i] < 0x20 || (unsigned char)fn[i] > 0x7e)
			ascii = false;
	if (ascii) {
		if (buf_adds(b, " filename=\""))
			return -1;
		for (i = 0; i < n; i++)
			if (((fn[i] == '"' || fn[i] == '\\') &&
			     buf_addc(b, '\\')) || buf_addc(b, fn[i]))
				return -1;
		return buf_addc(b, '"');
	}
	if (buf_adds(b, " filename*=utf-8''"))
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)fn[i];

		/* attribute-char (RFC 2231 section 7) */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr("!#$&+-.^_`|~", c))) {
			if (buf_addc(b, (char)c))
				return -1;
		} else if (buf_addc(b, '%') || buf_addc(b, hex[c >> 4]) ||
			   buf_addc(b, hex[c & 15])) {
			return -1;
		}
	}
	return 0;
}

static bool
is_token(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("()<>@,;:\\\"[]?=", *s))
			return false;
	return true;
}

static int
prepare_image(struct msg_tmpl *t, const struct msg_image *im, size_t k,
	      struct nl_err *err)
{
	const char *ct, *at, *slash;
	size_t n;

	if (!im->cid || !(at = strchr(im->cid, '@')) ||
	    !is_dot_atom(im->cid, (size_t)(at - im->cid)) ||
	    !is_dot_atom(at + 1, strlen(at + 1)) || strlen(im->cid) > 250)
		return nl_err_set(err, NL_EDATA, "image %zu: content id '%s' "
				  "is not left@right (RFC 2392)", k + 1,
				  im->cid ? im->cid : "");
	ct = im->content_type;
	if (!ct)
		ct = mime_sniff(im->data, im->len);
	if (!ct)
		ct = "application/octet-stream";
	slash = strchr(ct, '/');
	if (!slash || slash == ct || !slash[1] || strchr(slash + 1, '/') ||
	    strlen(ct) > 100 || hdr_has_breaks(ct, strlen(ct)))
		return nl_err_set(err, NL_EDATA, "image %zu: bad content type "
				  "'%s'", k + 1, ct);
	{
		char tmp[101];

		memcpy(tmp, ct, strlen(ct) + 1);
		tmp[slash - ct] = '\0';
		if (!is_token(tmp) || !is_token(tmp + (slash - ct) + 1))
			return nl_err_set(err, NL_EDATA, "image %zu: bad "
					  "content type '%s'", k + 1, ct);
	}
	if (im->filename) {
		n = strlen(im->filename);
		if (hdr_has_breaks(im->filename, n))
			return nl_err_set(err, NL_EDATA, "image %zu: CR or LF "
					  "in the file name", k + 1);
		if (utf8_invalid_offset(im->filename, n) != n)
			return nl_err_set(err, NL_EDATA, "image %zu: invalid "
					  "UTF-8 in the file name", k + 1);
		if (n > 200)
			return nl_err_set(err, NL_EDATA, "image %zu: file name "
					  "longer than 200 octets", k + 1);
	}
	if (buf_printf(&t->blob, "Content-Type: %s\r\n"
		       "Content-Transfer-Encoding: base64\r\n"
		       "Content-ID: <%s>\r\n"
		       "Content-Disposition: inline", ct, im->cid) ||
	    (im->filename && (buf_adds(&t->blob, ";\r\n") ||
			      put_filename(&t->blob, im->filename))) ||
	    buf_adds(&t->blob, "\r\n\r\n") ||
	    b64_encode_lines(&t->blob, im->data, im->len, false))
		return nomem(err, "image");
	return 0;
}

static char *
dupstr(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* From and Reply-To, split into name and address once. */
struct senders {
	struct buf fname, faddr, rname, raddr;
};

/* Everything of spec that reaches a header, checked before anything is
 * written (RFC 5322 section 2.2: no CR or LF in a field body). */
static int
check_spec(const struct msg_spec *spec, struct senders *who,
	   struct nl_err *err)
{
	size_t n;

	if (!spec->from || !spec->subject || !spec->list_name ||
	    !spec->list_id || !spec->campaign_id)
		return nl_err_set(err, NL_EINTERNAL, "msg_prepare: from, "
				  "subject, list_name, list_id and campaign_id "
				  "are required");
	if (parse_mailbox("from", spec->from, &who->fname, &who->faddr, err) ||
	    (spec->reply_to && *spec->reply_to &&
	     parse_mailbox("reply_to", spec->reply_to, &who->rname,
			   &who->raddr, err)) ||
	    check_header_text("subject", spec->subject, err) ||
	    check_header_text("list name", spec->list_name, err) ||
	    check_header_text("campaign id", spec->campaign_id, err))
		return -1;
	n = strlen(spec->list_id);
	if (!is_dot_atom(spec->list_id, n) || !memchr(spec->list_id, '.', n) ||
	    n > 255)
		return nl_err_set(err, NL_EDATA, "list_id: '%s' is not "
				  "label.domain (RFC 2919)",
				  hdr_has_breaks(spec->list_id, n) ?
				  "(CR or LF)" : spec->list_id);
	if (strlen(spec->list_name) > VALUE_MAX ||
	    strlen(spec->subject) > 4 * VALUE_MAX)
		return nl_err_set(err, NL_EDATA, "subject or list name too long");
	return 0;
}

/* The Message-ID's right side is the From domain (RFC 5322 3.6.4). */
static int
set_identity(struct msg_tmpl *t, const struct msg_spec *spec,
	     const struct senders *who, struct nl_err *err)
{
	const char *at = strrchr(who->faddr.data, '@');

	assert(at);	/* parse_mailbox() checked the address */
	if (!is_id_right(at + 1, strlen(at + 1)))
		return nl_err_set(err, NL_EDATA, "from: domain '%s' cannot make "
				  "a Message-ID", at + 1);
	t->domain = dupstr(at + 1);
	t->campaign_id = dupstr(spec->campaign_id);
	if (!t->domain || !t->campaign_id)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	t->one_click = spec->one_click;
	return 0;
}

/* The headers, in the order of message.h, with the per-recipient holes;
 * the top Content-Type names the boundary balt. */
static int
put_headers(struct msg_tmpl *t, const struct msg_spec *spec,
	    const struct senders *who, const char *balt, struct nl_err *err)
{
	size_t n = strlen(spec->list_id);
	struct hdr h;

	if (hdr_begin(&h, &t->blob, "Date") ||
	    hdr_date(&t->blob, spec->date) || hdr_end(&h))
		return nl_err_set(err, NL_EDATA, "date %lld out of range",
				  spec->date);
	if (put_mailbox(&t->blob, "From", who->fname.data, who->fname.len,
			who->faddr.data, who->faddr.len) || hole(t, OP_TO, 0, 0))
		return nomem(err, "from");
	if (spec->reply_to && *spec->reply_to &&
	    put_mailbox(&t->blob, "Reply-To", who->rname.data, who->rname.len,
			who->raddr.data, who->raddr.len))
		return nomem(err, "reply_to");
	if (*spec->subject ? hdr_begin(&h, &t->blob, "Subject") ||
			     hdr_unstructured(&h, spec->subject,
					      strlen(spec->subject)) ||
			     hdr_end(&h) :
			     buf_adds(&t->blob, "Subject:\r\n"))
		return nomem(err, "subject");
	if (hole(t, OP_MSGID, 0, 0) ||
	    buf_adds(&t->blob, "MIME-Version: 1.0\r\n") ||
	    hdr_begin(&h, &t->blob, "List-Id") ||
	    hdr_phrase(&h, spec->list_name, strlen(spec->list_name), true) ||
	    hdr_put_angle(&h, *spec->list_name ? " " : "",
			  *spec->list_name ? 1 : 0, spec->list_id, n) ||
	    hdr_end(&h) || hole(t, OP_UNSUB, 0, 0) ||
	    buf_printf(&t->blob, "Content-Type: multipart/alternative;\r\n"
		       " boundary=\"%s\"\r\n\r\n--%s\r\n", balt, balt))
		return nomem(err, "headers");
	return 0;
}

/* multipart/alternative: text, then HTML, in multipart/related with the
 * images when there are any (RFC 2046 5.1.4, RFC 2387). */
static int
put_body(struct msg_tmpl *t, const struct msg_spec *spec, const char *balt,
	 const char *brel, struct nl_err *err)
{
	size_t k;

	if (prepare_part(t, PART_TEXT, &spec->text, "plain", err))
		return -1;
	if (buf_printf(&t->blob, "\r\n--%s\r\n", balt))
		return nomem(err, "message");
	if (spec->nimages &&
	    buf_printf(&t->blob, "Content-Type: multipart/related; "
		       "type=\"text/html\";\r\n boundary=\"%s\"\r\n\r\n"
		       "--%s\r\n", brel, brel))
		return nomem(err, "message");
	if (prepare_part(t, PART_HTML, &spec->html, "html", err))
		return -1;
	for (k = 0; k < spec->nimages; k++) {
		if (buf_printf(&t->blob, "\r\n--%s\r\n", brel))
			return nomem(err, "message");
		if (prepare_image(t, &spec->images[k], k, err))
			return -1;
	}
	if ((spec->nimages && buf_printf(&t->blob, "\r\n--%s--", brel)) ||
	    buf_printf(&t->blob, "\r\n--%s--\r\n", balt) || seal(t))
		return nomem(err, "message");
	return 0;
}

int
msg_prepare(const struct msg_spec *spec, struct msg_tmpl **out,
	    struct nl_err *err)
{
	struct msg_tmpl *t;
	struct senders who;
	char balt[30], brel[30];
	int r = -1;

	*out = NULL;
	buf_init(&who.fname, 0);
	buf_init(&who.faddr, 0);
	buf_init(&who.rname, 0);
	buf_init(&who.raddr, 0);
	t = calloc(1, sizeof *t);
	if (!t) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	buf_init(&t->blob, 0);
	buf_init(&t->raw, 0);
	if (check_spec(spec, &who, err) || set_identity(t, spec, &who, err))
		goto out;
	if (boundary(spec->campaign_id, 'a', balt) ||
	    boundary(spec->campaign_id, 'r', brel)) {
		nl_err_set(err, NL_EINTERNAL, "SHA-256 failed");
		goto out;
	}
	if (put_headers(t, spec, &who, balt, err) ||
	    put_body(t, spec, balt, brel, err))
		goto out;
	*out = t;
	t = NULL;
	r = 0;
out:
	msg_tmpl_free(t);
	buf_free(&who.fname);
	buf_free(&who.faddr);
	buf_free(&who.rname);
	buf_free(&who.raddr);
	return r;
}

void
msg_tmpl_free(struct msg_tmpl *t)
{
	if (!t)
		return;
	buf_free(&t->blob);
	buf_free(&t->raw);
	free(t->ops);
	free(t->parts[0].items);
	free(t->parts[1].items);
	free(t->campaign_id);
	free(t->domain);
	free(t);
}

size_t
msg_tmpl_static_size(const struct msg_tmpl *t)
{
	return t->blob.len;
}

static int
render(const struct part *p, size_t i, const struct msg_rcpt *r,
       struct buf *out, struct nl_err *err)
{
	nl_err_clear(err);
	if (p->src.render(p->src.arg, i, r->ctx, out, err) == 0)
		return 0;
	if (!err || err->kind == NL_OK)
		nl_err_set(err, NL_EINTERNAL, "render of item %zu failed", i);
	return -1;
}

static int
put_to(const struct msg_rcpt *r, struct buf *out)
{
	const char *name = r->name ? r->name : "";

	return put_mailbox(out, "To", name, strlen(name), r->email,
			   strlen(r->email));
}

static int
put_unsub(const struct msg_tmpl *t, const struct msg_rcpt *r,
	  struct buf *out)
{
	struct hdr h;

	if (hdr_begin(&h, out, "List-Unsubscribe"))
		return -1;
	if (r->unsub_url &&
	    hdr_put_angle(&h, "", 0, r->unsub_url, strlen(r->unsub_url)))
		return -1;
	if (r->unsub_mailto &&
	    ((r->unsub_url && hdr_raw(&h, ",", 1)) ||
	     hdr_put_angle(&h, r->unsub_url ? " " : "", r->unsub_url ? 1 : 0,
			   r->unsub_mailto, strlen(r->unsub_mailto))))
		return -1;
	if (hdr_end(&h))
		return -1;
	/* RFC 8058 3.1: one-click needs an HTTPS URI. */
	if (t->one_click && r->unsub_url &&
	    strncasecmp(r->unsub_url, "https:", 6) == 0 &&
	    buf_adds(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
		     "\r\n"))
		return -1;
	return 0;
}

static int
check_rcpt(const struct msg_rcpt *r, struct nl_err *err)
{
	if (!r->email)
		return nl_err_set(err, NL_EDATA, "recipient: no address");
	if (check_addr("recipient email", r->email, strlen(r->email), err))
		return -1;
	if (r->name && (check_header_text("recipient name", r->name, err)))
		return -1;
	if (r->name && strlen(r->name) > VALUE_MAX)
		return nl_err_set(err, NL_EDATA, "the display name is longer "
				  "than %d bytes, too long for the To: header",
				  VALUE_MAX);
	if (!r->unsub_url && !r->unsub_mailto)
		return nl_err_set(err, NL_EDATA, "recipient %s: no "
				  "unsubscribe URL or mailto", r->email);
	if (r->unsub_url && check_uri("unsubscribe URL", r->unsub_url,
				      "https:", "http:", err))
		return -1;
	if (r->unsub_mailto && check_uri("unsubscribe mailto",
					 r->unsub_mailto, "mailto:", NULL,
					 err))
		return -1;
	return 0;
}

int
msg_compose(const struct msg_tmpl *t, const struct msg_rcpt *r,
	    struct buf *out, struct nl_err *err)
{
	const struct part *p;
	const struct op *o;
	size_t start = out->len, i, k;
	struct buf tmp;
	int ret = -1;

	buf_init(&tmp, out->max);
	if (check_rcpt(r, err))
		goto out;
	if (buf_reserve(out, t->blob.len + 1024)) {
		nomem(err, "message");
		goto out;
	}
	for (k = 0; k < t->nops; k++) {
		o = &t->ops[k];
		switch (o->kind) {
		case OP_STATIC:
			if (buf_add(out, t->blob.data + o->off, o->len))
				goto oom;
			break;
		case OP_TO:
			if (put_to(r, out))
				goto oom;
			break;
		case OP_MSGID:
			if (buf_adds(out, "Message-ID: ") ||
			    msg_id(t->campaign_id, r->email, t->domain, out) ||
			    buf_adds(out, "\r\n"))
				goto oom;
			break;
		case OP_UNSUB:
			if (put_unsub(t, r, out))
				goto oom;
			break;
		case OP_QP_ITEM:
			buf_reset(&tmp);
			if (render(&t->parts[o->part], o->item, r, &tmp, err))
				goto out;
			if (qp_encode_chunk(out, buf_cstr(&tmp), tmp.len))
				goto oom;
			break;
		case OP_B64_PART:
			p = &t->parts[o->part];
			buf_reset(&tmp);
			for (i = 0; i < p->src.n; i++) {
				if (p->items[i].dynamic) {
					if (render(p, i, r, &tmp, err))
						goto out;
				} else if (buf_add(&tmp,
						   rawp(t, p->items[i].off),
						   p->items[i].len)) {
					goto oom;
				}
			}
			if (b64_encode_lines(out, buf_cstr(&tmp), tmp.len,
					     true))
				goto oom;
			break;
		}
	}
	ret = 0;
	goto out;
oom:
	nomem(err, "message");
out:
	if (ret)
		buf_setlen(out, start);
	buf_free(&tmp);
	return ret;
}
