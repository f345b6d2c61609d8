// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// `vivarium connect`, `connections ...` and `oauth-app ...` as a user drives them, against a
// real strict authorization server (oidc-provider, tests/support/oidc/server.mjs): the
// browser flow through the loopback redirect, --no-browser with a redirect or a pasted
// address, state mismatch, denial, the device flow (pending, slow_down, approval, denial,
// expiry), a provider that is down or failing, refresh with rotation and reuse detection,
// connections test, rm with revocation, api_key and basic via stdin, the engine (`serve`)
// refreshing on its own, two CLIs refreshing at once. Every output, log and store file is
// grepped for every token and secret involved.
#include "OidcServer.h"
#include "TestSupport.h"

#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace testsupport;
using namespace vivarium;

namespace {

/** A `vivarium` process the test talks to while it runs. */
class Running
{
public:
    Running(const QString& dataDir, const QStringList& args, const QProcessEnvironment& extra = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        // Headless unless a test says otherwise: never a real browser.
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.remove(QStringLiteral("BROWSER"));
        for (const QString& k : extra.keys())
            env.insert(k, extra.value(k));
        m_p.setProcessEnvironment(env);
        m_p.start(bin(QStringLiteral("vivarium")),
                  args + QStringList{QStringLiteral("--data-dir"), dataDir});
        m_p.waitForStarted(10'000);
    }
    ~Running()
    {
        if (m_p.state() != QProcess::NotRunning) {
            m_p.kill();
            m_p.waitForFinished(5000);
        }
    }
    void pump()
    {
        m_p.waitForReadyRead(50);
        m_out += m_p.readAllStandardOutput();
        m_err += m_p.readAllStandardError();
    }
    /** The first capture of `re` in stderr, waiting up to `ms`. */
    QString waitErr(const QString& re, int ms = 20'000)
    {
        const QRegularExpression rx(re);
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms) {
            const auto m = rx.match(QString::fromUtf8(m_err));
            if (m.hasMatch())
                return m.captured(m.lastCapturedIndex());
            if (m_p.state() == QProcess::NotRunning)
                break;
            pump();
        }
        return {};
    }
    void write(const QByteArray& bytes) { m_p.write(bytes); }
    void closeStdin() { m_p.closeWriteChannel(); }
    int finish(int ms = 30'000)
    {
        QElapsedTimer t;
        t.start();
        while (m_p.state() != QProcess::NotRunning && t.elapsed() < ms)
            pump();
        pump();
        if (m_p.state() != QProcess::NotRunning)
            return -1;
        m_out += m_p.readAllStandardOutput();
        m_err += m_p.readAllStandardError();
        return m_p.exitStatus() == QProcess::NormalExit ? m_p.exitCode() : -2;
    }
    QByteArray out() const { return m_out; }
    QByteArray err() const { return m_err; }
    QString describe() const
    {
        return QStringLiteral("--- stdout ---\n%1\n--- stderr ---\n%2")
            .arg(QString::fromUtf8(m_out), QString::fromUtf8(m_err));
    }
    QProcess& process() { return m_p; }

private:
    QProcess m_p;
    QByteArray m_out;
    QByteArray m_err;
};

/** GET a URL the way a browser hitting the loopback listener would. */
QPair<int, QByteArray> browserGet(const QString& url)
{
    QNetworkAccessManager nam;
    QNetworkRequest r{QUrl(url)};
    r.setTransferTimeout(30'000);
    QNetworkReply* reply = nam.get(r);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    delete reply;
    return {status, body};
}

QString replaceQueryItem(const QString& url, const QString& key, const QString& value)
{
    QUrl u(url);
    QUrlQuery q(u);
    q.removeAllQueryItems(key);
    q.addQueryItem(key, value);
    u.setQuery(q);
    return u.toString();
}

const QByteArray ApiKeyCanary = "sk-test-CANARY-4c1d2e3f5a6b7c8d9e0f1a2b";
const QByteArray PasswordCanary = "pw-CANARY-9a8b7c6d5e4f3a2b";

} // namespace

class tst_ConnectCli : public QObject
{
    Q_OBJECT
private:
    OidcServer m_server;
    QTemporaryDir m_tmp;
    int m_dirs = 0;
    /** Every output of every command, checked for secrets at the end of each test. */
    QList<QByteArray> m_outputs;
    /** Every secret value seen (tokens read from vaults, client secrets, keys). */
    QList<QByteArray> m_secrets;

    QString newDataDir(OidcServer& server,
                       const QString& tokenAuth = QStringLiteral("client_secret_post"),
                       bool withDevice = true)
    {
        const QString dir = m_tmp.filePath(QStringLiteral("d%1").arg(++m_dirs));
        writeFile(dir + QStringLiteral("/providers/testidp.json"),
                  server.manifest(QStringLiteral("testidp"), tokenAuth, withDevice));
        cli(dir, {QStringLiteral("settings"), QStringLiteral("set"),
                  QStringLiteral("secrets.backend"), QStringLiteral("vault")});
        return dir;
    }

    ProcessResult cli(const QString& dataDir, const QStringList& args, const QByteArray& in = {},
                      int timeoutMs = 30'000)
    {
        ProcessResult r = runCli(dataDir, args, in, timeoutMs);
        m_outputs << r.out << r.err;
        return r;
    }

    /** oauth-app set for the server's client with its secret through stdin. */
    void setApp(const QString& dataDir, OidcServer& server,
                const QString& clientId = QStringLiteral("vivarium-post"))
    {
        const QByteArray secret = server.clientSecret(clientId);
        QStringList args{QStringLiteral("oauth-app"), QStringLiteral("set"),
                         QStringLiteral("testidp"), QStringLiteral("--client-id"), clientId};
        if (!secret.isEmpty()) {
            args << QStringLiteral("--client-secret-stdin");
            m_secrets << secret;
        }
        const ProcessResult r = cli(dataDir, args, secret + '\n');
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(secret.isEmpty() || (!r.out.contains(secret) && !r.err.contains(secret)));
    }

    QByteArray vaultValue(const QString& dataDir, const QString& key)
    {
        auto secrets = SecretStore::openDefault(Paths(dataDir));
        if (!secrets)
            return {};
        const QByteArray v = (*secrets)->read(key).value_or(QByteArray());
        if (!v.isEmpty())
            m_secrets << v;
        return v;
    }
    QByteArray accessToken(const QString& dataDir, const QString& name = QStringLiteral("work"))
    {
        return vaultValue(dataDir, ConnectionSecretKeys::token(QStringLiteral("testidp"), name));
    }
    QByteArray refreshToken(const QString& dataDir, const QString& name = QStringLiteral("work"))
    {
        return vaultValue(dataDir,
                          ConnectionSecretKeys::refreshToken(QStringLiteral("testidp"), name));
    }

    QJsonObject connection(const QString& dataDir, const QString& name)
    {
        const ProcessResult r = cli(dataDir, {QStringLiteral("connections"), QStringLiteral("list"),
                                              QStringLiteral("--json")});
        for (const QJsonValue& v : QJsonDocument::fromJson(r.out).array())
            if (v.toObject().value(QStringLiteral("name")).toString() == name)
                return v.toObject();
        return {};
    }

    /** Connect "work" with the browser script; returns the process result. */
    void connectWithBrowser(const QString& dataDir, const QString& name = QStringLiteral("work"))
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("BROWSER"), browserCommand());
        Running r(dataDir,
                  {QStringLiteral("connect"), QStringLiteral("testidp"), QStringLiteral("--name"),
                   name, QStringLiteral("--timeout"), QStringLiteral("60")},
                  env);
        const int code = r.finish(60'000);
        m_outputs << r.out() << r.err();
        QVERIFY2(code == 0, qPrintable(r.describe()));
    }

    /** Nothing secret in any output collected, the store files or the server's log. */
    void checkCanaries(const QString& dataDir)
    {
        QList<QByteArray> artifacts = m_outputs;
        for (const QString& file :
             {QStringLiteral("vivarium.db"), QStringLiteral("vivarium.db-wal"),
              QStringLiteral("vivarium.db-shm")}) {
            QFile f(dataDir + QLatin1Char('/') + file);
            if (f.open(QIODevice::ReadOnly))
                artifacts << f.readAll();
        }
        QList<QByteArray> secrets = m_secrets;
        secrets << ApiKeyCanary << PasswordCanary;
        for (const QByteArray& s : std::as_const(secrets)) {
            if (s.size() < 8)
                continue;
            for (const QByteArray& a : std::as_const(artifacts))
                QVERIFY2(!a.contains(s), qPrintable(QStringLiteral("a secret leaked (%1...)")
                                                        .arg(QString::fromUtf8(s.left(6)))));
        }
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        const QString error = m_server.start();
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    void init()
    {
        m_outputs.clear();
        m_secrets.clear();
    }

    void withoutAnOAuthAppItSaysHowToSetOne()
    {
        const QString dir = newDataDir(m_server);
        const ProcessResult r = cli(dir, {QStringLiteral("connect"), QStringLiteral("testidp")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no OAuth app is set for testidp"), qPrintable(r.describe()));
        QVERIFY(r.err.contains("vivarium oauth-app set testidp --client-id ID"));
        QVERIFY(r.err.contains("http://127.0.0.1/callback"));
    }

    void usageErrors()
    {
        const QString dir = newDataDir(m_server);
        auto r = cli(dir, {QStringLiteral("connect"), QStringLiteral("nosuchprovider")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("nosuchprovider"));
        r = cli(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                      QStringLiteral("--name"), QStringLiteral("Bad Name")});
        QCOMPARE(r.exitCode, 2);
        r = cli(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                      QStringLiteral("--timeout"), QStringLiteral("0")});
        QCOMPARE(r.exitCode, 2);
        r = cli(dir, {QStringLiteral("connections")});
        QCOMPARE(r.exitCode, 2);
        r = cli(dir,
                {QStringLiteral("connections"), QStringLiteral("rm"), QStringLiteral("ghost")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("ghost"));
        r = cli(dir,
                {QStringLiteral("oauth-app"), QStringLiteral("set"), QStringLiteral("testidp")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("--client-id"));
    }

    void happyPathThroughTheBrowser()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        connectWithBrowser(dir);
        const QByteArray stdoutText = m_outputs.at(m_outputs.size() - 2);
        QVERIFY2(stdoutText.contains("Connected testidp as connection \"work\" "
                                     "(test-user@example.test)"),
                 stdoutText.constData());
        const QJsonObject c = connection(dir, QStringLiteral("work"));
        QCOMPARE(c.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(c.value(QStringLiteral("auth")).toString(), QStringLiteral("oauth2"));
        QCOMPARE(c.value(QStringLiteral("account")).toString(),
                 QStringLiteral("test-user@example.test"));
        QCOMPARE(c.value(QStringLiteral("scopes")).toArray().size(), 3);
        QVERIFY(!c.value(QStringLiteral("expires_at")).isNull());
        QCOMPARE(c.value(QStringLiteral("meta")).toObject().value(QStringLiteral("client_id")),
                 QJsonValue(QStringLiteral("vivarium-post")));
        const QByteArray at = accessToken(dir);
        QVERIFY(!at.isEmpty());
        QVERIFY(!refreshToken(dir).isEmpty());
        // The stored token works at the provider.
        const auto me = m_server.get(QStringLiteral("/me"));
        Q_UNUSED(me);
        QNetworkAccessManager nam;
        QNetworkRequest req{QUrl(m_server.url(QStringLiteral("/me")))};
        req.setRawHeader("Authorization", "Bearer " + at);
        QNetworkReply* reply = nam.get(req);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10'000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        delete reply;

        // The human listing shows health, never a token.
        const ProcessResult list =
            cli(dir, {QStringLiteral("connections"), QStringLiteral("list")});
        QCOMPARE(list.exitCode, 0);
        QVERIFY(list.out.contains("work") && list.out.contains("ok"));
        const ProcessResult apps = cli(dir, {QStringLiteral("oauth-app"), QStringLiteral("list")});
        QVERIFY(apps.out.contains("vivarium-post") && apps.out.contains("in vault"));
        checkCanaries(dir);
    }

    void clientSecretBasicAndPublicClients_data()
    {
        QTest::addColumn<QString>("clientId");
        QTest::addColumn<QString>("method");
        QTest::newRow("basic") << "vivarium-basic"
                               << "client_secret_basic";
        QTest::newRow("public") << "vivarium-public"
                                << "none";
    }
    void clientSecretBasicAndPublicClients()
    {
        QFETCH(QString, clientId);
        QFETCH(QString, method);
        const QString dir = newDataDir(m_server, method);
        setApp(dir, m_server, clientId);
        connectWithBrowser(dir);
        QCOMPARE(connection(dir, QStringLiteral("work")).value(QStringLiteral("status")).toString(),
                 QStringLiteral("ok"));
        const ProcessResult r = cli(dir, {QStringLiteral("connections"), QStringLiteral("refresh"),
                                          QStringLiteral("work")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        accessToken(dir);
        refreshToken(dir);
        checkCanaries(dir);
    }

    void noBrowserWaitsForTheRedirect()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        Running r(dir,
                  {QStringLiteral("connect"), QStringLiteral("testidp"), QStringLiteral("--name"),
                   QStringLiteral("work"), QStringLiteral("--no-browser")});
        const QString url =
            r.waitErr(QStringLiteral("\\s(http://127\\.0\\.0\\.1:\\d+/auth\\?\\S+)"));
        QVERIFY2(!url.isEmpty(), qPrintable(r.describe()));
        QVERIFY(url.contains(QStringLiteral("code_challenge_method=S256")));
        const QJsonObject b = m_server.browse(url);
        const QString redirect = b.value(QStringLiteral("redirect")).toString();
        QVERIFY2(redirect.contains(QStringLiteral("code=")), qPrintable(redirect));
        // The browser lands on the listener: a small page says it worked.
        const auto [status, page] = browserGet(redirect);
        QCOMPARE(status, 200);
        QVERIFY2(page.contains("Connected") && page.contains("test-user@example.test"),
                 page.constData());
        QCOMPARE(r.finish(), 0);
        m_outputs << r.out() << r.err() << page;
        QVERIFY(r.out().contains("Connected testidp"));
        accessToken(dir);
        checkCanaries(dir);
    }

    void pastedRedirectAddress()
    {
        const QString dir = newDataDir(m_server, QStringLiteral("client_secret_post"), false);
        setApp(dir, m_server);
        // No display, no device endpoint: the code flow, waiting for a paste.
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                        QStringLiteral("--name"), QStringLiteral("work")});
        const QString url =
            r.waitErr(QStringLiteral("\\s(http://127\\.0\\.0\\.1:\\d+/auth\\?\\S+)"));
        QVERIFY2(!url.isEmpty(), qPrintable(r.describe()));
        QVERIFY(r.err().contains("paste the address"));
        const QString redirect = m_server.browse(url).value(QStringLiteral("redirect")).toString();
        QVERIFY(!redirect.isEmpty());
        // A wrong paste gets another chance; the real one completes.
        r.write("this is not it\n");
        QVERIFY(!r.waitErr(QStringLiteral("(that is not the redirect address)")).isEmpty());
        r.write(redirect.toUtf8() + "\n");
        QCOMPARE(r.finish(), 0);
        m_outputs << r.out() << r.err();
        QVERIFY2(r.out().contains("Connected testidp"), qPrintable(r.describe()));
        accessToken(dir);
        checkCanaries(dir);
    }

    void stateMismatchIsRefused()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        Running r(dir,
                  {QStringLiteral("connect"), QStringLiteral("testidp"), QStringLiteral("--name"),
                   QStringLiteral("work"), QStringLiteral("--no-browser")});
        const QString url =
            r.waitErr(QStringLiteral("\\s(http://127\\.0\\.0\\.1:\\d+/auth\\?\\S+)"));
        QVERIFY(!url.isEmpty());
        const QString redirect = m_server.browse(url).value(QStringLiteral("redirect")).toString();
        const QString forged =
            replaceQueryItem(redirect, QStringLiteral("state"), QStringLiteral("forged-state"));
        const auto [status, page] = browserGet(forged);
        QCOMPARE(status, 400);
        QVERIFY2(page.contains("state mismatch"), page.constData());
        QCOMPARE(r.finish(), 1);
        m_outputs << r.out() << r.err();
        QVERIFY2(r.err().contains("state mismatch"), qPrintable(r.describe()));
        QVERIFY(connection(dir, QStringLiteral("work")).isEmpty());
        QVERIFY(accessToken(dir).isEmpty());
        // The genuine redirect now finds nobody listening: one completion only.
        QCOMPARE(browserGet(redirect).first, 0);
    }

    void deniedAtTheProvider()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        QCOMPARE(m_server.post(QStringLiteral("/test/deny-next")).status, 200);
        QProcessEnvironment env;
        env.insert(QStringLiteral("BROWSER"), browserCommand());
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp")}, env);
        QCOMPARE(r.finish(60'000), 1);
        QVERIFY2(r.err().contains("did not authorize Vivarium: access_denied"),
                 qPrintable(r.describe()));
        QVERIFY(connection(dir, QStringLiteral("testidp")).isEmpty());
    }

    void redirectTimeout()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                        QStringLiteral("--no-browser"), QStringLiteral("--timeout"),
                        QStringLiteral("2")});
        QCOMPARE(r.finish(), 1);
        QVERIFY2(r.err().contains("no redirect arrived within 2 s"), qPrintable(r.describe()));
    }

    void deviceFlowPendingThenApproved()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server, QStringLiteral("vivarium-public"));
        const QJsonObject before = m_server.stats();
        // Headless with a device endpoint: connect picks the device flow by itself.
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                        QStringLiteral("--name"), QStringLiteral("dev")});
        const QString code = r.waitErr(QStringLiteral("enter the code:\\s+(\\S+)"));
        QVERIFY2(!code.isEmpty(), qPrintable(r.describe()));
        const QString complete = r.waitErr(QStringLiteral("\\(or open (http\\S+?)[,)]"));
        QVERIFY(complete.contains(code));
        // Let it poll a few times while nobody has approved yet (authorization_pending).
        QTRY_VERIFY_WITH_TIMEOUT(m_server.stats().value(QStringLiteral("devicePolls")).toInt() >=
                                     before.value(QStringLiteral("devicePolls")).toInt() + 2,
                                 10'000);
        QVERIFY(r.process().state() == QProcess::Running);
        // The server asks it to slow down once; then the user approves.
        QCOMPARE(m_server.post(QStringLiteral("/test/slow-down?count=1")).status, 200);
        QVERIFY(!r.waitErr(QStringLiteral("(slow_down)"), 10'000).isEmpty());
        const QJsonObject approved = m_server.browse(complete);
        QVERIFY2(
            approved.value(QStringLiteral("body")).toString().contains(QStringLiteral("Success")),
            qPrintable(QJsonDocument(approved).toJson()));
        QCOMPARE(r.finish(30'000), 0);
        m_outputs << r.out() << r.err();
        QVERIFY2(r.out().contains("Connected testidp as connection \"dev\""),
                 qPrintable(r.describe()));
        // It honoured the interval, and the 5 s added by slow_down: never too fast.
        const QJsonObject after = m_server.stats();
        QCOMPARE(after.value(QStringLiteral("tooFast")).toInt(),
                 before.value(QStringLiteral("tooFast")).toInt());
        QCOMPARE(connection(dir, QStringLiteral("dev"))
                     .value(QStringLiteral("meta"))
                     .toObject()
                     .value(QStringLiteral("flow"))
                     .toString(),
                 QStringLiteral("device_code"));
        accessToken(dir, QStringLiteral("dev"));
        refreshToken(dir, QStringLiteral("dev"));
        checkCanaries(dir);
    }

    void deviceFlowDenied()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server, QStringLiteral("vivarium-public"));
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                        QStringLiteral("--device")});
        const QString complete = r.waitErr(QStringLiteral("\\(or open (http\\S+?)[,)]"));
        QVERIFY(!complete.isEmpty());
        m_server.browse(complete, true);
        QCOMPARE(r.finish(), 1);
        QVERIFY2(r.err().contains("denied at the provider"), qPrintable(r.describe()));
        QVERIFY(connection(dir, QStringLiteral("testidp")).isEmpty());
    }

    void deviceFlowExpires()
    {
        OidcServer server;
        QVERIFY(server.start({QStringLiteral("--device-ttl"), QStringLiteral("3")}).isEmpty());
        const QString dir = newDataDir(server);
        setApp(dir, server, QStringLiteral("vivarium-public"));
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                        QStringLiteral("--device")});
        QCOMPARE(r.finish(), 1);
        QVERIFY2(r.err().contains("expired before it was approved"), qPrintable(r.describe()));
    }

    void deviceFlowUnavailable()
    {
        const QString dir = newDataDir(m_server, QStringLiteral("client_secret_post"), false);
        setApp(dir, m_server);
        const ProcessResult r = cli(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                                          QStringLiteral("--device")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("has no device authorization endpoint"));
    }

    void providerDown()
    {
        OidcServer server;
        QVERIFY(server.start().isEmpty());
        const QString dir = newDataDir(server);
        setApp(dir, server, QStringLiteral("vivarium-public"));
        const quint16 port = server.port();
        server.stop();
        const ProcessResult r = cli(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                                          QStringLiteral("--device")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(QStringLiteral("could not reach the device authorization "
                                               "endpoint at http://127.0.0.1:%1/device/auth")
                                    .arg(port)
                                    .toUtf8()),
                 qPrintable(r.describe()));
    }

    void tokenEndpointFailing()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        QCOMPARE(m_server.post(QStringLiteral("/test/fail?path=/token&status=500&count=1")).status,
                 200);
        Running r(dir, {QStringLiteral("connect"), QStringLiteral("testidp"),
                        QStringLiteral("--no-browser")});
        const QString url =
            r.waitErr(QStringLiteral("\\s(http://127\\.0\\.0\\.1:\\d+/auth\\?\\S+)"));
        const QString redirect = m_server.browse(url).value(QStringLiteral("redirect")).toString();
        const auto [status, page] = browserGet(redirect);
        QCOMPARE(status, 400);
        QVERIFY(page.contains("answered HTTP 500"));
        QCOMPARE(r.finish(), 1);
        QVERIFY2(r.err().contains(QStringLiteral("the token endpoint at %1/token answered HTTP 500 "
                                                 "(an HTML page, not an OAuth error)")
                                      .arg(m_server.issuer())
                                      .toUtf8()),
                 qPrintable(r.describe()));
        QVERIFY(connection(dir, QStringLiteral("testidp")).isEmpty());
    }

    void refreshRotationAndReuseDetection()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        connectWithBrowser(dir);
        const QByteArray rt1 = refreshToken(dir);
        ProcessResult r = cli(dir, {QStringLiteral("connections"), QStringLiteral("refresh"),
                                    QStringLiteral("work")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(r.out.contains("rotated"));
        const QByteArray rt2 = refreshToken(dir);
        QVERIFY(!rt2.isEmpty() && rt2 != rt1);

        // A thief replays the old refresh token: the server revokes the whole grant.
        const OidcServer::Reply replay = m_server.post(
            QStringLiteral("/token"), "grant_type=refresh_token&refresh_token=" + rt1 +
                                          "&client_id=vivarium-post&client_secret=" +
                                          m_server.clientSecret(QStringLiteral("vivarium-post")));
        QCOMPARE(replay.status, 400);
        QCOMPARE(replay.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral("invalid_grant"));

        r = cli(dir,
                {QStringLiteral("connections"), QStringLiteral("refresh"), QStringLiteral("work")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("invalid_grant") &&
                     r.err.contains("run `vivarium connect testidp --name work` again"),
                 qPrintable(r.describe()));
        const QJsonObject c = connection(dir, QStringLiteral("work"));
        QCOMPARE(c.value(QStringLiteral("status")).toString(), QStringLiteral("needs_reconnect"));
        QVERIFY(c.value(QStringLiteral("status_reason"))
                    .toString()
                    .contains(QStringLiteral("invalid_grant")));
        const ProcessResult list =
            cli(dir, {QStringLiteral("connections"), QStringLiteral("list")});
        QVERIFY(list.out.contains("needs_reconnect") && list.out.contains("invalid_grant"));

        // Reconnecting heals it.
        connectWithBrowser(dir);
        QCOMPARE(connection(dir, QStringLiteral("work")).value(QStringLiteral("status")).toString(),
                 QStringLiteral("ok"));
        accessToken(dir);
        refreshToken(dir);
        checkCanaries(dir);
    }

    void connectionsTest()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        connectWithBrowser(dir);
        accessToken(dir);
        refreshToken(dir);
        ProcessResult r =
            cli(dir, {QStringLiteral("connections"), QStringLiteral("test"), QStringLiteral("work"),
                      QStringLiteral("--allow-local"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QJsonObject t = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(t.value(QStringLiteral("ok")).toBool(), true);
        QCOMPARE(t.value(QStringLiteral("http_status")).toInt(), 200);
        QCOMPARE(t.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        // Without --allow-local the broker's rules refuse a loopback provider.
        r = cli(dir,
                {QStringLiteral("connections"), QStringLiteral("test"), QStringLiteral("work")});
        QCOMPARE(r.exitCode, 1);

        // The grant is revoked at the provider: test refreshes once, then says reconnect.
        const QByteArray rt = refreshToken(dir);
        QCOMPARE(m_server
                     .post(QStringLiteral("/token/revocation"),
                           "token=" + rt +
                               "&token_type_hint=refresh_token&client_id=vivarium-"
                               "post&client_secret=" +
                               m_server.clientSecret(QStringLiteral("vivarium-post")))
                     .status,
                 200);
        r = cli(dir, {QStringLiteral("connections"), QStringLiteral("test"), QStringLiteral("work"),
                      QStringLiteral("--allow-local")});
        QCOMPARE(r.exitCode, 1);
        QCOMPARE(connection(dir, QStringLiteral("work")).value(QStringLiteral("status")).toString(),
                 QStringLiteral("needs_reconnect"));
        checkCanaries(dir);
    }

    void removeRevokes()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        connectWithBrowser(dir);
        const QByteArray rt = refreshToken(dir);
        accessToken(dir);
        const int revocations = m_server.stats().value(QStringLiteral("revocations")).toInt();
        const ProcessResult r =
            cli(dir, {QStringLiteral("connections"), QStringLiteral("rm"), QStringLiteral("work")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(r.out.contains("revoked the refresh token"));
        QCOMPARE(m_server.stats().value(QStringLiteral("revocations")).toInt(), revocations + 1);
        QVERIFY(connection(dir, QStringLiteral("work")).isEmpty());
        QVERIFY(accessToken(dir).isEmpty());
        QVERIFY(refreshToken(dir).isEmpty());
        const OidcServer::Reply after = m_server.post(
            QStringLiteral("/token"), "grant_type=refresh_token&refresh_token=" + rt +
                                          "&client_id=vivarium-post&client_secret=" +
                                          m_server.clientSecret(QStringLiteral("vivarium-post")));
        QCOMPARE(after.json().value(QStringLiteral("error")).toString(),
                 QStringLiteral("invalid_grant"));
        checkCanaries(dir);
    }

    void apiKeyAndBasicThroughStdin()
    {
        const QString dir = newDataDir(m_server);
        // "\/" in the JSON: moc reads "//" inside a raw string as a comment.
        const QByteArray keyManifest = R"({"id": "keyed", "name": "Keyed API",
            "base_url": "https:\/\/api.keyed.example", "auth": {"type": "api_key", "in": "header",
            "name": "X-Api-Key"}, "operations": []})";
        const QByteArray basicManifest = R"({"id": "basicapi", "name": "Basic API",
            "base_url": "https:\/\/api.basic.example", "auth": {"type": "basic"},
            "operations": []})";
        QVERIFY(writeFile(dir + QStringLiteral("/providers/keyed.json"), keyManifest));
        QVERIFY(writeFile(dir + QStringLiteral("/providers/basicapi.json"), basicManifest));

        ProcessResult r = cli(dir,
                              {QStringLiteral("connect"), QStringLiteral("keyed"),
                               QStringLiteral("--name"), QStringLiteral("k")},
                              ApiKeyCanary + "\n");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(vaultValue(dir, ConnectionSecretKeys::token(QStringLiteral("keyed"),
                                                             QStringLiteral("k"))),
                 ApiKeyCanary);
        QJsonObject c = connection(dir, QStringLiteral("k"));
        QCOMPARE(c.value(QStringLiteral("auth")).toString(), QStringLiteral("api_key"));
        QCOMPARE(c.value(QStringLiteral("status")).toString(), QStringLiteral("untested"));
        // Empty input is refused, nothing stored.
        r = cli(dir, {QStringLiteral("connect"), QStringLiteral("keyed"), QStringLiteral("--name"),
                      QStringLiteral("k2")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(connection(dir, QStringLiteral("k2")).isEmpty());

        r = cli(dir,
                {QStringLiteral("connect"), QStringLiteral("basicapi"), QStringLiteral("--user"),
                 QStringLiteral("bob")},
                PasswordCanary + "\n");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(vaultValue(dir, ConnectionSecretKeys::token(QStringLiteral("basicapi"),
                                                             QStringLiteral("basicapi"))),
                 "bob:" + PasswordCanary);
        c = connection(dir, QStringLiteral("basicapi"));
        QCOMPARE(c.value(QStringLiteral("account")).toString(), QStringLiteral("bob"));
        r = cli(dir,
                {QStringLiteral("connect"), QStringLiteral("basicapi"), QStringLiteral("--name"),
                 QStringLiteral("b2")},
                PasswordCanary + "\n");
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("--user"));

        // A name belongs to one provider.
        r = cli(dir,
                {QStringLiteral("connect"), QStringLiteral("basicapi"), QStringLiteral("--name"),
                 QStringLiteral("k"), QStringLiteral("--user"), QStringLiteral("x")},
                PasswordCanary + "\n");
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("already exists for provider keyed"));

        r = cli(dir, {QStringLiteral("connections"), QStringLiteral("rm"), QStringLiteral("k")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(vaultValue(
                    dir, ConnectionSecretKeys::token(QStringLiteral("keyed"), QStringLiteral("k")))
                    .isEmpty());
        checkCanaries(dir);
    }

    void twoProcessesNeverRefreshWithTheSameToken()
    {
        const QString dir = newDataDir(m_server);
        setApp(dir, m_server);
        connectWithBrowser(dir);
        // Force both to be due at once, then race two forced CLI refreshes: the lock makes the
        // second wait, and since it is forced it refreshes again with the rotated token.
        // Both must succeed: neither may use a refresh token the other just rotated away.
        QList<Running*> runs;
        for (int i = 0; i < 2; ++i)
            runs << new Running(dir, {QStringLiteral("connections"), QStringLiteral("refresh"),
                                      QStringLiteral("work")});
        for (Running* r : runs) {
            const int code = r->finish(60'000);
            m_outputs << r->out() << r->err();
            QVERIFY2(code == 0, qPrintable(r->describe()));
            delete r;
        }
        QCOMPARE(connection(dir, QStringLiteral("work")).value(QStringLiteral("status")).toString(),
                 QStringLiteral("ok"));
        accessToken(dir);
        refreshToken(dir);
        checkCanaries(dir);
    }

    void engineRefreshesOnItsOwn()
    {
        OidcServer server;
        QVERIFY(server.start({QStringLiteral("--access-ttl"), QStringLiteral("8")}).isEmpty());
        const QString dir = newDataDir(server);
        setApp(dir, server);
        connectWithBrowser(dir);
        const QString firstExpiry =
            connection(dir, QStringLiteral("work")).value(QStringLiteral("expires_at")).toString();
        const QByteArray at1 = accessToken(dir);

        QProcess serve;
        serve.setProgram(bin(QStringLiteral("vivarium")));
        serve.setArguments({QStringLiteral("serve"), QStringLiteral("--data-dir"), dir});
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("vivarium.*.debug=true"));
        serve.setProcessEnvironment(env);
        serve.start();
        QVERIFY(serve.waitForStarted(10'000));
        QByteArray log;
        auto waitFor = [&](const std::function<bool()>& done, int ms) {
            QElapsedTimer t;
            t.start();
            while (t.elapsed() < ms) {
                serve.waitForReadyRead(200);
                log += serve.readAllStandardError() + serve.readAllStandardOutput();
                if (done())
                    return true;
            }
            return false;
        };
        // Within a token's half-life the engine renews it; the broker would read the new one.
        QVERIFY2(waitFor(
                     [&] {
                         const QJsonObject c = connection(dir, QStringLiteral("work"));
                         return c.value(QStringLiteral("expires_at")).toString() != firstExpiry &&
                                c.value(QStringLiteral("status")).toString() == QLatin1String("ok");
                     },
                     20'000),
                 log.constData());
        const QByteArray at2 = accessToken(dir);
        QVERIFY(!at2.isEmpty() && at2 != at1);

        // The family is revoked behind its back: the engine marks the connection.
        const QByteArray rt = refreshToken(dir);
        QCOMPARE(server
                     .post(QStringLiteral("/token/revocation"),
                           "token=" + rt + "&client_id=vivarium-post&client_secret=" +
                               server.clientSecret(QStringLiteral("vivarium-post")))
                     .status,
                 200);
        QVERIFY2(waitFor(
                     [&] {
                         return connection(dir, QStringLiteral("work"))
                                    .value(QStringLiteral("status"))
                                    .toString() == QLatin1String("needs_reconnect");
                     },
                     20'000),
                 log.constData());
        serve.terminate();
        QVERIFY(serve.waitForFinished(15'000));
        log += serve.readAllStandardError() + serve.readAllStandardOutput();
        QCOMPARE(serve.exitCode(), 0);
        QVERIFY(log.contains("needs") || log.contains("invalid_grant"));
        m_outputs << log;
        checkCanaries(dir);
    }
};

QTEST_GUILESS_MAIN(tst_ConnectCli)
#include "tst_ConnectCli.moc"
