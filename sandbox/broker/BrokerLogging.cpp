// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "BrokerLogging.h"

Q_LOGGING_CATEGORY(lcBroker, "vivarium.sandbox.broker", QtInfoMsg)
