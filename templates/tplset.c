#include "templates/tplset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "templates/builtin.h"
#include "util/buf.h"
#include "util/path.h"

#ifndef NL_DATADIR
#define NL_DATADIR "/usr/local/share/nlsend"
#endif

struct tpl_partial {
	struct tpl_partial *next;
	char *name;
	char *src;
	size_t len;
};

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Read a whole template file, capped.  1 when the file does not exist. */
static int
slurp(const char *path, char **out, size_t *len, struct nl_err *err)
{
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f;
	int fd, r;

	buf_init(&b, TPL_MAX_BYTES);
	/* A regular file only: a FIFO would block the run forever. */
	r = path_open_regular(path, &fd, NULL);
	if (r < 0 && errno == ENOENT)
		return 1;
	if (r)
		return nl_err_set(err, NL_ENOINPUT, "%s: %s", path, r > 0 ?
				  "not a regular file" : strerror(errno));
	r = -1;
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_add(&b, chunk, n)) {
			nl_err_set(err, NL_EDATA,
				   "%s: template larger than %zu bytes", path,
				   TPL_MAX_BYTES);
			goto out;
		}
	}
	if (ferror(f)) {
		nl_err_set(err, NL_ENOINPUT, "%s: read error", path);
		goto out;
	}
	*out = buf_detach(&b, len);
	r = *out ? 0 : nl_err_set(err, NL_ENOMEM, "out of memory");
out:
	fclose(f);
	buf_free(&b);
	return r;
}

/* Partials come from the set's directory; the built-in set has none. */
static int
load_partial(void *arg, const char *name, size_t namelen, const char **src,
	     size_t *len, struct nl_err *err)
{
	struct tplset *s = arg;
	struct tpl_partial *p;
	struct buf path;
	int r;

	for (p = s->partials; p; p = p->next) {
		if (strlen(p->name) == namelen &&
		    memcmp(p->name, name, namelen) == 0) {
			*src = p->src;
			*len = p->len;
			return 0;
		}
	}
	if (!s->dir || memchr(name, '/', namelen) || memchr(name, '\0', namelen) ||
	    (namelen >= 2 && name[0] == '.' && name[1] == '.'))
		return 1;
	p = calloc(1, sizeof *p);
	if (!p)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	buf_init(&path, 4096);
	if (buf_printf(&path, "%s/%.*s.mustache", s->dir, (int)namelen, name) ||
	    !(p->name = strndup(name, namelen))) {
		free(p);
		buf_free(&path);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	r = slurp(path.data, &p->src, &p->len, err);
	buf_free(&path);
	if (r) {
		free(p->name);
		free(p);
		return r;
	}
	p->next = s->partials;
	s->partials = p;
	*src = p->src;
	*len = p->len;
	return 0;
}

static int
load_dir(struct tplset *s, const char *dir, struct nl_err *err)
{
	struct buf path;
	int r = -1;

	buf_init(&path, 4096);
	s->dir = strdup(dir);
	if (!s->dir)
		goto nomem;
	if (buf_printf(&path, "%s/html.mustache", dir))
		goto nomem;
	r = slurp(path.data, &s->html_src, &s->html_len, err);
	if (r == 1)
		nl_err_set(err, NL_ENOINPUT, "%s: no such template", path.data);
	if (r)
		goto fail;
	buf_reset(&path);
	if (buf_printf(&path, "%s/text.mustache", dir))
		goto nomem;
	r = slurp(path.data, &s->text_src, &s->text_len, err);
	if (r == 1)
		nl_err_set(err, NL_ENOINPUT, "%s: no such template", path.data);
	if (r)
		goto fail;
	buf_reset(&path);
	if (buf_printf(&path, "%s/html.mustache", dir))
		goto nomem;
	r = mst_compile(s->html_src, s->html_len, path.data, load_partial, s,
			&s->html, err);
	if (r)
		goto fail;
	buf_reset(&path);
	if (buf_printf(&path, "%s/text.mustache", dir))
		goto nomem;
	r = mst_compile(s->text_src, s->text_len, path.data, load_partial, s,
			&s->text, err);
	if (r)
		goto fail;
	buf_free(&path);
	return 0;
nomem:
	nl_err_set(err, NL_ENOMEM, "out of memory");
fail:
	buf_free(&path);
	return -1;
}

static int
load_builtin(struct tplset *s, struct nl_err *err)
{
	if (mst_compile(builtin_html, builtin_html_len, "builtin:html.mustache",
			load_partial, s, &s->html, err) ||
	    mst_compile(builtin_text, builtin_text_len, "builtin:text.mustache",
			load_partial, s, &s->text, err))
		return -1;
	return 0;
}

/* `template:` NAME or directory, resolved as tplset.h says.  Leaves dir
 * empty for the built-in set. */
static int
resolve(const char *t, const char *issue_dir, const char *conf_dir,
	struct buf *dir, struct nl_err *err)
{
	const char *base[3];
	size_t i;

	if (t[0] == '/')
		return buf_adds(dir, t);
	if (strchr(t, '/') || t[0] == '.')
		return buf_printf(dir, "%s/%s", issue_dir ? issue_dir : ".", t);
	/* A bare NAME: beside the issue, in the config's template_dir, then
	 * among the installed sets. */
	base[0] = issue_dir ? issue_dir : ".";
	base[1] = conf_dir;
	base[2] = NL_DATADIR "/templates";
	for (i = 0; i < 3; i++) {
		if (!base[i])
			continue;
		buf_reset(dir);
		if (buf_printf(dir, "%s/%s", base[i], t))
			return -1;
		if (is_dir(dir->data))
			return 0;
	}
	buf_reset(dir);
	if (strcmp(t, "default") == 0)
		return 0;
	return nl_err_set(err, NL_ENOINPUT, "template '%s' not found in %s%s%s "
			  "or %s/templates", t, base[0], conf_dir ? ", " : "",
			  conf_dir ? conf_dir : "", NL_DATADIR);
}

int
tplset_load(const char *issue_template, const char *issue_dir,
	    const char *template_dir_conf, struct tplset **out,
	    struct nl_err *err)
{
	struct tplset *s;
	struct buf dir;
	int r = -1;

	buf_init(&dir, 4096);
	s = calloc(1, sizeof *s);
	if (!s) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	if (issue_template) {
		if (resolve(issue_template, issue_dir, template_dir_conf, &dir, err)) {
			if (err && err->kind == NL_OK)
				nl_err_set(err, NL_ENOMEM, "out of memory");
			goto out;
		}
	} else if (template_dir_conf) {
		if (buf_adds(&dir, template_dir_conf))
			goto out;
	} else if (buf_printf(&dir, "%s/templates/default", NL_DATADIR) == 0 &&
		   !is_dir(dir.data)) {
		buf_reset(&dir);
	}
	if (dir.len) {
		if (!is_dir(dir.data)) {
			nl_err_set(err, NL_ENOINPUT, "%s: no such template directory",
				   dir.data);
			goto out;
		}
		r = load_dir(s, dir.data, err);
	} else {
		r = load_builtin(s, err);
	}
	if (r == 0) {
		*out = s;
		s = NULL;
	}
out:
	buf_free(&dir);
	tplset_free(s);
	return r;
}

void
tplset_free(struct tplset *s)
{
	struct tpl_partial *p, *next;

	if (!s)
		return;
	mst_free(s->html);
	mst_free(s->text);
	for (p = s->partials; p; p = next) {
		next = p->next;
		free(p->name);
		free(p->src);
		free(p);
	}
	free(s->html_src);
	free(s->text_src);
	free(s->dir);
	free(s);
}
