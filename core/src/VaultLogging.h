// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// The secrets backends (file vault, keychain, selection). Names of secrets may be logged at
// debug level; values never are.
Q_DECLARE_LOGGING_CATEGORY(lcSecrets)
