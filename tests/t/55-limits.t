#!/bin/sh
# Limits with clear errors rather than exhaustion: the largest
# issue file (16 MiB, compose/issue.h), list row (64 KiB, lists/list.h),
# template (1 MiB, templates/tplset.h) and embedded image (5 MiB,
# cli/campaign.c) are enforced; an input over a limit exits 65 (EX_DATAERR)
# with the limit named, an input exactly at it is accepted.  A list row
# over the limit is a bad row: skipped with a warning, the run goes on, and
# only when no valid recipient is left does it exit 65.
. "$NLSEND_TOP/tests/lib/tap.sh"

base() {
	cat <<'YAML'
newsletter: Test Weekly
date: 2026-01-02
from: "Test Weekly <test@example.org>"
subject: "A plain subject"
sections:
  - title: "First story"
    body: |
      Some words here.
YAML
}
base > good.yaml
printf 'email,name\nok@example.com,Okay Reader\n' > ok.csv

# pad N: N bytes of 'x' (no line end)
pad() {
	/usr/bin/python3 -c 'import sys; sys.stdout.write("x" * int(sys.argv[1]))' "$1"
}

# --- issue file: 16 MiB = 16777216 bytes ------------------------------------
# A YAML comment fills the file up to the size wanted.
issue_of_size() {	# issue_of_size BYTES > FILE
	base
	n=$(( $1 - $(base | wc -c) - 2 ))
	printf '#'
	pad "$n"
	printf '\n'
}
issue_of_size 16777216 > at-limit.yaml
check_exit "an issue of exactly 16 MiB is accepted" 0 "$NLSEND" --check at-limit.yaml
issue_of_size 16777217 > over.yaml
check_exit "an issue one byte over 16 MiB" 65 "$NLSEND" --check over.yaml
check_grep "the issue limit is named" "^nlsend: over.yaml: .*16 MiB limit" err

# --- list row: 65536 bytes, without its line end -----------------------------
row_of_size() {		# row_of_size ADDR BYTES: "ADDR,Name,<pad>" of BYTES
	printf '%s,Name,' "$1"
	pad $(( $2 - ${#1} - 6 ))
	printf '\n'
}
{ printf 'email,name,pad\n'; row_of_size at@example.com 65536; } > at.csv
check_exit "a CSV row of exactly 65536 bytes is read" 0 \
	"$NLSEND" good.yaml --list at.csv --dry-run at.mbox
check_grep "and its recipient gets the issue" "^To: Name <at@example.com>" at.mbox

{ printf 'email,name,pad\n'; row_of_size long@example.com 65537;
  printf 'next@example.com,Next,\n'; } > long.csv
check_exit "a CSV row over 64 KiB is skipped, the rest is sent" 0 \
	"$NLSEND" good.yaml --list long.csv --dry-run long.mbox
check_grep "the skipped row is reported with the limit" \
	"^nlsend: long.csv:2: row longer than 65536 bytes" err
check_grep "the next row is read after it" "^To: Next <next@example.com>" long.mbox
check_nogrep "the long row got no message" "long@example.com" long.mbox

{ printf 'email,name,pad\n'; row_of_size only@example.com 70000; } > only.csv
check_exit "a CSV whose only row is over 64 KiB" 65 \
	"$NLSEND" good.yaml --list only.csv --dry-run only.mbox
check_grep "that row is reported" "^nlsend: only.csv:2: row longer than 65536 bytes" err
check_grep "and the run ends with no valid recipient" "no valid recipient" err

# A quoted field spanning lines counts as one record.
{ printf 'email,name\n"quoted@example.com","'; pad 40000; printf '\n'; pad 40000;
  printf '"\nafter@example.com,After\n'; } > quoted.csv
check_exit "a quoted multi-line record over 64 KiB" 0 \
	"$NLSEND" good.yaml --list quoted.csv --dry-run quoted.mbox
check_grep "is one skipped record at the line it starts" \
	"^nlsend: quoted.csv:2: row longer than 65536 bytes" err
check_grep "reading resumes after its closing quote" "^To: After <after@example.com>" quoted.mbox

{ printf 'txt@example.com '; pad 70000; printf '\n'; } > only.txt
check_exit "a txt list whose only line is over 64 KiB" 65 \
	"$NLSEND" good.yaml --list only.txt --dry-run txt.mbox
check_grep "the txt line is reported with the limit" \
	"^nlsend: only.txt:1: row longer than 65536 bytes" err

# --- template: 1 MiB = 1048576 bytes, via `template: DIR` --------------------
tpl_issue() {	# tpl_issue DIR: good.yaml with template: DIR
	base
	printf 'template: ./%s\n' "$1"
}
mkdir tpl-at tpl-over tpl-partial
{ printf '<p>{{subject}}</p>'; pad $((1048576 - 18)); } > tpl-at/html.mustache
printf '{{subject}}\n' > tpl-at/text.mustache
tpl_issue tpl-at > tpl-at.yaml
check_exit "a template of exactly 1 MiB is accepted" 0 \
	"$NLSEND" tpl-at.yaml --list ok.csv --dry-run tpl-at.mbox

{ printf '<p>{{subject}}</p>'; pad $((1048577 - 18)); } > tpl-over/html.mustache
printf '{{subject}}\n' > tpl-over/text.mustache
tpl_issue tpl-over > tpl-over.yaml
check_exit "a template one byte over 1 MiB" 65 \
	"$NLSEND" tpl-over.yaml --list ok.csv --dry-run tpl-over.mbox
check_grep "the template limit is named" \
	"^nlsend: .*tpl-over/html.mustache: template larger than 1048576 bytes" err

# A partial is a template too.
printf '<p>{{subject}}</p>{{>big}}\n' > tpl-partial/html.mustache
printf '{{subject}}\n' > tpl-partial/text.mustache
pad 1048577 > tpl-partial/big.mustache
tpl_issue tpl-partial > tpl-partial.yaml
check_exit "a partial over 1 MiB" 65 \
	"$NLSEND" tpl-partial.yaml --list ok.csv --dry-run tpl-partial.mbox
check_grep "the partial's limit is named" \
	"^nlsend: .*tpl-partial/big.mustache: template larger than 1048576 bytes" err

# --- embedded image: 5 MiB = 5242880 bytes -----------------------------------
img_issue() {	# img_issue FILE: good.yaml with an image on its section
	base
	printf '    image:\n      src: %s\n      alt: A picture\n' "$1"
}
png_of_size() {	# a PNG signature, then zeros up to BYTES
	printf '\211PNG\r\n\032\n'
	head -c $(( $1 - 8 )) /dev/zero
}
mkdir images
png_of_size 5242880 > images/at.png
img_issue images/at.png > img-at.yaml
check_exit "an image of exactly 5 MiB is embedded" 0 \
	"$NLSEND" img-at.yaml --list ok.csv --dry-run img-at.mbox
check_grep "as an inline part" "^Content-Type: image/png" img-at.mbox

png_of_size 5242881 > images/over.png
img_issue images/over.png > img-over.yaml
check_exit "an image one byte over 5 MiB" 65 \
	"$NLSEND" img-over.yaml --list ok.csv --dry-run img-over.mbox
check_grep "the image limit is named" \
	"^nlsend: .*images/over.png: image larger than 5242880 bytes" err

done_testing
