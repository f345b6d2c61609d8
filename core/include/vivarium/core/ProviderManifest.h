// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace vivarium {

/** OAuth 2.0 endpoints and options of a provider (RFC 6749, 7636, 8252, 8628, 7009). */
struct OAuth2Config
{
    QString authorizationEndpoint; ///< https (http only for loopback test servers)
    QString tokenEndpoint;
    QString deviceAuthorizationEndpoint; ///< empty: no device flow (RFC 8628)
    QString revocationEndpoint;          ///< empty: cannot revoke (RFC 7009)
    QString userinfoEndpoint;            ///< optional: who the connection is, for `account`
    QString issuer;                      ///< expected `iss` on the redirect (RFC 9207) if set
    QStringList scopes;                  ///< requested by default
    QString scopeSeparator = QStringLiteral(" ");
    bool pkce = true; ///< S256; a provider without PKCE support says false
    /** Extra query parameters of the authorization request, e.g. access_type=offline. */
    QHash<QString, QString> extraAuthorizationParams;
    /** How the client authenticates at the token endpoint: client_secret_post | _basic | none. */
    QString tokenEndpointAuth = QStringLiteral("client_secret_post");
};

/** How a connection's credential goes on the wire. */
struct ProviderAuth
{
    enum class Kind { OAuth2, ApiKey, Basic, None };
    Kind kind = Kind::None;
    OAuth2Config oauth2;
    /** api_key: "header" or "query". */
    QString apiKeyIn = QStringLiteral("header");
    /** api_key: header or query parameter name ("Authorization", "X-Api-Key", "key"). */
    QString apiKeyName = QStringLiteral("Authorization");
    /** api_key: text put before the key in a header ("Bearer ", "token "). */
    QString apiKeyPrefix;
    /**
     * api_key: the connection may override in/name/prefix with its meta `api_key_in`,
     * `api_key_name`, `api_key_prefix` (the generic provider: every API names its header).
     */
    bool apiKeyConfigurable = false;
    /** Where the user gets a key or registers an OAuth app: shown by `vivarium connect`. */
    QString setupUrl;
};

/** One operation of a provider, exposed to agents as a tool named `<provider>_<name>`. */
struct ProviderOperation
{
    QString name;        ///< [a-z][a-z0-9_]*, unique within the manifest
    QString description; ///< what the model reads
    QString method;      ///< GET POST PUT PATCH DELETE
    /** Relative to the manifest's base URL; `{param}` placeholders are path parameters. */
    QString path;
    /**
     * JSON Schema (object) of the arguments. Each property says where it goes with
     * "x-in": "path" | "query" | "body" | "header" (default: path if the template names it,
     * else query for GET/DELETE, else body); "x-body": "json" (default) | "form" on the schema.
     */
    QJsonObject parameters;
    bool writes = false; ///< changes something at the provider (shown, and approval later)
    QStringList scopes;  ///< OAuth scopes it needs (informative; the wizard shows them)
    /** Fixed headers of this operation (after the manifest's, which they override). */
    QList<QPair<QString, QString>> headers;
    /** Fixed query parameters, sent before the arguments' (e.g. alt=media). */
    QList<QPair<QString, QString>> query;
    /** Fixed body members, merged over the arguments' (e.g. a folder's mimeType). */
    QJsonObject body;
    QString bodyFormat = QStringLiteral("json"); ///< "json" | "form" (the schema's "x-body")
};

/**
 * A value a connection supplies (in its record's `meta`) that the manifest cannot know: a
 * `{name}` placeholder in base_url, e.g. Jira's cloud id or the generic provider's base URL.
 * `vivarium connect` asks for each.
 */
struct ConnectionField
{
    QString name;        ///< [a-z][a-z0-9_]*: the meta key and the placeholder
    QString description; ///< what to enter and where to find it
    bool required = true;
};

/** A provider's manifest (`resources/providers/<id>.json` or the user's providers directory). */
struct ProviderManifest
{
    QString id;   ///< [a-z][a-z0-9_-]*, the file's base name
    QString name; ///< human name
    QString description;
    QString docsUrl;
    /**
     * https origin plus optional base path, no trailing slash; operations are under it. May hold
     * `{field}` placeholders of connectionFields: a whole host label, a whole path segment, or
     * the entire URL (resolveBaseUrl()).
     */
    QString baseUrl;
    /**
     * The only host the credential is sent to. Empty in the file: the base URL's host, which is
     * what this holds after parsing unless the host depends on a connection field (then empty,
     * and resolveCredentialHost() gives it per connection).
     */
    QString credentialHost;
    QList<ConnectionField> connectionFields;
    /** Headers of every operation (e.g. Notion-Version, Accept). */
    QList<QPair<QString, QString>> headers;
    ProviderAuth auth;
    /** Default authorized URIs for agents granting it (broker pattern syntax). */
    QStringList authorizedUris;
    QList<ProviderOperation> operations;
    /** Health check for `connections test`: an operation name needing no arguments. */
    QString testOperation;
    QString sourcePath; ///< where it was loaded from
    bool builtIn = false;

    const ProviderOperation* operation(const QString& name) const;
};

/** An operation turned into an HTTP request, credential not included (the broker adds it). */
struct RenderedRequest
{
    QString method;
    QString url; ///< absolute, percent-encoded
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
};

/**
 * The provider catalog: the built-in manifests (compiled into the binary as Qt resources under
 * `:/vivarium/providers/`) plus the user's directory (`<data dir>/providers/<id>.json`), where a
 * user manifest with a built-in id replaces it. Manifests are validated on load; a bad user
 * manifest is reported (problems()) and left out, never half-loaded.
 */
class ProviderCatalog
{
public:
    /** Parse and validate one manifest. Validation errors list every problem with its path. */
    static Result<ProviderManifest> parse(const QByteArray& json, const QString& sourcePath);

    /** Load built-ins and `userDir` (may be empty or missing). */
    static ProviderCatalog load(const QString& userDir);
    /** Where a data directory keeps the user's manifests: `<dataDir>/providers`. */
    static QString userDirectory(const QString& dataDir);

    QList<ProviderManifest> manifests() const { return m_manifests; } ///< ordered by id
    /** NotFound names the id and lists the known ones. */
    Result<ProviderManifest> find(const QString& id) const;
    /** One line per user manifest that failed to load. */
    QStringList problems() const { return m_problems; }

    /**
     * Render `operation` with `args`. The caller validates `args` against the operation's
     * `parameters` first (the broker does, with vivarium::JsonSchema of sandbox/protocol, which
     * core does not link); render checks what it needs itself: every path parameter present
     * and scalar (Validation names it). Path parameters are percent-encoded as one segment (a
     * `/` or `..` in an argument can never change the path).
     */
    static Result<RenderedRequest> render(const ProviderManifest& manifest,
                                          const QString& operation, const QJsonObject& args);
    /**
     * The same with the connection's meta filling the base URL's placeholders (Validation when
     * a required one is missing or unusable).
     */
    static Result<RenderedRequest> render(const ProviderManifest& manifest,
                                          const QString& operation, const QJsonObject& args,
                                          const QJsonObject& connectionMeta);

    /** The base URL with the connection's fields filled in, checked like a manifest's. */
    static Result<QString> resolveBaseUrl(const ProviderManifest& manifest,
                                          const QJsonObject& connectionMeta);
    /** credentialHost, or the resolved base URL's host (lower case). */
    static Result<QString> resolveCredentialHost(const ProviderManifest& manifest,
                                                 const QJsonObject& connectionMeta);

    /** `<provider>_<operation>`: the tool the model calls. */
    static QString toolName(const QString& provider, const QString& operation);
    /** The operation's parameters as the model sees them: the `x-` keywords left out. */
    static QJsonObject modelSchema(const ProviderOperation& operation);

private:
    QList<ProviderManifest> m_manifests;
    QStringList m_problems;
};

} // namespace vivarium
