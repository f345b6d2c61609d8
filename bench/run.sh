#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# One command for the benchmarks: a release build (with the test fakes), then every figure with
# its baseline. `bench/run.sh foundation` or `bench/run.sh runs` runs one part.
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:-all}"
cmake --preset bench >/dev/null
cmake --build --preset bench -j "$(nproc)" --target vivarium vivarium-runner vivarium-bench vivarium-bench-runs >/dev/null
if [ "$part" = all ] || [ "$part" = foundation ]; then
    build/bench/bin/vivarium-bench
    echo
fi
if [ "$part" = all ] || [ "$part" = runs ]; then
    build/bench/bin/vivarium-bench-runs
fi
