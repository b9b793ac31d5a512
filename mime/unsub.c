#include "mime/unsub.h"

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "mime/encode.h"

#define MAC_LEN 16

/* HMAC-SHA256(secret, list_id "\n" lower(email)), first 16 octets. */
static int
mac(const char *secret, size_t secretlen, const char *list_id,
    const char *email, size_t elen, unsigned char out[MAC_LEN])
{
	unsigned char full[32];
	struct buf m;
	size_t i, k;
	int r = -1;

	buf_init(&m, 0);
	if (buf_adds(&m, list_id) || buf_addc(&m, '\n'))
		goto out;
	k = m.len;
	if (buf_add(&m, email, elen))
		goto out;
	for (i = k; i < m.len; i++)
		if (m.data[i] >= 'A' && m.data[i] <= 'Z')
			m.data[i] = (char)(m.data[i] - 'A' + 'a');
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, secretlen, m.data,
			     m.len, full) < 0) {
		errno = EIO;
		goto out;
	}
	memcpy(out, full, MAC_LEN);
	r = 0;
out:
	buf_free(&m);
	return r;
}

int
unsub_token(const char *secret, size_t secretlen, const char *list_id,
	    const char *email, struct buf *out)
{
	unsigned char m[MAC_LEN];
	size_t start = out->len, i, n;
	struct buf e;
	int r = -1;

	buf_init(&e, 0);
	if (!secret || !secretlen || !list_id || !email || !*email) {
		errno = EINVAL;
		goto out;
	}
	n = strlen(email);
	if (buf_add(&e, email, n))
		goto out;
	for (i = 0; i < n; i++)
		if (e.data[i] >= 'A' && e.data[i] <= 'Z')
			e.data[i] = (char)(e.data[i] - 'A' + 'a');
	if (mac(secret, secretlen, list_id, e.data, n, m) ||
	    b64url_encode(out, e.data, n) || buf_addc(out, '.') ||
	    b64url_encode(out, m, MAC_LEN))
		goto out;
	r = 0;
out:
	if (r)
		buf_setlen(out, start);
	buf_free(&e);
	return r;
}

int
unsub_verify(const char *secret, size_t secretlen, const char *list_id,
	     const char *token, size_t toklen, struct buf *email_out)
{
	unsigned char want[MAC_LEN];
	const char *dot;
	struct buf e, got;
	unsigned diff = 0;
	size_t i;
	int r = -1;

	buf_init(&e, 4096);
	buf_init(&got, 64);
	if (!secret || !secretlen || !list_id || !token) {
		errno = EINVAL;
		goto out;
	}
	dot = memchr(token, '.', toklen);
	if (!dot || dot == token) {
		errno = EINVAL;
		goto out;
	}
	if (b64url_decode(&e, token, (size_t)(dot - token)) ||
	    b64url_decode(&got, dot + 1, toklen - (size_t)(dot - token) - 1))
		goto out;
	if (got.len != MAC_LEN || memchr(e.data, '\0', e.len)) {
		errno = EINVAL;
		goto out;
	}
	/* The token carries the lower-cased address; one in another case
	 * was not made here. */
	for (i = 0; i < e.len; i++)
		if (e.data[i] >= 'A' && e.data[i] <= 'Z') {
			errno = EINVAL;
			goto out;
		}
	if (mac(secret, secretlen, list_id, e.data, e.len, want))
		goto out;
	for (i = 0; i < MAC_LEN; i++)
		diff |= (unsigned)(want[i] ^ (unsigned char)got.data[i]);
	if (diff) {
		errno = EINVAL;
		goto out;
	}
	if (email_out && buf_add(email_out, e.data, e.len))
		goto out;
	r = 0;
out:
	buf_free(&e);
	buf_free(&got);
	return r;
}

static int
pct(struct buf *out, const char *s, size_t n, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = out->len, i;
	unsigned char c;
	char e[3];

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (c && keep && strchr(keep, c))) {
			if (buf_addc(out, (char)c))
				goto fail;
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		if (buf_add(out, e, 3))
			goto fail;
	}
	return 0;
fail:
	buf_setlen(out, start);
	return -1;
}

int
unsub_pct_encode(struct buf *out, const char *s, size_t n)
{
	return pct(out, s, n, NULL);
}

int
unsub_url(const char *tmpl, const char *token, struct buf *out)
{
	static const char tag[] = "{{token}}";
	size_t start = out->len, tl = sizeof tag - 1;
	const char *p = tmpl, *q;

	if (!tmpl || !token) {
		errno = EINVAL;
		return -1;
	}
	while ((q = strstr(p, tag)) != NULL) {
		if (buf_add(out, p, (size_t)(q - p)) ||
		    unsub_pct_encode(out, token, strlen(token)))
			goto fail;
		p = q + tl;
	}
	if (buf_adds(out, p))
		goto fail;
	return 0;
fail:
	buf_setlen(out, start);
	return -1;
}

int
unsub_mailto(const char *addr, const char *token, struct buf *out)
{
	size_t start = out->len;

	if (!addr || !token) {
		errno = EINVAL;
		return -1;
	}
	/* RFC 6068 2: '@' separates local part and domain; '+' is common
	 * in local parts and allowed as is ("some-delims"). */
	if (buf_adds(out, "mailto:") || pct(out, addr, strlen(addr), "@+") ||
	    buf_adds(out, "?subject=unsubscribe%20") ||
	    unsub_pct_encode(out, token, strlen(token))) {
		buf_setlen(out, start);
		return -1;
	}
	return 0;
}
