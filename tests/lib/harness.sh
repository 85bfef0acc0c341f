# Helpers shared by the shell test batteries (tests/cli, tests/report,
# tests/multiplex): counters, one-line results, exit-code checks that also
# assert the one-line error rule and leave-no-file rule, jq and schema checks.
# The caller sets WORK (a scratch directory), and for valid(): PY, VALIDATE,
# SCHEMA. Source it, run the tests, end with sb_test_summary.
# shellcheck shell=bash
PASSED=0
FAILED=0
ERR="$WORK/last.stderr"
OUTS="$WORK/last.stdout"

ok() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
bad() {
    FAILED=$((FAILED + 1))
    echo "FAIL $1"
    shift
    local line
    for line in "$@"; do echo "     $line"; done
}

# --out / --dump-* targets named in a command line ("-" is stdout).
out_targets() {
    local prev="" a
    for a in "$@"; do
        case "$prev" in --out | --dump-beta | --dump-z | --dump-coords | --dump-rows) [ "$a" != "-" ] && echo "$a" ;; esac
        case "$a" in --out=* | --dump-beta=* | --dump-z=* | --dump-coords=* | --dump-rows=*) [ "${a#*=}" != "-" ] && echo "${a#*=}" ;; esac
        prev=$a
    done
}

# expect_exit CODE DESC -- cmd...
# Runs cmd with stdout in $OUTS and stderr in $ERR; one test. For CODE 2 it
# also asserts one non-empty "saebench: " line on stderr, that no --out /
# --dump-* file was created and that no *.tmp.* file was left behind.
# Returns 0 when the test passed, so callers only inspect outputs that exist.
expect_exit() {
    local want=$1 desc=$2
    shift 3
    local -a targets=() existed=()
    local t i rc problems=()
    mapfile -t targets < <(out_targets "$@")
    for i in "${!targets[@]}"; do
        if [ -e "${targets[$i]}" ]; then existed[i]=1; else existed[i]=0; fi
    done
    "$@" >"$OUTS" 2>"$ERR"
    rc=$?
    [ "$rc" -eq "$want" ] || problems+=("exit $rc, expected $want")
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$ERR"; then
        problems+=("sanitizer report on stderr")
    fi
    if [ "$want" -eq 2 ]; then
        local lines first
        lines=$(wc -l <"$ERR")
        first=$(head -n 1 "$ERR")
        [ "$lines" -eq 1 ] || problems+=("stderr has $lines lines, expected exactly 1")
        case "$first" in
            "saebench: "?*) ;;
            *) problems+=("stderr does not start with 'saebench: '") ;;
        esac
        for i in "${!targets[@]}"; do
            t=${targets[$i]}
            if [ "${existed[$i]}" -eq 0 ] && [ -e "$t" ]; then
                problems+=("output file $t was created")
                rm -rf "$t" # it did not exist before the command under test made it
            fi
        done
    fi
    local leftovers
    leftovers=$(find "$WORK" -name '*.tmp.*' 2>/dev/null | head -n 3)
    if [ -n "$leftovers" ]; then
        problems+=("temporary files left behind: ${leftovers//$'\n'/ }")
        find "$WORK" -name '*.tmp.*' -exec rm -f {} +
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        ok "$desc"
        return 0
    fi
    bad "$desc" "command: $*" "${problems[@]}" "stderr: $(head -c 600 "$ERR")"
    return 1
}

# check DESC FILE JQ-EXPR: one test that the jq expression is true on FILE.
check() {
    local desc=$1 file=$2 expr=$3 got
    if got=$(jq -e "$expr" "$file" 2>&1); then
        ok "$desc"
    else
        got=${got//$'\n'/ }
        bad "$desc" "jq '$expr' $file gave: ${got:0:300}"
    fi
}

# valid DESC FILE: one test that FILE validates against the verdict schema.
valid() {
    local got
    if got=$("$PY" "$VALIDATE" "$SCHEMA" "$2" 2>&1); then
        ok "$1"
    else
        bad "$1" "$got"
    fi
}

# stderr of the last command contains NEEDLE: says DESC NEEDLE
says() {
    if grep -qF -- "$2" "$ERR"; then ok "$1"; else bad "$1" "stderr: $(head -c 400 "$ERR")"; fi
}

# sig PATH: what a path is, without following a final symlink (type, device
# numbers, inode, link target, size, content hash of a regular file).
sig() {
    local p=$1
    [ -e "$p" ] || [ -L "$p" ] || { echo missing; return; }
    local s
    s=$(stat -c '%F %t:%T %i %s' "$p")
    [ -L "$p" ] && s="$s -> $(readlink "$p")"
    [ -f "$p" ] && [ ! -L "$p" ] && s="$s $(md5sum <"$p" | cut -c1-32)"
    echo "$s"
}
# unchanged DESC PATH BEFORE: one test that sig PATH is still BEFORE.
unchanged() {
    local now
    now=$(sig "$2")
    if [ "$now" = "$3" ]; then ok "$1"; else bad "$1" "before: $3" "after:  $now"; fi
}

# The last line of every battery; the exit status of the battery.
sb_test_summary() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
