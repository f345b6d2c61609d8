# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Sandbox tiers (docs/sandbox.md). tst_sandboxprofile: the bwrap argument list, the seccomp
# deny-list and the tier table, as data. tst_sandboxattacks: the adversarial suite; every attack
# runs inside the real sandbox through `vivarium sandbox run`, fixtures live in temp dirs.
# With REQUIRE_SANDBOX=1 (CI) a host that cannot run bwrap fails the suite instead of skipping.

# One attack per subcommand, printed as "blocked ..." or "escaped ...". Plain libc.
add_executable(sandbox_probe sandbox_probe.cpp)
target_link_libraries(sandbox_probe PRIVATE vivarium_options)
set_target_properties(sandbox_probe PROPERTIES AUTOMOC OFF)

vivarium_add_test(tst_sandboxprofile SOURCES tst_SandboxProfile.cpp LIBS vivarium_sandbox
    LABELS unit sandbox)

if(DEFINED ENV{REQUIRE_SANDBOX})
    set(vivarium_require_sandbox "$ENV{REQUIRE_SANDBOX}")
elseif("$ENV{CI}" STREQUAL "true")
    set(vivarium_require_sandbox 1)
else()
    set(vivarium_require_sandbox 0)
endif()
vivarium_add_test(tst_sandboxattacks SOURCES tst_SandboxAttacks.cpp LIBS vivarium_core
    LABELS sandbox TIMEOUT 900
    ENVIRONMENT REQUIRE_SANDBOX=${vivarium_require_sandbox})
add_dependencies(tst_sandboxattacks vivarium vivarium-runner vivarium-sandbox-init sandbox_probe)
