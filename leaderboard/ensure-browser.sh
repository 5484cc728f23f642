#!/bin/sh
# Make sure Debian's chromium is installed for the leaderboard's browser test (driven by Playwright
# through its executable path; `playwright install` is never used). Safe to re-run.
set -eu

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

CHROMIUM="${OBENCH_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
[ "$(id -u)" = 0 ] || die "the browser test needs Debian's chromium at $CHROMIUM: sudo apt-get install -y chromium
  (or point OBENCH_CHROMIUM at another Chromium binary), then re-run"
command -v apt-get >/dev/null 2>&1 || die "no apt-get here: install Chromium and set OBENCH_CHROMIUM to its path"
log "installing chromium (apt-get) for the browser test"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq chromium >&2 || { apt-get update -qq >&2 && apt-get install -y -qq chromium >&2; }
[ -x "$CHROMIUM" ] || die "chromium was installed but $CHROMIUM is missing; set OBENCH_CHROMIUM"
