// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The one place where errors become HTTP: every problem kind with its status, slug and title,
// and the mapping of core Error::Code values onto those kinds.
#include "vivarium/server/ApiProblem.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace vivarium::server {

namespace {

struct KindInfo
{
    ApiProblem::Kind kind;
    int status;
    const char* slug;
    const char* title;
};

using K = ApiProblem::Kind;

constexpr KindInfo Table[] = {
    {K::MalformedJson, 400, "malformed-json", "The body is not well-formed JSON"},
    {K::InvalidRequest, 400, "invalid-request", "The request is not valid"},
    {K::Unauthorized, 401, "unauthorized", "A valid API key is required"},
    {K::ApiKeyRevoked, 401, "api-key-revoked", "The API key was revoked"},
    {K::InsufficientScope, 403, "insufficient-scope", "The API key lacks the scope this needs"},
    {K::HostNotAllowed, 403, "host-not-allowed", "The Host header names another server"},
    {K::CrossOriginRefused, 403, "cross-origin-refused", "Cross-origin requests are refused"},
    {K::NotFound, 404, "not-found", "Not found"},
    {K::MethodNotAllowed, 405, "method-not-allowed", "Method not allowed on this resource"},
    {K::NotAcceptable, 406, "not-acceptable", "No acceptable representation"},
    {K::RequestTimeout, 408, "request-timeout", "The request took too long to arrive"},
    {K::Conflict, 409, "conflict", "The request conflicts with the current state"},
    {K::LengthRequired, 411, "length-required", "A body length is required"},
    {K::PayloadTooLarge, 413, "payload-too-large", "The body is too large"},
    {K::UnsupportedMediaType, 415, "unsupported-media-type", "The body must be application/json"},
    {K::ValidationFailed, 422, "validation-failed", "The request has invalid fields"},
    {K::IdempotencyKeyReused, 422, "idempotency-key-reused",
     "The Idempotency-Key was used with a different request"},
    {K::RateLimited, 429, "rate-limited", "Too many requests"},
    {K::HeadersTooLarge, 431, "headers-too-large", "The request headers are too large"},
    {K::InternalError, 500, "internal-error", "Internal error"},
    {K::Unsupported, 501, "not-implemented", "Not implemented"},
    {K::Unavailable, 503, "unavailable", "The service is temporarily unavailable"},
};

const KindInfo& info(K kind)
{
    for (const KindInfo& i : Table)
        if (i.kind == kind)
            return i;
    return Table[std::size(Table) - 3]; // internal-error
}

} // namespace

ApiProblem ApiProblem::fromError(const Error& error)
{
    Kind kind = Kind::InternalError;
    switch (error.code) {
    case Error::Code::Parse:
        kind = Kind::MalformedJson;
        break;
    case Error::Code::Validation:
        kind = Kind::ValidationFailed;
        break;
    case Error::Code::NotFound:
        kind = Kind::NotFound;
        break;
    case Error::Code::Conflict:
        kind = Kind::Conflict;
        break;
    case Error::Code::Locked:
        kind = Kind::Unavailable;
        break;
    case Error::Code::Unsupported:
        kind = Kind::Unsupported;
        break;
    case Error::Code::Io:
    case Error::Code::Database:
    case Error::Code::Internal:
        kind = Kind::InternalError;
        break;
    }
    ApiProblem p(kind, error.message, error.details);
    if (kind == Kind::Unavailable)
        p.headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("1")));
    return p;
}

int ApiProblem::status() const
{
    return statusOf(kind);
}

QString ApiProblem::slug() const
{
    return slugOf(kind);
}

QString ApiProblem::typeUri() const
{
    return QStringLiteral("https://vivarium.dev/problems/") + slug();
}

QString ApiProblem::title() const
{
    return titleOf(kind);
}

int ApiProblem::statusOf(Kind k)
{
    return info(k).status;
}

QString ApiProblem::slugOf(Kind k)
{
    return QString::fromLatin1(info(k).slug);
}

QString ApiProblem::titleOf(Kind k)
{
    return QString::fromLatin1(info(k).title);
}

QList<ApiProblem::Kind> ApiProblem::allKinds()
{
    QList<Kind> all;
    for (const KindInfo& i : Table)
        all << i.kind;
    return all;
}

QJsonObject ApiProblem::toJson(const QString& instance) const
{
    QJsonObject o{{QStringLiteral("type"), typeUri()},
                  {QStringLiteral("title"), title()},
                  {QStringLiteral("status"), status()},
                  {QStringLiteral("detail"), detail.isEmpty() ? title() : detail}};
    if (!instance.isEmpty())
        o.insert(QStringLiteral("instance"), instance);
    if (!errors.isEmpty())
        o.insert(QStringLiteral("errors"), QJsonArray::fromStringList(errors));
    return o;
}

HttpResponse ApiProblem::toResponse(const QString& instance) const
{
    HttpResponse r;
    r.status = status();
    r.headers = headers;
    r.setHeader("Content-Type", "application/problem+json");
    r.setHeader("Cache-Control", "no-store");
    r.setHeader("X-Content-Type-Options", "nosniff");
    r.body = QJsonDocument(toJson(instance)).toJson(QJsonDocument::Compact);
    return r;
}

} // namespace vivarium::server
