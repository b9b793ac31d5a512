/*
 * Unit tests of lists/: the CSV and txt readers, merging and
 * de-duplication, list_resolve, and the address set at 1,000,000
 * addresses.  The lists of tests/data/lists are read in place, and the
 * corpus lists from $NLSEND_CORPUS (default ../shared/corpus beside the
 * tree) when they are there; edge cases are written byte-exact into a
 * temporary directory; tests/data/lists/edge.csv is a readable sample.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lists/addrset.h"
#include "lists/list.h"
#include "tests/tap.h"
#include "util/buf.h"

static char tmpdir[64];
static char *made[128];
static size_t nmade;
static const char *prefixes[5];
static char fifodir[128];

/* Write name (under tmpdir) with exactly n bytes; returns its path. */
static const char *
put_file(const char *name, const void *data, size_t n)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(data, 1, n, fp) != n || fclose(fp) != 0) {
		printf("Bail out! cannot write %s: %s\n", path,
		       strerror(errno));
		exit(1);
	}
	if (nmade < sizeof made / sizeof made[0])
		made[nmade++] = strdup(path);
	return made[nmade - 1];
}

static const char *
put_str(const char *name, const char *s)
{
	return put_file(name, s, strlen(s));
}

static void
mkdir_tmp(const char *name)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if (mkdir(path, 0700) != 0) {
		printf("Bail out! mkdir %s: %s\n", path, strerror(errno));
		exit(1);
	}
	made[nmade++] = strdup(path);
}

/* Warnings, with the directory of the list cut for stable expectations. */
static void
warn_cb(void *arg, const char *msg)
{
	struct buf *w = arg;
	size_t i, n;

	for (i = 0; prefixes[i]; i++) {
		n = strlen(prefixes[i]);
		if (strncmp(msg, prefixes[i], n) == 0 && msg[n] == '/') {
			msg += n + 1;
			break;
		}
	}
	buf_adds(w, msg);
	buf_addc(w, '\n');
}

struct run {
	struct buf subs, warns;
	unsigned long skipped, dups;
	int rc;
	struct nl_err err;
};

/*
 * Read the lists; every subscriber as "email|name|line[|key=value...]\n"
 * (file names cut like the warnings, given only when several lists).
 */
static void
run_lists(struct run *r, const char *const *paths, size_t n)
{
	struct lists *l = NULL;
	struct subscriber s;
	const char *file;
	size_t k;
	int x;

	buf_init(&r->subs, 0);
	buf_init(&r->warns, 0);
	nl_err_clear(&r->err);
	r->skipped = r->dups = 0;
	r->rc = lists_open(paths, n, warn_cb, &r->warns, &l, &r->err);
	if (r->rc)
		return;
	while ((x = lists_next(l, &s, &r->err)) == 1) {
		if (n > 1) {
			file = strrchr(s.file, '/');
			buf_printf(&r->subs, "%s:", file ? file + 1 : s.file);
		}
		buf_printf(&r->subs, "%s|%s|%lu", s.email, s.name, s.line);
		for (k = 0; k < s.nextra; k++)
			buf_printf(&r->subs, "|%s=%s", s.extra_keys[k],
				   s.extra_values[k]);
		buf_addc(&r->subs, '\n');
	}
	r->rc = x;
	r->skipped = lists_skipped(l);
	r->dups = lists_duplicates(l);
	lists_close(l);
}

static void
run_free(struct run *r)
{
	buf_free(&r->subs);
	buf_free(&r->warns);
}

/*
 * Read path again through a FIFO of the same name that a child process
 * fills a few bytes at a time, so that read() returns small pieces: every
 * read-buffer boundary (a CRLF or a BOM split in two, a record across
 * reads) must give the same result as the file read whole.
 */
static void
same_through_fifo(const char *label, const char *path, struct run *whole)
{
	char fifo[256], chunk[8192];
	const char *base = strrchr(path, '/');
	struct run r;
	FILE *in;
	pid_t pid;
	size_t n, k, big;
	int fd, st;

	snprintf(fifo, sizeof fifo, "%s/%s", fifodir, base ? base + 1 : path);
	unlink(fifo);
	if (mkfifo(fifo, 0600) != 0) {
		ok(0, "%s: mkfifo: %s", label, strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		in = fopen(path, "rb");
		fd = open(fifo, O_WRONLY);
		if (!in || fd < 0)
			_exit(1);
		fseek(in, 0, SEEK_END);
		big = (size_t)ftell(in) > 4096;
		rewind(in);
		srand(7);
		for (;;) {
			k = big ? 1 + (size_t)rand() % sizeof chunk :
				  1 + (size_t)rand() % 3;
			n = fread(chunk, 1, k, in);
			if (n == 0)
				break;
			if (write(fd, chunk, n) != (ssize_t)n)
				_exit(1);
			if (!big)
				usleep(50);
		}
		_exit(0);
	}
	{
		const char *p = fifo;

		run_lists(&r, &p, 1);
	}
	waitpid(pid, &st, 0);
	unlink(fifo);
	is_int(r.rc, whole->rc, "%s, through a FIFO: result", label);
	is_str(buf_cstr(&r.subs), buf_cstr(&whole->subs),
	       "%s, through a FIFO: subscribers", label);
	is_str(buf_cstr(&r.warns), buf_cstr(&whole->warns),
	       "%s, through a FIFO: warnings", label);
	run_free(&r);
}

/* One list: expect rc 0, the subscribers and the warnings. */
static void
expect(const char *label, const char *path, const char *subs,
       const char *warns, unsigned long dups)
{
	struct run r;
	unsigned long nwarn = 0;
	const char *p;

	for (p = warns; *p; p++)
		nwarn += *p == '\n';
	run_lists(&r, &path, 1);
	if (!is_int(r.rc, 0, "%s: read to the end", label))
		diag("error: %s", r.err.msg);
	is_str(buf_cstr(&r.subs), subs, "%s: subscribers", label);
	is_str(buf_cstr(&r.warns), warns, "%s: warnings", label);
	is_int(r.skipped, nwarn, "%s: skipped count", label);
	is_int(r.dups, dups, "%s: duplicates", label);
	same_through_fifo(label, path, &r);
	run_free(&r);
}

/* One list that lists_open refuses. */
static void
expect_open_error(const char *label, const char *path,
		  enum nl_errkind kind, const char *msg)
{
	struct run r;

	run_lists(&r, &path, 1);
	is_int(r.rc, -1, "%s: refused", label);
	is_str(nl_errkind_name(r.err.kind), nl_errkind_name(kind),
	       "%s: error kind", label);
	is_str(r.err.msg, msg, "%s: message", label);
	run_free(&r);
}

/* tests/data/lists: readable fixtures (see the README there). */
static void
test_fixtures(void)
{
	const char *top = getenv("NLSEND_TOP");
	static char dir[512];	/* prefixes[] outlives this call */
	char csv[600], txt[600];

	if (!top || !*top)
		top = ".";
	snprintf(dir, sizeof dir, "%s/tests/data/lists", top);
	prefixes[2] = dir;
	snprintf(csv, sizeof csv, "%s/subscribers.csv", dir);
	snprintf(txt, sizeof txt, "%s/subscribers.txt", dir);
	expect("subscribers.csv", csv,
	       "ingrid@example.com|Ingrid Solberg|2|city=Troms\xc3\xb8\n"
	       "tomas@example.org|Novak, Tomas|3|city=Brno\n"
	       "noe@example.net|No\xc3\xab Ferreira|4|city=Porto\n"
	       "lan@example.cn|\xe6\x9e\x97\xe5\xb2\x9a|5|city=Hangzhou\n"
	       "o'neill@example.ie|Siobh\xc3\xa1n O'Neill|9|city=Galway\n"
	       "anon@example.com||12|city=\n",
	       "subscribers.csv:7: 'missing-at-sign': not an address\n"
	       "subscribers.csv:8: 'bob@localhost': no dot in the domain\n"
	       "subscribers.csv:10: name contains a line break\n",
	       1);
	expect("subscribers.txt", txt,
	       "ingrid@example.com||2\n"
	       "tomas@example.org|Tomas Novak|3\n"
	       "noe@example.net|No\xc3\xab Ferreira|5\n"
	       "lan@example.cn|\xe6\x9e\x97\xe5\xb2\x9a|7\n"
	       "o'neill@example.ie|Siobh\xc3\xa1n O'Neill|8\n"
	       "anon@example.com||11\n",
	       "subscribers.txt:9: 'missing-at-sign': not an address\n"
	       "subscribers.txt:10: 'Bob <bob@localhost>': no dot in the "
	       "domain\n",
	       1);
	snprintf(csv, sizeof csv, "%s/edge.csv", dir);
	snprintf(txt, sizeof txt, "%s/edge.txt", dir);
	expect("fixture edge.csv", csv,
	       "ada@example.com|Ada Lovelace|2|Plan=pro|Note=\n"
	       "grace@example.org|Hopper, Grace|3|Plan=free|"
	       "Note=said \"hello\"\n"
	       "zoe@example.net|Zo\xc3\xab Salda\xc3\xb1" "a|4|Plan=pro|"
	       "Note=two\nlines\n"
	       "plain@example.com||11|Plan=|Note=\n"
	       "o'brien@example.ie|Conan O'Brien|14|Plan=pro|"
	       "Note=last line without newline\n",
	       "edge.csv:7: 'not-an-address': not an address\n"
	       "edge.csv:8: 'bob@localhost': no dot in the domain\n"
	       "edge.csv:9: name contains a line break\n"
	       "edge.csv:12: too many fields (5, the header has 4)\n",
	       1);
	expect("fixture edge.txt", txt,
	       "ada@example.com||2\n"
	       "grace@example.org|Grace Hopper|3\n"
	       "hopper@example.org|Hopper, Grace|5\n"
	       "zoe@example.net|Zo\xc3\xab Salda\xc3\xb1" "a|7\n"
	       "bare@example.com||9\n",
	       "edge.txt:8: 'Bob <bob@localhost>': no dot in the domain\n",
	       1);
}

/* The corpus lists, read in place from $NLSEND_CORPUS (default
 * ../shared/corpus beside the tree) when they are there. */
static void
test_corpus(void)
{
	const char *top = getenv("NLSEND_TOP"), *dir;
	static char buf[2048];	/* prefixes[] outlives this call */
	char csv[2100], txt[2100];

	dir = outside_dir("NLSEND_CORPUS", top, "../shared/corpus", buf,
			  sizeof buf);
	if (!dir) {
		skip("NLSEND_CORPUS not set and ../shared/corpus absent: the "
		     "corpus lists not read");
		return;
	}
	snprintf(csv, sizeof csv, "%s/subscribers.csv", dir);
	snprintf(txt, sizeof txt, "%s/subscribers.txt", dir);
	prefixes[3] = dir;
	expect("corpus csv", csv,
	       "ada@example.com|Ada Lovelace|2|city=London\n"
	       "grace@example.org|Hopper, Grace|3|city=Arlington\n"
	       "zoe@example.net|Zo\xc3\xab Salda\xc3\xb1" "a|4|city=Paris\n"
	       "shen@example.cn|\xe6\xb2\x88\xe5\xb2\xb3|5|city=Wuhan\n"
	       "o'brien@example.ie|Conan O'Brien|9|city=Dublin\n"
	       "plain@example.com||12|city=\n",
	       "subscribers.csv:7: 'not-an-address': not an address\n"
	       "subscribers.csv:8: 'bob@localhost': no dot in the domain\n"
	       "subscribers.csv:10: name contains a line break\n",
	       1);
	expect("corpus txt", txt,
	       "ada@example.com||2\n"
	       "grace@example.org|Grace Hopper|3\n"
	       "zoe@example.net|Zo\xc3\xab Salda\xc3\xb1" "a|5\n",
	       "", 0);
}

static void
test_csv(void)
{
	static const char nul[] =
		"email,name,city\n"
		"a\0b@example.com,A,C\n"
		"n@example.com,N\0x,C\n"
		"c@example.com,C,C\0\n"
		"ok@example.com,OK,C\n";
	static const char bad_utf8[] =
		"email,name\n"
		"u@example.com,\xff\xfe\n"
		"w@example.com,\"a\"\"b\xc3(\"\n"
		"v@example.com,V\n";
	char big[LIST_ROW_MAX + 200], line[600], warn[1024];
	const char *p;
	size_t n, off1, off2;

	expect("BOM, CRLF, no final newline, header case and blanks",
	       put_str("bom.csv",
		       "\xef\xbb\xbf Email ,NAME, City \r\n"
		       "a@example.com,A,X\r\n"
		       "b@example.com,\"B, b\",Y"),
	       "a@example.com|A|2|City=X\nb@example.com|B, b|3|City=Y\n",
	       "", 0);
	expect("quoted commas, doubled quotes, line breaks in a field",
	       put_str("quoted.csv",
		       "email,name,note\n"
		       "\"q@example.com\",\"Q \"\"the\"\" Q\",\"l1\nl2\"\n"
		       "r@example.com,R,\"x\r\ny\"\r\n"
		       "s@example.com,S,\"a,b\"\n"),
	       "q@example.com|Q \"the\" Q|2|note=l1\nl2\n"
	       "r@example.com|R|4|note=x\r\ny\n"
	       "s@example.com|S|6|note=a,b\n",
	       "", 0);
	expect("fewer fields are empty; more are skipped",
	       put_str("fields.csv",
		       "email,name,city\n"
		       "f@example.com\n"
		       "g@example.com,G\n"
		       "m@example.com,M,C,extra\n"
		       "h@example.com,H,C\n"),
	       "f@example.com||2|city=\ng@example.com|G|3|city=\n"
	       "h@example.com|H|5|city=C\n",
	       "fields.csv:4: too many fields (4, the header has 3)\n", 0);
	/* Offsets of the bad bytes, from the data itself. */
	p = memchr(bad_utf8, '\xff', sizeof bad_utf8);
	off1 = (size_t)(p - bad_utf8);
	p = strstr(bad_utf8, "\xc3(");
	off2 = (size_t)(p - bad_utf8);
	snprintf(warn, sizeof warn,
		 "utf8.csv:2: invalid UTF-8 (byte offset %zu)\n"
		 "utf8.csv:3: invalid UTF-8 (byte offset %zu)\n", off1, off2);
	expect("invalid UTF-8 rows, offsets through doubled quotes",
	       put_file("utf8.csv", bad_utf8, sizeof bad_utf8 - 1),
	       "v@example.com|V|4\n", warn, 0);
	expect("NUL bytes", put_file("nul.csv", nul, sizeof nul - 1),
	       "ok@example.com|OK|5|city=C\n",
	       "nul.csv:2: email contains a NUL byte\n"
	       "nul.csv:3: name contains a NUL byte\n"
	       "nul.csv:4: column 'city' contains a NUL byte\n", 0);
	expect("line breaks in name or email, reported where the row starts",
	       put_str("breaks.csv",
		       "email,name\n"
		       "\"a@example.com\",\"Mallory\r\nBcc: x@y.zz\"\n"
		       "\"b@example.com\nBcc: x@y.zz\",B\n"
		       "c@example.com,\"C\x1b[2J\"\n"
		       "d@example.com,D\n"),
	       "d@example.com|D|7\n",
	       "breaks.csv:2: name contains a line break\n"
	       "breaks.csv:4: email contains a line break\n"
	       "breaks.csv:6: name contains a control character\n", 0);
	expect("blank lines and empty rows skipped silently",
	       put_str("blank.csv",
		       "\n\nemail,name\n\n"
		       "a@example.com,A\n"
		       "  \n,\n , \n\"\",\"\"\n"
		       "\r\n"
		       "b@example.com,B\n"
		       ",No Address\n"),
	       "a@example.com|A|5\nb@example.com|B|11\n",
	       "blank.csv:12: no email address\n", 0);
	expect("unterminated quote at the end of the file",
	       put_str("unterminated.csv",
		       "email,name\na@example.com,A\nb@example.com,\"B\nc,d\n"),
	       "a@example.com|A|2\n",
	       "unterminated.csv:3: unterminated quoted field\n", 0);
	expect("lone CR line ends",
	       put_str("cr.csv", "email\ra@example.com\r\"b@example.com\"\r"),
	       "a@example.com||2\nb@example.com||3\n", "", 0);
	expect("white space: trimmed around email and name, before quotes",
	       put_str("space.csv",
		       "email,name,note\n"
		       " sp@example.com\t, \"Hopper, Grace\" , kept \n"),
	       "sp@example.com|Hopper, Grace|2|note= kept \n", "", 0);
	expect("stray quotes are literal (as Python's csv)",
	       put_str("stray.csv",
		       "email,name\nst@example.com,O\"Neil\n"
		       "tt@example.com,\"T\"x\n"),
	       "st@example.com|O\"Neil|2\ntt@example.com|Tx|3\n", "", 0);
	expect("bad addresses, echoed safely",
	       put_str("bad.csv",
		       "email,name\n"
		       "not-an-address,X\n"
		       "bob@localhost,Bob\n"
		       "zo\xc3\xab@example.net,Z\n"
		       "a\x01" "b@example.com,C\n"
		       "a b@example.com,S\n"
		       "Ada <ada@example.com>,Ada\n"),
	       "",
	       "bad.csv:2: 'not-an-address': not an address\n"
	       "bad.csv:3: 'bob@localhost': no dot in the domain\n"
	       "bad.csv:4: 'zo\xc3\xab@example.net': non-ASCII address "
	       "(SMTPUTF8 not supported)\n"
	       "bad.csv:5: 'a?b@example.com': contains a control character\n"
	       "bad.csv:6: 'a b@example.com': contains a space\n"
	       "bad.csv:7: 'Ada <ada@example.com>': contains a space\n", 0);
	expect("unnamed columns ignored; extension case",
	       put_str("unnamed.CSV", "email,,city,\na@example.com,x,C,y\n"),
	       "a@example.com||2|city=C\n", "", 0);
	expect("duplicates within a list",
	       put_str("dups.csv",
		       "email,name\na@example.com,First\nA@Example.COM,Second\n"
		       "a@example.com,Third\n"),
	       "a@example.com|First|2\n", "", 2);

	/* The 64 KiB row limit: exactly LIST_ROW_MAX bytes is a row. */
	n = (size_t)snprintf(big, sizeof big, "email,name\n");
	n += (size_t)snprintf(big + n, sizeof big - n, "x@example.com,");
	memset(big + n, 'n', LIST_ROW_MAX - 14);
	n += LIST_ROW_MAX - 14;
	big[n++] = '\n';
	n += (size_t)snprintf(big + n, sizeof big - n, "y@example.com,Y\n");
	put_file("max.csv", big, n);
	{
		struct run r;
		const char *path = made[nmade - 1];

		run_lists(&r, &path, 1);
		ok(r.rc == 0 && r.skipped == 0 &&
		   strncmp(buf_cstr(&r.subs), "x@example.com|nnn", 17) == 0 &&
		   strstr(buf_cstr(&r.subs), "\ny@example.com|Y|3\n"),
		   "a row of exactly 65536 bytes is read");
		run_free(&r);
	}
	/* One byte more, in a quoted field spanning lines: skipped, and the
	 * rows after it are read with the right line numbers. */
	n = (size_t)snprintf(big, sizeof big, "email,name\nx@example.com,\"");
	memset(big + n, 'n', LIST_ROW_MAX - 15);
	big[n + 100] = '\n';
	big[n + 200] = ',';
	n += LIST_ROW_MAX - 15;
	n += (size_t)snprintf(big + n, sizeof big - n,
			      "\"\ny@example.com,Y\n");
	snprintf(line, sizeof line, "row longer than %d bytes", LIST_ROW_MAX);
	snprintf(warn, sizeof warn, "over.csv:2: %s\n", line);
	expect("a row of 65537 bytes is skipped",
	       put_file("over.csv", big, n), "y@example.com|Y|4\n", warn, 0);

	/* Header errors stop lists_open. */
	snprintf(line, sizeof line, "%s:1: no 'email' column",
		 put_str("noemail.csv", "mail,name\na@example.com,A\n"));
	expect_open_error("no email column", made[nmade - 1], NL_EDATA, line);
	snprintf(line, sizeof line, "%s:1: duplicate column 'EMAIL'",
		 put_str("dupcol.csv", "email,name,EMAIL\n"));
	expect_open_error("duplicate column", made[nmade - 1], NL_EDATA, line);
	snprintf(line, sizeof line, "%s:1: no header row (the file is empty)",
		 put_str("empty.csv", ""));
	expect_open_error("empty CSV", made[nmade - 1], NL_EDATA, line);
	snprintf(line, sizeof line, "%s:1: invalid UTF-8 (byte offset 6)",
		 put_str("hdrutf8.csv", "email,\xff\n"));
	expect_open_error("invalid UTF-8 header", made[nmade - 1], NL_EDATA,
			  line);
	snprintf(line, sizeof line, "%s: %s", tmpdir, strerror(EISDIR));
	expect_open_error("a directory", tmpdir, NL_ENOINPUT, line);
	snprintf(line, sizeof line, "%s/missing.csv: %s", tmpdir,
		 strerror(ENOENT));
	{
		char missing[128];

		snprintf(missing, sizeof missing, "%s/missing.csv", tmpdir);
		expect_open_error("a missing file", missing, NL_ENOINPUT,
				  line);
	}
}

static void
test_txt(void)
{
	static const char bad[] =
		"not-an-address\n"
		"Bob <bob@localhost>\n"
		"a@example.com # trailing comment\n"
		"x\0y@example.com\n"
		"\xff@example.com\n"
		"Bob <bob@example.com\n"
		"=?utf-8?q?a=0D=0Ab?= <b@example.com>\n"
		"ok@example.com\n";
	char big[LIST_ROW_MAX + 100], warn[1024];
	size_t n;

	expect("txt: comments, blanks, CRLF, names",
	       put_str("people.txt",
		       "# comment\r\n"
		       "   # indented comment\r\n"
		       "\r\n"
		       "  ada@example.com  \r\n"
		       "Hopper, Grace <grace@example.org>\r\n"
		       "\"O'Brien, Conan\" <o'brien@example.ie>\n"
		       "=?utf-8?q?Zo=C3=AB?= <zoe@example.net>\n"
		       "<bare@example.com>\n"
		       "last@example.com"),
	       "ada@example.com||4\n"
	       "grace@example.org|Hopper, Grace|5\n"
	       "o'brien@example.ie|O'Brien, Conan|6\n"
	       "zoe@example.net|Zo\xc3\xab|7\n"
	       "bare@example.com||8\n"
	       "last@example.com||9\n",
	       "", 0);
	snprintf(warn, sizeof warn,
	       "bad.txt:1: 'not-an-address': not an address\n"
	       "bad.txt:2: 'Bob <bob@localhost>': no dot in the domain\n"
	       "bad.txt:3: 'a@example.com # trailing comment': contains a "
	       "space\n"
	       "bad.txt:4: line contains a NUL byte\n"
	       "bad.txt:5: invalid UTF-8 (byte offset %zu)\n"
	       "bad.txt:6: 'Bob <bob@example.com': no closing '>'\n"
	       "bad.txt:7: '=?utf-8?q?a=0D=0Ab?= <b@example.com>': name "
	       "contains a line break\n",
	       (size_t)((const char *)memchr(bad, '\xff', sizeof bad) - bad));
	expect("txt: bad lines", put_file("bad.txt", bad, sizeof bad - 1),
	       "ok@example.com||8\n", warn, 0);
	memset(big, 'a', LIST_ROW_MAX + 1);
	n = LIST_ROW_MAX + 1;
	n += (size_t)snprintf(big + n, sizeof big - n,
			      "@example.com\nnext@example.com\n");
	snprintf(warn, sizeof warn, "long.txt:1: row longer than %d bytes\n",
		 LIST_ROW_MAX);
	expect("txt: over-long line", put_file("long.txt", big, n),
	       "next@example.com||2\n", warn, 0);
}

static void
test_merge(void)
{
	const char *paths[3];
	struct run r;

	paths[0] = put_str("one.csv",
			   "email,name\na@example.com,A one\nb@example.com,B\n");
	paths[1] = put_str("two.txt",
			   "B Two <B@EXAMPLE.COM>\nc@example.com\n"
			   "A Two <a@example.com>\n");
	paths[2] = put_str("three.csv",
			   "name,email,plan\nD,d@example.com,pro\n"
			   "C,C@example.com,free\n");
	run_lists(&r, paths, 3);
	is_int(r.rc, 0, "merge: read to the end");
	is_str(buf_cstr(&r.subs),
	       "one.csv:a@example.com|A one|2\n"
	       "one.csv:b@example.com|B|3\n"
	       "two.txt:c@example.com||2\n"
	       "three.csv:d@example.com|D|2|plan=pro\n",
	       "merge: first occurrence in --list order wins, across lists");
	is_int(r.dups, 3, "merge: duplicates across lists counted");
	is_int(r.skipped, 0, "merge: nothing skipped");
	run_free(&r);

	/* A bad header in a later list is found before any row is read. */
	paths[1] = put_str("nohdr.csv", "mail\nx@example.com\n");
	run_lists(&r, paths, 2);
	ok(r.rc == -1 && r.err.kind == NL_EDATA &&
	   strstr(r.err.msg, "nohdr.csv:1: no 'email' column") &&
	   buf_cstr(&r.subs)[0] == '\0',
	   "merge: bad second header refused by lists_open");
	run_free(&r);

	run_lists(&r, paths, 0);
	ok(r.rc == 0 && buf_cstr(&r.subs)[0] == '\0', "no lists: empty");
	run_free(&r);
}

static void
resolve_is(const char *label, const char *arg, const char *opt,
	   const char *conf, const char *want)
{
	struct nl_err err;
	char *path = NULL, exp[256];

	if (want[0] == '/' || want[0] == '.')
		snprintf(exp, sizeof exp, "%s", want + (want[0] == '/'));
	else
		snprintf(exp, sizeof exp, "%s/%s", tmpdir, want);
	nl_err_clear(&err);
	if (!is_int(list_resolve(arg, opt, conf, &path, &err), 0,
		    "resolve %s", label))
		diag("%s", err.msg);
	is_str(path, exp, "resolve %s: path", label);
	free(path);
}

static void
test_resolve(void)
{
	char opt[128], conf[128], optslash[130], cwd[512], msg[512];
	struct nl_err err;
	char *path = NULL;

	mkdir_tmp("opt");
	mkdir_tmp("conf");
	mkdir_tmp("lists");
	put_str("opt/news.csv", "email\n");
	put_str("opt/news.txt", "");
	put_str("opt/only.txt", "");
	put_str("conf/news.csv", "email\n");
	put_str("conf/weekly.csv", "email\n");
	put_str("lists/news.txt", "");
	put_str("direct.csv", "email\n");
	snprintf(opt, sizeof opt, "%s/opt", tmpdir);
	snprintf(conf, sizeof conf, "%s/conf", tmpdir);
	snprintf(optslash, sizeof optslash, "%s/", opt);

	resolve_is("an existing path as is", made[nmade - 1], opt, conf,
		   "direct.csv");
	resolve_is("--lists-dir first, .csv before .txt", "news", opt, conf,
		   "opt/news.csv");
	resolve_is(".txt when there is no .csv", "only", opt, conf,
		   "opt/only.txt");
	resolve_is("a trailing slash on the directory", "news", optslash,
		   conf, "opt/news.csv");
	resolve_is("lists_dir of the config without --lists-dir", "weekly",
		   NULL, conf, "conf/weekly.csv");
	resolve_is("an empty --lists-dir is unset", "weekly", "", conf,
		   "conf/weekly.csv");

	nl_err_clear(&err);
	ok(list_resolve("weekly", opt, conf, &path, &err) == -1 && !path &&
	   err.kind == NL_ENOINPUT,
	   "--lists-dir replaces lists_dir (no fallback)");
	snprintf(msg, sizeof msg,
		 "no list 'weekly' (looked for %s/weekly.csv and "
		 "%s/weekly.txt)", opt, opt);
	is_str(err.msg, msg, "not found: message");

	if (!getcwd(cwd, sizeof cwd) || chdir(tmpdir) != 0) {
		ok(0, "chdir to the temporary directory");
	} else {
		resolve_is("./lists by default", "news", NULL, NULL,
			   "./lists/news.txt");
		/* a leading '/' in want: taken as is, without it */
		resolve_is("a relative path as is", "direct.csv", NULL, NULL,
			   "/direct.csv");
		nl_err_clear(&err);
		ok(list_resolve("lists", NULL, NULL, &path, &err) == -1 &&
		   err.kind == NL_ENOINPUT,
		   "a directory is not a list");
		if (chdir(cwd) != 0)
			ok(0, "chdir back");
	}
	nl_err_clear(&err);
	ok(list_resolve("nowhere/x.csv", opt, conf, &path, &err) == -1 &&
	   err.kind == NL_ENOINPUT, "a missing path");
	snprintf(msg, sizeof msg, "nowhere/x.csv: %s", strerror(ENOENT));
	is_str(err.msg, msg, "a missing path: message");
	nl_err_clear(&err);
	ok(list_resolve("", opt, conf, &path, &err) == -1 &&
	   err.kind == NL_EUSAGE, "an empty name is a usage error");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Speed of lists_next on simple rows (a diagnostic; the bound only
 * catches something pathological, as CI machines and sanitizers vary). */
static void
test_speed(void)
{
	enum { ROWS = 200000 };
	struct buf b;
	struct lists *l;
	struct subscriber s;
	struct nl_err err;
	const char *path;
	unsigned long i, got = 0;
	double t;
	int r;

	buf_init(&b, 0);
	buf_adds(&b, "email,name,city\n");
	for (i = 0; i < ROWS; i++)
		buf_printf(&b, "user%lu@example.com,User %lu,City\n", i, i);
	path = put_file("speed.csv", b.data, b.len);
	buf_free(&b);
	t = now();
	r = lists_open(&path, 1, NULL, NULL, &l, &err);
	if (!ok(r == 0, "speed: open"))
		return;
	while ((r = lists_next(l, &s, &err)) == 1)
		got++;
	t = now() - t;
	lists_close(l);
	is_int(got, ROWS, "speed: every row read");
	/* A figure to read, not a test: speed is bench/'s to measure. */
	diag("lists_next: %.0f ns per row (%d rows, CSV)", t * 1e9 / ROWS,
	     ROWS);
}

static void
test_addrset(void)
{
	enum { N = 1000000 };
	struct addrset *s;
	char a[300];
	unsigned long i, added = 0, present = 0, upper = 0;
	size_t bytes;
	double t;

	s = addrset_new();
	if (!ok(s != NULL, "addrset_new"))
		return;
	t = now();
	for (i = 0; i < N; i++) {
		snprintf(a, sizeof a, "user%lu@example.com", i);
		added += addrset_add(s, a) == 1;
	}
	t = now() - t;
	is_int(added, N, "1,000,000 distinct addresses added");
	is_int(addrset_count(s), N, "count");
	for (i = 0; i < N; i++) {
		snprintf(a, sizeof a, "user%lu@example.com", i);
		present += addrset_has(s, a);
		snprintf(a, sizeof a, "USER%lu@EXAMPLE.com", i);
		upper += addrset_add(s, a) == 0;
	}
	is_int(present, N, "every address is a member");
	is_int(upper, N, "upper-case variants are duplicates");
	ok(!addrset_has(s, "user1000000@example.com") &&
	   !addrset_has(s, "user1@example.co") &&
	   !addrset_has(s, "user12@example.com.") &&
	   !addrset_has(s, ""), "non-members are not");
	is_int(addrset_count(s), N, "duplicates did not grow the set");
	bytes = addrset_bytes(s);
	diag("addrset: %zu bytes for %d addresses (%.1f bytes each), "
	     "%.0f ns per add", bytes, N, (double)bytes / N, t * 1e9 / N);
	ok(bytes < (size_t)40 << 20, "well under 48 MB (under 40 MiB)");
	addrset_free(s);

	s = addrset_new();
	memset(a, 'x', ADDRSET_MAXLEN);
	a[ADDRSET_MAXLEN] = '\0';
	is_int(addrset_add(s, a), 1, "an address of ADDRSET_MAXLEN bytes");
	a[ADDRSET_MAXLEN] = 'x';
	a[ADDRSET_MAXLEN + 1] = '\0';
	errno = 0;
	ok(addrset_add(s, a) == -1 && errno == EINVAL, "longer: EINVAL");
	is_int(addrset_add(s, ""), 1, "the empty string is an element too");
	is_int(addrset_add(s, ""), 0, "once");
	addrset_free(s);
}

int
main(void)
{
	size_t i;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/nlsend-lists-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(fifodir, sizeof fifodir, "%s/fifo", tmpdir);
	mkdir_tmp("fifo");
	prefixes[0] = fifodir;
	prefixes[1] = tmpdir;
	test_fixtures();
	test_corpus();
	test_csv();
	test_txt();
	test_merge();
	test_resolve();
	test_speed();
	test_addrset();
	for (i = nmade; i-- > 0;) {
		if (remove(made[i]) != 0)
			diag("cannot remove %s: %s", made[i], strerror(errno));
		free(made[i]);
	}
	rmdir(tmpdir);
	return done_testing();
}
