#!/usr/bin/env bash
# Renders report pages in headless Chromium as a person would see them, in Japanese and
# English, on screen (PNG) and printed (PDF, and its pages as PNG), then the broker pages
# (sign-in, dashboard, a client's history) on screen, and fails when a page cannot be
# loaded or shown.
#
# Usage: scripts/browser-check.sh            (from anywhere; works in the repository root)
#   OUT_DIR=target/browser-check   where the screenshots, PDFs and pages' HTML go
#
# What it does:
#   - installs chromium, fonts-noto-cjk and poppler-utils with apt-get when missing (as root);
#   - builds the release binary and starts it on a free 127.0.0.1 port with a temporary data
#     directory and a temporary questionnaires folder (questionnaires/*.toml, the 3-domain
#     tests/fixtures/small/fixture-1.toml and the 16-domain tests/fixtures/wide/wide-16.toml);
#   - submits one complete assessment per questionnaire through the JSON API (the company name
#     carries `<script>alert(1)</script> & "quotes"`), plus 12 other companies for
#     it-liability, then publishes a peer snapshot through the admin API, so that the report
#     has peer figures (a report compares with snapshots only, and needs 10 companies other
#     than its own); it fails when the it-liability report's JSON then has no `peers`;
#   - submits the longest it-liability report too (every answer the weakest option and every
#     profile value a finding names), which must print on at most 3 A4 pages, as every
#     it-liability report must;
#   - for each report and each of ja, en: fetches the HTML with curl, takes a 1280x2400
#     screenshot and prints it to PDF with Chromium, and turns the PDF's pages into PNGs;
#   - creates a broker through the admin API, invites the same client twice (both submitted)
#     and attaches the peers' reports, signs in, and for each broker page and language
#     fetches the HTML with the session cookie and screenshots it (Chromium renders the
#     fetched file, as it cannot sign in itself; the stylesheet still comes from the server).
#
# It exits 1, naming the URL, when: the page is not a 200 HTML page in the asked language;
# the HTML carries the company name's script unescaped; a stylesheet or image it names, or a
# link on it to this server (downloads, language switch), does not answer 200; Chromium exits
# non-zero, times out, reports "Page load failed" or a blocked (Content-Security-Policy)
# resource; the PNG or PDF is missing or under 5 KB; the PDF has no page; or the printed text
# lacks a domain's label or the company name.
# Talks only to the server it starts on 127.0.0.1, which it stops on exit; every step is
# bounded in time.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
START_SECONDS=$SECONDS

OUT_DIR="${OUT_DIR:-target/browser-check}"
CHROMIUM_TIMEOUT=90
MIN_BYTES=5120
LANGS=(ja en)
QUESTIONNAIRES=(it-liability fixture wide-sixteen)
# The shipped questionnaire answered as weakly as it can be, with every profile finding.
WEAKEST=it-liability-weakest
# The weakest report of the frozen 2026.1, still shipped for its assessments.
PREVIOUS_VERSION=it-liability-2026.1-weakest
# A printed report of the shipped questionnaire takes at most this many A4 pages.
MAX_PRINTED_PAGES=3
# Other companies for it-liability: a report shows peers with 10 companies besides its own.
PEERS=12

log() { echo "browser-check: $*" >&2; }
fail() {
    log "FAIL: $*"
    exit 1
}

# --- what it needs ---------------------------------------------------------------------------
# shellcheck source=scripts/lib/browser-deps.sh
. scripts/lib/browser-deps.sh
ensure_browser_deps

# --- the server ------------------------------------------------------------------------------
# shellcheck source=scripts/lib/server.sh
. scripts/lib/server.sh
mkdir "$WORK/questionnaires"
cp questionnaires/*.toml tests/fixtures/small/fixture-1.toml tests/fixtures/wide/wide-16.toml \
    "$WORK/questionnaires/"
ADMIN_TOKEN="browser-check-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
SERVER_ARGS=(--admin-token "$ADMIN_TOKEN")
start_server "$WORK/questionnaires" 30

# --- assessments -----------------------------------------------------------------------------
COMPANY='株式会社テスト商事<script>alert(1)</script> & "quotes"'
export COMPANY

# body.py QUESTIONNAIRE_JSON VARIANT: a complete, submitted assessment body on stdout.
cat >"$WORK/body.py" <<'EOF'
import json, os, sys

q = json.load(open(sys.argv[1]))
# "weakest": every answer the lowest-scoring option and every profile value a finding
# names, so that every finding that can fire does: the longest report.
weakest = sys.argv[2] == "weakest"
variant = 0 if weakest else int(sys.argv[2])
company = os.environ["COMPANY"] if variant == 0 else f"株式会社ピア比較{variant}"
values = {"text": company, "number": 30, "date": "2027-04-01"}
profile = {}
for field in q.get("profile") or []:
    kind = field["kind"]
    if kind == "select":
        profile[field["id"]] = field["options"][0]["id"]
    elif kind == "multiselect":
        profile[field["id"]] = [field["options"][0]["id"]]
    else:
        profile[field["id"]] = values[kind]
if weakest:
    # Per profile value a finding names, how much note text it fires: a select takes its
    # value with the most, a multiselect every value a finding names.
    text = {}
    for finding in q.get("findings") or []:
        for cond in finding["when"].get("any", [finding["when"]]):
            if "profile" in cond:
                for value in cond["in"]:
                    key = (cond["profile"], value)
                    text[key] = text.get(key, 0) + len(finding["text"]["en"])
    kinds = {f["id"]: f["kind"] for f in q.get("profile") or []}
    best = {}
    for (field, value), length in text.items():
        if kinds[field] == "multiselect":
            profile[field] = [v for v in profile[field] if (field, v) in text] + [value]
        elif length > best.get(field, -1):
            best[field] = length
            profile[field] = value
    answers = {
        question["id"]: min(question["options"], key=lambda o: o["score"])["id"]
        for question in q["questions"]
    }
    json.dump(
        {"questionnaire": q["id"], "version": q["version"], "submit": True,
         "profile": profile, "answers": answers},
        sys.stdout,
        ensure_ascii=False,
    )
    sys.exit(0)
answers = {}
na_left = 1
for i, question in enumerate(q["questions"]):
    options = question["options"]
    if question.get("allow_na") and na_left and (variant == 0 or i % (variant + 1) == 0):
        answers[question["id"]] = "na"
        na_left -= 1
        continue
    answers[question["id"]] = options[(i * 7 // 3 + variant * (i + 1)) % len(options)]["id"]
json.dump(
    {"questionnaire": q["id"], "submit": True, "profile": profile, "answers": answers},
    sys.stdout,
    ensure_ascii=False,
)
EOF

# submit ID VARIANT: prints the report token.
submit() {
    local id=$1 variant=$2 status
    python3 "$WORK/body.py" "$WORK/q-$id.json" "$variant" >"$WORK/body-$id-$variant.json"
    status="$(curl -sS --max-time 10 -o "$WORK/created-$id-$variant.json" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary "@$WORK/body-$id-$variant.json" \
        "$BASE/api/v1/assessments")" || fail "POST $BASE/api/v1/assessments ($id) did not answer"
    if [ "$status" != 201 ]; then
        log "POST $BASE/api/v1/assessments ($id, variant $variant) answered $status, expected 201:"
        cat "$WORK/created-$id-$variant.json" >&2
        echo >&2
        exit 1
    fi
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["report_token"])' \
        "$WORK/created-$id-$variant.json"
}

declare -A TOKEN
for id in "${QUESTIONNAIRES[@]}"; do
    curl -fsS --max-time 10 -o "$WORK/q-$id.json" "$BASE/api/v1/questionnaires/$id" ||
        fail "GET $BASE/api/v1/questionnaires/$id failed"
    if [ "$id" = it-liability ]; then
        # Other companies first, so that the report has peers to be compared with.
        for variant in $(seq 1 "$PEERS"); do
            submit "$id" "$variant" >/dev/null
        done
    fi
    TOKEN[$id]="$(submit "$id" 0)"
done
# The longest report the shipped questionnaire can give: it must still print on
# $MAX_PRINTED_PAGES pages.
cp "$WORK/q-it-liability.json" "$WORK/q-$WEAKEST.json"
TOKEN[$WEAKEST]="$(submit "$WEAKEST" weakest)"
# The frozen first version, whose reports print with today's layout too.
curl -fsS --max-time 10 -o "$WORK/q-$PREVIOUS_VERSION.json" \
    "$BASE/api/v1/questionnaires/it-liability?version=2026.1" ||
    fail "GET the it-liability 2026.1 questionnaire failed"
TOKEN[$PREVIOUS_VERSION]="$(submit "$PREVIOUS_VERSION" weakest)"
QUESTIONNAIRES+=("$WEAKEST" "$PREVIOUS_VERSION")
log "submitted ${#QUESTIONNAIRES[@]} assessments (+$PEERS it-liability peers)"

# Publish the peer figures: reports show only what a snapshot holds.
status="$(curl -sS --max-time 30 -o "$WORK/snapshot.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN_TOKEN" \
    --data-binary '{}' "$BASE/api/v1/admin/peer-snapshots")" ||
    fail "POST $BASE/api/v1/admin/peer-snapshots did not answer"
[ "$status" = 201 ] || { cat "$WORK/snapshot.json" >&2; fail "the peer snapshot answered $status, expected 201"; }
curl -fsS --max-time 10 -o "$WORK/report-it-liability.json" \
    "$BASE/api/v1/reports/${TOKEN[it-liability]}" || fail "GET the it-liability report's JSON failed"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["peers"] is None)' \
    "$WORK/report-it-liability.json" || fail "the it-liability report shows no peers after the snapshot"
log "published a peer snapshot: $(cat "$WORK/snapshot.json")"

# --- rendering -------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
# Clear the outputs of an earlier run, only in a folder this script made.
if [ -f "$OUT_DIR/.browser-check" ]; then
    find "$OUT_DIR" -maxdepth 1 -type f \( -name '*.png' -o -name '*.pdf' -o -name '*.html' \
        -o -name '*.txt' \) -delete
fi
touch "$OUT_DIR/.browser-check"

# resources.py HTML URL: the page's stylesheets and images ("RESOURCE url", "EXTERNAL url") and
# the links on this server a reader may follow ("LINK url"), each checked for a 200 below.
cat >"$WORK/resources.py" <<'EOF'
import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

path, url = sys.argv[1], sys.argv[2]

class Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        rel = (a.get("rel") or "").lower().split()
        if tag == "link" and a.get("href") and ("stylesheet" in rel or "icon" in rel):
            self.found.append(a["href"])
        elif tag in ("img", "embed", "source") and a.get("src"):
            self.found.append(a["src"])
        elif tag == "object" and a.get("data"):
            self.found.append(a["data"])
        elif tag == "a" and a.get("href") and not a["href"].startswith(("#", "mailto:")):
            self.links.append(a["href"])

    handle_startendtag = handle_starttag

p = Resources()
p.feed(open(path, encoding="utf-8").read())
host = urlsplit(url).netloc
for ref in dict.fromkeys(p.found):
    full = urljoin(url, ref)
    if full.startswith("data:"):
        continue
    if urlsplit(full).netloc != host:
        print(f"EXTERNAL {full}")
    else:
        print(f"RESOURCE {full}")
# Links a reader may follow (language switch, downloads): only those on this server.
for ref in dict.fromkeys(p.links):
    full = urljoin(url, ref)
    if urlsplit(full).netloc == host:
        print(f"LINK {full}")
EOF

# text_check.py PDF_TEXT QUESTIONNAIRE_JSON LANG PROFILE_HAS_COMPANY: what must be legible.
cat >"$WORK/text_check.py" <<'EOF'
import json, os, re, sys

text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
q = json.load(open(sys.argv[2]))
lang = sys.argv[3]
squash = lambda s: re.sub(r"\s+", "", s)
flat = squash(text)
problems = []
for d in q["domains"]:
    label = d["label"][lang]
    if squash(label) not in flat:
        problems.append(f"domain label not found in the printed page: {label!r}")
if sys.argv[4] == "1" and squash(os.environ["COMPANY"]) not in flat:
    problems.append(f"company name not shown as text: {os.environ['COMPANY']!r}")
# Japanese line breaking (kinsoku): no printed line starts with a long vowel mark, a comma,
# a full stop or a closing bracket.
if lang == "ja":
    for n, line in enumerate(text.split("\n"), 1):
        if line and line[0] in "ー、。，．」』）】〕":
            problems.append(f"line {n} of the printed text starts with {line[:1]!r}: {line[:30]!r}")
for p in problems:
    print(p)
# Notes (not failures): Japanese on an English page, other than the company name and the
# language switch.
if lang == "en":
    rest = flat.replace(squash(os.environ["COMPANY"]), "").replace("日本語", "")
    cjk = sorted(set(re.findall(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+", rest)))
    if cjk:
        print("NOTE Japanese text on the English page: " + ", ".join(cjk[:20]), file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

# chromium_run URL LOG ARGS...: runs headless Chromium with a fresh profile; fails on a
# non-zero exit, a time-out, a failed load or a blocked resource.
chromium_run() {
    local url=$1 clog=$2 profile rc=0
    shift 2
    profile="$(mktemp -d "$WORK/profile.XXXXXX")"
    timeout --kill-after=10 "$CHROMIUM_TIMEOUT" chromium \
        --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --enable-logging=stderr --v=0 \
        --user-data-dir="$profile" "$@" "$url" >"$clog" 2>&1 || rc=$?
    rm -rf "$profile"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        tail -n 20 "$clog" >&2
        fail "Chromium timed out after ${CHROMIUM_TIMEOUT} s on $url"
    elif [ "$rc" != 0 ]; then
        tail -n 20 "$clog" >&2
        fail "Chromium exited with status $rc on $url"
    fi
    if grep -q "Page load failed" "$clog"; then
        grep "Page load failed" "$clog" >&2
        fail "Chromium could not load $url"
    fi
    if grep -q "INFO:CONSOLE" "$clog"; then
        grep "INFO:CONSOLE" "$clog" >"$clog.console"
        if grep -qi "Content Security Policy\|Failed to load resource" "$clog.console"; then
            cat "$clog.console" >&2
            fail "Chromium blocked or could not load part of $url (see the console lines above)"
        fi
    fi
}

# fetch_html URL NAME LANG [CURL_ARGS...]: saves the page as served to $OUT_DIR/NAME.html and
# fails unless it is a 200 HTML page in LANG with the company name's script escaped, whose
# stylesheets, images and links on this server all answer 200 (fetched with CURL_ARGS too,
# e.g. a session cookie).
fetch_html() {
    local url=$1 name=$2 lang=$3 meta kind res code
    shift 3
    meta="$(curl -sS --max-time 10 "$@" -o "$OUT_DIR/$name.html" \
        -w '%{http_code} %{content_type}' "$url")" || fail "GET $url did not answer"
    case "$meta" in
        "200 text/html"*) ;;
        *) fail "GET $url answered '$meta', expected 200 text/html" ;;
    esac
    if grep -qF '<script>alert(1)</script>' "$OUT_DIR/$name.html"; then
        fail "the HTML of $url contains the company name's <script>alert(1)</script> unescaped"
    fi
    grep -qiE "<html[^>]* lang=\"?$lang\b" "$OUT_DIR/$name.html" ||
        fail "the HTML of $url does not declare <html lang=\"$lang\">"
    python3 "$WORK/resources.py" "$OUT_DIR/$name.html" "$url" >"$WORK/$name.resources"
    while read -r kind res; do
        [ "$kind" != EXTERNAL ] || fail "$url loads a resource from another host: $res"
        code="$(curl -sS --max-time 10 "$@" -o /dev/null -w '%{http_code}' "$res" || true)"
        [ "$code" = 200 ] || fail "on $url, the ${kind,,} $res answered '$code', expected 200"
    done <"$WORK/$name.resources"
}

# size_check FILE URL WHAT
size_check() {
    local file=$1 url=$2 what=$3 bytes
    [ -f "$file" ] || fail "Chromium wrote no $what for $url ($file missing)"
    bytes="$(wc -c <"$file")"
    [ "$bytes" -ge "$MIN_BYTES" ] ||
        fail "the $what of $url is $bytes bytes (< $MIN_BYTES): an empty or failed page ($file)"
}

SUMMARY=()
NOTES=()
for id in "${QUESTIONNAIRES[@]}"; do
    has_company="$(python3 -c 'import json, sys; print(int(any(f["id"] == "company_name" for f in json.load(open(sys.argv[1])).get("profile") or [])))' "$WORK/q-$id.json")"
    for lang in "${LANGS[@]}"; do
        url="$BASE/r/${TOKEN[$id]}?lang=$lang"
        name="$id-$lang"
        log "rendering $id ($lang)"

        fetch_html "$url" "$name" "$lang"

        # On screen.
        chromium_run "$url" "$WORK/$name.screen.log" \
            --screenshot="$OUT_DIR/$name.png" --window-size=1280,2400 --hide-scrollbars
        size_check "$OUT_DIR/$name.png" "$url" "screenshot"

        # Printed.
        chromium_run "$url" "$WORK/$name.print.log" \
            --print-to-pdf="$OUT_DIR/$name.pdf" --no-pdf-header-footer
        size_check "$OUT_DIR/$name.pdf" "$url" "PDF"
        pdfinfo "$OUT_DIR/$name.pdf" >"$WORK/$name.pdfinfo" 2>&1 ||
            { cat "$WORK/$name.pdfinfo" >&2; fail "pdfinfo cannot read the PDF of $url"; }
        pages="$(awk '/^Pages:/ {print $2}' "$WORK/$name.pdfinfo")"
        [ "${pages:-0}" -gt 0 ] || fail "the PDF of $url has no page"
        if [[ "$id" == it-liability* ]] && [ "$pages" -gt "$MAX_PRINTED_PAGES" ]; then
            fail "the printed $id report ($lang) takes $pages pages, more than $MAX_PRINTED_PAGES"
        fi
        page_size="$(sed -n 's/^Page size: *//p' "$WORK/$name.pdfinfo" | head -n 1)"
        timeout 60 pdftoppm -png -r 80 "$OUT_DIR/$name.pdf" "$OUT_DIR/$name-print" ||
            fail "pdftoppm could not turn the PDF of $url into pages"
        timeout 60 pdftotext -enc UTF-8 "$OUT_DIR/$name.pdf" "$OUT_DIR/$name.pdf.txt" ||
            fail "pdftotext could not read the PDF of $url"
        if ! python3 "$WORK/text_check.py" "$OUT_DIR/$name.pdf.txt" "$WORK/q-$id.json" "$lang" \
            "$has_company" >"$WORK/$name.problems" 2>"$WORK/$name.notes"; then
            cat "$WORK/$name.problems" "$WORK/$name.notes" >&2
            fail "the printed $url is missing text a reader needs (text in $OUT_DIR/$name.pdf.txt)"
        fi
        if [ -s "$WORK/$name.notes" ]; then
            NOTES+=("$id $lang: $(sed 's/^NOTE //' "$WORK/$name.notes")")
        fi
        SUMMARY+=("$id $lang: $pages page$([ "$pages" = 1 ] || echo s) ($page_size)")
    done
done

# --- broker pages ----------------------------------------------------------------------------
# broker.py BASE ADMIN_TOKEN WORK: sets up a broker's portfolio; prints the session cookie
# and the path of the client's history page.
cat >"$WORK/broker.py" <<'EOF'
import json, os, sys, urllib.error, urllib.parse, urllib.request

base, admin, work = sys.argv[1:4]
company = os.environ["COMPANY"]

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None

opener = urllib.request.build_opener(NoRedirect)

def call(method, path, body=None, token=None, expect=(200, 201)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with opener.open(req, timeout=10) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        sys.exit(f"{method} {path} answered {status}: {text}")
    return json.loads(text) if text else None

broker = call("POST", "/api/v1/admin/brokers", {"name": "東京みらい保険代理店"}, admin)
token = broker["token"]
for variant in (2, 0):
    body = json.load(open(f"{work}/body-it-liability-{variant}.json"))
    invited = call("POST", "/api/v1/broker/invitations", {
        "questionnaire": "it-liability", "client_name": company,
        "proposal_ref": f"P-2026-00{variant}",
    }, token)
    call("PATCH", f"/api/v1/assessments/{invited['id']}",
         {"profile": body["profile"], "answers": body["answers"]}, invited["edit_token"])
    call("POST", f"/api/v1/assessments/{invited['id']}/submit", None, invited["edit_token"])
for variant in (1, 3, 4, 5):
    created = json.load(open(f"{work}/created-it-liability-{variant}.json"))
    call("POST", "/api/v1/broker/assessments/attach",
         {"report_token": created["report_token"]}, token)
call("POST", "/api/v1/broker/invitations",
     {"questionnaire": "it-liability", "client_name": "合同会社ミドリ開発"}, token)

# Signs in as a client that reads the form: the sign-in page's cookie and its hidden
# anti-forgery field go back with the token.
import re
with opener.open(base + "/broker/login", timeout=10) as res:
    page = res.read().decode()
    login_cookie = next(c.split(";")[0] for c in res.headers.get_all("Set-Cookie") or []
                        if c.startswith("shindan_login="))
fields = {"token": token}
for tag in re.findall(r"<input[^>]*>", page):
    name = re.search(r'name="([^"]*)"', tag)
    value = re.search(r'value="([^"]*)"', tag)
    if name and value and 'type="hidden"' in tag:
        fields[name.group(1)] = value.group(1)
form = urllib.parse.urlencode(fields).encode()
req = urllib.request.Request(base + "/broker/login", data=form, method="POST")
req.add_header("Content-Type", "application/x-www-form-urlencoded")
req.add_header("Cookie", login_cookie)
try:
    opener.open(req, timeout=10)
    sys.exit("the sign-in did not redirect")
except urllib.error.HTTPError as e:
    if e.code != 303:
        sys.exit(f"the sign-in answered {e.code}")
    cookie = next(c.split(";")[0] for c in e.headers.get_all("Set-Cookie") or []
                  if c.startswith("shindan_broker="))
print(cookie)
print("/broker/clients?" + urllib.parse.urlencode({"name": company}))
EOF
python3 "$WORK/broker.py" "$BASE" "$ADMIN_TOKEN" "$WORK" >"$WORK/broker.out" ||
    fail "setting up the broker's portfolio failed"
BROKER_COOKIE="$(sed -n 1p "$WORK/broker.out")"
HISTORY_PATH="$(sed -n 2p "$WORK/broker.out")"

declare -A BROKER_PAGES=(
    [broker-login]="/broker/login"
    [broker-dashboard]="/broker"
    [broker-history]="$HISTORY_PATH"
)
for page in broker-login broker-dashboard broker-history; do
    for lang in "${LANGS[@]}"; do
        path="${BROKER_PAGES[$page]}"
        sep='?'
        case "$path" in *'?'*) sep='&' ;; esac
        url="$BASE$path${sep}lang=$lang"
        name="$page-$lang"
        log "rendering $page ($lang)"
        if [ "$page" = broker-login ]; then
            fetch_html "$url" "$name" "$lang"
        else
            fetch_html "$url" "$name" "$lang" -H "Cookie: $BROKER_COOKIE"
        fi
        # Chromium cannot sign in, so it renders the fetched page; <base> points the
        # stylesheet and links at the server.
        sed "s#<head>#<head><base href=\"$BASE/\">#" "$OUT_DIR/$name.html" >"$WORK/$name.file.html"
        chromium_run "file://$WORK/$name.file.html" "$WORK/$name.screen.log" \
            --screenshot="$OUT_DIR/$name.png" --window-size=1280,1500 --hide-scrollbars
        size_check "$OUT_DIR/$name.png" "$url" "screenshot"
        SUMMARY+=("$page $lang: on screen")
    done
done

# --- the result ------------------------------------------------------------------------------
echo "browser-check: files in $OUT_DIR:"
(cd "$OUT_DIR" && find . -maxdepth 1 -type f ! -name '.*' -printf '%f\t%s bytes\n' | sort |
    sed 's/^/  /')
echo "browser-check: pages:"
for line in "${SUMMARY[@]}"; do
    echo "  $line"
done
for line in "${NOTES[@]}"; do
    echo "browser-check: note: $line"
done
if [ -s "$WORK/server.log" ]; then
    log "server log (warnings and errors, last 20 lines):"
    tail -n 20 "$WORK/server.log" >&2
fi
echo "browser-check: ok, ${#QUESTIONNAIRES[@]} reports and 3 broker pages x ${#LANGS[@]} languages in $((SECONDS - START_SECONDS)) s"
