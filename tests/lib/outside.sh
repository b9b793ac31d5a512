# outside.sh - where the tests find their data.  Sourced by tap.sh.
#
# Our own data is part of the tree and every test runs on it:
#   ISSUE   tests/data/newsletter/issue.yaml, the test issue
#   LISTS   tests/data/lists, its subscriber lists (see the README there)
#
# Outside references are not part of the tree; a test also runs on them
# when they are there, and otherwise says which variable would name them:
#   NLSEND_CORPUS  a folder with a real issue (2020-09-15-axios-china.yaml,
#                  its images/, subscribers.csv and subscribers.txt);
#                  default ../shared/corpus beside the tree, when it exists
#   MUSTACHE_SPEC  the official Mustache spec's YAML files; default
#                  ../shared/mustache-spec beside the tree, when it exists
# A variable that is set must name a folder that exists: asking for a
# reference and not getting it is an error, not a skip.  After this file,
# both are absolute paths or empty; CORPUS is NLSEND_CORPUS and AXIOS the
# corpus issue (empty without a corpus), NO_CORPUS the reason to skip.
DATA=$NLSEND_TOP/tests/data
ISSUE=$DATA/newsletter/issue.yaml
LISTS=$DATA/lists

# outside_dir VALUE DEFAULT: VALUE or else DEFAULT when it is a folder,
# made absolute (symbolic links resolved, as the C tests' stat() does), or "".
outside_dir() {
	if [ -n "$1" ]; then
		(cd -P "$1" 2>/dev/null && pwd) || {
			echo "# $1: no such folder" >&2
			echo "$1"
		}
	else
		(cd -P "$2" 2>/dev/null && pwd) || :
	fi
}
NLSEND_CORPUS=$(outside_dir "${NLSEND_CORPUS:-}" "$NLSEND_TOP/../shared/corpus")
MUSTACHE_SPEC=$(outside_dir "${MUSTACHE_SPEC:-}" "$NLSEND_TOP/../shared/mustache-spec")
CORPUS=$NLSEND_CORPUS
AXIOS=${CORPUS:+$CORPUS/2020-09-15-axios-china.yaml}
NO_CORPUS="NLSEND_CORPUS not set and ../shared/corpus absent"
NO_MUSTACHE_SPEC="MUSTACHE_SPEC not set and ../shared/mustache-spec absent"
export DATA ISSUE LISTS NLSEND_CORPUS MUSTACHE_SPEC CORPUS AXIOS
