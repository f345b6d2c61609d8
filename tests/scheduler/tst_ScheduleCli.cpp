// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// `vivarium schedule ...` and a real `vivarium serve` firing a schedule every second.
#include "TestSupport.h"

#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace testsupport;

namespace {

// The endpoint is never configured: every run fails at once, which is all a fire needs.
const char* kAgent = R"({"id": "ticker", "name": "Ticker", "prompt": "Tick.",
 "model": {"endpoint": "nowhere", "name": "m"},
 "schedules": [{"cron": "0 9 * * 1-5", "tz": "Europe/Paris"}]})";

bool startServe(QProcess& p, const QString& dataDir, QByteArray* log)
{
    p.setProgram(bin(QStringLiteral("vivarium")));
    p.setArguments({QStringLiteral("serve"), QStringLiteral("--data-dir"), dataDir});
    p.start();
    if (!p.waitForStarted(10000))
        return false;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 15000) {
        p.waitForReadyRead(200);
        *log += p.readAllStandardError();
        if (log->contains("engine ready"))
            return true;
        if (p.state() != QProcess::Running)
            return false;
    }
    return false;
}

/** Runs whose trigger is schedule:<id>, via `runs list --json`. */
QJsonArray scheduleRuns(const QString& data, const QString& id)
{
    const auto r =
        runCli(data, {QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--json"),
                      QStringLiteral("--limit"), QStringLiteral("1000")});
    QJsonArray out;
    for (const QJsonValue v : QJsonDocument::fromJson(r.out).array())
        if (v.toObject().value(QStringLiteral("trigger")).toString() ==
            QStringLiteral("schedule:") + id)
            out << v;
    return out;
}

} // namespace

class TestScheduleCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_data;

    void addAgent()
    {
        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("ticker/agent.json")), kAgent));
        const auto r = runCli(m_data, {QStringLiteral("agent"), QStringLiteral("add"),
                                       m_tmp.filePath(QStringLiteral("ticker"))});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    }

private slots:
    void init()
    {
        static int n = 0;
        m_data = m_tmp.filePath(QStringLiteral("data%1").arg(++n));
    }

    void badInputIsAUsageError_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("mentions");
        QTest::newRow("cron out of range")
            << QStringList{QStringLiteral("--cron"), QStringLiteral("*/5 25 * * *")}
            << QStringList{QStringLiteral("cron:"), QStringLiteral("hour"),
                           QStringLiteral("\"25\"")};
        QTest::newRow("cron never fires")
            << QStringList{QStringLiteral("--cron"), QStringLiteral("0 0 30 2 *")}
            << QStringList{QStringLiteral("cron:"), QStringLiteral("never")};
        QTest::newRow("cron bad name")
            << QStringList{QStringLiteral("--cron"), QStringLiteral("0 9 * * fry")}
            << QStringList{QStringLiteral("cron:"), QStringLiteral("day-of-week"),
                           QStringLiteral("fry")};
        QTest::newRow("zone") << QStringList{QStringLiteral("--cron"), QStringLiteral("@daily"),
                                             QStringLiteral("--tz"),
                                             QStringLiteral("Mars/Olympus_Mons")}
                              << QStringList{QStringLiteral("tz:"),
                                             QStringLiteral("Mars/Olympus_Mons")};
        QTest::newRow("duration") << QStringList{QStringLiteral("--cron"), QStringLiteral("@daily"),
                                                 QStringLiteral("--misfire-max-age"),
                                                 QStringLiteral("10 minutes")}
                                  << QStringList{QStringLiteral("--misfire-max-age"),
                                                 QStringLiteral("10 minutes")};
        QTest::newRow("jitter") << QStringList{QStringLiteral("--cron"), QStringLiteral("@daily"),
                                               QStringLiteral("--jitter"), QStringLiteral("5x")}
                                << QStringList{QStringLiteral("--jitter"), QStringLiteral("5x")};
        QTest::newRow("overlap") << QStringList{QStringLiteral("--cron"), QStringLiteral("@daily"),
                                                QStringLiteral("--overlap"),
                                                QStringLiteral("sometimes")}
                                 << QStringList{QStringLiteral("overlap:"),
                                                QStringLiteral("sometimes")};
        QTest::newRow("input") << QStringList{QStringLiteral("--cron"), QStringLiteral("@daily"),
                                              QStringLiteral("--input"), QStringLiteral("{nope")}
                               << QStringList{QStringLiteral("--input")};
        QTest::newRow("no cron") << QStringList{} << QStringList{QStringLiteral("--cron")};
    }

    void badInputIsAUsageError()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, mentions);
        addAgent();
        const auto r = runCli(m_data, QStringList{QStringLiteral("schedule"), QStringLiteral("add"),
                                                  QStringLiteral("ticker")} +
                                          args);
        QCOMPARE(r.exitCode, 2);
        for (const QString& m : mentions)
            QVERIFY2(QString::fromUtf8(r.err).contains(m), qPrintable(r.describe()));
        // Nothing was added.
        const auto list = runCli(
            m_data, {QStringLiteral("schedule"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(list.out).array().size(), 1); // the agent's own
    }

    void notFoundIsOne()
    {
        addAgent();
        auto r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("add"),
                                 QStringLiteral("nobody"), QStringLiteral("--cron"),
                                 QStringLiteral("@daily")});
        QCOMPARE(r.exitCode, 1);
        for (const char* cmd : {"rm", "pause", "resume"}) {
            r = runCli(m_data, {QStringLiteral("schedule"), QString::fromLatin1(cmd),
                                QStringLiteral("sch_nothere")});
            QCOMPARE(r.exitCode, 1);
            QVERIFY2(r.err.contains("sch_nothere"), qPrintable(r.describe()));
        }
        // An agent's own schedule goes by editing the agent.
        r = runCli(m_data,
                   {QStringLiteral("schedule"), QStringLiteral("rm"), QStringLiteral("ticker#1")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("edit the agent"), qPrintable(r.describe()));
        // A bad agent file schedule is refused before anything is saved.
        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("bad.json")),
                          R"({"id": "bad", "name": "Bad", "prompt": "x",
                              "model": {"endpoint": "e", "name": "m"},
                              "schedules": [{"cron": "0 0 31 4 *"}]})"));
        r = runCli(m_data, {QStringLiteral("agent"), QStringLiteral("add"),
                            m_tmp.filePath(QStringLiteral("bad.json"))});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("/schedules/0/cron"), qPrintable(r.describe()));
    }

    void listShowsNextFireInItsZone()
    {
        addAgent();
        auto r = runCli(
            m_data,
            {QStringLiteral("schedule"), QStringLiteral("add"), QStringLiteral("ticker"),
             QStringLiteral("--cron"), QStringLiteral("30 7 * * *"), QStringLiteral("--tz"),
             QStringLiteral("Asia/Kolkata"), QStringLiteral("--overlap"),
             QStringLiteral("queue_one"), QStringLiteral("--misfire"), QStringLiteral("skip"),
             QStringLiteral("--jitter"), QStringLiteral("1m30s"), QStringLiteral("--input"),
             QStringLiteral("{\"mode\": \"daily\"}"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QString id =
            QJsonDocument::fromJson(r.out).object().value(QStringLiteral("id")).toString();
        QVERIFY(id.startsWith(QLatin1String("sch_")));

        r = runCli(m_data,
                   {QStringLiteral("schedule"), QStringLiteral("list"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QJsonArray all = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(all.size(), 2);
        QJsonObject mine;
        QJsonObject own;
        for (const QJsonValue v : all)
            (v.toObject().value(QStringLiteral("id")).toString() == id ? mine : own) = v.toObject();
        QCOMPARE(mine.value(QStringLiteral("agent")).toString(), QStringLiteral("ticker"));
        QCOMPARE(mine.value(QStringLiteral("source")).toString(), QStringLiteral("cli"));
        QCOMPARE(mine.value(QStringLiteral("tz")).toString(), QStringLiteral("Asia/Kolkata"));
        QCOMPARE(mine.value(QStringLiteral("overlap")).toString(), QStringLiteral("queue_one"));
        QCOMPARE(mine.value(QStringLiteral("misfire")).toString(), QStringLiteral("skip"));
        QCOMPARE(mine.value(QStringLiteral("jitter_s")).toInt(), 90);
        QCOMPARE(mine.value(QStringLiteral("input")).toObject().value(QStringLiteral("mode")),
                 QJsonValue(QStringLiteral("daily")));
        QCOMPARE(mine.value(QStringLiteral("state")).toString(), QStringLiteral("active"));
        QVERIFY(!mine.value(QStringLiteral("explain")).toString().isEmpty());
        // Next fire: 07:30 in Kolkata, written with Kolkata's offset.
        const QString next = mine.value(QStringLiteral("next_fire")).toString();
        QVERIFY2(next.endsWith(QLatin1String("T07:30:00+05:30")), qPrintable(next));
        const auto expected =
            vivarium::CronExpression::parse(QStringLiteral("30 7 * * *"))
                ->next(QDateTime::currentDateTimeUtc(), QTimeZone("Asia/Kolkata"));
        QCOMPARE(next,
                 vivarium::ScheduleRules::formatInstant(*expected, QTimeZone("Asia/Kolkata")));

        QCOMPARE(own.value(QStringLiteral("id")).toString(), QStringLiteral("ticker#1"));
        QCOMPARE(own.value(QStringLiteral("source")).toString(), QStringLiteral("agent"));
        const QString ownNext = own.value(QStringLiteral("next_fire")).toString();
        QVERIFY2(ownNext.contains(QLatin1String("T09:00:00+01:00")) ||
                     ownNext.contains(QLatin1String("T09:00:00+02:00")),
                 qPrintable(ownNext));

        // The table says the same, zone included.
        r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("list"),
                            QStringLiteral("--agent"), QStringLiteral("ticker")});
        QVERIFY2(r.out.contains(next.toUtf8()) && r.out.contains("Asia/Kolkata") &&
                     r.out.contains("queue_one"),
                 qPrintable(r.describe()));
        r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("list"),
                            QStringLiteral("--agent"), QStringLiteral("nobody")});
        QCOMPARE(r.exitCode, 1);

        r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("pause"), id});
        QCOMPARE(r.exitCode, 0);
        r = runCli(m_data,
                   {QStringLiteral("schedule"), QStringLiteral("list"), QStringLiteral("--json")});
        for (const QJsonValue v : QJsonDocument::fromJson(r.out).array()) {
            if (v.toObject().value(QStringLiteral("id")).toString() == id) {
                QCOMPARE(v.toObject().value(QStringLiteral("state")).toString(),
                         QStringLiteral("paused"));
                QVERIFY(v.toObject().value(QStringLiteral("next_fire")).isNull());
            }
        }
        r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("rm"), id});
        QCOMPARE(r.exitCode, 0);
        r = runCli(m_data,
                   {QStringLiteral("schedule"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(r.out).array().size(), 1);
    }

    void serveFiresAndPauseStops()
    {
        addAgent();
        auto r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("add"),
                                 QStringLiteral("ticker"), QStringLiteral("--cron"),
                                 QStringLiteral("* * * * * *"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QString id =
            QJsonDocument::fromJson(r.out).object().value(QStringLiteral("id")).toString();

        QProcess serve;
        QByteArray log;
        QVERIFY2(startServe(serve, m_data, &log), log.constData());
        QElapsedTimer t;
        t.start();
        QJsonArray runs;
        while (t.elapsed() < 3500) {
            runs = scheduleRuns(m_data, id);
            if (!runs.isEmpty())
                break;
            QTest::qWait(200);
        }
        QVERIFY2(!runs.isEmpty(), log.constData());
        const QJsonObject first = runs.last().toObject();
        QVERIFY(!first.value(QStringLiteral("scheduled_for")).isNull());

        // Paused from another process: the engine's poll (every 2 s) picks it up.
        r = runCli(m_data, {QStringLiteral("schedule"), QStringLiteral("pause"), id});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QTest::qWait(2600);
        const qsizetype before = scheduleRuns(m_data, id).size();
        QTest::qWait(2000);
        const qsizetype after = scheduleRuns(m_data, id).size();
        QCOMPARE(after, before);

        serve.terminate();
        QVERIFY(serve.waitForFinished(15000));
        log += serve.readAllStandardError();
        QCOMPARE(serve.exitCode(), 0);
        QVERIFY2(log.contains("vivarium.scheduler.service"), log.constData());
    }
};

QTEST_GUILESS_MAIN(TestScheduleCli)
#include "tst_ScheduleCli.moc"
