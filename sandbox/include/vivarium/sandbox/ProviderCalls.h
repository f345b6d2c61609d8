// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>

/**
 * What the engine configures about the broker's provider calls (docs/broker.md): how names are
 * resolved, where connection credentials come from, which endpoints may be local, and the
 * limits. The rules themselves are not configurable.
 */
namespace vivarium {

class SecretStore;

/**
 * Turns a host name into addresses. The broker checks every address it gets back before it
 * connects, and then connects only to those. Implementations must be thread-safe: lookups run
 * on worker threads.
 */
class HostResolver
{
public:
    virtual ~HostResolver() = default;
    /** `host` is normalized (lower case, ACE, no trailing dot). NotFound: no such name. */
    virtual Result<QList<QHostAddress>> resolve(const QString& host) const = 0;
};

/** getaddrinfo(3): the system's resolver. The default. */
class SystemResolver : public HostResolver
{
public:
    Result<QList<QHostAddress>> resolve(const QString& host) const override;
};

/**
 * A fixed table of names, for tests and development: never asks the real DNS. A name not in
 * the table is NotFound.
 */
class StaticResolver : public HostResolver
{
public:
    StaticResolver() = default;
    explicit StaticResolver(QHash<QString, QList<QHostAddress>> table)
        : m_table(std::move(table))
    {}
    /** Not thread-safe: fill the table before the resolver is handed to the broker. */
    void add(const QString& host, const QHostAddress& address) { m_table[host].append(address); }
    Result<QList<QHostAddress>> resolve(const QString& host) const override;

private:
    QHash<QString, QList<QHostAddress>> m_table;
};

/** A connection's credential and how it goes on the wire. */
struct ProviderCredential
{
    QByteArray secret;                       ///< the token itself; never logged
    QByteArray headerName = "Authorization"; ///< an HTTP token; never a hop-by-hop header
    QByteArray prefix = "Bearer ";           ///< put before the secret in the header value
    /**
     * The only host the credential may be sent to (compared after normalization, exactly:
     * no wildcards, no subdomains). Empty: it is sent nowhere.
     */
    QString boundHost;
};

/**
 * Where the broker gets a connection's credential (docs/broker.md, "CredentialSource").
 *
 * Contract:
 * - called on the broker's thread (the supervisor's), never concurrently, once per provider
 *   call for the connection the call uses and once for every other connection the agent is
 *   granted (those values are only used to redact responses);
 * - the values are not cached by the broker beyond the call;
 * - NotFound: the connection has no credential; the call goes out without one. Any other error
 *   refuses the call (kind `config`), saying why, without the value.
 * - `connection` is the grant's connection name; an empty name means the provider's only
 *   connection.
 */
class CredentialSource
{
public:
    virtual ~CredentialSource() = default;
    virtual Result<ProviderCredential> credential(const QString& provider,
                                                  const QString& connection) = 0;
};

/**
 * Credentials from the SecretStore until the provider catalog issue brings real connection
 * records: the secret under `connection/<provider>/<name>/token` and its metadata as JSON under
 * `connection/<provider>/<name>/meta`: {"bound_host": "api.example.com", "header":
 * "Authorization", "prefix": "Bearer "} (header and prefix optional). An empty connection name
 * reads `<name>` = `default`. A token without metadata, or without bound_host, is bound
 * nowhere: it is never sent, only redacted.
 */
class VaultCredentialSource : public CredentialSource
{
public:
    explicit VaultCredentialSource(SecretStore* secrets)
        : m_secrets(secrets)
    {}
    Result<ProviderCredential> credential(const QString& provider,
                                          const QString& connection) override;

    static QString tokenKey(const QString& provider, const QString& connection);
    static QString metaKey(const QString& provider, const QString& connection);

private:
    SecretStore* m_secrets; ///< not owned; may be null (then nothing is found)
};

/** Tunables of provider calls. The defaults are the production values. */
struct ProviderCallOptions
{
    /** Null: SystemResolver. Tests use a StaticResolver: never the real DNS. */
    std::shared_ptr<const HostResolver> resolver;
    /** Null: VaultCredentialSource over the engine's SecretStore. */
    std::shared_ptr<CredentialSource> credentials;
    /**
     * Endpoints (`host:port`, `[v6]:port`) explicitly allowed to be local: they may resolve to
     * loopback, private (RFC 1918, ULA) or CGNAT addresses. Never link-local (cloud metadata),
     * multicast, broadcast or unspecified. A development and test switch; empty by default.
     */
    QStringList localEndpoints;
    qint64 maxResponseBytes = 2 * 1024 * 1024; ///< the body beyond is cut (truncated: true)
    qint64 maxRequestBodyBytes = 4 * 1024 * 1024;
    int connectTimeoutMs = 10'000;
    int totalTimeoutMs = 30'000;
};

} // namespace vivarium
