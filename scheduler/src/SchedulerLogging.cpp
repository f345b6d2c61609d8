// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SchedulerLogging.h"

Q_LOGGING_CATEGORY(lcSchedulerService, "vivarium.scheduler.service", QtInfoMsg)
