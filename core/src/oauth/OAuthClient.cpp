// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/OAuthClient.h"

#include "OAuthHttp.h"
#include "OAuthLogging.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QThread>
#include <QUrlQuery>

#include <sodium.h>

namespace vivarium {

using namespace oauth;

namespace {

using Param = QPair<QByteArray, QByteArray>;

constexpr auto DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code";

QByteArray formEncode(const QList<Param>& params)
{
    QByteArray out;
    for (const Param& p : params) {
        if (!out.isEmpty())
            out += '&';
        out += p.first.toPercentEncoding() + '=' + p.second.toPercentEncoding();
    }
    return out;
}

/** Zero what a request carried (body, credential headers) once it is sent. */
void wipe(HttpCall& call)
{
    call.body.fill('\0');
    for (QByteArray& h : call.headers)
        if (h.startsWith("Authorization:"))
            h.fill('\0');
}

QString endpointText(const QUrl& url)
{
    return url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo).toString();
}

/** One line of a server's text, at most 300 characters, with every secret we sent cut out. */
QString sanitize(QString text, const QList<QByteArray>& secrets)
{
    for (const QByteArray& s : secrets) {
        if (s.size() < 4)
            continue;
        text.replace(QString::fromUtf8(s), QStringLiteral("[redacted]"));
        text.replace(QString::fromLatin1(s.toPercentEncoding()), QStringLiteral("[redacted]"));
    }
    static const QRegularExpression controls(QStringLiteral("[\\x00-\\x1f\\x7f]+"));
    text.replace(controls, QStringLiteral(" "));
    text = text.simplified();
    if (text.size() > 300)
        text = text.left(300) + QStringLiteral("...");
    return text;
}

OAuthError makeError(OAuthError::Kind kind, QString message)
{
    OAuthError e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
}

/** RFC 6749 5.2 (and 8628 3.5): the error members of a JSON answer. */
OAuthError protocolError(const QJsonObject& o, int status, const QString& what,
                         const QList<QByteArray>& secrets)
{
    OAuthError e;
    e.kind = OAuthError::Kind::Protocol;
    e.httpStatus = status;
    e.error = sanitize(o.value(QStringLiteral("error")).toString(), secrets);
    e.description = sanitize(o.value(QStringLiteral("error_description")).toString(), secrets);
    e.errorUri = sanitize(o.value(QStringLiteral("error_uri")).toString(), secrets);
    e.message = QStringLiteral("the %1 refused the request: %2").arg(what, e.error);
    if (!e.description.isEmpty())
        e.message += QStringLiteral(" (%1)").arg(e.description);
    if (!e.errorUri.isEmpty())
        e.message += QStringLiteral(", see %1").arg(e.errorUri);
    return e;
}

/**
 * A server's answer as a JSON object: transport failures, OAuth errors in any status (some
 * servers send them with 200), non-OAuth HTTP failures and bodies that are no JSON object each
 * become an OAuthError naming the endpoint.
 */
OAuthResult<QJsonObject> jsonAnswer(const HttpReply& reply, const HttpCall& call,
                                    const QString& what, const QList<QByteArray>& secrets)
{
    if (reply.outcome == HttpReply::Outcome::Cancelled)
        return std::unexpected(
            makeError(OAuthError::Kind::Cancelled, describeFailure(reply, what, call.url)));
    if (reply.outcome != HttpReply::Outcome::Completed)
        return std::unexpected(
            makeError(OAuthError::Kind::Transport, describeFailure(reply, what, call.url)));
    QJsonObject object;
    bool isObject = false;
    if (reply.contentType == "application/x-www-form-urlencoded" && reply.status / 100 == 2) {
        // GitHub's default without Accept: application/json; harmless to understand.
        const QUrlQuery q(QString::fromUtf8(reply.body));
        for (const auto& [k, v] : q.queryItems(QUrl::FullyDecoded))
            object.insert(k, v);
        isObject = true;
    } else {
        QJsonParseError pe{};
        const QJsonDocument doc = QJsonDocument::fromJson(reply.body, &pe);
        isObject = doc.isObject();
        object = doc.object();
    }
    if (isObject && object.value(QStringLiteral("error")).isString())
        return std::unexpected(protocolError(object, reply.status, what, secrets));
    if (reply.status / 100 != 2) {
        OAuthError e = makeError(OAuthError::Kind::Http, QString());
        e.httpStatus = reply.status;
        e.message = QStringLiteral("the %1 at %2 answered HTTP %3")
                        .arg(what, endpointText(call.url))
                        .arg(reply.status);
        const QString text = sanitize(QString::fromUtf8(reply.body.left(2000)), secrets);
        if (!text.isEmpty() && !reply.contentType.contains("html"))
            e.message += QStringLiteral(": %1").arg(text);
        else if (!text.isEmpty())
            e.message += QStringLiteral(" (an HTML page, not an OAuth error)");
        return std::unexpected(e);
    }
    if (!isObject)
        return std::unexpected(
            makeError(OAuthError::Kind::Response,
                      QStringLiteral("the %1 at %2 answered HTTP %3 with something that is not "
                                     "a JSON object (content type \"%4\")")
                          .arg(what, endpointText(call.url))
                          .arg(reply.status)
                          .arg(QString::fromLatin1(reply.contentType))));
    return object;
}

/** expires_in as a number or a numeric string (some servers); -1 when absent or unusable. */
qint64 secondsMember(const QJsonObject& o, const QString& key)
{
    const QJsonValue v = o.value(key);
    if (v.isDouble())
        return v.toDouble() > 0 ? qint64(v.toDouble()) : -1;
    if (v.isString()) {
        bool ok = false;
        const qint64 n = v.toString().toLongLong(&ok);
        return ok && n > 0 ? n : -1;
    }
    return -1;
}

QStringList splitScopes(const QString& text, const QString& separator)
{
    QString t = text;
    if (separator != QLatin1String(" "))
        t.replace(separator, QStringLiteral(" "));
    return t.split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

} // namespace

Error OAuthError::toError() const
{
    return Error::make(kind == Kind::Config ? Error::Code::NotFound : Error::Code::Io, message);
}

// --- small primitives ---------------------------------------------------------------------

QByteArray OAuthClient::randomToken(int bytes)
{
    if (sodium_init() < 0)
        qFatal("libsodium could not be initialised");
    QByteArray raw(bytes, Qt::Uninitialized);
    randombytes_buf(raw.data(), size_t(raw.size()));
    QByteArray out = raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    sodium_memzero(raw.data(), size_t(raw.size()));
    return out;
}

QByteArray OAuthClient::pkceChallenge(const QByteArray& verifier)
{
    return QCryptographicHash::hash(verifier, QCryptographicHash::Sha256)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

bool OAuthClient::constantTimeEquals(const QByteArray& a, const QByteArray& b)
{
    if (a.size() != b.size() || a.isEmpty())
        return false;
    return sodium_memcmp(a.constData(), b.constData(), size_t(a.size())) == 0;
}

// --- the redirect -------------------------------------------------------------------------

Result<AuthorizationResponse> AuthorizationResponse::parse(const QString& urlOrTarget)
{
    const QString text = urlOrTarget.trimmed();
    const qsizetype q = text.indexOf(QLatin1Char('?'));
    if (q < 0) {
        return fail(Error::Code::Validation,
                    QStringLiteral("the redirect URL has no query: expected "
                                   "...?code=...&state=... from the browser's address bar"));
    }
    QString query = text.mid(q + 1);
    if (const qsizetype hash = query.indexOf(QLatin1Char('#')); hash >= 0)
        query.truncate(hash);
    AuthorizationResponse r;
    QSet<QString> seen;
    for (const QString& pair : query.split(QLatin1Char('&'), Qt::SkipEmptyParts)) {
        const qsizetype eq = pair.indexOf(QLatin1Char('='));
        const QString key =
            QUrl::fromPercentEncoding(pair.left(eq < 0 ? pair.size() : eq).toUtf8());
        QByteArray raw = eq < 0 ? QByteArray() : pair.mid(eq + 1).toUtf8();
        raw.replace('+', ' ');
        const QByteArray value = QByteArray::fromPercentEncoding(raw);
        if (seen.contains(key)) {
            return fail(Error::Code::Validation,
                        QStringLiteral("the redirect repeats the parameter \"%1\"").arg(key));
        }
        seen.insert(key);
        if (key == QLatin1String("code"))
            r.code = value;
        else if (key == QLatin1String("state"))
            r.state = value;
        else if (key == QLatin1String("iss")) {
            r.iss = QString::fromUtf8(value);
            r.hasIss = true;
        } else if (key == QLatin1String("error"))
            r.error = QString::fromUtf8(value);
        else if (key == QLatin1String("error_description"))
            r.errorDescription = QString::fromUtf8(value);
        else if (key == QLatin1String("error_uri"))
            r.errorUri = QString::fromUtf8(value);
    }
    if (r.code.isEmpty() && r.error.isEmpty() && r.state.isEmpty()) {
        return fail(Error::Code::Validation,
                    QStringLiteral("the redirect URL carries neither a code nor an error"));
    }
    return r;
}

// --- the client ---------------------------------------------------------------------------

struct OAuthClient::TokenRequest
{
    QList<Param> params;       ///< grant-specific; client authentication is added
    QList<QByteArray> secrets; ///< what to cut out of any server text
    QStringList scopes;        ///< what the grant is for (kept when the server names none)
};

OAuthClient::OAuthClient(OAuth2Config config, OAuthClientIdentity identity, Options options)
    : m_config(std::move(config))
    , m_identity(std::move(identity))
    , m_options(options)
{}

OAuthClient::~OAuthClient()
{
    m_identity.wipe();
}

namespace {

/** Client authentication (RFC 6749 2.3.1): a header for _basic, body members otherwise. */
void addClientAuth(const OAuth2Config& config, const OAuthClientIdentity& id, QList<Param>& params,
                   QList<QByteArray>& headers)
{
    const bool hasSecret = !id.clientSecret.isEmpty();
    if (config.tokenEndpointAuth == QLatin1String("client_secret_basic") && hasSecret) {
        const QByteArray pair =
            id.clientId.toUtf8().toPercentEncoding() + ':' + id.clientSecret.toPercentEncoding();
        headers << "Authorization: Basic " + pair.toBase64();
        return;
    }
    params << Param{"client_id", id.clientId.toUtf8()};
    // Without a secret the app is a public client (PKCE is what protects the code).
    if (config.tokenEndpointAuth == QLatin1String("client_secret_post") && hasSecret)
        params << Param{"client_secret", id.clientSecret};
}

/**
 * The client-authenticated form POST the token and device endpoints share: JSON asked for,
 * client auth added, request wiped after, the answer's JSON (with `secrets` kept out of any
 * error). `call.url` is set by the caller and left in place for its messages.
 */
OAuthResult<QJsonObject> postClientForm(const OAuth2Config& config, const OAuthClientIdentity& id,
                                        const OAuthClient::Options& options, HttpCall& call,
                                        QList<Param> params, const QString& what,
                                        const QList<QByteArray>& secrets)
{
    call.headers << "Accept: application/json"
                 << "Content-Type: application/x-www-form-urlencoded";
    addClientAuth(config, id, params, call.headers);
    call.body = formEncode(params);
    call.connectTimeoutMs = options.connectTimeoutMs;
    call.totalTimeoutMs = options.totalTimeoutMs;
    call.cancel = options.cancel;
    HttpReply reply = perform(call);
    wipe(call);
    auto object = jsonAnswer(reply, call, what, secrets);
    reply.body.fill('\0');
    return object;
}

} // namespace

OAuthResult<PendingAuthorization> OAuthClient::beginAuthorization(const QString& redirectUri,
                                                                  const QStringList& scopes) const
{
    QUrl url(m_config.authorizationEndpoint, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Config,
                      QStringLiteral("the provider has no usable authorization endpoint (\"%1\")")
                          .arg(m_config.authorizationEndpoint)));
    if (m_identity.clientId.isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Config, QStringLiteral("no OAuth client ID is set")));
    PendingAuthorization p;
    p.redirectUri = redirectUri;
    p.scopes = scopes;
    p.state = randomToken(32);
    QList<Param> params{{"response_type", "code"},
                        {"client_id", m_identity.clientId.toUtf8()},
                        {"redirect_uri", redirectUri.toUtf8()}};
    if (!scopes.isEmpty())
        params << Param{"scope", scopes.join(m_config.scopeSeparator).toUtf8()};
    params << Param{"state", p.state};
    if (m_config.pkce) {
        p.codeVerifier = randomToken(32);
        params << Param{"code_challenge", pkceChallenge(p.codeVerifier)}
               << Param{"code_challenge_method", "S256"};
    }
    for (auto it = m_config.extraAuthorizationParams.cbegin();
         it != m_config.extraAuthorizationParams.cend(); ++it)
        params << Param{it.key().toUtf8(), it.value().toUtf8()};
    QByteArray query = url.query(QUrl::FullyEncoded).toUtf8();
    const QByteArray ours = formEncode(params);
    query = query.isEmpty() ? ours : query + '&' + ours;
    url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
    p.authorizationUrl = url;
    return p;
}

OAuthResult<void>
OAuthClient::checkAuthorizationResponse(const PendingAuthorization& pending,
                                        const AuthorizationResponse& response) const
{
    auto refuse = [](const QString& error, const QString& message) {
        OAuthError e = makeError(OAuthError::Kind::Redirect, message);
        e.error = error;
        return std::unexpected(e);
    };
    // State first: a redirect that does not belong to this attempt says nothing, errors
    // included (it may be forged to make the user believe something).
    if (response.state.isEmpty())
        return refuse(QStringLiteral("state_missing"),
                      QStringLiteral("the redirect carries no state: it cannot be matched to "
                                     "this sign-in, nothing was stored"));
    if (!constantTimeEquals(response.state, pending.state))
        return refuse(QStringLiteral("state_mismatch"),
                      QStringLiteral("state mismatch: the redirect does not belong to this "
                                     "sign-in (a stale browser tab, or a forged request); "
                                     "nothing was stored"));
    if (!m_config.issuer.isEmpty()) {
        if (!response.hasIss)
            return refuse(QStringLiteral("iss_missing"),
                          QStringLiteral("the redirect carries no iss although the provider's "
                                         "issuer is %1 (RFC 9207); nothing was stored")
                              .arg(m_config.issuer));
        if (response.iss != m_config.issuer)
            return refuse(QStringLiteral("iss_mismatch"),
                          QStringLiteral("the redirect came from issuer \"%1\", expected \"%2\" "
                                         "(RFC 9207: a mix-up attack, or a wrong manifest); "
                                         "nothing was stored")
                              .arg(sanitize(response.iss, {}), m_config.issuer));
    } else if (response.hasIss) {
        qCDebug(lcOAuth) << "redirect names an issuer the manifest does not: not compared";
    }
    if (!response.error.isEmpty()) {
        OAuthError e = makeError(OAuthError::Kind::Redirect, QString());
        e.error = sanitize(response.error, {});
        e.description = sanitize(response.errorDescription, {});
        e.errorUri = sanitize(response.errorUri, {});
        e.message = QStringLiteral("the provider did not authorize Vivarium: %1").arg(e.error);
        if (!e.description.isEmpty())
            e.message += QStringLiteral(" (%1)").arg(e.description);
        return std::unexpected(e);
    }
    if (response.code.isEmpty())
        return refuse(QStringLiteral("code_missing"),
                      QStringLiteral("the redirect carries no authorization code"));
    return {};
}

OAuthResult<TokenSet> OAuthClient::tokenRequest(const TokenRequest& request) const
{
    const QString what = QStringLiteral("token endpoint");
    HttpCall call;
    call.url = QUrl(m_config.tokenEndpoint, QUrl::StrictMode);
    if (!call.url.isValid() || call.url.host().isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Config,
                      QStringLiteral("the provider has no usable token endpoint (\"%1\")")
                          .arg(m_config.tokenEndpoint)));
    QList<QByteArray> secrets = request.secrets;
    secrets << m_identity.clientSecret;
    auto object =
        postClientForm(m_config, m_identity, m_options, call, request.params, what, secrets);
    if (!object)
        return std::unexpected(object.error());

    TokenSet t;
    t.obtainedAt = QDateTime::currentDateTimeUtc();
    const QJsonValue access = object->value(QStringLiteral("access_token"));
    if (!access.isString() || access.toString().isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Response,
                      QStringLiteral("the token endpoint at %1 answered without an access_token")
                          .arg(endpointText(call.url))));
    t.accessToken = access.toString().toUtf8();
    t.refreshToken = object->value(QStringLiteral("refresh_token")).toString().toUtf8();
    t.tokenType = object->value(QStringLiteral("token_type")).toString();
    if (t.tokenType.isEmpty())
        t.tokenType = QStringLiteral("Bearer");
    if (const qint64 s = secondsMember(*object, QStringLiteral("expires_in")); s > 0)
        t.expiresAt = t.obtainedAt.addSecs(s);
    const QJsonValue scope = object->value(QStringLiteral("scope"));
    if (scope.isString()) {
        t.scopes = splitScopes(scope.toString(), m_config.scopeSeparator);
        t.scopesFromServer = true;
    } else {
        t.scopes = request.scopes;
    }
    // Other members (id_token ...) are dropped here: nothing else is kept.
    *object = QJsonObject();
    return t;
}

OAuthResult<TokenSet> OAuthClient::exchangeCode(const PendingAuthorization& pending,
                                                const QByteArray& code) const
{
    TokenRequest r;
    r.params = {{"grant_type", "authorization_code"},
                {"code", code},
                {"redirect_uri", pending.redirectUri.toUtf8()}};
    if (!pending.codeVerifier.isEmpty())
        r.params << Param{"code_verifier", pending.codeVerifier};
    r.secrets = {code, pending.codeVerifier};
    r.scopes = pending.scopes;
    auto out = tokenRequest(r);
    for (Param& p : r.params)
        p.second.fill('\0');
    return out;
}

OAuthResult<TokenSet> OAuthClient::refresh(const QByteArray& refreshToken,
                                           const QStringList& scopes) const
{
    TokenRequest r;
    r.params = {{"grant_type", "refresh_token"}, {"refresh_token", refreshToken}};
    r.secrets = {refreshToken};
    r.scopes = scopes;
    auto out = tokenRequest(r);
    r.params[1].second.fill('\0');
    return out;
}

OAuthResult<DeviceAuthorization>
OAuthClient::startDeviceAuthorization(const QStringList& scopes) const
{
    const QString what = QStringLiteral("device authorization endpoint");
    if (m_config.deviceAuthorizationEndpoint.isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Config,
                      QStringLiteral("the provider has no device authorization endpoint (RFC "
                                     "8628): use the browser flow, with --no-browser on a "
                                     "machine without one")));
    HttpCall call;
    call.url = QUrl(m_config.deviceAuthorizationEndpoint, QUrl::StrictMode);
    QList<Param> params;
    if (!scopes.isEmpty())
        params << Param{"scope", scopes.join(m_config.scopeSeparator).toUtf8()};
    auto object = postClientForm(m_config, m_identity, m_options, call, params, what,
                                 {m_identity.clientSecret});
    if (!object)
        return std::unexpected(object.error());
    DeviceAuthorization d;
    d.deviceCode = object->value(QStringLiteral("device_code")).toString().toUtf8();
    d.userCode = object->value(QStringLiteral("user_code")).toString();
    d.verificationUri = object->value(QStringLiteral("verification_uri")).toString();
    if (d.verificationUri.isEmpty()) // Google's name for it
        d.verificationUri = object->value(QStringLiteral("verification_url")).toString();
    d.verificationUriComplete =
        object->value(QStringLiteral("verification_uri_complete")).toString();
    if (d.deviceCode.isEmpty() || d.userCode.isEmpty() || d.verificationUri.isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Response,
                      QStringLiteral("the %1 at %2 answered without device_code, user_code or "
                                     "verification_uri")
                          .arg(what, endpointText(call.url))));
    const qint64 expires = secondsMember(*object, QStringLiteral("expires_in"));
    d.expiresAt = QDateTime::currentDateTimeUtc().addSecs(expires > 0 ? expires : 600);
    const qint64 interval = secondsMember(*object, QStringLiteral("interval"));
    d.intervalS = interval > 0 ? int(std::min<qint64>(interval, 60)) : 5;
    return d;
}

OAuthResult<TokenSet> OAuthClient::pollDeviceToken(const DeviceAuthorization& device,
                                                   const QStringList& scopes) const
{
    TokenRequest r;
    r.params = {{"grant_type", DeviceGrantType}, {"device_code", device.deviceCode}};
    r.secrets = {device.deviceCode};
    r.scopes = scopes;
    return tokenRequest(r);
}

OAuthResult<TokenSet>
OAuthClient::waitForDeviceToken(DeviceAuthorization& device, const QStringList& scopes,
                                const std::function<void(const QString&)>& onEvent,
                                const std::function<void(int)>& sleepMs) const
{
    auto cancelled = [this] { return m_options.cancel && m_options.cancel->load(); };
    auto sleep = [&](int ms) {
        if (sleepMs) {
            sleepMs(ms);
            return;
        }
        for (int waited = 0; waited < ms && !cancelled(); waited += 100)
            QThread::msleep(ulong(std::min(100, ms - waited)));
    };
    auto note = [&](const QString& text) {
        if (onEvent)
            onEvent(text);
    };
    int transportFailures = 0;
    for (;;) {
        sleep(device.intervalS * 1000);
        if (cancelled())
            return std::unexpected(makeError(OAuthError::Kind::Cancelled,
                                             QStringLiteral("the device sign-in was cancelled")));
        auto token = pollDeviceToken(device, scopes);
        if (token)
            return token;
        const OAuthError& e = token.error();
        if (e.is("authorization_pending")) {
            transportFailures = 0;
        } else if (e.is("slow_down")) {
            // RFC 8628 3.5: add 5 seconds to the interval for this and every later poll.
            device.intervalS += 5;
            note(QStringLiteral("slow_down: the provider asked to poll less often; now every "
                                "%1 s")
                     .arg(device.intervalS));
        } else if (e.is("expired_token")) {
            OAuthError out = e;
            out.message = QStringLiteral("the code %1 expired before it was approved; run the "
                                         "command again for a new one")
                              .arg(device.userCode);
            return std::unexpected(out);
        } else if (e.is("access_denied")) {
            OAuthError out = e;
            out.message = QStringLiteral("the sign-in was denied at the provider (access_denied)");
            return std::unexpected(out);
        } else if (e.kind == OAuthError::Kind::Transport && ++transportFailures < 3) {
            note(QStringLiteral("retrying: %1").arg(e.message));
        } else {
            return std::unexpected(e);
        }
        if (QDateTime::currentDateTimeUtc() >= device.expiresAt) {
            OAuthError out = makeError(
                OAuthError::Kind::Protocol,
                QStringLiteral("the code %1 expired before it was approved; run the command "
                               "again for a new one")
                    .arg(device.userCode));
            out.error = QStringLiteral("expired_token");
            return std::unexpected(out);
        }
    }
}

OAuthResult<void> OAuthClient::revoke(const QByteArray& token, const QString& tokenTypeHint) const
{
    const QString what = QStringLiteral("revocation endpoint");
    if (m_config.revocationEndpoint.isEmpty())
        return std::unexpected(
            makeError(OAuthError::Kind::Config,
                      QStringLiteral("the provider has no revocation endpoint (RFC 7009)")));
    HttpCall call;
    call.url = QUrl(m_config.revocationEndpoint, QUrl::StrictMode);
    QList<Param> params{{"token", token}};
    if (!tokenTypeHint.isEmpty())
        params << Param{"token_type_hint", tokenTypeHint.toUtf8()};
    call.headers << "Accept: application/json"
                 << "Content-Type: application/x-www-form-urlencoded";
    addClientAuth(m_config, m_identity, params, call.headers);
    call.body = formEncode(params);
    call.connectTimeoutMs = m_options.connectTimeoutMs;
    call.totalTimeoutMs = m_options.totalTimeoutMs;
    call.cancel = m_options.cancel;
    HttpReply reply = perform(call);
    wipe(call);
    params[0].second.fill('\0');
    // RFC 7009 2.2: 200 with any body (often empty) means revoked or already invalid.
    if (reply.outcome == HttpReply::Outcome::Completed && reply.status == 200)
        return {};
    auto object = jsonAnswer(reply, call, what, {token, m_identity.clientSecret});
    if (!object)
        return std::unexpected(object.error());
    OAuthError e = makeError(OAuthError::Kind::Http, QStringLiteral("the %1 at %2 answered HTTP %3")
                                                         .arg(what, endpointText(call.url))
                                                         .arg(reply.status));
    e.httpStatus = reply.status;
    return std::unexpected(e);
}

OAuthResult<QJsonObject> OAuthClient::userinfo(const QByteArray& accessToken) const
{
    const QString what = QStringLiteral("userinfo endpoint");
    if (m_config.userinfoEndpoint.isEmpty())
        return std::unexpected(makeError(OAuthError::Kind::Config,
                                         QStringLiteral("the provider has no userinfo endpoint")));
    HttpCall call;
    call.method = "GET";
    call.url = QUrl(m_config.userinfoEndpoint, QUrl::StrictMode);
    call.headers << "Accept: application/json"
                 << "Authorization: Bearer " + accessToken;
    call.connectTimeoutMs = m_options.connectTimeoutMs;
    call.totalTimeoutMs = m_options.totalTimeoutMs;
    call.cancel = m_options.cancel;
    HttpReply reply = perform(call);
    wipe(call);
    return jsonAnswer(reply, call, what, {accessToken});
}

QString OAuthClient::accountFromUserinfo(const QJsonObject& info)
{
    for (const char* key : {"email", "preferred_username", "login", "username", "name", "sub"}) {
        const QJsonValue v = info.value(QLatin1String(key));
        if (v.isString() && !v.toString().trimmed().isEmpty())
            return v.toString().trimmed().left(200);
        if (v.isDouble()) // GitHub's numeric ids, Slack's ...
            return QString::number(qint64(v.toDouble()));
    }
    return {};
}

} // namespace vivarium
