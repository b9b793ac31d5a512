/*
 * sniff.h - the media type of an embedded image from its first octets, so
 * that a file's name never decides what a mail client is told it is.
 * Only the four types mail clients display inline are known: PNG (the
 * 8-octet signature of RFC 2083 / ISO 15948), JPEG (SOI marker FF D8 and
 * the next marker's FF), GIF ("GIF87a", "GIF89a") and WebP ("RIFF" size
 * "WEBP", RFC 9649).
 */
#ifndef NL_MIME_SNIFF_H
#define NL_MIME_SNIFF_H

#include <stddef.h>

/* "image/png", "image/jpeg", "image/gif", "image/webp" (static strings),
 * or NULL when p[0..n) is none of them. */
const char *mime_sniff(const unsigned char *p, size_t n);

#endif
