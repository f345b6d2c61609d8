// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "WebhookLogging.h"

Q_LOGGING_CATEGORY(lcServerWebhooks, "vivarium.server.webhooks", QtInfoMsg)
