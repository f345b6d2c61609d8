// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/ProviderManifest.h"

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
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
class Store;
struct ConnectionRecord;

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
    /**
     * Non-empty: the secret goes in this query parameter instead of a header (an API key "in
     * query"): appended by the broker, only for the bound host, never in an audit row.
     */
    QByteArray queryName;
    /** More values to redact from responses (e.g. the raw `user:password` of Basic auth). */
    QList<QByteArray> alsoRedact;
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
 * Credentials from the SecretStore alone, without connection records (tests, tools): the
 * secret under `connection/<provider>/<name>/token` and its metadata as JSON under
 * `connection/<provider>/<name>/meta`: {"bound_host": "api.example.com", "header":
 * "Authorization", "prefix": "Bearer "} (header and prefix optional). An empty connection name
 * reads `<name>` = `default`. A token without metadata, or without bound_host, is bound
 * nowhere: it is never sent, only redacted. tokenKey() is also where ConnectionCredentialSource
 * (the engine's default) reads a connection's secret.
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

/**
 * Credentials from the connection records (`vivarium connect`): the record from the Store
 * (`Store::connection`), how the credential goes on the wire from its provider's manifest
 * (credentialHost is the bound host; OAuth 2 and api_key in a header: `<header>: <prefix>
 * <secret>`; api_key in the query: ProviderCredential::queryName; basic: `Authorization: Basic
 * base64(<secret>)` where the secret is `user:password`), and the secret itself from the
 * SecretStore at VaultCredentialSource::tokenKey(provider, name). The engine's default.
 *
 * An empty connection name is the provider's only connection (two or more: an error asking to
 * name one). NotFound: the provider needs no credential (auth `none`). Errors: no such
 * connection, a connection of another provider, status `needs_reconnect` (run `vivarium
 * connect` again), an unknown provider, a missing secret of a connection that needs one.
 * Thread: the Store's.
 */
class ConnectionCredentialSource : public CredentialSource
{
public:
    /** None owned; all must outlive the source. Null store or catalog: every lookup fails. */
    ConnectionCredentialSource(Store* store, std::shared_ptr<const ProviderCatalog> catalog,
                               SecretStore* secrets)
        : m_store(store)
        , m_catalog(std::move(catalog))
        , m_secrets(secrets)
    {}
    Result<ProviderCredential> credential(const QString& provider,
                                          const QString& connection) override;

    /** The credential of one record under `manifest`, without the store (connection tests). */
    static Result<ProviderCredential> forRecord(const ProviderManifest& manifest,
                                                const ConnectionRecord& record,
                                                SecretStore* secrets);

    /**
     * The record a grant names: `connection`, which must belong to `provider`; empty: the
     * provider's only connection. NotFound when there is none; Validation when it is ambiguous
     * or of another provider. Says which `vivarium` command fixes it.
     */
    static Result<ConnectionRecord> findConnection(const Store& store, const QString& provider,
                                                   const QString& connection);

private:
    Store* m_store;
    std::shared_ptr<const ProviderCatalog> m_catalog;
    SecretStore* m_secrets;
};

/** Tunables of provider calls. The defaults are the production values. */
struct ProviderCallOptions
{
    /** Null: SystemResolver. Tests use a StaticResolver: never the real DNS. */
    std::shared_ptr<const HostResolver> resolver;
    /** Null: ConnectionCredentialSource over the engine's Store, catalog and SecretStore. */
    std::shared_ptr<CredentialSource> credentials;
    /**
     * The provider manifests (operations, credential binding). Null: each run loads
     * ProviderCatalog::load(<data dir>/providers) when it starts.
     */
    std::shared_ptr<const ProviderCatalog> catalog;
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

/** The broker's answer for one URL against a grant's authorized-URI patterns. */
struct AuthorizedUriVerdict
{
    bool allowed = false;
    QString rule;    ///< uri.allow | uri.deny | uri.empty | uri.no_match | request.url | ...
    QString pattern; ///< the deciding pattern, if any
    QString message; ///< the broker's own words; empty when allowed
};

/**
 * Would the broker let a call with this method and URL through these authorized-URI patterns?
 * The broker's own URL normalization and matcher (globs, deny wins, an empty list allows
 * nothing), so the agent editor's live tester can never disagree with a run. Only the URI
 * rules: the address checks (DNS, private ranges) happen when a call is really made.
 */
AuthorizedUriVerdict checkAuthorizedUri(const QStringList& patterns, const QString& method,
                                        const QString& url);

/** What `vivarium connections test NAME` reports. */
struct ConnectionTestResult
{
    bool ok = false; ///< a 2xx came back
    int status = 0;  ///< HTTP status; 0 when no response came back
    QString message; ///< one line for a human: "HTTP 200 from GET https://...", the refusal
    qint64 latencyMs = 0;
    QString operation;  ///< the manifest's testOperation
    QString url;        ///< scheme://host:port/path called (no query)
    QString credential; ///< injected | none | unbound | not_bound_host (never the value)
    /** The response body when it is a JSON object, secrets redacted (e.g. to show the account). */
    QJsonObject body;
};

/**
 * Calls the manifest's testOperation for one connection, synchronously on the calling thread,
 * through the broker's rules: request checks, the manifest's authorized URIs, resolve and
 * address checks, pinning, TLS, the credential injected only for the bound host, redaction.
 * Any HTTP answer is a Result holding ok/status (a 401 is `ok: false`, not an error); an Error
 * means the call could not be made: no testOperation (Unsupported), the credential cannot be
 * read (its message), a refusal or transport failure (Validation/Io with the broker's reason).
 * The connection's status is not checked nor changed here: the caller records the outcome.
 */
Result<ConnectionTestResult> testConnection(const ProviderManifest& manifest,
                                            const ConnectionRecord& connection,
                                            SecretStore& secrets,
                                            const ProviderCallOptions& options);

} // namespace vivarium
