// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "ProviderCallPolicy.h"
#include "ResponseScrubber.h"

#include "vivarium/sandbox/ProviderCalls.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>

#include <expected>
#include <memory>
#include <optional>

namespace vivarium {

class CancelToken;

/** Everything a worker needs for one checked call; owns its copy of the credential. */
struct ProviderCallJob
{
    CheckedCall call;
    /** Set only when it may go out: the host is its bound host (decided by the broker). */
    std::optional<ProviderCredential> credential;
    ResponseScrubber scrubber;
    std::shared_ptr<const HostResolver> resolver; ///< null: SystemResolver
    bool explicitlyLocal = false;
    qint64 maxResponseBytes = 2 * 1024 * 1024;
    int connectTimeoutMs = 10'000;
    int totalTimeoutMs = 30'000;
};

/** How a call ended. With `error` set, nothing of a response is kept. */
struct ProviderCallOutcome
{
    std::optional<ProviderCallError> error;
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers; ///< names lower-cased; redacted
    QByteArray body;                              ///< redacted
    bool truncated = false;
    qint64 bytes = 0;  ///< body bytes received
    QString address;   ///< where it connected (or would have)
    bool sent = false; ///< request bytes went out
    qint64 durationMs = 0;
};

/**
 * Rules c) to f) of docs/broker.md on the calling thread (a worker): resolve and check every
 * address, pin them, send with TLS verified and no redirect followed, cut the response at the
 * limits and redact it. Blocking; honours the CancelToken within ~50 ms.
 */
class ProviderCaller
{
public:
    static ProviderCallOutcome execute(ProviderCallJob& job, const CancelToken& cancel);

    /** c) the addresses the call may connect to, or why it may not connect at all. */
    static std::expected<QList<QHostAddress>, ProviderCallError>
    resolveChecked(const NormalizedUrl& url, const HostResolver& resolver, bool explicitlyLocal);

    /**
     * e), decided before anything is sent: the connection's credential (nullopt: it has none)
     * goes with `job.call` only to its bound host, in a header (or query parameter) the request
     * does not set itself, over https unless `job.explicitlyLocal`. Sets `job.credential` and
     * adds every form of the secret to `job.scrubber` in any case. Returns the state for the
     * answer and the audit row (injected, none, unbound, not_bound_host) or the refusal. What
     * it does not keep it wipes.
     */
    static std::expected<QString, ProviderCallError>
    attachCredential(ProviderCallJob& job, std::optional<ProviderCredential> credential,
                     const QString& connection);

    /** The value of a CURLOPT_RESOLVE entry pinning `url` to `addresses`. */
    static QByteArray pinEntry(const NormalizedUrl& url, const QList<QHostAddress>& addresses);
};

} // namespace vivarium
