# lib.sh - shared by scripts/run and scripts/test: packages and the build.
# Sourced, not run. Everything here is idempotent and quick the second time.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build needs; the test suite adds its own.
ES_BUILD_PKGS="gcc make cmake pkg-config libcurl4-openssl-dev libyajl-dev
libxml2-dev libsqlite3-dev libinih-dev libutf8proc-dev libexttextcat-dev
libexttextcat-data libssl-dev ca-certificates tzdata"
ES_TEST_PKGS="libcmocka-dev zlib1g-dev clang-format"

# Installs the named Debian packages that are missing (apt-get update only
# when something is missing, so a second run costs one dpkg-query).
es_ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
        sudo=sudo
    fi
    # dpkg prints a few lines per package even with -qq: keep them in a log,
    # and show its end only when something failed.
    local log; log=$(mktemp "${TMPDIR:-/tmp}/earshot-apt.XXXXXX")
    if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 25 "$log" >&2
        echo "error: installing packages failed (whole log: $log)" >&2
        return 1
    fi
    rm -f "$log"
}

# es_build DIR [cmake args...]: configure once, then build incrementally.
es_build() {
    local dir=$1; shift
    local jobs; jobs=$(nproc 2>/dev/null || echo 2)
    if [[ ! -f $dir/CMakeCache.txt ]]; then
        cmake -S "$ROOT" -B "$dir" "$@" >/dev/null || return 1
    else
        cmake "$dir" "$@" >/dev/null || return 1
    fi
    local rc=0
    cmake --build "$dir" -j "$jobs" >"$dir/build.log" 2>&1 || rc=$?
    # Show warnings and errors, not the progress lines.
    grep -v -E '^(\[ *[0-9]+%\] (Building|Linking|Built)|gmake|make)' "$dir/build.log" || true
    return "$rc"
}
