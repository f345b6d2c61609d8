// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// SIGKILL a writer at random moments: every committed run must be whole, nothing half-written
// may survive, and committed work never disappears.
#include "TestSupport.h"
#include "vivarium/core/Store.h"

#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

namespace {

constexpr int EventsPerRun = 50;
constexpr int Iterations = 25;

/** Invariants read in one statement, hence from one consistent snapshot. */
struct Snapshot
{
    qint64 runs = -1;
    qint64 badRuns = -1; ///< runs without exactly K events numbered 1..K, or not succeeded
    qint64 orphanEvents = -1;
    QString error;
};

Snapshot snapshot(const QString& path)
{
    static int counter = 0;
    const QString name = QStringLiteral("crash-check-%1").arg(++counter);
    Snapshot s;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        if (!db.open()) {
            s.error = db.lastError().text();
        } else {
            QSqlQuery q(db);
            const QString sql =
                QStringLiteral(
                    "SELECT (SELECT count(*) FROM runs), "
                    "(SELECT count(*) FROM (SELECT r.id, r.status, count(e.seq) AS n, "
                    "  min(e.seq) AS lo, max(e.seq) AS hi FROM runs r "
                    "  LEFT JOIN run_events e ON e.run_id = r.id GROUP BY r.id) "
                    "  WHERE n != %1 OR lo != 1 OR hi != %1 OR status != 'succeeded'), "
                    "(SELECT count(*) FROM run_events WHERE run_id NOT IN (SELECT id FROM runs))")
                    .arg(EventsPerRun);
            if (q.exec(sql) && q.next()) {
                s.runs = q.value(0).toLongLong();
                s.badRuns = q.value(1).toLongLong();
                s.orphanEvents = q.value(2).toLongLong();
            } else {
                s.error = q.lastError().text();
            }
        }
    }
    QSqlDatabase::removeDatabase(name);
    return s;
}

} // namespace

class TestStoreCrash : public QObject
{
    Q_OBJECT

private slots:
    void survivesSigkill();
};

void TestStoreCrash::survivesSigkill()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("vivarium.db"));
    const QString writer = testsupport::bin(QStringLiteral("store_crash_writer"));
    QVERIFY2(QFileInfo(writer).isExecutable(), qPrintable(writer));

    bool seedOk = false;
    quint32 seed = qEnvironmentVariable("VIVARIUM_TEST_SEED").toUInt(&seedOk);
    if (!seedOk)
        seed = QRandomGenerator::global()->generate();
    qInfo() << "seed" << seed << "(set VIVARIUM_TEST_SEED to replay)";
    QRandomGenerator rng(seed);

    qint64 previousRuns = 0;
    for (int i = 0; i < Iterations; ++i) {
        QProcess p;
        p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p.start(writer, {path, QString::number(EventsPerRun)});
        QVERIFY2(p.waitForStarted(10000), qPrintable(p.errorString()));

        const bool last = i == Iterations - 1;
        if (last) {
            // Make sure at least one run gets through, however slow the machine.
            QVERIFY(p.waitForReadyRead(60000));
        } else {
            const int delayMs = rng.bounded(20, 301);
            QTest::qWait(delayMs / 2);
            // Read while the writer runs: a snapshot never shows a half-written run.
            if (i % 3 == 0 && QFileInfo::exists(path)) {
                const Snapshot live = snapshot(path);
                if (!live.error.isEmpty())
                    qInfo() << "live snapshot skipped:" << live.error; // e.g. mid-migration
                if (live.error.isEmpty()) {
                    QCOMPARE(live.badRuns, 0);
                    QCOMPARE(live.orphanEvents, 0);
                    QVERIFY(live.runs >= previousRuns);
                }
            }
            QTest::qWait(delayMs - delayMs / 2);
        }
        QVERIFY2(p.state() == QProcess::Running,
                 qPrintable(QStringLiteral("writer exited early with %1").arg(p.exitCode())));
        p.kill();
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        {
            auto store = Store::open(path);
            QVERIFY2(store.has_value(), qPrintable(store ? QString() : store.error().toString()));
            auto ok = (*store)->integrityCheck();
            QVERIFY(ok.has_value());
            QVERIFY(*ok);

            // Through the API as well: the newest run is complete.
            auto newest = (*store)->runs(RunFilter{{}, {}, {}, 1});
            QVERIFY(newest.has_value());
            if (!newest->isEmpty()) {
                auto events = (*store)->events(newest->first().id);
                QVERIFY(events.has_value());
                QCOMPARE(events->size(), EventsPerRun);
                for (qsizetype e = 0; e < events->size(); ++e)
                    QCOMPARE(events->at(e).seq, qint64(e + 1));
            }
        }
        const Snapshot after = snapshot(path);
        QVERIFY2(after.error.isEmpty(), qPrintable(after.error));
        QCOMPARE(after.badRuns, 0);
        QCOMPARE(after.orphanEvents, 0);
        QVERIFY2(after.runs >= previousRuns,
                 qPrintable(
                     QStringLiteral("runs went from %1 to %2").arg(previousRuns).arg(after.runs)));
        previousRuns = after.runs;
    }
    qInfo() << previousRuns << "runs committed across" << Iterations << "kills";
    QVERIFY(previousRuns > 0);
}

QTEST_GUILESS_MAIN(TestStoreCrash)
#include "tst_StoreCrash.moc"
