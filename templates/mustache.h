/*
 * mustache.h - the Mustache template engine of nlsend: compile once, render
 * many times, and partially evaluate ("specialize") a template against the
 * issue so that per recipient only a few holes are left to fill.
 *
 * Language: the Mustache spec (github.com/mustache/spec, the files
 * interpolation, sections, inverted, comments, partials, delimiters; not the
 * optional lambdas or dynamic names):
 *   {{name}}  HTML-escaped value      {{{name}}} {{&name}}  raw value
 *   {{#name}}..{{/name}}  section     {{^name}}..{{/name}}  inverted section
 *   {{! comment }}   {{> partial}}    {{=<% %>=}} set delimiters
 * - Names are dotted ("a.b.c": "a" is looked up through the context stack,
 *   top to bottom, the rest only inside the value found); "." is the top of
 *   the stack.  A miss is the empty string / a false section.
 * - Values interpolate as: string as is, boolean as "true"/"false", null,
 *   list and map as the empty string.
 * - Sections iterate lists, push any other truthy value once; truthiness is
 *   tv_truthy() (null, false, "" and [] are false; an empty map is true).
 * - Escaping (MST_ESCAPE_HTML) replaces & " ' < > by &amp; &quot; &#39;
 *   &lt; &gt; (the spec requires the four besides "'" and allows more), so
 *   that a value is safe in text and in attributes quoted either way.
 *   MST_ESCAPE_NONE (the text/plain part) leaves {{name}} unescaped too.
 * - Standalone lines (a section, inverted, end, comment, partial or
 *   delimiter tag alone on its line, with only spaces and tabs around it)
 *   disappear with their line ending ("\n" or "\r\n").  A standalone
 *   partial's indentation is prepended to every non-empty line of the
 *   partial's source before it is compiled, so values with newlines are not
 *   re-indented (spec "Standalone Indentation").
 * - Set Delimiter tags affect only the rest of their own source: a partial
 *   always starts with {{ }}.
 *
 * Partials are resolved lazily, at render time, through the loader given to
 * mst_compile(), and compiled once into a cache held by the template (one
 * entry per name and indentation).  A missing partial renders as "".
 * Partials nest at most MST_MAX_PARTIAL_DEPTH deep (recursive partials end
 * with an NL_EDATA error, not a stack overflow).
 *
 * Ownership: mst_compile() copies the template source; a partial's source
 * belongs to the loader and must stay valid until mst_free() of every
 * template that used it (the template and its residuals), and the loader
 * and its argument must stay usable as long (a residual may still hold a
 * partial tag, inside a block kept unevaluated, and load it lazily).  A
 * residual from mst_specialize() owns all of its text and copies any
 * context it keeps, so it outlives the template and the values it was
 * made from.  mst_free() frees a template; the struct tv values passed to
 * render are never kept.
 *
 * Thread safety / const: a compiled template never changes after compile,
 * except for its partial cache, which mst_render()/mst_specialize() fill on
 * first use of each partial (through the const pointer).  Rendering one
 * template from several threads at once is safe only after every partial
 * it uses has been loaded; nlsend renders from one thread.
 *
 * Errors: functions return 0 or -1 and fill err.  Template errors are
 * NL_EDATA with "NAME:LINE:COL: message" (NAME is the name given to
 * mst_compile(), or the partial's name for an error inside a partial;
 * LINE and COL are 1-based, COL counts UTF-8 characters): unclosed tag,
 * empty or malformed tag name, unclosed section, mismatched or unexpected
 * end section, bad delimiters, sections nested deeper than MST_MAX_NEST,
 * source larger than MST_MAX_SOURCE (naming the limit), partial recursion
 * deeper than MST_MAX_PARTIAL_DEPTH, context stack or blocks nested deeper
 * than MST_MAX_STACK, more than MST_MAX_WORK steps (at the section that
 * went over, with the template's name and line).  A loader's error is
 * passed on as it is.  A full output buffer (its cap) or a failed allocation is NL_ENOMEM.  On error
 * the output buffer is restored to its length before the call.
 *
 * Speed: a template is compiled into a node array (text ranges, tags,
 * sections with the index of their end); rendering walks it without
 * re-parsing and allocates nothing but the output buffer's growth (and a
 * partial's compilation, once, on its first use).
 */
#ifndef NL_MUSTACHE_H
#define NL_MUSTACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "templates/value.h"
#include "util/buf.h"
#include "util/err.h"

/* Largest template or partial source, in bytes. */
#define MST_MAX_SOURCE ((size_t)1 << 20)
/* Sections open at once within one source. */
#define MST_MAX_NEST 100
/* Partials expanded inside one another. */
#define MST_MAX_PARTIAL_DEPTH 100
/* Context stack entries (and nested blocks) while rendering. */
#define MST_MAX_STACK 1024
/* Nodes one rendering (or specialisation) may visit: sections nested over
 * lists multiply, and 40 levels over two items would run for days with
 * no output to hit a cap.  A newsletter's template visits thousands. */
#define MST_MAX_WORK 20000000UL

struct mst;			/* a compiled template; immutable after compile */

enum mst_escape { MST_ESCAPE_HTML, MST_ESCAPE_NONE };

/*
 * Partial loader: set *src and *len to the partial's source (caller-owned, must
 * stay valid until mst_free of the template) and return 0; return 1 when
 * there is no such partial (renders as empty string, per spec); -1 with err
 * on failure (the render or specialize that needed it fails with that err).
 * name is not NUL-terminated.
 */
typedef int (*mst_partial_fn)(void *arg, const char *name, size_t namelen,
			      const char **src, size_t *len,
			      struct nl_err *err);

/*
 * Compile src[0..len) (copied).  name is used in error messages
 * "NAME:LINE:COL: message" (a file path or "builtin:html"); NULL reads
 * "template".  partial may be NULL: every partial is then missing.
 * On success *out is a template to mst_free().
 */
int mst_compile(const char *src, size_t len, const char *name,
		mst_partial_fn partial, void *partial_arg,
		struct mst **out, struct nl_err *err);

/* Free a template, its partial cache and (for a residual) its copies.
 * NULL is allowed. */
void mst_free(struct mst *t);

/*
 * Render with a context stack (stack[0] is the bottom/root, stack[depth-1]
 * the top; NULL entries are allowed and hold nothing).  Appends to out.
 */
int mst_render(const struct mst *t, const struct tv *const *stack,
	       size_t depth, enum mst_escape esc, struct buf *out,
	       struct nl_err *err);

/*
 * Partial evaluation ("holes").  late(name, len) says whether a tag name is
 * per-recipient (nlsend passes a function true for names whose first dotted
 * segment is "subscriber" or "unsubscribe_url").  Renders everything that
 * is not late against the stack, and returns in *residual a template in
 * which late variables and late sections remain, so that per recipient only
 * the residual is rendered, with a stack [root, recipient-map] (root being
 * the same stack[0]; pass the same esc).
 *
 * Rules:
 * - Static text and non-late tags (and non-late sections, and partials,
 *   which are expanded) are rendered into the residual's text items;
 *   adjacent static text is merged into one item.
 * - A late variable stays a tag item, keeping its escaped/raw kind.
 * - A late inverted section stays a section item; its block is partially
 *   evaluated in the current context (an inverted section pushes nothing).
 * - A late section whose name is dotted ("subscriber.name") stays a section
 *   item whose block is partially evaluated in the current context: its
 *   value is assumed to be a string, a boolean, null or a list of those,
 *   which, pushed on the stack, cannot shadow other names.  Inside it,
 *   {{.}} (and {{#.}}) refers to the late value and is late too.
 * - A late section whose name has no dot ("{{#subscriber}}") may push a map
 *   that shadows any name, so its block is kept wholly unevaluated (every
 *   tag in it is late).  When such a section sits inside non-late sections
 *   (a list item, say), the items on the stack above stack[0] at that point
 *   are copied into the residual and pushed again when it is rendered, so
 *   names inside still resolve as in the original.
 * - Late names inside non-late sections (e.g. {{subscriber.name}} inside
 *   {{#sections}}) stay tags and are looked up at render time from the
 *   bottom stack [root, recipient].  This is exact only because nlsend
 *   reserves the late root keys: no value of the issue model (the root or
 *   anything inside it) may have a key "subscriber" or "unsubscribe_url",
 *   and the root passed here must not hold them either.
 * Under these assumptions, rendering the residual with [root, recipient]
 * gives exactly what rendering the template with a root map that also
 * holds the recipient's keys gives.
 * Pitfall: a late section around a recursive partial is expanded as far as
 * MST_MAX_PARTIAL_DEPTH allows and then fails, even if the late value
 * would have been false.
 */
typedef bool (*mst_late_fn)(const char *name, size_t len);
int mst_specialize(const struct mst *t, const struct tv *const *stack,
		   size_t depth, enum mst_escape esc, mst_late_fn late,
		   struct mst **residual, struct nl_err *err);

/*
 * The residual's (or any template's) top-level items, for the MIME layer
 * that pre-encodes static text once.  A section and everything inside it is
 * one item.  Items are valid until mst_free().
 */
size_t mst_count(const struct mst *t);
/* Static text of item i (NULL when item i is a tag/section, or i is out of
 * range); *len its length (0 with NULL).  Not NUL-terminated. */
const char *mst_text(const struct mst *t, size_t i, size_t *len);
/* Render only item i (appends); rendering every item in order appends what
 * mst_render() appends.  i out of range is NL_EINTERNAL. */
int mst_render_item(const struct mst *t, size_t i,
		    const struct tv *const *stack, size_t depth,
		    enum mst_escape esc, struct buf *out, struct nl_err *err);

#endif
