// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

/** The run view, timeline and insight chart. */
Q_DECLARE_LOGGING_CATEGORY(lcUiRun)
