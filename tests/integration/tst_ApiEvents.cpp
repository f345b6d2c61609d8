// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// GET /v1/runs/{id}/events against the real `vivarium serve --api` running real runs (the fake
// model vendor scripts a chatty agent): live delivery, replay, resume after a dropped
// connection with no gap and no duplicate (raw client, and the npm EventSource through a proxy
// that cuts connections mid-event), heartbeats, many clients on one run, JSON pages, runs
// queued by the CLI beside the server.
#include "ApiTestServer.h"
#include "SseClient.h"
#include "TestSupport.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace testsupport;

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray agentJson(const QString& id, const QString& endpoint)
{
    return QJsonDocument(
               QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("name"), id},
                           {QStringLiteral("prompt"), QStringLiteral("Write notes.")},
                           {QStringLiteral("model"),
                            QJsonObject{{QStringLiteral("endpoint"), endpoint},
                                        {QStringLiteral("name"), QStringLiteral("gpt-4o-mini")}}},
                           {QStringLiteral("sandbox"),
                            QJsonObject{{QStringLiteral("tier"), QStringLiteral("none")},
                                        {QStringLiteral("min_tier"), QStringLiteral("none")}}}})
        .toJson();
}

/** The chatty script: six tool turns and an answer, each a little apart. */
QByteArray chattyScript()
{
    QJsonArray turns;
    for (int i = 0; i < 6; ++i)
        turns << QJsonObject{
            {QStringLiteral("delay_ms"), 120},
            {QStringLiteral("tool_calls"),
             QJsonArray{QJsonObject{
                 {QStringLiteral("name"), QStringLiteral("file_write")},
                 {QStringLiteral("arguments"),
                  QJsonObject{{QStringLiteral("path"), QStringLiteral("n%1.txt").arg(i)},
                              {QStringLiteral("content"), QStringLiteral("note %1").arg(i)}}}}}}};
    turns << QJsonObject{{QStringLiteral("delay_ms"), 120},
                         {QStringLiteral("text"), QStringLiteral("all noted")}};
    return QJsonDocument(turns).toJson();
}

QList<qint64> seqs(const QList<SseEvent>& events)
{
    QList<qint64> out;
    for (const SseEvent& e : events)
        out << e.id.toLongLong();
    return out;
}

QList<qint64> oneTo(qint64 n)
{
    QList<qint64> out;
    for (qint64 i = 1; i <= n; ++i)
        out << i;
    return out;
}

} // namespace

class TestApiEvents : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<ApiTestServer> m_api;
    QByteArray m_key;

    ApiTestServer& api() { return *m_api; }

    QString startRun(const QString& agent)
    {
        const RawResponse r =
            api().call("POST", "/v1/runs", m_key, QJsonObject{{QStringLiteral("agent"), agent}});
        return r.json().object().value(QStringLiteral("id")).toString();
    }

    /** The journal as the JSON page API gives it: [(seq, type)]. */
    QList<QPair<qint64, QByteArray>> journal(const QString& run)
    {
        const RawResponse r =
            api().call("GET", "/v1/runs/" + run.toLatin1() + "/events?limit=1000", m_key,
                       QJsonValue::Undefined, {{"Accept", "application/json"}});
        QList<QPair<qint64, QByteArray>> out;
        for (const QJsonValue& v : r.json().object().value(QStringLiteral("events")).toArray())
            out << qMakePair(qint64(v.toObject().value(QStringLiteral("seq")).toDouble()),
                             v.toObject().value(QStringLiteral("type")).toString().toLatin1());
        return out;
    }

    std::unique_ptr<SseClient> follow(const QString& run, const Headers& extra = {},
                                      const QByteArray& query = {})
    {
        Headers h{{"Authorization", "Bearer " + m_key}, {"Accept", "text/event-stream"}};
        h += extra;
        return std::make_unique<SseClient>(api().port(),
                                           "/v1/runs/" + run.toLatin1() + "/events" + query, h);
    }

    static void checkFrames(const QList<SseEvent>& events)
    {
        for (const SseEvent& e : events) {
            const QJsonObject data = QJsonDocument::fromJson(e.data).object();
            QCOMPARE(qint64(data.value(QStringLiteral("seq")).toDouble()), e.id.toLongLong());
            QCOMPARE(data.value(QStringLiteral("type")).toString().toLatin1(), e.event);
            QVERIFY(data.contains(QStringLiteral("ts")) &&
                    data.value(QStringLiteral("data")).isObject());
        }
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_api = std::make_unique<ApiTestServer>(m_tmp.filePath(QStringLiteral("data")));
        const QString chatty = m_tmp.filePath(QStringLiteral("chatty.json"));
        const QString slow = m_tmp.filePath(QStringLiteral("slow.json"));
        QVERIFY(writeFile(chatty, chattyScript()));
        QVERIFY(writeFile(slow, "[{\"text\": \"slow\", \"delay_ms\": 2000}]"));
        const quint16 chattyPort = api().startFakeModel(chatty);
        const quint16 slowPort = api().startFakeModel(slow);
        QVERIFY(chattyPort && slowPort);
        for (const auto& [name, port] : {qMakePair(QStringLiteral("chatty"), chattyPort),
                                         qMakePair(QStringLiteral("slow"), slowPort)}) {
            auto r = runCli(api().dataDir(), {QStringLiteral("model"), QStringLiteral("add"), name,
                                              QStringLiteral("--api"), QStringLiteral("openai"),
                                              QStringLiteral("--base-url"),
                                              QStringLiteral("http://127.0.0.1:%1/v1").arg(port)});
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
            const QString file = m_tmp.filePath(name + QStringLiteral(".agent.json"));
            QVERIFY(writeFile(file, agentJson(name, name)));
            r = runCli(api().dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), file});
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        }
        m_key = api().createKey(QStringLiteral("events"),
                                {QStringLiteral("runs:read"), QStringLiteral("runs:write")});
        QVERIFY(!m_key.isEmpty());
        QVERIFY2(api().startServe({QStringLiteral("--sse-heartbeat"), QStringLiteral("0.3")}),
                 api().serveLog().constData());
    }

    void liveStreamDeliversEveryEventOnce()
    {
        const QString run = startRun(QStringLiteral("chatty"));
        QVERIFY(!run.isEmpty());
        auto client = follow(run);
        QTRY_VERIFY_WITH_TIMEOUT(client->ended(), 60000);
        QCOMPARE(client->status(), 200);
        QVERIFY(client->header("content-type").startsWith("text/event-stream"));
        QCOMPARE(client->header("transfer-encoding"), QByteArray("chunked"));
        QCOMPARE(client->retry(), QByteArray("2000"));
        const QList<SseEvent> events = client->events();
        QVERIFY2(events.size() >= 20, qPrintable(QString::number(events.size())));
        QCOMPARE(seqs(events), oneTo(events.size()));
        QCOMPARE(events.last().event, QByteArray("run.finished"));
        QCOMPARE(events.first().event, QByteArray("run.queued"));
        checkFrames(events);
        const auto stored = journal(run);
        QCOMPARE(stored.size(), events.size());
        for (qsizetype i = 0; i < stored.size(); ++i)
            QCOMPARE(stored.at(i).second, events.at(i).event);
    }

    void resumeAfterDroppedConnection()
    {
        const QString run = startRun(QStringLiteral("chatty"));
        auto first = follow(run);
        QTRY_VERIFY_WITH_TIMEOUT(first->events().size() >= 5, 30000);
        first->drop();
        const QList<SseEvent> before = first->events();
        // Resume with what EventSource sends, then once more with ?after=.
        auto second = follow(run, {{"Last-Event-ID", before.last().id}});
        QTRY_VERIFY_WITH_TIMEOUT(second->ended(), 60000);
        QList<SseEvent> all = before + second->events();
        QCOMPARE(seqs(all), oneTo(all.size()));
        QCOMPARE(all.last().event, QByteArray("run.finished"));
        QCOMPARE(all.size(), journal(run).size());
        auto third = follow(run, {}, "?after=" + before.at(2).id);
        QTRY_VERIFY_WITH_TIMEOUT(third->ended(), 30000);
        QCOMPARE(third->events().first().id.toLongLong(), before.at(2).id.toLongLong() + 1);
        QCOMPARE(third->events().last().event, QByteArray("run.finished"));
    }

    void endedRunReplaysThenSays204()
    {
        const QString run = startRun(QStringLiteral("chatty"));
        QVERIFY(!api().waitForRun(m_key, run).isEmpty());
        const auto stored = journal(run);
        auto replay = follow(run, {{"Last-Event-ID", "0"}});
        QTRY_VERIFY_WITH_TIMEOUT(replay->ended(), 30000);
        QCOMPARE(replay->events().size(), stored.size());
        // A client that has everything is told to stop (EventSource does not reconnect on 204).
        const RawResponse done = api().call(
            "GET", "/v1/runs/" + run.toLatin1() + "/events", m_key, QJsonValue::Undefined,
            {{"Last-Event-ID", QByteArray::number(stored.last().first)}});
        QCOMPARE(done.status, 204);
    }

    void heartbeatsOnAQuietStream()
    {
        const QString run = startRun(QStringLiteral("slow"));
        // Join once the run went quiet: the replay then holds events the server's store poll
        // also finds a second later, and the stream must not send them twice.
        QTest::qWait(400);
        auto client = follow(run);
        // The model answers after 2 s; heartbeats (every 0.3 s here) keep the stream alive.
        QTRY_VERIFY_WITH_TIMEOUT(client->comments() >= 4, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(client->ended(), 30000);
        QCOMPARE(client->events().last().event, QByteArray("run.finished"));
        // The quiet spell outlasted the server's store poll: still nothing twice.
        QCOMPARE(seqs(client->events()), oneTo(client->events().size()));
    }

    void manyClientsOnOneRun()
    {
        const QString run = startRun(QStringLiteral("chatty"));
        std::vector<std::unique_ptr<SseClient>> clients;
        for (int i = 0; i < 40; ++i)
            clients.push_back(follow(run));
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c->ended(); }),
            60000);
        const qsizetype n = journal(run).size();
        for (const auto& c : clients) {
            QCOMPARE(c->status(), 200);
            QCOMPARE(seqs(c->events()), oneTo(n));
        }
    }

    void jsonPages()
    {
        const QString run = startRun(QStringLiteral("chatty"));
        QVERIFY(!api().waitForRun(m_key, run).isEmpty());
        qint64 after = 0;
        QList<qint64> seen;
        bool finished = false;
        for (int page = 0; page < 50 && !finished; ++page) {
            const RawResponse r = api().call(
                "GET",
                "/v1/runs/" + run.toLatin1() + "/events?limit=5&after=" + QByteArray::number(after),
                m_key, QJsonValue::Undefined, {{"Accept", "application/json"}});
            QCOMPARE(r.status, 200);
            const QJsonObject o = r.json().object();
            const QJsonArray events = o.value(QStringLiteral("events")).toArray();
            QVERIFY(events.size() <= 5);
            for (const QJsonValue& e : events)
                seen << qint64(e.toObject().value(QStringLiteral("seq")).toDouble());
            after = qint64(o.value(QStringLiteral("next_after")).toDouble());
            finished = o.value(QStringLiteral("finished")).toBool();
            QCOMPARE(o.value(QStringLiteral("has_more")).toBool(), !finished);
        }
        QVERIFY(finished);
        QCOMPARE(seen, oneTo(seen.size()));
    }

    void cliRunBesideServeStreamsLive()
    {
        // `vivarium run` beside serve queues the run in the store; serve adopts and runs it,
        // and its events stream live like any other.
        QProcess cliRun;
        cliRun.start(bin(QStringLiteral("vivarium")),
                     {QStringLiteral("run"), QStringLiteral("chatty"), QStringLiteral("--data-dir"),
                      api().dataDir()});
        QVERIFY(cliRun.waitForStarted(10000));
        QString run;
        QTRY_VERIFY_WITH_TIMEOUT(!(run = api()
                                             .call("GET", "/v1/runs?trigger=cli&limit=1", m_key)
                                             .json()
                                             .object()
                                             .value(QStringLiteral("runs"))
                                             .toArray()
                                             .first()
                                             .toObject()
                                             .value(QStringLiteral("id"))
                                             .toString())
                                      .isEmpty(),
                                 20000);
        auto client = follow(run);
        QTRY_VERIFY_WITH_TIMEOUT(client->ended(), 60000);
        QCOMPARE(seqs(client->events()), oneTo(client->events().size()));
        QCOMPARE(client->events().last().event, QByteArray("run.finished"));
        // waitForFinished() answers false for a process that already ended.
        QVERIFY(cliRun.state() == QProcess::NotRunning || cliRun.waitForFinished(60000));
        QCOMPARE(cliRun.exitCode(), 0);
    }

    void npmEventSourceResumesThroughDrops()
    {
        const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
        const QString npmDir = QDir(sourceDir()).filePath(QStringLiteral("tests/npm"));
        if (node.isEmpty() || !QDir(npmDir).exists(QStringLiteral("node_modules/eventsource")))
            QSKIP("node or tests/npm/node_modules/eventsource missing (npm ci in tests/npm)");
        const QString run = startRun(QStringLiteral("chatty"));
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("VIVARIUM_NPM_DIR"), npmDir);
        p.setProcessEnvironment(env);
        p.start(node,
                {QDir(sourceDir()).filePath(QStringLiteral("tests/support/sse/sse_client.mjs")),
                 QStringLiteral("--url"),
                 QStringLiteral("http://127.0.0.1:%1/v1/runs/%2/events").arg(api().port()).arg(run),
                 QStringLiteral("--key"), QString::fromLatin1(m_key), QStringLiteral("--clients"),
                 QStringLiteral("3"), QStringLiteral("--drop-every"), QStringLiteral("4"),
                 QStringLiteral("--timeout-ms"), QStringLiteral("60000")});
        QVERIFY(p.waitForStarted(10000));
        QVERIFY(p.waitForFinished(90000));
        const QByteArray out = p.readAllStandardOutput();
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const auto stored = journal(run);
        QVERIFY(stored.size() >= 20);
        const QJsonArray clients =
            QJsonDocument::fromJson(out).object().value(QStringLiteral("clients")).toArray();
        QCOMPARE(clients.size(), 3);
        for (const QJsonValue& v : clients) {
            const QJsonObject c = v.toObject();
            QList<qint64> ids;
            for (const QJsonValue& id : c.value(QStringLiteral("ids")).toArray())
                ids << qint64(id.toDouble());
            QCOMPARE(ids, oneTo(stored.size())); // no gap, no duplicate, across every drop
            QVERIFY2(c.value(QStringLiteral("drops")).toInt() >= 3, out.constData());
            QVERIFY(c.value(QStringLiteral("closed")).toBool()); // 204 stopped it after the end
            QVERIFY(!c.contains(QStringLiteral("mismatch")));
            QCOMPARE(c.value(QStringLiteral("types")).toArray().last().toString(),
                     QStringLiteral("run.finished"));
        }
    }
};

QTEST_GUILESS_MAIN(TestApiEvents)
#include "tst_ApiEvents.moc"
