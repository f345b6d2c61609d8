// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The connection wizard driven by object names against the real OAuth server of the CLI tests
// (tests/support/oidc/server.mjs, oidc-provider): the browser sign-in through the loopback
// redirect with the server's scripted browser playing the user, a denied consent, a cancelled
// wait (the listener's port closes), reconnect from the Connections page, an API key typed in
// a password field, the test page; canary secrets are looked for in the store file and the log.
#include "GuiTestSupport.h"
#include "OidcServer.h"

#include "connect/ConnectionWizard.h"
#include "pages/ConnectionsPage.h"
#include "vivarium/core/ConnectionSetup.h"

#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"
#include "vivarium/ui/Dialogs.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMutex>
#include <QPushButton>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QUrlQuery>

using namespace vivarium;
using namespace guitest;
using testsupport::OidcServer;

namespace {

const QByteArray ApiKeyCanary = "wizard-api-key-canary-5b1d0c7e";

QMutex logMutex;
QByteArray logText;
QtMessageHandler previousHandler = nullptr;

void captureLog(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    {
        QMutexLocker lock(&logMutex);
        logText += message.toUtf8() + '\n';
    }
    if (previousHandler)
        previousHandler(type, context, message);
}

bool writeFile(const QString& path, const QByteArray& data)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

quint16 redirectPort(const QString& authorizationUrl)
{
    const QUrl redirect(QUrlQuery(QUrl(authorizationUrl))
                            .queryItemValue(QStringLiteral("redirect_uri"), QUrl::FullyDecoded));
    return quint16(redirect.port());
}

bool portAccepts(quint16 port)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    return s.waitForConnected(2000);
}

} // namespace

class tst_ConnectionWizard : public QObject
{
    Q_OBJECT
private:
    OidcServer m_server;
    QTemporaryDir m_tmp;
    std::unique_ptr<Store> m_store;
    MemorySecretStore m_secrets;
    QStringList m_opened;            ///< URLs the wizard asked the "browser" to open
    QList<QByteArray> m_seenSecrets; ///< every secret value, looked for at the end

    UiServices services()
    {
        UiServices s;
        s.store = m_store.get();
        s.secrets = &m_secrets;
        s.dataDir = m_tmp.path();
        s.secretBackend = QStringLiteral("memory");
        return s;
    }

    ConnectionWizardOptions options()
    {
        ConnectionWizardOptions o;
        // The scripted browser is driven by the test from the URL the wizard shows; here we
        // only note what would have been opened.
        o.openBrowser = [this](const QUrl& url) {
            m_opened << url.toString(QUrl::FullyEncoded);
            return true;
        };
        o.allowLocalProvider = true;
        o.timeoutS = 60;
        return o;
    }

    template <typename T> T* w(ConnectionWizard* wizard, const char* name)
    {
        return child<T>(wizard, QString::fromLatin1(name));
    }

    void click(ConnectionWizard* wizard, const char* name)
    {
        auto* b = w<QPushButton>(wizard, name);
        QVERIFY2(b, name);
        QVERIFY2(b->isVisible() && b->isEnabled(), name);
        QTest::mouseClick(b, Qt::LeftButton);
    }

    /** Open the wizard from the page, pick the provider by search, name the connection. */
    ConnectionWizard* throughAccess(ConnectionsPage& page, const QString& search,
                                    const QString& name, const QString& shot = {})
    {
        QTest::mouseClick(child<QPushButton>(&page, QStringLiteral("connectionsConnect")),
                          Qt::LeftButton);
        ConnectionWizard* wizard = page.wizard();
        if (!wizard)
            return nullptr;
        (void)QTest::qWaitForWindowExposed(wizard);
        QTest::keyClicks(w<QLineEdit>(wizard, "providerSearch"), search);
        if (!shot.isEmpty())
            screenshot(wizard, shot + QStringLiteral("-1-provider"));
        click(wizard, "wizardNext");
        if (wizard->currentPage() != ConnectionWizard::AccessPage)
            return nullptr;
        auto* nameEdit = w<QLineEdit>(wizard, "connectionName");
        nameEdit->selectAll();
        QTest::keyClick(nameEdit, Qt::Key_Backspace);
        QTest::keyClicks(nameEdit, name);
        if (!shot.isEmpty())
            screenshot(wizard, shot + QStringLiteral("-2-access"));
        click(wizard, "wizardNext");
        return wizard;
    }

    QByteArray storeFile()
    {
        QFile f(m_tmp.filePath(QStringLiteral("vivarium.db")));
        QByteArray all = f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        QFile wal(m_tmp.filePath(QStringLiteral("vivarium.db-wal")));
        if (wal.open(QIODevice::ReadOnly))
            all += wal.readAll();
        return all;
    }

private slots:
    void initTestCase()
    {
        previousHandler = qInstallMessageHandler(captureLog);
        QVERIFY(m_tmp.isValid());
        const QString started = m_server.start();
        QVERIFY2(started.isEmpty(), qPrintable(started));
        auto s = Store::open(m_tmp.filePath(QStringLiteral("vivarium.db")));
        QVERIFY2(s.has_value(), qPrintable(s ? QString() : s.error().toString()));
        m_store = std::move(*s);
        Dialogs::setNonModal(true);
        // A user manifest for the test server, and an API-key provider whose test operation
        // is a page of the same server.
        const QString providers = ProviderCatalog::userDirectory(m_tmp.path());
        QVERIFY(writeFile(providers + QStringLiteral("/testidp.json"),
                          m_server.manifest(QStringLiteral("testidp"))));
        const QJsonObject op{
            {QStringLiteral("name"), QStringLiteral("discovery")},
            {QStringLiteral("description"), QStringLiteral("The discovery page.")},
            {QStringLiteral("method"), QStringLiteral("GET")},
            {QStringLiteral("path"), QStringLiteral("/.well-known/openid-configuration")},
            {QStringLiteral("writes"), false},
            {QStringLiteral("parameters"),
             QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                         {QStringLiteral("properties"), QJsonObject{}},
                         {QStringLiteral("additionalProperties"), false}}}};
        const QJsonObject keyed{
            {QStringLiteral("id"), QStringLiteral("keyed")},
            {QStringLiteral("name"), QStringLiteral("Keyed API")},
            {QStringLiteral("base_url"), m_server.issuer()},
            {QStringLiteral("auth"),
             QJsonObject{{QStringLiteral("type"), QStringLiteral("api_key")},
                         {QStringLiteral("name"), QStringLiteral("X-Api-Key")}}},
            {QStringLiteral("authorized_uris"),
             QJsonArray{QString(m_server.issuer() + QStringLiteral("/**"))}},
            {QStringLiteral("test_operation"), QStringLiteral("discovery")},
            {QStringLiteral("operations"), QJsonArray{op}}};
        QVERIFY(
            writeFile(providers + QStringLiteral("/keyed.json"), QJsonDocument(keyed).toJson()));
        m_seenSecrets << m_server.clientSecret(QStringLiteral("vivarium-post")) << ApiKeyCanary;
    }

    void browserSignInTestAndFinish()
    {
        ConnectionsPage page(services());
        page.setWizardOptions(options());
        page.resize(900, 500);
        page.show();
        ConnectionWizard* wizard = throughAccess(page, QStringLiteral("testidp"),
                                                 QStringLiteral("work"), QStringLiteral("wizard"));
        QVERIFY(wizard);
        QCOMPARE(wizard->currentPage(), ConnectionWizard::SignInPage);

        // Page 2 showed the scopes and the operation (checked on the way through).
        const QString access = w<QTextBrowser>(wizard, "accessDetails")->toPlainText();
        QVERIFY2(access.contains(QStringLiteral("things:read")), qPrintable(access));
        QVERIFY(access.contains(QStringLiteral("me")));
        QVERIFY(access.contains(m_server.issuer() + QStringLiteral("/**")));

        // No OAuth app yet: the client ID and secret are entered here.
        QVERIFY(w<QLineEdit>(wizard, "oauthClientId")->text().isEmpty());
        QCOMPARE(w<QLineEdit>(wizard, "oauthClientSecret")->echoMode(), QLineEdit::Password);
        click(wizard, "oauthStart");
        QVERIFY(w<QLabel>(wizard, "signInStatus")->text().contains(QStringLiteral("client ID")));
        QTest::keyClicks(w<QLineEdit>(wizard, "oauthClientId"), QStringLiteral("vivarium-post"));
        QTest::keyClicks(
            w<QLineEdit>(wizard, "oauthClientSecret"),
            QString::fromLatin1(m_server.clientSecret(QStringLiteral("vivarium-post"))));
        click(wizard, "oauthStart");
        auto* url = w<QLineEdit>(wizard, "oauthUrl");
        QTRY_VERIFY_WITH_TIMEOUT(!url->text().isEmpty(), 10'000);
        QCOMPARE(m_opened.size(), 1);
        QCOMPARE(m_opened.last(), url->text());
        QVERIFY(w<QWidget>(wizard, "oauthProgress")->isVisible());
        QVERIFY(w<QLabel>(wizard, "signInStatus")->text().contains(QStringLiteral("Waiting")));
        QVERIFY(!w<QPushButton>(wizard, "wizardNext")->isEnabled());
        QVERIFY(screenshot(wizard, QStringLiteral("wizard-3-waiting")));
        // Stored as `vivarium oauth-app set` stores it.
        QCOMPARE(Settings(*m_store).oauthClientId(QStringLiteral("testidp")),
                 QStringLiteral("vivarium-post"));
        QCOMPARE(m_secrets.read(ConnectionSecretKeys::oauthClientSecret(QStringLiteral("testidp")))
                     .value_or(QByteArray()),
                 m_server.clientSecret(QStringLiteral("vivarium-post")));

        // The user signs in and consents in "the browser", which lands on the loopback listener.
        const QJsonObject b = m_server.browse(url->text(), false, true);
        QVERIFY2(b.value(QStringLiteral("status")).toInt() == 200,
                 QJsonDocument(b).toJson().constData());
        auto* status = w<QLabel>(wizard, "signInStatus");
        QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("Connected")), 15'000);
        QVERIFY(screenshot(wizard, QStringLiteral("wizard-3-connected")));
        auto record = m_store->connection(QStringLiteral("work"));
        QVERIFY(record.has_value());
        QCOMPARE(record->status, QStringLiteral("ok"));
        QCOMPARE(record->provider, QStringLiteral("testidp"));
        QVERIFY(!record->account.isEmpty());
        QVERIFY(status->text().contains(record->account));
        const QByteArray token = m_secrets
                                     .read(ConnectionSecretKeys::token(QStringLiteral("testidp"),
                                                                       QStringLiteral("work")))
                                     .value_or(QByteArray());
        QVERIFY(!token.isEmpty());
        m_seenSecrets << token
                      << m_secrets
                             .read(ConnectionSecretKeys::refreshToken(QStringLiteral("testidp"),
                                                                      QStringLiteral("work")))
                             .value_or(QByteArray());
        // The row is on the page already.
        auto* list = child<QTreeWidget>(&page, QStringLiteral("connectionsList"));
        QCOMPARE(list->topLevelItemCount(), 1);
        QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("work"));

        // Test: the provider's test operation with the new token, off the GUI thread.
        click(wizard, "wizardNext");
        QCOMPARE(wizard->currentPage(), ConnectionWizard::TestPage);
        auto* result = w<QLabel>(wizard, "testResult");
        QTRY_VERIFY_WITH_TIMEOUT(result->property("ok").isValid(), 15'000);
        QVERIFY2(result->property("ok").toBool(), qPrintable(result->text()));
        QVERIFY(screenshot(wizard, QStringLiteral("wizard-4-test")));
        click(wizard, "wizardFinish");
        QTRY_VERIFY(!page.wizard());
        QCOMPARE(m_store->connection(QStringLiteral("work"))->status, QStringLiteral("ok"));
        QVERIFY(m_store->connection(QStringLiteral("work"))->checkedAt.isValid());
    }

    void deniedConsentStoresNothing()
    {
        ConnectionsPage page(services());
        page.setWizardOptions(options());
        page.show();
        ConnectionWizard* wizard =
            throughAccess(page, QStringLiteral("Test IdP"), QStringLiteral("denied"));
        QVERIFY(wizard);
        // The app is set now: the field is filled in, nothing to type.
        QCOMPARE(w<QLineEdit>(wizard, "oauthClientId")->text(), QStringLiteral("vivarium-post"));
        click(wizard, "oauthStart");
        auto* url = w<QLineEdit>(wizard, "oauthUrl");
        QTRY_VERIFY_WITH_TIMEOUT(!url->text().isEmpty(), 10'000);
        // The test user declines on the consent screen.
        QCOMPARE(m_server.post(QStringLiteral("/test/deny-next")).status, 200);
        m_server.browse(url->text(), false, true);
        auto* status = w<QLabel>(wizard, "signInStatus");
        QTRY_VERIFY_WITH_TIMEOUT(status->property("failure").isValid(), 15'000);
        QCOMPARE(status->property("failure").toInt(), int(OAuthSignIn::Failure::Denied));
        QVERIFY2(status->text().contains(QStringLiteral("denied")), qPrintable(status->text()));
        QVERIFY(status->text().contains(QStringLiteral("access_denied")));
        QVERIFY(screenshot(wizard, QStringLiteral("wizard-3-denied")));
        QVERIFY(!m_store->connection(QStringLiteral("denied")).has_value());
        QVERIFY(!m_secrets
                     .read(ConnectionSecretKeys::token(QStringLiteral("testidp"),
                                                       QStringLiteral("denied")))
                     .has_value());
        QVERIFY(!w<QPushButton>(wizard, "wizardNext")->isEnabled());
        QVERIFY(!portAccepts(redirectPort(url->text())));
        click(wizard, "wizardCancel");
        QTRY_VERIFY(!page.wizard());
    }

    void cancelStopsTheListener()
    {
        ConnectionsPage page(services());
        page.setWizardOptions(options());
        page.show();
        ConnectionWizard* wizard =
            throughAccess(page, QStringLiteral("testidp"), QStringLiteral("cancelled"));
        QVERIFY(wizard);
        click(wizard, "oauthStart");
        auto* url = w<QLineEdit>(wizard, "oauthUrl");
        QTRY_VERIFY_WITH_TIMEOUT(!url->text().isEmpty(), 10'000);
        const quint16 port = redirectPort(url->text());
        QVERIFY(port > 0);
        QVERIFY(portAccepts(port));
        click(wizard, "oauthCancel");
        auto* status = w<QLabel>(wizard, "signInStatus");
        QTRY_VERIFY_WITH_TIMEOUT(status->property("failure").isValid(), 5'000);
        QCOMPARE(status->property("failure").toInt(), int(OAuthSignIn::Failure::Cancelled));
        QVERIFY(!portAccepts(port));
        // The browser coming back late finds nobody and nothing is stored.
        const QJsonObject late = m_server.browse(url->text(), false, true);
        QVERIFY(late.value(QStringLiteral("status")).toInt() != 200);
        QVERIFY(!m_store->connection(QStringLiteral("cancelled")).has_value());
        QVERIFY(w<QPushButton>(wizard, "oauthStart")->isEnabled());
        click(wizard, "wizardCancel");
        QTRY_VERIFY(!page.wizard());
    }

    void timeoutAndProviderDown()
    {
        ConnectionsPage page(services());
        ConnectionWizardOptions o = options();
        o.timeoutS = 1;
        page.setWizardOptions(o);
        page.show();
        ConnectionWizard* wizard =
            throughAccess(page, QStringLiteral("testidp"), QStringLiteral("later"));
        QVERIFY(wizard);
        auto* status = w<QLabel>(wizard, "signInStatus");
        auto* url = w<QLineEdit>(wizard, "oauthUrl");
        // The browser was closed: nothing comes back within the time.
        click(wizard, "oauthStart");
        QTRY_VERIFY_WITH_TIMEOUT(status->property("failure").isValid(), 10'000);
        QCOMPARE(status->property("failure").toInt(), int(OAuthSignIn::Failure::TimedOut));
        QVERIFY2(status->text().contains(QStringLiteral("was it closed")),
                 qPrintable(status->text()));
        QVERIFY(!portAccepts(redirectPort(url->text())));
        QVERIFY(screenshot(wizard, QStringLiteral("wizard-3-timeout")));

        // The provider's token endpoint fails: said so, nothing stored.
        wizard->close();
        QTRY_VERIFY(!page.wizard());
        o.timeoutS = 30;
        page.setWizardOptions(o);
        wizard = throughAccess(page, QStringLiteral("testidp"), QStringLiteral("later"));
        QVERIFY(wizard);
        status = w<QLabel>(wizard, "signInStatus");
        url = w<QLineEdit>(wizard, "oauthUrl");
        QCOMPARE(m_server.post(QStringLiteral("/test/fail?path=/token&status=500&count=1")).status,
                 200);
        click(wizard, "oauthStart");
        QTRY_VERIFY_WITH_TIMEOUT(!url->text().isEmpty(), 10'000);
        m_server.browse(url->text(), false, true);
        QTRY_VERIFY_WITH_TIMEOUT(status->property("failure").isValid(), 15'000);
        QCOMPARE(status->property("failure").toInt(), int(OAuthSignIn::Failure::Unreachable));
        QVERIFY2(status->text().contains(QStringLiteral("500")), qPrintable(status->text()));
        QVERIFY(!m_store->connection(QStringLiteral("later")).has_value());
        click(wizard, "wizardCancel");
        QTRY_VERIFY(!page.wizard());
    }

    void reconnectFromThePage()
    {
        QVERIFY(m_store
                    ->setConnectionStatus(QStringLiteral("work"), QStringLiteral("needs_reconnect"),
                                          QStringLiteral("testidp refused the credential"))
                    .has_value());
        ConnectionsPage page(services());
        page.setWizardOptions(options());
        page.resize(1000, 400);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        auto* again = child<QPushButton>(&page, QStringLiteral("reconnectButton"));
        QVERIFY(again);
        QCOMPARE(again->property("connection").toString(), QStringLiteral("work"));
        QVERIFY(screenshot(&page, QStringLiteral("connections-reconnect")));
        QTest::mouseClick(again, Qt::LeftButton);
        ConnectionWizard* wizard = page.wizard();
        QVERIFY(wizard);
        QCOMPARE(wizard->currentPage(), ConnectionWizard::SignInPage);
        QVERIFY(!w<QPushButton>(wizard, "wizardBack")->isEnabled());
        click(wizard, "oauthStart");
        auto* url = w<QLineEdit>(wizard, "oauthUrl");
        QTRY_VERIFY_WITH_TIMEOUT(!url->text().isEmpty(), 10'000);
        m_server.browse(url->text(), false, true);
        QTRY_VERIFY_WITH_TIMEOUT(
            w<QLabel>(wizard, "signInStatus")->text().startsWith(QStringLiteral("Connected")),
            15'000);
        QCOMPARE(m_store->connection(QStringLiteral("work"))->status, QStringLiteral("ok"));
        // Row widgets of a rebuilt QTreeWidget go with deleteLater: wait for the event loop.
        QTRY_VERIFY(!child<QTreeWidget>(&page, QStringLiteral("connectionsList"))
                         ->findChild<QPushButton*>(QStringLiteral("reconnectButton")));
        m_seenSecrets << m_secrets
                             .read(ConnectionSecretKeys::token(QStringLiteral("testidp"),
                                                               QStringLiteral("work")))
                             .value_or(QByteArray());
        click(wizard, "wizardCancel"); // "Close": the connection stays
        QTRY_VERIFY(!page.wizard());
        QVERIFY(m_store->connection(QStringLiteral("work")).has_value());
    }

    void apiKeyInAPasswordField()
    {
        ConnectionsPage page(services());
        page.setWizardOptions(options());
        page.show();
        ConnectionWizard* wizard =
            throughAccess(page, QStringLiteral("keyed"), QStringLiteral("keyed-1"));
        QVERIFY(wizard);
        QCOMPARE(wizard->currentPage(), ConnectionWizard::SignInPage);
        auto* key = w<QLineEdit>(wizard, "apiKey");
        QVERIFY(key->isVisible());
        QCOMPARE(key->echoMode(), QLineEdit::Password);
        QVERIFY(!w<QWidget>(wizard, "oauthClientId")->isVisible());
        // Empty: refused, nothing stored.
        click(wizard, "wizardNext");
        QVERIFY(w<QLabel>(wizard, "keyError")->isVisible());
        QVERIFY(!m_store->connection(QStringLiteral("keyed-1")).has_value());
        QTest::keyClicks(key, QString::fromLatin1(ApiKeyCanary));
        QVERIFY(screenshot(wizard, QStringLiteral("wizard-3-api-key")));
        click(wizard, "wizardNext");
        QCOMPARE(wizard->currentPage(), ConnectionWizard::TestPage);
        QCOMPARE(m_secrets
                     .read(ConnectionSecretKeys::token(QStringLiteral("keyed"),
                                                       QStringLiteral("keyed-1")))
                     .value_or(QByteArray()),
                 ApiKeyCanary);
        QVERIFY(key->text().isEmpty());
        auto* result = w<QLabel>(wizard, "testResult");
        QTRY_VERIFY_WITH_TIMEOUT(result->property("ok").isValid(), 15'000);
        QVERIFY2(result->property("ok").toBool(), qPrintable(result->text()));
        QCOMPARE(m_store->connection(QStringLiteral("keyed-1"))->status, QStringLiteral("ok"));
        click(wizard, "wizardFinish");
        QTRY_VERIFY(!page.wizard());

        // Test and Remove on the page, on the selected row (not the first one).
        ConnectionRecord first;
        first.name = QStringLiteral("aaa");
        first.provider = QStringLiteral("keyed");
        first.auth = QStringLiteral("api_key");
        QVERIFY(m_store->saveConnection(first).has_value());
        page.refresh();
        auto* list = child<QTreeWidget>(&page, QStringLiteral("connectionsList"));
        QList<QTreeWidgetItem*> found =
            list->findItems(QStringLiteral("keyed-1"), Qt::MatchExactly);
        QCOMPARE(found.size(), 1);
        list->setCurrentItem(found.first());
        QTest::mouseClick(child<QPushButton>(&page, QStringLiteral("connectionsTest")),
                          Qt::LeftButton);
        auto* message = child<QLabel>(&page, QStringLiteral("connectionsMessage"));
        QTRY_VERIFY_WITH_TIMEOUT(message->text().contains(QStringLiteral(": ok")), 15'000);
        Dialogs::setNextAnswer(QMessageBox::Yes);
        QTest::mouseClick(child<QPushButton>(&page, QStringLiteral("connectionsRemove")),
                          Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(message->text().startsWith(QStringLiteral("Removed")), 15'000);
        QCOMPARE(message->text(), QStringLiteral("Removed connection keyed-1"));
        QVERIFY2(!message->text().contains(QStringLiteral("not")), qPrintable(message->text()));
        QVERIFY(!m_store->connection(QStringLiteral("keyed-1")).has_value());
        QVERIFY(!m_secrets
                     .read(ConnectionSecretKeys::token(QStringLiteral("keyed"),
                                                       QStringLiteral("keyed-1")))
                     .has_value());
        QVERIFY(m_store->connection(QStringLiteral("aaa")).has_value());
    }

    void noSecretAnywhere()
    {
        const QByteArray store = storeFile();
        QVERIFY(!store.isEmpty());
        QByteArray log;
        {
            QMutexLocker lock(&logMutex);
            log = logText;
        }
        int checked = 0;
        for (const QByteArray& secret : std::as_const(m_seenSecrets)) {
            if (secret.size() < 8)
                continue;
            ++checked;
            for (const QByteArray& form :
                 {secret, QByteArray(QUrl::toPercentEncoding(QString::fromLatin1(secret))),
                  secret.toBase64()}) {
                QVERIFY2(!store.contains(form), "a secret is in the store file");
                QVERIFY2(!log.contains(form), "a secret is in the test log");
            }
        }
        QVERIFY(checked >= 4);
    }

    void cleanupTestCase()
    {
        qInstallMessageHandler(previousHandler);
        m_store.reset();
        m_server.stop();
    }
};

QTEST_MAIN(tst_ConnectionWizard)
#include "tst_ConnectionWizard.moc"
