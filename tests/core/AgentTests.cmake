# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Agent definitions: loading, validation diagnostics, canonical JSON and export.
# Fixtures live in fixtures/agents/ (good/ and bad/); the test finds them via VIVARIUM_SOURCE_DIR.
vivarium_add_test(tst_agentloader SOURCES tst_AgentLoader.cpp LIBS vivarium_core LABELS unit)
