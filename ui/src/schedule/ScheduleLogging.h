// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

/** The schedule editor and the schedule ledger. */
Q_DECLARE_LOGGING_CATEGORY(lcUiSchedule)
