/* Where the SMTP password comes from (secret.h). */
#include "cli/secret.h"

#include "cli/netrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <curl/curl.h>


static char *url_part(const char *url, CURLUPart what);

/* A login named in the config with its password in ~/.netrc (netrc.h
 * says why libcurl cannot be left to find it). */
static int
netrc_of(const char *user, const char *url, char **out, struct nl_err *err)
{
	const char *home = getenv("HOME");
	char path[4096], *host;
	int r;

	if (!user || !url || !home || !*home)
		return 1;
	host = url_part(url, CURLUPART_HOST);
	if (!host)
		return 1;
	snprintf(path, sizeof path, "%s/.netrc", home);
	r = netrc_password(path, host, user, out, err);
	curl_free(host);
	return r;
}

/* password_command's first line (msmtp's passwordeval). */
static int
run_command(const char *command, char **out, struct nl_err *err)
{
	char line[1024];
	size_t n;
	FILE *p;
	int st;

	fflush(NULL);
	p = popen(command, "r");
	if (!p)
		return nl_err_set(err, NL_ECONFIG, "password_command: %s",
				  strerror(errno));
	if (!fgets(line, sizeof line, p))
		line[0] = '\0';
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	if (st != 0 || !line[0]) {
		explicit_bzero(line, sizeof line);
		return nl_err_set(err, NL_ECONFIG, "password_command failed or "
				  "printed nothing (status %d)", st);
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	*out = strdup(line);
	explicit_bzero(line, sizeof line);
	return 0;
}

int
secret_password_of(const struct secret_source *src, char **out,
		   struct nl_err *err)
{
	const char *env = src->env ? getenv(src->env) : NULL;
	int st;

	*out = NULL;
	if (src->password) {
		*out = strdup(src->password);
	} else if (src->command) {
		if (run_command(src->command, out, err))
			return -1;
	} else if (env && *env) {
		*out = strdup(env);
	} else {
		st = netrc_of(src->user, src->url, out, err);
		if (st < 0)
			return -1;
		if (st > 0)
			return 0;
	}
	if (!*out)
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	secret_protect();
	return 0;
}

int
secret_password(const struct config *cfg, const char *url, char **out,
		struct nl_err *err)
{
	struct secret_source src = { cfg->password, cfg->password_command,
				     "NLSEND_SMTP_PASSWORD", cfg->user, url };

	return secret_password_of(&src, out, err);
}

void
secret_protect(void)
{
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* A part of url (curl's URL parser), or NULL; curl_free() it. */
static char *
url_part(const char *url, CURLUPart what)
{
	CURLU *u;
	char *part = NULL;

	if (!url || !(u = curl_url()))
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ||
	    curl_url_get(u, what, &part, 0))
		part = NULL;
	curl_url_cleanup(u);
	return part;
}

int
secret_url_has_password(const char *url)
{
	char *pw = url_part(url, CURLUPART_PASSWORD);
	int yes = pw != NULL;

	if (pw) {
		explicit_bzero(pw, strlen(pw));
		curl_free(pw);
	}
	return yes;
}

int
secret_url_is_loopback(const char *url)
{
	char *host = url_part(url, CURLUPART_HOST);
	int yes;

	if (!host)
		return 0;
	yes = strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	      strncmp(host, "127.", 4) == 0;
	curl_free(host);
	return yes;
}

