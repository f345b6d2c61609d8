# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The JSON Schema validator (tools and output schemas) and vivarium-runner, the agent loop.
# tst_runner spawns the real runner binary against an in-test fake broker (QLocalServer), and
# also drives ConfinedDir directly to cover the non-openat2 fallback.
vivarium_add_test(tst_jsonschema SOURCES tst_JsonSchema.cpp LIBS vivarium_protocol LABELS unit)

vivarium_add_test(tst_runner SOURCES tst_Runner.cpp
    LIBS vivarium_protocol vivarium_runner_lib Qt6::Network
    LABELS integration
    TIMEOUT 120)
add_dependencies(tst_runner vivarium-runner)
