// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The OAuth client's building blocks without a real authorization server (that is
// tests/integration/tst_ConnectOAuth.cpp): PKCE (RFC 7636 appendix B), redirect parsing and
// checks, the token endpoint's answer formats and client authentication over real HTTP on
// 127.0.0.1 (FakeUpstream), the loopback listener, the refresh lock across threads and
// processes, and when a refresh is due.
#include "FakeUpstream.h"

#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/LoopbackRedirectListener.h"
#include "vivarium/core/OAuthClient.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUrlQuery>

using namespace vivarium;
using testsupport::FakeUpstream;

namespace {

OAuth2Config config(quint16 port = 1)
{
    OAuth2Config c;
    const QString base = QStringLiteral("http://127.0.0.1:%1").arg(port);
    c.authorizationEndpoint = base + QStringLiteral("/authorize?prompt=consent");
    c.tokenEndpoint = base + QStringLiteral("/token");
    c.deviceAuthorizationEndpoint = base + QStringLiteral("/device");
    c.revocationEndpoint = base + QStringLiteral("/revoke");
    c.userinfoEndpoint = base + QStringLiteral("/me");
    c.scopes = {QStringLiteral("read"), QStringLiteral("write")};
    return c;
}

OAuthClientIdentity identity(const QByteArray& secret = "s3cr3t-CLIENT-secret")
{
    return OAuthClientIdentity{QStringLiteral("client-1"), secret};
}

FakeUpstream::Response jsonResponse(int status, const QByteArray& body)
{
    FakeUpstream::Response r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = body;
    return r;
}

QUrlQuery form(const FakeUpstream::Request& r)
{
    return QUrlQuery(QString::fromUtf8(r.body));
}

/** One raw HTTP request to the listener; the whole answer (the server closes). */
QByteArray rawRequest(quint16 port, const QByteArray& request)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(2000))
        return "NOCONNECT";
    s.write(request);
    QByteArray all;
    // The listener lives on this thread: spin its event loop while waiting.
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 5000 && s.state() != QAbstractSocket::UnconnectedState) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        s.waitForReadyRead(20);
        all += s.readAll();
    }
    all += s.readAll();
    return all;
}

} // namespace

// JSON bodies below write "\/" for "/" in URLs: moc's tokenizer reads "//" inside a raw string
// as a comment and then finds no class at all.
class tst_ConnectPrimitives : public QObject
{
    Q_OBJECT
private slots:
    void pkceMatchesRfc7636AppendixB()
    {
        QCOMPARE(OAuthClient::pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                 QByteArray("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    void randomTokensAreLongAndDistinct()
    {
        QSet<QByteArray> seen;
        for (int i = 0; i < 200; ++i) {
            const QByteArray t = OAuthClient::randomToken();
            QCOMPARE(t.size(), 43); // 32 bytes, base64url without padding
            QVERIFY(!t.contains('=') && !t.contains('+') && !t.contains('/'));
            seen.insert(t);
        }
        QCOMPARE(seen.size(), 200);
    }

    void constantTimeEquals()
    {
        QVERIFY(OAuthClient::constantTimeEquals("abcdef", "abcdef"));
        QVERIFY(!OAuthClient::constantTimeEquals("abcdef", "abcdeg"));
        QVERIFY(!OAuthClient::constantTimeEquals("abcdef", "abcde"));
        QVERIFY(!OAuthClient::constantTimeEquals("", ""));
    }

    void parseRedirect_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QByteArray>("code");
        QTest::addColumn<QByteArray>("state");
        QTest::addColumn<QString>("iss");
        QTest::addColumn<QString>("error");
        QTest::newRow("full url") << "http://127.0.0.1:4711/callback?code=abc&state=xyz&iss="
                                     "https%3A%2F%2Fid.example.com"
                                  << true << QByteArray("abc") << QByteArray("xyz")
                                  << "https://id.example.com" << QString();
        QTest::newRow("target") << "/callback?state=s&code=c%2B1" << true << QByteArray("c+1")
                                << QByteArray("s") << QString() << QString();
        QTest::newRow("plus is space")
            << "/callback?error=access_denied&error_description=no+way&"
               "state=s"
            << true << QByteArray() << QByteArray("s") << QString() << "access_denied";
        QTest::newRow("fragment ignored")
            << "/callback?code=c&state=s#frag" << true << QByteArray("c") << QByteArray("s")
            << QString() << QString();
        QTest::newRow("pasted with spaces")
            << "  http://127.0.0.1:1/callback?code=c&state=s \n"
            << true << QByteArray("c") << QByteArray("s") << QString() << QString();
        QTest::newRow("duplicate code") << "/callback?code=a&code=b&state=s" << false
                                        << QByteArray() << QByteArray() << QString() << QString();
        QTest::newRow("no query") << "http://127.0.0.1:1/callback" << false << QByteArray()
                                  << QByteArray() << QString() << QString();
        QTest::newRow("nothing useful") << "/callback?foo=bar" << false << QByteArray()
                                        << QByteArray() << QString() << QString();
    }
    void parseRedirect()
    {
        QFETCH(QString, input);
        QFETCH(bool, ok);
        auto r = AuthorizationResponse::parse(input);
        QCOMPARE(r.has_value(), ok);
        if (!ok) {
            QCOMPARE(int(r.error().code), int(Error::Code::Validation));
            return;
        }
        QFETCH(QByteArray, code);
        QFETCH(QByteArray, state);
        QFETCH(QString, iss);
        QFETCH(QString, error);
        QCOMPARE(r->code, code);
        QCOMPARE(r->state, state);
        QCOMPARE(r->iss, iss);
        QCOMPARE(r->hasIss, !iss.isEmpty());
        QCOMPARE(r->error, error);
        if (!error.isEmpty())
            QCOMPARE(r->errorDescription, QStringLiteral("no way"));
    }

    void authorizationUrl()
    {
        OAuth2Config c = config();
        c.extraAuthorizationParams.insert(QStringLiteral("access_type"), QStringLiteral("offline"));
        OAuthClient client(c, identity());
        auto p = client.beginAuthorization(QStringLiteral("http://127.0.0.1:5000/callback"),
                                           {QStringLiteral("a:b"), QStringLiteral("https://x/y")});
        QVERIFY(p);
        const QUrl url = p->authorizationUrl;
        QCOMPARE(url.path(), QStringLiteral("/authorize"));
        const QUrlQuery q(url);
        QCOMPARE(q.queryItemValue(QStringLiteral("prompt")), QStringLiteral("consent"));
        QCOMPARE(q.queryItemValue(QStringLiteral("response_type")), QStringLiteral("code"));
        QCOMPARE(q.queryItemValue(QStringLiteral("client_id")), QStringLiteral("client-1"));
        QCOMPARE(q.queryItemValue(QStringLiteral("redirect_uri"), QUrl::FullyDecoded),
                 QStringLiteral("http://127.0.0.1:5000/callback"));
        QCOMPARE(q.queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded),
                 QStringLiteral("a:b https://x/y"));
        QCOMPARE(q.queryItemValue(QStringLiteral("state")).toLatin1(), p->state);
        QCOMPARE(q.queryItemValue(QStringLiteral("code_challenge_method")), QStringLiteral("S256"));
        QCOMPARE(q.queryItemValue(QStringLiteral("code_challenge")).toLatin1(),
                 OAuthClient::pkceChallenge(p->codeVerifier));
        QCOMPARE(q.queryItemValue(QStringLiteral("access_type")), QStringLiteral("offline"));
        // The verifier itself never leaves.
        QVERIFY(!url.toEncoded().contains(p->codeVerifier));

        // Two attempts never share state or verifier.
        auto p2 = client.beginAuthorization(QStringLiteral("http://127.0.0.1:5000/callback"), {});
        QVERIFY(p2->state != p->state && p2->codeVerifier != p->codeVerifier);

        c.pkce = false;
        c.scopeSeparator = QStringLiteral(",");
        auto p3 = OAuthClient(c, identity())
                      .beginAuthorization(QStringLiteral("http://127.0.0.1:1/callback"),
                                          {QStringLiteral("a"), QStringLiteral("b")});
        QVERIFY(p3->codeVerifier.isEmpty());
        QVERIFY(!QUrlQuery(p3->authorizationUrl).hasQueryItem(QStringLiteral("code_challenge")));
        QCOMPARE(QUrlQuery(p3->authorizationUrl)
                     .queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded),
                 QStringLiteral("a,b"));

        auto noId = OAuthClient(config(), OAuthClientIdentity{})
                        .beginAuthorization(QStringLiteral("http://127.0.0.1:1/callback"), {});
        QVERIFY(!noId);
        QCOMPARE(int(noId.error().kind), int(OAuthError::Kind::Config));
    }

    void redirectChecks_data()
    {
        QTest::addColumn<QString>("issuer");
        QTest::addColumn<QString>("query"); // STATE stands for the attempt's state
        QTest::addColumn<QString>("error"); // empty: accepted
        QTest::newRow("ok") << QString() << "code=c&state=STATE" << QString();
        QTest::newRow("ok with iss")
            << "https://id.example"
            << "code=c&state=STATE&iss=https%3A%2F%2Fid.example" << QString();
        QTest::newRow("no state") << QString() << "code=c"
                                  << "state_missing";
        QTest::newRow("wrong state") << QString() << "code=c&state=forged"
                                     << "state_mismatch";
        QTest::newRow("state prefix") << QString() << "code=c&state=STATEx"
                                      << "state_mismatch";
        QTest::newRow("iss missing") << "https://id.example"
                                     << "code=c&state=STATE"
                                     << "iss_missing";
        QTest::newRow("iss wrong") << "https://id.example"
                                   << "code=c&state=STATE&iss=https%3A%2F%2Fevil.example"
                                   << "iss_mismatch";
        QTest::newRow("iss unknown to manifest")
            << QString() << "code=c&state=STATE&iss=x" << QString();
        QTest::newRow("denied") << QString() << "error=access_denied&state=STATE"
                                << "access_denied";
        QTest::newRow("denied, forged") << QString() << "error=access_denied&state=nope"
                                        << "state_mismatch";
        QTest::newRow("no code") << QString() << "state=STATE"
                                 << "code_missing";
    }
    void redirectChecks()
    {
        QFETCH(QString, issuer);
        QFETCH(QString, query);
        QFETCH(QString, error);
        OAuth2Config c = config();
        c.issuer = issuer;
        OAuthClient client(c, identity());
        auto p = client.beginAuthorization(QStringLiteral("http://127.0.0.1:1/callback"), {});
        QVERIFY(p);
        query.replace(QStringLiteral("STATE"), QString::fromLatin1(p->state));
        auto r = AuthorizationResponse::parse(QStringLiteral("/callback?") + query);
        QVERIFY(r);
        auto checked = client.checkAuthorizationResponse(*p, *r);
        if (error.isEmpty()) {
            QVERIFY2(checked, qPrintable(checked ? QString() : checked.error().message));
            return;
        }
        QVERIFY(!checked);
        QCOMPARE(int(checked.error().kind), int(OAuthError::Kind::Redirect));
        QCOMPARE(checked.error().error, error);
        QVERIFY(!checked.error().message.contains(QString::fromLatin1(p->state)));
    }

    void tokenEndpointClientAuthentication_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QByteArray>("secret");
        QTest::newRow("post") << "client_secret_post" << QByteArray("s3cr3t/+:=");
        QTest::newRow("basic") << "client_secret_basic" << QByteArray("s3cr3t/+:=");
        QTest::newRow("none") << "none" << QByteArray("unused-secret");
        QTest::newRow("post without secret") << "client_secret_post" << QByteArray();
    }
    void tokenEndpointClientAuthentication()
    {
        QFETCH(QString, method);
        QFETCH(QByteArray, secret);
        FakeUpstream up;
        up.setHandler([](const FakeUpstream::Request&) {
            return jsonResponse(200, R"({"access_token":"AT-1","token_type":"Bearer",
                "expires_in":"120","refresh_token":"RT-1","scope":"read"})");
        });
        QVERIFY(up.start());
        OAuth2Config c = config(up.port());
        c.tokenEndpointAuth = method;
        OAuthClient client(c, identity(secret));
        auto t = client.refresh("old-refresh", {QStringLiteral("read"), QStringLiteral("write")});
        QVERIFY2(t, qPrintable(t ? QString() : t.error().message));
        QCOMPARE(t->accessToken, QByteArray("AT-1"));
        QCOMPARE(t->refreshToken, QByteArray("RT-1"));
        QCOMPARE(t->scopes, QStringList{QStringLiteral("read")});
        QVERIFY(t->scopesFromServer);
        QVERIFY(qAbs(t->obtainedAt.secsTo(t->expiresAt) - 120) <= 1); // a string expires_in
        QCOMPARE(up.requestCount(), 1);
        const FakeUpstream::Request req = up.requests().first();
        QCOMPARE(req.method, QByteArray("POST"));
        QCOMPARE(req.header("content-type"), QByteArray("application/x-www-form-urlencoded"));
        const QUrlQuery body = form(req);
        QCOMPARE(body.queryItemValue(QStringLiteral("grant_type")),
                 QStringLiteral("refresh_token"));
        QCOMPARE(body.queryItemValue(QStringLiteral("refresh_token")),
                 QStringLiteral("old-refresh"));
        QVERIFY(!body.hasQueryItem(QStringLiteral("scope")));
        if (method == QLatin1String("client_secret_basic")) {
            // RFC 6749 2.3.1: each part form-encoded, then base64.
            QCOMPARE(req.header("authorization"),
                     "Basic " + QByteArray("client-1:s3cr3t%2F%2B%3A%3D").toBase64());
            QVERIFY(!body.hasQueryItem(QStringLiteral("client_secret")));
            QVERIFY(!body.hasQueryItem(QStringLiteral("client_id")));
        } else {
            QVERIFY(!req.hasHeader("authorization"));
            QCOMPARE(body.queryItemValue(QStringLiteral("client_id")), QStringLiteral("client-1"));
            const bool sendsSecret =
                method == QLatin1String("client_secret_post") && !secret.isEmpty();
            QCOMPARE(body.hasQueryItem(QStringLiteral("client_secret")), sendsSecret);
            if (sendsSecret)
                QCOMPARE(body.queryItemValue(QStringLiteral("client_secret"), QUrl::FullyDecoded)
                             .toUtf8(),
                         secret);
        }
    }

    void tokenEndpointAnswers_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QString>("messageContains");
        QTest::newRow("rfc 6749 5.2")
            << 400 << QByteArray("application/json")
            << QByteArray(
                   R"({"error":"invalid_grant","error_description":"grant request is invalid"})")
            << int(OAuthError::Kind::Protocol) << "invalid_grant"
            << "refused the request: invalid_grant (grant request is invalid)";
        QTest::newRow("error with 200 (GitHub)")
            << 200 << QByteArray("application/json")
            << QByteArray(
                   R"({"error":"bad_verification_code","error_uri":"https:\/\/docs.example/x"})")
            << int(OAuthError::Kind::Protocol) << "bad_verification_code"
            << "see https://docs.example/x";
        QTest::newRow("invalid_client 401")
            << 401 << QByteArray("application/json") << QByteArray(R"({"error":"invalid_client"})")
            << int(OAuthError::Kind::Protocol) << "invalid_client"
            << "invalid_client";
        QTest::newRow("500 html") << 500 << QByteArray("text/html")
                                  << QByteArray("<html><body>oops</body></html>")
                                  << int(OAuthError::Kind::Http) << QString()
                                  << "answered HTTP 500 (an HTML page, not an OAuth error)";
        QTest::newRow("503 text") << 503 << QByteArray("text/plain") << QByteArray("maintenance")
                                  << int(OAuthError::Kind::Http) << QString()
                                  << "answered HTTP 503: maintenance";
        QTest::newRow("no access token")
            << 200 << QByteArray("application/json") << QByteArray(R"({"token_type":"Bearer"})")
            << int(OAuthError::Kind::Response) << QString() << "without an access_token";
        QTest::newRow("not json") << 200 << QByteArray("text/plain") << QByteArray("hello")
                                  << int(OAuthError::Kind::Response) << QString()
                                  << "not a JSON object";
        QTest::newRow("redirect not followed")
            << 302 << QByteArray("text/plain") << QByteArray() << int(OAuthError::Kind::Http)
            << QString() << "answered HTTP 302";
        QTest::newRow("secret echoed back is redacted")
            << 400 << QByteArray("application/json")
            << QByteArray(
                   R"({"error":"invalid_grant","error_description":"token old-refresh is bad"})")
            << int(OAuthError::Kind::Protocol) << "invalid_grant"
            << "token [redacted] is bad";
    }
    void tokenEndpointAnswers()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        QFETCH(int, kind);
        QFETCH(QString, error);
        QFETCH(QString, messageContains);
        FakeUpstream up;
        up.setHandler([&](const FakeUpstream::Request&) {
            FakeUpstream::Response r;
            r.status = status;
            r.headers = {{"Content-Type", contentType}};
            if (status == 302)
                r.headers.append(
                    qMakePair(QByteArray("Location"), QByteArray("http://127.0.0.1:1/elsewhere")));
            r.body = body;
            return r;
        });
        QVERIFY(up.start());
        OAuthClient client(config(up.port()), identity());
        auto t = client.refresh("old-refresh", {});
        QVERIFY(!t);
        QCOMPARE(int(t.error().kind), kind);
        QCOMPARE(t.error().error, error);
        QVERIFY2(t.error().message.contains(messageContains), qPrintable(t.error().message));
        QVERIFY(!t.error().message.contains(QStringLiteral("old-refresh")));
        QVERIFY(!t.error().message.contains(QStringLiteral("s3cr3t-CLIENT-secret")));
        QCOMPARE(up.requestCount(), 1); // nothing followed, nothing retried
    }

    void formEncodedTokenAnswer()
    {
        FakeUpstream up;
        up.setHandler([](const FakeUpstream::Request&) {
            FakeUpstream::Response r;
            r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
            r.body = "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer";
            return r;
        });
        QVERIFY(up.start());
        OAuth2Config c = config(up.port());
        c.scopeSeparator = QStringLiteral(",");
        auto t = OAuthClient(c, identity()).refresh("r", {});
        QVERIFY(t);
        QCOMPARE(t->accessToken, QByteArray("gho_abc"));
        QCOMPARE(t->tokenType, QStringLiteral("bearer"));
        QCOMPARE(t->scopes, (QStringList{QStringLiteral("repo"), QStringLiteral("gist")}));
        QVERIFY(!t->expiresAt.isValid());
        QVERIFY(t->refreshToken.isEmpty());
    }

    void unreachableEndpointIsATransportError()
    {
        FakeUpstream up;
        QVERIFY(up.start());
        const quint16 port = up.port();
        up.stop(); // nothing listens there any more
        auto t = OAuthClient(config(port), identity()).refresh("r", {});
        QVERIFY(!t);
        QCOMPARE(int(t.error().kind), int(OAuthError::Kind::Transport));
        QVERIFY2(t.error().message.contains(QStringLiteral("could not reach the token endpoint")),
                 qPrintable(t.error().message));
    }

    void deviceFlowPolling()
    {
        // pending, pending, slow_down, then tokens: the interval grows by 5 s and stays.
        FakeUpstream up;
        std::atomic<int> polls{0};
        up.setHandler([&](const FakeUpstream::Request& r) {
            if (r.path == "/device")
                return jsonResponse(200, R"({"device_code":"DC","user_code":"ABCD-EFGH",
                    "verification_uri":"http:\/\/x/device","expires_in":600,"interval":2})");
            const int n = ++polls;
            if (n <= 2)
                return jsonResponse(400, R"({"error":"authorization_pending"})");
            if (n == 3)
                return jsonResponse(400, R"({"error":"slow_down"})");
            return jsonResponse(200, R"({"access_token":"AT","token_type":"Bearer"})");
        });
        QVERIFY(up.start());
        OAuthClient client(config(up.port()), identity());
        auto device = client.startDeviceAuthorization({QStringLiteral("read")});
        QVERIFY(device);
        QCOMPARE(device->intervalS, 2);
        QCOMPARE(device->userCode, QStringLiteral("ABCD-EFGH"));
        QList<int> sleeps;
        QStringList notes;
        auto t = client.waitForDeviceToken(
            *device, {}, [&](const QString& n) { notes << n; }, [&](int ms) { sleeps << ms; });
        QVERIFY2(t, qPrintable(t ? QString() : t.error().message));
        QCOMPARE(sleeps, (QList<int>{2000, 2000, 2000, 7000}));
        QCOMPARE(notes.size(), 1);
        QVERIFY(notes.first().startsWith(QStringLiteral("slow_down")));
        const QUrlQuery poll = form(up.requests().last());
        QCOMPARE(poll.queryItemValue(QStringLiteral("grant_type"), QUrl::FullyDecoded),
                 QStringLiteral("urn:ietf:params:oauth:grant-type:device_code"));
        QCOMPARE(poll.queryItemValue(QStringLiteral("device_code")), QStringLiteral("DC"));
    }

    void deviceFlowEndings_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QString>("message");
        QTest::newRow("denied") << QByteArray(R"({"error":"access_denied"})") << "access_denied"
                                << "denied at the provider";
        QTest::newRow("expired") << QByteArray(R"({"error":"expired_token"})") << "expired_token"
                                 << "expired before it was approved";
        QTest::newRow("other") << QByteArray(R"({"error":"invalid_client"})") << "invalid_client"
                               << "invalid_client";
    }
    void deviceFlowEndings()
    {
        QFETCH(QByteArray, answer);
        QFETCH(QString, error);
        QFETCH(QString, message);
        FakeUpstream up;
        up.setHandler([&](const FakeUpstream::Request&) { return jsonResponse(400, answer); });
        QVERIFY(up.start());
        OAuthClient client(config(up.port()), identity());
        DeviceAuthorization d;
        d.deviceCode = "DC";
        d.userCode = QStringLiteral("ABCD");
        d.expiresAt = QDateTime::currentDateTimeUtc().addSecs(600);
        d.intervalS = 1;
        auto t = client.waitForDeviceToken(d, {}, {}, [](int) {});
        QVERIFY(!t);
        QCOMPARE(t.error().error, error);
        QVERIFY2(t.error().message.contains(message), qPrintable(t.error().message));
        QCOMPARE(up.requestCount(), 1);
    }

    void deviceFlowWithoutEndpointIsConfig()
    {
        OAuth2Config c = config();
        c.deviceAuthorizationEndpoint.clear();
        auto d = OAuthClient(c, identity()).startDeviceAuthorization({});
        QVERIFY(!d);
        QCOMPARE(int(d.error().kind), int(OAuthError::Kind::Config));
    }

    void listenerAnswersOnlyTheRedirect()
    {
        LoopbackRedirectListener listener(QStringLiteral("/callback"), 500);
        QStringList targets;
        bool completed = false;
        QVERIFY(listener.listen([&](const QString& target) {
            targets << target;
            return LoopbackRedirectListener::Page{true, QStringLiteral("Connected"),
                                                  QStringLiteral("<b>as alice</b>")};
        }));
        listener.onCompleted([&] { completed = true; });
        const quint16 port = listener.port();
        QVERIFY(port > 0);
        QCOMPARE(listener.redirectUri(), QStringLiteral("http://127.0.0.1:%1/callback").arg(port));
        const QByteArray host = "Host: 127.0.0.1:" + QByteArray::number(port) + "\r\n";

        QByteArray a = rawRequest(port, "GET /favicon.ico HTTP/1.1\r\n" + host + "\r\n");
        QVERIFY2(a.startsWith("HTTP/1.1 404"), a.constData());
        a = rawRequest(port, "POST /callback?code=x&state=y HTTP/1.1\r\n" + host +
                                 "Content-Length: 0\r\n\r\n");
        QVERIFY2(a.startsWith("HTTP/1.1 405"), a.constData());
        a = rawRequest(port, "GET /callback?code=x&state=y HTTP/1.1\r\nHost: evil.example:" +
                                 QByteArray::number(port) + "\r\n\r\n");
        QVERIFY2(a.startsWith("HTTP/1.1 400"), a.constData());
        a = rawRequest(port, "garbage\r\n\r\n");
        QVERIFY2(a.startsWith("HTTP/1.1 400"), a.constData());
        // A connection that never sends anything is dropped after the request timeout.
        {
            QTcpSocket idle;
            idle.connectToHost(QHostAddress::LocalHost, port);
            QVERIFY(idle.waitForConnected(2000));
            QTRY_COMPARE_WITH_TIMEOUT(idle.state(), QAbstractSocket::UnconnectedState, 3000);
        }
        QVERIFY(targets.isEmpty());
        QVERIFY(!listener.completed());

        a = rawRequest(port, "GET /callback?code=c&state=s HTTP/1.1\r\nHost: localhost:" +
                                 QByteArray::number(port) + "\r\n\r\n");
        QVERIFY2(a.startsWith("HTTP/1.1 200 OK"), a.constData());
        QVERIFY(a.contains("Cache-Control: no-store"));
        QVERIFY(a.contains("<h1>Connected</h1>"));
        QVERIFY(a.contains("&lt;b&gt;as alice&lt;/b&gt;")); // escaped, never markup
        QCOMPARE(targets, QStringList{QStringLiteral("/callback?code=c&state=s")});
        QTRY_VERIFY(completed);
        // One completion: nothing listens any more.
        QCOMPARE(rawRequest(port, "GET /callback?code=c&state=s HTTP/1.1\r\n" + host + "\r\n"),
                 QByteArray("NOCONNECT"));
        QCOMPARE(targets.size(), 1);
    }

    void listenerErrorPage()
    {
        const QByteArray page = LoopbackRedirectListener::renderPage(
            {false, QStringLiteral("Not connected"), QStringLiteral("state mismatch <script>")});
        QVERIFY(page.contains("Not connected"));
        QVERIFY(page.contains("state mismatch &lt;script&gt;"));
        QVERIFY(!page.contains("<script>"));
    }

    void refreshLockInProcess()
    {
        QTemporaryDir dir;
        auto a = RefreshLock::acquire(dir.path(), QStringLiteral("work"), 0);
        QVERIFY(a);
        auto b = RefreshLock::acquire(dir.path(), QStringLiteral("work"), 0);
        QVERIFY(!b);
        QCOMPARE(int(b.error().code), int(Error::Code::Locked));
        QVERIFY(b.error().message.contains(QStringLiteral("this process")));
        QVERIFY(RefreshLock::acquire(dir.path(), QStringLiteral("other"), 0)); // per connection
        // Another thread waits and gets it once released.
        std::atomic<bool> got{false};
        QThread* t = QThread::create([&] {
            got = RefreshLock::acquire(dir.path(), QStringLiteral("work"), 5000).has_value();
        });
        t->start();
        QThread::msleep(150);
        QVERIFY(!got);
        a->reset();
        QVERIFY(t->wait(5000));
        delete t;
        QVERIFY(got);
    }

    void refreshLockAcrossProcesses()
    {
        const QString flock = QStandardPaths::findExecutable(QStringLiteral("flock"));
        QVERIFY2(!flock.isEmpty(), "util-linux flock(1) is needed to hold the lock from outside");
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("locks"))));
        const QString file = dir.filePath(QStringLiteral("locks/oauth-work.lock"));
        QProcess holder;
        // -o: the command does not inherit the lock, so killing flock(1) releases it.
        holder.start(flock, {QStringLiteral("-x"), QStringLiteral("-o"), file, QStringLiteral("-c"),
                             QStringLiteral("echo held; exec sleep 5")});
        QVERIFY(holder.waitForReadyRead(5000));
        auto busy = RefreshLock::acquire(dir.path(), QStringLiteral("work"), 200);
        QVERIFY(!busy);
        QCOMPARE(int(busy.error().code), int(Error::Code::Locked));
        QVERIFY(busy.error().message.contains(QStringLiteral("another Vivarium process")));
        holder.kill();
        holder.waitForFinished(5000);
        QVERIFY(RefreshLock::acquire(dir.path(), QStringLiteral("work"), 2000));
    }

    void dueAt()
    {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        ConnectionRecord c;
        c.auth = QStringLiteral("oauth2");
        c.expiresAt = now.addSecs(3600);
        c.meta.insert(QStringLiteral("obtained_at"), now.toString(Qt::ISODateWithMs));
        QCOMPARE(ConnectionTokens::dueAt(c, 300), c.expiresAt.addSecs(-300));
        // A 20-minute token is not refreshed in its first half.
        c.expiresAt = now.addSecs(600);
        QCOMPARE(ConnectionTokens::dueAt(c, 300), c.expiresAt.addSecs(-300));
        c.expiresAt = now.addSecs(200);
        QCOMPARE(ConnectionTokens::dueAt(c, 300), c.expiresAt.addSecs(-100));
        // Without a refresh token: at expiry (then it needs a reconnect).
        c.meta.insert(QStringLiteral("has_refresh_token"), false);
        QCOMPARE(ConnectionTokens::dueAt(c, 300), c.expiresAt);
        // Not OAuth, or no expiry: never.
        c.expiresAt = QDateTime();
        QVERIFY(!ConnectionTokens::dueAt(c, 300).isValid());
        c.auth = QStringLiteral("api_key");
        c.expiresAt = now;
        QVERIFY(!ConnectionTokens::dueAt(c, 300).isValid());
    }
};

QTEST_GUILESS_MAIN(tst_ConnectPrimitives)
#include "tst_ConnectPrimitives.moc"
