# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The schedule editor (cron checked as you type, next fires in a zone) and the ledger of
# skipped and missed fires. Sources of vivarium_ui.
target_sources(vivarium_ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/ScheduleEditor.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ScheduleLedger.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ScheduleLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ScheduleLogging.h
    ${CMAKE_CURRENT_LIST_DIR}/WrapLabel.h
    ${CMAKE_CURRENT_LIST_DIR}/ZonePicker.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ZonePicker.h
    ${CMAKE_SOURCE_DIR}/ui/include/vivarium/ui/ScheduleEditor.h
    ${CMAKE_SOURCE_DIR}/ui/include/vivarium/ui/ScheduleLedger.h
)
target_include_directories(vivarium_ui PRIVATE ${CMAKE_SOURCE_DIR}/ui/src)
