# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Model clients (sandbox/llm) and the scripted fake model server (tests/support). The real
# vendor captures are read at test time from ../shared/conformance/llm-fixtures (not copied
# into the tree); the tests that need them skip, saying so, when that directory is missing.
set(VIVARIUM_LLM_FIXTURES ${CMAKE_SOURCE_DIR}/../shared/conformance/llm-fixtures)

vivarium_add_test(tst_llmclient SOURCES tst_LlmClient.cpp
    LIBS vivarium_sandbox
    LABELS unit
    TIMEOUT 90
    ENVIRONMENT VIVARIUM_LLM_FIXTURES=${VIVARIUM_LLM_FIXTURES})
# White-box: the parser, assemblers and retry policy are private to vivarium_sandbox.
target_include_directories(tst_llmclient PRIVATE ${CMAKE_SOURCE_DIR}/sandbox/llm)

vivarium_add_test(tst_fakemodelserver SOURCES tst_FakeModelServer.cpp
    LIBS vivarium_sandbox
    LABELS unit
    TIMEOUT 60)
add_dependencies(tst_fakemodelserver vivarium-fake-model)
