// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QJsonDocument>
#include <QList>
#include <QPair>

namespace testsupport {

/** One HTTP response as read off a raw socket (parsed by http-parser, not by hand). */
struct RawResponse
{
    int status = 0; ///< 0: no complete response head arrived
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    bool complete = false; ///< the whole message arrived
    bool closed = false;   ///< the server closed the connection
    QByteArray header(const QByteArray& name) const;
    QJsonDocument json() const { return QJsonDocument::fromJson(body); }
};

/**
 * Send `bytes` (one or more raw requests) to 127.0.0.1:`port` and read one response; waits in
 * the event loop (so in-process servers keep working), at most `timeoutMs`. `keepSending`
 * bytes are written after the head in pieces while no response has arrived (huge uploads).
 */
RawResponse rawExchange(quint16 port, const QByteArray& bytes, int timeoutMs = 10000,
                        qint64 keepSending = 0);

/** "METHOD path HTTP/1.1", Host 127.0.0.1:port unless given, Content-Length when a body. */
QByteArray rawRequest(quint16 port, const QByteArray& method, const QByteArray& path,
                      const QList<QPair<QByteArray, QByteArray>>& headers = {},
                      const QByteArray& body = {});

} // namespace testsupport
