# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Store: migrations, agents, runs, events (unit) and crash safety under SIGKILL (integration).
vivarium_add_test(tst_store SOURCES tst_Store.cpp LIBS vivarium_core LABELS unit)

# Writes runs and events in a loop until killed; driven by tst_storecrash.
add_executable(store_crash_writer store_crash_writer.cpp)
target_link_libraries(store_crash_writer PRIVATE vivarium_core vivarium_options)

vivarium_add_test(tst_storecrash SOURCES tst_StoreCrash.cpp LIBS vivarium_core
    LABELS integration slow TIMEOUT 300)
add_dependencies(tst_storecrash store_crash_writer)
