# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Run supervisor and broker: sources of vivarium_sandbox. Private headers stay in this folder.
target_sources(vivarium_sandbox PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/EventJournal.cpp
    ${CMAKE_CURRENT_LIST_DIR}/EventJournal.h
    ${CMAKE_CURRENT_LIST_DIR}/RunnerProcess.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RunnerProcess.h
    ${CMAKE_CURRENT_LIST_DIR}/RunSession.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RunSession.h
    ${CMAKE_CURRENT_LIST_DIR}/RunSupervisor.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SecretRedactor.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SecretRedactor.h
    ${CMAKE_CURRENT_LIST_DIR}/SupervisorContext.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SupervisorContext.h
    ${CMAKE_CURRENT_LIST_DIR}/SupervisorLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SupervisorLogging.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/RunSupervisor.h
)
