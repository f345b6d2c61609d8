# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The scheduler service: schedules in the store and their sync with agent definitions (unit),
# the service under a controllable clock (unit), the CLI and a real `vivarium serve` firing
# schedules (integration).
vivarium_add_test(tst_schedule_store SOURCES tst_ScheduleStore.cpp LIBS vivarium_scheduler
    LABELS unit)
vivarium_add_test(tst_scheduler_service SOURCES tst_SchedulerService.cpp LIBS vivarium_scheduler
    LABELS unit TIMEOUT 180)
vivarium_add_test(tst_schedule_cli SOURCES tst_ScheduleCli.cpp LIBS vivarium_scheduler
    LABELS integration TIMEOUT 300)
add_dependencies(tst_schedule_cli vivarium vivarium-runner)
