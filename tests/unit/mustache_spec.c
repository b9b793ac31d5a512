/*
 * mustache_spec.c - Mustache test files in the format of the Mustache
 * spec (a YAML map whose "tests" list holds name, data, template,
 * partials and expected) against templates/mustache: one TAP line per
 * case, "ok N - SET/FILE: name".
 *
 * Two sets: our own cases, tests/data/mustache/NAME.yml (always), and the
 * official spec files from github.com/mustache/spec, read from
 * $MUSTACHE_SPEC (default ../shared/mustache-spec beside the tree, when
 * it is there; otherwise one SKIP line says so).
 *
 * Then, for each case, the partial-evaluation property of mst_specialize():
 * with nothing late, the residual must be one static text item; then take
 * a root key K out of the data (when it is a map), make it "late",
 * specialize, and render the residual with [root without K, {K: value}];
 * the result must be the expected output, and rendering the residual
 * item by item must give the same bytes.  Only keys that fit
 * mustache.h's assumptions are used: K appears as a key nowhere but in the
 * root, and no dotted section on K ({{#K.x}}) pushes a map.  One line per
 * such case, testing each such key alone and then all of them at once.
 *
 * Optional spec files (~lambdas, ~dynamic-names) are skipped: nlsend's
 * templates have no lambdas and no dynamic names.
 */
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "templates/mustache.h"
#include "templates/value.h"
#include "tests/tap.h"
#include "util/buf.h"
#include "util/err.h"

/* ---- YAML to struct tv -------------------------------------------- */

static bool
yaml_is_int(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* YAML 1.2 core schema float:
 * [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
is_float(const char *s)
{
	size_t d = 0;

	if (*s == '-' || *s == '+')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, d++;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, d++;
	}
	if (!d)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* The shortest decimal that reads back as x, written as JavaScript's
 * Number#toString writes it (what the spec's expectations assume:
 * 1.210 -> "1.21", 85 -> "85"). */
static void
fmt_number(double x, char *out, size_t outsz)
{
	char e[64], digits[32];
	size_t nd = 0, i;
	int prec, exp;
	const char *p;
	struct buf b;

	if (x == 0) {
		snprintf(out, outsz, "0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, x);
		if (strtod(e, NULL) == x)
			break;
	}
	p = e;
	buf_init(&b, 256);
	if (*p == '-') {
		buf_addc(&b, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && nd < sizeof digits - 1)
			digits[nd++] = *p;
	digits[nd] = '\0';
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	exp = atoi(p + 1);
	if (exp >= 21 || exp < -7) {
		buf_addc(&b, digits[0]);
		if (nd > 1) {
			buf_addc(&b, '.');
			buf_adds(&b, digits + 1);
		}
		buf_printf(&b, "e%c%d", exp < 0 ? '-' : '+', abs(exp));
	} else if (exp >= 0) {
		for (i = 0; i <= (size_t)exp; i++)
			buf_addc(&b, i < nd ? digits[i] : '0');
		if (nd > (size_t)exp + 1) {
			buf_addc(&b, '.');
			buf_adds(&b, digits + exp + 1);
		}
	} else {
		buf_adds(&b, "0.");
		for (i = 0; i < (size_t)(-exp - 1); i++)
			buf_addc(&b, '0');
		buf_adds(&b, digits);
	}
	snprintf(out, outsz, "%s", buf_cstr(&b));
	buf_free(&b);
}

static struct tv *
scalar(struct tv_arena *a, const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	char num[64];

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return tv_str(a, s, len);
	if (len == 0 || !strcmp(s, "~") || !strcmp(s, "null") ||
	    !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return tv_null(a);
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return tv_bool(a, true);
	if (!strcmp(s, "false") || !strcmp(s, "False") ||
	    !strcmp(s, "FALSE"))
		return tv_bool(a, false);
	if (yaml_is_int(s))
		return tv_str(a, s + (*s == '+'), len - (*s == '+'));
	if (is_float(s)) {
		fmt_number(strtod(s, NULL), num, sizeof num);
		return tv_strz(a, num);
	}
	return tv_str(a, s, len);
}

static struct tv *
conv(struct tv_arena *a, yaml_document_t *doc, yaml_node_t *n, int depth)
{
	yaml_node_item_t *it;
	yaml_node_pair_t *pr;
	yaml_node_t *k;
	struct tv *v;

	if (!n || depth > 100)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar(a, n);
	case YAML_SEQUENCE_NODE:
		v = tv_list(a);
		for (it = n->data.sequence.items.start;
		     v && it < n->data.sequence.items.top; it++)
			if (tv_list_push(a, v, conv(a, doc,
					 yaml_document_get_node(doc, *it),
					 depth + 1)))
				v = NULL;
		return v;
	case YAML_MAPPING_NODE:
		v = tv_map(a);
		for (pr = n->data.mapping.pairs.start;
		     v && pr < n->data.mapping.pairs.top; pr++) {
			k = yaml_document_get_node(doc, pr->key);
			if (!k || k->type != YAML_SCALAR_NODE ||
			    tv_map_setn(a, v, (const char *)k->data.scalar.value,
					k->data.scalar.length,
					conv(a, doc,
					     yaml_document_get_node(doc,
								    pr->value),
					     depth + 1)))
				v = NULL;
		}
		return v;
	default:
		return NULL;
	}
}

/* ---- running a case ----------------------------------------------- */

static int
load_partial(void *arg, const char *name, size_t namelen, const char **src,
	     size_t *len, struct nl_err *err)
{
	const struct tv *v = tv_map_get(arg, name, namelen);

	(void)err;
	if (!v || v->type != TV_STR)
		return 1;
	*src = v->s;
	*len = v->slen;
	return 0;
}

/* The late keys for the property check (mst_late_fn takes no argument). */
static const char *late_keys[64];
static size_t nlate;

static bool
late_fn(const char *name, size_t len)
{
	const char *dot = memchr(name, '.', len);
	size_t seg = dot ? (size_t)(dot - name) : len, i;

	for (i = 0; i < nlate; i++)
		if (strlen(late_keys[i]) == seg &&
		    memcmp(late_keys[i], name, seg) == 0)
			return true;
	return false;
}

/* Does any map within v (v included) have key k? */
static bool
has_key(const struct tv *v, const char *k)
{
	size_t i;

	if (v->type == TV_LIST) {
		for (i = 0; i < v->n; i++)
			if (has_key(v->items[i], k))
				return true;
	} else if (v->type == TV_MAP) {
		for (i = 0; i < v->n; i++)
			if (strcmp(v->pairs[i].key, k) == 0 ||
			    has_key(v->pairs[i].val, k))
				return true;
	}
	return false;
}

static bool
has_map(const struct tv *v)
{
	size_t i;

	if (v->type == TV_MAP)
		return true;
	if (v->type == TV_LIST)
		for (i = 0; i < v->n; i++)
			if (has_map(v->items[i]))
				return true;
	return false;
}

/* Does src use a dotted section {{#K.x..}} or {{^K.x..}} (default
 * delimiters) whose value in data pushes a map? */
static bool
pushes_map(const struct tv *data, const char *key, const char *src)
{
	const char *p = src, *a, *b, *dot;
	const struct tv *v;
	size_t klen = strlen(key);

	while ((p = strstr(p, "{{")) != NULL) {
		p += 2;
		if (*p != '#' && *p != '^')
			continue;
		for (a = p + 1; *a == ' '; a++)
			;
		b = strstr(a, "}}");
		if (!b)
			break;
		while (b > a && b[-1] == ' ')
			b--;
		if ((size_t)(b - a) <= klen || memcmp(a, key, klen) != 0 ||
		    a[klen] != '.')
			continue;
		v = tv_map_get(data, key, klen);
		for (a += klen + 1; v && a < b; a = dot + 1) {
			dot = memchr(a, '.', (size_t)(b - a));
			if (!dot)
				dot = b;
			v = tv_map_get(v, a, (size_t)(dot - a));
		}
		if (v && has_map(v))
			return true;
	}
	return false;
}

/*
 * mustache.h's assumptions for late root key ki: no other map in the data
 * has that key, and no dotted late section of the template or its
 * partials pushes a map.
 */
static bool
can_be_late(const struct tv *root, size_t ki, const char *tpl,
	    const struct tv *parts)
{
	const char *key = root->pairs[ki].key;
	size_t i;

	for (i = 0; i < root->n; i++)
		if (has_key(root->pairs[i].val, key))
			return false;
	if (pushes_map(root, key, tpl))
		return false;
	for (i = 0; parts && parts->type == TV_MAP && i < parts->n; i++)
		if (parts->pairs[i].val->type == TV_STR &&
		    pushes_map(root, key, parts->pairs[i].val->s))
			return false;
	return true;
}

/* Specialize with late_keys, render [root minus late keys, recipient],
 * compare with expected; also item by item.  0 when all is well. */
static int
check_residual(struct tv_arena *a, const struct mst *t, const struct tv *data,
	       const char *expected, struct buf *why)
{
	struct tv *root = tv_map(a), *rcpt = tv_map(a);
	const struct tv *stack[2];
	struct mst *res = NULL;
	struct nl_err err;
	struct buf out, items;
	size_t i, k, len;
	const char *txt;
	bool late;
	int r = -1;

	buf_init(&out, 0);
	buf_init(&items, 0);
	nl_err_clear(&err);
	for (i = 0; data && data->type == TV_MAP && i < data->n; i++) {
		late = false;
		for (k = 0; k < nlate; k++)
			if (strcmp(late_keys[k], data->pairs[i].key) == 0)
				late = true;
		if (tv_map_setn(a, late ? rcpt : root, data->pairs[i].key,
				data->pairs[i].klen, data->pairs[i].val))
			goto out;
	}
	/* Non-map data has nothing to make late: it is the root itself. */
	stack[0] = data && data->type == TV_MAP ? root : data;
	stack[1] = rcpt;
	if (mst_specialize(t, stack, 1, MST_ESCAPE_HTML, late_fn, &res,
			   &err)) {
		buf_printf(why, "specialize: %s", err.msg);
		goto out;
	}
	/* With nothing late, all is static text, merged into one item. */
	if (!nlate && (mst_count(res) > 1 ||
		       (mst_count(res) == 1 && !mst_text(res, 0, &len)))) {
		buf_printf(why, "nothing late left %zu items",
			   mst_count(res));
		goto out;
	}
	if (mst_render(res, stack, 2, MST_ESCAPE_HTML, &out, &err)) {
		buf_printf(why, "render residual: %s", err.msg);
		goto out;
	}
	if (strcmp(buf_cstr(&out), expected) != 0) {
		buf_printf(why, "residual gave '%s'", buf_cstr(&out));
		goto out;
	}
	for (i = 0; i < mst_count(res); i++) {
		len = items.len;
		if (mst_render_item(res, i, stack, 2, MST_ESCAPE_HTML, &items,
				    &err)) {
			buf_printf(why, "render item %zu: %s", i, err.msg);
			goto out;
		}
		txt = mst_text(res, i, &k);
		if (txt && (k != items.len - len ||
			    memcmp(txt, items.data + len, k) != 0)) {
			buf_printf(why, "item %zu text differs", i);
			goto out;
		}
	}
	if (strcmp(buf_cstr(&items), expected) != 0) {
		buf_printf(why, "items gave '%s'", buf_cstr(&items));
		goto out;
	}
	r = 0;
out:
	mst_free(res);
	buf_free(&out);
	buf_free(&items);
	return r;
}

static void
run_case(const char *file, struct tv *tc)
{
	const struct tv *name, *tpl, *exp, *data, *parts;
	struct tv_arena a;
	struct mst *t = NULL;
	struct nl_err err;
	struct buf out, desc, why;
	const struct tv *stack[1];
	size_t i, tested = 0;
	int bad = 0;

	tv_arena_init(&a, 0);
	buf_init(&out, 0);
	buf_init(&desc, 0);
	buf_init(&why, 0);
	nl_err_clear(&err);
	name = tv_map_get(tc, "name", 4);
	tpl = tv_map_get(tc, "template", 8);
	exp = tv_map_get(tc, "expected", 8);
	data = tv_map_get(tc, "data", 4);
	parts = tv_map_get(tc, "partials", 8);
	if (!name || name->type != TV_STR || !tpl || tpl->type != TV_STR ||
	    !exp || exp->type != TV_STR) {
		ok(0, "%s: malformed case", file);
		goto out;
	}
	stack[0] = data;
	if (mst_compile(tpl->s, tpl->slen, name->s, load_partial,
			(void *)parts, &t, &err) ||
	    mst_render(t, stack, 1, MST_ESCAPE_HTML, &out, &err)) {
		ok(0, "%s: %s", file, name->s);
		diag("error: %s", err.msg);
		goto out;
	}
	is_str(buf_cstr(&out), exp->s, "%s: %s", file, name->s);

	/* The partial-evaluation property: nothing late, then one late key
	 * at a time, then all eligible keys together. */
	buf_printf(&desc, "%s: %s (residual, late: none", file, name->s);
	nlate = 0;
	if (check_residual(&a, t, data, exp->s, &why)) {
		diag("nothing late: %s", buf_cstr(&why));
		bad++;
	}
	for (i = 0; data && data->type == TV_MAP && i < data->n &&
		     tested < 63; i++) {
		if (!can_be_late(data, i, tpl->s, parts))
			continue;
		late_keys[0] = data->pairs[i].key;
		nlate = 1;
		buf_reset(&why);
		if (check_residual(&a, t, data, exp->s, &why)) {
			diag("late '%s': %s", late_keys[0], buf_cstr(&why));
			bad++;
		}
		buf_printf(&desc, " %s", data->pairs[i].key);
		tested++;
	}
	if (tested > 1) {
		nlate = 0;
		for (i = 0; i < data->n; i++)
			if (can_be_late(data, i, tpl->s, parts))
				late_keys[nlate++] = data->pairs[i].key;
		buf_reset(&why);
		if (check_residual(&a, t, data, exp->s, &why)) {
			diag("all late: %s", buf_cstr(&why));
			bad++;
		}
		buf_adds(&desc, "; all");
	}
	ok(!bad, "%s)", buf_cstr(&desc));
out:
	mst_free(t);
	tv_arena_free(&a);
	buf_free(&out);
	buf_free(&desc);
	buf_free(&why);
}

static void
run_file(const char *set, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct tv_arena a;
	const struct tv *tests;
	struct tv *top;
	char file[256];
	const char *base;
	size_t i, n;
	FILE *f;

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
		n -= 4;
	snprintf(file, sizeof file, "%s/%.*s", set, (int)n, base);
	f = fopen(path, "rb");
	if (!f) {
		ok(0, "%s: open %s", file, path);
		return;
	}
	tv_arena_init(&a, 0);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		ok(0, "%s: YAML error: %s", file,
		   parser.problem ? parser.problem : "?");
		goto out_parser;
	}
	top = conv(&a, &doc, yaml_document_get_root_node(&doc), 0);
	tests = top ? tv_map_get(top, "tests", 5) : NULL;
	if (!tests || tests->type != TV_LIST) {
		ok(0, "%s: no tests list", file);
		goto out;
	}
	for (i = 0; i < tests->n; i++) {
		if (base[0] == '~') {
			skip("%s: optional (no lambdas, no dynamic names)",
			     file);
			continue;
		}
		if (tests->items[i]->type != TV_MAP) {
			ok(0, "%s: case %zu is not a map", file, i);
			continue;
		}
		run_case(file, tests->items[i]);
	}
out:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	tv_arena_free(&a);
}

/* Every .yml file of DIR, as one set; a set without files fails. */
static void
run_set(const char *set, const char *dir)
{
	struct buf pat;
	glob_t g;
	size_t i;

	buf_init(&pat, 4096);
	if (buf_printf(&pat, "%s/*.yml", dir) ||
	    glob(buf_cstr(&pat), 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		ok(0, "%s: test files found as %s", set, buf_cstr(&pat));
		buf_free(&pat);
		return;
	}
	for (i = 0; i < g.gl_pathc; i++)
		run_file(set, g.gl_pathv[i]);
	globfree(&g);
	buf_free(&pat);
}

int
main(void)
{
	const char *top = getenv("NLSEND_TOP"), *spec;
	char own[2048], buf[2048];

	if (!top || !*top)
		top = ".";
	snprintf(own, sizeof own, "%s/tests/data/mustache", top);
	run_set("ours", own);
	spec = outside_dir("MUSTACHE_SPEC", top, "../shared/mustache-spec",
			   buf, sizeof buf);
	if (spec)
		run_set("spec", spec);
	else
		skip("MUSTACHE_SPEC not set and ../shared/mustache-spec "
		     "absent: the official spec files not run");
	return done_testing();
}
