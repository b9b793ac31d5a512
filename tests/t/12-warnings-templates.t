#!/bin/sh
# --check warns where mail clients let the reader down, and template sets
# come from `template:` or the config's template_dir.
. "$NLSEND_TOP/tests/lib/tap.sh"

long="This subject line goes on and on well past what any mail client shows in a list"
cat > warn.yaml <<YAML
newsletter: Test Weekly
date: 2026-01-02
from: "Test Weekly <test@example.org>"
subject: "$long"
sections:
  - title: "First"
    image:
      src: "https://img.example.org/a.png"
    body: |
      A [relative link](page.html) and ![](https://img.example.org/b.png).
YAML
check_exit "--check with problems still exits 0" 0 "$NLSEND" --check warn.yaml
check_grep "subject over 78 characters" "^warning: subject is [0-9]+ characters" out
check_grep "section image without alt" "^warning: section 1: image without alt text" out
check_grep "inline image without alt" "^warning: image without alt text: https://img.example.org/b.png" out
check_grep "link without a scheme" "^warning: link without a scheme: page.html" out

# An HTML part over 102 KB: Gmail clips it.
{ sed '/^sections:/,$d' warn.yaml | sed 's/^subject: .*/subject: "Short"/'
  echo "sections:"
  echo "  - title: Big"
  echo "    body: |"
  i=0; while [ $i -lt 1500 ]; do
	echo "      Paragraph $i with enough words to fill the page with text, like a long read."
	echo
	i=$((i + 1)); done; } > big.yaml
check_exit "--check of a long issue" 0 "$NLSEND" --check big.yaml
check_grep "HTML over 102 KB" "^warning: the HTML part is [0-9]+ bytes: Gmail clips" out
check_nogrep "no subject warning for a short subject" "^warning: subject" out

printf 'unsubscribe_url: "https://example.org/u?t={{token}}"\n' > cfg.yaml
cat > clean.yaml <<'YAML'
newsletter: Test Weekly
date: 2026-01-02
from: "Test Weekly <test@example.org>"
sections:
  - title: "First"
    body: |
      A [good link](https://example.org/) only.
YAML
check_exit "--check of a clean issue with an https unsubscribe URL" 0 \
	"$NLSEND" --check clean.yaml --config cfg.yaml
check_nogrep "a clean issue has no warnings" "^warning:" out

# Template directories: `template:` relative to the issue, and the config.
mkdir -p tpl/mine conf-tpl
printf '<p>{{newsletter}} for {{subscriber.email}}</p>{{> footer}}\n' > tpl/mine/html.mustache
printf '<i>{{unsubscribe_url}}</i>\n' > tpl/mine/footer.mustache
printf 'TEXT {{newsletter}} {{meta_line}}\n' > tpl/mine/text.mustache
sed 's|^sections:|template: tpl/mine\nsections:|' clean.yaml > custom.yaml
check_exit "preview with template: DIR" 0 "$NLSEND" --preview custom.yaml --html c.html --text c.txt
check_grep "the custom HTML template and its partial" "^<p>Test Weekly for reader@example.com</p><i>mailto:" c.html
check_grep "the custom text template" "^TEXT Test Weekly This newsletter is 5 words, a 1-minute read.$" c.txt
printf '{{newsletter}} from the config dir\n' > conf-tpl/html.mustache
printf 'text\n' > conf-tpl/text.mustache
printf 'template_dir: %s/conf-tpl\n' "$TMP" > tcfg.yaml
check_exit "preview with the config's template_dir" 0 "$NLSEND" --preview clean.yaml --html d.html --config tcfg.yaml
check_grep "the config's template is used" "^Test Weekly from the config dir$" d.html
sed 's|^sections:|template: tpl/missing\nsections:|' clean.yaml > missing.yaml
check_exit "a named template directory that does not exist" 66 "$NLSEND" --preview missing.yaml --html e.html
printf '{{#sections}}unclosed\n' > tpl/mine/html.mustache
check_exit "a template with a syntax error" 65 "$NLSEND" --preview custom.yaml --html f.html
check_grep "template errors name file, line and column" "^nlsend: .*tpl/mine/html.mustache:1:[0-9]+: " err
done_testing
