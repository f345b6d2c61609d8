# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE, installers/CMakeLists.txt).
if(CPACK_GENERATOR STREQUAL "DEB")
    # The Debian synopsis is the first line of each component's description.
    unset(CPACK_PACKAGE_DESCRIPTION_SUMMARY)
endif()
