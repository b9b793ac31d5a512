#!/bin/sh
# The dry-run mbox opens in a real mail reader: mutt, driven through tmux
# (issue 3).  The index lists the six messages; a message shows its text
# part; the attachment view shows the piano image as image/png.
. "$NLSEND_TOP/tests/lib/tap.sh"
command -v mutt >/dev/null || skip_all "mutt is not installed (tools/install-deps)"
command -v tmux >/dev/null || skip_all "tmux is not installed (tools/install-deps)"

"$NLSEND" "$AXIOS" --list "$CORPUS/subscribers.csv" --dry-run out.mbox 2>err
ok $? "dry run"
sock="$TMP/tmux.sock"
mkdir -p "$HOME/Mail"
: > muttrc
echo 'set sort=mailbox-order' >> muttrc
echo 'set charset=utf-8' >> muttrc
# No DNS look-up for our own name (this machine has no network).
echo 'set hostname=localhost.localdomain' >> muttrc
cap() {	# wait until the pane shows $1 (up to 30 s), then save it to $2
	i=0
	while [ $i -lt 150 ]; do
		tmux -S "$sock" capture-pane -p -t t > "$2" 2>/dev/null || return 1
		grep -q -- "$1" "$2" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
LANG=C.UTF-8 tmux -S "$sock" new-session -d -s t -x 160 -y 40 \
	"TERM=xterm LANG=C.UTF-8 timeout --foreground 60 mutt -n -R -F muttrc -f out.mbox"
cap "Axios China" index.txt
n=$(grep -c "Axios China: A democratic tech alliance" index.txt)
[ "$n" -eq 6 ]; ok $? "mutt's index lists six messages ($n)"
sed 's/^/#   | /' index.txt | head -12
tmux -S "$sock" send-keys -t t Enter
cap "This newsletter is" pager.txt
ok $? "the first message opens on its text part"
check_grep "the pager shows the metadata line" "This newsletter is 1,513 words, a 6-minute read" pager.txt
check_grep "the pager decodes the greeting" "Hi Ada Lovelace," pager.txt
tmux -S "$sock" send-keys -t t v
cap "image/png" attach.txt
ok $? "the attachment view lists the piano image as image/png"
sed 's/^/#   | /' attach.txt | grep -E "text/|image/|multipart" | head -8
tmux -S "$sock" kill-server 2>/dev/null
done_testing
