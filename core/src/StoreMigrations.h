// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <span>

namespace vivarium::storedetail {

/** One schema step. Applied in its own transaction together with `PRAGMA user_version`. */
struct Migration
{
    int version = 0;                         ///< user_version after this step; 1, 2, ... no gaps
    const char* description = nullptr;       ///< for error messages and logs
    std::span<const char* const> statements; ///< one statement each (QSQLITE runs only one)
};

/** Every migration, ascending by version. Append only: released steps never change. */
std::span<const Migration> migrations();

} // namespace vivarium::storedetail
