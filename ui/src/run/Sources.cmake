# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# The run view (timeline model, detail, audit) and the insight chart (Qt Charts).
# Sources of vivarium_ui; private headers are included as "run/..." from ui/src.
find_package(Qt6 ${VIVARIUM_MIN_QT_VERSION} REQUIRED COMPONENTS Charts)
target_sources(vivarium_ui PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/RunChart.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RunFormat.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RunFormat.h
    ${CMAKE_CURRENT_LIST_DIR}/RunLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RunLogging.h
    ${CMAKE_CURRENT_LIST_DIR}/RunView.cpp
    ${CMAKE_CURRENT_LIST_DIR}/TimelineModel.cpp
    ${CMAKE_SOURCE_DIR}/ui/include/vivarium/ui/RunChart.h
    ${CMAKE_SOURCE_DIR}/ui/include/vivarium/ui/RunView.h
    ${CMAKE_SOURCE_DIR}/ui/include/vivarium/ui/TimelineModel.h
)
target_include_directories(vivarium_ui PRIVATE ${CMAKE_SOURCE_DIR}/ui/src)
target_link_libraries(vivarium_ui PRIVATE Qt6::Charts)
