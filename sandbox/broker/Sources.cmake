# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The broker's provider calls (docs/broker.md): policy, caller, redaction, the per-run glue.
# Sources of vivarium_sandbox; private headers are included as "broker/..." and
# "supervisor/..." from the sandbox folder.
target_sources(vivarium_sandbox PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/BrokerLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/BrokerLogging.h
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionTest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/OperationTools.cpp
    ${CMAKE_CURRENT_LIST_DIR}/OperationTools.h
    ${CMAKE_CURRENT_LIST_DIR}/ProviderBroker.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ProviderBroker.h
    ${CMAKE_CURRENT_LIST_DIR}/ProviderCaller.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ProviderCaller.h
    ${CMAKE_CURRENT_LIST_DIR}/ProviderCallPolicy.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ProviderCallPolicy.h
    ${CMAKE_CURRENT_LIST_DIR}/ProviderCredentials.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ResponseScrubber.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ResponseScrubber.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/ProviderCalls.h
)
target_include_directories(vivarium_sandbox PRIVATE ${CMAKE_SOURCE_DIR}/sandbox)
