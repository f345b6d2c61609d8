// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Setting up a connection: the part of `vivarium connect` the desktop app's wizard shares
// (docs/connections.md). Secret values go to the SecretStore only and are wiped after use.
#include "vivarium/core/ConnectionSetup.h"

#include "oauth/OAuthLogging.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/LoopbackRedirectListener.h"

#include <QEventLoop>
#include <QMutex>
#include <QScopeGuard>
#include <QSemaphore>
#include <QThread>
#include <QTimer>

#include <optional>

namespace vivarium {

namespace connection_setup {

QString authName(ProviderAuth::Kind kind)
{
    switch (kind) {
    case ProviderAuth::Kind::OAuth2:
        return QStringLiteral("oauth2");
    case ProviderAuth::Kind::ApiKey:
        return QStringLiteral("api_key");
    case ProviderAuth::Kind::Basic:
        return QStringLiteral("basic");
    case ProviderAuth::Kind::None:
        break;
    }
    return QStringLiteral("none");
}

QString durationInWords(qint64 seconds)
{
    if (seconds < 0)
        return QStringLiteral("expired");
    if (seconds < 120)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 7200)
        return QStringLiteral("%1 min").arg(seconds / 60);
    if (seconds < 2 * 86400)
        return QStringLiteral("%1 h").arg(seconds / 3600);
    return QStringLiteral("%1 days").arg(seconds / 86400);
}

Status checkName(const QString& name)
{
    if (AgentLoader::isValidId(name))
        return {};
    return fail(
        Error::Code::Validation,
        QStringLiteral("connection name \"%1\" must match [a-z0-9][a-z0-9_-]{0,63}").arg(name));
}

Status checkBasicUser(const QString& user)
{
    if (!user.isEmpty() && !user.contains(QLatin1Char(':')))
        return {};
    return fail(Error::Code::Validation,
                QStringLiteral("the user name must be non-empty and without ':' (RFC 7617)"));
}

QStringList fieldNames(const ProviderManifest& m)
{
    QStringList names;
    for (const ConnectionField& f : m.connectionFields)
        names << f.name;
    if (m.auth.kind == ProviderAuth::Kind::ApiKey && m.auth.apiKeyConfigurable)
        names << QStringLiteral("api_key_in") << QStringLiteral("api_key_name")
              << QStringLiteral("api_key_prefix");
    return names;
}

ConnectionRecord newRecord(const ProviderManifest& m, const QString& name, const QJsonObject& meta,
                           const QStringList& scopes)
{
    ConnectionRecord record;
    record.name = name;
    record.provider = m.id;
    record.auth = authName(m.auth.kind);
    record.meta = meta;
    if (m.auth.kind == ProviderAuth::Kind::OAuth2)
        record.scopes = scopes.isEmpty() ? m.auth.oauth2.scopes : scopes;
    return record;
}

Status saveSecret(ConnectionTokens& tokens, const ProviderManifest& m, ConnectionRecord record,
                  const QString& user, QByteArray& secret)
{
    auto wipe = qScopeGuard([&] { secret.fill('\0'); });
    const QString what = m.auth.kind == ProviderAuth::Kind::ApiKey ? QStringLiteral("the API key")
                                                                   : QStringLiteral("the password");
    if (secret.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("%1 is empty").arg(what));
    if (secret.contains('\n') || secret.contains('\r'))
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: the value must be a single line").arg(what));
    QByteArray value;
    if (m.auth.kind == ProviderAuth::Kind::Basic) {
        if (auto ok = checkBasicUser(user); !ok)
            return ok;
        value = user.toUtf8() + ':' + secret;
        record.account = user;
    } else if (m.auth.kind == ProviderAuth::Kind::ApiKey) {
        value = secret;
    } else {
        return fail(Error::Code::Validation,
                    QStringLiteral("%1 does not take an API key or a password").arg(m.id));
    }
    secret.fill('\0');
    return tokens.saveSecret(std::move(record), value); // wipes value
}

QString account(const OAuthClient& client, const ProviderManifest& m, const QByteArray& accessToken,
                QString* warning)
{
    if (m.auth.oauth2.userinfoEndpoint.isEmpty())
        return {};
    auto info = client.userinfo(accessToken);
    if (!info) {
        if (warning)
            *warning = QStringLiteral("could not tell which account this is: %1")
                           .arg(info.error().message);
        return {};
    }
    return OAuthClient::accountFromUserinfo(*info);
}

TestVerdict testVerdict(const QString& provider, const QString& name, bool ok, int httpStatus,
                        const QString& message)
{
    if (ok)
        return {QStringLiteral("ok"), {}};
    if (httpStatus == 401)
        return {QStringLiteral("needs_reconnect"),
                QStringLiteral("%1 refused the credential (HTTP 401); run `vivarium connect %1 "
                               "--name %2` again")
                    .arg(provider, name)};
    QString reason = message;
    if (httpStatus == 403)
        reason += QStringLiteral(" (the credential lacks a permission or scope)");
    return {QStringLiteral("error"), reason};
}

} // namespace connection_setup

// --- AuthorizationCodeFlow ----------------------------------------------------------------

namespace {

OAuthError flowError(OAuthError::Kind kind, const QString& message)
{
    OAuthError e;
    e.kind = kind;
    e.message = message;
    return e;
}

} // namespace

struct AuthorizationCodeFlow::Private
{
    const OAuthClient& client;
    QString providerName;
    Finish finish;
    LoopbackRedirectListener listener;
    PendingAuthorization pending;
    std::optional<OAuthResult<QString>> outcome;
    QEventLoop* loop = nullptr;

    Private(const OAuthClient& c, QString name, Finish f)
        : client(c)
        , providerName(std::move(name))
        , finish(std::move(f))
    {}

    LoopbackRedirectListener::Page fail(const OAuthError& e)
    {
        outcome = std::unexpected(e);
        return {false, QStringLiteral("Not connected"), e.message};
    }

    LoopbackRedirectListener::Page complete(const QString& urlOrTarget)
    {
        auto parsed = AuthorizationResponse::parse(urlOrTarget);
        if (!parsed)
            return fail(flowError(OAuthError::Kind::Redirect, parsed.error().message));
        auto wipe = qScopeGuard([&] { parsed->wipe(); });
        if (auto ok = client.checkAuthorizationResponse(pending, *parsed); !ok)
            return fail(ok.error());
        auto tokens = client.exchangeCode(pending, parsed->code);
        if (!tokens)
            return fail(tokens.error());
        auto summary = finish(*tokens);
        tokens->wipe();
        if (!summary)
            return fail(flowError(OAuthError::Kind::Config, summary.error().message));
        outcome = *summary;
        return {true, QStringLiteral("Connected"),
                QStringLiteral("Vivarium is connected to %1. %2").arg(providerName, *summary)};
    }
};

AuthorizationCodeFlow::AuthorizationCodeFlow(const OAuthClient& client, QString providerName,
                                             Finish finish)
    : d(std::make_unique<Private>(client, std::move(providerName), std::move(finish)))
{}

AuthorizationCodeFlow::~AuthorizationCodeFlow()
{
    d->listener.close();
    d->pending.wipe();
}

OAuthResult<QUrl> AuthorizationCodeFlow::start(const QStringList& scopes)
{
    if (auto ok = d->listener.listen([this](const QString& t) { return d->complete(t); }); !ok)
        return std::unexpected(flowError(OAuthError::Kind::Transport, ok.error().message));
    d->listener.onCompleted([this] {
        if (d->loop)
            d->loop->quit();
    });
    auto begun = d->client.beginAuthorization(d->listener.redirectUri(), scopes);
    if (!begun) {
        d->listener.close();
        return std::unexpected(begun.error());
    }
    d->pending = std::move(*begun);
    return d->pending.authorizationUrl;
}

QString AuthorizationCodeFlow::redirectUri() const
{
    return d->listener.redirectUri();
}

quint16 AuthorizationCodeFlow::port() const
{
    return d->listener.port();
}

bool AuthorizationCodeFlow::looksLikeRedirect(const QString& text)
{
    auto parsed = AuthorizationResponse::parse(text);
    if (!parsed)
        return false;
    parsed->wipe();
    return true;
}

void AuthorizationCodeFlow::completeWith(const QString& urlOrTarget)
{
    if (d->outcome)
        return;
    d->listener.close();
    (void)d->complete(urlOrTarget);
    if (d->loop)
        d->loop->quit();
}

OAuthResult<QString> AuthorizationCodeFlow::wait(int timeoutS, const std::atomic<bool>* cancel)
{
    if (!d->outcome) {
        QEventLoop loop;
        d->loop = &loop;
        QTimer timeout;
        timeout.setSingleShot(true);
        QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
        timeout.start(timeoutS * 1000);
        QTimer poll;
        if (cancel) {
            QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
                if (cancel->load())
                    loop.quit();
            });
            poll.start(100);
        }
        if (!cancel || !cancel->load())
            loop.exec();
        d->loop = nullptr;
    }
    d->listener.close();
    if (d->outcome)
        return std::move(*d->outcome);
    if (cancel && cancel->load()) {
        qCInfo(lcOAuth) << "sign-in cancelled before the redirect came";
        return std::unexpected(flowError(OAuthError::Kind::Cancelled,
                                         QStringLiteral("the sign-in was cancelled; nothing was "
                                                        "stored")));
    }
    return std::unexpected(
        flowError(OAuthError::Kind::Cancelled,
                  QStringLiteral("no redirect arrived within %1; nothing was stored")
                      .arg(connection_setup::durationInWords(timeoutS))));
}

// --- OAuthSignIn --------------------------------------------------------------------------

struct OAuthSignIn::Handoff
{
    QMutex mutex;
    QSemaphore done;
    bool abandoned = false;
    ConnectionRecord record;
    TokenSet tokens;
    std::optional<Result<QString>> result;
    ~Handoff() { tokens.wipe(); }
};

OAuthSignIn::OAuthSignIn(Store& store, SecretStore& secrets, QString dataDir, QObject* parent)
    : QObject(parent)
    , m_store(store)
    , m_secrets(secrets)
    , m_dataDir(std::move(dataDir))
{}

OAuthSignIn::~OAuthSignIn()
{
    if (m_thread) {
        m_cancel->store(true);
        m_thread->wait();
        delete m_thread;
    }
}

bool OAuthSignIn::isRunning() const
{
    return m_thread != nullptr;
}

void OAuthSignIn::cancel()
{
    if (m_cancel)
        m_cancel->store(true);
}

bool OAuthSignIn::start(const Request& request)
{
    if (m_thread)
        return false;
    auto identity = ConnectionTokens::clientIdentity(m_store, m_secrets, request.manifest);
    if (!identity) {
        emit finished(false, identity.error().message, int(Failure::NoApp));
        return false;
    }
    ConnectionRecord record = request.record;
    record.meta.insert(QStringLiteral("client_id"), identity->clientId);
    record.meta.insert(QStringLiteral("flow"), QStringLiteral("authorization_code"));

    m_cancel = std::make_shared<std::atomic<bool>>(false);
    auto cancelFlag = m_cancel;
    const ProviderManifest m = request.manifest;
    const int timeoutS = request.timeoutS;
    auto outcome = std::make_shared<std::pair<bool, OAuthError>>();
    auto summary = std::make_shared<QString>();
    auto id = std::make_shared<OAuthClientIdentity>(std::move(*identity));

    m_thread = QThread::create([this, m, record, timeoutS, cancelFlag, outcome, summary, id] {
        OAuthClient::Options options;
        options.cancel = cancelFlag.get();
        OAuthClient client(m.auth.oauth2, std::move(*id), options);
        id->wipe();
        auto finish = [&](TokenSet& tokens) -> Result<QString> {
            emit progress(int(Step::Saving));
            auto handoff = std::make_shared<Handoff>();
            handoff->record = record;
            QString warning;
            handoff->record.account =
                connection_setup::account(client, m, tokens.accessToken, &warning);
            if (!warning.isEmpty())
                qCWarning(lcOAuth).noquote() << record.name << warning;
            handoff->tokens = std::move(tokens);
            tokens = TokenSet{};
            return saveOnOwnerThread(handoff);
        };
        AuthorizationCodeFlow flow(client, m.name, finish);
        auto url = flow.start(record.scopes);
        if (!url) {
            *outcome = {false, url.error()};
            return;
        }
        m_port.store(flow.port());
        emit authorizationUrlReady(*url, flow.redirectUri());
        emit progress(int(Step::Waiting));
        auto done = flow.wait(timeoutS, cancelFlag.get());
        m_port.store(0);
        if (done) {
            *summary = *done;
            outcome->first = true;
        } else {
            outcome->second = done.error();
        }
    });
    m_thread->setObjectName(QStringLiteral("oauth-sign-in"));
    connect(m_thread, &QThread::finished, this, [this, outcome, summary, cancelFlag] {
        m_thread->wait();
        delete std::exchange(m_thread, nullptr);
        const OAuthError& e = outcome->second;
        Failure failure = Failure::None;
        if (!outcome->first) {
            if (cancelFlag->load())
                failure = Failure::Cancelled;
            else if (e.is("access_denied"))
                failure = Failure::Denied;
            else if (e.kind == OAuthError::Kind::Cancelled)
                failure = Failure::TimedOut;
            else if (e.kind == OAuthError::Kind::Redirect)
                failure = Failure::BadRedirect;
            else if (e.kind == OAuthError::Kind::Transport || e.kind == OAuthError::Kind::Http)
                failure = Failure::Unreachable;
            else
                failure = Failure::Refused;
        }
        if (failure == Failure::Cancelled)
            emit finished(false, QStringLiteral("the sign-in was cancelled; nothing was stored"),
                          int(failure));
        else
            emit finished(outcome->first, outcome->first ? *summary : e.message, int(failure));
    });
    m_thread->start();
    return true;
}

Result<QString> OAuthSignIn::saveOnOwnerThread(const std::shared_ptr<Handoff>& handoff)
{
    // The Store and the SecretStore belong to this object's thread; a queued call saves there
    // while the worker waits (and gives up, wiping nothing twice, when the sign-in is cancelled).
    QMetaObject::invokeMethod(
        this,
        [this, handoff] {
            QMutexLocker lock(&handoff->mutex);
            if (handoff->abandoned) {
                handoff->tokens.wipe();
                return;
            }
            ConnectionTokens tokens(m_store, m_secrets, m_dataDir);
            if (auto s = tokens.saveGrant(handoff->record, handoff->tokens); !s)
                handoff->result = std::unexpected(s.error());
            else
                handoff->result =
                    handoff->record.account.isEmpty()
                        ? QStringLiteral("You can close this tab.")
                        : QStringLiteral("Signed in as %1.").arg(handoff->record.account);
            handoff->tokens.wipe();
            handoff->done.release();
        },
        Qt::QueuedConnection);
    while (!handoff->done.tryAcquire(1, 100)) {
        if (m_cancel->load()) {
            QMutexLocker lock(&handoff->mutex);
            if (handoff->result)
                break;
            handoff->abandoned = true;
            return fail(Error::Code::Io, QStringLiteral("the sign-in was cancelled; nothing was "
                                                        "stored"));
        }
    }
    QMutexLocker lock(&handoff->mutex);
    return std::move(*handoff->result);
}

} // namespace vivarium
