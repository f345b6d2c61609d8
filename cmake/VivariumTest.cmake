# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# vivarium_add_test(NAME SOURCES a.cpp ... LIBS ... LABELS unit|integration|gui|sandbox|slow
#                   [TIMEOUT s] [ENVIRONMENT K=V ...])
# One Qt Test executable per class or feature. Every test gets a private HOME and XDG dirs, and
# no session bus (tests that need a keychain start their own), so nothing touches the real
# user's config, keychain or data.
function(vivarium_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENVIRONMENT" ${ARGN})
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE Qt6::Test vivarium_test_support vivarium_options ${T_LIBS})
    add_test(NAME ${name} COMMAND ${name})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 120)
    endif()
    set(test_home ${CMAKE_BINARY_DIR}/test-home/${name})
    set_tests_properties(${name} PROPERTIES
        LABELS "${T_LABELS}"
        TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "HOME=${test_home};XDG_DATA_HOME=${test_home}/.local/share;XDG_CONFIG_HOME=${test_home}/.config;XDG_CACHE_HOME=${test_home}/.cache;XDG_RUNTIME_DIR=${test_home}/run;QT_QPA_PLATFORM=offscreen;DBUS_SESSION_BUS_ADDRESS=;VIVARIUM_DATA_DIR=;VIVARIUM_BIN_DIR=${CMAKE_BINARY_DIR}/bin;VIVARIUM_SOURCE_DIR=${CMAKE_SOURCE_DIR};${T_ENVIRONMENT}")
    file(MAKE_DIRECTORY ${test_home}/run)
endfunction()
