#!/bin/sh
# The dry-run mbox opens in a real mail reader: mutt, driven through tmux.
# The index lists the six messages; a message shows its text part; the
# attachment view shows the local image as image/png.  The test issue and
# list always, the corpus issue and list when $NLSEND_CORPUS (or
# ../shared/corpus) is there.
. "$NLSEND_TOP/tests/lib/tap.sh"
command -v mutt >/dev/null || skip_all "mutt is not installed (tools/install-deps)"
command -v tmux >/dev/null || skip_all "tmux is not installed (tools/install-deps)"

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

# reads NAME ISSUE LIST NEWSLETTER SUBJECT META GREETING
reads() {
	lbl=$1 nl=$4 subj=$5 meta=$6 greeting=$7
	"$NLSEND" "$2" --list "$3" --dry-run "$lbl.mbox" 2>err
	ok $? "$lbl: dry run"
	LANG=C.UTF-8 tmux -S "$sock" new-session -d -s t -x 160 -y 40 \
		"TERM=xterm LANG=C.UTF-8 timeout --foreground 60 mutt -n -R -F muttrc -f $lbl.mbox"
	cap "$nl" index.txt
	n=$(grep -c -- "$subj" index.txt)
	[ "$n" -eq 6 ]; ok $? "$lbl: mutt's index lists six messages ($n)"
	sed 's/^/#   | /' index.txt | head -12
	tmux -S "$sock" send-keys -t t Enter
	cap "This newsletter is" pager.txt
	ok $? "$lbl: the first message opens on its text part"
	check_grep "$lbl: the pager shows the metadata line" "$meta" pager.txt
	check_grep "$lbl: the pager decodes the greeting" "$greeting" pager.txt
	tmux -S "$sock" send-keys -t t v
	cap "image/png" attach.txt
	ok $? "$lbl: the attachment view lists the local image as image/png"
	sed 's/^/#   | /' attach.txt | grep -E "text/|image/|multipart" | head -8
	tmux -S "$sock" kill-server 2>/dev/null
}

reads test "$ISSUE" "$LISTS/subscribers.csv" "Meridian Weekly" \
	"Meridian Weekly: Trams on sunlight" \
	"This newsletter is 1,380 words, a 6-minute read" "Hi Ingrid Solberg,"
if [ -n "$CORPUS" ]; then
	reads corpus "$AXIOS" "$CORPUS/subscribers.csv" "Axios China" \
		"Axios China: A democratic tech alliance" \
		"This newsletter is 1,513 words, a 6-minute read" "Hi Ada Lovelace,"
else
	skip "$NO_CORPUS: the corpus issue not read in mutt"
fi
done_testing
