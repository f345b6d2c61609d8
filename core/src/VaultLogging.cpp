// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "VaultLogging.h"

Q_LOGGING_CATEGORY(lcSecrets, "vivarium.core.secrets", QtInfoMsg)
