// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QMap>
#include <QString>
#include <QUrl>

#include <functional>

namespace vivarium {

class CancelToken;

/** Status and headers of the final (non-1xx) response. */
struct HttpHead
{
    int status = 0;
    QMap<QByteArray, QByteArray> headers; ///< names lower-cased; a repeated header keeps the last
    QByteArray header(const char* lowerCaseName) const { return headers.value(lowerCaseName); }
};

/** How one HTTP attempt ended. */
struct HttpResult
{
    enum class Outcome {
        Completed,      ///< a full response arrived (any status)
        Cancelled,      ///< the CancelToken fired
        ConnectTimeout, ///< no connection within connectTimeoutMs
        IdleTimeout,    ///< no byte for idleTimeoutMs
        TotalTimeout,   ///< the attempt exceeded totalTimeoutMs
        ConnectFailed,  ///< refused, unreachable, DNS
        TlsFailed,      ///< certificate or handshake failure: never retried
        Broken,         ///< reset or closed mid-response, other transport errors
        SinkStopped,    ///< the body sink refused more data
    };
    Outcome outcome = Outcome::Broken;
    HttpHead head;
    QByteArray errorBody; ///< body of a non-2xx response (capped)
    QString detail;       ///< transport error text (never contains headers)
    qint64 bytesReceived = 0;
    int bodyReads = 0; ///< how many pieces the body arrived in (for diagnostics)
};

/**
 * One HTTP POST through libcurl, driven on the calling thread. The 2xx body is handed to the
 * sink as it arrives (streaming); other bodies are collected for the error message. Waits in
 * slices of at most 50 ms so cancellation and the idle timeout act promptly even when no byte
 * moves. TLS is verified against the system CA store, redirects are never followed, and
 * loopback is never sent through a proxy.
 */
class CurlTransport
{
public:
    struct Request
    {
        QUrl url;
        QByteArray body;
        QList<QByteArray> headers; ///< "Name: value"; may hold the key: never logged
        int connectTimeoutMs = 10'000;
        int idleTimeoutMs = 120'000;
        int totalTimeoutMs = 600'000;
    };
    /** Gets each piece of a 2xx body; returning false aborts the transfer (SinkStopped). */
    using Sink = std::function<bool(const HttpHead& head, QByteArrayView bytes)>;

    static constexpr qsizetype MaxErrorBodyBytes = 64 * 1024;

    static HttpResult post(const Request& request, const CancelToken& cancel, const Sink& sink);
};

} // namespace vivarium
