// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ServerLogging.h"

Q_LOGGING_CATEGORY(lcServerApi, "vivarium.server.api", QtInfoMsg)
Q_LOGGING_CATEGORY(lcServerHttp, "vivarium.server.http", QtInfoMsg)
