// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// The desktop app's shell: main window, editor, settings, tray. Never a secret value.
Q_DECLARE_LOGGING_CATEGORY(lcUi)
