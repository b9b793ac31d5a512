/*
 * context.h - the data model templates see (doc/templates.md), built once
 * per issue from the composed issue, and the per-recipient part of it.
 *
 * The issue context is the bottom of the Mustache context stack; the
 * recipient map (subscriber, unsubscribe_url) is pushed on top of it per
 * recipient.  Names under those two keys are "late": tpl_is_late() says so,
 * and templates/mustache.c leaves them as holes when it specialises the
 * templates for an issue, so that per recipient only the holes are filled.
 *
 * Ownership: every value lives in the caller's arena.  Errors: NL_ENOMEM.
 */
#ifndef NL_CONTEXT_H
#define NL_CONTEXT_H

#include <stdbool.h>

#include "compose/compose.h"
#include "lists/list.h"
#include "templates/value.h"

struct tpl_info {
	const struct composed *c;
	const char *from_name;		/* "" when the From has no name */
	const char *from_email;
	/* Per section: the image's final src (https URL, cid:..., or a
	 * file URL in previews); NULL for sections without an image. */
	const char *const *image_urls;
};

int tpl_context(struct tv_arena *a, const struct tpl_info *info,
		struct tv **root, struct nl_err *err);

/* The recipient map: subscriber { email, name, extra columns... } and
 * unsubscribe_url.  Strings are referenced, not copied: s and url must
 * outlive the use of the map (one message). */
int tpl_recipient(struct tv_arena *a, const struct subscriber *s,
		  const char *unsubscribe_url, struct tv **map,
		  struct nl_err *err);

/* True for per-recipient tag names: "subscriber", "subscriber.x",
 * "unsubscribe_url". */
bool tpl_is_late(const char *name, size_t len);

#endif
