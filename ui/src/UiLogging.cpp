// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "UiLogging.h"

Q_LOGGING_CATEGORY(lcUi, "vivarium.ui.main", QtInfoMsg)
