// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// Webhook subscriptions and delivery. Never log a signing secret, a signature or a payload:
// only ids, hosts, statuses and timings.
Q_DECLARE_LOGGING_CATEGORY(lcServerWebhooks)
