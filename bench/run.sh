#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# One command for the benchmarks: release build, then every figure with its baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target vivarium vivarium-bench >/dev/null
exec build/release/bin/vivarium-bench "$@"
