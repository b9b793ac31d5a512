/*
 * url.h - which URLs may reach the HTML part: one check for every URL of
 * every source (markdown links and images, an image's href, the list
 * columns a template may put in an href), so that no source slips past.
 *
 * A URL is unsafe when it would run script or read the reader's disk in a
 * mail client or browser: javascript:, vbscript:, file:, and data: except
 * raster images (PNG, GIF, JPEG, WebP) where an image is meant (SVG can
 * carry script, and so can text/html).  The scheme is read the way a
 * browser reads it (WHATWG URL "basic URL parser": leading C0 controls and
 * spaces stripped, every ASCII tab or newline removed, case ignored), so
 * "\x01Java\tScript:" is javascript:.  Everything else (http, https,
 * mailto, cid, relative URLs) is safe here; what else a caller requires
 * (http(s) only for images) is the caller's rule.
 */
#ifndef NL_URL_H
#define NL_URL_H

#include <stdbool.h>

bool url_is_safe(const char *url, bool is_image);

/* s starts with lower_prefix, ASCII case ignored, whatever the locale. */
bool url_prefix_ci(const char *s, const char *lower_prefix);

/* For a list column (a template may put it in an href): true when the
 * value starts as a javascript:, vbscript: or file: URL, or is a data:
 * URL with no space in it that is not a raster image.  Text that merely
 * starts with "data: " stays. */
bool url_value_is_unsafe(const char *v);

#endif
