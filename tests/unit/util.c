/* Unit tests of util/: the capped buffer and UTF-8 classes. */
#include <errno.h>
#include <string.h>

#include "tests/tap.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/url.h"
#include "util/utf8.h"

int
main(void)
{
	struct buf b;
	struct nl_err e;
	uint32_t cp;

	buf_init(&b, 8);
	ok(buf_adds(&b, "12345678") == 0, "fills to the cap");
	ok(buf_addc(&b, 'x') == -1 && errno == E2BIG, "cap enforced");
	is_str(buf_cstr(&b), "12345678", "failed append leaves content");
	buf_reset(&b);
	ok(buf_printf(&b, "%d-%s", 42, "ok") == 0, "printf");
	is_str(buf_cstr(&b), "42-ok", "printf content");
	buf_free(&b);

	nl_err_at(&e, NL_EDATA, "f.yaml", 3, 7, "bad %s", "thing");
	is_str(e.msg, "f.yaml:3:7: bad thing", "error with place");
	is_int(e.kind, NL_EDATA, "error kind");

	is_int(utf8_invalid_offset("ab\xc3\xa9", 4), 4, "valid UTF-8");
	is_int(utf8_invalid_offset("ab\xc3(", 4), 2, "truncated sequence");
	is_int(utf8_invalid_offset("\xed\xa0\x80", 3), 0, "surrogate rejected");
	is_int(utf8_invalid_offset("\xc0\xaf", 2), 0, "overlong rejected");
	is_int(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4, "4-byte length");
	is_int(cp, 0x1F600, "4-byte code point");
	ok(uc_is_alnum(0x6C88), "CJK ideograph is a letter");
	ok(uc_is_alnum(0xEB), "e-diaeresis is a letter");
	ok(!uc_is_alnum(0x2014), "em dash is not");
	ok(!uc_is_alnum(0x2022), "bullet is not");
	ok(uc_is_space(0xA0) && uc_is_space(0x3000), "NBSP, ideographic space");

	ok(url_value_is_unsafe("javascript:alert(1)"), "a javascript: value");
	ok(url_value_is_unsafe("  \x01Java\tScript:x"), "as a browser reads it");
	ok(url_value_is_unsafe("vbscript:x") && url_value_is_unsafe("FILE:///etc"),
	   "vbscript:, file:");
	ok(url_value_is_unsafe("data:text/html,<script>"), "data: that is not "
	   "an image");
	ok(!url_value_is_unsafe("data:image/png;base64,AAAA"), "a raster image");
	ok(!url_value_is_unsafe("data: five items"), "text is not a URL");
	ok(!url_value_is_unsafe("https://example.org/javascript:x") &&
	   !url_value_is_unsafe("Bergen") && !url_value_is_unsafe(""),
	   "URLs and words that are safe");
	return done_testing();
}
