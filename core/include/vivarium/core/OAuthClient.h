// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/ProviderManifest.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <atomic>
#include <expected>
#include <functional>

namespace vivarium {

/** The OAuth app Vivarium acts as for a provider (`vivarium oauth-app set`). */
struct OAuthClientIdentity
{
    QString clientId;
    QByteArray clientSecret; ///< empty: a public client (PKCE only); never logged
    void wipe() { clientSecret.fill('\0'); }
};

/**
 * Why an OAuth exchange failed. `message` is a whole sentence for a human; it never holds a
 * token, code, verifier or client secret (the server's own text is redacted of every secret
 * the request carried).
 */
struct OAuthError
{
    enum class Kind {
        Protocol,  ///< the server answered with an OAuth error (RFC 6749 5.2, RFC 8628 3.5)
        Redirect,  ///< the authorization response failed a check (error=, state, iss, no code)
        Transport, ///< the server could not be reached, TLS failed, timed out
        Http,      ///< an HTTP failure that is not an OAuth error (a 500 page)
        Response,  ///< the server's answer is malformed (no access_token, not JSON)
        Config,    ///< the manifest or the OAuth app lacks something the flow needs
        Cancelled, ///< the user or the caller gave up, or the wait timed out
    };
    Kind kind = Kind::Protocol;
    QString error;       ///< the OAuth error code (invalid_grant, access_denied, ...)
    QString description; ///< error_description, one line, redacted
    QString errorUri;
    int httpStatus = 0;
    QString message;

    bool is(const char* oauthError) const
    {
        return (kind == Kind::Protocol || kind == Kind::Redirect) &&
               error == QLatin1String(oauthError);
    }
    /** For callers that speak vivarium::Error: Config -> NotFound, the rest -> Io. */
    Error toError() const;
};

template <typename T> using OAuthResult = std::expected<T, OAuthError>;

/** What a token endpoint gave (RFC 6749 5.1). The caller stores it, then wipe()s it. */
struct TokenSet
{
    QByteArray accessToken;
    QByteArray refreshToken; ///< empty: none issued (a refresh without rotation keeps the old)
    QString tokenType;       ///< "Bearer" unless the server says otherwise
    QDateTime obtainedAt;
    QDateTime expiresAt; ///< invalid: the server gave no expires_in
    QStringList scopes;  ///< granted: the server's `scope`, else what was asked for
    bool scopesFromServer = false;
    void wipe()
    {
        accessToken.fill('\0');
        refreshToken.fill('\0');
    }
};

/** One authorization-code attempt (RFC 6749 4.1 with PKCE, RFC 7636): keep it until the end. */
struct PendingAuthorization
{
    QUrl authorizationUrl;   ///< what the browser opens
    QString redirectUri;     ///< exactly as sent; the token request repeats it
    QByteArray state;        ///< 256 random bits, base64url; compared in constant time
    QByteArray codeVerifier; ///< 256 random bits, base64url (empty when the manifest has no PKCE)
    QStringList scopes;
    void wipe()
    {
        state.fill('\0');
        codeVerifier.fill('\0');
    }
};

/** The parameters of a redirect to the client (RFC 6749 4.1.2, RFC 9207). */
struct AuthorizationResponse
{
    QByteArray code;
    QByteArray state;
    QString iss;
    bool hasIss = false;
    QString error; ///< error=access_denied ... from the authorization server
    QString errorDescription;
    QString errorUri;

    /**
     * Parse a redirect: a full URL (pasted from the browser's address bar) or a request target
     * (`/callback?...`). Every parameter at most once (RFC 6749 3.1). Validation error naming
     * what is wrong.
     */
    static Result<AuthorizationResponse> parse(const QString& urlOrTarget);
    void wipe()
    {
        code.fill('\0');
        state.fill('\0');
    }
};

/** A device authorization (RFC 8628 3.2). */
struct DeviceAuthorization
{
    QByteArray deviceCode; ///< secret: never shown
    QString userCode;      ///< what the user types
    QString verificationUri;
    QString verificationUriComplete; ///< may be empty
    QDateTime expiresAt;
    int intervalS = 5;
};

/**
 * An OAuth 2.0 client for one provider: the authorization code grant with PKCE S256 and a
 * loopback redirect (RFC 6749, 7636, 8252), `state` and `iss` checks (RFC 9207), the token
 * endpoint with client_secret_post / client_secret_basic / none, refresh, the device
 * authorization grant (RFC 8628), revocation (RFC 7009) and userinfo.
 *
 * HTTP goes through libcurl on the calling thread (blocking, bounded by the timeouts): the CLI
 * calls it directly, the engine from a worker thread. The object holds no mutable state, so
 * one instance may be used from several threads. Redirects are never followed.
 */
class OAuthClient
{
public:
    struct Options
    {
        int connectTimeoutMs = 10'000;
        int totalTimeoutMs = 30'000;
        /** Set (from any thread) to abort a request in flight and a device-flow wait. */
        const std::atomic<bool>* cancel = nullptr;
    };

    OAuthClient(OAuth2Config config, OAuthClientIdentity identity, Options options);
    OAuthClient(OAuth2Config config, OAuthClientIdentity identity)
        : OAuthClient(std::move(config), std::move(identity), Options{})
    {}
    ~OAuthClient();

    const OAuth2Config& config() const { return m_config; }

    /** The authorization URL with fresh state and PKCE for `redirectUri`; Config errors. */
    OAuthResult<PendingAuthorization> beginAuthorization(const QString& redirectUri,
                                                         const QStringList& scopes) const;
    /**
     * Check a redirect against the attempt: an `error` from the server (Redirect with that
     * code), state (constant time), `iss` (when the manifest names an issuer it must be
     * present and equal, RFC 9207 2.4; without one there is nothing to compare with), a code.
     */
    OAuthResult<void> checkAuthorizationResponse(const PendingAuthorization& pending,
                                                 const AuthorizationResponse& response) const;
    /** Redeem the code (with the verifier and the same redirect_uri). */
    OAuthResult<TokenSet> exchangeCode(const PendingAuthorization& pending,
                                       const QByteArray& code) const;
    /** grant_type=refresh_token. `scopes` are what the connection had (kept if none returned). */
    OAuthResult<TokenSet> refresh(const QByteArray& refreshToken, const QStringList& scopes) const;

    /** Config error when the manifest has no device endpoint. */
    OAuthResult<DeviceAuthorization> startDeviceAuthorization(const QStringList& scopes) const;
    /**
     * Poll until the user approves (RFC 8628 3.4/3.5): authorization_pending waits `interval`,
     * slow_down adds 5 s to it for good, expired_token and access_denied end the wait with that
     * error, as does Options::cancel. `sleepMs` waits (injectable for tests; default: sleep in
     * slices watching cancel); `onEvent` hears "slow_down" and similar notes for the user.
     */
    OAuthResult<TokenSet>
    waitForDeviceToken(DeviceAuthorization& device, const QStringList& scopes,
                       const std::function<void(const QString& note)>& onEvent = {},
                       const std::function<void(int ms)>& sleepMs = {}) const;
    /** One poll of the token endpoint with the device code. */
    OAuthResult<TokenSet> pollDeviceToken(const DeviceAuthorization& device,
                                          const QStringList& scopes) const;

    /** RFC 7009. Config error when the manifest has no revocation endpoint. */
    OAuthResult<void> revoke(const QByteArray& token, const QString& tokenTypeHint) const;
    /** GET the userinfo endpoint with the access token; Config error when there is none. */
    OAuthResult<QJsonObject> userinfo(const QByteArray& accessToken) const;
    /** Who the account is: email, preferred_username, login, name or sub, in that order. */
    static QString accountFromUserinfo(const QJsonObject& info);

    /** base64url without padding of `bytes` random bytes (state, verifiers). */
    static QByteArray randomToken(int bytes = 32);
    /** base64url(SHA-256(verifier)) without padding (RFC 7636 4.2). */
    static QByteArray pkceChallenge(const QByteArray& verifier);
    /** Constant-time equality (lengths may differ: that alone is not secret). */
    static bool constantTimeEquals(const QByteArray& a, const QByteArray& b);

private:
    struct TokenRequest;
    OAuthResult<TokenSet> tokenRequest(const TokenRequest& request) const;

    OAuth2Config m_config;
    OAuthClientIdentity m_identity;
    Options m_options;
};

} // namespace vivarium
