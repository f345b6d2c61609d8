// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QUrl>

#include <atomic>

namespace vivarium::oauth {

/** One HTTP exchange with an authorization server, as libcurl reported it. */
struct HttpReply
{
    enum class Outcome {
        Completed,     ///< a response arrived (any status)
        ConnectFailed, ///< refused, unreachable, DNS
        Timeout,
        TlsFailed,
        Cancelled,
        TooLarge, ///< the body passed MaxBodyBytes
        Broken,   ///< anything else on the wire
    };
    Outcome outcome = Outcome::Broken;
    int status = 0;
    QByteArray contentType; ///< lower case, parameters stripped
    QByteArray body;
    QString detail; ///< libcurl's text for transport failures (never carries the request)
};

struct HttpCall
{
    QByteArray method = "POST"; ///< POST or GET
    QUrl url;
    QByteArray body;           ///< application/x-www-form-urlencoded when POST
    QList<QByteArray> headers; ///< "Name: value"; may carry credentials: never logged
    int connectTimeoutMs = 10'000;
    int totalTimeoutMs = 30'000;
    const std::atomic<bool>* cancel = nullptr; ///< set from another thread to abort
};

constexpr qsizetype MaxBodyBytes = 1024 * 1024;

/**
 * Blocking HTTP(S) through libcurl on the calling thread: TLS verified against the system CA
 * store, redirects never followed (a token endpoint that redirects would take the client's
 * credentials along), http and https only, loopback never through a proxy.
 */
HttpReply perform(const HttpCall& call);

/** A sentence naming the endpoint for a transport failure ("connection refused by ..."). */
QString describeFailure(const HttpReply& reply, const QString& what, const QUrl& url);

} // namespace vivarium::oauth
