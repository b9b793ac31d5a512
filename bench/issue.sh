# bench/issue.sh - the issue the benchmarks send (sourced; needs $top).
# The corpus issue (a real newsletter; the figures in bench/README.md are
# for it) when $NLSEND_CORPUS names its folder or ../shared/corpus is beside
# the tree; otherwise the test issue of the tree,
# tests/data/newsletter/issue.yaml, which composes to a smaller message, so
# its figures are not comparable with the README's.  Sets issue and
# issue_name.
if [ -n "${NLSEND_CORPUS:-}" ]; then
	[ -f "$NLSEND_CORPUS/2020-09-15-axios-china.yaml" ] || {
		echo "bench: NLSEND_CORPUS=$NLSEND_CORPUS holds no 2020-09-15-axios-china.yaml" >&2
		exit 1
	}
	corpus=$NLSEND_CORPUS
else
	corpus=$top/../shared/corpus
fi
if [ -f "$corpus/2020-09-15-axios-china.yaml" ]; then
	issue=$corpus/2020-09-15-axios-china.yaml
	issue_name="corpus Axios China"
else
	issue=$top/tests/data/newsletter/issue.yaml
	issue_name="test issue Meridian Weekly (NLSEND_CORPUS not set and ../shared/corpus absent)"
fi
