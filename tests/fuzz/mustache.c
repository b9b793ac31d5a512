/*
 * Fuzz target "mustache": templates/mustache.h, template and data.
 *
 * Input: DATA '\0' TEMPLATE (no NUL: all of it is the template and DATA is
 * empty).  DATA is lines that build the context on top of a fixed tree:
 *   a.b.c=text   set a string (maps made on the way; through a list, its
 *                last item); "\n" in text is a line break
 *   a.b!  true   a.b?  false   a.b~  null
 *   a.l[]        push an empty map on list a.l (made if absent)
 *   a.l+=text    push a string on list a.l
 *   >name=text   partial "name" with source text
 * Paths whose first name is "subscriber" or "unsubscribe_url" go into the
 * recipient map; those two names anywhere deeper are dropped (the engine's
 * reserved late keys, mustache.h, mst_specialize).
 *
 * Properties: no crash, leak, undefined behaviour or runaway (output capped
 * at 1 MiB); compile errors are NL_EDATA "NAME:LINE:COL: ..."; a failed
 * render leaves the output as it was; and the partial evaluation contract
 * of mst_specialize(): rendering the residual with [root, recipient] gives
 * what rendering the template with root+recipient gives (when both
 * succeed), and rendering the residual's items one by one gives the same.
 */
#include "tests/fuzz/fuzz.h"

#include "templates/context.h"
#include "templates/mustache.h"

#define MST_FUZZ_OUT_MAX ((size_t)1 << 20)
#define MST_FUZZ_PARTIALS 16

struct mst_fuzz {
	struct tv_arena a;
	struct tv *root, *rcpt, *full;
	const char *pname[MST_FUZZ_PARTIALS];
	size_t pnamelen[MST_FUZZ_PARTIALS];
	char *psrc[MST_FUZZ_PARTIALS];
	size_t psrclen[MST_FUZZ_PARTIALS];
	size_t np;
};

static int
mst_fuzz_partial(void *arg, const char *name, size_t namelen,
		 const char **src, size_t *len, struct nl_err *err)
{
	struct mst_fuzz *f = arg;
	size_t i;

	(void)err;
	for (i = 0; i < f->np; i++) {
		if (f->pnamelen[i] == namelen &&
		    memcmp(f->pname[i], name, namelen) == 0) {
			*src = f->psrc[i];
			*len = f->psrclen[i];
			return 0;
		}
	}
	return 1;
}

/* text with "\n" (backslash, n) as a line break, into the arena. */
static struct tv *
mst_fuzz_text(struct tv_arena *a, const char *s, size_t n, size_t *outlen)
{
	char *d = tv_alloc(a, n + 1);
	size_t i, j = 0;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
			d[j++] = '\n';
			i++;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	if (outlen)
		*outlen = j;
	return tv_strref(a, d, j);
}

static bool
mst_fuzz_reserved(const char *k, size_t n)
{
	return (n == 10 && memcmp(k, "subscriber", 10) == 0) ||
	       (n == 15 && memcmp(k, "unsubscribe_url", 15) == 0);
}

/* One DATA line (see the top). */
static void
mst_fuzz_line(struct mst_fuzz *f, const char *s, size_t n)
{
	struct tv *cur, *v, *nv;
	const char *seg, *end = s + n, *op;
	size_t segl, tl;
	int depth = 0;

	if (n && s[0] == '>') {
		const char *eq = memchr(s, '=', n);

		if (!eq || f->np == MST_FUZZ_PARTIALS)
			return;
		f->pname[f->np] = tv_strndup(&f->a, s + 1, (size_t)(eq - s - 1));
		f->pnamelen[f->np] = (size_t)(eq - s - 1);
		v = mst_fuzz_text(&f->a, eq + 1, (size_t)(end - eq - 1), &tl);
		if (!v || !f->pname[f->np])
			return;
		f->psrc[f->np] = (char *)v->s;
		f->psrclen[f->np] = tl;
		f->np++;
		return;
	}
	/* the operator ends the path */
	for (op = s; op < end && *op != '=' && *op != '!' && *op != '?' &&
	     *op != '~' && *op != '[' && *op != '+'; op++)
		;
	if (op == end || op == s)
		return;
	cur = f->root;
	seg = s;
	for (;;) {
		const char *dot = memchr(seg, '.', (size_t)(op - seg));

		segl = (size_t)((dot ? dot : op) - seg);
		if (!segl)
			return;
		if (mst_fuzz_reserved(seg, segl)) {
			if (depth > 0)
				return;
			cur = f->rcpt;
		}
		if (!dot)
			break;
		v = tv_map_get(cur, seg, segl);
		if (v && v->type == TV_LIST)
			v = v->n ? v->items[v->n - 1] : NULL;
		if (!v) {
			v = tv_map(&f->a);
			if (!v || tv_map_setn(&f->a, cur, seg, segl, v))
				return;
		}
		if (v->type != TV_MAP)
			return;
		cur = v;
		seg = dot + 1;
		depth++;
	}
	switch (*op) {
	case '=':
		nv = mst_fuzz_text(&f->a, op + 1, (size_t)(end - op - 1), NULL);
		break;
	case '!':
		nv = tv_bool(&f->a, true);
		break;
	case '?':
		nv = tv_bool(&f->a, false);
		break;
	case '~':
		nv = tv_null(&f->a);
		break;
	default:	/* "[]" or "+=" on a list */
		v = tv_map_get(cur, seg, segl);
		if (!v || v->type != TV_LIST) {
			v = tv_list(&f->a);
			if (!v || tv_map_setn(&f->a, cur, seg, segl, v))
				return;
		}
		nv = *op == '[' ? tv_map(&f->a) :
		     mst_fuzz_text(&f->a, op + 2 > end ? end : op + 2,
				   op + 2 > end ? 0 : (size_t)(end - op - 2),
				   NULL);
		if (nv)
			tv_list_push(&f->a, v, nv);
		return;
	}
	if (nv)
		tv_map_setn(&f->a, cur, seg, segl, nv);
}

/* A fixed tree under the fuzzed one: every value type, HTML specials. */
static void
mst_fuzz_base(struct mst_fuzz *f)
{
	static const char *const lines[] = {
		"title=A <b>bold</b> & \"quoted\" title",
		"newsletter=Test Weekly", "empty=", "yes!", "no?", "nothing~",
		"sections[]", "sections.title=First", "sections.body=<p>x</p>",
		"sections[]", "sections.title=Second", "sections.image~",
		"tags+=one", "tags+=two", "map.inner.deep=d", "emptylist[]",
		"subscriber.name=Grace <Hopper>", "subscriber.email=g@x.org",
		"subscriber.tags+=a", "unsubscribe_url=https://x.org/u?a=1&b=2",
	};
	size_t i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++)
		mst_fuzz_line(f, lines[i], strlen(lines[i]));
	/* "emptylist[]" pushed a map: make it a real empty list. */
	tv_map_set(&f->a, f->root, "emptylist", tv_list(&f->a));
}

static void
mst_fuzz_render_check(const struct mst *t, struct mst_fuzz *f,
		      enum mst_escape esc)
{
	const struct tv *full[1] = { f->full };
	const struct tv *two[2] = { f->root, f->rcpt };
	struct mst *res = NULL;
	struct buf a, b, c;
	struct nl_err err;
	size_t i, cnt;
	int ra, rb, rs;

	buf_init(&a, MST_FUZZ_OUT_MAX);
	buf_init(&b, MST_FUZZ_OUT_MAX);
	buf_init(&c, MST_FUZZ_OUT_MAX);
	buf_adds(&a, "prefix");
	ra = mst_render(t, full, 1, esc, &a, &err);
	if (ra) {
		FUZZ_CHECK(a.len == 6 && memcmp(a.data, "prefix", 6) == 0,
			   "a failed render changed the output");
		FUZZ_CHECK(err.kind == NL_EDATA || err.kind == NL_ENOMEM,
			   "render failed with %s: %s",
			   nl_errkind_name(err.kind), err.msg);
	}
	rs = mst_specialize(t, two, 1, esc, tpl_is_late, &res, &err);
	if (rs) {
		FUZZ_CHECK(err.kind == NL_EDATA || err.kind == NL_ENOMEM,
			   "specialize failed with %s: %s",
			   nl_errkind_name(err.kind), err.msg);
		goto out;
	}
	buf_adds(&b, "prefix");
	rb = mst_render(res, two, 2, esc, &b, &err);
	if (rb == 0 && ra == 0)
		FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
			   "residual renders differently:\n--- full:\n%s\n"
			   "--- residual:\n%s", buf_cstr(&a), buf_cstr(&b));
	if (rb == 0) {
		/* item by item = whole */
		cnt = mst_count(res);
		buf_adds(&c, "prefix");
		for (i = 0; i < cnt; i++) {
			size_t tl;
			const char *tx = mst_text(res, i, &tl);

			if (tx ? buf_add(&c, tx, tl) :
			    mst_render_item(res, i, two, 2, esc, &c, &err))
				FUZZ_FAIL("item %zu fails where the whole "
					  "renders", i);
		}
		FUZZ_CHECK(b.len == c.len && memcmp(b.data, c.data, b.len) == 0,
			   "items render differently from the whole");
	}
	FUZZ_CHECK(mst_render_item(res, mst_count(res), two, 2, esc, &c,
				   &err) == -1 && err.kind == NL_EINTERNAL,
		   "item out of range accepted");
out:
	mst_free(res);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

FUZZ_TARGET(mustache)
{
	const char *s = (const char *)data, *nul, *tpl, *p, *nl;
	struct mst_fuzz f;
	struct mst *t = NULL;
	struct nl_err err;
	size_t tlen, i;

	if (size > 65536)
		return 0;
	memset(&f, 0, sizeof f);
	tv_arena_init(&f.a, 16 << 20);
	f.root = tv_map(&f.a);
	f.rcpt = tv_map(&f.a);
	f.full = tv_map(&f.a);
	if (!f.root || !f.rcpt || !f.full)
		goto out;
	mst_fuzz_base(&f);
	nul = size ? memchr(s, '\0', size) : NULL;
	if (nul) {
		for (p = s; p < nul; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(nul - p));
			if (!nl)
				nl = nul;
			mst_fuzz_line(&f, p, (size_t)(nl - p));
		}
		tpl = nul + 1;
	} else {
		tpl = s;
	}
	tlen = size - (size_t)(tpl - s);
	/* full = root's keys and the recipient's (mustache.h) */
	for (i = 0; i < f.root->n; i++)
		tv_map_setn(&f.a, f.full, f.root->pairs[i].key,
			    f.root->pairs[i].klen, f.root->pairs[i].val);
	for (i = 0; i < f.rcpt->n; i++)
		tv_map_setn(&f.a, f.full, f.rcpt->pairs[i].key,
			    f.rcpt->pairs[i].klen, f.rcpt->pairs[i].val);

	if (mst_compile(tpl, tlen, "fuzz", mst_fuzz_partial, &f, &t, &err)) {
		FUZZ_CHECK(err.kind == NL_EDATA || err.kind == NL_ENOMEM,
			   "compile failed with %s: %s",
			   nl_errkind_name(err.kind), err.msg);
		FUZZ_CHECK(err.kind != NL_EDATA ||
			   strncmp(err.msg, "fuzz:", 5) == 0 ||
			   f.np > 0, "compile error not at a place: %s",
			   err.msg);
		goto out;
	}
	mst_fuzz_render_check(t, &f, MST_ESCAPE_HTML);
	mst_fuzz_render_check(t, &f, MST_ESCAPE_NONE);
out:
	mst_free(t);
	tv_arena_free(&f.a);
	return 0;
}
