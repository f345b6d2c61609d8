# Scheduler service sources of vivarium_scheduler.
# Headers with Q_OBJECT are listed so AUTOMOC sees them.
target_sources(vivarium_scheduler PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/Scheduler.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SchedulerLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SchedulerLogging.h
    ${CMAKE_CURRENT_LIST_DIR}/ScheduleRules.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../include/vivarium/scheduler/Scheduler.h
    ${CMAKE_CURRENT_LIST_DIR}/../include/vivarium/scheduler/ScheduleLauncher.h
    ${CMAKE_CURRENT_LIST_DIR}/../include/vivarium/scheduler/ScheduleRules.h
    ${CMAKE_CURRENT_LIST_DIR}/../include/vivarium/scheduler/Clock.h
    ${CMAKE_CURRENT_LIST_DIR}/../include/vivarium/scheduler/SystemClock.h
    ${CMAKE_CURRENT_LIST_DIR}/../include/vivarium/scheduler/ManualClock.h
)
