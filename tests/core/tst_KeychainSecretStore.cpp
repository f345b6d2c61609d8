// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The keychain backend against a real GNOME Keyring on a private D-Bus session bus that this
// test starts (and nothing else can reach). Skips when the tools are missing unless
// REQUIRE_KEYCHAIN=1, as CI sets it, turns that into a failure.
#include "KeychainSecretStore.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"

#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <unistd.h>

using namespace vivarium;

namespace {

const QByteArray KeyringPassword = "vivarium-test-keyring";

bool required()
{
    return qgetenv("REQUIRE_KEYCHAIN") == "1";
}

QStringList s_logLines;
void captureLog(QtMsgType, const QMessageLogContext& ctx, const QString& msg)
{
    s_logLines << QString::fromLatin1(ctx.category) + QStringLiteral(": ") + msg;
}

KeychainSecretStore::Options quickOptions(int retryDelayMs = 200)
{
    KeychainSecretStore::Options o;
    o.timeoutMs = 10000;
    o.probeTimeoutMs = 5000;
    o.retryDelayMs = retryDelayMs;
    return o;
}

} // namespace

class TestKeychainSecretStore : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        const QString busTool = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
        const QString keyringTool =
            QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon"));
        if (busTool.isEmpty() || keyringTool.isEmpty()) {
            const QString why = QStringLiteral("dbus-daemon or gnome-keyring-daemon is not "
                                               "installed (scripts/install-deps.sh installs them)");
            if (required())
                QFAIL(qPrintable(why + QStringLiteral(" and REQUIRE_KEYCHAIN=1")));
            QSKIP(qPrintable(why));
        }
        m_keyringTool = keyringTool;
        QVERIFY(m_tmp.isValid());
        QDir(m_tmp.path()).mkpath(QStringLiteral("home"));
        QDir(m_tmp.path()).mkpath(QStringLiteral("run"));
        QFile::setPermissions(m_tmp.filePath(QStringLiteral("run")),
                              QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        // A bus of our own with no service directories: nothing gets activated behind our back,
        // so "no secret service" and "started late" are real states.
        const QString conf = m_tmp.filePath(QStringLiteral("bus.conf"));
        QVERIFY(testsupport::writeFile(
            conf,
            QStringLiteral("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
                           "Configuration 1.0//EN\" "
                           "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                           "<busconfig><type>session</type><listen>unix:dir=%1</listen>"
                           "<auth>EXTERNAL</auth><policy context=\"default\">"
                           "<allow send_destination=\"*\" eavesdrop=\"true\"/>"
                           "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>"
                           "</busconfig>\n")
                .arg(m_tmp.path())
                .toUtf8()));
        // --fork: the bus must outlive this process's exit path, because GLib's shared session
        // connection (libsecret's) ends the process when its bus goes away. A watchdog below
        // stops it once we are gone.
        const auto r = testsupport::runProcess(
            busTool,
            {QStringLiteral("--config-file=") + conf, QStringLiteral("--fork"),
             QStringLiteral("--print-address=1"), QStringLiteral("--print-pid=1")},
            {}, 10000);
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        if (r.exitCode != 0 || lines.size() < 2) {
            const QString why = QStringLiteral("cannot start a private D-Bus: ") + r.describe();
            if (required())
                QFAIL(qPrintable(why));
            QSKIP(qPrintable(why));
        }
        m_busAddress = QString::fromUtf8(lines.at(0).trimmed());
        m_busPid = QString::fromUtf8(lines.at(1).trimmed());
        QProcess::startDetached(
            QStringLiteral("/bin/sh"),
            {QStringLiteral("-c"),
             QStringLiteral("exec >/dev/null 2>&1 </dev/null; while kill -0 %1; do sleep 0.2; "
                            "done; kill %2")
                 .arg(::getpid())
                 .arg(m_busPid)});
        qputenv("DBUS_SESSION_BUS_ADDRESS", m_busAddress.toUtf8());
        m_dataRoot = m_tmp.filePath(QStringLiteral("data"));
    }

    void cleanupTestCase()
    {
        if (m_keyring) {
            m_keyring->terminate();
            if (!m_keyring->waitForFinished(5000))
                m_keyring->kill();
            m_keyring->waitForFinished(2000);
        }
    }

    void withoutSecretServiceAutoPicksTheVault()
    {
        // The bus is up but no keyring runs yet.
        KeychainSecretStore k(dataDir(QStringLiteral("none")), quickOptions());
        const auto probe = k.probe();
        QVERIFY(!probe.ok);
        QCOMPARE(probe.attempts, 2);
        QVERIFY(!probe.detail.isEmpty());

        const Paths paths(dataDir(QStringLiteral("none")));
        auto choice = SecretStore::openDefault(paths, QStringLiteral("auto"));
        QVERIFY2(choice.has_value(), choice ? "" : qPrintable(choice.error().message));
        QCOMPARE(choice->backend, QStringLiteral("vault"));
        QVERIFY2(choice->reason.contains(QStringLiteral("no secret service answered")),
                 qPrintable(choice->reason));
        QVERIFY(!QFile::exists(paths.dataDir() + QStringLiteral("/secrets.keychain")));

        auto strict = SecretStore::openDefault(Paths(dataDir(QStringLiteral("strict"))),
                                               QStringLiteral("keychain"));
        QVERIFY(!strict.has_value());
        QCOMPARE(strict.error().code, Error::Code::Unsupported);
        QVERIFY(strict.error().message.contains(QStringLiteral("secrets.backend is keychain")));
    }

    void aKeychainStartedLateIsFoundOnRetry()
    {
        KeychainSecretStore k(dataDir(QStringLiteral("late")), quickOptions(3000));
        // The keychain comes up while the first attempt has failed and the retry waits.
        QTimer::singleShot(300, this, [this] { startKeyring(); });
        const auto probe = k.probe();
        QVERIFY2(probe.ok, qPrintable(probe.detail));
        QCOMPARE(probe.attempts, 2);
        QVERIFY(probe.detail.contains(QStringLiteral("second try")));
        QVERIFY(m_keyring && m_keyring->state() == QProcess::Running);
    }

    void writeReadRemoveAndKeys()
    {
        requireKeyring();
        const QByteArray canary = "sk-keychain-CANARY-4b7e19d0";
        s_logLines.clear();
        QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*=true"));
        const auto previous = qInstallMessageHandler(captureLog);
        KeychainSecretStore k(dataDir(QStringLiteral("crud")), quickOptions());
        QCOMPARE(k.keys().value(), QStringList());
        QVERIFY(k.write(QStringLiteral("model-endpoint/a/api-key"), canary).has_value());
        QVERIFY(k.write(QStringLiteral("binary"), QByteArray("\0\x01\xfe\xff\n", 5)).has_value());
        QVERIFY(k.write(QStringLiteral("empty"), QByteArray()).has_value());
        QCOMPARE(k.read(QStringLiteral("model-endpoint/a/api-key")).value(), canary);
        QCOMPARE(k.read(QStringLiteral("binary")).value(), QByteArray("\0\x01\xfe\xff\n", 5));
        QCOMPARE(k.read(QStringLiteral("empty")).value(), QByteArray());
        QCOMPARE(k.keys().value(), (QStringList{QStringLiteral("binary"), QStringLiteral("empty"),
                                                QStringLiteral("model-endpoint/a/api-key")}));
        QVERIFY(k.write(QStringLiteral("binary"), "replaced").has_value());
        QCOMPARE(k.read(QStringLiteral("binary")).value(), QByteArray("replaced"));
        QCOMPARE(k.keys()->size(), 3);

        QVERIFY(k.remove(QStringLiteral("binary")).has_value());
        QCOMPARE(k.read(QStringLiteral("binary")).error().code, Error::Code::NotFound);
        QCOMPARE(k.remove(QStringLiteral("binary")).error().code, Error::Code::NotFound);
        QCOMPARE(k.keys().value(), (QStringList{QStringLiteral("empty"),
                                                QStringLiteral("model-endpoint/a/api-key")}));
        QCOMPARE(k.write(QStringLiteral("vivarium:index"), "x").error().code,
                 Error::Code::Validation);
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());

        // A second instance (another process, say) sees the same entries.
        KeychainSecretStore again(dataDir(QStringLiteral("crud")), quickOptions());
        QCOMPARE(again.read(QStringLiteral("model-endpoint/a/api-key")).value(), canary);
        QCOMPARE(again.keys()->size(), 2);

        // The canary is in no log line and in no file of the data directory.
        const QString logs = s_logLines.join(QLatin1Char('\n'));
        QVERIFY(!logs.toUtf8().contains(canary));
        QVERIFY(!logs.toUtf8().contains(canary.toBase64()));
        QDirIterator it(dataDir(QStringLiteral("crud")), QDir::Files | QDir::Hidden,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray bytes = f.readAll();
            QVERIFY2(!bytes.contains(canary) && !bytes.contains(canary.toBase64()),
                     qPrintable(f.fileName()));
        }
    }

    void dataDirectoriesDoNotCollide()
    {
        requireKeyring();
        const QString a = dataDir(QStringLiteral("scope-a"));
        const QString b = dataDir(QStringLiteral("scope-b"));
        KeychainSecretStore ka(a, quickOptions());
        KeychainSecretStore kb(b, quickOptions());
        QVERIFY(ka.service() != kb.service());
        QVERIFY(ka.service().startsWith(QStringLiteral("vivarium-")));
        QVERIFY(ka.write(QStringLiteral("same-name"), "from a").has_value());
        QVERIFY(kb.write(QStringLiteral("same-name"), "from b").has_value());
        QVERIFY(kb.write(QStringLiteral("only-b"), "b").has_value());
        QCOMPARE(ka.read(QStringLiteral("same-name")).value(), QByteArray("from a"));
        QCOMPARE(kb.read(QStringLiteral("same-name")).value(), QByteArray("from b"));
        QCOMPARE(ka.read(QStringLiteral("only-b")).error().code, Error::Code::NotFound);
        QCOMPARE(ka.keys().value(), QStringList{QStringLiteral("same-name")});
        QCOMPARE(kb.keys()->size(), 2);
        QVERIFY(ka.remove(QStringLiteral("same-name")).has_value());
        QCOMPARE(kb.read(QStringLiteral("same-name")).value(), QByteArray("from b"));
        // The same directory spelled differently is the same installation.
        QCOMPARE(KeychainSecretStore::serviceFor(a + QStringLiteral("/.")),
                 KeychainSecretStore::serviceFor(a));
    }

    void autoPicksTheKeychainWhenItAnswers()
    {
        requireKeyring();
        const Paths paths(dataDir(QStringLiteral("auto")));
        {
            auto choice = SecretStore::openDefault(paths, QStringLiteral("auto"));
            QVERIFY2(choice.has_value(), choice ? "" : qPrintable(choice.error().message));
            QCOMPARE(choice->backend, QStringLiteral("keychain"));
            QVERIFY2(choice->reason.contains(QStringLiteral("answered")),
                     qPrintable(choice->reason));
            QVERIFY(choice->store->write(QStringLiteral("k"), "in the keychain").has_value());
        }
        QVERIFY(!QFile::exists(paths.dataDir() + QStringLiteral("/vault.bin")));
        // Decided once: later opens keep the keychain without probing.
        auto again = SecretStore::openDefault(paths, QStringLiteral("auto"));
        QVERIFY(again.has_value());
        QCOMPARE(again->backend, QStringLiteral("keychain"));
        QCOMPARE(again->store->read(QStringLiteral("k")).value(), QByteArray("in the keychain"));
        const auto diag = SecretStore::diagnose(paths, QStringLiteral("auto"));
        QCOMPARE(diag.backend, QStringLiteral("keychain"));
        QVERIFY(diag.keychainAnswers);
        QVERIFY(diag.healthy);

        // An existing vault is kept by auto even though a keychain answers.
        const Paths withVault(dataDir(QStringLiteral("has-vault")));
        {
            auto v = SecretStore::openDefault(withVault, QStringLiteral("vault"));
            QVERIFY(v.has_value());
            QVERIFY(v->store->write(QStringLiteral("k"), "in the vault").has_value());
        }
        auto kept = SecretStore::openDefault(withVault, QStringLiteral("auto"));
        QVERIFY(kept.has_value());
        QCOMPARE(kept->backend, QStringLiteral("vault"));
        QCOMPARE(kept->store->read(QStringLiteral("k")).value(), QByteArray("in the vault"));

        // Explicit keychain works too.
        auto strict = SecretStore::openDefault(Paths(dataDir(QStringLiteral("explicit"))),
                                               QStringLiteral("keychain"));
        QVERIFY(strict.has_value());
        QCOMPARE(strict->backend, QStringLiteral("keychain"));
    }

    void withoutABusAutoPicksTheVault()
    {
        const QByteArray bus = qgetenv("DBUS_SESSION_BUS_ADDRESS");
        const QByteArray runtime = qgetenv("XDG_RUNTIME_DIR");
        qunsetenv("DBUS_SESSION_BUS_ADDRESS");
        qputenv("XDG_RUNTIME_DIR", m_tmp.filePath(QStringLiteral("run")).toUtf8());
        const Paths paths(dataDir(QStringLiteral("no-bus")));
        auto choice = SecretStore::openDefault(paths, QStringLiteral("auto"));
        const auto diag = SecretStore::diagnose(paths, QStringLiteral("auto"));
        qputenv("DBUS_SESSION_BUS_ADDRESS", bus);
        qputenv("XDG_RUNTIME_DIR", runtime);
        QVERIFY(choice.has_value());
        QCOMPARE(choice->backend, QStringLiteral("vault"));
        QVERIFY2(choice->reason.contains(QStringLiteral("no D-Bus session bus")),
                 qPrintable(choice->reason));
        QCOMPARE(diag.backend, QStringLiteral("vault"));
        QVERIFY(!diag.keychainAnswers);
    }

    void doctorSaysWhichBackendAndWhy()
    {
        requireKeyring();
        const QString vivarium = testsupport::bin(QStringLiteral("vivarium"));
        const QString dir = dataDir(QStringLiteral("doctor"));
        QProcessEnvironment env;
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_busAddress);
        auto r = testsupport::runProcess(
            vivarium,
            {QStringLiteral("doctor"), QStringLiteral("--json"), QStringLiteral("--data-dir"), dir},
            {}, 60000, env);
        QVERIFY2(!r.crashed && !r.timedOut, qPrintable(r.describe()));
        auto secrets =
            QJsonDocument::fromJson(r.out).object().value(QStringLiteral("secrets")).toObject();
        QCOMPARE(secrets.value(QStringLiteral("backend")).toString(), QStringLiteral("keychain"));
        QVERIFY(secrets.value(QStringLiteral("keychain_answers")).toBool());

        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
                   QStringLiteral("unix:path=") + m_tmp.filePath(QStringLiteral("no-such-bus")));
        r = testsupport::runProcess(
            vivarium,
            {QStringLiteral("doctor"), QStringLiteral("--json"), QStringLiteral("--data-dir"), dir},
            {}, 60000, env);
        QVERIFY2(!r.crashed && !r.timedOut, qPrintable(r.describe()));
        secrets =
            QJsonDocument::fromJson(r.out).object().value(QStringLiteral("secrets")).toObject();
        QCOMPARE(secrets.value(QStringLiteral("backend")).toString(), QStringLiteral("vault"));
        QVERIFY(!secrets.value(QStringLiteral("keychain_answers")).toBool());
        QVERIFY(!secrets.value(QStringLiteral("reason")).toString().isEmpty());
    }

private:
    QString dataDir(const QString& name) const { return m_dataRoot + QLatin1Char('/') + name; }

    void startKeyring()
    {
        m_keyring = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), m_tmp.filePath(QStringLiteral("home")));
        env.insert(QStringLiteral("XDG_DATA_HOME"),
                   m_tmp.filePath(QStringLiteral("home/.local/share")));
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), m_tmp.filePath(QStringLiteral("run")));
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_busAddress);
        m_keyring->setProcessEnvironment(env);
        m_keyring->setProcessChannelMode(QProcess::MergedChannels);
        m_keyring->start(m_keyringTool, {QStringLiteral("--foreground"), QStringLiteral("--unlock"),
                                         QStringLiteral("--components=secrets")});
        if (!m_keyring->waitForStarted(5000))
            return;
        m_keyring->write(KeyringPassword); // --unlock reads the login password from stdin
        m_keyring->closeWriteChannel();
    }

    /** Fails or skips the current test unless the keyring answers. */
    void requireKeyring()
    {
        if (!m_keyring)
            startKeyring();
        KeychainSecretStore k(dataDir(QStringLiteral("probe")), quickOptions(1500));
        const auto probe = k.probe();
        if (!probe.ok) {
            const QString why =
                QStringLiteral("gnome-keyring does not answer here: %1; output: %2")
                    .arg(probe.detail,
                         m_keyring ? QString::fromUtf8(m_keyring->readAll()) : QString());
            if (required())
                QFAIL(qPrintable(why));
            QSKIP(qPrintable(why));
        }
    }

    QTemporaryDir m_tmp;
    QString m_keyringTool;
    QString m_busAddress;
    QString m_busPid;
    QString m_dataRoot;
    std::unique_ptr<QProcess> m_keyring;
};

QTEST_GUILESS_MAIN(TestKeychainSecretStore)
#include "tst_KeychainSecretStore.moc"
