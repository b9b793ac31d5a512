/*
 * relays.h - the relays a send goes through: `relays:` of the config
 * (cli/config_relays.c) as send/ takes them (struct deliver_relay), with
 * each one's password from its sources (cli/secret.h: its `password`, its
 * `password_command`, NLSEND_SMTP_PASSWORD_<NAME> with NAME upper-cased
 * and '-' as '_', ~/.netrc for its user on its host), restricted to the
 * --relay names.  A relay's unset values come from the command line, then
 * the config's top level (concurrency, max_per_connection, ca_file), then
 * send/'s defaults.
 *
 * Ownership: struct run_relays owns the passwords (wiped when freed);
 * the rest borrows the config, which must outlive it.
 * Errors: NL_EUSAGE (--relay names no relay of the config), NL_ECONFIG (a
 * password_command that fails; AUTH without TLS off this machine).
 */
#ifndef NL_RUN_RELAYS_H
#define NL_RUN_RELAYS_H

#include "cli/config.h"
#include "cli/options.h"
#include "send/deliver.h"

struct run_relays {
	struct deliver_relay v[DELIVER_MAX_RELAYS];
	char *password[DELIVER_MAX_RELAYS];
	int n;
};

/* 0 with n == 0 when the config has no relays (the one-relay fields of
 * deliver_conf are used then). */
int run_relays_open(const struct options *o, const struct config *cfg,
		    struct run_relays *rr, struct nl_err *err);
void run_relays_free(struct run_relays *rr);

/* The relay names, for messages: "a, b, c". */
void run_relays_names(const struct config *cfg, char *out, size_t n);

#endif
