// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/ConnectionTokens.h"

#include "OAuthLogging.h"

#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QScopeGuard>
#include <QSet>
#include <QThread>

#include <condition_variable>
#include <mutex>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace vivarium {

namespace {

constexpr auto OAuth2 = "oauth2";

// The in-process half of RefreshLock: which connections some thread of this process is
// refreshing. A set under a mutex (not a mutex per name) so any thread may release.
std::mutex g_heldMutex;
std::condition_variable g_heldChanged;
QSet<QString> g_held;

QString reconnectHint(const ConnectionRecord& c)
{
    return QStringLiteral("run `vivarium connect %1 --name %2` again").arg(c.provider, c.name);
}

} // namespace

// --- keys ---------------------------------------------------------------------------------

QString ConnectionSecretKeys::token(const QString& provider, const QString& name)
{
    return QStringLiteral("connection/%1/%2/token").arg(provider, name);
}

QString ConnectionSecretKeys::refreshToken(const QString& provider, const QString& name)
{
    return QStringLiteral("connection/%1/%2/refresh_token").arg(provider, name);
}

QString ConnectionSecretKeys::oauthClientSecret(const QString& provider)
{
    return QStringLiteral("oauth-app/%1/client_secret").arg(provider);
}

// --- the lock -----------------------------------------------------------------------------

RefreshLock::RefreshLock(QString connection, int fd)
    : m_connection(std::move(connection))
    , m_fd(fd)
{}

RefreshLock::~RefreshLock()
{
    if (m_fd >= 0) {
        ::flock(m_fd, LOCK_UN);
        ::close(m_fd);
    }
    {
        std::lock_guard guard(g_heldMutex);
        g_held.remove(m_connection);
    }
    g_heldChanged.notify_all();
}

Result<std::unique_ptr<RefreshLock>> RefreshLock::acquire(const QString& dataDir,
                                                          const QString& connection, int waitMs)
{
    const QDeadlineTimer deadline(std::max(0, waitMs));
    auto busy = [&](const QString& who) {
        return fail(Error::Code::Locked,
                    QStringLiteral("connection '%1' is being refreshed by %2; try again in a "
                                   "moment")
                        .arg(connection, who));
    };
    {
        std::unique_lock guard(g_heldMutex);
        while (g_held.contains(connection)) {
            const qint64 left = deadline.remainingTime();
            if (left <= 0)
                return busy(QStringLiteral("this process"));
            g_heldChanged.wait_for(guard, std::chrono::milliseconds(left));
        }
        g_held.insert(connection);
    }
    // From here on a failure must give the in-process half back.
    auto release = [&] {
        {
            std::lock_guard guard(g_heldMutex);
            g_held.remove(connection);
        }
        g_heldChanged.notify_all();
    };
    const QString dir = dataDir + QStringLiteral("/locks");
    if (auto ok = Paths::ensurePrivateDir(dir); !ok) {
        release();
        return std::unexpected(ok.error());
    }
    const QString path = dir + QStringLiteral("/oauth-%1.lock").arg(connection);
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int err = errno;
        release();
        return fail(Error::Code::Io, QStringLiteral("could not open the refresh lock %1: %2")
                                         .arg(path, QString::fromLocal8Bit(strerror(err))));
    }
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        const int err = errno;
        if ((err != EWOULDBLOCK && err != EINTR) || deadline.hasExpired()) {
            ::close(fd);
            release();
            if (err != EWOULDBLOCK && err != EINTR)
                return fail(Error::Code::Io, QStringLiteral("could not lock %1: %2")
                                                 .arg(path, QString::fromLocal8Bit(strerror(err))));
            return busy(QStringLiteral("another Vivarium process"));
        }
        QThread::msleep(50);
    }
    return std::unique_ptr<RefreshLock>(new RefreshLock(connection, fd));
}

// --- tokens -------------------------------------------------------------------------------

ConnectionTokens::ConnectionTokens(Store& store, SecretStore& secrets, QString dataDir)
    : m_store(store)
    , m_secrets(secrets)
    , m_dataDir(std::move(dataDir))
{}

Result<OAuthClientIdentity> ConnectionTokens::clientIdentity(Store& store, SecretStore& secrets,
                                                             const ProviderManifest& manifest)
{
    OAuthClientIdentity id;
    id.clientId = Settings(store).oauthClientId(manifest.id);
    if (id.clientId.isEmpty()) {
        QString how = QStringLiteral("no OAuth app is set for %1: register one").arg(manifest.id);
        if (!manifest.auth.setupUrl.isEmpty())
            how += QStringLiteral(" at %1").arg(manifest.auth.setupUrl);
        how += QStringLiteral(" with the redirect URI http://127.0.0.1/callback (any port), then "
                              "run `vivarium oauth-app set %1 --client-id ID "
                              "[--client-secret-stdin]`")
                   .arg(manifest.id);
        return fail(Error::Code::NotFound, how);
    }
    auto secret = secrets.read(ConnectionSecretKeys::oauthClientSecret(manifest.id));
    if (secret)
        id.clientSecret = std::move(*secret);
    else if (secret.error().code != Error::Code::NotFound)
        return fail(secret.error().code,
                    QStringLiteral("could not read the client secret of the %1 OAuth app: %2")
                        .arg(manifest.id, secret.error().message));
    return id;
}

QDateTime ConnectionTokens::dueAt(const ConnectionRecord& c, int aheadS)
{
    if (c.auth != QLatin1String(OAuth2) || !c.expiresAt.isValid())
        return {};
    // Without a refresh token there is nothing to do before expiry; then it needs a reconnect.
    if (!c.meta.value(QStringLiteral("has_refresh_token")).toBool(true))
        return c.expiresAt;
    qint64 window = aheadS;
    const QDateTime obtained = QDateTime::fromString(
        c.meta.value(QStringLiteral("obtained_at")).toString(), Qt::ISODateWithMs);
    if (obtained.isValid()) {
        // A token that lives 10 minutes must not be refreshed every minute of them.
        const qint64 lifetime = obtained.secsTo(c.expiresAt);
        if (lifetime > 0)
            window = std::min(window, lifetime / 2);
    }
    return c.expiresAt.addSecs(-window);
}

Status ConnectionTokens::writeSecret(const QString& key, QByteArray& value)
{
    Status s = m_secrets.write(key, value);
    value.fill('\0');
    return s;
}

namespace {

/** Non-secret facts about a token set for the record's meta. */
void describeTokens(ConnectionRecord& record, const TokenSet& tokens, bool hasRefreshToken)
{
    record.meta.insert(QStringLiteral("token_type"), tokens.tokenType);
    record.meta.insert(QStringLiteral("obtained_at"),
                       tokens.obtainedAt.toUTC().toString(Qt::ISODateWithMs));
    record.meta.insert(QStringLiteral("has_refresh_token"), hasRefreshToken);
    record.expiresAt = tokens.expiresAt;
    if (tokens.scopesFromServer || record.scopes.isEmpty())
        record.scopes = tokens.scopes;
}

} // namespace

Status ConnectionTokens::saveGrant(ConnectionRecord record, TokenSet& tokens)
{
    auto wipeOnExit = qScopeGuard([&] { tokens.wipe(); });
    auto existing = m_store.connection(record.name);
    if (existing && existing->provider != record.provider)
        return fail(Error::Code::Conflict,
                    QStringLiteral("connection '%1' already exists for provider '%2'; remove it "
                                   "first or choose another --name")
                        .arg(record.name, existing->provider));
    if (!existing && existing.error().code != Error::Code::NotFound)
        return std::unexpected(existing.error());
    auto lock = RefreshLock::acquire(m_dataDir, record.name, 30'000);
    if (!lock)
        return std::unexpected(lock.error());

    const QString refreshKey = ConnectionSecretKeys::refreshToken(record.provider, record.name);
    const bool hasRefresh = !tokens.refreshToken.isEmpty();
    if (hasRefresh) {
        if (auto s = writeSecret(refreshKey, tokens.refreshToken); !s)
            return s;
    } else if (auto s = m_secrets.remove(refreshKey);
               !s && s.error().code != Error::Code::NotFound) {
        return s; // an older grant's refresh token must not outlive it
    }
    if (auto s = writeSecret(ConnectionSecretKeys::token(record.provider, record.name),
                             tokens.accessToken);
        !s)
        return s;
    describeTokens(record, tokens, hasRefresh);
    if (existing)
        record.createdAt = existing->createdAt;
    record.auth = QLatin1String(OAuth2);
    record.status = QStringLiteral("ok");
    record.statusReason.clear();
    record.checkedAt = QDateTime::currentDateTimeUtc();
    return m_store.saveConnection(record);
}

Status ConnectionTokens::saveSecret(ConnectionRecord record, QByteArray& secret)
{
    auto wipeOnExit = qScopeGuard([&] { secret.fill('\0'); });
    auto existing = m_store.connection(record.name);
    if (existing && existing->provider != record.provider)
        return fail(Error::Code::Conflict,
                    QStringLiteral("connection '%1' already exists for provider '%2'; remove it "
                                   "first or choose another --name")
                        .arg(record.name, existing->provider));
    if (!existing && existing.error().code != Error::Code::NotFound)
        return std::unexpected(existing.error());
    auto lock = RefreshLock::acquire(m_dataDir, record.name, 30'000);
    if (!lock)
        return std::unexpected(lock.error());
    if (auto s = writeSecret(ConnectionSecretKeys::token(record.provider, record.name), secret); !s)
        return s;
    // A former OAuth grant under this name must not leave its refresh token behind.
    if (auto s = m_secrets.remove(ConnectionSecretKeys::refreshToken(record.provider, record.name));
        !s && s.error().code != Error::Code::NotFound)
        return s;
    record.status = QStringLiteral("untested");
    record.statusReason.clear();
    record.expiresAt = QDateTime();
    record.checkedAt = QDateTime();
    return m_store.saveConnection(record);
}

Result<std::optional<RefreshTicket>>
ConnectionTokens::prepareRefresh(const ProviderManifest& manifest, const QString& name,
                                 const RefreshOptions& options, RefreshOutcome* outcome)
{
    RefreshOutcome ignored;
    RefreshOutcome& out = outcome ? *outcome : ignored;
    out = RefreshOutcome{};
    auto before = m_store.connection(name);
    if (!before)
        return std::unexpected(before.error());
    if (before->auth != QLatin1String(OAuth2))
        return fail(Error::Code::Unsupported,
                    QStringLiteral("connection '%1' uses %2, which has no token to refresh")
                        .arg(name, before->auth));
    auto lock = RefreshLock::acquire(m_dataDir, name, options.lockWaitMs);
    if (!lock) {
        out.kind = RefreshOutcome::Kind::Busy;
        out.message = lock.error().message;
        return std::unexpected(lock.error());
    }
    // Read again under the lock: another process may have refreshed while we waited.
    auto record = m_store.connection(name);
    if (!record)
        return std::unexpected(record.error());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QDateTime due = dueAt(*record, options.aheadS);
    out.expiresAt = record->expiresAt;
    if (!options.force && (!due.isValid() || due > now)) {
        out.message = QStringLiteral("connection '%1' is fresh (the token expires at %2)")
                          .arg(name, record->expiresAt.toString(Qt::ISODate));
        return std::optional<RefreshTicket>();
    }
    auto refreshToken =
        m_secrets.read(ConnectionSecretKeys::refreshToken(record->provider, record->name));
    if (!refreshToken && refreshToken.error().code != Error::Code::NotFound)
        return std::unexpected(refreshToken.error());
    if (!refreshToken) {
        const bool expired = record->expiresAt.isValid() && record->expiresAt <= now;
        if (!expired) {
            out.message = QStringLiteral("connection '%1' has no refresh token; it works until "
                                         "its token expires")
                              .arg(name);
            return std::optional<RefreshTicket>();
        }
        out.kind = RefreshOutcome::Kind::NeedsReconnect;
        out.message = QStringLiteral("the access token expired and %1 issued no refresh token; %2")
                          .arg(record->provider, reconnectHint(*record));
        if (record->status != QLatin1String("needs_reconnect"))
            (void)m_store.setConnectionStatus(name, QStringLiteral("needs_reconnect"), out.message);
        return std::optional<RefreshTicket>();
    }
    auto identity = clientIdentity(m_store, m_secrets, manifest);
    if (!identity) {
        out.kind = RefreshOutcome::Kind::Failed;
        out.message = identity.error().message;
        (void)m_store.setConnectionStatus(name, QStringLiteral("error"),
                                          QStringLiteral("refresh failed: ") + out.message);
        refreshToken->fill('\0');
        return std::unexpected(identity.error());
    }
    RefreshTicket ticket;
    ticket.record = *record;
    OAuthClient::Options clientOptions;
    clientOptions.totalTimeoutMs = 20'000;
    clientOptions.cancel = options.cancel;
    ticket.client =
        std::make_unique<OAuthClient>(manifest.auth.oauth2, std::move(*identity), clientOptions);
    ticket.refreshToken = std::move(*refreshToken);
    ticket.lock = std::move(*lock);
    return std::optional<RefreshTicket>(std::move(ticket));
}

RefreshOutcome ConnectionTokens::completeRefresh(RefreshTicket& ticket,
                                                 OAuthResult<TokenSet> result)
{
    ticket.refreshToken.fill('\0');
    ConnectionRecord record = ticket.record;
    RefreshOutcome out;
    out.expiresAt = record.expiresAt;
    auto setStatus = [&](const QString& status, const QString& reason) {
        if (auto s = m_store.setConnectionStatus(record.name, status, reason); !s)
            qCWarning(lcOAuth).noquote() << s.error().message;
    };
    if (!result) {
        const OAuthError& e = result.error();
        if (e.is("invalid_grant")) {
            out.kind = RefreshOutcome::Kind::NeedsReconnect;
            out.message =
                QStringLiteral("%1 refused the refresh token (%2%3): the grant was "
                               "revoked or expired; %4")
                    .arg(record.provider, e.error,
                         e.description.isEmpty() ? QString() : QStringLiteral(": ") + e.description,
                         reconnectHint(record));
            setStatus(QStringLiteral("needs_reconnect"), out.message);
        } else {
            out.kind = RefreshOutcome::Kind::Failed;
            out.message = QStringLiteral("refresh failed: %1").arg(e.message);
            if (e.is("invalid_client") || e.is("unauthorized_client"))
                out.message += QStringLiteral("; check the OAuth app (`vivarium oauth-app set %1`)")
                                   .arg(record.provider);
            setStatus(QStringLiteral("error"), out.message);
        }
        // Info, not warning: the CLI prints the outcome itself; `serve` shows info lines.
        qCInfo(lcOAuth).noquote()
            << QStringLiteral("connection %1: %2").arg(record.name, out.message);
        ticket.lock.reset();
        return out;
    }
    TokenSet tokens = std::move(*result);
    auto wipeOnExit = qScopeGuard([&] { tokens.wipe(); });
    // A rotated refresh token first: the old one is dead at the provider already.
    const bool rotated = !tokens.refreshToken.isEmpty();
    if (rotated) {
        if (auto s = writeSecret(ConnectionSecretKeys::refreshToken(record.provider, record.name),
                                 tokens.refreshToken);
            !s) {
            out.kind = RefreshOutcome::Kind::NeedsReconnect;
            out.message = QStringLiteral("the provider rotated the refresh token but it could "
                                         "not be stored (%1); %2")
                              .arg(s.error().message, reconnectHint(record));
            setStatus(QStringLiteral("needs_reconnect"), out.message);
            ticket.lock.reset();
            return out;
        }
    }
    if (auto s = writeSecret(ConnectionSecretKeys::token(record.provider, record.name),
                             tokens.accessToken);
        !s) {
        out.kind = RefreshOutcome::Kind::Failed;
        out.message = QStringLiteral("refresh failed: the new access token could not be stored "
                                     "(%1)")
                          .arg(s.error().message);
        setStatus(QStringLiteral("error"), out.message);
        ticket.lock.reset();
        return out;
    }
    describeTokens(record, tokens, true);
    record.meta.insert(QStringLiteral("refreshed_at"),
                       tokens.obtainedAt.toUTC().toString(Qt::ISODateWithMs));
    record.status = QStringLiteral("ok");
    record.statusReason.clear();
    record.checkedAt = QDateTime::currentDateTimeUtc();
    if (auto s = m_store.saveConnection(record); !s) {
        out.kind = RefreshOutcome::Kind::Failed;
        out.message = QStringLiteral("refreshed, but the record could not be updated: %1")
                          .arg(s.error().message);
        ticket.lock.reset();
        return out;
    }
    out.kind = RefreshOutcome::Kind::Refreshed;
    out.expiresAt = record.expiresAt;
    out.message =
        rotated ? QStringLiteral("refreshed (refresh token rotated)") : QStringLiteral("refreshed");
    qCInfo(lcOAuth).noquote() << QStringLiteral("connection %1 %2; expires %3")
                                     .arg(record.name, out.message,
                                          record.expiresAt.toString(Qt::ISODate));
    ticket.lock.reset();
    return out;
}

RefreshOutcome ConnectionTokens::refresh(const ProviderManifest& manifest, const QString& name,
                                         const RefreshOptions& options)
{
    RefreshOutcome out;
    auto ticket = prepareRefresh(manifest, name, options, &out);
    if (!ticket) {
        if (out.kind == RefreshOutcome::Kind::NotDue)
            out.kind = RefreshOutcome::Kind::Failed;
        if (out.message.isEmpty())
            out.message = ticket.error().message;
        return out;
    }
    if (!ticket->has_value())
        return out;
    RefreshTicket& t = **ticket;
    auto result = t.client->refresh(t.refreshToken, t.record.scopes);
    return completeRefresh(t, std::move(result));
}

Result<ConnectionTokens::Removal> ConnectionTokens::remove(const ProviderManifest* manifest,
                                                           const QString& name)
{
    auto record = m_store.connection(name);
    if (!record)
        return std::unexpected(record.error());
    auto lock = RefreshLock::acquire(m_dataDir, name, 30'000);
    if (!lock)
        return std::unexpected(lock.error());
    const QString tokenKey = ConnectionSecretKeys::token(record->provider, name);
    const QString refreshKey = ConnectionSecretKeys::refreshToken(record->provider, name);
    Removal removal;
    if (record->auth == QLatin1String(OAuth2)) {
        if (!manifest) {
            removal.note = QStringLiteral("not revoked: provider '%1' is not in the catalog")
                               .arg(record->provider);
        } else if (manifest->auth.oauth2.revocationEndpoint.isEmpty()) {
            removal.note = QStringLiteral("not revoked: %1 offers no revocation endpoint; "
                                          "revoke access in its settings if you want")
                               .arg(manifest->id);
        } else if (auto identity = clientIdentity(m_store, m_secrets, *manifest); !identity) {
            removal.note = QStringLiteral("not revoked: %1").arg(identity.error().message);
        } else {
            // Revoking the refresh token ends the whole grant at most providers (RFC 7009 2.1).
            auto token = m_secrets.read(refreshKey);
            QString hint = QStringLiteral("refresh_token");
            if (!token) {
                token = m_secrets.read(tokenKey);
                hint = QStringLiteral("access_token");
            }
            if (!token) {
                removal.note = QStringLiteral("not revoked: no token in the vault");
            } else {
                OAuthClient client(manifest->auth.oauth2, std::move(*identity));
                auto revoked = client.revoke(*token, hint);
                token->fill('\0');
                if (revoked) {
                    removal.revoked = true;
                    removal.note = QStringLiteral("revoked the %1 at %2")
                                       .arg(hint == QLatin1String("refresh_token")
                                                ? QStringLiteral("refresh token (the grant)")
                                                : QStringLiteral("access token"),
                                            manifest->id);
                } else {
                    removal.note = QStringLiteral("not revoked: %1").arg(revoked.error().message);
                }
            }
        }
    }
    for (const QString& key : {refreshKey, tokenKey}) {
        if (auto s = m_secrets.remove(key); !s && s.error().code != Error::Code::NotFound)
            return std::unexpected(s.error());
    }
    if (auto s = m_store.removeConnection(name); !s)
        return std::unexpected(s.error());
    return removal;
}

} // namespace vivarium
