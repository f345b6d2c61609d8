// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/OAuthClient.h"
#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/Store.h"

#include <QDateTime>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

namespace vivarium {

class SecretStore;

/** Where a connection's secrets live in the SecretStore (never in the store). */
struct ConnectionSecretKeys
{
    /** The access token (OAuth 2), the API key, or `user:password` (basic). */
    static QString token(const QString& provider, const QString& name);
    static QString refreshToken(const QString& provider, const QString& name);
    /** The client secret of the user's own OAuth app for a provider. */
    static QString oauthClientSecret(const QString& provider);
};

/**
 * The per-connection refresh lock: an in-process lock (one holder per connection name in this
 * process, whatever the thread) plus an flock(2) on `<data dir>/locks/oauth-<name>.lock`, so
 * the CLI and the engine never refresh the same connection at once. Released on destruction
 * (by any thread); the kernel drops the file lock if the process dies.
 */
class RefreshLock
{
public:
    /** Locked (Error::Code::Locked) when still held by someone after `waitMs` (0: try once). */
    static Result<std::unique_ptr<RefreshLock>> acquire(const QString& dataDir,
                                                        const QString& connection, int waitMs);
    ~RefreshLock();
    RefreshLock(const RefreshLock&) = delete;
    RefreshLock& operator=(const RefreshLock&) = delete;

private:
    RefreshLock(QString connection, int fd);
    QString m_connection;
    int m_fd = -1;
};

/** What a refresh did. */
struct RefreshOutcome
{
    enum class Kind {
        NotDue,         ///< nothing to do (or another process just did it)
        Refreshed,      ///< new tokens are in the vault, the connection is ok
        NeedsReconnect, ///< the grant is gone (invalid_grant, expired without refresh token)
        Failed,         ///< this attempt failed (network, server, config); status "error"
        Busy,           ///< someone else holds the refresh lock
    };
    Kind kind = Kind::NotDue;
    QString message; ///< a sentence for a human; never a secret
    QDateTime expiresAt;
};

/**
 * A refresh between its two halves: prepared (lock held, refresh token read) on the Store's
 * thread, the HTTP exchange (`client.refresh(refreshToken, scopes)`) anywhere, completed back
 * on the Store's thread. Holding it holds the lock.
 */
struct RefreshTicket
{
    ConnectionRecord record;
    std::unique_ptr<OAuthClient> client;
    QByteArray refreshToken; ///< wiped by completeRefresh
    std::unique_ptr<RefreshLock> lock;
};

/**
 * A connection's secrets between the OAuth client, the SecretStore and the Store: saving a
 * grant, refreshing ahead of expiry with one refresh in flight per connection, revoking and
 * removing. New tokens are always written to the vault before the record says `ok`, and a
 * rotated refresh token before the access token, so a crash never leaves a record pointing
 * at tokens that are not there.
 *
 * Thread: the Store's and the SecretStore's (the caller's). refresh() and remove() do their
 * HTTP on it too (blocking, bounded); the engine splits a refresh around a worker thread with
 * prepareRefresh()/completeRefresh().
 */
class ConnectionTokens
{
public:
    /** Refresh when less than this is left (or half the token's lifetime, if shorter). */
    static constexpr int DefaultAheadS = 300;

    ConnectionTokens(Store& store, SecretStore& secrets, QString dataDir);

    /**
     * The OAuth app for a provider: `oauth.<provider>.client_id` from the settings and the
     * client secret from the SecretStore (absent: a public client). NotFound, saying how to
     * register one (the manifest's setupUrl) and set it, when no client ID is set.
     */
    static Result<OAuthClientIdentity> clientIdentity(Store& store, SecretStore& secrets,
                                                      const ProviderManifest& manifest);
    /** When a refresh is due: invalid when never (not OAuth, no known expiry). */
    static QDateTime dueAt(const ConnectionRecord& record, int aheadS = DefaultAheadS);

    /**
     * Store a new grant under the refresh lock: the refresh token (or remove an older one when
     * none came), the access token, then `record` with status ok, expiry, granted scopes and
     * non-secret token metadata. Conflict when the name belongs to another provider (checked
     * before anything is written). `tokens` is wiped.
     */
    Status saveGrant(ConnectionRecord record, TokenSet& tokens);
    /** Store an API key or `user:password`, then `record` (status untested). `secret` is wiped. */
    Status saveSecret(ConnectionRecord record, QByteArray& secret);

    /** How a refresh goes. */
    struct RefreshOptions
    {
        bool force = false;      ///< refresh even when not due
        int lockWaitMs = 30'000; ///< 0: give up at once when someone else holds the lock
        int aheadS = DefaultAheadS;
        const std::atomic<bool>* cancel = nullptr; ///< aborts the HTTP exchange
    };

    /**
     * First half of a refresh. nullopt: nothing to do (not due unless forced, or an expired
     * grant without refresh token, which is marked needs_reconnect: `outcome` says which).
     * Locked when the lock is still busy after lockWaitMs; NotFound for an unknown connection.
     */
    Result<std::optional<RefreshTicket>> prepareRefresh(const ProviderManifest& manifest,
                                                        const QString& name,
                                                        const RefreshOptions& options,
                                                        RefreshOutcome* outcome = nullptr);
    /**
     * Second half: store what the token endpoint said. Success: refresh token, access token,
     * then the record (ok). invalid_grant: needs_reconnect with the reason. Anything else:
     * status error with the reason (the tokens stay; the next attempt may work).
     */
    RefreshOutcome completeRefresh(RefreshTicket& ticket, OAuthResult<TokenSet> result);
    /** Both halves on this thread. */
    RefreshOutcome refresh(const ProviderManifest& manifest, const QString& name,
                           const RefreshOptions& options);

    /** What remove() did about the provider's side. */
    struct Removal
    {
        bool revoked = false;
        QString note; ///< why not revoked, or which token was revoked
    };
    /**
     * `connections rm`: under the refresh lock, revoke at the provider where the manifest has
     * a revocation endpoint (a failure is reported in `note`, not an error: the local copy goes
     * anyway), remove the secrets, then the record. `manifest` may be null (unknown provider:
     * nothing to revoke at). An error leaves the record so the removal can be retried.
     */
    Result<Removal> remove(const ProviderManifest* manifest, const QString& name);

private:
    Status writeSecret(const QString& key, QByteArray& value);

    Store& m_store;
    SecretStore& m_secrets;
    QString m_dataDir;
};

} // namespace vivarium
