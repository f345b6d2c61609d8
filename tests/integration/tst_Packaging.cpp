// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The Debian packages (installers/CMakeLists.txt): `cpack -G DEB` on this build directory,
// their control fields and contents, lintian (when installed), the systemd units, and the
// installed layout for real: the `vivarium` package extracted under a scratch root, its
// `vivarium serve --api` answering /v1/health, a run executed by the packaged runner, and a
// clean stop on SIGTERM.
#include "FakeModelServer.h"
#include "RawHttp.h"
#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace testsupport;

namespace {

const QString Version = QStringLiteral(VIVARIUM_VERSION);

QString arch()
{
    return QString::fromUtf8(
        runProcess(QStringLiteral("dpkg"), {QStringLiteral("--print-architecture")}).out.trimmed());
}

QString field(const QString& deb, const QString& name)
{
    const auto r = runProcess(QStringLiteral("dpkg-deb"), {QStringLiteral("--field"), deb, name});
    return QString::fromUtf8(r.out.trimmed());
}

/** `./usr/bin/vivarium` style paths of every entry in the package. */
QStringList contents(const QString& deb)
{
    const auto r = runProcess(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb});
    QStringList paths;
    for (const QByteArray& line : r.out.split('\n')) {
        const QList<QByteArray> cols = line.simplified().split(' ');
        if (cols.size() >= 6)
            paths << QString::fromUtf8(cols.at(5));
    }
    return paths;
}

/** The Depends field as package names (versions and alternatives dropped). */
QStringList dependsNames(const QString& depends)
{
    QStringList names;
    for (const QString& part : depends.split(QLatin1Char(','), Qt::SkipEmptyParts))
        for (const QString& alt : part.split(QLatin1Char('|')))
            names << alt.trimmed().section(QLatin1Char(' '), 0, 0).section(QLatin1Char(':'), 0, 0);
    return names;
}

} // namespace

class TestPackaging : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_out;
    QString m_deb;
    QString m_gui;
    QString m_root;

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        // An engine running as root (CI) starts sandboxes as an unprivileged uid, which must
        // reach the extracted runner as it reaches /usr/libexec in a real installation.
        QVERIFY(QFile::setPermissions(
            m_tmp.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                              QFileDevice::ReadGroup | QFileDevice::ExeGroup |
                              QFileDevice::ReadOther | QFileDevice::ExeOther));
        for (const char* tool : {"dpkg-deb", "dpkg-shlibdeps", "file"})
            if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
                QFAIL(qPrintable(QStringLiteral("%1 is missing (scripts/install-deps.sh "
                                                "installs it)")
                                     .arg(QLatin1String(tool))));
    }

    void cpackBuildsBothPackages()
    {
        m_out = m_tmp.filePath(QStringLiteral("out"));
        QElapsedTimer t;
        t.start();
        const auto r = runProcess(
            QStringLiteral(VIVARIUM_CPACK),
            {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"),
             QStringLiteral(VIVARIUM_BUILD_DIR "/CPackConfig.cmake"), QStringLiteral("-B"), m_out},
            {}, 400000);
        QVERIFY2(r.exitCode == 0 && !r.timedOut, qPrintable(r.describe()));
        qInfo("cpack -G DEB: %lld ms", t.elapsed());
        m_deb = m_out + QStringLiteral("/vivarium_%1_%2.deb").arg(Version, arch());
        QVERIFY2(QFile::exists(m_deb), qPrintable(QDir(m_out).entryList().join(u' ')));
        qInfo("vivarium .deb: %lld KiB", QFileInfo(m_deb).size() / 1024);
#ifdef VIVARIUM_PACKAGING_GUI
        m_gui = m_out + QStringLiteral("/vivarium-gui_%1_%2.deb").arg(Version, arch());
        QVERIFY2(QFile::exists(m_gui), qPrintable(QDir(m_out).entryList().join(u' ')));
        qInfo("vivarium-gui .deb: %lld KiB", QFileInfo(m_gui).size() / 1024);
#endif
    }

    void headlessPackage()
    {
        QVERIFY(!m_deb.isEmpty());
        QCOMPARE(field(m_deb, QStringLiteral("Package")), QStringLiteral("vivarium"));
        QCOMPARE(field(m_deb, QStringLiteral("Version")), Version);
        QVERIFY(!field(m_deb, QStringLiteral("Maintainer")).isEmpty());
        QVERIFY(!field(m_deb, QStringLiteral("Section")).isEmpty());
        QVERIFY(field(m_deb, QStringLiteral("Description")).contains(u'\n'));
        const QString depends = field(m_deb, QStringLiteral("Depends"));
        qInfo("vivarium Depends: %s", qPrintable(depends));
        const QStringList names = dependsNames(depends);
        QVERIFY2(names.contains(QStringLiteral("bubblewrap")), qPrintable(depends));
        // Plugins dpkg-shlibdeps cannot see: without the SQLite driver the store cannot open.
        QVERIFY2(names.contains(QStringLiteral("libqt6sql6-sqlite")), qPrintable(depends));
        // From dpkg-shlibdeps, not written by hand: Qt Core and the C library at least.
        QVERIFY2(names.contains(QStringLiteral("libqt6core6")), qPrintable(depends));
        QVERIFY2(names.contains(QStringLiteral("libc6")), qPrintable(depends));
        for (const QString& n : names)
            QVERIFY2(!n.contains(QStringLiteral("widgets")) &&
                         !n.startsWith(QStringLiteral("libqt6gui")),
                     qPrintable(depends));

        const QStringList files = contents(m_deb);
        for (const char* path :
             {"./usr/bin/vivarium", "./usr/libexec/vivarium/vivarium-runner",
              "./usr/libexec/vivarium/vivarium-sandbox-init",
              "./lib/systemd/system/vivarium.service", "./usr/lib/systemd/user/vivarium.service",
              "./usr/lib/sysusers.d/vivarium.conf", "./usr/share/doc/vivarium/copyright",
              "./usr/share/doc/vivarium/headless.md",
              "./usr/share/vivarium/examples/daily-digest.json"})
            QVERIFY2(
                files.contains(QString::fromLatin1(path)),
                qPrintable(QStringLiteral("%1 missing from %2").arg(QLatin1String(path), m_deb)));
        for (const QString& f : files) {
            QVERIFY2(!f.contains(QStringLiteral("vivarium-gui")), qPrintable(f));
            QVERIFY2(!f.startsWith(QStringLiteral("./usr/local")), qPrintable(f));
        }
        const auto scripts =
            runProcess(QStringLiteral("dpkg-deb"), {QStringLiteral("--info"), m_deb});
        for (const char* s : {"postinst", "prerm", "postrm"})
            QVERIFY2(scripts.out.contains(s), scripts.out.constData());
    }

    void guiPackage()
    {
#ifndef VIVARIUM_PACKAGING_GUI
        QSKIP("built with -DVIVARIUM_BUILD_GUI=OFF: no vivarium-gui package");
#else
        QCOMPARE(field(m_gui, QStringLiteral("Package")), QStringLiteral("vivarium-gui"));
        const QString depends = field(m_gui, QStringLiteral("Depends"));
        qInfo("vivarium-gui Depends: %s", qPrintable(depends));
        QVERIFY2(depends.contains(QStringLiteral("vivarium (= %1)").arg(Version)),
                 qPrintable(depends));
        QVERIFY2(dependsNames(depends).contains(QStringLiteral("libqt6widgets6")),
                 qPrintable(depends));
        // The SVG icon engine plugin: without it every icon of the app is blank.
        QVERIFY2(dependsNames(depends).contains(QStringLiteral("libqt6svg6")),
                 qPrintable(depends));
        const QStringList files = contents(m_gui);
        for (const char* path :
             {"./usr/bin/vivarium-gui", "./usr/share/applications/vivarium.desktop",
              "./usr/share/icons/hicolor/scalable/apps/vivarium.svg",
              "./usr/share/metainfo/dev.vivarium.Vivarium.metainfo.xml",
              "./usr/share/doc/vivarium-gui/copyright"})
            QVERIFY2(
                files.contains(QString::fromLatin1(path)),
                qPrintable(QStringLiteral("%1 missing from %2").arg(QLatin1String(path), m_gui)));
        for (const QString& f : files)
            QVERIFY2(f != QStringLiteral("./usr/bin/vivarium"), "the CLI belongs to vivarium");
#endif
    }

    /** lintian: every error fails the test; warnings are printed (no-manual-page is known). */
    void lintian()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("lintian")).isEmpty())
            QSKIP("lintian is not installed");
        QStringList debs{m_deb};
        if (!m_gui.isEmpty())
            debs << m_gui;
        const auto r = runProcess(
            QStringLiteral("lintian"),
            QStringList{QStringLiteral("--tag-display-limit"), QStringLiteral("0")} + debs, {},
            300000);
        QVERIFY2(!r.timedOut, "lintian timed out");
        qInfo().noquote() << "lintian:\n" + QString::fromUtf8(r.out + r.err);
        QStringList errors;
        for (const QByteArray& line : r.out.split('\n'))
            if (line.startsWith("E: "))
                errors << QString::fromUtf8(line);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    }

    void extractAndCheckUnits()
    {
        m_root = m_tmp.filePath(QStringLiteral("root"));
        auto r = runProcess(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), m_deb, m_root});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(QFileInfo(m_root + QStringLiteral("/usr/bin/vivarium")).isExecutable());
        // The packaged binary never needs Qt Widgets or Gui (DESIGN section 2).
        r = runProcess(QStringLiteral("objdump"),
                       {QStringLiteral("-p"), m_root + QStringLiteral("/usr/bin/vivarium")});
        if (r.exitCode == 0) {
            QVERIFY(r.out.contains("libQt6Core.so.6"));
            QVERIFY2(!r.out.contains("libQt6Widgets") && !r.out.contains("libQt6Gui"),
                     r.out.constData());
        }
        if (QStandardPaths::findExecutable(QStringLiteral("systemd-analyze")).isEmpty())
            QSKIP("systemd-analyze is not installed: units not verified");
        // Each unit as packaged, its ExecStart pointed into the extracted tree (so the check
        // that the program exists is about the package, not this host).
        const QList<QPair<QString, bool>> units{
            {QStringLiteral("/lib/systemd/system/vivarium.service"), false},
            {QStringLiteral("/usr/lib/systemd/user/vivarium.service"), true}};
        for (const auto& [unit, user] : units) {
            QFile f(m_root + unit);
            QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(unit));
            QByteArray text = f.readAll();
            QVERIFY(text.contains("ExecStart=/usr/bin/vivarium serve"));
            const QByteArray exec = "ExecStart=" + m_root.toUtf8() + "/usr/bin/vivarium";
            text.replace("ExecStart=/usr/bin/vivarium", exec);
            const QString dir = m_tmp.filePath(user ? QStringLiteral("units-user")
                                                    : QStringLiteral("units-system"));
            const QString copy = dir + QStringLiteral("/vivarium.service");
            QVERIFY(writeFile(copy, text));
            QStringList args{QStringLiteral("verify"), QStringLiteral("--man=no"), copy};
            if (user)
                args.prepend(QStringLiteral("--user"));
            // A user manager's paths need a runtime directory, even to verify.
            QProcessEnvironment env;
            const QString runtime = m_tmp.filePath(QStringLiteral("xdg-runtime"));
            QVERIFY(QDir().mkpath(runtime));
            env.insert(QStringLiteral("XDG_RUNTIME_DIR"), runtime);
            r = runProcess(QStringLiteral("systemd-analyze"), args, {}, 60000, env);
            QVERIFY2(r.exitCode == 0 && r.err.trimmed().isEmpty(), qPrintable(r.describe()));
        }
    }

    /** The extracted package is a working engine: health, a real run, a clean stop. */
    void extractedServeWorks()
    {
        QVERIFY(!m_root.isEmpty());
        const QString vivarium = m_root + QStringLiteral("/usr/bin/vivarium");
        const QString data = m_tmp.filePath(QStringLiteral("data"));
        auto cli = [&](const QStringList& args) {
            return runProcess(vivarium, QStringList{QStringLiteral("--data-dir"), data} + args);
        };
        FakeModelServer model;
        QVERIFY(model.start());
        model.setScript(QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("hi")}}});
        auto r =
            cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("fake"),
                 QStringLiteral("--api"), QStringLiteral("openai"), QStringLiteral("--base-url"),
                 model.openAiBaseUrl().toString(), QStringLiteral("--no-key")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("a.json")),
                          R"({"id": "hello", "name": "Hello", "prompt": "Say hi.",
                              "model": {"endpoint": "fake", "name": "m"}})"));
        r = cli({QStringLiteral("agent"), QStringLiteral("add"),
                 m_tmp.filePath(QStringLiteral("a.json"))});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = cli({QStringLiteral("api-key"), QStringLiteral("create"), QStringLiteral("t"),
                 QStringLiteral("--scope"), QStringLiteral("admin")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QByteArray key = r.out.trimmed();

        QProcess serve;
        serve.start(vivarium,
                    {QStringLiteral("serve"), QStringLiteral("--api"), QStringLiteral("--listen"),
                     QStringLiteral("127.0.0.1:0"), QStringLiteral("--data-dir"), data});
        QVERIFY(serve.waitForStarted(10000));
        QByteArray log;
        quint16 port = 0;
        QElapsedTimer t;
        t.start();
        static const QRegularExpression rx(
            QStringLiteral("HTTP API on http://127\\.0\\.0\\.1:(\\d+)"));
        while (!port && t.elapsed() < 20000 && serve.state() == QProcess::Running) {
            serve.waitForReadyRead(100);
            log += serve.readAllStandardError();
            if (const auto m = rx.match(QString::fromUtf8(log)); m.hasMatch())
                port = quint16(m.captured(1).toUInt());
        }
        QVERIFY2(port, log.constData());
        const qint64 startedMs = t.elapsed();
        const RawResponse health = rawExchange(port, rawRequest(port, "GET", "/v1/health"));
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json().object().value(QStringLiteral("status")).toString(),
                 QStringLiteral("ok"));
        qInfo("extracted serve: ready after %lld ms", startedMs);

        // The packaged runner (../libexec/vivarium) executes a run, in the default sandbox.
        const QList<QPair<QByteArray, QByteArray>> auth{{"Authorization", "Bearer " + key},
                                                        {"Content-Type", "application/json"}};
        RawResponse started =
            rawExchange(port, rawRequest(port, "POST", "/v1/runs", auth, R"({"agent": "hello"})"));
        QCOMPARE(started.status, 202);
        const QByteArray runId =
            started.json().object().value(QStringLiteral("id")).toString().toUtf8();
        const RawResponse done = rawExchange(
            port, rawRequest(port, "GET", "/v1/runs/" + runId + "?wait=30", auth), 40000);
        const QJsonObject run = done.json().object();
        QVERIFY2(run.value(QStringLiteral("status")).toString() == QStringLiteral("succeeded"),
                 done.body.constData());

        QElapsedTimer stop;
        stop.start();
        ::kill(pid_t(serve.processId()), SIGTERM);
        QVERIFY(serve.waitForFinished(30000)); // the default grace
        log += serve.readAllStandardError();
        QCOMPARE(serve.exitStatus(), QProcess::NormalExit);
        QCOMPARE(serve.exitCode(), 0);
        QVERIFY2(log.contains("engine stopped (signal 15)"), log.constData());
        qInfo("extracted serve: SIGTERM to exit %lld ms", stop.elapsed());
    }
};

QTEST_GUILESS_MAIN(TestPackaging)
#include "tst_Packaging.moc"
