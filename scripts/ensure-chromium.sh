#!/usr/bin/env bash
# Make sure the browser lane has a Chromium: Debian's `chromium` package, which Playwright
# drives through E2E_CHROMIUM (default /usr/bin/chromium). Playwright's own browser download
# is never used (its host is out of reach here, and CI should not depend on it).
#
# Idempotent: returns at once when the binary answers `--version`. As root on Debian it
# installs the package (and fonts-liberation, so screenshots have readable text); anywhere
# else it stops with a message saying what to install. Never waits forever: apt gets
# $CHROMIUM_INSTALL_TIMEOUT_S seconds.
set -euo pipefail

BIN=${E2E_CHROMIUM:-/usr/bin/chromium}
INSTALL_TIMEOUT_S=${CHROMIUM_INSTALL_TIMEOUT_S:-900}

say() { printf '[ensure-chromium] %s\n' "$*" >&2; }
die() { printf '[ensure-chromium] ERROR: %s\n' "$*" >&2; exit 1; }

answers() { [ -x "$BIN" ] && timeout 60 "$BIN" --version >/dev/null 2>&1; }

if answers; then
  exit 0
fi

if [ "$BIN" != /usr/bin/chromium ]; then
  die "E2E_CHROMIUM=$BIN is not a Chromium that answers '--version'. Point it at one, or unset it to use Debian's chromium package."
fi
if ! { [ "$(id -u)" = 0 ] && [ -r /etc/os-release ] && grep -qi '^ID=debian' /etc/os-release; }; then
  die "no Chromium at $BIN. Install your distribution's chromium package (Debian/Ubuntu: apt-get install chromium), or set E2E_CHROMIUM to a Chromium binary, then retry. Only the browser lane (scenarios/browser) needs it."
fi

say "installing Debian's chromium package (for the browser lane)..."
apt_get() {
  DEBIAN_FRONTEND=noninteractive timeout "$INSTALL_TIMEOUT_S" \
    apt-get -o DPkg::Lock::Timeout=300 "$@"
}
apt_get update -qq >/dev/null || die "apt-get update failed (or took over ${INSTALL_TIMEOUT_S}s): the package archive cannot be reached; install chromium by hand or set E2E_CHROMIUM."
apt_get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null \
  || die "apt-get install chromium failed (or took over ${INSTALL_TIMEOUT_S}s); see the apt output above, or install chromium by hand and retry."
answers || die "the chromium package is installed but $BIN does not answer '--version'."
say "$("$BIN" --version 2>/dev/null)"
