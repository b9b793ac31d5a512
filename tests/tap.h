/*
 * tap.h - the Test Anything Protocol for nlsend's C unit tests, read by
 * prove(1).  Header-only on purpose: every test program includes it once.
 * ok()/is_str()/is_int() print "ok N - name" or "not ok N - name" with a
 * diagnostic; done_testing() prints the plan and returns the exit status.
 * skip() prints "ok N # SKIP reason" for a part that cannot run here, and
 * outside_dir() finds an outside reference (a folder that is not part of
 * the tree) for the parts of a test that use one.
 */
#ifndef NL_TAP_H
#define NL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int tap_count, tap_failed;

static int
tap_vok(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static int __attribute__((format(printf, 4, 5), unused))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static int __attribute__((format(printf, 6, 7), unused))
tap_is_str(const char *got, const char *exp, const char *file, int line,
	   const char *dummy, const char *fmt, ...)
{
	va_list ap;
	int pass, r;

	(void)dummy;
	pass = got && exp ? strcmp(got, exp) == 0 : got == exp;
	va_start(ap, fmt);
	r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#          got: '%s'\n#     expected: '%s'\n",
		       got ? got : "(null)", exp ? exp : "(null)");
	return r;
}

static int __attribute__((format(printf, 5, 6), unused))
tap_is_long(long got, long exp, const char *file, int line,
	    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got == exp, file, line, fmt, ap);
	va_end(ap);
	if (got != exp)
		printf("#          got: %ld\n#     expected: %ld\n", got, exp);
	return r;
}

static void __attribute__((unused))
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void __attribute__((format(printf, 1, 2), unused))
skip(const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %d # SKIP ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * The folder of an outside reference: $var when it is set (a folder that
 * is missing then fails the test that reads it: asking for a reference
 * and not getting it is an error), else top/dflt when that is a folder,
 * else NULL and the caller skips, naming var.  The result is getenv's or
 * buf (n bytes).
 */
static __attribute__((unused)) const char *
outside_dir(const char *var, const char *top, const char *dflt, char *buf,
	    size_t n)
{
	const char *v = getenv(var);
	struct stat st;

	if (v && *v)
		return v;
	snprintf(buf, n, "%s/%s", top && *top ? top : ".", dflt);
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return buf;
	return NULL;
}

static int __attribute__((unused))
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, exp, ...) \
	tap_is_str((got), (exp), __FILE__, __LINE__, "", __VA_ARGS__)
#define is_int(got, exp, ...) \
	tap_is_long((long)(got), (long)(exp), __FILE__, __LINE__, __VA_ARGS__)

#endif
