#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# One command for the benchmarks: a release build (with the test fakes), then every figure with
# its baseline. `bench/run.sh foundation`, `bench/run.sh runs`, `bench/run.sh scheduler` or
# `bench/run.sh broker` runs one part (`bench/run.sh sandbox`: sandbox start-up overhead).
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:-all}"
cmake --preset bench >/dev/null
cmake --build --preset bench -j "$(nproc)" --target vivarium vivarium-runner vivarium-bench vivarium-bench-runs \
    vivarium-bench-scheduler vivarium-bench-broker >/dev/null
if [ "$part" = all ] || [ "$part" = foundation ]; then
    build/bench/bin/vivarium-bench
    echo
fi
if [ "$part" = all ] || [ "$part" = runs ]; then
    build/bench/bin/vivarium-bench-runs
    echo
fi
if [ "$part" = all ] || [ "$part" = scheduler ]; then
    build/bench/bin/vivarium-bench-scheduler
    echo
fi
if [ "$part" = all ] || [ "$part" = broker ]; then
    build/bench/bin/vivarium-bench-broker
fi
if [ "$part" = all ] || [ "$part" = sandbox ]; then
    cmake --build --preset bench -j "$(nproc)" --target vivarium-bench-sandbox >/dev/null
    echo
    build/bench/bin/vivarium-bench-sandbox
fi
