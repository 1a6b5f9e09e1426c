#!/usr/bin/env bash
# Runs every test Atrium has: formatting, clippy, unit and integration tests (real HTTP on
# loopback, real SQLite files, SIGKILL crash tests, headless Chromium), and the .deb/.rpm checks.
# With CI=true it first installs what the tests need and is missing (Debian packages, npm
# modules, cargo-deb, cargo-generate-rpm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -d /usr/share/fonts/truetype/wqy ] || need_apt+=(fonts-wqy-microhei)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "test.sh: installing ${need_apt[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "test.sh: missing ${need_apt[*]}: install with apt-get (or run with CI=true)" >&2
    fi
fi

# Browser-test driver (playwright-core only; it uses Debian's Chromium, never downloads one).
if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
cargo test --locked
echo "== packages (.deb, .rpm, systemd unit)"
cargo build --locked --bin atrium
ATRIUM_BIN=target/debug/atrium bash packaging/test-packages.sh
echo "test.sh: all checks passed"
