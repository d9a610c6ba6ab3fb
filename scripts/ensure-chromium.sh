#!/usr/bin/env bash
# Runs before `npm test`: the dashboard's browser test drives Debian's Chromium (playwright-core cannot download a
# browser here). Installs it when missing and we may (root with apt-get); otherwise says how, and the test will too.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser test (apt-get install chromium)…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is missing at $chromium: install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH." >&2
fi
