// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "schedule/ScheduleLogging.h"

Q_LOGGING_CATEGORY(lcUiSchedule, "vivarium.ui.schedule", QtInfoMsg)
