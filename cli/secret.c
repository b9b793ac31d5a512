/* Where the SMTP password comes from (secret.h). */
#include "cli/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int
secret_password(const struct config *cfg, char **out, struct nl_err *err)
{
	const char *env = getenv("NLSEND_SMTP_PASSWORD");
	char line[1024];
	size_t n;
	FILE *p;
	int st;

	*out = NULL;
	if (cfg->password) {
		*out = strdup(cfg->password);
	} else if (cfg->password_command) {
		fflush(NULL);
		p = popen(cfg->password_command, "r");
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
			return nl_err_set(err, NL_ECONFIG, "password_command failed "
					  "or printed nothing (status %d)", st);
		}
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		*out = strdup(line);
		explicit_bzero(line, sizeof line);
	} else if (env && *env) {
		*out = strdup(env);
	} else {
		return 0;
	}
	return *out ? 0 : nl_err_set(err, NL_ENOMEM, "out of memory");
}

