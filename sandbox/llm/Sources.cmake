# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Model clients (OpenAI-compatible chat completions and Anthropic Messages over libcurl):
# sources of vivarium_sandbox.
target_sources(vivarium_sandbox PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AnthropicClient.cpp
    ${CMAKE_CURRENT_LIST_DIR}/AnthropicStreamAssembler.cpp
    ${CMAKE_CURRENT_LIST_DIR}/CurlTransport.cpp
    ${CMAKE_CURRENT_LIST_DIR}/HttpLlmClient.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LlmClient.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LlmLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/OpenAiClient.cpp
    ${CMAKE_CURRENT_LIST_DIR}/OpenAiStreamAssembler.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PriceTable.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RetryPolicy.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SseParser.cpp
)
