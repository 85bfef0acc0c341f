#!/usr/bin/env bash
# The 'saebench report --html' dashboard opened in a real browser, headless Chromium
# (make test-dashboard).
#
#   tests/report/run-dashboard-test.sh [BINARY]
#
# Dashboards checked: one generated now from the checked-in verdict fixtures
# (tests/report/fixtures/history, base and failed: two dated runs, a failed run; every
# chart), the committed docs/example-report/ as it is (copied, never rewritten), and the
# pages of fixtures/dashboard and dashboard-clean (the marks, below).
# For each, under build/dashboard-test/:
#  - files: every <img src> of index.html exists and is a whole PNG (signature, chunk CRCs,
#    pixel data inflates and unfilters) that is not blank (tests/report/png-check.py);
#  - browser: a copy of index.html with an onerror attribute on every <img> (it marks the
#    image data-broken="1") and a load-time probe that writes what the page holds (images
#    and their decoded sizes, table rows, text length) into the DOM; 'chromium --headless
#    --dump-dom' of it must show every image loaded with a size, no data-broken mark, as
#    many table rows as index.html has verdict rows, and text;
#  - screenshot: 'chromium --headless --screenshot' of index.html itself (NAME.png), a
#    whole PNG of the window's size that is not blank.
# Negative controls prove the checks can fail: the probe copy with one chart renamed
# away must report it broken, and the screenshot of an empty page must be called blank.
# The marks: in the page of fixtures/dashboard, the probe must find the charted FAIL row,
# the suspect row and its warned efficiency, the captions naming [FAIL], one history chart
# per key with its runs in order and one change point, and the exit-3 cuda row's device
# text; its charts must hold the FAIL and suspect colours (png-check.py --has). The page of
# fixtures/dashboard-clean must show none of these marks and no chart of it either colour
# (--lacks); the probe must count no FAIL once the badges are renamed away.
#
# Installs chromium (Debian, --no-install-recommends, apt output in a log file) when no
# Chromium is found (CHROMIUM=PATH picks one); gnuplot-nox too when gnuplot is missing.
# Exit 0: passed, or "skip: ..." when no Chromium can be had (not root, no apt-get, or
# apt-get failed); exit 1: a check failed. About 15 s (30 s with the install).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath -- "${1:-$ROOT/saebench}" 2>/dev/null) && [ -x "$BIN" ] ||
    { echo "dashboard-test: no saebench binary (make)" >&2; exit 2; }
PY=$(command -v python3) || { echo "dashboard-test: python3 is required" >&2; exit 2; }
cd "$ROOT" || exit 2
say() { echo "dashboard-test: $*"; }
skip() { echo "skip: dashboard test: $*"; exit 0; }

# ---------------------------------------------------------------- Chromium (and gnuplot)
find_chromium() {
    local c
    for c in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
        [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return 0; }
    done
    return 1
}
need=()
CHROME=$(find_chromium) || need+=(chromium)
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && SUDO=(sudo -n) ||
            skip "${need[*]} missing, not root and no passwordless sudo to install it"
    fi
    command -v apt-get >/dev/null 2>&1 || skip "${need[*]} missing and no apt-get to install it"
    LOG=$(mktemp "${TMPDIR:-/tmp}/saebench-dashboard-apt.XXXXXX") || skip "cannot create a log file"
    say "installing ${need[*]} (apt output in $LOG)"
    { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"; } >"$LOG" 2>&1 ||
        skip "apt-get could not install ${need[*]} (see $LOG)"
    CHROME=$(find_chromium) || skip "no chromium after installing it"
fi
command -v gnuplot >/dev/null 2>&1 || { echo "FAIL dashboard-test: gnuplot still not on PATH"; exit 1; }

W=$ROOT/build/dashboard-test
rm -rf "$W" # this test's own folder under build/, made below on every run
mkdir -p "$W" || exit 1
UDD=$(mktemp -d "${TMPDIR:-/tmp}/saebench-chromium.XXXXXX") || exit 1
trap 'rm -rf "$UDD"' EXIT # the browser profile folder this test made with mktemp
WIN=1400,3200

# chromium ARGS...: headless, no sandbox (root), no GPU, no network chatter; stderr to a log.
chromium_run() {
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --hide-scrollbars --user-data-dir="$UDD" \
        "$@" 2>>"$W/chromium.log"
}

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
bad() {
    FAILED=$((FAILED + 1))
    echo "FAIL $1"
    shift
    local l
    for l in "$@"; do echo "     $l"; done
}

# make_probe INDEX OUT: INDEX with onerror marks on every <img> and the load-time probe.
# The probe's line: PROBE imgs=N loaded=N broken=SRC,... rows=N text=N sizes=WxH,...
#   failcharted=N suspectcharted=N (charted rows with that mark) suspectwarn=N (warned
#   efficiency cells) capfail=N (captions naming a [FAIL...] verdict) hist=N (history
#   images loaded) histruns=1-2,1-2-3-4 (run numbers in each history caption, in order)
#   changes=N (captions with a change point) cudadev=TEXT,... (device cells of cuda rows)
make_probe() {
    sed -e 's|<img |<img onerror="this.setAttribute('"'"'data-broken'"'"','"'"'1'"'"')" |g' \
        -e 's|</body>|<script>\
function cuda_devices() {\
  var head = [].map.call(document.querySelectorAll("table thead th"), function (h) { return h.textContent; });\
  var b = head.indexOf("backend"), d = head.indexOf("device");\
  return [].filter.call(document.querySelectorAll("table tbody tr"), function (r) { return r.cells[b].textContent === "cuda"; })\
    .map(function (r) { return r.cells[d].textContent.replace(/ /g, "_"); });\
}\
window.addEventListener("load", function () {\
  var im = [].slice.call(document.images);\
  var broken = im.filter(function (i) { return !i.complete \|\| i.naturalWidth === 0; });\
  var p = document.createElement("pre");\
  p.id = "probe";\
  p.textContent = "PROBE imgs=" + im.length + " loaded=" + (im.length - broken.length) +\
    " broken=" + broken.map(function (i) { return i.getAttribute("src"); }).join(",") +\
    " rows=" + document.querySelectorAll("table tbody tr").length +\
    " text=" + document.body.innerText.length +\
    " sizes=" + im.map(function (i) { return i.naturalWidth + "x" + i.naturalHeight; }).join(",") +\
    " failcharted=" + document.querySelectorAll("tr.charted td.mark .m-fail").length +\
    " suspectcharted=" + document.querySelectorAll("tr.charted td.mark .m-suspect").length +\
    " suspectwarn=" + [].filter.call(document.querySelectorAll("td.warn"), function (c) { return c.textContent.indexOf("(suspect:") >= 0; }).length +\
    " capfail=" + [].filter.call(document.querySelectorAll("figcaption"), function (c) { return c.textContent.indexOf(" [FAIL") >= 0; }).length +\
    " hist=" + [].filter.call(document.querySelectorAll("figure[id^=history-] img"), function (i) { return i.naturalWidth > 0; }).length +\
    " histruns=" + [].map.call(document.querySelectorAll("figure[id^=history-] figcaption"), function (c) {\
        var m = c.textContent.match(/(: \|; )[0-9]+ (pass\|FAIL)/g) \|\| [];\
        return m.map(function (x) { return x.replace(/^(: \|; )/, "").split(" ")[0]; }).join("-"); }).join(",") +\
    " changes=" + [].filter.call(document.querySelectorAll("figcaption"), function (c) { return c.textContent.indexOf("compare flags a regression") >= 0; }).length +\
    " cudadev=" + cuda_devices().join(",");\
  document.body.appendChild(p);\
});\
</script>\
</body>|' "$1" >"$2"
}

# probe DIR PAGE: dumps the DOM of DIR/PAGE (after load) into $W/NAME.dom; sets PROBE.
probe() {
    local dom
    dom=$W/$(basename "$1")-${2%.html}.dom
    chromium_run --virtual-time-budget=10000 --dump-dom "file://$1/$2" >"$dom"
    PROBE=$(grep -o 'PROBE imgs=[0-9][^<]*' "$dom" | head -n 1)
    DOM=$dom
}
field() { printf '%s\n' "$PROBE" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# check_dashboard NAME SRC_DIR: the three checks on a copy of SRC_DIR in $W/NAME.
check_dashboard() {
    local name=$1 d=$W/$1 imgs n_img rows png_out
    rm -rf "$d" # a copy this test makes under its own $W
    cp -r "$2" "$d" || { bad "$name: copy $2"; return; }
    [ -s "$d/index.html" ] || { bad "$name: index.html exists" "$(ls "$d")"; return; }
    imgs=$(grep -o '<img src="[^"]*"' "$d/index.html" | sed 's/^<img src="//; s/"$//')
    n_img=$(printf '%s' "$imgs" | grep -c .)
    rows=$(grep -c '^<tr class="' "$d/index.html")
    grep -q '<table>' "$d/index.html" && [ "$rows" -gt 0 ] && ok "$name: index.html has a table of $rows verdicts" ||
        bad "$name: index.html has a table with rows" "$(head -c 400 "$d/index.html")"
    [ "$n_img" -gt 0 ] || bad "$name: index.html references charts" "no <img>"

    # files: every chart a whole, non-blank PNG
    local paths=()
    for f in $imgs; do paths+=("$d/$f"); done
    if [ ${#paths[@]} -gt 0 ]; then
        if png_out=$("$PY" "$ROOT/tests/report/png-check.py" "${paths[@]}"); then
            ok "$name: all $n_img charts are whole, non-blank PNGs ($(printf '%s\n' "$png_out" | sed 's/^ok *[^:]*\///; s/,.*//' | tr '\n' ' '))"
        else
            bad "$name: charts are whole, non-blank PNGs" "$png_out"
        fi
    fi

    # browser: every image loaded, the table rendered
    make_probe "$d/index.html" "$d/probe.html"
    probe "$d" probe.html
    local p_imgs p_loaded p_broken p_rows p_text p_sizes
    p_imgs=$(field imgs) p_loaded=$(field loaded) p_broken=$(field broken) p_rows=$(field rows)
    p_text=$(field text) p_sizes=$(field sizes)
    if [ -z "$PROBE" ]; then
        bad "$name: chromium ran the page's probe" "no PROBE line in $DOM ($(wc -c <"$DOM") bytes); $(tail -n 3 "$W/chromium.log")"
    elif [ "$p_imgs" = "$n_img" ] && [ "$p_loaded" = "$n_img" ] && [ -z "$p_broken" ] &&
        ! grep -q 'data-broken="1"' "$DOM" && ! printf '%s' "$p_sizes" | grep -Eq '(^|,)0x'; then
        ok "$name: in chromium all $n_img images loaded ($p_sizes), none marked broken"
    else
        bad "$name: in chromium every image loaded" "$PROBE" "data-broken marks: $(grep -o 'data-broken="1"' "$DOM" | wc -l)"
    fi
    if [ -n "$PROBE" ] && [ "$p_rows" = "$rows" ] && [ "${p_text:-0}" -gt 500 ]; then
        ok "$name: in chromium the table has its $rows rows, the page $p_text characters of text"
    elif [ -n "$PROBE" ]; then
        bad "$name: in chromium the table has $rows rows and the page text" "$PROBE"
    fi

    # screenshot of the page itself
    chromium_run --window-size="$WIN" --screenshot="$W/$name.png" "file://$d/index.html" >/dev/null
    if png_out=$("$PY" "$ROOT/tests/report/png-check.py" --size "${WIN/,/x}" --min-ink 2 "$W/$name.png"); then
        ok "$name: screenshot build/dashboard-test/$name.png is not blank (${png_out#*: })"
    else
        bad "$name: screenshot is a non-blank PNG" "$png_out" "$(tail -n 3 "$W/chromium.log")"
    fi
}

say "$("$CHROME" --version 2>/dev/null | tail -n 1)"
t0=$SECONDS
"$BIN" report tests/report/fixtures/history tests/report/fixtures/base tests/report/fixtures/failed \
    --html "$W/gen-fixtures" --out "$W/gen-fixtures.txt" 2>"$W/report.err" ||
    { bad "saebench report --html on the fixtures" "$(cat "$W/report.err")"; echo "dashboard-test: $PASSED passed, $FAILED failed"; exit 1; }
check_dashboard fixtures "$W/gen-fixtures"
if [ -f docs/example-report/index.html ]; then
    check_dashboard example-report "$ROOT/docs/example-report"
else
    bad "docs/example-report/index.html exists (make example-report)"
fi

# negative controls: a missing chart must be caught, an empty page must be called blank
d=$W/fixtures
first=$(grep -o '<img src="[^"]*"' "$d/index.html" | head -n 1 | sed 's/^<img src="//; s/"$//')
mv "$d/$first" "$d/$first.away"
probe "$d" probe.html
mv "$d/$first.away" "$d/$first"
if [ "$(field broken)" = "$first" ] && grep -q 'data-broken="1"' "$DOM"; then
    ok "control: with $first missing, chromium marks it broken (onerror) and the probe names it"
else
    bad "control: a missing chart is caught" "${PROBE:-no probe line}"
fi
printf '<!DOCTYPE html>\n<html><head><title>blank</title></head><body></body></html>\n' >"$W/blank.html"
chromium_run --window-size="$WIN" --screenshot="$W/blank.png" "file://$W/blank.html" >/dev/null
if png_out=$("$PY" "$ROOT/tests/report/png-check.py" --expect-blank "$W/blank.png"); then
    ok "control: the screenshot of an empty page is called blank (${png_out#*: })"
else
    bad "control: an empty page's screenshot is blank" "$png_out"
fi

# ---------------------------------------------------------------- the marks
# Pages from tests/report/fixtures/dashboard (the newest resident-solve run fails RS-002 and
# is 2.37x slower than the one before, the newest inner-loop has a suspect roofline, an
# exit-3 cuda verdict) and from dashboard-clean (the same runs, nothing failing or suspect
# charted): the marks must show in the rendered page and in the charts, and must not show
# where nothing calls for them.
FAIL_RGB=c62828
SUSPECT_RGB=7b1fa2
for set in dashboard dashboard-clean; do
    "$BIN" report "tests/report/fixtures/$set" --html "$W/gen-$set" --out "$W/gen-$set.txt" 2>"$W/report.err" ||
        { bad "saebench report --html on fixtures/$set" "$(cat "$W/report.err")"; continue; }
    check_dashboard "$set" "$W/gen-$set"
done
# marks NAME: the probe of $W/NAME (already dumped by check_dashboard) and the charts' colours.
marks() {
    local d=$W/$1
    probe "$d" probe.html
    P_FAIL=$(field failcharted) P_SUSPECT=$(field suspectcharted) P_WARN=$(field suspectwarn)
    P_CAPFAIL=$(field capfail) P_HIST=$(field hist) P_RUNS=$(field histruns) P_CHANGES=$(field changes)
    P_CUDA=$(field cudadev)
}
if [ -s "$W/dashboard/index.html" ] && [ -s "$W/dashboard-clean/index.html" ]; then
    marks dashboard
    if [ "$P_FAIL" = 1 ] && [ "$P_CAPFAIL" = 2 ]; then
        ok "dashboard: in chromium the charted FAIL row has its mark, and the throughput and phase captions name [FAIL]"
    else
        bad "dashboard: the FAIL mark shows in chromium" "$PROBE"
    fi
    [ "$P_SUSPECT" = 1 ] && [ "$P_WARN" = 1 ] &&
        ok "dashboard: in chromium the suspect roofline is marked on its charted row and warned in its cell" ||
        bad "dashboard: the suspect mark and warning show in chromium" "$PROBE"
    [ "$P_HIST" = 2 ] && [ "$P_RUNS" = "1-2,1-2-3-4" ] && [ "$P_CHANGES" = 1 ] &&
        ok "dashboard: in chromium one history chart per key loaded (2), its runs in order (1-2, 1-2-3-4), one change point" ||
        bad "dashboard: history per key in run order" "$PROBE"
    [ "$P_CUDA" = "cuda_requested,_not_engaged:_nothing_ran" ] &&
        ok "dashboard: in chromium the exit-3 cuda row reads 'cuda requested, not engaged: nothing ran'" ||
        bad "dashboard: the exit-3 device cell" "$PROBE"
    if png_out=$("$PY" tests/report/png-check.py --has "$FAIL_RGB:2000" --has "$SUSPECT_RGB:2000" "$W/dashboard/throughput.png") &&
        png2=$("$PY" tests/report/png-check.py --has "$FAIL_RGB" --has "$SUSPECT_RGB" "$W/dashboard/phases.png") &&
        png3=$("$PY" tests/report/png-check.py --has "$FAIL_RGB:100" "$W/dashboard/history-002.png"); then
        ok "dashboard: the FAIL and suspect colours are drawn: the throughput bars, the phase symbols, history-002's FAIL point and change line"
    else
        bad "dashboard: the mark colours are drawn" "$png_out" "${png2:-}" "${png3:-}"
    fi

    marks dashboard-clean
    [ "$P_FAIL" = 0 ] && [ "$P_CAPFAIL" = 0 ] && [ "$P_SUSPECT" = 0 ] && [ "$P_WARN" = 0 ] && [ "$P_CHANGES" = 0 ] &&
        [ "$P_HIST" = 2 ] && [ "$P_RUNS" = "1-2,1-2-3-4" ] &&
        ok "control: the clean page has no charted FAIL or suspect mark, no warning, no change point (history still per key)" ||
        bad "control: the clean page shows no marks" "$PROBE"
    if png_out=$("$PY" tests/report/png-check.py --lacks "$FAIL_RGB" --lacks "$SUSPECT_RGB" "$W"/dashboard-clean/*.png); then
        ok "control: no chart of the clean page has a FAIL or suspect colour ($(printf '%s\n' "$png_out" | wc -l) charts)"
    else
        bad "control: the clean page's charts have no mark colour" "$png_out"
    fi
    # The checks themselves can fail: the probe counts the marks in the DOM, and a chart
    # without the colour is caught.
    d=$W/dashboard
    sed 's/class="m-fail"/class="m-gone"/g' "$d/probe.html" >"$d/probe-nomark.html"
    probe "$d" probe-nomark.html
    [ "$(field failcharted)" = 0 ] && ok "control: with the FAIL badges renamed away, the probe counts no charted FAIL" ||
        bad "control: the probe's FAIL count follows the DOM" "$PROBE"
    ! "$PY" tests/report/png-check.py --has "$FAIL_RGB:2000" "$W/dashboard-clean/throughput.png" >/dev/null &&
        ok "control: the FAIL-colour check fails on a throughput chart without a failing bar" ||
        bad "control: the FAIL-colour check can fail"
fi

echo "dashboard-test: $PASSED passed, $FAILED failed in $((SECONDS - t0)) s (screenshots in build/dashboard-test/)"
[ "$FAILED" -eq 0 ]
