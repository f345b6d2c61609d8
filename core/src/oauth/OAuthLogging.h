// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// OAuth flows, token refresh and connections. Never a token, a code, a verifier, a client
// secret, a state value or a URL carrying one of them.
Q_DECLARE_LOGGING_CATEGORY(lcOAuth)
