# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Run supervisor and broker: the failure modes a real runner never produces, with a scriptable
# fake runner (its mode comes from the run's input); end to end with the real runner.

# Stand-in runner; lands in the shared bin dir beside vivarium-runner.
add_executable(supervisor_fake_runner fake_runner.cpp)
target_link_libraries(supervisor_fake_runner PRIVATE Qt6::Core vivarium_options)

vivarium_add_test(tst_runsupervisor SOURCES tst_RunSupervisor.cpp LIBS vivarium_sandbox
    LABELS integration TIMEOUT 180)
add_dependencies(tst_runsupervisor supervisor_fake_runner vivarium-runner)
