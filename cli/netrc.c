/* A login's password in ~/.netrc (netrc.h). */
#include "cli/netrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *p, *e;
	char tok[1024];
};

/* The next token into lx->tok; 0 at the end of the file. */
static int
next_token(struct lexer *lx)
{
	size_t n = 0;
	int quoted;

	while (lx->p < lx->e && strchr(" \t\r\n", *lx->p))
		lx->p++;
	if (lx->p >= lx->e)
		return 0;
	quoted = *lx->p == '"';
	if (quoted)
		lx->p++;
	while (lx->p < lx->e) {
		char ch = *lx->p;

		if (quoted ? ch == '"' : strchr(" \t\r\n", ch) != NULL)
			break;
		if (quoted && ch == '\\' && lx->p + 1 < lx->e)
			ch = *++lx->p;
		if (n + 1 < sizeof lx->tok)
			lx->tok[n++] = ch;
		lx->p++;
	}
	if (quoted && lx->p < lx->e)
		lx->p++;
	lx->tok[n] = '\0';
	return 1;
}

/* macdef NAME: the macro's lines run to the next empty line. */
static void
skip_macro(struct lexer *lx)
{
	const char *end = NULL, *q;

	for (q = lx->p; q + 1 < lx->e; q++)
		if (q[0] == '\n' && (q[1] == '\n' ||
				     (q[1] == '\r' && q + 2 < lx->e &&
				      q[2] == '\n'))) {
			end = q + 1;
			break;
		}
	lx->p = end ? end : lx->e;
}

/* The entries of the file's text, first match wins. */
static int
lookup(const char *text, size_t len, const char *host, const char *login,
       char **pw)
{
	struct lexer lx = { text, text + len, { 0 } };
	char user[1024] = "", pass[1024] = "";
	int in = 0, match = 0, have_pass = 0, r = 1;

	for (;;) {
		int more = next_token(&lx), start = more &&
			(!strcmp(lx.tok, "machine") || !strcmp(lx.tok, "default"));

		/* An entry ends where the next begins, or at the end. */
		if ((start || !more) && in && match && have_pass &&
		    strcmp(user, login) == 0) {
			*pw = strdup(pass);
			r = *pw ? 0 : -1;
			break;
		}
		if (!more)
			break;
		if (start) {
			in = 1;
			have_pass = 0;
			user[0] = pass[0] = '\0';
			match = !strcmp(lx.tok, "default") ||
				(next_token(&lx) && strcmp(lx.tok, host) == 0);
		} else if (!strcmp(lx.tok, "login") && next_token(&lx)) {
			snprintf(user, sizeof user, "%s", lx.tok);
		} else if (!strcmp(lx.tok, "password") && next_token(&lx)) {
			snprintf(pass, sizeof pass, "%s", lx.tok);
			have_pass = 1;
		} else if (!strcmp(lx.tok, "account")) {
			next_token(&lx);
		} else if (!strcmp(lx.tok, "macdef")) {
			next_token(&lx);
			skip_macro(&lx);
		}
	}
	explicit_bzero(pass, sizeof pass);
	explicit_bzero(lx.tok, sizeof lx.tok);
	return r;
}

int
netrc_password(const char *path, const char *host, const char *login,
	       char **pw, struct nl_err *err)
{
	char *text = NULL;
	size_t len;
	FILE *f;
	int r;

	*pw = NULL;
	f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? 1 : nl_err_set(err, NL_ECONFIG, "%s: %s",
							path, strerror(errno));
	text = malloc(NETRC_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	}
	len = fread(text, 1, NETRC_MAX_BYTES + 1, f);
	r = ferror(f);
	fclose(f);
	if (r || len > NETRC_MAX_BYTES) {
		free(text);
		return nl_err_set(err, NL_ECONFIG, "%s: %s", path, r ?
				  "read error" : "larger than 64 KiB");
	}
	r = lookup(text, len, host, login, pw);
	explicit_bzero(text, len);
	free(text);
	if (r < 0)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	return r;
}
