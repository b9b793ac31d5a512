# mk/fuzz.mk - hostile input as a habit: libFuzzer targets,
# static analysis and valgrind.  Included at the end of the Makefile, so
# B, MODULES, CPPFLAGS, LDLIBS, LIBSRCS and UNITS are the Makefile's.
#
#   make fuzz           build every target (clang, -fsanitize=fuzzer,
#                       address,undefined) into $(B)/fuzz/ and run each for
#                       FUZZ_SECONDS (default 60) on a copy of its seed
#                       corpus ($(B)/fuzz/corpus/NAME; the checked-in
#                       tests/fuzz/corpus is never written); prints target,
#                       exec/s and coverage (cov: edges) and fails when a
#                       target crashes, leaks, times out or breaks a property
#   make fuzz-ci        the same for FUZZ_SECONDS=10
#   make fuzz-build     only build the targets
#   make analyze        cppcheck, clang-tidy (.clang-tidy) and scan-build
#   make check-valgrind the unit tests under valgrind memcheck
#
# The harnesses are tests/fuzz/NAME.c; tests/unit/fuzz_regress.c links the
# same code without libFuzzer and replays tests/fuzz/corpus/NAME and
# tests/fuzz/regress/NAME (every crash found) in `make check`.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
# Extra libFuzzer flags, e.g. FUZZ_FLAGS=-max_len=70000.
FUZZ_FLAGS ?=
FUZZ_TARGETS = issue list_csv list_txt address mustache markdown \
	mime_encode mime_header mbox config smtp smtp_model
FUZZ_DIR = $(B)/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c17 -g -O1 $(FUZZ_SAN)
FUZZ_OBJS = $(LIBSRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/builtin_templates.o
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

# The library with coverage instrumentation but no main (fuzzer-no-link).
$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/builtin_templates.o: $(B)/builtin_templates.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libnlsend-fuzz.a: $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_DIR)/libnlsend-fuzz.a
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP \
		-o $@ $< $(FUZZ_DIR)/libnlsend-fuzz.a \
		$(filter-out -specs=%,$(LDLIBS))

$(FUZZ_DIR)/list_txt: tests/fuzz/list_csv.c

fuzz-build: $(FUZZ_BINS)

# tests/fuzz/run.sh copies the corpora, runs each target, prints the
# summary and exits 1 if any target failed.
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_FLAGS="$(FUZZ_FLAGS)" \
	sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=10

# The regression test replays the harness code: rebuild it when a harness
# changes (the Makefile's unit rule knows only the test's own source).
$(B)/tests/fuzz_regress.t: $(wildcard tests/fuzz/*.c tests/fuzz/*.h)

# --- static analysis -------------------------------------------------------
# cppcheck: findings that are not bugs are suppressed, each with its reason,
# in mk/cppcheck.supp.  clang-tidy reads .clang-tidy (its comments say why
# each check family is in or out); its warnings are errors.  scan-build
# builds the whole tree afresh in $(B)/scan with the clang static analyzer
# (HTML reports in $(B)/scan/report); mk/scan-check.py fails on any finding
# not listed, with its reason, in mk/scan-build.known.
ANALYZE_SRCS = $(LIBSRCS) $(if $(filter cli,$(MODULES)),cli/main.c)
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
SCAN_BUILD ?= scan-build

analyze: analyze-cppcheck analyze-tidy analyze-scan

analyze-cppcheck:
	$(CPPCHECK) --quiet --std=c11 --enable=warning,performance,portability \
		--error-exitcode=1 --inline-suppr \
		--suppressions-list=mk/cppcheck.supp -I. -D_GNU_SOURCE \
		-DNL_DATADIR='"/usr/local/share/nlsend"' $(ANALYZE_SRCS)

analyze-tidy: $(B)/builtin_templates.c
	$(CLANG_TIDY) --quiet $(ANALYZE_SRCS) -- $(CPPFLAGS) -std=c17

analyze-scan:
	rm -rf $(B)/scan
	$(SCAN_BUILD) -o $(B)/scan/report --use-cc=$(FUZZ_CC) \
		$(MAKE) B=$(B)/scan/build CC=$(FUZZ_CC) MODULES="$(MODULES)" \
		$(B)/scan/build/libnlsend.a \
		$(if $(filter cli,$(MODULES)),$(B)/scan/build/cli/main.o)
	/usr/bin/python3 mk/scan-check.py $(B)/scan/report mk/scan-build.known

# --- valgrind ----------------------------------------------------------------
# The compiled unit tests under memcheck: any error or leak (definite or
# possible) fails the test.  Build without SAN (valgrind and ASan do not
# mix).  tests/valgrind.supp holds library-internal reports, each
# explained.  NLSEND_UNDER_VALGRIND=1 tells tests to skip speed
# assertions (memcheck runs code some 20-50 times slower).
VALGRIND ?= valgrind
VALGRIND_FLAGS = -q --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,possible --track-origins=yes \
	--suppressions=$(CURDIR)/tests/valgrind.supp

check-valgrind: $(UNITS)
	$(TEST_ENV) NLSEND_UNDER_VALGRIND=1 \
	prove -e '$(VALGRIND) $(VALGRIND_FLAGS)' $(PROVE_FLAGS) $(UNITS)

.PHONY: fuzz fuzz-ci fuzz-build analyze analyze-cppcheck analyze-tidy \
	analyze-scan check-valgrind
