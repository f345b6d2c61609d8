// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/Error.h"
#include "vivarium/core/OAuthClient.h"
#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/Store.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <atomic>
#include <functional>
#include <memory>

namespace vivarium {

class SecretStore;

/**
 * Setting up a connection, shared by `vivarium connect` and the desktop app's connection
 * wizard so both check, sign in and store with the same code and say it in the same words
 * (docs/connections.md). Nothing here reads a terminal or shows a window.
 */
namespace connection_setup {

/** "oauth2" | "api_key" | "basic" | "none": what ConnectionRecord::auth holds. */
QString authName(ProviderAuth::Kind kind);
/** "45 s", "12 min", "3 h", "2 days", "expired". */
QString durationInWords(qint64 seconds);
/** Validation naming the rule when `name` cannot be a connection name. */
Status checkName(const QString& name);
/** Validation when a basic-auth user name is empty or holds ':' (RFC 7617). */
Status checkBasicUser(const QString& user);
/**
 * The fields a connection of `m` may carry in its meta: the manifest's connection_fields and,
 * for a configurable API key, api_key_in/api_key_name/api_key_prefix.
 */
QStringList fieldNames(const ProviderManifest& m);
/** A new record for `m` (scopes empty: the manifest's default scopes for OAuth). */
ConnectionRecord newRecord(const ProviderManifest& m, const QString& name, const QJsonObject& meta,
                           const QStringList& scopes = {});
/**
 * Store an API key, or `user` and the password as `user:password` for basic auth, then the
 * record (status untested). `secret` is wiped. Validation for an empty or multi-line secret
 * or a bad user name.
 */
Status saveSecret(ConnectionTokens& tokens, const ProviderManifest& m, ConnectionRecord record,
                  const QString& user, QByteArray& secret);
/** Who signed in, from the userinfo endpoint; empty with `warning` set when it cannot say. */
QString account(const OAuthClient& client, const ProviderManifest& m, const QByteArray& accessToken,
                QString* warning = nullptr);

/** What a connection test means for the record: status and reason (docs/connections.md). */
struct TestVerdict
{
    QString status; ///< ok | needs_reconnect | error
    QString reason;
};
TestVerdict testVerdict(const QString& provider, const QString& name, bool ok, int httpStatus,
                        const QString& message);

} // namespace connection_setup

/**
 * One authorization-code sign-in with PKCE through the loopback redirect (RFC 8252): listen
 * on 127.0.0.1, make the authorization URL, wait for the redirect (or a redirect address
 * pasted by hand), check it, redeem the code and hand the tokens to `finish`, which stores
 * them. The browser's page tells the outcome of the whole thing. Nothing is stored unless every
 * step worked.
 *
 * Lives on the thread that creates it and needs that thread's event loop (wait() runs one).
 */
class AuthorizationCodeFlow
{
public:
    /** Stores the grant; returns the sentence for the browser page ("Signed in as x."). */
    using Finish = std::function<Result<QString>(TokenSet& tokens)>;

    AuthorizationCodeFlow(const OAuthClient& client, QString providerName, Finish finish);
    ~AuthorizationCodeFlow();
    AuthorizationCodeFlow(const AuthorizationCodeFlow&) = delete;
    AuthorizationCodeFlow& operator=(const AuthorizationCodeFlow&) = delete;

    /** Listen, then build the authorization URL with fresh state and PKCE. */
    OAuthResult<QUrl> start(const QStringList& scopes);
    QString redirectUri() const;
    quint16 port() const;

    /** True when `text` parses as a redirect address at all (a paste worth trying). */
    static bool looksLikeRedirect(const QString& text);
    /** A redirect address pasted by hand: stops listening and goes through the same checks. */
    void completeWith(const QString& urlOrTarget);
    /**
     * Wait for the outcome: the redirect came (and was handled), `timeoutS` passed, or
     * `cancel` became true (looked at every 100 ms). Stops listening before it returns.
     */
    OAuthResult<QString> wait(int timeoutS, const std::atomic<bool>* cancel = nullptr);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

/**
 * The browser sign-in for a window: AuthorizationCodeFlow on a worker thread (listener and
 * HTTP never touch the caller's thread), with the Store and the SecretStore used only on the
 * caller's thread, as the engine's refresher does: the worker hands the tokens over and
 * waits while they are saved. Signals arrive on the caller's thread.
 */
class OAuthSignIn : public QObject
{
    Q_OBJECT
public:
    /** Where the sign-in is (progress()). */
    enum class Step { Waiting, Saving };
    /** Why it ended without a connection (finished()). */
    enum class Failure {
        None,
        NoApp,       ///< no OAuth app (client ID) is set for the provider
        Denied,      ///< the user said no on the consent screen (error=access_denied)
        Cancelled,   ///< cancel()
        TimedOut,    ///< no redirect within the time
        BadRedirect, ///< the redirect failed a check (state, iss, another error=, no code)
        Unreachable, ///< the token endpoint could not be reached or answered HTTP errors
        Refused, ///< the provider refused (invalid_grant, invalid_client ...), or storing failed
    };

    struct Request
    {
        ProviderManifest manifest;
        ConnectionRecord record; ///< name, provider, meta, scopes (newRecord)
        int timeoutS = 300;
    };

    OAuthSignIn(Store& store, SecretStore& secrets, QString dataDir, QObject* parent = nullptr);
    /** Cancels a sign-in in flight and waits for its thread. */
    ~OAuthSignIn() override;

    /**
     * Start signing in: reads the OAuth app (clientIdentity) here and fails at once (false,
     * finished() emitted) when there is none.
     */
    bool start(const Request& request);
    /** Stop waiting: the listener closes, an exchange in flight is aborted, nothing stored. */
    void cancel();
    bool isRunning() const;
    /** The listener's port while listening (0 before and after). */
    quint16 port() const { return m_port.load(); }

signals:
    /** The listener is up: open `url` in a browser. */
    void authorizationUrlReady(const QUrl& url, const QString& redirectUri);
    /** A Step (as int) for the progress line. */
    void progress(int step);
    /**
     * The end. ok: stored under the record's name and `message` is the browser's sentence
     * ("Signed in as x."); else `message` says why and `failure` (a Failure) what kind of
     * failure it was: nothing was stored.
     */
    void finished(bool ok, const QString& message, int failure);

private:
    struct Handoff;
    Result<QString> saveOnOwnerThread(const std::shared_ptr<Handoff>& handoff);

    Store& m_store;
    SecretStore& m_secrets;
    QString m_dataDir;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::atomic<quint16> m_port{0};
    QThread* m_thread = nullptr;
};

} // namespace vivarium
