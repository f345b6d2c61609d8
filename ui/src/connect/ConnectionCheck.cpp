// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "connect/ConnectionCheck.h"

#include "UiLogging.h"

#include "vivarium/core/ConnectionSetup.h"
#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/OAuthClient.h"
#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <QtConcurrent/QtConcurrentRun>

namespace vivarium {

struct ConnectionCheck::Outcome
{
    Result<ConnectionTestResult> result = fail(Error::Code::Internal, QStringLiteral("not run"));
};

ConnectionCheck::ConnectionCheck(const UiServices& services, QObject* parent)
    : QObject(parent)
    , m_services(services)
{
    connect(&m_watcher, &QFutureWatcher<std::shared_ptr<Outcome>>::finished, this,
            &ConnectionCheck::done);
}

bool ConnectionCheck::start(const QString& name)
{
    if (m_watcher.isRunning())
        return false;
    m_name = name;
    auto stop = [&](const QString& text) {
        emit finished(name, false, QString(), text);
        return false;
    };
    auto record = m_services.store->connection(name);
    if (!record)
        return stop(record.error().message);
    m_provider = record->provider;
    const ProviderCatalog catalog =
        ProviderCatalog::load(ProviderCatalog::userDirectory(m_services.dataDir));
    auto m = catalog.find(record->provider);
    if (!m)
        return stop(m.error().message);
    if (m->testOperation.isEmpty())
        return stop(tr("%1 has no test operation: nothing to call. The connection is saved; "
                       "an agent's first call will tell whether it works.")
                        .arg(m->name));
    if (!m_services.secrets)
        return stop(tr("No secret store is open, so the credential cannot be read."));

    // The engine's secret store stays on this thread: the worker gets its own copy of the one
    // secret the call needs, in memory, dropped when the call is done.
    auto copy = std::make_shared<MemorySecretStore>();
    if (record->auth != QLatin1String("none")) {
        const QString key = ConnectionSecretKeys::token(record->provider, name);
        auto token = m_services.secrets->read(key);
        if (token) {
            (void)copy->write(key, *token);
            token->fill('\0');
        } else if (token.error().code != Error::Code::NotFound) {
            return stop(token.error().message);
        }
    }
    ProviderCallOptions options;
    if (m_allowLocal) {
        if (auto base = ProviderCatalog::resolveBaseUrl(*m, record->meta)) {
            const QUrl u(*base);
            options.localEndpoints << QStringLiteral("%1:%2").arg(
                u.host(), QString::number(u.port(u.scheme() == QLatin1String("https") ? 443 : 80)));
        }
    }
    m_watcher.setFuture(QtConcurrent::run([manifest = *m, rec = *record, copy, options] {
        auto out = std::make_shared<Outcome>();
        out->result = testConnection(manifest, rec, *copy, options);
        const QString key = ConnectionSecretKeys::token(rec.provider, rec.name);
        if (auto v = copy->read(key)) // overwrite before the copy is dropped
            (void)copy->write(key, QByteArray(v->size(), '\0'));
        return out;
    }));
    return true;
}

void ConnectionCheck::done()
{
    const std::shared_ptr<Outcome> out = m_watcher.result();
    if (!out->result) {
        // The call could not be made: a failure of the check, recorded as the CLI does.
        if (out->result.error().code != Error::Code::Unsupported)
            (void)m_services.store->setConnectionStatus(m_name, QStringLiteral("error"),
                                                        out->result.error().message);
        emit finished(m_name, false, QStringLiteral("error"), out->result.error().message);
        return;
    }
    const ConnectionTestResult& r = *out->result;
    const auto verdict =
        connection_setup::testVerdict(m_provider, m_name, r.ok, r.status, r.message);
    if (auto s = m_services.store->setConnectionStatus(m_name, verdict.status, verdict.reason); !s)
        qCWarning(lcUi).noquote() << "could not record the test of" << m_name << s.error().message;
    const QString text = r.ok ? tr("%1: ok (%2, %3 ms)").arg(m_name, r.message).arg(r.latencyMs)
                              : tr("%1: %2: %3").arg(m_name, verdict.status, verdict.reason);
    emit finished(m_name, r.ok, verdict.status, text);
}

// --- removal ------------------------------------------------------------------------------

ConnectionRemoval::ConnectionRemoval(const UiServices& services, QObject* parent)
    : QObject(parent)
    , m_services(services)
{
    connect(&m_watcher, &QFutureWatcher<QString>::finished, this, &ConnectionRemoval::revoked);
}

bool ConnectionRemoval::start(const QString& name)
{
    if (m_watcher.isRunning())
        return false;
    m_name = name;
    auto record = m_services.store->connection(name);
    if (!record) {
        emit finished(name, false, record.error().message);
        return false;
    }
    if (!m_services.secrets) {
        emit finished(name, false,
                      tr("No secret store is open, so the secrets cannot be removed."));
        return false;
    }
    const ProviderCatalog catalog =
        ProviderCatalog::load(ProviderCatalog::userDirectory(m_services.dataDir));
    auto m = catalog.find(record->provider);
    QString note;
    std::optional<OAuthClientIdentity> identity;
    QByteArray token;
    QString hint;
    if (record->auth == QLatin1String("oauth2")) {
        if (!m) {
            note = tr("not revoked: provider '%1' is not in the catalog").arg(record->provider);
        } else if (m->auth.oauth2.revocationEndpoint.isEmpty()) {
            note = tr("not revoked: %1 offers no revocation endpoint; revoke access in its "
                      "settings if you want")
                       .arg(m->id);
        } else if (auto id =
                       ConnectionTokens::clientIdentity(*m_services.store, *m_services.secrets, *m);
                   !id) {
            note = tr("not revoked: %1").arg(id.error().message);
        } else {
            identity = std::move(*id);
            hint = QStringLiteral("refresh_token");
            auto t = m_services.secrets->read(ConnectionSecretKeys::refreshToken(m->id, name));
            if (!t) {
                hint = QStringLiteral("access_token");
                t = m_services.secrets->read(ConnectionSecretKeys::token(m->id, name));
            }
            if (t)
                token = std::move(*t);
            else
                note = tr("not revoked: no token in the vault");
        }
    }
    if (!identity || token.isEmpty()) {
        if (identity)
            identity->wipe();
        m_watcher.setFuture(QtConcurrent::run([note] { return note; }));
        return true;
    }
    // RFC 7009 at the provider, off the GUI thread; the local copy goes whatever it says.
    m_watcher.setFuture(QtConcurrent::run([config = m->auth.oauth2, id = std::move(*identity),
                                           token, hint, provider = m->id] {
        OAuthClientIdentity app = id;
        OAuthClient client(config, std::move(app));
        QByteArray t = token;
        auto r = client.revoke(t, hint);
        t.fill('\0');
        if (!r)
            return QObject::tr("not revoked: %1").arg(r.error().message);
        return QObject::tr("revoked the %1 at %2")
            .arg(hint == QLatin1String("refresh_token") ? QObject::tr("refresh token (the grant)")
                                                        : QObject::tr("access token"),
                 provider);
    }));
    token.fill('\0');
    return true;
}

void ConnectionRemoval::revoked()
{
    const QString note = m_watcher.result();
    ConnectionTokens tokens(*m_services.store, *m_services.secrets, m_services.dataDir);
    // Revocation is done above: core removes the secrets, then the record.
    auto removed = tokens.remove(nullptr, m_name);
    if (!removed) {
        emit finished(m_name, false, removed.error().message);
        return;
    }
    emit finished(m_name, true,
                  note.isEmpty() ? tr("Removed connection %1").arg(m_name)
                                 : tr("Removed connection %1 (%2)").arg(m_name, note));
}

} // namespace vivarium
