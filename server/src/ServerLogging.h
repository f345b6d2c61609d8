// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// The HTTP API: requests (debug), refusals and failures. Never logs an API key, an
// Authorization header or a request body.
Q_DECLARE_LOGGING_CATEGORY(lcServerApi)
// The HTTP/1.1 front end: connections, protocol errors, limits.
Q_DECLARE_LOGGING_CATEGORY(lcServerHttp)
