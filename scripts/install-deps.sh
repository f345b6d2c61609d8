#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Installs what building, running and testing Vivarium needs on Debian 12, from Debian's archive.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

PACKAGES=(
    # toolchain
    build-essential cmake ninja-build pkg-config
    # Qt 6.4 (Core, Network, Sql + SQLite driver, Widgets, Test, Charts)
    # (Qt6Charts' CMake config needs Qt6OpenGL's, which qt6-charts-dev does not pull in)
    qt6-base-dev qt6-base-dev-tools libqt6sql6-sqlite qt6-charts-dev libgl-dev
    libqt6opengl6-dev
    # the desktop app's SVG icons (Qt SVG and its icon engine plugin)
    qt6-svg-dev
    # libraries named in the README's dependency list
    qtkeychain-qt6-dev libcurl4-openssl-dev nlohmann-json3-dev libsodium-dev libseccomp-dev
    # run time: the sandbox
    bubblewrap
    # the HTTP API's request parser (Qt HttpServer 6.4 cannot bound body or header sizes)
    libhttp-parser-dev
    # benchmarks: the HTTP load generator of bench/run.sh api
    wrk
    # tests: a real secret service, an X server for screenshots
    gnome-keyring dbus-x11 xvfb
    # packaging (cpack -G DEB, tst_packaging): dpkg-shlibdeps computes Depends, file finds the
    # ELF files for it, lintian checks the packages, systemd-analyze verifies the units
    dpkg-dev file lintian systemd
)
# Node.js and npm run the test-only tools of tests/npm; machines that already have them (from
# NodeSource, nvm) keep theirs.
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
