/* Section images: linked, embedded or shown from the disk in previews
 * (nlsend-issue(5), section.image; README, "Decisions"). */
#include "campaign/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime/sniff.h"
#include "util/path.h"

int
campaign_has_scheme(const char *url)
{
	const char *p = url;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

static int
is_remote(const char *src)
{
	return strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0;
}

/* 1 when path cannot be opened (errno says why), 0 with *data, -1 with
 * err.  Only a regular file: a FIFO would block the run (and, under
 * --due, the state lock) forever. */
static int
read_file(const char *path, size_t max, unsigned char **data, size_t *len,
	  struct nl_err *err)
{
	struct stat st;
	FILE *f = NULL;
	int fd, r = -1;

	r = path_open_regular(path, &fd, &st);
	if (r < 0)
		return 1;
	if (r > 0)
		return nl_err_set(err, NL_ENOINPUT, "%s: not a regular file", path);
	r = -1;
	if ((size_t)st.st_size > max) {
		nl_err_set(err, NL_EDATA, "%s: image larger than %zu bytes "
			   "(the limit for embedded images)", path, max);
		goto out;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	fd = -1;
	*data = malloc((size_t)st.st_size + 1);
	if (!*data) {
		nl_err_set(err, NL_ENOMEM, "out of memory");
		goto out;
	}
	*len = fread(*data, 1, (size_t)st.st_size, f);
	if (*len != (size_t)st.st_size) {
		nl_err_set(err, NL_ENOINPUT, "%s: read error", path);
		free(*data);
		*data = NULL;
		goto out;
	}
	r = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Previews: the file's absolute file:// URL, so a browser shows it. */
static int
preview_url(struct campaign *c, size_t i, struct buf *b, struct nl_err *err)
{
	const struct issue_image *im = c->issue->sections[i].image;
	char *abs;
	int r;

	if (buf_printf(b, "%s/%s", c->issue->dir, im->src))
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	abs = realpath(b->data, NULL);
	if (!abs)
		return nl_err_at(err, NL_ENOINPUT, c->issue->path, im->src_pos.line,
				 im->src_pos.col, "section %zu: image %s: %s",
				 i + 1, im->src, strerror(errno));
	buf_reset(b);
	r = buf_adds(b, "file://") || buf_adds(b, abs);
	free(abs);
	return r ? nl_err_set(err, NL_ENOMEM, "out of memory") : 0;
}

/* image_base_url plus the path as written in the issue. */
static int
linked_url(struct campaign *c, const char *src, struct buf *b)
{
	const char *base = c->image_base_url;
	size_t bl = strlen(base);

	return buf_adds(b, base) ||
	       (bl && base[bl - 1] != '/' && buf_addc(b, '/')) ||
	       buf_adds(b, src[0] == '/' ? src + 1 : src);
}

/* Read, check and keep the image of section i for multipart/related; its
 * URL is "cid:..." (RFC 2392). */
static int
embed(struct campaign *c, size_t i, struct buf *b, struct nl_err *err)
{
	const struct issue_image *im = c->issue->sections[i].image;
	const struct issue *is = c->issue;
	struct msg_image *mi = &c->images[c->nimages];
	unsigned char *data = NULL;
	const char *type, *slash;
	size_t len = 0;
	int rr;

	if (buf_printf(b, "%s/%s", is->dir, im->src))
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	rr = read_file(b->data, CAMPAIGN_IMAGE_MAX, &data, &len, err);
	if (rr == 1)
		return nl_err_at(err, NL_ENOINPUT, is->path, im->src_pos.line,
				 im->src_pos.col, "section %zu: image %s: %s",
				 i + 1, im->src, strerror(errno));
	if (rr)
		return -1;
	type = mime_sniff(data, len);
	if (!type) {
		free(data);
		return nl_err_at(err, NL_EDATA, is->path, im->src_pos.line,
				 im->src_pos.col, "section %zu: image %s is not "
				 "PNG, JPEG, GIF or WebP", i + 1, im->src);
	}
	c->image_data[c->nimages] = data;
	buf_reset(b);
	if (buf_printf(b, "image%zu.%s@%s", i + 1, c->id, c->from_domain) ||
	    !(c->image_cids[c->nimages] = strdup(b->data)))
		return nl_err_set(err, NL_ENOMEM, "out of memory");
	slash = strrchr(im->src, '/');
	mi->cid = c->image_cids[c->nimages];
	mi->content_type = type;
	mi->filename = slash ? slash + 1 : im->src;
	mi->data = data;
	mi->len = len;
	c->nimages++;
	buf_reset(b);
	return buf_printf(b, "cid:%s", mi->cid) ?
		nl_err_set(err, NL_ENOMEM, "out of memory") : 0;
}

/* The final src of section i's image into b. */
static int
image_src(struct campaign *c, size_t i, struct buf *b, struct nl_err *err)
{
	const struct issue_image *im = c->issue->sections[i].image;

	if (is_remote(im->src))
		return buf_adds(b, im->src) ?
			nl_err_set(err, NL_ENOMEM, "out of memory") : 0;
	if (campaign_has_scheme(im->src))
		return nl_err_at(err, NL_EDATA, c->issue->path, im->src_pos.line,
				 im->src_pos.col, "section %zu: image src '%s': "
				 "only http(s) URLs or local files", i + 1, im->src);
	if (c->opts.images == CAMPAIGN_IMAGES_PREVIEW)
		return preview_url(c, i, b, err);
	if (c->image_base_url && !c->opts.embed_images)
		return linked_url(c, im->src, b) ?
			nl_err_set(err, NL_ENOMEM, "out of memory") : 0;
	return embed(c, i, b, err);
}

int
campaign_images(struct campaign *c, struct nl_err *err)
{
	size_t i, n = c->issue->nsections;
	struct buf b;
	int r = -1;

	buf_init(&b, 8192);
	c->image_urls = calloc(n + 1, sizeof *c->image_urls);
	c->images = calloc(n + 1, sizeof *c->images);
	c->image_data = calloc(n + 1, sizeof *c->image_data);
	c->image_cids = calloc(n + 1, sizeof *c->image_cids);
	if (!c->image_urls || !c->images || !c->image_data || !c->image_cids) {
		nl_err_set(err, NL_ENOMEM, "out of memory preparing images");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct issue_image *im = c->issue->sections[i].image;

		if (!im || !im->src)
			continue;
		if (!im->alt || !*im->alt)
			campaign_warn(c, "section %zu: image without alt text: %s",
				      i + 1, im->src);
		buf_reset(&b);
		if (image_src(c, i, &b, err))
			goto out;
		c->image_urls[i] = strdup(b.data);
		if (!c->image_urls[i]) {
			nl_err_set(err, NL_ENOMEM, "out of memory preparing images");
			goto out;
		}
	}
	r = 0;
out:
	buf_free(&b);
	return r;
}

void
campaign_images_free(struct campaign *c)
{
	size_t i;

	if (c->image_urls)
		for (i = 0; c->issue && i < c->issue->nsections; i++)
			free(c->image_urls[i]);
	for (i = 0; i < c->nimages; i++) {
		free(c->image_data[i]);
		free(c->image_cids[i]);
	}
	free(c->image_urls);
	free(c->images);
	free(c->image_data);
	free(c->image_cids);
}
