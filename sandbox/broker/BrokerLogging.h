// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// The broker's provider calls. Never a secret, a header value or a query string.
Q_DECLARE_LOGGING_CATEGORY(lcBroker)
