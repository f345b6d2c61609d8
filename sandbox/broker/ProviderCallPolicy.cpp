// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ProviderCallPolicy.h"

#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <curl/curl.h>

#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <memory>

namespace vivarium {

namespace {

constexpr qsizetype MaxNameBytes = 253;
constexpr qsizetype MaxShownPatterns = 8;

const QString KindPolicy = QLatin1String(protocol::ErrorKind::Policy);

std::unexpected<ProviderCallError> refuse(const QString& rule, const QString& message,
                                          const QString& kind = KindPolicy)
{
    return std::unexpected(ProviderCallError{kind, rule, message});
}

/** `text` with control characters shown as \xNN, cut to 80 characters: safe to quote back. */
QString shown(const QString& text)
{
    QString out;
    for (const QChar c : text.left(80)) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            out += QStringLiteral("\\x%1").arg(int(c.unicode()), 2, 16, QLatin1Char('0'));
        else
            out += c;
    }
    if (text.size() > 80)
        out += QStringLiteral("...");
    return out;
}

bool isSmuggleChar(uint c)
{
    return c == '\r' || c == '\n' || c == 0;
}

bool isTchar(char c)
{
    // RFC 9110 token characters.
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(const QByteArray& s)
{
    if (s.isEmpty())
        return false;
    for (const char c : s) {
        if (!isTchar(c))
            return false;
    }
    return true;
}

int defaultPort(const QString& scheme)
{
    return scheme == QLatin1String("https") ? 443 : 80;
}

/** Each label of a host name: 1-63 of [a-z0-9_-]. */
bool isValidName(const QString& name)
{
    if (name.isEmpty() || name.size() > MaxNameBytes)
        return false;
    const QStringList labels = name.split(QLatin1Char('.'));
    for (const QString& label : labels) {
        if (label.isEmpty() || label.size() > 63)
            return false;
        for (const QChar c : label) {
            const bool ok = (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
                            (c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
                            c == QLatin1Char('-') || c == QLatin1Char('_');
            if (!ok)
                return false;
        }
    }
    return true;
}

/** The glob as an anchored regular expression: `**` any text, `*` any text without `sep`. */
QRegularExpression globRegex(const QString& pattern, QChar sep)
{
    QString body = pattern;
    QString tail;
    // "/a/**" also covers "/a" itself: "everything under a" includes a.
    if (sep == QLatin1Char('/') && body.endsWith(QStringLiteral("/**"))) {
        body.chop(3);
        tail = QStringLiteral("(?:/.*)?");
    }
    QString re;
    const QString notSep =
        QStringLiteral("[^") + QRegularExpression::escape(QString(sep)) + QStringLiteral("]*");
    for (qsizetype i = 0; i < body.size(); ++i) {
        if (body.at(i) == QLatin1Char('*')) {
            if (i + 1 < body.size() && body.at(i + 1) == QLatin1Char('*')) {
                re += QStringLiteral(".*");
                while (i + 1 < body.size() && body.at(i + 1) == QLatin1Char('*'))
                    ++i;
            } else {
                re += notSep;
            }
        } else {
            re += QRegularExpression::escape(QString(body.at(i)));
        }
    }
    return QRegularExpression(QRegularExpression::anchoredPattern(re + tail),
                              QRegularExpression::DotMatchesEverythingOption);
}

/** One authorized URI, taken apart. */
struct UriPattern
{
    bool deny = false;
    QString method; ///< empty or "*": any
    QString scheme;
    QString host; ///< normalized; may hold `*` / `**`
    bool hostIsGlob = false;
    int port = 0;
    QString path; ///< decoded glob
    QString problem;
};

/** Host of a pattern: normalized like a request host, except labels holding a wildcard. */
std::optional<QString> normalizePatternHost(QString host)
{
    host = host.toLower();
    if (host.endsWith(QLatin1Char('.')))
        host.chop(1);
    if (!host.contains(QLatin1Char('*'))) {
        QHostAddress ip;
        bool isIp = false;
        return ProviderCallPolicy::normalizeHost(host, &ip, &isIp);
    }
    QStringList labels = host.split(QLatin1Char('.'));
    for (QString& label : labels) {
        if (label.contains(QLatin1Char('*')))
            continue;
        const QString ace = QString::fromLatin1(QUrl::toAce(label)).toLower();
        if (ace.isEmpty())
            return std::nullopt;
        label = ace;
    }
    return labels.join(QLatin1Char('.'));
}

UriPattern parsePattern(QString s)
{
    UriPattern p;
    if (s.startsWith(QLatin1Char('!'))) {
        p.deny = true;
        s = s.mid(1);
    }
    if (const qsizetype space = s.indexOf(QLatin1Char(' ')); space >= 0) {
        p.method = s.left(space);
        s = s.mid(space + 1).trimmed();
        if (p.method == QLatin1String("*"))
            p.method.clear();
    }
    const qsizetype sep = s.indexOf(QStringLiteral("://"));
    if (sep < 0) {
        p.problem = QStringLiteral("no scheme");
        return p;
    }
    p.scheme = s.left(sep).toLower();
    if (p.scheme != QLatin1String("http") && p.scheme != QLatin1String("https")) {
        p.problem = QStringLiteral("scheme is not http or https");
        return p;
    }
    const QString rest = s.mid(sep + 3);
    const qsizetype slash = rest.indexOf(QLatin1Char('/'));
    if (slash < 0) {
        p.problem = QStringLiteral("no path");
        return p;
    }
    const QString authority = rest.left(slash);
    const QString path = rest.mid(slash);
    if (authority.contains(QLatin1Char('@')) || path.contains(QLatin1Char('?')) ||
        path.contains(QLatin1Char('#'))) {
        p.problem = QStringLiteral("user info, query or fragment in a pattern");
        return p;
    }
    QString host = authority;
    QString port;
    if (authority.startsWith(QLatin1Char('['))) {
        const qsizetype close = authority.indexOf(QLatin1Char(']'));
        if (close < 0) {
            p.problem = QStringLiteral("unclosed IPv6 host");
            return p;
        }
        host = authority.mid(1, close - 1);
        const QString after = authority.mid(close + 1);
        if (!after.isEmpty() && !after.startsWith(QLatin1Char(':'))) {
            p.problem = QStringLiteral("text after the IPv6 host");
            return p;
        }
        port = after.mid(1);
    } else if (const qsizetype colon = authority.lastIndexOf(QLatin1Char(':')); colon >= 0) {
        host = authority.left(colon);
        port = authority.mid(colon + 1);
    }
    const auto normalized = normalizePatternHost(host);
    if (!normalized || normalized->isEmpty()) {
        p.problem = QStringLiteral("unusable host");
        return p;
    }
    p.host = *normalized;
    p.hostIsGlob = p.host.contains(QLatin1Char('*'));
    if (port.isEmpty()) {
        p.port = defaultPort(p.scheme);
    } else {
        bool ok = false;
        p.port = port.toInt(&ok);
        if (!ok || p.port < 1 || p.port > 65535) {
            p.problem = QStringLiteral("bad port");
            return p;
        }
    }
    p.path = QString::fromUtf8(QByteArray::fromPercentEncoding(path.toUtf8()));
    return p;
}

bool patternMatches(const UriPattern& p, const QString& method, const NormalizedUrl& url)
{
    if (!p.method.isEmpty() && p.method != method)
        return false;
    if (p.scheme != url.scheme || p.port != url.port)
        return false;
    if (p.hostIsGlob ? !ProviderCallPolicy::globMatch(p.host, url.host, QLatin1Char('.'))
                     : p.host != url.host)
        return false;
    return ProviderCallPolicy::globMatch(p.path, url.decodedPath, QLatin1Char('/'));
}

/** The host of `raw` as libcurl's URL parser sees it, normalized like ours. */
std::optional<QPair<QString, int>> curlView(const QByteArray& raw)
{
    struct UrlDeleter
    {
        void operator()(CURLU* u) const { curl_url_cleanup(u); }
    };
    std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
    if (!handle || curl_url_set(handle.get(), CURLUPART_URL, raw.constData(), 0) != CURLUE_OK)
        return std::nullopt;
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(handle.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || !host)
        return std::nullopt;
    const QString hostText = QString::fromUtf8(host);
    curl_free(host);
    int portNumber = 0;
    if (curl_url_get(handle.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        port) {
        portNumber = QByteArray(port).toInt();
        curl_free(port);
    }
    QHostAddress ip;
    bool isIp = false;
    const auto normalized = ProviderCallPolicy::normalizeHost(hostText, &ip, &isIp);
    if (!normalized)
        return std::nullopt;
    return qMakePair(*normalized, portNumber);
}

bool hasSmuggleChar(const QByteArray& bytes)
{
    for (const char c : bytes) {
        if (isSmuggleChar(uchar(c)))
            return true;
    }
    return false;
}

bool hasControlChar(const QByteArray& bytes)
{
    for (const char c : bytes) {
        if (uchar(c) < 0x20 || uchar(c) == 0x7f)
            return true;
    }
    return false;
}

} // namespace

// --- request ------------------------------------------------------------------------------

std::expected<ProviderCallRequest, QString> ProviderCallRequest::fromJson(const QJsonObject& call)
{
    ProviderCallRequest r;
    for (const char* key : {"provider", "connection", "operation"}) {
        const QJsonValue v = call.value(QLatin1String(key));
        if (!v.isUndefined() && !v.isNull() && !v.isString())
            return std::unexpected(QStringLiteral("\"%1\" must be a string").arg(key));
    }
    r.provider = call.value(QStringLiteral("provider")).toString();
    r.connection = call.value(QStringLiteral("connection")).toString();
    if (call.contains(QStringLiteral("operation"))) {
        // A manifest operation: the broker builds the request itself from the manifest.
        r.operation = call.value(QStringLiteral("operation")).toString();
        if (r.operation.isEmpty())
            return std::unexpected(QStringLiteral("\"operation\" may not be empty"));
        if (r.provider.isEmpty())
            return std::unexpected(QStringLiteral("an operation call names its \"provider\""));
        for (const char* key : {"method", "url", "headers", "body"}) {
            if (call.contains(QLatin1String(key)))
                return std::unexpected(
                    QStringLiteral("an operation call has no \"%1\": the manifest gives it")
                        .arg(key));
        }
        const QJsonValue args = call.value(QStringLiteral("args"));
        if (!args.isUndefined() && !args.isNull() && !args.isObject())
            return std::unexpected(QStringLiteral("\"args\" must be an object"));
        r.args = args.toObject();
        return r;
    }
    const QJsonValue method = call.value(QStringLiteral("method"));
    if (!method.isString())
        return std::unexpected(QStringLiteral("\"method\" must be a string"));
    r.method = method.toString();
    const QJsonValue url = call.value(QStringLiteral("url"));
    if (!url.isString())
        return std::unexpected(QStringLiteral("\"url\" must be a string"));
    r.url = url.toString();

    const QJsonValue headers = call.value(QStringLiteral("headers"));
    if (headers.isObject()) {
        const QJsonObject o = headers.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!it.value().isString())
                return std::unexpected(
                    QStringLiteral("the value of header \"%1\" must be a string").arg(it.key()));
            r.headers.append({it.key(), it.value().toString()});
        }
    } else if (headers.isArray()) {
        // [[name, value], ...]: the form that can express a repeated header, so the broker
        // sees (and refuses) exactly what was sent.
        for (const QJsonValue& h : headers.toArray()) {
            const QJsonArray pair = h.toArray();
            if (!h.isArray() || pair.size() != 2 || !pair.at(0).isString() ||
                !pair.at(1).isString())
                return std::unexpected(
                    QStringLiteral("\"headers\" as an array holds [name, value] string pairs"));
            r.headers.append({pair.at(0).toString(), pair.at(1).toString()});
        }
    } else if (!headers.isUndefined() && !headers.isNull()) {
        return std::unexpected(QStringLiteral("\"headers\" must be an object of strings"));
    }

    const QJsonValue body = call.value(QStringLiteral("body"));
    if (body.isString())
        r.body = body.toString().toUtf8();
    else if (!body.isUndefined() && !body.isNull())
        return std::unexpected(QStringLiteral("\"body\" must be a string"));
    return r;
}

// --- normalized URL -----------------------------------------------------------------------

QString NormalizedUrl::urlHost() const
{
    if (hostIsIp && ip.protocol() == QAbstractSocket::IPv6Protocol)
        return QLatin1Char('[') + host + QLatin1Char(']');
    return host;
}

QString NormalizedUrl::endpoint() const
{
    return urlHost() + QLatin1Char(':') + QString::number(port);
}

QByteArray NormalizedUrl::toCurlUrl() const
{
    QByteArray out = scheme.toLatin1() + "://" + urlHost().toLatin1() + ':' +
                     QByteArray::number(port) + encodedPath.toLatin1();
    if (hasQuery)
        out += '?' + encodedQuery.toLatin1();
    return out;
}

QString NormalizedUrl::auditUrl() const
{
    return scheme + QStringLiteral("://") + endpoint() + encodedPath;
}

// --- policy -------------------------------------------------------------------------------

ProviderCallPolicy::ProviderCallPolicy(QList<ProviderGrant> grants, qint64 maxBodyBytes)
    : m_grants(std::move(grants))
    , m_maxBodyBytes(maxBodyBytes)
{}

std::optional<QString> ProviderCallPolicy::normalizeHost(const QString& rawHost, QHostAddress* ip,
                                                         bool* isIp)
{
    *isIp = false;
    QString host = rawHost.toLower();
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    // One trailing dot is the fully qualified form of the same name; more is malformed.
    if (host.endsWith(QLatin1Char('.')))
        host.chop(1);
    if (host.isEmpty() || host.endsWith(QLatin1Char('.')))
        return std::nullopt;

    if (host.contains(QLatin1Char(':'))) {
        QHostAddress a;
        if (host.contains(QLatin1Char('%')) || !a.setAddress(host) ||
            a.protocol() != QAbstractSocket::IPv6Protocol)
            return std::nullopt; // scoped or malformed IPv6
        bool mapped = false;
        const quint32 v4 = a.toIPv4Address(&mapped);
        *ip = mapped ? QHostAddress(v4) : a;
        *isIp = true;
        return ip->toString();
    }
    // Whatever inet_aton(3) takes (decimal 2130706433, hex 0x7f000001, octal 0177.0.0.1, short
    // 127.1) is an address to curl and getaddrinfo too: treat it as that address.
    bool ascii = true;
    for (const QChar c : std::as_const(host))
        ascii = ascii && c.unicode() < 0x80;
    if (ascii) {
        in_addr addr{};
        const QByteArray latin = host.toLatin1();
        if (::inet_aton(latin.constData(), &addr) != 0) {
            *ip = QHostAddress(ntohl(addr.s_addr));
            *isIp = true;
            return ip->toString();
        }
    }
    const QString ace = QString::fromLatin1(QUrl::toAce(host)).toLower();
    if (!isValidName(ace))
        return std::nullopt;
    return ace;
}

std::expected<NormalizedUrl, ProviderCallError> ProviderCallPolicy::normalizeUrl(const QString& raw)
{
    const QString rule = QStringLiteral("request.url");
    if (raw.toUtf8().size() > MaxUrlBytes)
        return refuse(rule, QStringLiteral("the URL is longer than %1 bytes").arg(MaxUrlBytes));
    for (const QChar c : raw) {
        if (isSmuggleChar(c.unicode()))
            return refuse(QStringLiteral("request.smuggling"),
                          QStringLiteral("the URL contains CR, LF or NUL (request smuggling)"));
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.isSpace())
            return refuse(rule, QStringLiteral("the URL contains white space or a control "
                                               "character; percent-encode it"));
        if (c == QLatin1Char('\\'))
            return refuse(rule, QStringLiteral("the URL contains a backslash, which URL parsers "
                                               "read differently; percent-encode it (%5C)"));
    }
    if (raw.contains(QLatin1Char('#')))
        return refuse(rule, QStringLiteral("the URL has a fragment (#...); leave it out"));
    const qsizetype sep = raw.indexOf(QStringLiteral("://"));
    if (sep < 0)
        return refuse(rule,
                      QStringLiteral("\"%1\" is not an absolute http(s) URL").arg(shown(raw)));
    const QString scheme = raw.left(sep).toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return refuse(rule, QStringLiteral("the scheme must be http or https, not \"%1\"")
                                .arg(shown(raw.left(sep))));
    const QString afterScheme = raw.mid(sep + 3);
    qsizetype authorityEnd = afterScheme.size();
    for (const QChar stop : {QLatin1Char('/'), QLatin1Char('?')}) {
        const qsizetype at = afterScheme.indexOf(stop);
        if (at >= 0)
            authorityEnd = qMin(authorityEnd, at);
    }
    if (afterScheme.left(authorityEnd).contains(QLatin1Char('@')))
        return refuse(rule, QStringLiteral("the URL has user info (user@host); credentials come "
                                           "from the connection, and \"@\" hides the real host"));

    const QUrl u(raw, QUrl::StrictMode);
    if (!u.isValid() || u.isRelative())
        return refuse(rule, QStringLiteral("\"%1\" is not a valid URL").arg(shown(raw)));
    if (!u.userInfo().isEmpty())
        return refuse(rule, QStringLiteral("the URL has user info (user@host)"));

    NormalizedUrl n;
    n.scheme = scheme;
    const QString rawHost = u.host(QUrl::FullyDecoded);
    const auto host = normalizeHost(rawHost, &n.ip, &n.hostIsIp);
    if (!host)
        return refuse(rule, QStringLiteral("\"%1\" is not a usable host").arg(shown(rawHost)));
    n.host = *host;
    n.port = u.port(defaultPort(scheme));
    if (n.port < 1 || n.port > 65535)
        return refuse(rule, QStringLiteral("port %1 is not usable").arg(n.port));

    // What the URL means to curl must be what it means to us: a host the two parsers read
    // differently is exactly how allow-list bypasses work.
    const auto curl = curlView(raw.toUtf8());
    if (!curl || curl->first != n.host || curl->second != n.port)
        return refuse(rule, QStringLiteral("the URL is ambiguous: its host or port reads "
                                           "differently to different URL parsers"));

    n.encodedPath = u.path(QUrl::FullyEncoded);
    if (n.encodedPath.isEmpty())
        n.encodedPath = QStringLiteral("/");
    if (n.encodedPath.contains(QStringLiteral("%2f"), Qt::CaseInsensitive) ||
        n.encodedPath.contains(QStringLiteral("%5c"), Qt::CaseInsensitive))
        return refuse(rule, QStringLiteral("the path contains an encoded slash or backslash "
                                           "(%2F, %5C), which servers split differently than "
                                           "the authorized URIs do"));
    const QByteArray decoded = QByteArray::fromPercentEncoding(n.encodedPath.toLatin1());
    if (hasSmuggleChar(decoded))
        return refuse(QStringLiteral("request.smuggling"),
                      QStringLiteral("the path contains an encoded CR, LF or NUL (request "
                                     "smuggling)"));
    if (hasControlChar(decoded) || !decoded.isValidUtf8())
        return refuse(rule, QStringLiteral("the path contains control characters or invalid "
                                           "UTF-8 once decoded"));
    n.decodedPath = QString::fromUtf8(decoded);
    const QStringList segments = n.decodedPath.split(QLatin1Char('/'));
    for (qsizetype i = 1; i < segments.size(); ++i) {
        const QString& s = segments.at(i);
        if (s == QLatin1String(".") || s == QLatin1String(".."))
            return refuse(rule, QStringLiteral("the path has a \".\" or \"..\" segment (also when "
                                               "encoded); use the canonical path"));
        if (s.isEmpty() && i + 1 < segments.size())
            return refuse(rule, QStringLiteral("the path has an empty segment (//)"));
    }

    n.hasQuery = u.hasQuery();
    if (n.hasQuery) {
        n.encodedQuery = u.query(QUrl::FullyEncoded);
        if (hasSmuggleChar(QByteArray::fromPercentEncoding(n.encodedQuery.toLatin1())))
            return refuse(QStringLiteral("request.smuggling"),
                          QStringLiteral("the query contains an encoded CR, LF or NUL (request "
                                         "smuggling)"));
    }
    return n;
}

std::expected<QString, ProviderCallError> ProviderCallPolicy::normalizeMethod(const QString& method)
{
    static const QStringList Allowed{QStringLiteral("GET"),    QStringLiteral("HEAD"),
                                     QStringLiteral("POST"),   QStringLiteral("PUT"),
                                     QStringLiteral("PATCH"),  QStringLiteral("DELETE"),
                                     QStringLiteral("OPTIONS")};
    const QByteArray bytes = method.toUtf8();
    if (hasSmuggleChar(bytes))
        return refuse(QStringLiteral("request.smuggling"),
                      QStringLiteral("the method contains CR, LF or NUL (request smuggling)"));
    if (!isToken(bytes))
        return refuse(QStringLiteral("request.method"),
                      QStringLiteral("the method \"%1\" is not an HTTP token").arg(shown(method)));
    const QString upper = method.toUpper();
    if (!Allowed.contains(upper))
        return refuse(QStringLiteral("request.method"),
                      QStringLiteral("the method %1 is not allowed; use one of %2")
                          .arg(shown(method), Allowed.join(QStringLiteral(", "))));
    return upper;
}

std::expected<QList<QPair<QByteArray, QByteArray>>, ProviderCallError>
ProviderCallPolicy::validateHeaders(const QList<QPair<QString, QString>>& headers)
{
    const QString rule = QStringLiteral("request.header");
    if (headers.size() > MaxHeaders)
        return refuse(rule, QStringLiteral("more than %1 headers").arg(MaxHeaders),
                      QLatin1String(protocol::ErrorKind::TooLarge));
    QList<QPair<QByteArray, QByteArray>> out;
    QSet<QByteArray> seen;
    qsizetype total = 0;
    for (const auto& [nameText, valueText] : headers) {
        const QByteArray name = nameText.toUtf8();
        const QByteArray value = valueText.toUtf8();
        total += name.size() + value.size() + 4;
        if (hasSmuggleChar(name) || hasSmuggleChar(value))
            return refuse(QStringLiteral("request.smuggling"),
                          QStringLiteral("header \"%1\" contains CR, LF or NUL in its name or "
                                         "value (request smuggling)")
                              .arg(shown(nameText)));
        if (!isToken(name))
            return refuse(rule,
                          QStringLiteral("\"%1\" is not a valid header name").arg(shown(nameText)));
        for (const char c : value) {
            if ((uchar(c) < 0x20 && c != '\t') || uchar(c) == 0x7f)
                return refuse(rule, QStringLiteral("the value of header \"%1\" contains a "
                                                   "control character")
                                        .arg(shown(nameText)));
        }
        const QByteArray lower = name.toLower();
        if (lower == "content-length" || lower == "transfer-encoding")
            return refuse(QStringLiteral("request.smuggling"),
                          QStringLiteral("header \"%1\" may not be set: the broker frames the "
                                         "body itself (request smuggling)")
                              .arg(nameText));
        if (lower == "authorization" || lower == "proxy-authorization" || lower == "cookie" ||
            lower.startsWith("proxy-"))
            return refuse(QStringLiteral("request.credential_header"),
                          QStringLiteral("header \"%1\" may not be set: credentials are added "
                                         "by the broker from the connection")
                              .arg(nameText));
        if (lower == "host")
            return refuse(rule, QStringLiteral("header \"Host\" may not be set: it comes from "
                                               "the URL"));
        static const QList<QByteArray> HopByHop{
            "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "http2-settings"};
        if (HopByHop.contains(lower))
            return refuse(rule, QStringLiteral("header \"%1\" is hop-by-hop: the broker manages "
                                               "the connection")
                                    .arg(nameText));
        if (lower == "accept-encoding")
            return refuse(rule, QStringLiteral("header \"Accept-Encoding\" may not be set: the "
                                               "broker negotiates compression so it can read "
                                               "(and redact) the response"));
        if (seen.contains(lower))
            return refuse(rule, QStringLiteral("header \"%1\" is given twice").arg(nameText));
        seen.insert(lower);
        out.append({name, value});
    }
    if (total > MaxHeaderBytes)
        return refuse(rule,
                      QStringLiteral("the headers are larger than %1 bytes").arg(MaxHeaderBytes),
                      QLatin1String(protocol::ErrorKind::TooLarge));
    return out;
}

QString ProviderCallPolicy::patternProblem(const QString& pattern)
{
    return parsePattern(pattern).problem;
}

QString ProviderCallPolicy::normalizeEndpoint(const QString& text)
{
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0)
        return {};
    const QString host = text.left(colon);
    bool ok = false;
    const int port = text.mid(colon + 1).toInt(&ok);
    if (!ok || port < 1 || port > 65535)
        return {};
    NormalizedUrl u;
    const auto normalized = normalizeHost(host, &u.ip, &u.hostIsIp);
    if (!normalized)
        return {};
    u.host = *normalized;
    u.port = port;
    return u.endpoint();
}

bool ProviderCallPolicy::globMatch(const QString& pattern, const QString& text, QChar sep)
{
    return globRegex(pattern, sep).match(text).hasMatch();
}

ProviderCallPolicy::UriDecision ProviderCallPolicy::matchUris(const QStringList& patterns,
                                                              const QString& method,
                                                              const NormalizedUrl& url)
{
    const QString what = method + QLatin1Char(' ') + url.auditUrl();
    if (patterns.isEmpty())
        return {false,
                QStringLiteral("uri.empty"),
                {},
                QStringLiteral("%1: the grant has no authorized URIs, and an empty list allows "
                               "nothing")
                    .arg(what)};
    std::optional<UriDecision> allow;
    for (const QString& text : patterns) {
        const UriPattern p = parsePattern(text);
        if (!p.problem.isEmpty()) {
            // A deny rule that cannot be read must not quietly stop denying.
            if (p.deny)
                return {false, QStringLiteral("uri.deny"), text,
                        QStringLiteral("%1: the deny rule \"%2\" is malformed (%3), so everything "
                                       "is denied")
                            .arg(what, text, p.problem)};
            continue;
        }
        if (!patternMatches(p, method, url))
            continue;
        if (p.deny)
            return {false, QStringLiteral("uri.deny"), text,
                    QStringLiteral("%1 is denied by \"%2\"").arg(what, text)};
        if (!allow)
            allow = UriDecision{true, QStringLiteral("uri.allow"), text, {}};
    }
    if (allow)
        return *allow;
    QStringList listed;
    for (const QString& p : patterns) {
        if (!p.startsWith(QLatin1Char('!')) && listed.size() < MaxShownPatterns)
            listed.append(p);
    }
    return {
        false,
        QStringLiteral("uri.no_match"),
        {},
        QStringLiteral("%1 is not an authorized URI of this agent%2")
            .arg(what,
                 listed.isEmpty()
                     ? QString()
                     : QStringLiteral(" (allowed: %1)").arg(listed.join(QStringLiteral(", "))))};
}

std::expected<CheckedCall, ProviderCallError>
ProviderCallPolicy::check(const ProviderCallRequest& request) const
{
    // a) the request itself, before anything looks at where it goes.
    const auto method = normalizeMethod(request.method);
    if (!method)
        return std::unexpected(method.error());
    const auto url = normalizeUrl(request.url);
    if (!url)
        return std::unexpected(url.error());
    const auto headers = validateHeaders(request.headers);
    if (!headers)
        return std::unexpected(headers.error());
    if (request.body.size() > m_maxBodyBytes)
        return refuse(QStringLiteral("request.body"),
                      QStringLiteral("the body is %1 bytes; at most %2 can be sent")
                          .arg(request.body.size())
                          .arg(m_maxBodyBytes),
                      QLatin1String(protocol::ErrorKind::TooLarge));
    if (*method == QLatin1String("HEAD") && !request.body.isEmpty())
        return refuse(QStringLiteral("request.body"), QStringLiteral("a HEAD request has no body"));

    // b) which grant, and do its authorized URIs allow it.
    QList<const ProviderGrant*> candidates;
    for (const ProviderGrant& g : m_grants) {
        if (!request.provider.isEmpty() && g.provider != request.provider)
            continue;
        if (!request.connection.isEmpty() && g.connection != request.connection)
            continue;
        candidates.append(&g);
    }
    if (candidates.isEmpty()) {
        QStringList granted;
        for (const ProviderGrant& g : m_grants)
            granted.append(g.connection.isEmpty() ? g.provider
                                                  : g.provider + QLatin1Char('/') + g.connection);
        const QString asked = request.connection.isEmpty()
                                  ? request.provider
                                  : request.provider + QLatin1Char('/') + request.connection;
        return refuse(QStringLiteral("request.grant"),
                      granted.isEmpty()
                          ? QStringLiteral("this agent has no providers")
                          : QStringLiteral("provider \"%1\" is not granted to this agent "
                                           "(granted: %2)")
                                .arg(asked, granted.join(QStringLiteral(", "))));
    }
    const ProviderGrant* chosen = nullptr;
    UriDecision chosenDecision;
    UriDecision firstRefusal;
    int allowing = 0;
    for (const ProviderGrant* g : std::as_const(candidates)) {
        const UriDecision d = matchUris(g->authorizedUris, *method, *url);
        if (!d.allowed && d.rule == QLatin1String("uri.deny"))
            return refuse(d.rule, d.message); // deny wins, across every grant that could apply
        if (d.allowed) {
            ++allowing;
            chosen = g;
            chosenDecision = d;
        } else if (firstRefusal.rule.isEmpty()) {
            firstRefusal = d;
        }
    }
    if (allowing > 1)
        return refuse(QStringLiteral("request.grant"),
                      QStringLiteral("several providers allow this URL: name the provider (and "
                                     "connection) to use"));
    if (!chosen)
        return refuse(firstRefusal.rule, firstRefusal.message);

    CheckedCall call;
    call.grant = *chosen;
    call.method = *method;
    call.url = *url;
    call.headers = *headers;
    call.body = request.body;
    call.pattern = chosenDecision.pattern;
    return call;
}

// --- addresses ----------------------------------------------------------------------------

namespace {

struct V4Range
{
    quint32 base;
    int bits;
    AddressClass cls;
    const char* text;
};

constexpr quint32 v4(int a, int b, int c, int d)
{
    return (quint32(a) << 24) | (quint32(b) << 16) | (quint32(c) << 8) | quint32(d);
}

constexpr V4Range V4Ranges[] = {
    {v4(0, 0, 0, 0), 8, AddressClass::Unspecified, "0.0.0.0/8"},
    {v4(10, 0, 0, 0), 8, AddressClass::Private, "10.0.0.0/8"},
    {v4(100, 64, 0, 0), 10, AddressClass::SharedCgnat, "100.64.0.0/10"},
    {v4(127, 0, 0, 0), 8, AddressClass::Loopback, "127.0.0.0/8"},
    {v4(169, 254, 0, 0), 16, AddressClass::LinkLocal, "169.254.0.0/16"},
    {v4(172, 16, 0, 0), 12, AddressClass::Private, "172.16.0.0/12"},
    {v4(192, 0, 0, 0), 24, AddressClass::Reserved, "192.0.0.0/24"},
    {v4(192, 0, 2, 0), 24, AddressClass::Reserved, "192.0.2.0/24"},
    {v4(192, 88, 99, 0), 24, AddressClass::Reserved, "192.88.99.0/24"},
    {v4(192, 168, 0, 0), 16, AddressClass::Private, "192.168.0.0/16"},
    {v4(198, 18, 0, 0), 15, AddressClass::Reserved, "198.18.0.0/15"},
    {v4(198, 51, 100, 0), 24, AddressClass::Reserved, "198.51.100.0/24"},
    {v4(203, 0, 113, 0), 24, AddressClass::Reserved, "203.0.113.0/24"},
    {v4(255, 255, 255, 255), 32, AddressClass::Broadcast, "255.255.255.255/32"},
    {v4(224, 0, 0, 0), 4, AddressClass::Multicast, "224.0.0.0/4"},
    {v4(240, 0, 0, 0), 4, AddressClass::Reserved, "240.0.0.0/4"},
};

AddressVerdict classifyV4(quint32 a)
{
    for (const V4Range& r : V4Ranges) {
        const quint32 mask = r.bits == 0 ? 0 : ~quint32(0) << (32 - r.bits);
        if ((a & mask) == r.base)
            return {r.cls, QLatin1String(r.text)};
    }
    return {};
}

quint32 embeddedV4(const Q_IPV6ADDR& b, int at)
{
    return (quint32(b[at]) << 24) | (quint32(b[at + 1]) << 16) | (quint32(b[at + 2]) << 8) |
           quint32(b[at + 3]);
}

AddressVerdict viaEmbedded(quint32 v4Address, const char* form)
{
    AddressVerdict v = classifyV4(v4Address);
    if (v.cls != AddressClass::Public)
        v.range = QStringLiteral("%1 of %2").arg(QLatin1String(form), v.range);
    return v;
}

bool zero(const Q_IPV6ADDR& b, int from, int to)
{
    for (int i = from; i < to; ++i) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

} // namespace

AddressVerdict ProviderCallPolicy::classify(const QHostAddress& address)
{
    if (address.protocol() == QAbstractSocket::IPv4Protocol)
        return classifyV4(address.toIPv4Address());
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return {AddressClass::Reserved, QStringLiteral("not an IP address")};
    const Q_IPV6ADDR b = address.toIPv6Address();
    if (zero(b, 0, 16))
        return {AddressClass::Unspecified, QStringLiteral("::/128")};
    if (zero(b, 0, 15) && b[15] == 1)
        return {AddressClass::Loopback, QStringLiteral("::1/128")};
    if (zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff)
        return viaEmbedded(embeddedV4(b, 12), "the IPv4-mapped form (::ffff:0:0/96)");
    if (zero(b, 0, 12))
        return viaEmbedded(embeddedV4(b, 12), "the IPv4-compatible form (::/96)");
    if (zero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && zero(b, 10, 12))
        return viaEmbedded(embeddedV4(b, 12), "the IPv4-translated form (::ffff:0:0:0/96)");
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
        if (zero(b, 4, 12))
            return viaEmbedded(embeddedV4(b, 12), "the NAT64 form (64:ff9b::/96)");
        if (b[4] == 0x00 && b[5] == 0x01)
            return {AddressClass::Reserved, QStringLiteral("64:ff9b:1::/48 (local NAT64)")};
    }
    if (b[0] == 0x20 && b[1] == 0x02)
        return viaEmbedded(embeddedV4(b, 2), "the 6to4 form (2002::/16)");
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        return {AddressClass::Reserved, QStringLiteral("2001::/32 (Teredo)")};
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return {AddressClass::Reserved, QStringLiteral("2001:db8::/32 (documentation)")};
    if (b[0] == 0x01 && zero(b, 1, 8))
        return {AddressClass::Reserved, QStringLiteral("100::/64 (discard)")};
    if ((b[0] & 0xfe) == 0xfc)
        return {AddressClass::Private, QStringLiteral("fc00::/7")};
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return {AddressClass::LinkLocal, QStringLiteral("fe80::/10")};
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return {AddressClass::Reserved, QStringLiteral("fec0::/10 (site-local)")};
    if (b[0] == 0xff)
        return {AddressClass::Multicast, QStringLiteral("ff00::/8")};
    return {};
}

bool ProviderCallPolicy::addressAllowed(AddressClass cls, bool explicitlyLocal)
{
    switch (cls) {
    case AddressClass::Public:
        return true;
    case AddressClass::Loopback:
    case AddressClass::Private:
    case AddressClass::SharedCgnat:
        return explicitlyLocal;
    case AddressClass::LinkLocal:
    case AddressClass::Unspecified:
    case AddressClass::Multicast:
    case AddressClass::Broadcast:
    case AddressClass::Reserved:
        return false;
    }
    return false;
}

QString ProviderCallPolicy::className(AddressClass cls)
{
    switch (cls) {
    case AddressClass::Public:
        return QStringLiteral("public");
    case AddressClass::Loopback:
        return QStringLiteral("loopback");
    case AddressClass::Private:
        return QStringLiteral("private");
    case AddressClass::SharedCgnat:
        return QStringLiteral("shared (CGNAT)");
    case AddressClass::LinkLocal:
        return QStringLiteral("link-local");
    case AddressClass::Unspecified:
        return QStringLiteral("unspecified");
    case AddressClass::Multicast:
        return QStringLiteral("multicast");
    case AddressClass::Broadcast:
        return QStringLiteral("broadcast");
    case AddressClass::Reserved:
        return QStringLiteral("reserved");
    }
    return {};
}

AuthorizedUriVerdict checkAuthorizedUri(const QStringList& patterns, const QString& method,
                                        const QString& url)
{
    auto m = ProviderCallPolicy::normalizeMethod(method);
    if (!m)
        return {false, m.error().rule, {}, m.error().message};
    auto u = ProviderCallPolicy::normalizeUrl(url);
    if (!u)
        return {false, u.error().rule, {}, u.error().message};
    const ProviderCallPolicy::UriDecision d = ProviderCallPolicy::matchUris(patterns, *m, *u);
    return {d.allowed, d.rule, d.pattern, d.message};
}

} // namespace vivarium
