/*
 * tplset.h - finding, loading and compiling a template set: html.mustache
 * and text.mustache, plus partials (NAME.mustache) from the same directory.
 *
 * Where a set comes from (the first that applies):
 *   1. `template:` in the issue: a path (absolute, or relative to the
 *      issue file), or a bare NAME looked up beside the issue file, then as
 *      TEMPLATE_DIR/NAME (the config's), then DATADIR/templates/NAME
 *      ("default" falls back to the built-in set);
 *   2. `template_dir` in the config: a directory;
 *   3. DATADIR/templates/default when installed (files win, so a site can
 *      restyle without rebuilding);
 *   4. the built-in set compiled into the binary.
 * A directory that was named but lacks html.mustache or text.mustache is an
 * error (NL_ENOINPUT), never a silent fallback.
 *
 * Ownership: the set owns its compiled templates and the sources they point
 * into; tplset_free() releases all.
 */
#ifndef NL_TPLSET_H
#define NL_TPLSET_H

#include "templates/mustache.h"

struct tplset {
	struct mst *html, *text;
	char *dir;		/* where it came from; NULL for built-in */
	char *html_src, *text_src;
	size_t html_len, text_len;
	struct tpl_partial *partials;	/* loaded partial sources */
};

int tplset_load(const char *issue_template, const char *issue_dir,
		const char *template_dir_conf, struct tplset **out,
		struct nl_err *err);
void tplset_free(struct tplset *s);

/* Largest template file accepted (also the Mustache engine's limit). */
#define TPL_MAX_BYTES ((size_t)1 << 20)

#endif
