#!/bin/sh
# Images (embedded, linked under image_base_url, --embed-images, missing),
# list names resolved through --lists-dir, the config and ./lists, and
# extra list columns in templates.
. "$NLSEND_TOP/tests/lib/tap.sh"

mkdir -p work/images lists other
cp "$DATA/newsletter/images/lighthouse.png" work/images/p.png
cat > work/issue.yaml <<'YAML'
newsletter: Picture Weekly
date: 2026-01-02
from: "Picture Weekly <pics@example.org>"
sections:
  - title: "A picture"
    image:
      src: "images/p.png"
      alt: "A lighthouse"
      credit: "Photo: somebody"
    body: |
      Hello {{subscriber.name}}, this is not a template: braces stay.
YAML
printf 'email,name,city\nann@example.org,Ann,Oslo\nbo@example.org,Bo,Bergen\n' > lists/readers.csv
printf 'cy@example.org\n' > other/readers.txt

mime_of() {	# mime_of MBOX: the content types of the first message, in order
	/usr/bin/python3 -c '
import mailbox, sys
m = next(iter(mailbox.mbox(sys.argv[1], create=False)))
print(" ".join(p.get_content_type() for p in m.walk()))' "$1"
}

check_exit "embedded by default" 0 "$NLSEND" work/issue.yaml --list readers --dry-run a.mbox
is_types=$(mime_of a.mbox)
[ "$is_types" = "multipart/alternative text/plain multipart/related text/html image/png" ]
ok $? "multipart/related with the image ($is_types)"
check_grep "the list name resolved through ./lists" "^To: Ann <ann@example.org>" a.mbox

printf 'image_base_url: "https://cdn.example.org/nl/"\n' > linked.yaml
check_exit "linked under image_base_url" 0 "$NLSEND" work/issue.yaml --list readers --dry-run b.mbox --config linked.yaml
is_types=$(mime_of b.mbox)
[ "$is_types" = "multipart/alternative text/plain text/html" ]; ok $? "no image part ($is_types)"
/usr/bin/python3 -c '
import mailbox, sys
m = next(iter(mailbox.mbox(sys.argv[1], create=False)))
html = [p for p in m.walk() if p.get_content_type() == "text/html"][0].get_payload(decode=True).decode()
sys.exit(0 if "src=\"https://cdn.example.org/nl/images/p.png\"" in html else 1)' b.mbox
ok $? "the HTML links image_base_url + path"
check_exit "--embed-images embeds anyway" 0 "$NLSEND" work/issue.yaml --list readers --dry-run c.mbox --config linked.yaml --embed-images
is_types=$(mime_of c.mbox)
[ "$is_types" = "multipart/alternative text/plain multipart/related text/html image/png" ]; ok $? "embedded ($is_types)"

sed 's|images/p.png|images/gone.png|' work/issue.yaml > work/gone.yaml
check_exit "a missing local image" 66 "$NLSEND" work/gone.yaml --list readers --dry-run d.mbox
check_grep "names the section and the path" "^nlsend: work/gone.yaml:[0-9]+:[0-9]+: section 1: image images/gone.png" err
echo "not a picture" > work/images/fake.png
sed 's|images/p.png|images/fake.png|' work/issue.yaml > work/fake.yaml
check_exit "a file that is not an image" 65 "$NLSEND" work/fake.yaml --list readers --dry-run d.mbox
check_grep "says so" "section 1: image images/fake.png is not PNG, JPEG, GIF or WebP" err

check_exit "--lists-dir wins over ./lists" 0 "$NLSEND" work/issue.yaml --list readers --lists-dir other --dry-run e.mbox
check_grep "the txt list of the other directory" "^To: cy@example.org" e.mbox
printf 'lists_dir: %s/other\n' "$TMP" > ld.yaml
check_exit "the config's lists_dir" 0 "$NLSEND" work/issue.yaml --list readers --config ld.yaml --dry-run f.mbox
check_grep "resolved through the config" "^To: cy@example.org" f.mbox
check_exit "an unknown list name" 66 "$NLSEND" work/issue.yaml --list nobody --dry-run g.mbox
check_grep "names where it looked" "nobody" err
check_exit "two lists merged" 0 "$NLSEND" work/issue.yaml --list readers --list other/readers.txt --dry-run h.mbox
[ "$(grep -c '^From ' h.mbox)" -eq 3 ]; ok $? "three recipients from two lists"

# Extra columns reach templates; braces in the issue's own text do not
# become template tags (markdown is data, not a template).
mkdir -p work/tpl
printf '<p>{{subscriber.name}} in {{subscriber.city}}: {{{sections.0.body_html}}}</p>\n' > work/tpl/html.mustache
printf '{{#subscriber.city}}City: {{subscriber.city}}{{/subscriber.city}}\n{{#sections}}{{body_text}}{{/sections}}Unsub: {{unsubscribe_url}}\n' > work/tpl/text.mustache
sed 's|^sections:|template: tpl\nsections:|' work/issue.yaml > work/t.yaml
check_exit "a template using an extra column" 0 "$NLSEND" work/t.yaml --list readers --dry-run i.mbox
/usr/bin/python3 - i.mbox <<'PY' > parts.txt
import mailbox, sys
for m in mailbox.mbox(sys.argv[1], create=False):
    for p in m.walk():
        if p.get_content_maintype() == "text":
            print(p.get_payload(decode=True).decode())
PY
check_grep "the city column in the text part" "^City: Oslo$" parts.txt
check_grep "and in the HTML part" "Bo in Bergen" parts.txt
check_grep "braces in the body stay as written" "Hello \{\{subscriber.name\}\}, this is not a template" parts.txt
check_grep "each recipient's unsubscribe URL" "^Unsub: mailto:pics@example.org\?subject=unsubscribe%20" parts.txt
done_testing
