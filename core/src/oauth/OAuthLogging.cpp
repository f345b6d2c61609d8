// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "OAuthLogging.h"

Q_LOGGING_CATEGORY(lcOAuth, "vivarium.core.oauth", QtInfoMsg)
