// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/ApiRequest.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace vivarium::server {

bool ApiPrincipal::hasScope(const QString& scope) const
{
    return scope.isEmpty() || scopes.contains(scope) || scopes.contains(QStringLiteral("admin"));
}

QString ApiRequest::query(const QString& name) const
{
    return m_http.query.queryItemValue(name, QUrl::FullyDecoded);
}

bool ApiRequest::hasQuery(const QString& name) const
{
    return m_http.query.hasQueryItem(name);
}

std::expected<void, ApiProblem> ApiRequest::onlyQuery(const QStringList& allowed) const
{
    QStringList unknown;
    for (const auto& [key, value] : m_http.query.queryItems(QUrl::FullyDecoded))
        if (!allowed.contains(key) && !unknown.contains(key))
            unknown << key;
    if (unknown.isEmpty())
        return {};
    QStringList errors;
    for (const QString& k : unknown)
        errors << QStringLiteral("?%1: unknown query parameter; allowed: %2")
                      .arg(k, allowed.isEmpty() ? QStringLiteral("none")
                                                : allowed.join(QStringLiteral(", ")));
    return std::unexpected(ApiProblem(
        ApiProblem::Kind::InvalidRequest,
        QStringLiteral("unknown query parameter %1").arg(unknown.join(QStringLiteral(", "))),
        errors));
}

std::expected<QJsonObject, ApiProblem> ApiRequest::jsonObject(bool emptyIsObject) const
{
    const QByteArray& body = m_http.body;
    if (body.trimmed().isEmpty()) {
        if (emptyIsObject)
            return QJsonObject();
        return std::unexpected(ApiProblem(ApiProblem::Kind::MalformedJson,
                                          QStringLiteral("the body is empty; expected a JSON "
                                                         "object")));
    }
    // Only JSON bodies: also keeps HTML forms (text/plain, urlencoded) from ever being read.
    const QByteArray type = m_http.header("content-type");
    const qsizetype semi = type.indexOf(';');
    const QByteArray mime = (semi >= 0 ? type.left(semi) : type).trimmed().toLower();
    if (mime != "application/json") {
        return std::unexpected(ApiProblem(
            ApiProblem::Kind::UnsupportedMediaType,
            QStringLiteral("Content-Type is \"%1\"; send the body as application/json")
                .arg(QString::fromLatin1(type.isEmpty() ? QByteArray("(none)") : type))));
    }
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
    if (err.error != QJsonParseError::NoError) {
        return std::unexpected(ApiProblem(ApiProblem::Kind::MalformedJson,
                                          QStringLiteral("invalid JSON at offset %1: %2")
                                              .arg(err.offset)
                                              .arg(err.errorString())));
    }
    if (!doc.isObject()) {
        return std::unexpected(ApiProblem(
            ApiProblem::Kind::MalformedJson,
            QStringLiteral("the body must be a JSON object, got %1")
                .arg(doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a scalar"))));
    }
    return doc.object();
}

bool ApiRequest::acceptsEventStream() const
{
    const QByteArray accept = m_http.header("accept");
    return accept.isEmpty() || accept.contains("text/event-stream") || accept.contains("*/*");
}

} // namespace vivarium::server
