# Cron parser sources of vivarium_scheduler.
target_sources(vivarium_scheduler PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/CronExpression.cpp
    ${CMAKE_CURRENT_LIST_DIR}/CronExplain.cpp
    ${CMAKE_CURRENT_LIST_DIR}/CronSpec.cpp
    ${CMAKE_CURRENT_LIST_DIR}/CronSpec.h
)
