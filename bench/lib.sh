# shellcheck shell=bash disable=SC2034
# bench/lib.sh - shared by the benchmarks in bench/. Sourced, not run.
#
# Finds or builds the binaries, keeps a cache of generated documents, times
# commands, and prints the result table. Benchmarks print figures and
# compare earshot with peers measured in the same run; nothing here is a
# test and nothing fails on a slow figure (a missed target is printed as
# MISSED, the exit status stays 0).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

# Where the binaries are: ES_BUILD_DIR, else the project's usual build/.
BUILD=${ES_BUILD_DIR:-$ROOT/build}
# Generated documents, kept between runs (keyed on the generator's hash).
CACHE=${ES_BENCH_CACHE:-${TMPDIR:-/tmp}/earshot-bench-cache}

bench_die() {
    echo "error: $*" >&2
    exit 1
}

bench_note() {
    echo "# $*" >&2
}

# bench_build TARGET...: configures $BUILD when it has no cache yet, then
# builds only the named targets (the machine is small and shared).
# ES_BENCH_NO_BUILD=1 skips the build and measures the binaries as they are.
bench_build() {
    if [[ ${ES_BENCH_NO_BUILD:-} == 1 ]]; then
        return 0 # measure the binaries already in $BUILD, as they are
    fi
    # shellcheck disable=SC2086 # a list of package names
    es_ensure_packages $ES_BUILD_PKGS || bench_die "cannot install the build packages"
    if [[ ! -f $BUILD/CMakeCache.txt ]]; then
        bench_note "configuring $BUILD"
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
            || bench_die "cmake configure of '$BUILD' failed"
    fi
    local log=$BUILD/bench-build.log
    if ! cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" --target "$@" >"$log" 2>&1; then
        grep -q "No rule to make target 'es-bench-parse'\|unknown target.*es-bench-parse" "$log" \
            && echo "error: no target es-bench-parse: the top CMakeLists.txt needs add_subdirectory(bench)" >&2
        tail -n 30 "$log" >&2
        bench_die "building $* in '$BUILD' failed (log: $log)"
    fi
}

# bench_gen_hash: a short hash of the generator, so that a changed
# generator never reuses a stale document.
bench_gen_hash() {
    sha1sum "$BENCH_DIR/gen_feed.py" | cut -c1-10
}

# bench_time OUT CMD...: runs CMD with stdout to $OUT.out and stderr to
# $OUT.err; sets BENCH_SECS to its wall time, BENCH_CPU to its user + system
# CPU seconds and BENCH_RSS_KB to its peak resident set (GNU time). Returns
# CMD's exit status.
bench_time() {
    local out=$1; shift
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    /usr/bin/time -f 'bench-time %M %U %S' -o "$out.rss" "$@" >"$out.out" 2>"$out.err" || rc=$?
    t1=$EPOCHREALTIME
    BENCH_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    read -r BENCH_RSS_KB BENCH_CPU < <(awk '$1 == "bench-time" { printf "%s %.2f\n", $2, $3 + $4 }' "$out.rss")
    return "$rc"
}

# bench_wall OUT CMD...: as bench_time, with no GNU time around CMD: the
# wall time of CMD alone (its own start-up included), to a tenth of a
# millisecond, in BENCH_SECS; no RSS or CPU. For runs of about 0.1 s,
# where time's own fork and exec (about 1 ms) and a millisecond's
# rounding are a figure's last percent.
bench_wall() {
    local out=$1; shift
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    "$@" >"$out.out" 2>"$out.err" || rc=$?
    t1=$EPOCHREALTIME
    BENCH_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    return "$rc"
}

# bench_load_note: warns when other work shares the machine, since every
# figure here is wall-clock time.
bench_load_note() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "load average at start: $load"
    if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
        echo "warning: the machine is busy (load $load on $(nproc) cores): absolute rates read low; ratios within a run hold better" >&2
    fi
}

# calc EXPR: floating-point arithmetic through awk, printed with %.10g.
calc() {
    awk "BEGIN { printf \"%.10g\", $1 }"
}

# group N: N rounded to an integer, with thousands separators (1,234,567),
# whatever the locale.
group() {
    awk -v n="$1" 'BEGIN {
        s = sprintf("%.0f", n); out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        print s out
    }'
}

# min A B: the smaller of two decimal numbers (empty A means none yet).
fmin() {
    if [[ -z $1 ]]; then
        echo "$2"
    else
        awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'
    fi
}

# fmax A B: the larger.
fmax() {
    if [[ -z $1 ]]; then
        echo "$2"
    else
        awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'
    fi
}

# check VALUE OP LIMIT: prints "met" or "MISSED" (OP: >= or <=).
check() {
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v >= l) : (v <= l)
        print ok ? "met" : "MISSED"
    }'
}

# bench_machine: one line naming the machine, for the docs.
bench_machine() {
    local cpu
    cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')
    echo "$(nproc) cores, ${cpu:-unknown CPU}, $(uname -sr), $(date -u +%Y-%m-%d)"
}

# Table rows: bench_row WHAT FIGURE TARGET STATUS
bench_header() {
    printf '\n%-44s %-26s %-18s %s\n' "measure" "figure" "target" "status"
    printf '%-44s %-26s %-18s %s\n' "-------" "------" "------" "------"
}

bench_row() {
    printf '%-44s %-26s %-18s %s\n' "$1" "$2" "${3:--}" "${4:-}"
}

# bench_npm_peers DIR: installs the npm packages vader-sentiment (the
# VADER JavaScript port) and sentiment (AFINN-165) into DIR, a temporary
# folder, and writes DIR/vader.js and DIR/sentiment.js: each reads one
# text per line on stdin and prints one score per line (VADER's compound,
# sentiment's comparative; 4 decimals). Sets NPMDIR=DIR. Returns 1, with a
# note on stderr, when npm or node is missing or the install fails.
bench_npm_peers() {
    NPMDIR=$1
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        echo "note: npm or node not found: the npm peers are skipped" >&2
        return 1
    fi
    mkdir -p "$NPMDIR"
    if ! (cd "$NPMDIR" && npm init -y >/dev/null 2>&1 &&
        npm install --no-audit --no-fund --silent vader-sentiment sentiment >npm.log 2>&1); then
        echo "warning: npm install of vader-sentiment and sentiment failed (see below); peers skipped" >&2
        tail -n 5 "$NPMDIR/npm.log" >&2 || true
        return 1
    fi
    cat >"$NPMDIR/vader.js" <<'EOF'
// One compound score per line of stdin, 4 decimals (as earshot prints).
const vader = require('vader-sentiment');
const lines = require('fs').readFileSync(0, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const out = new Array(lines.length);
for (let i = 0; i < lines.length; i++)
    out[i] = vader.SentimentIntensityAnalyzer.polarity_scores(lines[i]).compound.toFixed(4);
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
EOF
    cat >"$NPMDIR/sentiment.js" <<'EOF'
// One comparative score per line of stdin (AFINN-165 based).
const Sentiment = require('sentiment');
const s = new Sentiment();
const lines = require('fs').readFileSync(0, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const out = new Array(lines.length);
for (let i = 0; i < lines.length; i++)
    out[i] = s.analyze(lines[i]).comparative.toFixed(4);
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
EOF
}
