// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The `vivarium` CLI as a script drives it: outputs, --json, exit codes, error lines.
#include "TestSupport.h"

#include "vivarium/core/Store.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace testsupport;

namespace {

QJsonDocument json(const ProcessResult& r)
{
    return QJsonDocument::fromJson(r.out);
}

const char* kAgent = R"({"id": "hello", "name": "Hello", "prompt": "Say hello.",
 "model": {"endpoint": "local", "name": "llama3.1"}})";

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString dataDir() const { return m_tmp.filePath(QStringLiteral("data")); }
    QString examples() const { return sourceDir() + QStringLiteral("/resources/examples"); }

private slots:
    void version()
    {
        const auto r = runProcess(bin(QStringLiteral("vivarium")), {QStringLiteral("--version")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.trimmed(), QByteArray("vivarium " VIVARIUM_VERSION));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("stderrContains");
        QTest::newRow("no command") << QStringList{} << "Usage: vivarium";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command";
        QTest::newRow("group without sub") << QStringList{"agent"} << "missing subcommand";
        QTest::newRow("unknown sub") << QStringList{"agent", "launch"} << "unknown command";
        QTest::newRow("unknown option") << QStringList{"agent", "list", "--frob"} << "frob";
        QTest::newRow("missing path") << QStringList{"agent", "add"} << "missing argument";
        QTest::newRow("extra arg") << QStringList{"agent", "list", "x"} << "unexpected argument";
        QTest::newRow("bad version") << QStringList{"agent", "show", "x", "--version", "zero"}
                                     << "--version needs a positive integer";
        QTest::newRow("export without -o") << QStringList{"agent", "export", "x"} << "missing -o";
        QTest::newRow("bad status")
            << QStringList{"runs", "list", "--status", "happy"} << "unknown state";
        QTest::newRow("bad limit") << QStringList{"runs", "list", "--limit", "0"} << "--limit";
    }
    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, stderrContains);
        const auto r = runCli(dataDir(), args);
        QVERIFY2(r.exitCode == 2, qPrintable(r.describe()));
        QVERIFY2(QString::fromUtf8(r.err).contains(stderrContains), qPrintable(r.describe()));
    }

    void help()
    {
        const auto r = runCli(
            dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("PATH"));
        const auto g = runProcess(bin(QStringLiteral("vivarium")), {QStringLiteral("--help")});
        QCOMPARE(g.exitCode, 0);
        QVERIFY(g.out.contains("agent add"));
        QVERIFY(g.out.contains("doctor"));
    }

    void settings()
    {
        QTemporaryDir fresh;
        const QString d = fresh.filePath(QStringLiteral("d"));
        auto r = runCli(d, {QStringLiteral("settings"), QStringLiteral("get"),
                            QStringLiteral("runs.max_concurrent")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out.trimmed(), QByteArray("4"));
        r = runCli(d, {QStringLiteral("settings"), QStringLiteral("set"),
                       QStringLiteral("runs.max_concurrent"), QStringLiteral("0")});
        QVERIFY2(r.exitCode == 2, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("runs.max_concurrent") && r.err.contains("from 1 to 64"),
                 qPrintable(r.describe()));
        r = runCli(d, {QStringLiteral("settings"), QStringLiteral("set"), QStringLiteral("nope"),
                       QStringLiteral("1")});
        QVERIFY2(r.exitCode == 1 && r.err.contains("unknown setting"), qPrintable(r.describe()));
        r = runCli(d, {QStringLiteral("settings"), QStringLiteral("set"),
                       QStringLiteral("runs.max_concurrent"), QStringLiteral("2")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = runCli(d,
                   {QStringLiteral("settings"), QStringLiteral("list"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        bool found = false;
        for (const QJsonValue& v : json(r).array()) {
            const QJsonObject o = v.toObject();
            if (o.value(QStringLiteral("key")).toString() == QLatin1String("runs.max_concurrent")) {
                found = true;
                QCOMPARE(o.value(QStringLiteral("value")).toString(), QStringLiteral("2"));
                QCOMPARE(o.value(QStringLiteral("set")).toBool(), true);
            }
        }
        QVERIFY(found);
        r = runCli(d, {QStringLiteral("settings"), QStringLiteral("unset"),
                       QStringLiteral("runs.max_concurrent")});
        QVERIFY2(r.exitCode == 0 && r.out.contains("4 (default)"), qPrintable(r.describe()));
    }

    void emptyListings()
    {
        QTemporaryDir fresh;
        const QString d = fresh.filePath(QStringLiteral("d"));
        auto r = runCli(d, {QStringLiteral("agent"), QStringLiteral("list")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("No agents yet"));
        r = runCli(d, {QStringLiteral("agent"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(json(r).isArray());
        QCOMPARE(json(r).array().size(), 0);
        r = runCli(d, {QStringLiteral("runs"), QStringLiteral("list")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("No runs yet"));
    }

    // Warnings name what is really missing: the built-in gmail provider exists everywhere,
    // the "work" connection does not exist yet.
    void agentAddWarnsOnlyAboutWhatIsMissing()
    {
        const QString data = m_tmp.filePath(QStringLiteral("refs-data"));
        const auto r = runCli(data, {QStringLiteral("agent"), QStringLiteral("add"),
                                     examples() + QStringLiteral("/inbox-triage")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains("connection \"work\""), qPrintable(r.describe()));
        QVERIFY2(!r.err.contains("provider \"gmail\" is not"), qPrintable(r.describe()));
        QVERIFY2(!r.err.contains("/providers/0/provider"), qPrintable(r.describe()));
    }

    void agentLifecycle()
    {
        const QString dir = m_tmp.filePath(QStringLiteral("lifecycle"));
        const QString data = m_tmp.filePath(QStringLiteral("lifecycle-data"));
        QVERIFY(writeFile(dir + QStringLiteral("/agent.json"), kAgent));

        auto r = runCli(data, {QStringLiteral("agent"), QStringLiteral("add"), dir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(r.out.contains("Added agent hello (version 1)"));
        // The model endpoint is not configured on this machine: accepted with a warning.
        QVERIFY2(r.err.contains("warning") && r.err.contains("/model/endpoint"),
                 qPrintable(r.describe()));

        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("add"), dir});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("unchanged (version 1)"), qPrintable(r.describe()));

        QByteArray changed = kAgent;
        changed.replace("Say hello.", "Say hello twice.");
        QVERIFY(writeFile(dir + QStringLiteral("/agent.json"), changed));
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("add"), dir, QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(json(r).object().value(QStringLiteral("version")).toInt(), 2);
        QCOMPARE(json(r).object().value(QStringLiteral("created")).toBool(), true);

        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray list = json(r).array();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list.at(0)[QStringLiteral("id")].toString(), QStringLiteral("hello"));
        QCOMPARE(list.at(0)[QStringLiteral("version")].toInt(), 2);
        QCOMPARE(list.at(0)[QStringLiteral("model")][QStringLiteral("name")].toString(),
                 QStringLiteral("llama3.1"));

        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("list")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith("ID"));
        QVERIFY(r.out.contains("local/llama3.1"));

        // Older versions stay readable.
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("show"), QStringLiteral("hello"),
                    QStringLiteral("--version"), QStringLiteral("1"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(json(r)[QStringLiteral("version")].toInt(), 1);
        QCOMPARE(json(r)[QStringLiteral("latest_version")].toInt(), 2);
        QCOMPARE(json(r)[QStringLiteral("definition")][QStringLiteral("prompt")].toString(),
                 QStringLiteral("Say hello."));
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("show"), QStringLiteral("hello")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("Say hello twice."));
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("show"), QStringLiteral("hello"),
                          QStringLiteral("--version"), QStringLiteral("9")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(!r.err.isEmpty());

        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("versions"),
                          QStringLiteral("hello"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(json(r).array().size(), 2);

        // Export both ways; each re-imports as the identical definition (no new version).
        const QString outDir = m_tmp.filePath(QStringLiteral("exported"));
        const QString outJson = m_tmp.filePath(QStringLiteral("exported.json"));
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("export"),
                          QStringLiteral("hello"), QStringLiteral("-o"), outDir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(QFile::exists(outDir + QStringLiteral("/agent.json")));
        QVERIFY(QFile::exists(outDir + QStringLiteral("/prompt.md")));
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("export"),
                          QStringLiteral("hello"), QStringLiteral("-o"), outJson});
        QCOMPARE(r.exitCode, 0);
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("export"),
                          QStringLiteral("hello"), QStringLiteral("-o"), outJson});
        QCOMPARE(r.exitCode, 1); // refuses to overwrite
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("export"), QStringLiteral("hello"),
                    QStringLiteral("-o"), outJson, QStringLiteral("--force")});
        QCOMPARE(r.exitCode, 0);
        for (const QString& p : {outDir, outJson}) {
            r = runCli(data, {QStringLiteral("agent"), QStringLiteral("add"), p});
            QVERIFY2(r.exitCode == 0 && r.out.contains("unchanged (version 2)"),
                     qPrintable(r.describe()));
        }

        // Remove: gone from the list, history readable, re-add continues numbering.
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("rm"), QStringLiteral("hello")});
        QCOMPARE(r.exitCode, 0);
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(json(r).array().size(), 0);
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("show"), QStringLiteral("hello")});
        QCOMPARE(r.exitCode, 1);
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("rm"), QStringLiteral("hello")});
        QCOMPARE(r.exitCode, 1);
        r = runCli(data, {QStringLiteral("agent"), QStringLiteral("add"), dir});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("version 3"), qPrintable(r.describe()));
    }

    void badAgentFiles_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bad json") << QByteArray("{\"id\": \"x\",\n  \"name\": }")
                                  << "agent.json:2:";
        QTest::newRow("missing model")
            << QByteArray(R"({"id": "x", "name": "X", "prompt": "p"})") << "/model";
        QTest::newRow("wrong type")
            << QByteArray(
                   R"({"id": "x", "name": "X", "prompt": "p", "model": {"endpoint": "e", "name": "m"}, "limits": {"max_steps": "25"}})")
            << "/limits/max_steps";
        QTest::newRow("unknown provider field")
            << QByteArray(
                   R"({"id": "x", "name": "X", "prompt": "p", "model": {"endpoint": "e", "name": "m"}, "providers": [{"provider": "gmail", "scopez": []}]})")
            << "/providers/0/scopez";
    }
    void badAgentFiles()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        const QString file =
            m_tmp.filePath(QStringLiteral("bad/%1/agent.json").arg(QTest::currentDataTag()));
        QVERIFY(writeFile(file, content));
        const auto r = runCli(dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), file});
        QVERIFY2(r.exitCode == 2, qPrintable(r.describe()));
        QVERIFY2(QString::fromUtf8(r.err).contains(expected), qPrintable(r.describe()));
        QVERIFY2(r.err.startsWith("vivarium: "), qPrintable(r.describe()));
        // Nothing was stored.
        const auto list = runCli(
            dataDir(), {QStringLiteral("agent"), QStringLiteral("list"), QStringLiteral("--json")});
        for (const QJsonValue& v : json(list).array())
            QVERIFY(v[QStringLiteral("id")].toString() != QStringLiteral("x"));
    }

    void missingPath()
    {
        const auto r = runCli(dataDir(), {QStringLiteral("agent"), QStringLiteral("add"),
                                          m_tmp.filePath(QStringLiteral("nope"))});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("nope"));
    }

    void examplesLoad()
    {
        QDir ex(examples());
        QVERIFY2(ex.exists(), qPrintable(examples()));
        int added = 0;
        for (const QFileInfo& fi :
             ex.entryInfoList(QDir::Dirs | QDir::Files | QDir::NoDotAndDotDot)) {
            const auto r = runCli(
                dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), fi.absoluteFilePath()});
            QVERIFY2(r.exitCode == 0, qPrintable(fi.fileName() + r.describe()));
            ++added;
        }
        QVERIFY(added >= 2);
    }

    void runsListAndShow()
    {
        const QString data = m_tmp.filePath(QStringLiteral("runs-data"));
        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("r/agent.json")), kAgent));
        QCOMPARE(runCli(data, {QStringLiteral("agent"), QStringLiteral("add"),
                               m_tmp.filePath(QStringLiteral("r"))})
                     .exitCode,
                 0);
        QString runId;
        {
            auto store = vivarium::Store::open(data + QStringLiteral("/vivarium.db"));
            QVERIFY(store.has_value());
            vivarium::NewRun nr;
            nr.agentId = QStringLiteral("hello");
            nr.trigger = QStringLiteral("cli:test");
            nr.input = QJsonObject{{QStringLiteral("q"), 1}};
            auto run = (*store)->createRun(nr);
            QVERIFY(run.has_value());
            runId = run->id;
            QVERIFY((*store)->setRunStatus(runId, vivarium::RunStatus::Running).has_value());
            QVERIFY((*store)
                        ->setRunStatus(runId, vivarium::RunStatus::Succeeded, {},
                                       QJsonObject{{QStringLiteral("ok"), true}})
                        .has_value());
        }
        auto r = runCli(data,
                        {QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(json(r).array().size(), 1);
        QCOMPARE(json(r).array().at(0)[QStringLiteral("status")].toString(),
                 QStringLiteral("succeeded"));
        r = runCli(data, {QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--agent"),
                          QStringLiteral("hello")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains(runId.toUtf8()));
        r = runCli(data, {QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--agent"),
                          QStringLiteral("nobody")});
        QCOMPARE(r.exitCode, 1);
        r = runCli(data, {QStringLiteral("runs"), QStringLiteral("show"), runId,
                          QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(json(r)[QStringLiteral("output")][QStringLiteral("ok")].toBool(), true);
        r = runCli(data, {QStringLiteral("runs"), QStringLiteral("show"), runId});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("succeeded"));
        r = runCli(data,
                   {QStringLiteral("runs"), QStringLiteral("show"), QStringLiteral("run_nope")});
        QCOMPARE(r.exitCode, 1);
    }

    void dataDirFromEnvironment()
    {
        const QString envDir = m_tmp.filePath(QStringLiteral("from-env"));
        QProcessEnvironment env;
        env.insert(QStringLiteral("VIVARIUM_DATA_DIR"), envDir);
        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("e/agent.json")), kAgent));
        auto r = runProcess(
            bin(QStringLiteral("vivarium")),
            {QStringLiteral("agent"), QStringLiteral("add"), m_tmp.filePath(QStringLiteral("e"))},
            {}, 30000, env);
        QCOMPARE(r.exitCode, 0);
        QVERIFY(QFile::exists(envDir + QStringLiteral("/vivarium.db")));
        // --data-dir wins over the environment.
        const QString other = m_tmp.filePath(QStringLiteral("explicit"));
        r = runProcess(bin(QStringLiteral("vivarium")),
                       {QStringLiteral("--data-dir"), other, QStringLiteral("agent"),
                        QStringLiteral("list"), QStringLiteral("--json")},
                       {}, 30000, env);
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(json(r).array().size(), 0);
    }

    void doctor()
    {
        const QString fresh = m_tmp.filePath(QStringLiteral("doctor-fresh"));
        auto r = runCli(fresh, {QStringLiteral("doctor"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QJsonObject o = json(r).object();
        QCOMPARE(o[QStringLiteral("data_dir")][QStringLiteral("exists")].toBool(), false);
        QVERIFY(!QFile::exists(fresh)); // doctor creates nothing
        QStringList features;
        for (const QJsonValue& f : o[QStringLiteral("host")].toArray()) {
            features << f[QStringLiteral("feature")].toString();
            QVERIFY(!f[QStringLiteral("detail")].toString().isEmpty());
        }
        QVERIFY(features.contains(QStringLiteral("bwrap")));
        QVERIFY(features.contains(QStringLiteral("landlock")));

        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("dr/agent.json")), kAgent));
        QCOMPARE(runCli(fresh, {QStringLiteral("agent"), QStringLiteral("add"),
                                m_tmp.filePath(QStringLiteral("dr"))})
                     .exitCode,
                 0);
        r = runCli(fresh, {QStringLiteral("doctor")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("integrity ok") && r.out.contains("journal wal"),
                 qPrintable(r.describe()));
        QVERIFY(r.out.contains("not running"));
    }

    void corruptStoreIsReportedNotCrashed()
    {
        const QString data = m_tmp.filePath(QStringLiteral("corrupt"));
        QDir().mkpath(data);
        QByteArray garbage(8192, '\x5a');
        QVERIFY(writeFile(data + QStringLiteral("/vivarium.db"), garbage));
        const auto r = runCli(data, {QStringLiteral("agent"), QStringLiteral("list")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("vivarium.db"), qPrintable(r.describe()));
        QFile f(data + QStringLiteral("/vivarium.db"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), garbage); // untouched
    }

    void headlessBinaryHasNoGuiLibraries()
    {
        const auto r = runProcess(QStringLiteral("readelf"),
                                  {QStringLiteral("-d"), bin(QStringLiteral("vivarium"))});
        if (r.exitCode != 0)
            QSKIP("readelf not available");
        QVERIFY(r.out.contains("libQt6Core"));
        QVERIFY2(!r.out.contains("libQt6Widgets") && !r.out.contains("libQt6Gui"),
                 r.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_Cli.moc"
