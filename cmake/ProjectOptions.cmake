# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# One INTERFACE target carries the language level, warnings and Qt strictness; every target
# links it instead of touching global flags.
add_library(vivarium_options INTERFACE)
add_library(Vivarium::Options ALIAS vivarium_options)
target_compile_features(vivarium_options INTERFACE cxx_std_23)
set(CMAKE_CXX_EXTENSIONS OFF)
target_compile_options(vivarium_options INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
        -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wformat=2>)
target_compile_definitions(vivarium_options INTERFACE
    QT_NO_URL_CAST_FROM_STRING
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_FOREACH
    QT_USE_QSTRINGBUILDER
    QT_DISABLE_DEPRECATED_UP_TO=0x060400
    VIVARIUM_VERSION="${PROJECT_VERSION}")

option(VIVARIUM_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
add_feature_info(Sanitizers VIVARIUM_SANITIZE "ASan + UBSan instrumentation")
if(VIVARIUM_SANITIZE)
    target_compile_options(vivarium_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(vivarium_options INTERFACE -fsanitize=address,undefined)
endif()
