// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QString>

namespace vivarium {

/**
 * Start the desktop app at login through XDG autostart (the freedesktop.org Desktop
 * Application Autostart spec): `$XDG_CONFIG_HOME/autostart/vivarium.desktop`, written or
 * removed when the `gui.autostart` setting changes. Only a file this class wrote (it carries
 * `X-Vivarium-Autostart=true`) is ever removed.
 */
class Autostart
{
public:
    /** `<XDG config home>/autostart/vivarium.desktop`. */
    static QString entryPath();
    /** True when our entry exists. */
    static bool isInstalled();
    /**
     * Write (or rewrite, when the executable moved) or remove the entry. `dataDir` goes on the
     * command line so the app opens the same data directory at login. Io names the path.
     */
    static Status apply(bool enabled, const QString& executable, const QString& dataDir);
    /** The entry's text (what apply() writes): for tests and the docs. */
    static QByteArray entryText(const QString& executable, const QString& dataDir);
};

} // namespace vivarium
