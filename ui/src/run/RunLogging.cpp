// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "run/RunLogging.h"

Q_LOGGING_CATEGORY(lcUiRun, "vivarium.ui.run", QtInfoMsg)
