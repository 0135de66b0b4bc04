#!/usr/bin/env bash
# Debian's Chromium for the browser tests: Playwright's own browser download cannot be reached
# from these machines, Debian's package can. Never fails `make test`: when the install is not
# possible the browser tests skip, and say so, and so does this script.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" != 0 ] && sudo="sudo -n"
if command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests (apt-get, once)..."
    $sudo apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            chromium fonts-dejavu-core >/dev/null &&
        exit 0
fi
echo "WARNING: Chromium could not be installed; the browser tests (tests/test_page.py) will be SKIPPED." >&2
exit 0
