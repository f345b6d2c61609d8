// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The resolvers and the CredentialSources of vivarium/sandbox/ProviderCalls.h: from connection
// records (the default) and from the vault alone.
#include "vivarium/sandbox/ProviderCalls.h"

#include "ProviderCallPolicy.h"

#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <memory>
#include <netdb.h>
#include <sys/socket.h>

namespace vivarium {

namespace {

QString connectionName(const QString& connection)
{
    return connection.isEmpty() ? QStringLiteral("default") : connection;
}

struct AddrInfoDeleter
{
    void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

} // namespace

Result<QList<QHostAddress>> SystemResolver::resolve(const QString& host) const
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* raw = nullptr;
    const QByteArray name = host.toLatin1();
    const int rc = ::getaddrinfo(name.constData(), nullptr, &hints, &raw);
    std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
    if (rc != 0) {
        const QString why = QString::fromLocal8Bit(gai_strerror(rc));
        return fail(rc == EAI_NONAME || rc == EAI_NODATA ? Error::Code::NotFound : Error::Code::Io,
                    why);
    }
    QList<QHostAddress> out;
    for (const addrinfo* a = list.get(); a; a = a->ai_next) {
        const QHostAddress address(a->ai_addr);
        if (!address.isNull() && !out.contains(address))
            out.append(address);
    }
    return out;
}

Result<QList<QHostAddress>> StaticResolver::resolve(const QString& host) const
{
    const auto it = m_table.constFind(host);
    if (it == m_table.cend())
        return fail(Error::Code::NotFound,
                    QStringLiteral("no such host (test resolver; the real DNS is never asked)"));
    return *it;
}

QString VaultCredentialSource::tokenKey(const QString& provider, const QString& connection)
{
    return QStringLiteral("connection/%1/%2/token").arg(provider, connectionName(connection));
}

QString VaultCredentialSource::metaKey(const QString& provider, const QString& connection)
{
    return QStringLiteral("connection/%1/%2/meta").arg(provider, connectionName(connection));
}

Result<ProviderCredential> VaultCredentialSource::credential(const QString& provider,
                                                             const QString& connection)
{
    const QString label =
        QStringLiteral("connection \"%1/%2\"").arg(provider, connectionName(connection));
    if (!m_secrets)
        return fail(Error::Code::NotFound, label + QStringLiteral(" has no credential"));
    auto token = m_secrets->read(tokenKey(provider, connection));
    if (!token) {
        if (token.error().code == Error::Code::NotFound)
            return fail(Error::Code::NotFound, label + QStringLiteral(" has no credential"));
        return fail(token.error().code, QStringLiteral("could not read the credential of %1: %2")
                                            .arg(label, token.error().message));
    }
    ProviderCredential c;
    c.secret = *token;
    token->fill('\0');

    auto meta = m_secrets->read(metaKey(provider, connection));
    if (!meta) {
        if (meta.error().code == Error::Code::NotFound)
            return c; // bound nowhere: only redacted
        return fail(meta.error().code, QStringLiteral("could not read the metadata of %1: %2")
                                           .arg(label, meta.error().message));
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(*meta, &error);
    if (!doc.isObject())
        return fail(Error::Code::Parse,
                    QStringLiteral("the metadata of %1 is not a JSON object").arg(label));
    const QJsonObject o = doc.object();
    const QString bound = o.value(QStringLiteral("bound_host")).toString();
    if (!bound.isEmpty()) {
        QHostAddress ip;
        bool isIp = false;
        const auto normalized = ProviderCallPolicy::normalizeHost(bound, &ip, &isIp);
        if (!normalized)
            return fail(
                Error::Code::Validation,
                QStringLiteral("the bound host \"%1\" of %2 is not a host name").arg(bound, label));
        c.boundHost = *normalized;
    }
    if (o.contains(QStringLiteral("header")))
        c.headerName = o.value(QStringLiteral("header")).toString().toLatin1();
    if (o.contains(QStringLiteral("prefix")))
        c.prefix = o.value(QStringLiteral("prefix")).toString().toUtf8();
    return c;
}

// --- connection records -------------------------------------------------------------------

Result<ConnectionRecord> ConnectionCredentialSource::findConnection(const Store& store,
                                                                    const QString& provider,
                                                                    const QString& connection)
{
    if (connection.isEmpty()) {
        auto all = store.connections(provider);
        if (!all)
            return std::unexpected(all.error());
        if (all->isEmpty())
            return fail(Error::Code::NotFound,
                        QStringLiteral("provider \"%1\" has no connection: run `vivarium connect "
                                       "%1` first")
                            .arg(provider));
        if (all->size() > 1) {
            QStringList names;
            for (const ConnectionRecord& r : std::as_const(*all))
                names.append(r.name);
            return fail(Error::Code::Validation,
                        QStringLiteral("provider \"%1\" has %2 connections (%3): name one in the "
                                       "agent's grant (\"connection\")")
                            .arg(provider)
                            .arg(all->size())
                            .arg(names.join(QStringLiteral(", "))));
        }
        return all->first();
    }
    auto record = store.connection(connection);
    if (!record) {
        if (record.error().code == Error::Code::NotFound)
            return fail(Error::Code::NotFound,
                        QStringLiteral("there is no connection \"%1\" (of provider \"%2\"): "
                                       "run `vivarium connect %2 --name %1` to create it, "
                                       "`vivarium connections list` to see them")
                            .arg(connection, provider));
        return std::unexpected(record.error());
    }
    if (record->provider != provider)
        return fail(Error::Code::Validation,
                    QStringLiteral("connection \"%1\" belongs to provider \"%2\", not \"%3\"")
                        .arg(connection, record->provider, provider));
    return *record;
}

Result<ProviderCredential> ConnectionCredentialSource::forRecord(const ProviderManifest& manifest,
                                                                 const ConnectionRecord& record,
                                                                 SecretStore* secrets)
{
    const QString label = QStringLiteral("connection \"%1\"").arg(record.name);
    // The record says how this connection authenticates (a GitHub token may be OAuth or a
    // personal access token); the manifest says how that goes on the wire.
    QString kind = record.auth;
    if (kind.isEmpty()) {
        switch (manifest.auth.kind) {
        case ProviderAuth::Kind::OAuth2:
            kind = QStringLiteral("oauth2");
            break;
        case ProviderAuth::Kind::ApiKey:
            kind = QStringLiteral("api_key");
            break;
        case ProviderAuth::Kind::Basic:
            kind = QStringLiteral("basic");
            break;
        case ProviderAuth::Kind::None:
            kind = QStringLiteral("none");
            break;
        }
    }
    if (kind == QLatin1String("none"))
        return fail(Error::Code::NotFound, label + QStringLiteral(" has no credential"));

    auto host = ProviderCatalog::resolveCredentialHost(manifest, record.meta);
    if (!host)
        return fail(Error::Code::Validation, QStringLiteral("%1 has no usable credential host: %2")
                                                 .arg(label, host.error().message));
    QHostAddress ip;
    bool isIp = false;
    const auto bound = ProviderCallPolicy::normalizeHost(*host, &ip, &isIp);
    if (!bound)
        return fail(Error::Code::Validation,
                    QStringLiteral("the credential host \"%1\" of %2 is not a host name")
                        .arg(*host, label));

    if (!secrets)
        return fail(Error::Code::Unsupported,
                    QStringLiteral("%1: no secret store to read its credential from").arg(label));
    auto token = secrets->read(VaultCredentialSource::tokenKey(manifest.id, record.name));
    if (!token) {
        // A connection that should have a secret and has none must not go out unauthenticated
        // as if that were normal: say how to fix it.
        if (token.error().code == Error::Code::NotFound)
            return fail(Error::Code::Conflict,
                        QStringLiteral("%1 has no credential in the vault: run `vivarium connect "
                                       "%2 --name %3` again")
                            .arg(label, manifest.id, record.name));
        return fail(token.error().code, QStringLiteral("could not read the credential of %1: %2")
                                            .arg(label, token.error().message));
    }
    if (token->isEmpty())
        return fail(
            Error::Code::Conflict,
            QStringLiteral("%1 has an empty credential: run `vivarium connect %2 --name %3` "
                           "again")
                .arg(label, manifest.id, record.name));

    ProviderCredential c;
    c.boundHost = *bound;
    if (kind == QLatin1String("basic")) {
        // The vault holds "user:password"; the wire gets base64 of it. Both are redacted.
        c.alsoRedact.append(*token);
        const qsizetype colon = token->indexOf(':');
        if (colon >= 0 && token->size() - colon - 1 >= 8)
            c.alsoRedact.append(token->mid(colon + 1));
        c.secret = token->toBase64();
        c.headerName = "Authorization";
        c.prefix = "Basic ";
    } else if (kind == QLatin1String("api_key") &&
               manifest.auth.kind == ProviderAuth::Kind::ApiKey) {
        QString in = manifest.auth.apiKeyIn;
        QString name = manifest.auth.apiKeyName;
        QString prefix = manifest.auth.apiKeyPrefix;
        if (manifest.auth.apiKeyConfigurable) {
            auto meta = [&record](const char* key, QString& value) {
                const QJsonValue v = record.meta.value(QLatin1String(key));
                if (v.isString())
                    value = v.toString();
            };
            meta("api_key_in", in);
            meta("api_key_name", name);
            meta("api_key_prefix", prefix);
        }
        c.secret = *token;
        if (in == QLatin1String("query")) {
            if (name.isEmpty())
                return fail(Error::Code::Validation,
                            QStringLiteral("%1 puts its key in the query but names no parameter")
                                .arg(label));
            c.queryName = name.toUtf8();
            c.headerName.clear();
            c.prefix.clear();
        } else if (in == QLatin1String("header")) {
            c.headerName = name.toLatin1();
            c.prefix = prefix.toUtf8();
        } else {
            return fail(Error::Code::Validation,
                        QStringLiteral("%1: api_key_in must be \"header\" or \"query\", not "
                                       "\"%2\"")
                            .arg(label, in));
        }
    } else {
        // OAuth 2 access tokens, and API keys of OAuth providers (personal access tokens,
        // internal integration tokens): Authorization: Bearer.
        c.secret = *token;
    }
    token->fill('\0');
    return c;
}

Result<ProviderCredential> ConnectionCredentialSource::credential(const QString& provider,
                                                                  const QString& connection)
{
    if (!m_store || !m_catalog)
        return fail(Error::Code::Unsupported,
                    QStringLiteral("no connection store: connection \"%1/%2\" cannot be read")
                        .arg(provider, connection));
    auto manifest = m_catalog->find(provider);
    if (!manifest)
        return fail(Error::Code::Validation, manifest.error().message);
    auto record = findConnection(*m_store, provider, connection);
    if (!record) {
        // A provider that needs no credential needs no connection either.
        if (record.error().code == Error::Code::NotFound &&
            manifest->auth.kind == ProviderAuth::Kind::None)
            return fail(Error::Code::NotFound,
                        QStringLiteral("provider \"%1\" needs no credential").arg(provider));
        if (record.error().code == Error::Code::NotFound)
            return fail(Error::Code::Validation, record.error().message);
        return std::unexpected(record.error());
    }
    if (record->status == QLatin1String("needs_reconnect"))
        return fail(Error::Code::Conflict,
                    QStringLiteral("connection \"%1\" needs to be reconnected%2: run `vivarium "
                                   "connect %3 --name %1` again")
                        .arg(record->name,
                             record->statusReason.isEmpty()
                                 ? QString()
                                 : QStringLiteral(" (%1)").arg(record->statusReason),
                             provider));
    return forRecord(*manifest, *record, m_secrets);
}

} // namespace vivarium
