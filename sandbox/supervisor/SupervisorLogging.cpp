// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SupervisorLogging.h"

Q_LOGGING_CATEGORY(lcSupervisor, "vivarium.sandbox.supervisor", QtInfoMsg)
