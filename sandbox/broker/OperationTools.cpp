// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "OperationTools.h"

#include <QJsonObject>

namespace vivarium {

OperationTools operationTools(const QList<ProviderGrant>& grants, const ProviderCatalog& catalog)
{
    OperationTools out;
    QStringList order; ///< tool names in grant order
    QHash<QString, QJsonObject> byName;
    for (const ProviderGrant& g : grants) {
        if (g.operations.isEmpty())
            continue;
        auto manifest = catalog.find(g.provider);
        if (!manifest) {
            out.warnings.append(QStringLiteral("provider \"%1\" is not in the catalog, so its "
                                               "operations (%2) are not offered: %3")
                                    .arg(g.provider, g.operations.join(QStringLiteral(", ")),
                                         manifest.error().message));
            continue;
        }
        for (const QString& name : g.operations) {
            const ProviderOperation* op = manifest->operation(name);
            if (!op) {
                QStringList known;
                for (const ProviderOperation& o : manifest->operations)
                    known.append(o.name);
                out.warnings.append(
                    QStringLiteral("provider \"%1\" has no operation \"%2\" (it has: %3); not "
                                   "offered")
                        .arg(g.provider, name, known.join(QStringLiteral(", "))));
                continue;
            }
            const QString tool = ProviderCatalog::toolName(g.provider, name);
            if (byName.contains(tool)) {
                QJsonObject t = byName.value(tool);
                QJsonArray connections = t.value(QStringLiteral("connections")).toArray();
                if (!connections.contains(g.connection))
                    connections.append(g.connection);
                t.insert(QStringLiteral("connections"), connections);
                byName.insert(tool, t);
                continue;
            }
            QString description = op->description;
            description +=
                op->writes ? QStringLiteral("\n(%1; this changes data there.)").arg(manifest->name)
                           : QStringLiteral("\n(%1; read only.)").arg(manifest->name);
            order.append(tool);
            byName.insert(
                tool, QJsonObject{{QStringLiteral("name"), tool},
                                  {QStringLiteral("provider"), g.provider},
                                  {QStringLiteral("operation"), name},
                                  {QStringLiteral("connections"), QJsonArray{g.connection}},
                                  {QStringLiteral("description"), description},
                                  {QStringLiteral("parameters"), ProviderCatalog::modelSchema(*op)},
                                  {QStringLiteral("writes"), op->writes}});
        }
    }
    for (const QString& tool : std::as_const(order))
        out.tools.append(byName.value(tool));
    return out;
}

} // namespace vivarium
