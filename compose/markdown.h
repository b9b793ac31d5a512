/*
 * markdown.h - one markdown field (CommonMark, parsed by libcmark) turned
 * into the three things the composer needs: email-safe HTML, readable
 * plain text, and the word count of nlsend-issue(5) ("What the composer
 * derives").
 *
 * HTML.  We walk cmark's tree ourselves instead of using
 * cmark_render_html(), because mail clients strip <style>: every element
 * carries its own inline CSS (margins, link colour, list padding), while
 * font family, size and text colour come from the template's container.
 * Safety rules, which hold whatever the source says:
 *   - all text is escaped (& < > " ');
 *   - raw HTML (blocks and inline) is escaped and shown as literal text,
 *     never passed through (nlsend-issue(5): editors paste from anywhere);
 *   - href/src are percent-encoded where RFC 3986 does not allow a byte
 *     as is, then HTML-escaped;
 *   - a link or image whose scheme is javascript:, vbscript:, file: or
 *     data: (except data:image/png|gif|jpeg|webp for images) loses its
 *     URL: the link text, or the image's alt text, is rendered as plain
 *     text.  The scheme is read the way browsers read it (WHATWG URL:
 *     leading C0/space stripped, tab/CR/LF ignored, any case), so
 *     "JaVa\tScript:" is caught too.
 * Typography is kept as written (no smart quotes).  Headings are sub-heads
 * inside a story, which the template heads with <h2>: levels 1-3 become
 * <h3>, 4-6 stay <h4>-<h6>, with modest sizes falling by level.
 *
 * Plain text.  Paragraphs wrapped at 72 code points and separated by a
 * blank line (tight list items by none); bullets "• " and numbers "N. "
 * (start number and delimiter kept, numbers padded to one width per list)
 * with hanging indents, so a nested list sits under its parent item's
 * text; block quotes "> "; code blocks indented 4 spaces and not wrapped;
 * headings as their own paragraph, case kept; links "text <URL>" (the URL
 * never broken, spaces and controls in it percent-encoded), an autolink or
 * a link whose text is its URL as "<URL>", a mailto: autolink as the bare
 * address; images "[alt]" ("[image]" without alt), then " <URL>" when the
 * URL is remote http(s); hard breaks kept; raw HTML as its literal text.
 *
 * Words.  A third walk emits only reading text (text, code, raw HTML,
 * link text; not URLs, not list markers, nothing for images, nothing for a
 * link whose text is its URL or, for mailto:, its address), joins
 * adjacent inline nodes ("foo**bar**" is one word), separates blocks and
 * line breaks, and counts with words_count().
 *
 * Cost is linear in the input; every output buffer is capped
 * (BUF_MAX_DEFAULT), so hostile nesting (each line repeating a deep quote
 * prefix) fails with NL_ENOMEM rather than exhausting memory.
 */
#ifndef NL_MARKDOWN_H
#define NL_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/*
 * Called for every link and image met while rendering, for `--check`
 * warnings, when the node closes (so an image's alt is known): in document
 * order of their ends, links inside an image's alt included.  url is the
 * destination as the source wrote it (entities and escapes decoded by
 * cmark), including dangerous ones that the renderers dropped (test with
 * md_url_is_safe()).  Pointers are valid only during the call.
 */
struct md_link {
	const char *url;
	bool is_image;
	const char *alt;	/* image alt text, "" if none (and for links) */
};
typedef void (*md_link_fn)(void *arg, const struct md_link *l);

struct md_out {
	char *html;		/* malloc'd; caller frees with md_out_free */
	size_t html_len;
	char *text;		/* plain text, wrapped at 72, ends with "\n"
				 * unless empty */
	size_t text_len;
	unsigned long words;	/* the spec's word count of this markdown */
};

/*
 * Render src[0..len) (UTF-8; need not be NUL-terminated).  cb may be NULL.
 * On success fills *out (which the caller later passes to md_out_free) and
 * returns 0.  On failure returns -1 with *out zeroed and err set:
 * NL_EDATA when src is not valid UTF-8 (message gives the byte offset),
 * NL_ENOMEM when memory or an output cap runs out.
 */
int md_render(const char *src, size_t len, md_link_fn cb, void *cb_arg,
	      struct md_out *out, struct nl_err *err);

/* Free what md_render allocated and zero *o; safe on a zeroed md_out. */
void md_out_free(struct md_out *o);

/*
 * Whether the renderers keep this URL (see the safety rules above).
 * is_image allows the raster data: types.  Relative URLs, http(s),
 * mailto:, cid: and any other scheme not listed are kept.
 */
bool md_url_is_safe(const char *url, bool is_image);

#endif
