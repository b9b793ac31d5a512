#!/bin/sh
# Inputs that are not regular files never block a run: a FIFO as a
# section image, as a template, as an issue file in --due's directory, or
# as the config is refused at once with "not a regular file" (66), instead
# of waiting forever for a writer (under --due, with the state lock held).
. "${NLSEND_TOP:-$(dirname "$0")/../..}/tests/lib/tap.sh"

command -v mkfifo >/dev/null || skip_all "needs mkfifo"
command -v timeout >/dev/null || skip_all "needs timeout(1)"
EX=$NLSEND_TOP/examples
T="timeout -k 2 10"

mkdir -p fifo-img/images
sed 's#images/harbour.png#images/pipe.png#' "$EX/issue.yaml" > fifo-img/issue.yaml
mkfifo fifo-img/images/pipe.png
check_exit "a FIFO as an embedded image" 66 $T "$NLSEND" \
	fifo-img/issue.yaml --list "$EX/readers.csv" --dry-run img.mbox
check_grep "it is named" "pipe.png: not a regular file" "$TMP/err"

mkdir -p tpl/mine
cp "$NLSEND_TOP/templates/default/text.mustache" tpl/mine/
mkfifo tpl/mine/html.mustache
mkdir -p tpl/images && cp "$EX/images/harbour.png" tpl/images/
printf 'template: mine\n' | cat - "$EX/issue.yaml" > tpl/issue.yaml
check_exit "a FIFO as a template" 66 $T "$NLSEND" --check tpl/issue.yaml
check_grep "it is named" "html.mustache: not a regular file" "$TMP/err"

mkdir -p due
mkfifo due/a-pipe.yaml
check_exit "a FIFO among --due's issues" 66 $T "$NLSEND" --due due \
	--list "$EX/readers.csv" --dry-run due.mbox
check_grep "it is named" "a-pipe.yaml: not a regular file" "$TMP/err"

mkfifo cfg.yaml
check_exit "a FIFO as the config" 66 $T "$NLSEND" --config cfg.yaml \
	--check "$EX/issue.yaml"
done_testing
