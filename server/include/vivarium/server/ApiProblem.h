// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/server/HttpTypes.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace vivarium::server {

/**
 * An RFC 9457 problem (`application/problem+json`). Every error the API sends is one of these,
 * and every `type` comes from the table in ApiProblem.cpp: the ONE place where problem kinds
 * and core Error::Code values are mapped to HTTP status codes.
 */
struct ApiProblem
{
    /** The stable kinds; each has a slug (type URI https://vivarium.dev/problems/<slug>). */
    enum class Kind {
        MalformedJson,        ///< 400 malformed-json
        InvalidRequest,       ///< 400 invalid-request: bad query parameter, path, header
        Unauthorized,         ///< 401 unauthorized: no key, unknown key
        ApiKeyRevoked,        ///< 401 api-key-revoked
        InsufficientScope,    ///< 403 insufficient-scope
        HostNotAllowed,       ///< 403 host-not-allowed (DNS rebinding defence)
        CrossOriginRefused,   ///< 403 cross-origin-refused (CORS closed)
        NotFound,             ///< 404 not-found
        MethodNotAllowed,     ///< 405 method-not-allowed
        NotAcceptable,        ///< 406 not-acceptable
        RequestTimeout,       ///< 408 request-timeout
        Conflict,             ///< 409 conflict
        LengthRequired,       ///< 411 length-required
        PayloadTooLarge,      ///< 413 payload-too-large
        UnsupportedMediaType, ///< 415 unsupported-media-type
        ValidationFailed,     ///< 422 validation-failed (errors[] lists every problem)
        IdempotencyKeyReused, ///< 422 idempotency-key-reused
        RateLimited,          ///< 429 rate-limited (Retry-After)
        HeadersTooLarge,      ///< 431 headers-too-large
        InternalError,        ///< 500 internal-error
        Unsupported,          ///< 501 not-implemented: Error::Code::Unsupported (e.g. a store
                              ///< written by a newer Vivarium)
        Unavailable,          ///< 503 unavailable (busy store, shutting down, too many clients)
    };

    Kind kind = Kind::InternalError;
    QString detail;      ///< a sentence for a human about this occurrence
    QStringList errors;  ///< one line per individual problem (validation)
    HttpHeaders headers; ///< extra headers (Retry-After, Allow, WWW-Authenticate)

    ApiProblem() = default;
    ApiProblem(Kind k, QString d, QStringList e = {})
        : kind(k)
        , detail(std::move(d))
        , errors(std::move(e))
    {}

    /** The one mapping of core errors: Validation -> 422, NotFound -> 404, Locked -> 503, ... */
    static ApiProblem fromError(const Error& error);

    int status() const;
    QString slug() const;
    QString typeUri() const; ///< "https://vivarium.dev/problems/" + slug
    QString title() const;
    QJsonObject toJson(const QString& instance = {}) const;
    HttpResponse toResponse(const QString& instance = {}) const;

    /** Every kind, for docs and the OpenAPI test. */
    static QList<Kind> allKinds();
    static QString slugOf(Kind k);
    static int statusOf(Kind k);
    static QString titleOf(Kind k);
};

} // namespace vivarium::server
