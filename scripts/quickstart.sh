#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The README's two commands:
#   scripts/quickstart.sh serve [serve args]   install deps, build (release), start the engine
#   scripts/quickstart.sh test                 install deps, build (ci preset), run every test
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
shift || true
jobs="$(nproc 2>/dev/null || echo 2)"

case "$mode" in
serve)
    scripts/install-deps.sh
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$jobs"
    echo "Starting: build/release/bin/vivarium serve $*  (Ctrl-C stops it)"
    exec build/release/bin/vivarium serve "$@"
    ;;
test)
    scripts/install-deps.sh
    # Test-only tools from npm (OAuth server, SSE client, webhook verifier): tests/npm.
    (cd tests/npm && npm ci --no-audit --no-fund --loglevel=error)
    cmake --preset ci
    cmake --build --preset ci -j "$jobs"
    exec ctest --preset ci "$@"
    ;;
*)
    echo "usage: scripts/quickstart.sh serve|test [args]" >&2
    exit 2
    ;;
esac
