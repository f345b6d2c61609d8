// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The resolvers and the vault-backed CredentialSource of vivarium/sandbox/ProviderCalls.h.
#include "vivarium/sandbox/ProviderCalls.h"

#include "ProviderCallPolicy.h"

#include "vivarium/core/SecretStore.h"

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

} // namespace vivarium
