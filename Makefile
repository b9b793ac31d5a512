# nlsend - plain make; every library through pkg-config.
#   make                build $(B)/nlsend (B=build by default)
#   make check          build and run every test (prove, TAP)
#   make check-asan     the same under AddressSanitizer + UBSan (B=build-asan)
#   make install        PREFIX=/usr/local DESTDIR=
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/nlsend
B ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = libcurl libetpan yaml-0.1 libcmark sqlite3 gnutls

CFLAGS ?= -O2 -g
override CFLAGS += -std=c17 -Wall -Wextra -Wpedantic -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif
override CPPFLAGS += -I. -D_GNU_SOURCE -DNL_DATADIR='"$(DATADIR)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm

MODULES ?= util compose templates mime lists state campaign send cli
LIBSRCS = $(filter-out cli/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIBOBJS = $(LIBSRCS:%.c=$(B)/%.o) $(B)/builtin_templates.o
BUILTINS = $(wildcard templates/default/*.mustache)
UNITSRCS = $(wildcard tests/unit/*.c)
UNITS ?= $(UNITSRCS:tests/unit/%.c=$(B)/tests/%.t)
TTESTS ?= $(sort $(wildcard tests/t/*.t))

all: $(B)/nlsend

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -O1 -o $@ $<

# templates/default/NAME.mustache becomes builtin_NAME (dots to underscores).
$(B)/builtin_templates.c: $(BUILTINS) $(B)/tools/embed
	$(B)/tools/embed $@ $(foreach f,$(BUILTINS),builtin_$(subst .,_,$(basename $(notdir $(f))))=$(f))

$(B)/builtin_templates.o: $(B)/builtin_templates.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libnlsend.a: $(LIBOBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/nlsend: $(B)/cli/main.o $(B)/libnlsend.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%.t: tests/unit/%.c $(B)/libnlsend.a tests/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libnlsend.a $(LDLIBS)

tests: $(if $(filter cli,$(MODULES)),$(B)/nlsend) $(UNITS)

# Every test is a TAP producer run by prove: compiled unit tests and the
# shell/python tests in tests/t.  Tests find the tree through these, and
# run on the test data in tests/data.  NLSEND_CORPUS (a folder with a real
# issue and its lists) and MUSTACHE_SPEC (the official Mustache spec's YAML
# files) name outside references that tests also run on; unset, they
# default to ../shared/corpus and ../shared/mustache-spec when those exist,
# and the tests that need them say so in a SKIP line naming the variable.
TEST_ENV = NLSEND=$(abspath $(B)/nlsend) NLSEND_TOP=$(CURDIR) B=$(abspath $(B)) \
	NLSEND_CORPUS='$(if $(NLSEND_CORPUS),$(abspath $(NLSEND_CORPUS)))' \
	MUSTACHE_SPEC='$(if $(MUSTACHE_SPEC),$(abspath $(MUSTACHE_SPEC)))'
check: tests
	$(TEST_ENV) prove -e '' $(PROVE_FLAGS) $(UNITS) $(TTESTS)

check-asan:
	$(MAKE) check B=build-asan SAN=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

install: $(B)/nlsend
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DATADIR)/templates/default
	install -m 755 $(B)/nlsend $(DESTDIR)$(BINDIR)/nlsend
	install -m 644 doc/nlsend.1 $(DESTDIR)$(MANDIR)/man1/nlsend.1
	install -m 644 doc/nlsend-issue.5 $(DESTDIR)$(MANDIR)/man5/nlsend-issue.5
	install -m 644 $(BUILTINS) $(DESTDIR)$(DATADIR)/templates/default/

clean:
	rm -rf build build-asan

.PHONY: all tests check check-asan install clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)

bench-compose: $(B)/nlsend
	bench/compose.sh $(abspath $(B)/nlsend)
.PHONY: bench-compose

include mk/fuzz.mk

# make bench: nlsend against smtp-source (the ceiling), Python smtplib and
# nodemailer on a loopback smtp-sink; make bench-scale: time and peak RSS
# for 10k, 100k and 1M recipients.  Both on the corpus issue when
# NLSEND_CORPUS (or ../shared/corpus) is there, else on the test issue.
# See bench/README.md.
bench: $(B)/nlsend
	bench/run.sh $(abspath $(B)/nlsend)
bench-scale: $(B)/nlsend
	bench/scale.sh $(abspath $(B)/nlsend)
.PHONY: bench bench-scale
