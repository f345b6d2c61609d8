// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/ConnectionTokens.h"

#include <QDateTime>
#include <QHash>
#include <QString>

#include <functional>
#include <memory>

namespace vivarium {

class SecretStore;
class Store;

/**
 * The engine's token refresher: keeps every OAuth connection's access token fresh ahead of
 * expiry (ConnectionTokens::dueAt), so the broker always reads a live token from the vault.
 * It sleeps until the next connection is due (at most a minute, which also picks up
 * connections the CLI adds), refreshes one connection at a time with the HTTP exchange on a
 * worker thread, and records every outcome in the connection's status (a refused grant:
 * needs_reconnect; a failure: error, retried with backoff). Connections that need a reconnect
 * are left alone.
 *
 * Lives on the Store's and SecretStore's thread (the engine's) and uses them only there.
 */
class ConnectionRefresher
{
public:
    struct Options
    {
        int aheadS = ConnectionTokens::DefaultAheadS;
        int maxSleepMs = 60'000;
        int minRetryMs = 15'000; ///< first retry after a failure; doubles up to maxRetryMs
        int maxRetryMs = 300'000;
    };
    /** Called on the refresher's thread after each attempt. */
    using Listener = std::function<void(const QString& connection, const RefreshOutcome&)>;

    ConnectionRefresher(Store* store, SecretStore* secrets, QString dataDir, Options options);
    ConnectionRefresher(Store* store, SecretStore* secrets, QString dataDir)
        : ConnectionRefresher(store, secrets, std::move(dataDir), Options{})
    {}
    /** Waits for a refresh in flight (its result is still stored), then stops. */
    ~ConnectionRefresher();

    void setListener(Listener listener);
    /** Check now and then keep going on the thread's event loop. */
    void start();
    void stop();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
