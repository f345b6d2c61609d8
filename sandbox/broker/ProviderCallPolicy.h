// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/AgentDefinition.h"

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <expected>
#include <optional>

namespace vivarium {

/**
 * A provider call as the runner asked for it, before any check: either a raw request
 * (`http_request`: method, url, headers, body) or a manifest operation (`operation`, `args`),
 * which the broker renders into the raw fields before the same checks.
 */
struct ProviderCallRequest
{
    QString provider;   ///< empty: the only grant whose URIs allow the call
    QString connection; ///< empty: any connection of `provider`
    QString method;
    QString url;
    QList<QPair<QString, QString>> headers; ///< as given (object or [name, value] pairs)
    QByteArray body;                        ///< UTF-8 of the `body` string
    QString operation;                      ///< non-empty: a manifest operation call
    QJsonObject args;                       ///< its arguments

    bool isOperation() const { return !operation.isEmpty(); }

    /** From the `call` object of a `provider` message; the reason when it is malformed. */
    static std::expected<ProviderCallRequest, QString> fromJson(const QJsonObject& call);
};

/** Why the broker refused or could not complete a call. */
struct ProviderCallError
{
    QString kind;    ///< protocol::ErrorKind (policy, dns, connection, timeout, ...)
    QString rule;    ///< short stable code for the audit row, e.g. "address.loopback"
    QString message; ///< precise, for the model and the audit row; never holds a secret
};

/** An http(s) URL taken apart and normalized the way the broker matches and sends it. */
struct NormalizedUrl
{
    QString scheme; ///< http | https
    QString host;   ///< lower-case ACE name, or the canonical text of an IP address
    bool hostIsIp = false;
    QHostAddress ip;     ///< set when hostIsIp (IPv4-mapped IPv6 is stored as IPv4)
    int port = 0;        ///< explicit or the scheme's default
    QString encodedPath; ///< as sent: percent-encoded, never empty ("/")
    QString decodedPath; ///< what the patterns match: percent-decoded, checked
    QString encodedQuery;
    bool hasQuery = false;

    /** `host` as it goes in a URL: IPv6 in brackets. */
    QString urlHost() const;
    /** `host:port`, IPv6 in brackets: the key of CURLOPT_RESOLVE and of local endpoints. */
    QString endpoint() const;
    /** What curl gets: scheme://host:port/path?query. */
    QByteArray toCurlUrl() const;
    /** scheme://host:port/path: for the audit row (no query values). */
    QString auditUrl() const;
};

/** A call that passed the request checks and the authorized-URI match. */
struct CheckedCall
{
    ProviderGrant grant; ///< the grant it goes through
    QString method;
    NormalizedUrl url;
    QList<QPair<QByteArray, QByteArray>> headers; ///< validated; names as given
    QByteArray body;
    QString pattern; ///< the authorized URI that allowed it
};

/** What kind of address an IP is, for the resolve rule (DESIGN section 5). */
enum class AddressClass {
    Public,
    Loopback,    ///< 127/8, ::1
    Private,     ///< 10/8, 172.16/12, 192.168/16, fc00::/7
    SharedCgnat, ///< 100.64/10
    LinkLocal,   ///< 169.254/16 (cloud metadata), fe80::/10
    Unspecified, ///< 0.0.0.0/8, ::
    Multicast,   ///< 224/4, ff00::/8
    Broadcast,   ///< 255.255.255.255
    Reserved,    ///< documentation, benchmarking, 240/4, site-local, Teredo, NAT64 local-use
};

struct AddressVerdict
{
    AddressClass cls = AddressClass::Public;
    QString range; ///< e.g. "10.0.0.0/8", "an IPv4-mapped 127.0.0.0/8"; empty when public
};

/**
 * Rules a) and b) of docs/broker.md and the address rule c), as pure functions: request
 * validation (method, URL, headers, body), then the grant's authorized URIs. No DNS, no I/O;
 * thread-safe.
 */
class ProviderCallPolicy
{
public:
    static constexpr int MaxHeaders = 64;
    static constexpr qsizetype MaxHeaderBytes = 32 * 1024;
    static constexpr qsizetype MaxUrlBytes = 8 * 1024;

    explicit ProviderCallPolicy(QList<ProviderGrant> grants, qint64 maxBodyBytes = 4 * 1024 * 1024);

    /** a) the request is well-formed and safe to put on the wire; b) a grant allows it. */
    std::expected<CheckedCall, ProviderCallError> check(const ProviderCallRequest& request) const;

    // --- the pieces, public for the unit tests ---------------------------------------------

    /** a) URL: absolute http(s), no user info, no fragment, no control characters, ... */
    static std::expected<NormalizedUrl, ProviderCallError> normalizeUrl(const QString& url);
    /**
     * Lower case, trailing dot removed, IDNA (ACE), IP literals in any encoding inet_aton(3)
     * or the URL parsers accept recognized. nullopt: not a usable host.
     */
    static std::optional<QString> normalizeHost(const QString& host, QHostAddress* ip, bool* isIp);
    /** a) method: a token, upper-cased, one of GET HEAD POST PUT PATCH DELETE OPTIONS. */
    static std::expected<QString, ProviderCallError> normalizeMethod(const QString& method);
    /** a) headers: tokens, no CR/LF/NUL, none the broker owns, no duplicates. */
    static std::expected<QList<QPair<QByteArray, QByteArray>>, ProviderCallError>
    validateHeaders(const QList<QPair<QString, QString>>& headers);

    /** b) Outcome of matching one grant's patterns. */
    struct UriDecision
    {
        bool allowed = false;
        QString rule;    ///< uri.allow | uri.deny | uri.empty | uri.no_match
        QString pattern; ///< the deciding pattern, if any
        QString message;
    };
    /** Why an authorized-URI pattern cannot be read; empty when it can. */
    static QString patternProblem(const QString& pattern);
    /** A local-endpoints entry (`host:port`) as NormalizedUrl::endpoint() has it; empty if bad. */
    static QString normalizeEndpoint(const QString& text);

    /** b) deny wins, empty list denies, a malformed deny pattern denies everything. */
    static UriDecision matchUris(const QStringList& patterns, const QString& method,
                                 const NormalizedUrl& url);
    /** `*` within a segment, `**` across; `sep` is '/' for paths, '.' for hosts. */
    static bool globMatch(const QString& pattern, const QString& text, QChar sep);

    /** c) */
    static AddressVerdict classify(const QHostAddress& address);
    /** c) may a call connect to an address of this class? */
    static bool addressAllowed(AddressClass cls, bool explicitlyLocal);
    static QString className(AddressClass cls);

private:
    QList<ProviderGrant> m_grants;
    qint64 m_maxBodyBytes;
};

} // namespace vivarium
