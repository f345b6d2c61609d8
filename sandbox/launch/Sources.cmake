# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Sandbox tiers (docs/sandbox.md): the bwrap profile, the seccomp deny-list (libseccomp),
# rlimits, Landlock, tier selection; sources of vivarium_sandbox. Plus vivarium-sandbox-init,
# the first program inside a bwrap sandbox (sets RLIMIT_NPROC in the sandbox's user namespace).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBSECCOMP REQUIRED IMPORTED_TARGET libseccomp>=2.5)

target_sources(vivarium_sandbox PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/LandlockRules.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LandlockRules.h
    ${CMAKE_CURRENT_LIST_DIR}/Rlimits.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SandboxLauncher.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SandboxProfile.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SandboxTier.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SeccompFilter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/TierSelection.cpp
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/Rlimits.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/SandboxLauncher.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/SandboxProfile.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/SandboxTier.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/SeccompFilter.h
    ${CMAKE_SOURCE_DIR}/sandbox/include/vivarium/sandbox/TierSelection.h
)
target_link_libraries(vivarium_sandbox PRIVATE PkgConfig::LIBSECCOMP)
set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/SandboxLauncher.cpp APPEND PROPERTY
    COMPILE_DEFINITIONS VIVARIUM_LIBEXEC_DIR="${CMAKE_INSTALL_FULL_LIBEXECDIR}")

# Plain C++, no Qt: it runs inside every sandbox before the command.
add_executable(vivarium-sandbox-init ${CMAKE_CURRENT_LIST_DIR}/sandbox_init.cpp)
target_link_libraries(vivarium-sandbox-init PRIVATE vivarium_options)
set_target_properties(vivarium-sandbox-init PROPERTIES AUTOMOC OFF)
# Everything that starts sandboxes finds it beside itself or the runner.
add_dependencies(vivarium_sandbox vivarium-sandbox-init)
install(TARGETS vivarium-sandbox-init RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/vivarium)
