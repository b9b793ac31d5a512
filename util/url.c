/* Which URLs may reach HTML (url.h). */
#include "util/url.h"

#include <string.h>

bool
url_prefix_ci(const char *s, const char *lower_prefix)
{
	for (; *lower_prefix; s++, lower_prefix++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *lower_prefix)
			return false;
	}
	return true;
}

/*
 * Copy up to max-1 bytes of url into dst, lowercased, the way a browser
 * sees the URL's start (WHATWG URL "basic URL parser": leading C0 controls
 * and spaces stripped, every ASCII tab or newline removed), so that
 * "\x01Java\tScript:" is read as "javascript:".
 */
static void
url_head(const char *url, char *dst, size_t max)
{
	const unsigned char *u = (const unsigned char *)url;
	size_t k = 0;

	while (*u && *u <= 0x20)
		u++;
	for (; *u && k + 1 < max; u++) {
		unsigned char c = *u;

		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		dst[k++] = (char)c;
	}
	dst[k] = '\0';
}

bool
url_is_safe(const char *url, bool is_image)
{
	static const char *const images[] = {
		"data:image/png", "data:image/gif", "data:image/jpeg",
		"data:image/webp"
	};
	char h[32];
	size_t i, k;

	url_head(url, h, sizeof h);
	if (url_prefix_ci(h, "javascript:") || url_prefix_ci(h, "vbscript:") ||
	    url_prefix_ci(h, "file:"))
		return false;
	if (!url_prefix_ci(h, "data:"))
		return true;
	if (!is_image)
		return false;
	/* Raster types only: SVG can carry script (and so can text/html). */
	for (i = 0; i < sizeof images / sizeof images[0]; i++) {
		k = strlen(images[i]);
		if (url_prefix_ci(h, images[i]) && (h[k] == ';' || h[k] == ','))
			return true;
	}
	return false;
}

bool
url_value_is_unsafe(const char *v)
{
	char h[32];

	url_head(v, h, sizeof h);
	if (url_prefix_ci(h, "javascript:") || url_prefix_ci(h, "vbscript:") ||
	    url_prefix_ci(h, "file:"))
		return true;
	/* "Data: 5 items" is text; a data: URL that is not a raster image
	 * and has no space in it may be HTML or SVG with script. */
	return url_prefix_ci(h, "data:") && !strchr(v, ' ') &&
	       !url_is_safe(v, true);
}
