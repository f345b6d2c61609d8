// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// `vivarium serve`: one engine per data directory, recovery of live runs, clean stop.
#include "TestSupport.h"

#include "vivarium/core/Store.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace testsupport;

namespace {

const char* kAgent = R"({"id": "hello", "name": "Hello", "prompt": "Say hello.",
 "model": {"endpoint": "local", "name": "llama3.1"}})";

/** Start `vivarium serve` and wait for its ready line; stderr collected in `log`. */
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

} // namespace

class TestServe : public QObject
{
    Q_OBJECT
private slots:
    void secondEngineNamesHolderPid()
    {
        QTemporaryDir tmp;
        const QString data = tmp.filePath(QStringLiteral("d"));
        QProcess first;
        QByteArray log;
        QVERIFY2(startServe(first, data, &log), log.constData());

        const auto second = runCli(data, {QStringLiteral("serve")}, {}, 15000);
        QVERIFY2(!second.timedOut, qPrintable(second.describe()));
        QCOMPARE(second.exitCode, 1);
        QVERIFY2(second.err.contains(QByteArray("pid " + QByteArray::number(first.processId()))),
                 qPrintable(second.describe()));

        // Admin commands keep working beside the running engine.
        QVERIFY(writeFile(tmp.filePath(QStringLiteral("a/agent.json")), kAgent));
        auto r = runCli(data, {QStringLiteral("agent"), QStringLiteral("add"),
                               tmp.filePath(QStringLiteral("a"))});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        r = runCli(data,
                   {QStringLiteral("agent"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(r.out).array().size(), 1);
        r = runCli(data, {QStringLiteral("doctor"), QStringLiteral("--json")});
        QVERIFY(r.out.contains(QByteArray::number(first.processId())));

        // SIGTERM: a clean stop, exit 0.
        first.terminate();
        QVERIFY(first.waitForFinished(10000));
        QCOMPARE(first.exitStatus(), QProcess::NormalExit);
        QCOMPARE(first.exitCode(), 0);
        log += first.readAllStandardError();
        QVERIFY2(log.contains("engine stopped"), log.constData());

        // The directory is free again.
        QProcess third;
        QByteArray log3;
        QVERIFY2(startServe(third, data, &log3), log3.constData());
        third.terminate();
        QVERIFY(third.waitForFinished(10000));
    }

    void killedEngineLeavesNoStaleLockAndRunsBecomeInterrupted()
    {
        QTemporaryDir tmp;
        const QString data = tmp.filePath(QStringLiteral("d"));
        QVERIFY(writeFile(tmp.filePath(QStringLiteral("a/agent.json")), kAgent));
        QCOMPARE(runCli(data, {QStringLiteral("agent"), QStringLiteral("add"),
                               tmp.filePath(QStringLiteral("a"))})
                     .exitCode,
                 0);

        QProcess engine;
        QByteArray log;
        QVERIFY2(startServe(engine, data, &log), log.constData());

        // Runs the engine was "running" when it dies (planted through the store).
        QStringList live;
        QString done;
        {
            auto store = vivarium::Store::open(data + QStringLiteral("/vivarium.db"));
            QVERIFY(store.has_value());
            vivarium::NewRun nr;
            nr.agentId = QStringLiteral("hello");
            nr.trigger = QStringLiteral("test");
            for (auto s : {vivarium::RunStatus::Queued, vivarium::RunStatus::Running}) {
                auto run = (*store)->createRun(nr);
                QVERIFY(run.has_value());
                if (s != vivarium::RunStatus::Queued)
                    QVERIFY((*store)->setRunStatus(run->id, s).has_value());
                live << run->id;
            }
            auto finished = (*store)->createRun(nr);
            QVERIFY(finished.has_value());
            QVERIFY(
                (*store)->setRunStatus(finished->id, vivarium::RunStatus::Succeeded).has_value());
            done = finished->id;
        }
        ::kill(pid_t(engine.processId()), SIGKILL);
        QVERIFY(engine.waitForFinished(10000));

        QProcess again;
        QByteArray log2;
        QVERIFY2(startServe(again, data, &log2), log2.constData());
        QVERIFY2(log2.contains("2 run(s) left live"), log2.constData());
        again.terminate();
        QVERIFY(again.waitForFinished(10000));

        auto store = vivarium::Store::open(data + QStringLiteral("/vivarium.db"));
        QVERIFY(store.has_value());
        for (const QString& id : live) {
            auto run = (*store)->run(id);
            QVERIFY(run.has_value());
            QCOMPARE(vivarium::runStatusName(run->status), QStringLiteral("interrupted"));
            QVERIFY(!run->reason.isEmpty());
            QVERIFY(run->finishedAt.isValid());
        }
        QCOMPARE(vivarium::runStatusName((*store)->run(done)->status), QStringLiteral("succeeded"));
    }
};

QTEST_GUILESS_MAIN(TestServe)
#include "tst_Serve.moc"
