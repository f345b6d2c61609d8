// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The broker's provider-call rules as pure functions (docs/broker.md): request validation,
// authorized-URI matching, host normalization in every encoding, address classes, redaction
// forms, the vault-backed credential source. No sockets, no DNS.
#include "broker/ProviderCallPolicy.h"
#include "broker/ProviderCaller.h"
#include "broker/ResponseScrubber.h"

#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace vivarium;

namespace {

using Headers = QList<QPair<QString, QString>>;

ProviderGrant grant(const QString& provider, const QStringList& uris,
                    const QString& connection = {})
{
    ProviderGrant g;
    g.provider = provider;
    g.connection = connection;
    g.authorizedUris = uris;
    return g;
}

NormalizedUrl url(const QString& text)
{
    auto n = ProviderCallPolicy::normalizeUrl(text);
    return n ? *n : NormalizedUrl{};
}

} // namespace

class TestProviderPolicy : public QObject
{
    Q_OBJECT

private slots:
    // --- b) authorized URIs ----------------------------------------------------------------

    void uriPatterns_data()
    {
        QTest::addColumn<QStringList>("patterns");
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("rule");

        const QString api = QStringLiteral("https://api.example.com");
        auto row = [](const char* name, const QStringList& p, const char* method, const QString& u,
                      const char* rule) {
            QTest::newRow(name) << p << QString::fromLatin1(method) << u
                                << QString::fromLatin1(rule);
        };
        // Globs.
        row("star within a segment", {"GET " + api + "/repos/*"}, "GET", api + "/repos/acme",
            "uri.allow");
        row("star does not cross /", {"GET " + api + "/repos/*"}, "GET", api + "/repos/acme/x",
            "uri.no_match");
        row("star matches part of a segment", {api + "/repos/acme-*"}, "GET",
            api + "/repos/acme-tools", "uri.allow");
        row("double star crosses /", {api + "/repos/**"}, "GET", api + "/repos/a/b/c", "uri.allow");
        row("trailing /** covers the bare path", {api + "/repos/**"}, "GET", api + "/repos",
            "uri.allow");
        row("trailing /** is not a prefix match", {api + "/repos/**"}, "GET", api + "/reposx",
            "uri.no_match");
        row("inner double star", {api + "/a/**/z"}, "GET", api + "/a/b/c/z", "uri.allow");
        row("inner double star needs the tail", {api + "/a/**/z"}, "GET", api + "/a/b/c/y",
            "uri.no_match");
        row("exact path", {api + "/v1/me"}, "GET", api + "/v1/me", "uri.allow");
        row("exact path, trailing slash differs", {api + "/v1/me"}, "GET", api + "/v1/me/",
            "uri.no_match");
        row("regex characters are literal", {api + "/a.b/(x)/**"}, "GET", api + "/a.b/(x)/y",
            "uri.allow");
        row("dot is not any character", {api + "/a.b/**"}, "GET", api + "/aXb/y", "uri.no_match");
        row("query is not part of the match", {api + "/search"}, "GET", api + "/search?q=a/b",
            "uri.allow");
        row("percent-decoded path", {api + "/files/a%20b/*"}, "GET", api + "/files/a%20b/c%2Ad",
            "uri.allow");
        row("encoded letters match plain ones", {api + "/repos/acme"}, "GET", api + "/repos/%61cme",
            "uri.allow");
        row("unicode path", {api + "/wiki/Café"}, "GET", api + "/wiki/Caf%C3%A9", "uri.allow");
        // Methods.
        row("method mismatch", {"GET " + api + "/**"}, "POST", api + "/x", "uri.no_match");
        row("no method: any", {api + "/**"}, "DELETE", api + "/x", "uri.allow");
        row("star method: any", {"* " + api + "/**"}, "PATCH", api + "/x", "uri.allow");
        row("HEAD is not GET", {"GET " + api + "/**"}, "HEAD", api + "/x", "uri.no_match");
        // Deny wins; empty denies.
        row("deny wins over a broader allow", {api + "/**", "!" + api + "/admin/**"}, "GET",
            api + "/admin/users", "uri.deny");
        row("deny wins whatever the order", {"!" + api + "/admin/**", api + "/**"}, "GET",
            api + "/admin/users", "uri.deny");
        row("deny covers the bare path", {api + "/**", "!" + api + "/admin/**"}, "GET",
            api + "/admin", "uri.deny");
        row("deny leaves the rest allowed", {api + "/**", "!" + api + "/admin/**"}, "GET",
            api + "/repos", "uri.allow");
        row("deny by method", {api + "/**", "!DELETE " + api + "/**"}, "DELETE", api + "/x",
            "uri.deny");
        row("deny by method leaves others", {api + "/**", "!DELETE " + api + "/**"}, "GET",
            api + "/x", "uri.allow");
        row("empty list denies", {}, "GET", api + "/x", "uri.empty");
        row("only denies allow nothing", {"!" + api + "/admin/**"}, "GET", api + "/x",
            "uri.no_match");
        row("malformed deny denies everything", {api + "/**", "!ftp://x/"}, "GET", api + "/x",
            "uri.deny");
        row("malformed deny without path denies", {api + "/**", "!https://api.example.com"}, "GET",
            api + "/x", "uri.deny");
        row("malformed allow is ignored", {"ftp://x/", api + "/**"}, "GET", api + "/x",
            "uri.allow");
        // Scheme and port.
        row("scheme must match", {api + "/**"}, "GET", "http://api.example.com/x", "uri.no_match");
        row("default port explicit in the URL", {api + "/**"}, "GET",
            "https://api.example.com:443/x", "uri.allow");
        row("other port", {api + "/**"}, "GET", "https://api.example.com:8443/x", "uri.no_match");
        row("explicit port", {"https://api.example.com:8443/**"}, "GET",
            "https://api.example.com:8443/x", "uri.allow");
        row("explicit default port in the pattern", {"http://api.example.com:80/**"}, "GET",
            "http://api.example.com/x", "uri.allow");
        // Hosts.
        row("host case and trailing dot", {"https://API.Example.com/**"}, "GET",
            "https://api.EXAMPLE.com./x", "uri.allow");
        row("IDNA pattern, ACE URL", {"https://bücher.example/**"}, "GET",
            "https://xn--bcher-kva.example/a", "uri.allow");
        row("ACE pattern, IDNA URL", {"https://xn--bcher-kva.example/**"}, "GET",
            "https://BÜCHER.example/a", "uri.allow");
        row("suffix is another host", {api + "/**"}, "GET", "https://api.example.com.evil.test/x",
            "uri.no_match");
        row("prefix is another host", {api + "/**"}, "GET", "https://evilapi.example.com/x",
            "uri.no_match");
        row("subdomain is another host", {api + "/**"}, "GET", "https://x.api.example.com/x",
            "uri.no_match");
        row("star label", {"https://*.example.com/**"}, "GET", "https://a.example.com/x",
            "uri.allow");
        row("star label is one label", {"https://*.example.com/**"}, "GET",
            "https://a.b.example.com/x", "uri.no_match");
        row("star label is not the apex", {"https://*.example.com/**"}, "GET",
            "https://example.com/x", "uri.no_match");
        row("double star labels", {"https://**.example.com/**"}, "GET", "https://a.b.example.com/x",
            "uri.allow");
        row("IP pattern, decimal URL", {"http://127.0.0.1/**"}, "GET", "http://2130706433/x",
            "uri.allow");
        row("IP pattern, mapped IPv6 URL", {"http://127.0.0.1/**"}, "GET",
            "http://[::ffff:127.0.0.1]/x", "uri.allow");
        row("IPv6 pattern", {"http://[::1]:8080/**"}, "GET", "http://[0:0::1]:8080/x", "uri.allow");
    }

    void uriPatterns()
    {
        QFETCH(QStringList, patterns);
        QFETCH(QString, method);
        QFETCH(QString, url);
        QFETCH(QString, rule);
        const auto n = ProviderCallPolicy::normalizeUrl(url);
        QVERIFY2(n.has_value(), qPrintable(n ? QString() : n.error().message));
        const auto d = ProviderCallPolicy::matchUris(patterns, method, *n);
        QCOMPARE(d.rule, rule);
        QCOMPARE(d.allowed, rule == QLatin1String("uri.allow"));
        if (!d.allowed)
            QVERIFY(!d.message.isEmpty());
    }

    // The public entry the agent editor's live tester uses: the broker's own decision.
    void checkAuthorizedUriIsTheBrokers()
    {
        const QStringList grant{QStringLiteral("https://api.github.com/**"),
                                QStringLiteral("!https://api.github.com/authorizations/**")};
        AuthorizedUriVerdict v = checkAuthorizedUri(
            grant, QStringLiteral("get"), QStringLiteral("https://API.github.com/repos/a/b"));
        QVERIFY2(v.allowed, qPrintable(v.message));
        QCOMPARE(v.pattern, QStringLiteral("https://api.github.com/**"));
        v = checkAuthorizedUri(grant, QStringLiteral("GET"),
                               QStringLiteral("https://api.github.com/authorizations/1"));
        QVERIFY(!v.allowed);
        QCOMPARE(v.rule, QStringLiteral("uri.deny"));
        // Normalization before matching: a dot-segment cannot climb into the denied subtree.
        v = checkAuthorizedUri(grant, QStringLiteral("GET"),
                               QStringLiteral("https://api.github.com/x/../authorizations/1"));
        QVERIFY(!v.allowed);
        v = checkAuthorizedUri(grant, QStringLiteral("GET"),
                               QStringLiteral("https://evil.example/"));
        QVERIFY(!v.allowed);
        QCOMPARE(v.rule, QStringLiteral("uri.no_match"));
        v = checkAuthorizedUri({}, QStringLiteral("GET"),
                               QStringLiteral("https://api.github.com/"));
        QCOMPARE(v.rule, QStringLiteral("uri.empty"));
        v = checkAuthorizedUri(grant, QStringLiteral("GET"), QStringLiteral("not a url"));
        QVERIFY(!v.allowed);
        QVERIFY(!v.message.isEmpty());
        v = checkAuthorizedUri(grant, QStringLiteral("BREW"),
                               QStringLiteral("https://api.github.com/"));
        QVERIFY(!v.allowed);
    }

    void globs_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QChar>("sep");
        QTest::addColumn<bool>("matches");
        const QChar slash('/');
        const QChar dot('.');
        QTest::newRow("literal") << "/a/b"
                                 << "/a/b" << slash << true;
        QTest::newRow("literal differs") << "/a/b"
                                         << "/a/c" << slash << false;
        QTest::newRow("star empty") << "/a/*"
                                    << "/a/" << slash << true;
        QTest::newRow("star segment") << "/a/*"
                                      << "/a/xyz" << slash << true;
        QTest::newRow("star no slash") << "/a/*"
                                       << "/a/x/y" << slash << false;
        QTest::newRow("star middle") << "/a/*/c"
                                     << "/a/b/c" << slash << true;
        QTest::newRow("star middle needs one segment") << "/a/*/c"
                                                       << "/a/b/b/c" << slash << false;
        QTest::newRow("double star") << "/a/**"
                                     << "/a/b/c" << slash << true;
        QTest::newRow("double star bare") << "/a/**"
                                          << "/a" << slash << true;
        QTest::newRow("triple star is double") << "/a/***"
                                               << "/a/b/c" << slash << true;
        QTest::newRow("anchored start") << "/a"
                                        << "/x/a" << slash << false;
        QTest::newRow("anchored end") << "/a"
                                      << "/a/x" << slash << false;
        QTest::newRow("star takes any non-slash") << "/a/*"
                                                  << "/a/\n"
                                                  << slash << true;
        QTest::newRow("host star") << "*.x.com"
                                   << "a.x.com" << dot << true;
        QTest::newRow("host star one label") << "*.x.com"
                                             << "a.b.x.com" << dot << false;
        QTest::newRow("host double star") << "**.x.com"
                                          << "a.b.x.com" << dot << true;
        QTest::newRow("host bracket literal") << "[a]"
                                              << "[a]" << dot << true;
        QTest::newRow("host caret literal") << "^a$"
                                            << "^a$" << dot << true;
    }

    void globs()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(QChar, sep);
        QFETCH(bool, matches);
        QCOMPARE(ProviderCallPolicy::globMatch(pattern, text, sep), matches);
    }

    // --- a) URL normalization: every encoding of a host --------------------------------------

    void urls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("host"); ///< empty: refused
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("path"); ///< decoded; or the rule when refused

        auto ok = [](const char* name, const QString& u, const char* host, int port,
                     const QString& path) {
            QTest::newRow(name) << u << QString::fromLatin1(host) << port << path;
        };
        auto no = [](const char* name, const QString& u, const char* rule) {
            QTest::newRow(name) << u << QString() << 0 << QString::fromLatin1(rule);
        };
        ok("plain", "https://api.example.com/v1", "api.example.com", 443, "/v1");
        ok("no path", "https://api.example.com", "api.example.com", 443, "/");
        ok("upper case", "HTTPS://API.EXAMPLE.COM/A", "api.example.com", 443, "/A");
        ok("trailing dot", "http://api.example.com./", "api.example.com", 80, "/");
        ok("idna", "https://bücher.example/", "xn--bcher-kva.example", 443, "/");
        ok("port", "http://api.example.com:8080/x", "api.example.com", 8080, "/x");
        ok("decimal IPv4", "http://2130706433/", "127.0.0.1", 80, "/");
        ok("hex IPv4", "http://0x7f000001/", "127.0.0.1", 80, "/");
        ok("octal IPv4", "http://0177.0.0.1/", "127.0.0.1", 80, "/");
        ok("octal long IPv4", "http://017700000001/", "127.0.0.1", 80, "/");
        ok("short IPv4", "http://127.1/", "127.0.0.1", 80, "/");
        ok("mixed IPv4", "http://0x7f.1/", "127.0.0.1", 80, "/");
        ok("three-part IPv4", "http://10.1.2/", "10.1.0.2", 80, "/");
        ok("zero IPv4", "http://0/", "0.0.0.0", 80, "/");
        ok("IPv4 trailing dot", "http://127.0.0.1./", "127.0.0.1", 80, "/");
        ok("metadata decimal", "http://2852039166/latest", "169.254.169.254", 80, "/latest");
        ok("mapped IPv6", "http://[::ffff:127.0.0.1]/", "127.0.0.1", 80, "/");
        ok("mapped IPv6 hex", "http://[::ffff:7f00:1]/", "127.0.0.1", 80, "/");
        ok("IPv6 loopback", "http://[::1]:8080/", "::1", 8080, "/");
        ok("IPv6 long loopback", "http://[0:0:0:0:0:0:0:1]/", "::1", 80, "/");
        ok("NAT64 stays IPv6", "http://[64:ff9b::10.0.0.1]/", "64:ff9b::a00:1", 80, "/");
        ok("encoded path", "https://a.example/x%20y/%C3%A9", "a.example", 443, "/x y/é");
        ok("trailing slash", "https://a.example/x/", "a.example", 443, "/x/");
        ok("query kept aside", "https://a.example/s?q=1&r=%20", "a.example", 443, "/s");

        no("user info", "http://user@127.0.0.1/", "request.url");
        no("user info hiding the host", "http://api.example.com@127.0.0.1/", "request.url");
        no("user and password", "http://a:b@api.example.com/", "request.url");
        no("encoded slash in user info", "http://127.0.0.1%2f@evil.example/", "request.url");
        no("port-like user info", "http://api.example.com:443@evil.example/", "request.url");
        no("fragment", "https://a.example/x#frag", "request.url");
        no("backslash", "https://a.example\\@evil.example/", "request.url");
        no("backslash in path", "https://a.example/a\\b", "request.url");
        no("ftp", "ftp://a.example/x", "request.url");
        no("file", "file:///etc/passwd", "request.url");
        no("relative", "/v1/me", "request.url");
        no("scheme-relative", "//a.example/x", "request.url");
        no("no host", "https:///x", "request.url");
        no("scoped IPv6", "http://[fe80::1%25eth0]/", "request.url");
        no("space", "https://a.example/a b", "request.url");
        no("tab", "https://a.example/a\tb", "request.url");
        no("port zero", "https://a.example:0/", "request.url");
        no("port too big", "https://a.example:99999/", "request.url");
        no("double dot", "https://a.example/a/../b", "request.url");
        no("encoded double dot", "https://a.example/a/%2e%2e/b", "request.url");
        no("encoded double dot upper", "https://a.example/a/%2E%2E/admin", "request.url");
        no("dot segment", "https://a.example/a/./b", "request.url");
        no("empty segment", "https://a.example/a//b", "request.url");
        no("encoded slash", "https://a.example/a%2Fb", "request.url");
        no("encoded slash lower", "https://a.example/a%2fb", "request.url");
        no("encoded backslash", "https://a.example/a%5cb", "request.url");
        no("invalid utf-8 path", "https://a.example/%ff", "request.url");
        no("encoded control", "https://a.example/a%07b", "request.url");
        no("raw CRLF", "https://a.example/a\r\nHost: evil", "request.smuggling");
        no("raw LF", "https://a.example/a\nb", "request.smuggling");
        no("raw NUL", QStringLiteral("https://a.example/a") + QChar(0) + QStringLiteral("b"),
           "request.smuggling");
        no("encoded CRLF in path", "https://a.example/a%0d%0aSet-Cookie:x", "request.smuggling");
        no("encoded NUL in path", "https://a.example/a%00b", "request.smuggling");
        no("encoded CRLF in query", "https://a.example/s?q=%0D%0AX:1", "request.smuggling");
        no("bad host characters", "https://a_b!.example/", "request.url");
        no("empty label", "https://a..example/", "request.url");
    }

    void urls()
    {
        QFETCH(QString, url);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, path);
        const auto n = ProviderCallPolicy::normalizeUrl(url);
        if (host.isEmpty()) {
            QVERIFY2(!n.has_value(), qPrintable(n ? n->host + n->decodedPath : QString()));
            QCOMPARE(n.error().rule, path);
            QCOMPARE(n.error().kind, QStringLiteral("policy"));
            QVERIFY(!n.error().message.isEmpty());
            return;
        }
        QVERIFY2(n.has_value(), qPrintable(n ? QString() : n.error().message));
        QCOMPARE(n->host, host);
        QCOMPARE(n->port, port);
        QCOMPARE(n->decodedPath, path);
        // What curl gets is built from the checked parts only.
        const QByteArray prefix = n->scheme.toLatin1() + "://" + n->urlHost().toLatin1() + ':' +
                                  QByteArray::number(port) + '/';
        QVERIFY(n->toCurlUrl().startsWith(prefix));
        QVERIFY(!n->auditUrl().contains(QLatin1Char('?')));
    }

    // --- c) address classes -------------------------------------------------------------------

    void addresses_data()
    {
        QTest::addColumn<QString>("address");
        QTest::addColumn<QString>("cls");
        QTest::addColumn<bool>("allowedWhenLocal");

        auto row = [](const char* a, const char* cls, bool local) {
            QTest::newRow(a) << QString::fromLatin1(a) << QString::fromLatin1(cls) << local;
        };
        row("8.8.8.8", "public", true);
        row("1.1.1.1", "public", true);
        row("172.32.0.1", "public", true);
        row("100.128.0.1", "public", true);
        row("127.0.0.1", "loopback", true);
        row("127.255.255.254", "loopback", true);
        row("10.0.0.1", "private", true);
        row("172.16.0.1", "private", true);
        row("172.31.255.255", "private", true);
        row("192.168.1.1", "private", true);
        row("100.64.0.1", "shared (CGNAT)", true);
        row("100.127.255.254", "shared (CGNAT)", true);
        row("169.254.169.254", "link-local", false);
        row("169.254.0.1", "link-local", false);
        row("0.0.0.0", "unspecified", false);
        row("0.1.2.3", "unspecified", false);
        row("224.0.0.1", "multicast", false);
        row("239.255.255.250", "multicast", false);
        row("255.255.255.255", "broadcast", false);
        row("240.0.0.1", "reserved", false);
        row("192.0.2.1", "reserved", false);
        row("198.18.0.1", "reserved", false);
        row("203.0.113.7", "reserved", false);
        row("::1", "loopback", true);
        row("::", "unspecified", false);
        row("::ffff:127.0.0.1", "loopback", true);
        row("::ffff:10.0.0.1", "private", true);
        row("::ffff:169.254.169.254", "link-local", false);
        row("::ffff:8.8.8.8", "public", true);
        row("::127.0.0.1", "loopback", true);
        row("::ffff:0:127.0.0.1", "loopback", true);
        row("64:ff9b::10.0.0.1", "private", true);
        row("64:ff9b::169.254.169.254", "link-local", false);
        row("64:ff9b::127.0.0.1", "loopback", true);
        row("64:ff9b::8.8.8.8", "public", true);
        row("64:ff9b:1::1", "reserved", false);
        row("2002:7f00:1::", "loopback", true);
        row("2002:a9fe:a9fe::", "link-local", false);
        row("2002:808:808::", "public", true);
        row("2001::1", "reserved", false);
        row("2001:db8::1", "reserved", false);
        row("100::1", "reserved", false);
        row("fc00::1", "private", true);
        row("fd12:3456::1", "private", true);
        row("fe80::1", "link-local", false);
        row("febf::1", "link-local", false);
        row("fec0::1", "reserved", false);
        row("ff02::1", "multicast", false);
        row("2606:4700::1111", "public", true);
    }

    void addresses()
    {
        QFETCH(QString, address);
        QFETCH(QString, cls);
        QFETCH(bool, allowedWhenLocal);
        const QHostAddress a(address);
        QVERIFY2(!a.isNull(), qPrintable(address));
        const AddressVerdict v = ProviderCallPolicy::classify(a);
        QCOMPARE(ProviderCallPolicy::className(v.cls), cls);
        QCOMPARE(v.range.isEmpty(), v.cls == AddressClass::Public);
        QCOMPARE(ProviderCallPolicy::addressAllowed(v.cls, false), v.cls == AddressClass::Public);
        QCOMPARE(ProviderCallPolicy::addressAllowed(v.cls, true), allowedWhenLocal);
    }

    /** IP literals in the URL are checked the same way, whatever their encoding. */
    void literalsRefused_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("rule");
        QTest::newRow("decimal") << "http://2130706433/"
                                 << "address.loopback";
        QTest::newRow("hex") << "http://0x7f000001/"
                             << "address.loopback";
        QTest::newRow("octal") << "http://0177.0.0.1/"
                               << "address.loopback";
        QTest::newRow("short") << "http://127.1/"
                               << "address.loopback";
        QTest::newRow("trailing dot") << "http://127.0.0.1./"
                                      << "address.loopback";
        QTest::newRow("mapped") << "http://[::ffff:127.0.0.1]/"
                                << "address.loopback";
        QTest::newRow("IPv6 loopback") << "http://[::1]/"
                                       << "address.loopback";
        QTest::newRow("metadata") << "http://169.254.169.254/"
                                  << "address.link-local";
        QTest::newRow("metadata decimal") << "http://2852039166/"
                                          << "address.link-local";
        QTest::newRow("metadata mapped") << "http://[::ffff:a9fe:a9fe]/"
                                         << "address.link-local";
        QTest::newRow("private") << "http://10.0.0.1/"
                                 << "address.private";
        QTest::newRow("private short") << "http://10.1/"
                                       << "address.private";
        QTest::newRow("nat64 private") << "http://[64:ff9b::a00:1]/"
                                       << "address.private";
        QTest::newRow("zero") << "http://0/"
                              << "address.unspecified";
        QTest::newRow("cgnat") << "http://100.64.0.1/"
                               << "address.shared";
        QTest::newRow("ula") << "http://[fd00::1]/"
                             << "address.private";
    }

    void literalsRefused()
    {
        QFETCH(QString, url);
        QFETCH(QString, rule);
        const auto n = ProviderCallPolicy::normalizeUrl(url);
        QVERIFY2(n.has_value(), qPrintable(url));
        QVERIFY(n->hostIsIp);
        StaticResolver none; // a literal never reaches a resolver
        const auto r = ProviderCaller::resolveChecked(*n, none, false);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().rule, rule);
        QCOMPARE(r.error().kind, QStringLiteral("policy"));
    }

    void resolution()
    {
        StaticResolver dns;
        dns.add(QStringLiteral("public.test"), QHostAddress(QStringLiteral("93.184.216.34")));
        dns.add(QStringLiteral("rebind.test"), QHostAddress(QStringLiteral("93.184.216.34")));
        dns.add(QStringLiteral("rebind.test"), QHostAddress(QStringLiteral("127.0.0.1")));
        dns.add(QStringLiteral("mapped.test"), QHostAddress(QStringLiteral("::ffff:10.0.0.1")));
        dns.add(QStringLiteral("meta.test"), QHostAddress(QStringLiteral("169.254.169.254")));
        dns.add(QStringLiteral("local.test"), QHostAddress(QStringLiteral("127.0.0.1")));

        auto ok =
            ProviderCaller::resolveChecked(url(QStringLiteral("https://public.test/")), dns, false);
        QVERIFY(ok.has_value());
        QCOMPARE(ok->size(), 1);
        // One private answer among public ones refuses the call: curl may pick any.
        auto rebind =
            ProviderCaller::resolveChecked(url(QStringLiteral("https://rebind.test/")), dns, false);
        QVERIFY(!rebind.has_value());
        QCOMPARE(rebind.error().rule, QStringLiteral("address.loopback"));
        QVERIFY(
            rebind.error().message.contains(QStringLiteral("rebind.test resolves to 127.0.0.1")));
        auto mapped =
            ProviderCaller::resolveChecked(url(QStringLiteral("https://mapped.test/")), dns, false);
        QVERIFY(!mapped.has_value());
        QCOMPARE(mapped.error().rule, QStringLiteral("address.private"));
        // Explicitly local allows loopback, never the metadata range.
        QVERIFY(ProviderCaller::resolveChecked(url(QStringLiteral("http://local.test/")), dns, true)
                    .has_value());
        auto meta =
            ProviderCaller::resolveChecked(url(QStringLiteral("http://meta.test/")), dns, true);
        QVERIFY(!meta.has_value());
        QCOMPARE(meta.error().rule, QStringLiteral("address.link-local"));
        auto missing =
            ProviderCaller::resolveChecked(url(QStringLiteral("http://nope.test/")), dns, false);
        QVERIFY(!missing.has_value());
        QCOMPARE(missing.error().kind, QStringLiteral("dns"));
    }

    void pinEntries()
    {
        QCOMPARE(ProviderCaller::pinEntry(url(QStringLiteral("https://api.example.test:8443/")),
                                          {QHostAddress(QStringLiteral("127.0.0.1")),
                                           QHostAddress(QStringLiteral("::1"))}),
                 QByteArray("api.example.test:8443:127.0.0.1,[::1]"));
    }

    // --- a) methods and headers: smuggling and credentials ---------------------------------

    void methods_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("result"); ///< normalized, or the rule
        QTest::newRow("GET") << "GET"
                             << "GET";
        QTest::newRow("lower case") << "post"
                                    << "POST";
        QTest::newRow("OPTIONS") << "OPTIONS"
                                 << "OPTIONS";
        QTest::newRow("TRACE") << "TRACE"
                               << "request.method";
        QTest::newRow("CONNECT") << "CONNECT"
                                 << "request.method";
        QTest::newRow("PROPFIND") << "PROPFIND"
                                  << "request.method";
        QTest::newRow("empty") << ""
                               << "request.method";
        QTest::newRow("space") << "G ET"
                               << "request.method";
        QTest::newRow("request line") << "GET / HTTP/1.1"
                                      << "request.method";
        QTest::newRow("CRLF") << "GET\r\nX: 1"
                              << "request.smuggling";
    }

    void methods()
    {
        QFETCH(QString, method);
        QFETCH(QString, result);
        const auto m = ProviderCallPolicy::normalizeMethod(method);
        if (result.startsWith(QLatin1String("request."))) {
            QVERIFY(!m.has_value());
            QCOMPARE(m.error().rule, result);
        } else {
            QVERIFY(m.has_value());
            QCOMPARE(*m, result);
        }
    }

    void headers_data()
    {
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QString>("rule"); ///< empty: accepted

        auto row = [](const char* name, const Headers& h, const char* rule) {
            QTest::newRow(name) << h << QString::fromLatin1(rule);
        };
        row("ordinary", {{"Accept", "application/json"}, {"X-Request-Id", "42"}}, "");
        row("tab in value", {{"X-A", "a\tb"}}, "");
        row("empty value", {{"X-A", ""}}, "");
        row("utf-8 value", {{"X-A", "café"}}, "");
        row("CRLF in value", {{"X-A", "a\r\nX-Evil: 1"}}, "request.smuggling");
        row("LF in value", {{"X-A", "a\nb"}}, "request.smuggling");
        row("CR in value", {{"X-A", "a\rb"}}, "request.smuggling");
        row("NUL in value", {{"X-A", QStringLiteral("a") + QChar(0)}}, "request.smuggling");
        row("LF in name", {{"X-A\nHost", "b"}}, "request.smuggling");
        row("CRLF CRLF body", {{"X-A", "1\r\n\r\nGET /admin HTTP/1.1"}}, "request.smuggling");
        row("Content-Length", {{"Content-Length", "5"}}, "request.smuggling");
        row("content-length lower", {{"content-length", "0"}}, "request.smuggling");
        row("duplicate Content-Length", {{"Content-Length", "5"}, {"Content-Length", "6"}},
            "request.smuggling");
        row("Transfer-Encoding", {{"Transfer-Encoding", "chunked"}}, "request.smuggling");
        row("TE and CL", {{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}},
            "request.smuggling");
        row("Authorization", {{"Authorization", "Bearer x"}}, "request.credential_header");
        row("authorization lower", {{"authorization", "Bearer x"}}, "request.credential_header");
        row("Cookie", {{"Cookie", "a=b"}}, "request.credential_header");
        row("Proxy-Authorization", {{"Proxy-Authorization", "x"}}, "request.credential_header");
        row("Proxy-anything", {{"Proxy-Foo", "x"}}, "request.credential_header");
        row("Host", {{"Host", "evil.example"}}, "request.header");
        row("Connection", {{"Connection", "keep-alive, Authorization"}}, "request.header");
        row("Keep-Alive", {{"Keep-Alive", "1"}}, "request.header");
        row("Upgrade", {{"Upgrade", "h2c"}}, "request.header");
        row("TE", {{"TE", "trailers"}}, "request.header");
        row("Trailer", {{"Trailer", "X"}}, "request.header");
        row("Expect", {{"Expect", "100-continue"}}, "request.header");
        row("HTTP2-Settings", {{"HTTP2-Settings", "x"}}, "request.header");
        row("Accept-Encoding", {{"Accept-Encoding", "br"}}, "request.header");
        row("duplicate name", {{"X-A", "1"}, {"x-a", "2"}}, "request.header");
        row("space in name", {{"X A", "1"}}, "request.header");
        row("colon in name", {{"X:A", "1"}}, "request.header");
        row("empty name", {{"", "1"}}, "request.header");
        row("pseudo header", {{":authority", "evil"}}, "request.header");
        row("control in value", {{"X-A", QStringLiteral("a\x01")}}, "request.header");
        row("DEL in value", {{"X-A", QStringLiteral("a\x7f")}}, "request.header");
        Headers many;
        for (int i = 0; i < ProviderCallPolicy::MaxHeaders + 1; ++i)
            many.append({QStringLiteral("X-%1").arg(i), QStringLiteral("v")});
        row("too many", many, "request.header");
        row("too large", {{"X-A", QString(40 * 1024, QLatin1Char('a'))}}, "request.header");
    }

    void headers()
    {
        QFETCH(Headers, headers);
        QFETCH(QString, rule);
        const auto h = ProviderCallPolicy::validateHeaders(headers);
        if (rule.isEmpty()) {
            QVERIFY2(h.has_value(), qPrintable(h ? QString() : h.error().message));
            QCOMPARE(h->size(), headers.size());
        } else {
            QVERIFY(!h.has_value());
            QCOMPARE(h.error().rule, rule);
            // The reason never echoes a control character back.
            for (const QChar c : h.error().message)
                QVERIFY(c.unicode() >= 0x20);
        }
    }

    // --- a) + b) together: grants ------------------------------------------------------------

    void grants_data()
    {
        QTest::addColumn<QString>("provider");
        QTest::addColumn<QString>("connection");
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("url");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("result"); ///< "provider/connection" of the grant, or a rule

        QTest::newRow("named") << "github"
                               << ""
                               << "GET"
                               << "https://api.github.com/user" << QByteArray() << "github/";
        QTest::newRow("unnamed, unique")
            << ""
            << ""
            << "GET"
            << "https://api.github.com/user" << QByteArray() << "github/";
        QTest::newRow("connection")
            << "gmail"
            << "work"
            << "GET"
            << "https://gmail.googleapis.com/gmail/v1/users/me" << QByteArray() << "gmail/work";
        QTest::newRow("unnamed, ambiguous")
            << ""
            << ""
            << "GET"
            << "https://gmail.googleapis.com/gmail/v1/users/me" << QByteArray() << "request.grant";
        QTest::newRow("unknown provider")
            << "slack"
            << ""
            << "GET"
            << "https://slack.com/api/x" << QByteArray() << "request.grant";
        QTest::newRow("unknown connection")
            << "gmail"
            << "other"
            << "GET"
            << "https://gmail.googleapis.com/gmail/v1/users/me" << QByteArray() << "request.grant";
        QTest::newRow("named grant does not allow")
            << "github"
            << ""
            << "GET"
            << "https://gmail.googleapis.com/gmail/v1/users/me" << QByteArray() << "uri.no_match";
        QTest::newRow("deny in any candidate wins")
            << ""
            << ""
            << "DELETE"
            << "https://gmail.googleapis.com/gmail/v1/users/me" << QByteArray() << "uri.deny";
        QTest::newRow("empty grant") << "empty"
                                     << ""
                                     << "GET"
                                     << "https://x.example/" << QByteArray() << "uri.empty";
        QTest::newRow("body too large")
            << "github"
            << ""
            << "POST"
            << "https://api.github.com/x" << QByteArray(2048, 'a') << "request.body";
        QTest::newRow("HEAD with body")
            << "github"
            << ""
            << "HEAD"
            << "https://api.github.com/x" << QByteArray("x") << "request.body";
        QTest::newRow("validation before matching")
            << "github"
            << ""
            << "GET"
            << "https://api.github.com/a%0d%0a" << QByteArray() << "request.smuggling";
    }

    void grants()
    {
        QFETCH(QString, provider);
        QFETCH(QString, connection);
        QFETCH(QString, method);
        QFETCH(QString, url);
        QFETCH(QByteArray, body);
        QFETCH(QString, result);
        const ProviderCallPolicy policy(
            {grant(QStringLiteral("github"), {QStringLiteral("https://api.github.com/**")}),
             grant(QStringLiteral("gmail"),
                   {QStringLiteral("https://gmail.googleapis.com/gmail/v1/users/me/**"),
                    QStringLiteral("!DELETE https://gmail.googleapis.com/**")},
                   QStringLiteral("work")),
             grant(QStringLiteral("gmail"),
                   {QStringLiteral("https://gmail.googleapis.com/gmail/v1/users/me/**")},
                   QStringLiteral("home")),
             grant(QStringLiteral("empty"), {})},
            1024);
        ProviderCallRequest r;
        r.provider = provider;
        r.connection = connection;
        r.method = method;
        r.url = url;
        r.body = body;
        const auto checked = policy.check(r);
        if (result.contains(QLatin1Char('/'))) {
            QVERIFY2(checked.has_value(),
                     qPrintable(checked ? QString() : checked.error().message));
            QCOMPARE(checked->grant.provider + QLatin1Char('/') + checked->grant.connection,
                     result);
            QVERIFY(!checked->pattern.isEmpty());
        } else {
            QVERIFY(!checked.has_value());
            QCOMPARE(checked.error().rule, result);
        }
    }

    void requestJson_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<bool>("ok");
        QTest::newRow("minimal") << QByteArray(
                                        "{\"method\":\"GET\",\"url\":\"https://a.example/\"}")
                                 << true;
        QTest::newRow("all")
            << QByteArray("{\"provider\":\"p\",\"connection\":\"c\",\"method\":\"POST\",\"url\":"
                          "\"https://a.example/\",\"headers\":{\"A\":\"b\"},\"body\":\"x\"}")
            << true;
        QTest::newRow("header pairs")
            << QByteArray(R"({"method":"GET","url":"u","headers":[["A","1"],["A","2"]]})") << true;
        QTest::newRow("no method") << QByteArray("{\"url\":\"https://a.example/\"}") << false;
        QTest::newRow("no url") << QByteArray(R"({"method":"GET"})") << false;
        QTest::newRow("number header")
            << QByteArray(R"({"method":"GET","url":"u","headers":{"A":1}})") << false;
        QTest::newRow("bad pair") << QByteArray(R"({"method":"GET","url":"u","headers":[["A"]]})")
                                  << false;
        QTest::newRow("object body")
            << QByteArray(R"({"method":"GET","url":"u","body":{}})") << false;
        QTest::newRow("number provider")
            << QByteArray(R"({"method":"GET","url":"u","provider":3})") << false;
        QTest::newRow("operation")
            << QByteArray(R"({"provider":"p","operation":"get","args":{"id":"1"}})") << true;
        QTest::newRow("operation without args")
            << QByteArray(R"({"provider":"p","operation":"get"})") << true;
        QTest::newRow("operation without provider")
            << QByteArray(R"({"operation":"get","args":{}})") << false;
        QTest::newRow("operation with url")
            // Not a raw string: moc reads "//" inside one as a comment.
            << QByteArray("{\"provider\":\"p\",\"operation\":\"get\",\"url\":"
                          "\"https://a.example/\"}")
            << false;
        QTest::newRow("operation args array")
            << QByteArray(R"({"provider":"p","operation":"get","args":[]})") << false;
        QTest::newRow("empty operation")
            << QByteArray(R"({"provider":"p","operation":"","method":"GET","url":"u"})") << false;
    }

    void requestJson()
    {
        QFETCH(QByteArray, json);
        QFETCH(bool, ok);
        const auto r = ProviderCallRequest::fromJson(QJsonDocument::fromJson(json).object());
        QCOMPARE(r.has_value(), ok);
    }

    // --- f) redaction forms -------------------------------------------------------------------

    void redaction_data()
    {
        QTest::addColumn<QByteArray>("body");
        const QByteArray s = "tok-SECRET-value_12345/+=";
        auto row = [](const char* name, const QByteArray& body) { QTest::newRow(name) << body; };
        row("raw", QByteArray("x " + s + " y"));
        row("bearer header", QByteArray("Authorization: Bearer " + s));
        row("base64", QByteArray("{\"v\":\"" + s.toBase64() + "\"}"));
        row("base64 unpadded",
            s.toBase64(QByteArray::Base64Encoding | QByteArray::OmitTrailingEquals));
        row("base64url", s.toBase64(QByteArray::Base64UrlEncoding));
        row("base64url unpadded",
            s.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        row("basic auth, shift 0", QByteArray("Basic " + QByteArray("ab:" + s).toBase64()));
        row("basic auth, shift 1", QByteArray("Basic " + QByteArray("abc:" + s).toBase64()));
        row("basic auth, shift 2", QByteArray("Basic " + QByteArray("user:" + s).toBase64()));
        row("basic auth url-safe",
            QByteArray("x=" + QByteArray("user:" + s).toBase64(QByteArray::Base64UrlEncoding)));
        row("percent", QByteArray("?t=" + s.toPercentEncoding()));
        row("percent mixed-case hex",
            QByteArray("?t=" + s.toPercentEncoding().replace("%2F", "%2f").replace("%2B", "%2b")));
        row("twice", QByteArray(s + s));
    }

    void redaction()
    {
        QFETCH(QByteArray, body);
        const QByteArray s = "tok-SECRET-value_12345/+=";
        ResponseScrubber scrubber;
        scrubber.addSecret(s);
        const QByteArray out = scrubber.scrub(body);
        QVERIFY2(out.contains(ResponseScrubber::Marker), out.constData());
        QVERIFY(!out.contains("SECRET"));
        // No 8-character run of any encoded form survives.
        const QList<QByteArray> forms{s, s.toBase64(), s.toBase64(QByteArray::Base64UrlEncoding),
                                      s.toPercentEncoding()};
        for (const QByteArray& f : forms) {
            for (qsizetype i = 0; i + 12 <= f.size(); ++i)
                QVERIFY2(!out.contains(f.mid(i, 12)), out.constData());
        }
    }

    void redactionEdges()
    {
        ResponseScrubber scrubber;
        scrubber.addSecret("short"); // below the floor: never redacted
        QCOMPARE(scrubber.scrub(QByteArray("a short text")), QByteArray("a short text"));
        scrubber.addSecret("abcdef0123456789");
        // Cut in the middle of a secret at the size limit: the half is dropped too.
        const QByteArray cut = scrubber.scrub(QByteArray("data abcdef0123"), true);
        QVERIFY2(!cut.contains("abcdef0123"), cut.constData());
        QVERIFY(cut.startsWith("data "));
        // Binary bodies are scrubbed as bytes.
        QByteArray binary("\xff\x00\x01", 3);
        binary += "abcdef0123456789";
        binary += QByteArray("\x00\xfe", 2);
        const QByteArray scrubbed = scrubber.scrub(binary);
        QVERIFY(!scrubbed.contains("abcdef0123456789"));
        QCOMPARE(scrubbed.left(3), QByteArray("\xff\x00\x01", 3));
        // The model key comes through the run's SecretRedactor.
        SecretRedactor model;
        model.addSecret("sk-model-key-abcdef");
        scrubber.setModelRedactor(model);
        QCOMPARE(scrubber.scrub(QByteArray("k=sk-model-key-abcdef")), QByteArray("k=[REDACTED]"));
        QCOMPARE(scrubber.scrub(QStringLiteral("k=sk-model-key-abcdef é")),
                 QStringLiteral("k=[REDACTED] é"));
        // Form encoding writes a space as "+".
        ResponseScrubber spaced;
        spaced.addSecret("pass phrase 123");
        QCOMPARE(spaced.scrub(QByteArray("p=pass+phrase+123&x=1")), QByteArray("p=[REDACTED]&x=1"));
    }

    // --- e) the vault-backed CredentialSource ------------------------------------------------

    void vaultCredentials()
    {
        MemorySecretStore secrets;
        VaultCredentialSource source(&secrets);
        QCOMPARE(VaultCredentialSource::tokenKey(QStringLiteral("github"), {}),
                 QStringLiteral("connection/github/default/token"));
        auto missing = source.credential(QStringLiteral("github"), {});
        QVERIFY(!missing.has_value());
        QCOMPARE(missing.error().code, Error::Code::NotFound);

        QVERIFY(secrets.write(QStringLiteral("connection/github/default/token"), "ghp_abcdef123"));
        auto unbound = source.credential(QStringLiteral("github"), {});
        QVERIFY(unbound.has_value());
        QCOMPARE(unbound->secret, QByteArray("ghp_abcdef123"));
        QVERIFY(unbound->boundHost.isEmpty()); // without metadata it goes nowhere

        QVERIFY(
            secrets.write(QStringLiteral("connection/github/default/meta"),
                          R"({"bound_host":"API.GitHub.com.","header":"X-Token","prefix":""})"));
        auto bound = source.credential(QStringLiteral("github"), {});
        QVERIFY(bound.has_value());
        QCOMPARE(bound->boundHost, QStringLiteral("api.github.com"));
        QCOMPARE(bound->headerName, QByteArray("X-Token"));
        QCOMPARE(bound->prefix, QByteArray());

        QVERIFY(secrets.write(QStringLiteral("connection/gmail/work/token"), "ya29.token-value"));
        QVERIFY(secrets.write(QStringLiteral("connection/gmail/work/meta"), "not json"));
        auto broken = source.credential(QStringLiteral("gmail"), QStringLiteral("work"));
        QVERIFY(!broken.has_value());
        QVERIFY(!broken.error().message.contains(QStringLiteral("ya29")));
    }

    /** How each kind of connection's credential goes on the wire (ConnectionCredentialSource). */
    void connectionCredentials()
    {
        const ProviderCatalog catalog = ProviderCatalog::load({});
        MemorySecretStore secrets;
        auto record = [](const QString& name, const QString& provider, const QString& auth) {
            ConnectionRecord r;
            r.name = name;
            r.provider = provider;
            r.auth = auth;
            r.status = QStringLiteral("ok");
            return r;
        };
        const auto github = catalog.find(QStringLiteral("github"));
        QVERIFY(github);
        const ConnectionRecord gh =
            record(QStringLiteral("work"), QStringLiteral("github"), QStringLiteral("oauth2"));
        auto missing = ConnectionCredentialSource::forRecord(*github, gh, &secrets);
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, Error::Code::Conflict); // refuse, never send unauthenticated
        QVERIFY(missing.error().message.contains(QStringLiteral("vivarium connect github --name "
                                                                "work")));
        QVERIFY(secrets.write(
            VaultCredentialSource::tokenKey(QStringLiteral("github"), QStringLiteral("work")),
            "gho_token123"));
        auto oauth = ConnectionCredentialSource::forRecord(*github, gh, &secrets);
        QVERIFY(oauth);
        QCOMPARE(oauth->secret, QByteArray("gho_token123"));
        QCOMPARE(oauth->headerName, QByteArray("Authorization"));
        QCOMPARE(oauth->prefix, QByteArray("Bearer "));
        QCOMPARE(oauth->boundHost, QStringLiteral("api.github.com"));
        QVERIFY(oauth->queryName.isEmpty());
        // A personal access token on an OAuth provider: the same header.
        auto pat = ConnectionCredentialSource::forRecord(
            *github,
            record(QStringLiteral("work"), QStringLiteral("github"), QStringLiteral("api_key")),
            &secrets);
        QVERIFY(pat);
        QCOMPARE(pat->prefix, QByteArray("Bearer "));

        const auto stripe = catalog.find(QStringLiteral("stripe"));
        QVERIFY(stripe);
        QVERIFY(secrets.write(QStringLiteral("connection/stripe/live/token"), "rk_live_abc"));
        auto key = ConnectionCredentialSource::forRecord(
            *stripe, record(QStringLiteral("live"), QStringLiteral("stripe"), {}), &secrets);
        QVERIFY(key);
        QCOMPARE(key->headerName, QByteArray("Authorization"));
        QCOMPARE(key->prefix, QByteArray("Bearer "));
        QCOMPARE(key->boundHost, QStringLiteral("api.stripe.com"));

        // The generic provider: the connection says where and how.
        const auto generic = catalog.find(QStringLiteral("http_api_key"));
        QVERIFY(generic);
        ConnectionRecord g =
            record(QStringLiteral("wx"), QStringLiteral("http_api_key"), QStringLiteral("api_key"));
        QVERIFY(secrets.write(QStringLiteral("connection/http_api_key/wx/token"), "k-123"));
        auto unset = ConnectionCredentialSource::forRecord(*generic, g, &secrets);
        QVERIFY(!unset);
        QVERIFY2(unset.error().message.contains(QStringLiteral("base_url")),
                 qPrintable(unset.error().message));
        g.meta = {{QStringLiteral("base_url"), QStringLiteral("https://Weather.Example/v1")},
                  {QStringLiteral("api_key_in"), QStringLiteral("query")},
                  {QStringLiteral("api_key_name"), QStringLiteral("appid")}};
        auto query = ConnectionCredentialSource::forRecord(*generic, g, &secrets);
        QVERIFY(query);
        QCOMPARE(query->queryName, QByteArray("appid"));
        QCOMPARE(query->boundHost, QStringLiteral("weather.example"));
        g.meta.insert(QStringLiteral("api_key_in"), QStringLiteral("header"));
        g.meta.insert(QStringLiteral("api_key_name"), QStringLiteral("X-Api-Key"));
        g.meta.insert(QStringLiteral("api_key_prefix"), QString());
        auto header = ConnectionCredentialSource::forRecord(*generic, g, &secrets);
        QVERIFY(header);
        QCOMPARE(header->headerName, QByteArray("X-Api-Key"));
        QCOMPARE(header->prefix, QByteArray());
        QVERIFY(header->queryName.isEmpty());

        // Basic: base64 of user:password on the wire; both forms redacted.
        QVERIFY(
            secrets.write(QStringLiteral("connection/http_api_key/b/token"), "bob:correct-horse"));
        ConnectionRecord b =
            record(QStringLiteral("b"), QStringLiteral("http_api_key"), QStringLiteral("basic"));
        b.meta = {{QStringLiteral("base_url"), QStringLiteral("https://a.example")}};
        auto basic = ConnectionCredentialSource::forRecord(*generic, b, &secrets);
        QVERIFY(basic);
        QCOMPARE(basic->secret, QByteArray("bob:correct-horse").toBase64());
        QCOMPARE(basic->prefix, QByteArray("Basic "));
        QCOMPARE(basic->alsoRedact,
                 (QList<QByteArray>{"bob:correct-horse", QByteArray("correct-horse")}));

        // No credential at all.
        auto none = ConnectionCredentialSource::forRecord(
            *github, record(QStringLiteral("x"), QStringLiteral("github"), QStringLiteral("none")),
            &secrets);
        QVERIFY(!none);
        QCOMPARE(none.error().code, Error::Code::NotFound);
    }

    void connectionSourceWithoutStore()
    {
        ConnectionCredentialSource source(nullptr, nullptr, nullptr);
        auto r = source.credential(QStringLiteral("github"), {});
        QVERIFY(!r);
        QVERIFY(r.error().code != Error::Code::NotFound); // refused, not sent without a credential
    }

    void patternProblems()
    {
        QVERIFY(ProviderCallPolicy::patternProblem(QStringLiteral("GET https://a.example/**"))
                    .isEmpty());
        QCOMPARE(ProviderCallPolicy::patternProblem(QStringLiteral("https://a.example")),
                 QStringLiteral("no path"));
        QCOMPARE(ProviderCallPolicy::normalizeEndpoint(QStringLiteral("API.Example.com.:443")),
                 QStringLiteral("api.example.com:443"));
        QVERIFY(ProviderCallPolicy::normalizeEndpoint(QStringLiteral("a.example")).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestProviderPolicy)
#include "tst_ProviderPolicy.moc"
