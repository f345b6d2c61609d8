// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrlQuery>

namespace vivarium::server {

/** Header lines in order; names as sent on the wire (lookups are case-insensitive). */
using HttpHeaders = QList<QPair<QByteArray, QByteArray>>;

/** One parsed HTTP/1.x request, body complete (the front end enforces the size limits). */
struct HttpRequest
{
    QByteArray method; ///< "GET", "POST", ...
    QByteArray target; ///< as sent: path and query, still percent-encoded
    QString path;      ///< decoded path, no query
    QUrlQuery query;
    HttpHeaders headers;
    QByteArray body;
    QHostAddress peer;
    int httpMinor = 1; ///< HTTP/1.<minor>
    bool tls = false;

    /** First value of a header (case-insensitive name); empty if absent. */
    QByteArray header(QByteArrayView name) const;
    bool hasHeader(QByteArrayView name) const;
};

/** A complete (non-streaming) response. Content-Length and Connection are added on write. */
struct HttpResponse
{
    int status = 200;
    HttpHeaders headers;
    QByteArray body;

    HttpResponse& setHeader(const QByteArray& name, const QByteArray& value);
};

/** The reason phrase of a status code ("Not Found"); "Unknown" for codes it does not know. */
QByteArray httpReasonPhrase(int status);

} // namespace vivarium::server
