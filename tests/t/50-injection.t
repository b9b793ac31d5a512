#!/bin/sh
# Header injection is impossible from any input: CR or LF
# in every header-bound YAML key is an error naming the key; in a list
# column the row is skipped; no message ever gains an injected header.
. "$NLSEND_TOP/tests/lib/tap.sh"

issue() {	# issue KEY VALUE: a valid issue with KEY set to VALUE
	cat <<YAML
newsletter: ${N:-Test Weekly}
date: 2026-01-02
from: ${F:-"Test Weekly <test@example.org>"}
${S-subject: \"A plain subject\"}
sections:
  - title: ${T:-"First story"}
    body: |
      Hello {{subscriber.name}}, some words here.
YAML
	if [ -n "${1:-}" ]; then printf '%s: %s\n' "$1" "$2"; fi
}
printf 'email,name,city\nok@example.com,Okay Reader,Oslo\n' > ok.csv
inj='"x\r\nX-Injected: yes"'
for key in preheader author reply_to id; do
	issue "$key" "$inj" > "i-$key.yaml"
	check_exit "CR LF in $key" 65 "$NLSEND" "i-$key.yaml" --list ok.csv --dry-run "o-$key.mbox"
	check_grep "$key named with its line" "^nlsend: i-$key.yaml:[0-9]+:[0-9]+: .*$key" err
done
N="$inj" issue > i-newsletter.yaml
check_exit "CR LF in newsletter" 65 "$NLSEND" i-newsletter.yaml --list ok.csv --dry-run o.mbox
check_grep "newsletter named" "^nlsend: i-newsletter.yaml:1:[0-9]+: .*newsletter" err
F='"Test <t@example.org>\nX-Injected: yes"' issue > i-from.yaml
check_exit "LF in from" 65 "$NLSEND" i-from.yaml --list ok.csv --dry-run o.mbox
T="$inj" S="" issue > i-title.yaml
check_exit "CR LF in the first title, which becomes the default subject" 65 \
	"$NLSEND" i-title.yaml --list ok.csv --dry-run o.mbox
check_grep "title named" "^nlsend: i-title.yaml:[0-9]+:[0-9]+: .*title" err
S='subject: "bad\0nul"' issue > i-nul.yaml
check_exit "NUL in subject" 65 "$NLSEND" i-nul.yaml --list ok.csv --dry-run o.mbox
check_nogrep "nothing was written for bad issues" "." o.mbox 2>/dev/null

# The config is header-bound too (from, list_id, return_path).
issue > good.yaml
printf 'list_id: "x.example.org\\r\\nX-Injected: yes"\n' > bad-cfg.yaml
"$NLSEND" good.yaml --list ok.csv --dry-run cfg.mbox --config bad-cfg.yaml >out 2>err
st=$?
[ "$st" -ne 0 ] && ! grep -q '^X-Injected' cfg.mbox 2>/dev/null
ok $? "CR LF in the config's list_id is refused (exit $st)"

# List columns: email and name are header-bound; a row holding CR/LF is
# skipped and reported, the rest is sent.
printf 'email,name,city\r\nfine@example.com,Fine Reader,Oslo\r\n"evil@example.com","Eve\r\nX-Injected: yes",Oslo\r\n"evil2@example.com\r\nX-Injected: yes",Eve,Oslo\r\nlast@example.com,Last,"Two\r\nLines"\r\n' > l.csv
printf 'fine@example.com\nEve\rX-Injected: yes <evil3@example.com>\n' > l.txt
check_exit "lists with CR/LF in columns" 0 "$NLSEND" good.yaml --list l.csv --list l.txt --dry-run l.mbox
check_grep "name with a line break reported" "l.csv:3: " err
check_grep "email with a line break reported" "l.csv:5: " err
check_grep "txt row with a CR reported" "l.txt:2: " err
check_nogrep "no injected header in any message" "^X-Injected" l.mbox
check_grep "fine was sent" "^To: Fine Reader <fine@example.com>" l.mbox
check_grep "last was sent" "^To: Last <last@example.com>" l.mbox
check_nogrep "evil and evil2 were not" "^To: .*evil2?@example.com" l.mbox
done_testing
