// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiProblem.h"
#include "vivarium/server/HttpTypes.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <expected>

namespace vivarium::server {

/** Who made an authenticated request: the API key (never its secret) and its scopes. */
struct ApiPrincipal
{
    QString keyId;   ///< "key_<prefix>"
    QString keyName; ///< the name given at `api-key create`
    QStringList scopes;

    /** True if the key holds `scope`; `admin` holds every scope. */
    bool hasScope(const QString& scope) const;
    /** "api:<key name>": the trigger of runs it starts and the actor of its audit rows. */
    QString actor() const { return QStringLiteral("api:") + keyName; }
};

/** A request after routing and authentication, as a controller's handler sees it. */
class ApiRequest
{
public:
    ApiRequest(const HttpRequest& http, QHash<QString, QString> params, ApiPrincipal principal)
        : m_http(http)
        , m_params(std::move(params))
        , m_principal(std::move(principal))
    {}

    const HttpRequest& http() const { return m_http; }
    const ApiPrincipal& principal() const { return m_principal; }
    /** A `{name}` segment of the route's path, percent-decoded. */
    QString param(const QString& name) const { return m_params.value(name); }
    /** A query parameter, decoded; empty if absent. */
    QString query(const QString& name) const;
    bool hasQuery(const QString& name) const;
    /** Query parameters other than `allowed`: listed in an InvalidRequest problem. */
    std::expected<void, ApiProblem> onlyQuery(const QStringList& allowed) const;

    /**
     * The body as a JSON object. Problems: UnsupportedMediaType (a body whose Content-Type is
     * not application/json), MalformedJson (syntax, with the offset; or not an object).
     * An empty body gives an empty object when `emptyIsObject`.
     */
    std::expected<QJsonObject, ApiProblem> jsonObject(bool emptyIsObject = false) const;

    /** True when the client asked for text/event-stream in Accept. */
    bool acceptsEventStream() const;

private:
    const HttpRequest& m_http;
    QHash<QString, QString> m_params;
    ApiPrincipal m_principal;
};

} // namespace vivarium::server
