// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// End to end: the real `vivarium` (and through it the real runner) against a fake model vendor
// on 127.0.0.1: model endpoints, `vivarium run`, limits, the journal, the audit trail, a canary
// key that must surface nowhere, a killed engine, and cancellation beside a running engine.
#include "FakeModelServer.h"
#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace testsupport;

namespace {

const QByteArray Canary = "sk-canary-7f3a9c1e55d04b2b";

QJsonObject call(const QString& name, const QJsonObject& args, const QString& id = {})
{
    QJsonObject c{{QStringLiteral("name"), name},
                  {QStringLiteral("arguments"),
                   QString::fromUtf8(QJsonDocument(args).toJson(QJsonDocument::Compact))}};
    if (!id.isEmpty())
        c.insert(QStringLiteral("id"), id);
    return c;
}

QJsonObject toolTurn(const QJsonArray& calls)
{
    return {{QStringLiteral("tool_calls"), calls}};
}
QJsonObject textTurn(const QString& t)
{
    return {{QStringLiteral("text"), t}};
}

QByteArray agentJson(const QString& id, const QString& endpoint, const QJsonObject& limits = {},
                     const QString& model = QStringLiteral("gpt-4o-mini"))
{
    QJsonObject o{{QStringLiteral("id"), id},
                  {QStringLiteral("name"), QString(QStringLiteral("Agent ") + id)},
                  {QStringLiteral("prompt"), QStringLiteral("You keep notes in files.")},
                  {QStringLiteral("model"), QJsonObject{{QStringLiteral("endpoint"), endpoint},
                                                        {QStringLiteral("name"), model}}}};
    if (!limits.isEmpty())
        o.insert(QStringLiteral("limits"), limits);
    return QJsonDocument(o).toJson();
}

QJsonDocument json(const ProcessResult& r)
{
    return QJsonDocument::fromJson(r.out);
}

/** waitForFinished() answers false for a process that already ended; this does not. */
bool ended(QProcess& p, int timeoutMs)
{
    return p.state() == QProcess::NotRunning || p.waitForFinished(timeoutMs);
}

bool waitFor(const std::function<bool()>& cond, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (cond())
            return true;
        QTest::qWait(50);
    }
    return cond();
}

} // namespace

class TestRunCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    FakeModelServer m_server;
    QByteArrayList m_outputs; // every CLI output, scanned for the canary at the end
    int m_agents = 0;

    QString data() const { return m_tmp.filePath(QStringLiteral("data")); }

    ProcessResult cli(const QStringList& args, const QByteArray& in = {}, int timeoutMs = 60000)
    {
        ProcessResult r = runCli(data(), args, in, timeoutMs);
        m_outputs << r.out << r.err;
        return r;
    }

    /** Add an agent file and return its id. */
    QString addAgent(const QString& endpoint, const QJsonObject& limits = {},
                     const QString& model = QStringLiteral("gpt-4o-mini"))
    {
        const QString id = QStringLiteral("agent-%1").arg(++m_agents);
        const QString file = m_tmp.filePath(id + QStringLiteral(".json"));
        writeFile(file, agentJson(id, endpoint, limits, model));
        const auto r = cli({QStringLiteral("agent"), QStringLiteral("add"), file});
        if (r.exitCode != 0)
            qWarning().noquote() << r.describe();
        return id;
    }

    QJsonObject runJson(const QString& runId)
    {
        const auto r = cli({QStringLiteral("runs"), QStringLiteral("show"), runId,
                            QStringLiteral("--events"), QStringLiteral("--json")});
        return json(r).object();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_server.start());
        auto r =
            cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("fake"),
                 QStringLiteral("--api"), QStringLiteral("openai"), QStringLiteral("--base-url"),
                 m_server.openAiBaseUrl().toString(), QStringLiteral("--key-stdin")},
                Canary + "\n");
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("claude"),
                 QStringLiteral("--api"), QStringLiteral("anthropic"), QStringLiteral("--base-url"),
                 m_server.anthropicBaseUrl().toString(), QStringLiteral("--key-stdin")},
                Canary);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    }

    void modelEndpointsCli()
    {
        auto r = cli({QStringLiteral("model"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray list = json(r).array();
        QCOMPARE(list.size(), 2);
        for (const QJsonValue& e : list)
            QVERIFY(e[QStringLiteral("has_key")].toBool());
        r = cli({QStringLiteral("model"), QStringLiteral("list")});
        QVERIFY(r.out.contains("in vault"));
        r = cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("x"),
                 QStringLiteral("--api"), QStringLiteral("gemini"), QStringLiteral("--base-url"),
                 QStringLiteral("http://127.0.0.1:1/v1")});
        QCOMPARE(r.exitCode, 2);
        r = cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("x"),
                 QStringLiteral("--api"), QStringLiteral("openai"), QStringLiteral("--base-url"),
                 QStringLiteral("ftp://h/v1")});
        QCOMPARE(r.exitCode, 2);
        r = cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("tmp"),
                 QStringLiteral("--api"), QStringLiteral("openai"), QStringLiteral("--base-url"),
                 QStringLiteral("http://127.0.0.1:9/v1")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(
            cli({QStringLiteral("model"), QStringLiteral("rm"), QStringLiteral("tmp")}).exitCode,
            0);
        QCOMPARE(
            cli({QStringLiteral("model"), QStringLiteral("rm"), QStringLiteral("tmp")}).exitCode,
            1);
    }

    void toolErrorIsFedBackAndTheRunSucceeds_data()
    {
        QTest::addColumn<QString>("endpoint");
        QTest::newRow("openai") << "fake";
        QTest::newRow("anthropic") << "claude";
    }
    void toolErrorIsFedBackAndTheRunSucceeds()
    {
        QFETCH(QString, endpoint);
        const QString agent = addAgent(endpoint);
        m_server.setScript(
            QJsonArray{toolTurn({call(QStringLiteral("file_read"),
                                      {{QStringLiteral("path"), QStringLiteral("missing.txt")}})}),
                       toolTurn({call(QStringLiteral("file_write"),
                                      {{QStringLiteral("path"), QStringLiteral("notes.txt")},
                                       {QStringLiteral("content"), QStringLiteral("hello")}})}),
                       toolTurn({call(QStringLiteral("file_read"),
                                      {{QStringLiteral("path"), QStringLiteral("notes.txt")}})}),
                       textTurn(QStringLiteral("All done."))});
        m_server.clearRequests();
        const auto r = cli({QStringLiteral("run"), agent, QStringLiteral("--input"),
                            QStringLiteral("\"take notes\""), QStringLiteral("--follow")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("tool ERROR"), r.out.constData());
        QVERIFY(r.out.contains("All done."));
        // The default tier: bwrap (docs/sandbox.md), named in the timeline.
        QVERIFY2(r.out.contains("sandbox bwrap"), r.out.constData());
        QVERIFY(!r.out.contains("UNSANDBOXED"));

        // The model saw the error as a tool result, and the key only on the wire.
        const auto requests = m_server.requests();
        QCOMPARE(requests.size(), 4);
        const QByteArray second = requests.at(1).body;
        QVERIFY2(second.contains("missing.txt"), second.constData());
        for (const auto& req : requests) {
            const QByteArray auth = endpoint == QLatin1String("fake") ? req.header("authorization")
                                                                      : req.header("x-api-key");
            QVERIFY(auth.contains(Canary));
            QVERIFY(!req.body.contains(Canary));
        }

        // The journal: ordered, gap-free, error flagged, usage accounted.
        const QString runId = QString::fromUtf8(r.err)
                                  .section(QStringLiteral("run "), 1, 1)
                                  .section(QLatin1Char(' '), 0, 0);
        QVERIFY2(runId.startsWith(QStringLiteral("run_")), r.err.constData());
        const QJsonObject run = runJson(runId);
        QCOMPARE(run[QStringLiteral("status")].toString(), QStringLiteral("succeeded"));
        const QJsonArray events = run[QStringLiteral("events")].toArray();
        QVERIFY(events.size() >= 10);
        QStringList types;
        for (int i = 0; i < events.size(); ++i) {
            QCOMPARE(events.at(i)[QStringLiteral("seq")].toInt(), i + 1);
            types << events.at(i)[QStringLiteral("type")].toString();
        }
        QCOMPARE(types.first(), QStringLiteral("run.queued"));
        QCOMPARE(types.last(), QStringLiteral("run.finished"));
        for (const char* t : {"run.started", "llm.request", "llm.response", "tool.call",
                              "tool.result", "run.output"})
            QVERIFY2(types.contains(QLatin1String(t)), t);
        bool sawError = false;
        for (const QJsonValue& e : events)
            if (e[QStringLiteral("type")] == QStringLiteral("tool.result") &&
                e[QStringLiteral("data")][QStringLiteral("is_error")].toBool())
                sawError = true;
        QVERIFY(sawError);

        // The audit trail names the run's steps and still verifies.
        auto a = cli(
            {QStringLiteral("audit"), QStringLiteral("--run"), runId, QStringLiteral("--json")});
        QCOMPARE(a.exitCode, 0);
        QStringList actions;
        for (const QJsonValue& row : json(a).array())
            actions << row[QStringLiteral("action")].toString();
        for (const char* act : {"run.queued", "run.started", "llm.call", "run.finished"})
            QVERIFY2(actions.contains(QLatin1String(act)),
                     qPrintable(actions.join(QLatin1Char(','))));
        QCOMPARE(cli({QStringLiteral("audit"), QStringLiteral("--verify")}).exitCode, 0);
    }

    void limitsEndRuns_data()
    {
        QTest::addColumn<QJsonObject>("limits");
        QTest::addColumn<QJsonArray>("script");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("reason");
        QJsonArray loop;
        for (int i = 0; i < 6; ++i)
            loop << toolTurn({call(QStringLiteral("file_list"),
                                   {{QStringLiteral("path"), QStringLiteral(".")}})});
        QJsonArray distinct;
        for (int i = 0; i < 6; ++i)
            distinct << toolTurn({call(QStringLiteral("file_write"),
                                       {{QStringLiteral("path"), QStringLiteral("f%1").arg(i)},
                                        {QStringLiteral("content"), QStringLiteral("x")}})});
        QTest::newRow("max_steps")
            << QJsonObject{{QStringLiteral("max_steps"), 2}} << distinct << 1 << "max_steps";
        QTest::newRow("no_progress") << QJsonObject{} << loop << 1 << "no_progress";
        QTest::newRow("token_budget")
            << QJsonObject{{QStringLiteral("max_tokens"), 20}} << distinct << 1 << "token_budget";
        QTest::newRow("cost_budget") << QJsonObject{{QStringLiteral("max_cost_usd"), 0.0000001}}
                                     << distinct << 1 << "cost_budget";
        QTest::newRow("timeout") << QJsonObject{{QStringLiteral("timeout_s"), 2}}
                                 << QJsonArray{QJsonObject{{QStringLiteral("hang"), true}}} << 3
                                 << "wall clock";
    }
    void limitsEndRuns()
    {
        QFETCH(QJsonObject, limits);
        QFETCH(QJsonArray, script);
        QFETCH(int, exitCode);
        QFETCH(QString, reason);
        const QString agent = addAgent(QStringLiteral("fake"), limits);
        m_server.setScript(script);
        QElapsedTimer t;
        t.start();
        const auto r = cli({QStringLiteral("run"), agent, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
        QVERIFY2(json(r)[QStringLiteral("reason")].toString().contains(reason),
                 qPrintable(r.describe()));
        QVERIFY(t.elapsed() < 30000);
    }

    void missingPiecesFailClearly()
    {
        const QString agent = addAgent(QStringLiteral("nowhere"));
        auto r = cli({QStringLiteral("run"), agent});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("nowhere"), qPrintable(r.describe()));
        r = cli({QStringLiteral("run"), QStringLiteral("no-such-agent")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("no-such-agent"));
        r = cli(
            {QStringLiteral("run"), agent, QStringLiteral("--input"), QStringLiteral("{not json")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("--input"));
    }

    void deadModelServerFailsTheRun()
    {
        auto r = cli({QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("dead"),
                      QStringLiteral("--api"), QStringLiteral("openai"),
                      QStringLiteral("--base-url"), QStringLiteral("http://127.0.0.1:9/v1")});
        QCOMPARE(r.exitCode, 0);
        const QString agent = addAgent(QStringLiteral("dead"));
        r = cli({QStringLiteral("run"), agent, QStringLiteral("--json")}, {}, 120000);
        QVERIFY2(r.exitCode == 1, qPrintable(r.describe()));
        QVERIFY2(json(r)[QStringLiteral("reason")].toString().contains(QStringLiteral("llm_error")),
                 qPrintable(r.describe()));
    }

    void killedEngineLeavesAnInterruptedRunAndNoRunner()
    {
        const QString agent = addAgent(QStringLiteral("fake"));
        m_server.setScript(QJsonArray{QJsonObject{{QStringLiteral("hang"), true}}});
        QProcess serve;
        serve.start(bin(QStringLiteral("vivarium")),
                    {QStringLiteral("serve"), QStringLiteral("--data-dir"), data()});
        QVERIFY(serve.waitForStarted());
        QVERIFY(waitFor(
            [&] { return serve.readAllStandardError().contains("engine ready") || !serve.state(); },
            15000));

        QProcess follower;
        follower.start(bin(QStringLiteral("vivarium")),
                       {QStringLiteral("run"), agent, QStringLiteral("--data-dir"), data()});
        QVERIFY(follower.waitForStarted());
        QString runId;
        qint64 runnerPid = 0;
        QVERIFY2(
            waitFor(
                [&] {
                    auto r = runCli(data(),
                                    {QStringLiteral("runs"), QStringLiteral("list"),
                                     QStringLiteral("--agent"), agent, QStringLiteral("--json")});
                    const QJsonArray runs = json(r).array();
                    if (runs.isEmpty() ||
                        runs.at(0)[QStringLiteral("status")] != QStringLiteral("running"))
                        return false;
                    runId = runs.at(0)[QStringLiteral("id")].toString();
                    for (const QJsonValue& e : runJson(runId)[QStringLiteral("events")].toArray())
                        if (e[QStringLiteral("type")] == QStringLiteral("run.started"))
                            runnerPid =
                                e[QStringLiteral("data")][QStringLiteral("runner_pid")].toInteger();
                    return runnerPid > 0 && m_server.requestCount() > 0;
                },
                20000),
            "the run never reached the model");

        ::kill(pid_t(serve.processId()), SIGKILL);
        QVERIFY(ended(serve, 5000));
        // The runner dies with its engine.
        QVERIFY2(waitFor([&] { return ::kill(pid_t(runnerPid), 0) != 0; }, 5000),
                 "runner survived its engine");
        // The follower notices and says so.
        QVERIFY(ended(follower, 15000));
        QCOMPARE(follower.exitCode(), 3);

        QProcess again;
        again.start(bin(QStringLiteral("vivarium")),
                    {QStringLiteral("serve"), QStringLiteral("--data-dir"), data()});
        QVERIFY(
            waitFor([&] { return again.readAllStandardError().contains("engine ready"); }, 15000));
        again.terminate();
        QVERIFY(again.waitForFinished(15000));
        const QJsonObject run = runJson(runId);
        QCOMPARE(run[QStringLiteral("status")].toString(), QStringLiteral("interrupted"));
    }

    void cancelBesideARunningEngine()
    {
        const QString agent = addAgent(QStringLiteral("fake"));
        m_server.setScript(QJsonArray{QJsonObject{{QStringLiteral("hang"), true}}});
        QProcess serve;
        serve.start(bin(QStringLiteral("vivarium")),
                    {QStringLiteral("serve"), QStringLiteral("--data-dir"), data()});
        QVERIFY(
            waitFor([&] { return serve.readAllStandardError().contains("engine ready"); }, 15000));
        QProcess follower;
        follower.start(bin(QStringLiteral("vivarium")),
                       {QStringLiteral("run"), agent, QStringLiteral("--data-dir"), data()});
        QString runId;
        QVERIFY(waitFor(
            [&] {
                auto r =
                    runCli(data(), {QStringLiteral("runs"), QStringLiteral("list"),
                                    QStringLiteral("--agent"), agent, QStringLiteral("--json")});
                const QJsonArray runs = json(r).array();
                if (runs.isEmpty() ||
                    runs.at(0)[QStringLiteral("status")] != QStringLiteral("running"))
                    return false;
                runId = runs.at(0)[QStringLiteral("id")].toString();
                return true;
            },
            20000));
        qint64 runnerPid = 0;
        QVERIFY(waitFor(
            [&] {
                for (const QJsonValue& e : runJson(runId)[QStringLiteral("events")].toArray())
                    if (e[QStringLiteral("type")] == QStringLiteral("run.started"))
                        runnerPid =
                            e[QStringLiteral("data")][QStringLiteral("runner_pid")].toInteger();
                return runnerPid > 0;
            },
            10000));
        auto c = cli({QStringLiteral("runs"), QStringLiteral("cancel"), runId});
        QVERIFY2(c.exitCode == 0, qPrintable(c.describe()));
        QVERIFY(ended(follower, 15000));
        QCOMPARE(follower.exitCode(), 3);
        // The engine notices the cancel, stops the runner and closes the journal.
        QVERIFY2(waitFor([&] { return ::kill(pid_t(runnerPid), 0) != 0; }, 5000),
                 "runner still alive");
        QVERIFY(waitFor(
            [&] {
                const QJsonArray ev = runJson(runId)[QStringLiteral("events")].toArray();
                return !ev.isEmpty() &&
                       ev.last()[QStringLiteral("type")] == QStringLiteral("run.finished");
            },
            5000));
        QCOMPARE(runJson(runId)[QStringLiteral("status")].toString(), QStringLiteral("cancelled"));
        QCOMPARE(cli({QStringLiteral("runs"), QStringLiteral("cancel"), runId}).exitCode, 1);
        serve.terminate();
        QVERIFY(serve.waitForFinished(15000));
        QCOMPARE(serve.exitCode(), 0);
    }

    void canaryKeyAppearsNowhere()
    {
        // Every CLI output so far, every journal and audit row, every file of the data dir.
        auto all = cli({QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--json"),
                        QStringLiteral("--limit"), QStringLiteral("1000")});
        for (const QJsonValue& r : json(all).array())
            runJson(r[QStringLiteral("id")].toString());
        cli({QStringLiteral("audit"), QStringLiteral("--json"), QStringLiteral("--limit"),
             QStringLiteral("0")});
        for (const QByteArray& o : m_outputs)
            QVERIFY2(!o.contains(Canary), o.left(400).constData());
        int files = 0;
        QDirIterator it(data(), QDir::Files | QDir::Hidden | QDir::System,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            QFile f(path);
            if (!f.open(QIODevice::ReadOnly))
                continue;
            const QByteArray content = f.readAll();
            ++files;
            QVERIFY2(!content.contains(Canary), qPrintable(path));
            QVERIFY2(!content.contains(Canary.toBase64()), qPrintable(path));
        }
        QVERIFY(files > 3);
    }
};

QTEST_GUILESS_MAIN(TestRunCli)
#include "tst_RunCli.moc"
