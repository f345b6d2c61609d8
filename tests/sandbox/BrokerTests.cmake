# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The broker's provider calls (docs/broker.md). tst_providerpolicy: the rules as pure functions
# (big data tables). tst_providercalls: real HTTP upstreams on 127.0.0.1 (FakeUpstream) behind a
# test-only resolver, never the real DNS or network; and one run end to end with the real
# runner. White-box: both include the broker's private headers.
vivarium_add_test(tst_providerpolicy SOURCES tst_ProviderPolicy.cpp
    LIBS vivarium_sandbox
    LABELS unit sandbox)
target_include_directories(tst_providerpolicy PRIVATE ${CMAKE_SOURCE_DIR}/sandbox)

vivarium_add_test(tst_providercalls SOURCES tst_ProviderCalls.cpp
    LIBS vivarium_sandbox
    LABELS integration sandbox
    TIMEOUT 180)
target_include_directories(tst_providercalls PRIVATE ${CMAKE_SOURCE_DIR}/sandbox)
add_dependencies(tst_providercalls vivarium-runner)

# Manifest operations through the broker and as the runner's tools (docs/providers.md):
# connection records and the vault for credentials, FakeUpstream on 127.0.0.1, and one run of
# the real runner with the fake model calling an operation tool.
vivarium_add_test(tst_provideroperations SOURCES tst_ProviderOperations.cpp
    LIBS vivarium_sandbox
    LABELS integration sandbox
    TIMEOUT 180)
target_include_directories(tst_provideroperations PRIVATE ${CMAKE_SOURCE_DIR}/sandbox)
add_dependencies(tst_provideroperations vivarium-runner)
