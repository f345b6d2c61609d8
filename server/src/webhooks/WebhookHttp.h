// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <atomic>

namespace vivarium::webhookhttp {

/** One webhook POST as the dispatcher prepared it (headers already signed). */
struct Request
{
    QString url;
    QByteArray body;
    QList<QByteArray> headers; ///< "Name: value"
    int connectTimeoutMs = 5000;
    int totalTimeoutMs = 15'000;
};

/** How the POST ended. */
struct Response
{
    int status = 0;        ///< 0: no HTTP answer (see error)
    QByteArray retryAfter; ///< the Retry-After header, raw
    QByteArray location;   ///< a redirect's target, reported, never followed
    QString error;         ///< transport failure ("connection refused", "timed out after ...")
    bool timedOut = false;
    bool cancelled = false;
    qint64 durationMs = 0;
    QByteArray bodyExcerpt; ///< the first bytes of the answer, for the attempt log
};

/**
 * POST through libcurl on the calling thread (a worker): http/https only, redirects never
 * followed, no proxy for loopback, connect and total timeouts, the answer's body read and
 * dropped beyond a short excerpt. `cancel` aborts within about a second.
 */
Response post(const Request& request, const std::atomic<bool>& cancel);

} // namespace vivarium::webhookhttp
