// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Logging.h"

Q_LOGGING_CATEGORY(lcStore, "vivarium.core.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAgents, "vivarium.core.agents", QtInfoMsg)
Q_LOGGING_CATEGORY(lcPaths, "vivarium.core.paths", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEngine, "vivarium.core.engine", QtInfoMsg)
