// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiReply.h"
#include "vivarium/server/ApiRequest.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace vivarium::server {

/** The scopes an API key can hold (`vivarium api-key create NAME --scope ...`). */
namespace Scopes {
inline const QString AgentsRead = QStringLiteral("agents:read");
inline const QString AgentsWrite = QStringLiteral("agents:write");
inline const QString RunsRead = QStringLiteral("runs:read");
inline const QString RunsWrite = QStringLiteral("runs:write");
inline const QString WebhooksWrite = QStringLiteral("webhooks:write");
inline const QString Admin = QStringLiteral("admin");
/** Every scope, in documentation order. */
QStringList all();
} // namespace Scopes

using Handler = std::function<void(ApiRequest& request, ApiReply& reply)>;

/** One operation of the API: what /openapi.json documents and the router dispatches. */
struct Route
{
    QByteArray method; ///< GET, POST, PUT, DELETE
    /** Literal segments and `{name}` parameters: "/v1/runs/{id}/events". */
    QString path;
    /**
     * The scope the key must hold; empty: any valid key. `isPublic` routes need no key at all
     * (only GET /v1/health).
     */
    QString scope;
    bool isPublic = false;
    QString summary; ///< one line, for logs and the route table
    Handler handler;
};

/**
 * The route table: controllers add their routes at startup; the server matches each request
 * against it (405 with Allow when the path exists under other methods).
 */
class Router
{
public:
    struct Match
    {
        const Route* route = nullptr;
        QHash<QString, QString> params;
        QList<QByteArray> allowedMethods; ///< when the path matched but the method did not
    };

    /** Add a route. A duplicate method + path is a programming error (asserts, logs). */
    void add(Route route);
    Match match(const QByteArray& method, const QString& path) const;
    const QList<Route>& routes() const { return m_routes; }

private:
    QList<Route> m_routes;
    QList<QStringList> m_segments; ///< each route's path split at '/', once
};

} // namespace vivarium::server
