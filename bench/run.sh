#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# One command for the benchmarks: a release build (with the test fakes), then every figure with
# its baseline. `bench/run.sh foundation`, `bench/run.sh runs`, `bench/run.sh scheduler` or
# `bench/run.sh broker` runs one part (`bench/run.sh sandbox`: sandbox start-up overhead;
# `bench/run.sh secrets`: vault and keychain latency; `bench/run.sh api`: the HTTP API with wrk
# and 200 SSE clients; `bench/run.sh webhooks`: run.finished to
# a signed POST at a loopback receiver; `bench/run.sh timeline`: the desktop
# app's run timeline with 1,000 events; `bench/run.sh gui`: the desktop app's start-up and
# memory with 200 agents and 10,000 runs).
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:-all}"
parts="foundation runs scheduler broker sandbox secrets api webhooks timeline gui"
case " all $parts " in
*" $part "*) ;;
*)
    echo "bench/run.sh: unknown part \"$part\"; one of: all $parts" >&2
    exit 2
    ;;
esac
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
if [ "$part" = all ] || [ "$part" = secrets ]; then
    cmake --build --preset bench -j "$(nproc)" --target vivarium-bench-secrets >/dev/null
    echo
    build/bench/bin/vivarium-bench-secrets
fi
if [ "$part" = all ] || [ "$part" = api ]; then
    cmake --build --preset bench -j "$(nproc)" --target vivarium-bench-api >/dev/null
    echo
    build/bench/bin/vivarium-bench-api
fi
if [ "$part" = all ] || [ "$part" = webhooks ]; then
    cmake --build --preset bench -j "$(nproc)" --target vivarium-bench-webhooks >/dev/null
    echo
    build/bench/bin/vivarium-bench-webhooks
fi
if [ "$part" = all ] || [ "$part" = timeline ]; then
    # The bench preset leaves the GUI out; the release preset (GUI on, tests off) builds it.
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)" --target vivarium-bench-timeline >/dev/null
    echo
    QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" build/release/bin/vivarium-bench-timeline
fi
if [ "$part" = all ] || [ "$part" = gui ]; then
    # As timeline: the release preset has the GUI.
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)" --target vivarium-bench-gui >/dev/null
    echo
    QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" build/release/bin/vivarium-bench-gui
fi
