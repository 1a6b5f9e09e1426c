#!/usr/bin/env bash
# Build the .deb and .rpm of atrium from an ALREADY BUILT binary and check them.
#
#   ATRIUM_BIN=target/release/atrium packaging/test-packages.sh   (default path)
#   ATRIUM_BIN=target/debug/atrium   packaging/test-packages.sh   (CI: no release build)
#
# Packages are written to target/packages/. Nothing is compiled: the binary is
# copied to target/packages/stage/release/atrium and both tools are pointed at
# that directory as their cargo target dir (cargo-deb: CARGO_TARGET_DIR with
# --no-build; cargo-generate-rpm: --target-dir, it never builds). Both replace
# the "target/release/" prefix of asset sources with that directory.
#
# Checks: (a) dpkg-deb -c / -I: files, modes, conffiles, maintainer scripts,
# Depends; (b) rpm -qlp / -qcp / --scripts: files, modes, owners, config
# flags, scriptlets; (c) systemd-analyze verify on the unit as shipped (with
# /usr/bin/atrium pointed at the staged binary, since verify requires the
# ExecStart= binary to exist) plus an exposure limit from
# systemd-analyze security --offline; (d) the sysusers.d file.
#
# Missing tools: with CI=true they are installed (cargo install / apt-get);
# otherwise the script stops and says what to install.
#
# ATRIUM_PKG_FAST=1 (the default when CI=true) uses light compression
# (cargo deb --fast, rpm gzip payload): ~10 s instead of ~35 s for a 160 MB
# debug binary. Set ATRIUM_PKG_FAST=0 for packages meant for distribution.
set -euo pipefail

# Versions tested with rustc 1.95 (cargo-deb 3.8.0 declares rust-version 1.85;
# cargo-generate-rpm 0.21.1 is edition 2024, i.e. >= 1.85).
CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1
# systemd-analyze security exposure (0 = locked down, 10 = none) measured at
# 1.2 with systemd 252; fail if a change to the unit makes it worse than this.
MAX_EXPOSURE=1.5

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ATRIUM_BIN=${ATRIUM_BIN:-target/release/atrium}
OUT=$ROOT/target/packages
STAGE=$OUT/stage
TMP=$(mktemp -d)
if [ "${CI:-}" = "true" ]; then ATRIUM_PKG_FAST=${ATRIUM_PKG_FAST:-1}; else ATRIUM_PKG_FAST=${ATRIUM_PKG_FAST:-0}; fi
DEB_FLAGS=()
RPM_FLAGS=()
if [ "$ATRIUM_PKG_FAST" = "1" ]; then
    DEB_FLAGS=(--fast)
    RPM_FLAGS=(--payload-compress gzip)
fi
trap 'rm -rf "$TMP" "$STAGE"' EXIT

say()  { printf 'test-packages: %s\n' "$*"; }
die()  { printf 'test-packages: ERROR: %s\n' "$*" >&2; exit 1; }
is_ci() { [ "${CI:-}" = "true" ]; }

PASSED=0
FAILED=0
ok()   { PASSED=$((PASSED + 1)); printf '  ok   %s\n' "$1"; }
bad()  { FAILED=$((FAILED + 1)); printf '  FAIL %s\n' "$1" >&2; }
# check "description" command...   (command's exit status decides)
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

# ---------------------------------------------------------------- tools ----
APT_UPDATED=
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        apt-get update -qq >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get install $* failed"
}

need_cmd() {   # need_cmd COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if is_ci; then
        say "installing Debian package $2 (for $1)"
        apt_install "$2"
        command -v "$1" >/dev/null 2>&1 || die "$1 still missing after installing $2"
    else
        die "$1 not found: install it with: apt-get install $2"
    fi
}

need_cargo_tool() {   # need_cargo_tool SUBCOMMAND CRATE VERSION
    cargo "$1" --version >/dev/null 2>&1 && return 0
    if is_ci; then
        say "installing $2 $3 (takes about 2-3 minutes on 2 cores)"
        local t0=$SECONDS
        cargo install "$2" --locked --version "$3" \
            || die "cargo install $2 --locked --version $3 failed"
        say "installed $2 in $((SECONDS - t0)) s"
    else
        die "cargo $1 not found: install it with: cargo install $2 --locked --version $3"
    fi
}

need_cmd dpkg-deb dpkg
need_cmd dpkg-shlibdeps dpkg-dev        # cargo-deb's Depends: $auto
need_cmd rpm rpm
need_cmd systemd-analyze systemd
need_cmd systemd-sysusers systemd
need_cargo_tool deb cargo-deb "$CARGO_DEB_VERSION"
need_cargo_tool generate-rpm cargo-generate-rpm "$CARGO_GENERATE_RPM_VERSION"

# --------------------------------------------------------------- inputs ----
[ -f "$ATRIUM_BIN" ] && [ -x "$ATRIUM_BIN" ] \
    || die "no executable at ATRIUM_BIN=$ATRIUM_BIN (build it first, e.g. cargo build --release)"
for f in config/atrium.toml README.md LICENSE packaging/atrium.toml \
         packaging/systemd/atrium.service packaging/sysusers.d/atrium.conf \
         packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
         packaging/rpm/pre_install.sh packaging/rpm/post_install.sh \
         packaging/rpm/pre_uninstall.sh packaging/rpm/post_uninstall.sh; do
    [ -f "$f" ] || die "missing packaging input: $f"
done

# ---------------------------------------------------------------- build ----
rm -rf "$STAGE"
mkdir -p "$STAGE/release" "$OUT"
rm -f "$OUT"/*.deb "$OUT"/*.rpm
cp "$ATRIUM_BIN" "$STAGE/release/atrium"
# A debug binary carries hundreds of MB of debug info; packages never should.
strip --strip-debug "$STAGE/release/atrium" 2>/dev/null || true

say "building .deb from $ATRIUM_BIN (ATRIUM_PKG_FAST=$ATRIUM_PKG_FAST)"
t0=$SECONDS
CARGO_TARGET_DIR=$STAGE cargo deb --no-build "${DEB_FLAGS[@]}" --output "$OUT/" >"$TMP/deb.log" 2>&1 \
    || { cat "$TMP/deb.log" >&2; die "cargo deb failed"; }
grep -i 'warning' "$TMP/deb.log" >&2 || true
say "building .rpm ($((SECONDS - t0)) s so far)"
cargo generate-rpm --target-dir "$STAGE" "${RPM_FLAGS[@]}" --output "$OUT/" >"$TMP/rpm.log" 2>&1 \
    || { cat "$TMP/rpm.log" >&2; die "cargo generate-rpm failed"; }
say "packages built in $((SECONDS - t0)) s"

shopt -s nullglob
debs=("$OUT"/*.deb)
rpms=("$OUT"/*.rpm)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || die "expected exactly one .deb in $OUT, found ${#debs[@]}"
[ ${#rpms[@]} -eq 1 ] || die "expected exactly one .rpm in $OUT, found ${#rpms[@]}"
DEB=${debs[0]}
RPM=${rpms[0]}
say "built $DEB"
say "built $RPM"

# helper: line_matches FILE REGEX  (grep -E on a whole captured listing)
has() { grep -Eq -- "$2" "$1"; }

# ------------------------------------------------------------ (a) .deb ----
say "(a) checking the .deb"
dpkg-deb -c "$DEB" >"$TMP/deb.list" || die "dpkg-deb -c failed"
dpkg-deb -I "$DEB" >"$TMP/deb.info" || die "dpkg-deb -I failed"
dpkg-deb -I "$DEB" conffiles >"$TMP/deb.conffiles" 2>/dev/null || : >"$TMP/deb.conffiles"
for p in ./usr/bin/atrium ./lib/systemd/system/atrium.service \
         ./usr/lib/sysusers.d/atrium.conf ./etc/atrium/atrium.toml \
         ./usr/share/doc/atrium/atrium.toml.example ./usr/share/doc/atrium/README.md \
         ./usr/share/doc/atrium/LICENSE; do
    check "deb contains $p" has "$TMP/deb.list" " ${p//./\\.}\$"
done
check "deb: /usr/bin/atrium is -rwxr-xr-x, owner root" \
    has "$TMP/deb.list" '^-rwxr-xr-x (root/root|0/0) .* \./usr/bin/atrium$'
check "deb: /etc/atrium/atrium.toml is -rw-r----- (group fixed by postinst)" \
    has "$TMP/deb.list" '^-rw-r----- (root/root|0/0) .* \./etc/atrium/atrium\.toml$'
check "deb conffiles lists /etc/atrium/atrium.toml exactly once" \
    test "$(grep -cx '/etc/atrium/atrium.toml' "$TMP/deb.conffiles")" = 1
for s in postinst prerm postrm; do
    check "deb has maintainer script $s" has "$TMP/deb.info" "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$s "
    check "packaging/debian/$s is valid sh" sh -n "packaging/debian/$s"
done
check "deb Depends (\$auto) names libc6" has "$TMP/deb.info" '^ Depends: .*libc6'

# ------------------------------------------------------------ (b) .rpm ----
say "(b) checking the .rpm"
rpm -qlp "$RPM" >"$TMP/rpm.list" 2>"$TMP/rpm.err" || { cat "$TMP/rpm.err" >&2; die "rpm -qlp failed"; }
rpm -qcp "$RPM" >"$TMP/rpm.conf" 2>/dev/null || die "rpm -qcp failed"
rpm -qp --scripts "$RPM" >"$TMP/rpm.scripts" 2>/dev/null || die "rpm -qp --scripts failed"
rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]' \
    "$RPM" >"$TMP/rpm.files" 2>/dev/null || die "rpm -qp --qf failed"
for p in /usr/bin/atrium /usr/lib/systemd/system/atrium.service \
         /usr/lib/sysusers.d/atrium.conf /etc/atrium/atrium.toml \
         /usr/share/doc/atrium/atrium.toml.example /usr/share/doc/atrium/README.md \
         /usr/share/licenses/atrium/LICENSE; do
    check "rpm contains $p" grep -qx -- "$p" "$TMP/rpm.list"
done
check "rpm -qcp lists /etc/atrium/atrium.toml" grep -qx /etc/atrium/atrium.toml "$TMP/rpm.conf"
check "rpm: atrium.toml is -rw-r----- root atrium, %config(noreplace)" \
    has "$TMP/rpm.files" '^-rw-r----- root atrium cn /etc/atrium/atrium\.toml$'
check "rpm: /usr/bin/atrium is -rwxr-xr-x root root" \
    has "$TMP/rpm.files" '^-rwxr-xr-x root root +/usr/bin/atrium$'
# A script path cargo-generate-rpm cannot find would be packaged as the literal
# path text, so look for each script's content.
check "rpm %pre creates the user"            has "$TMP/rpm.scripts" 'systemd-sysusers --inline'
check "rpm %post fixes /etc/atrium"          has "$TMP/rpm.scripts" 'chown root:atrium /etc/atrium'
check "rpm %preun stops the service"         has "$TMP/rpm.scripts" 'disable --now atrium\.service'
check "rpm %postun restarts on upgrade"      has "$TMP/rpm.scripts" 'try-restart atrium\.service'
for s in packaging/rpm/*.sh; do
    check "$s is valid sh" sh -n "$s"
done

# ------------------------------------------------ (c) the systemd unit ----
say "(c) checking the systemd unit (as shipped in the .deb)"
mkdir -p "$TMP/deb-root" "$TMP/unit"
dpkg-deb -x "$DEB" "$TMP/deb-root"
# systemd-analyze verify refuses a unit whose ExecStart binary does not exist
# and it does not follow --root for that check, so verify a copy of the
# shipped unit in which /usr/bin/atrium points at the staged binary. The copy
# must keep the name atrium.service.
sed "s|/usr/bin/atrium|$STAGE/release/atrium|g" \
    "$TMP/deb-root/lib/systemd/system/atrium.service" >"$TMP/unit/atrium.service"
# verify exits 0 on unknown keys and bad values (it only warns), so any
# output at all counts as a failure.
if systemd-analyze verify "$TMP/unit/atrium.service" >"$TMP/verify.log" 2>&1 \
        && [ ! -s "$TMP/verify.log" ]; then
    ok "systemd-analyze verify accepts atrium.service"
else
    sed 's/^/    /' "$TMP/verify.log" >&2
    bad "systemd-analyze verify accepts atrium.service"
fi
check "deb ships packaging/systemd/atrium.service unchanged" \
    cmp -s packaging/systemd/atrium.service "$TMP/deb-root/lib/systemd/system/atrium.service"
if systemd-analyze security --offline=true "$TMP/unit/atrium.service" >"$TMP/security.log" 2>&1; then
    score=$(sed -n 's/.*Overall exposure level for atrium\.service: \([0-9.]*\).*/\1/p' "$TMP/security.log")
    say "systemd-analyze security: exposure $score (limit $MAX_EXPOSURE)"
    check "exposure score ${score:-?} <= $MAX_EXPOSURE" \
        awk -v s="${score:-99}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'
else
    say "systemd-analyze security --offline not supported here; score not checked"
fi

# ------------------------------------------------ (d) sysusers.d file ----
mkdir -p "$TMP/sysroot/etc"
touch "$TMP/sysroot/etc/"{passwd,group,shadow,gshadow}
if systemd-sysusers --root="$TMP/sysroot" - <"$TMP/deb-root/usr/lib/sysusers.d/atrium.conf" \
        >"$TMP/sysusers.log" 2>&1 \
   && grep -q '^atrium:x:[0-9]*:[0-9]*:[^:]*:/var/lib/atrium:/usr/sbin/nologin$' "$TMP/sysroot/etc/passwd" \
   && grep -q '^atrium:x:' "$TMP/sysroot/etc/group"; then
    ok "sysusers.d/atrium.conf creates user+group atrium (home /var/lib/atrium, nologin)"
else
    sed 's/^/    /' "$TMP/sysusers.log" >&2
    bad "sysusers.d/atrium.conf creates user+group atrium (home /var/lib/atrium, nologin)"
fi

echo "test-packages: $PASSED passed, $FAILED failed"
if [ "$FAILED" -ne 0 ]; then
    say "packaging checks FAILED (see FAIL lines above)"
    exit 1
fi
say "all packaging checks passed; packages are in target/packages/"
