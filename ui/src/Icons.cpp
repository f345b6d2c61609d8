// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Icons.h"

#include <QHash>

// The resources live in a static library: nothing references their initializer, so the linker
// would drop it without this explicit call (outside any namespace, as Qt requires).
static void initIconResources()
{
    Q_INIT_RESOURCE(icons);
}

namespace vivarium::icons {

QIcon get(const QString& name)
{
    static const bool initialized = [] {
        initIconResources();
        return true;
    }();
    Q_UNUSED(initialized);
    static QHash<QString, QIcon> cache;
    auto it = cache.find(name);
    if (it == cache.end())
        it = cache.insert(name, QIcon(QStringLiteral(":/vivarium/icons/%1.svg").arg(name)));
    return *it;
}

} // namespace vivarium::icons
