// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The scheduler service under a controllable clock: overlap policies, misfires after downtime
// and clock jumps, restarts, pause/resume, agent re-saves, @reboot, jitter, 1,000 schedules
// in one second. A fake launcher whose runs stay live until told; a real store.
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ManualClock.h"
#include "vivarium/scheduler/ScheduleLauncher.h"
#include "vivarium/scheduler/Scheduler.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QSet>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

namespace {

const QDateTime Base = QDateTime(QDate(2026, 3, 2), QTime(8, 0), Qt::UTC);

QDateTime at(int h, int m, int s = 0, int ms = 0)
{
    return QDateTime(Base.date(), QTime(h, m, s, ms), Qt::UTC);
}

/** Starts runs in the store (status queued) that stay live until finish(). */
class FakeLauncher final : public ScheduleLauncher
{
public:
    struct Launch
    {
        QString scheduleId;
        QDateTime at;
        QString runId;
    };

    explicit FakeLauncher(Store* store)
        : m_store(store)
    {}

    Result<QString> launch(const ScheduleRecord& s, const QDateTime& scheduledFor) override
    {
        NewRun n;
        n.agentId = s.agentId;
        n.trigger = QStringLiteral("schedule:") + s.id;
        n.input = s.input;
        n.scheduledFor = scheduledFor;
        auto r = m_store->createRun(n);
        if (!r)
            return std::unexpected(r.error());
        m_live.insert(r->id);
        launches.append(Launch{s.id, scheduledFor, r->id});
        return r->id;
    }

    bool isLive(const QString& runId) override { return m_live.contains(runId); }

    void finish(const QString& runId)
    {
        m_live.remove(runId);
        QVERIFY(m_store->setRunStatus(runId, RunStatus::Succeeded).has_value());
    }
    void finishAll()
    {
        const QSet<QString> all = m_live;
        for (const QString& id : all)
            finish(id);
    }
    /** What an engine restart does: live runs become interrupted. */
    void interruptAll()
    {
        const QSet<QString> all = m_live;
        for (const QString& id : all) {
            m_live.remove(id);
            QVERIFY(m_store->setRunStatus(id, RunStatus::Interrupted).has_value());
        }
    }
    QList<QDateTime> instants(const QString& scheduleId) const
    {
        QList<QDateTime> out;
        for (const Launch& l : launches)
            if (l.scheduleId == scheduleId)
                out << l.at;
        return out;
    }

    QList<Launch> launches;

private:
    Store* m_store;
    QSet<QString> m_live;
};

class Fixture
{
public:
    Fixture()
    {
        QVERIFY(m_dir.isValid());
        auto s = Store::open(m_dir.filePath(QStringLiteral("vivarium.db")));
        QVERIFY2(s.has_value(), s ? "" : qPrintable(s.error().message));
        store = std::move(*s);
        launcher = std::make_unique<FakeLauncher>(store.get());
        saveAgent(QStringLiteral("a"));
    }

    void saveAgent(const QString& id, const QList<ScheduleSpec>& schedules = {},
                   const QString& prompt = QStringLiteral("Do the thing."))
    {
        AgentDefinition d;
        d.id = id;
        d.name = id;
        d.prompt = prompt;
        d.model.endpoint = QStringLiteral("local");
        d.model.name = QStringLiteral("m");
        d.schedules = schedules;
        auto r = store->saveAgent(d);
        QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().toString()));
    }

    /** A CLI schedule whose fires count from `from` (the store stamps real time). */
    QString add(const QString& cron, const QDateTime& from, const QString& overlap = "skip",
                const QString& misfire = "run_once", int maxAgeS = 3600, int jitterS = 0,
                const QString& tz = QStringLiteral("UTC"))
    {
        ScheduleRecord s;
        s.agentId = QStringLiteral("a");
        s.cron = cron;
        s.tz = tz;
        s.overlap = overlap;
        s.misfire = misfire;
        s.misfireMaxAgeS = maxAgeS;
        s.jitterS = jitterS;
        auto r = store->addSchedule(s);
        if (!r) {
            qWarning() << r.error().toString();
            return {};
        }
        setUpdatedAt(r->id, from);
        return r->id;
    }

    /** Tests run on a fake timeline: move a schedule's "changed at" onto it (all: no id). */
    void setUpdatedAt(const QString& id, const QDateTime& t)
    {
        const QString name = QStringLiteral("raw-%1").arg(++m_raw);
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(m_dir.filePath(QStringLiteral("vivarium.db")));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.prepare(QStringLiteral("UPDATE schedules SET updated_at = ? WHERE ? = '' "
                                             "OR id = ?")));
            q.addBindValue(t.toUTC().toString(Qt::ISODateWithMs));
            q.addBindValue(id.isEmpty() ? QStringLiteral("") : id);
            q.addBindValue(id);
            QVERIFY(q.exec());
            QVERIFY(q.numRowsAffected() >= 1);
        }
        QSqlDatabase::removeDatabase(name);
    }

    std::unique_ptr<Scheduler> makeScheduler(SchedulerOptions o = {})
    {
        o.timers = false;
        if (!o.jitterSeed)
            o.jitterSeed = 42;
        return std::make_unique<Scheduler>(store.get(), launcher.get(), &clock, o);
    }

    /** Runs of a schedule in the order they were created (ledger entries included). */
    QList<RunRecord> runs(const QString& scheduleId) const
    {
        auto r = store->scheduleRuns(scheduleId);
        if (!r)
            return {};
        QList<RunRecord> out(r->crbegin(), r->crend());
        return out;
    }
    QList<RunRecord> runs(const QString& scheduleId, RunStatus status) const
    {
        QList<RunRecord> out;
        for (const RunRecord& r : runs(scheduleId))
            if (r.status == status)
                out << r;
        return out;
    }

    QTemporaryDir m_dir;
    int m_raw = 0;
    std::unique_ptr<Store> store;
    std::unique_ptr<FakeLauncher> launcher;
    ManualClock clock{Base};
};

} // namespace

class TestSchedulerService : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        // One line per fire would drown the failures; warnings stay on.
        if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
            QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    }

    void firesAtEachInstantOnce()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        f.clock.set(at(7, 59, 40));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QVERIFY(f.launcher->launches.isEmpty());
        QCOMPARE(s->nextDue(id), at(8, 0));
        QCOMPARE(s->nextWake(), at(8, 0));

        f.clock.set(at(8, 0, 0, 5));
        s->wake();
        f.clock.set(at(8, 0, 0, 900));
        s->wake();
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(8, 0)});
        const RunRecord run = f.runs(id).constFirst();
        QCOMPARE(run.trigger, QStringLiteral("schedule:") + id);
        QCOMPARE(run.scheduledFor, at(8, 0));
        QCOMPARE(f.store->schedule(id)->lastFireAt, at(8, 0));
        QCOMPARE(f.store->schedule(id)->nextFireAt, at(8, 1));
        QCOMPARE(s->nextDue(id), at(8, 1));
    }

    void overlapSkip()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->launches.size(), 1);
        const QString first = f.launcher->launches.first().runId;

        f.clock.set(at(8, 1, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->launches.size(), 1);
        const QList<RunRecord> skipped = f.runs(id, RunStatus::Skipped);
        QCOMPARE(skipped.size(), 1);
        QCOMPARE(
            skipped.first().reason,
            QStringLiteral("skipped: previous run %1 still running (overlap skip)").arg(first));
        QCOMPARE(skipped.first().scheduledFor, at(8, 1));

        f.launcher->finish(first);
        s->runEnded(first); // skip never catches up on its own
        QCOMPARE(f.launcher->launches.size(), 1);
        f.clock.set(at(8, 2, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 2)}));
    }

    void overlapQueueOne()
    {
        Fixture f;
        const QString id =
            f.add(QStringLiteral("* * * * *"), at(7, 59, 30), QStringLiteral("queue_one"));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        const QString first = f.launcher->launches.first().runId;

        f.clock.set(at(8, 1, 0, 10));
        s->wake(); // queued: no run, no ledger entry, but persisted
        QCOMPARE(f.launcher->launches.size(), 1);
        QCOMPARE(f.store->schedule(id)->pendingFireAt, at(8, 1));
        QCOMPARE(f.runs(id).size(), 1);

        f.clock.set(at(8, 2, 0, 10));
        s->wake(); // one already queued: this one is skipped
        const QList<RunRecord> skipped = f.runs(id, RunStatus::Skipped);
        QCOMPARE(skipped.size(), 1);
        QCOMPARE(skipped.first().reason,
                 QStringLiteral("skipped: previous run %1 still running and the fire of "
                                "2026-03-02T08:01:00+00:00 is already queued (overlap queue_one)")
                     .arg(first));

        f.clock.set(at(8, 2, 20));
        f.launcher->finish(first);
        s->runEnded(first);
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 1)}));
        QVERIFY(!f.store->schedule(id)->pendingFireAt.isValid());
        QCOMPARE(f.runs(id).last().scheduledFor, at(8, 1));
    }

    void queuedFireStartsFromThePollWhenTheEndWasNotSeen()
    {
        Fixture f;
        const QString id =
            f.add(QStringLiteral("* * * * *"), at(7, 59, 30), QStringLiteral("queue_one"));
        SchedulerOptions o;
        auto s = f.makeScheduler(o);
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        f.clock.set(at(8, 1, 0, 10));
        s->wake();
        f.launcher->finishAll(); // no runEnded()
        // The next pass sees the blocker gone: the queued fire runs first, then this one.
        f.clock.set(at(8, 2, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 1)}));
        QCOMPARE(f.store->schedule(id)->pendingFireAt, at(8, 2));
    }

    void overlapAllow()
    {
        Fixture f;
        const QString id =
            f.add(QStringLiteral("* * * * *"), at(7, 59, 30), QStringLiteral("allow"));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        for (int m = 0; m < 3; ++m) {
            f.clock.set(at(8, m, 0, 10));
            s->wake();
        }
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 1), at(8, 2)}));
        QVERIFY(f.runs(id, RunStatus::Skipped).isEmpty());
    }

    void misfireRunOnceWithinMaxAge()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        // The engine was down from before 08:00 until 08:30:30.
        f.clock.set(at(8, 30, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(8, 30)});
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 30); // 08:00 .. 08:29
        QCOMPARE(missed.first().scheduledFor, at(8, 0));
        QCOMPARE(missed.last().scheduledFor, at(8, 29));
        QCOMPARE(missed.first().reason,
                 QStringLiteral("missed: engine was not running at 2026-03-02T08:00:00+00:00 "
                                "(misfire run_once ran only the latest, "
                                "2026-03-02T08:30:00+00:00)"));
        QCOMPARE(f.store->schedule(id)->lastFireAt, at(8, 30));
        QCOMPARE(s->nextDue(id), at(8, 31));
    }

    void misfireRunOnceBeyondMaxAge()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("0 * * * *"), at(7, 30), QStringLiteral("skip"),
                                 QStringLiteral("run_once"), 600);
        f.clock.set(at(13, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QVERIFY(f.launcher->launches.isEmpty());
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 6); // 08:00 .. 13:00
        for (const RunRecord& r : missed)
            QVERIFY2(r.reason.endsWith(QLatin1String("(older than the misfire max age of 10m)")),
                     qPrintable(r.reason));
        QCOMPARE(missed.last().reason,
                 QStringLiteral("missed: engine was not running at 2026-03-02T13:00:00+00:00 "
                                "(older than the misfire max age of 10m)"));
    }

    void misfireSkip()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("*/10 * * * *"), at(7, 59), QStringLiteral("skip"),
                                 QStringLiteral("skip"));
        f.clock.set(at(8, 25));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QVERIFY(f.launcher->launches.isEmpty());
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 3);
        QCOMPARE(missed.at(2).reason,
                 QStringLiteral("missed: engine was not running at 2026-03-02T08:20:00+00:00 "
                                "(misfire skip)"));
        // And then it fires normally.
        f.clock.set(at(8, 30, 0, 1));
        s->wake();
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(8, 30)});
    }

    void missedEntriesAreCapped()
    {
        Fixture f;
        // Every second, an hour of downtime: 3,590 fires are late; the last 11 (within the
        // on-time tolerance of 10 s) fire normally (one run, ten skipped by the overlap).
        const QString id = f.add(QStringLiteral("* * * * * *"), at(7, 59, 59, 500));
        f.clock.set(at(9, 0));
        auto s = f.makeScheduler();
        QElapsedTimer t;
        t.start();
        QVERIFY(s->start().has_value());
        QVERIFY2(t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(8, 59, 50)});
        QCOMPARE(f.runs(id, RunStatus::Skipped).size(), 10);
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 101);
        QCOMPARE(missed.at(99).scheduledFor, at(8, 1, 39));
        QCOMPARE(missed.at(100).reason,
                 QStringLiteral("missed: and 3490 more fires from 2026-03-02T08:01:40+00:00 to "
                                "2026-03-02T08:59:49+00:00 (engine was not running; a fire on "
                                "time followed)"));
        QCOMPARE(f.store->schedule(id)->lastFireAt, at(9, 0));
    }

    void aYearOfDowntimeIsBounded()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * * *"), at(7, 0));
        f.clock.set(at(7, 0).addDays(365).addSecs(30));
        SchedulerOptions o;
        o.missedCountBudget = 2000;
        auto s = f.makeScheduler(o);
        QElapsedTimer t;
        t.start();
        QVERIFY(s->start().has_value());
        QVERIFY2(t.elapsed() < 5000, qPrintable(QString::number(t.elapsed())));
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 101);
        QVERIFY2(missed.last().reason.startsWith(QLatin1String("missed: and more than ")),
                 qPrintable(missed.last().reason));
        QVERIFY2(missed.last().reason.contains(QLatin1String("to 2027-03-02T07:00:19+00:00")),
                 qPrintable(missed.last().reason));
        // Nothing of the gap is left to fire: the next fire is after now.
        QVERIFY(*s->nextDue(id) > f.clock.now().addSecs(-11));
        QCOMPARE(f.launcher->launches.size(), 1); // the on-time one
    }

    void clockJumpForwardIsLikeDowntime()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        f.launcher->finishAll();
        // Suspended (or the clock set forward) from 08:00:30 to 10:00:30.
        f.clock.set(at(10, 0, 30));
        s->wake();
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(10, 0)}));
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 100 + 1); // 119 missed: 100 one by one + a summary of 19
        QCOMPARE(missed.first().reason,
                 QStringLiteral("missed: the engine was suspended or the clock jumped forward at "
                                "2026-03-02T08:01:00+00:00 (misfire run_once ran only the "
                                "latest, 2026-03-02T10:00:00+00:00)"));
        QVERIFY2(missed.last().reason.startsWith(
                     QLatin1String("missed: and 19 more fires from 2026-03-02T09:41:00+00:00 "
                                   "to 2026-03-02T09:59:00+00:00")),
                 qPrintable(missed.last().reason));
    }

    void clockJumpBackwardNeverRefires()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        for (int m = 0; m <= 5; ++m) {
            f.clock.set(at(8, m, 0, 10));
            s->wake();
            f.launcher->finishAll();
        }
        QCOMPARE(f.launcher->launches.size(), 6);
        f.clock.set(at(7, 0)); // an hour back
        s->wake();
        QCOMPARE(s->nextDue(id), at(8, 6));
        for (const QDateTime& t : {at(7, 30), at(8, 0, 0, 10), at(8, 5, 0, 10), at(8, 5, 59)}) {
            f.clock.set(t);
            s->wake();
        }
        QCOMPARE(f.launcher->launches.size(), 6);
        QVERIFY(f.runs(id, RunStatus::Missed).isEmpty());
        f.clock.set(at(8, 6, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->instants(id).last(), at(8, 6));
        QCOMPARE(f.launcher->launches.size(), 7);

        // A restart while the clock is behind: still no repeat.
        s.reset();
        f.clock.set(at(7, 0));
        s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(s->nextDue(id), at(8, 7));
        QCOMPARE(f.launcher->launches.size(), 7);
    }

    void restartNeitherDoubleFiresNorForgets()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        s.reset(); // crash right after the fire
        f.launcher->interruptAll();

        f.clock.set(at(8, 0, 5));
        s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(f.launcher->launches.size(), 1);
        QVERIFY(f.runs(id, RunStatus::Missed).isEmpty());
        s.reset();

        f.clock.set(at(8, 5, 30)); // down for 08:01 .. 08:05
        s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 5)}));
        const QList<RunRecord> missed = f.runs(id, RunStatus::Missed);
        QCOMPARE(missed.size(), 4);
        QVERIFY(missed.first().reason.startsWith(
            QLatin1String("missed: engine was not running at 2026-03-02T08:01:00+00:00")));
    }

    void queuedFireSurvivesARestartAsAMissedFire()
    {
        Fixture f;
        const QString id =
            f.add(QStringLiteral("* * * * *"), at(7, 59, 30), QStringLiteral("queue_one"));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        f.clock.set(at(8, 1, 0, 10));
        s->wake();
        QCOMPARE(f.store->schedule(id)->pendingFireAt, at(8, 1));
        s.reset();
        f.launcher->interruptAll();

        f.clock.set(at(8, 1, 40));
        s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        // The queued fire is the latest missed one and recent: run_once runs it.
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 1)}));
        QVERIFY(!f.store->schedule(id)->pendingFireAt.isValid());
    }

    void pauseAndResume()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        f.launcher->finishAll();

        QCOMPARE(f.store->setSchedulePaused(id, true), true);
        QVERIFY(s->reload().has_value());
        QVERIFY(!s->nextDue(id));
        for (int m = 1; m <= 4; ++m) {
            f.clock.set(at(8, m, 0, 10));
            s->wake();
        }
        QCOMPARE(f.launcher->launches.size(), 1);

        QCOMPARE(f.store->setSchedulePaused(id, false), true);
        f.setUpdatedAt(id, at(8, 4, 30)); // resumed at 08:04:30 on the test's timeline
        QVERIFY(s->reload().has_value());
        QCOMPARE(s->nextDue(id), at(8, 5));
        f.clock.set(at(8, 5, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0), at(8, 5)}));
        // Nothing is "missed" for the paused minutes.
        QVERIFY(f.runs(id, RunStatus::Missed).isEmpty());
    }

    void agentResaveReplacesItsSchedules()
    {
        Fixture f;
        ScheduleSpec nine;
        nine.cron = QStringLiteral("0 9 * * *");
        nine.tz = QStringLiteral("UTC");
        f.saveAgent(QStringLiteral("b"), {nine});
        const QString id = QStringLiteral("b#1");
        f.setUpdatedAt(id, at(7, 0));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(s->nextDue(id), at(9, 0));

        // A new version with the same schedule: the row, and the plan, stay.
        f.saveAgent(QStringLiteral("b"), {nine}, QStringLiteral("Another prompt."));
        QVERIFY(s->reload().has_value());
        QCOMPARE(s->nextDue(id), at(9, 0));

        ScheduleSpec ten = nine;
        ten.cron = QStringLiteral("0 10 * * *");
        ScheduleSpec extra = nine;
        extra.cron = QStringLiteral("30 8 * * *");
        f.saveAgent(QStringLiteral("b"), {ten, extra});
        f.setUpdatedAt(id, at(7, 0));
        f.setUpdatedAt(QStringLiteral("b#2"), at(7, 0));
        QVERIFY(s->reload().has_value());
        QCOMPARE(s->nextDue(id), at(10, 0));
        QCOMPARE(s->nextDue(QStringLiteral("b#2")), at(8, 30));

        f.saveAgent(QStringLiteral("b"), {ten});
        QVERIFY(s->reload().has_value());
        QVERIFY(!s->nextDue(QStringLiteral("b#2")));
        QVERIFY(f.store->schedule(QStringLiteral("b#2")).error().code == Error::Code::NotFound);

        f.clock.set(at(10, 0, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(10, 0)});
        QCOMPARE(f.launcher->launches.first().runId, f.runs(id).first().id);
        QCOMPARE(f.runs(id).first().agentId, QStringLiteral("b"));
    }

    void rebootFiresOncePerStart()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("@reboot"), at(7, 0));
        auto s = f.makeScheduler();
        f.clock.set(at(8, 0, 0, 123));
        QVERIFY(s->start().has_value());
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(8, 0, 0, 123)});
        QVERIFY(!s->nextDue(id));
        f.clock.set(at(9, 0));
        s->wake();
        QCOMPARE(f.launcher->launches.size(), 1);
        s.reset();
        f.launcher->interruptAll();
        f.clock.set(at(10, 0));
        s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(f.launcher->instants(id), (QList<QDateTime>{at(8, 0, 0, 123), at(10, 0)}));
        QVERIFY(f.runs(id, RunStatus::Missed).isEmpty());
    }

    void jitterDelaysDeterministically()
    {
        Fixture f;
        const QString id = f.add(QStringLiteral("0 * * * *"), at(7, 30), QStringLiteral("skip"),
                                 QStringLiteral("run_once"), 3600, 600);
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        const QDateTime due = *s->nextDue(id);
        QVERIFY(due >= at(8, 0) && due <= at(8, 10));
        auto again = f.makeScheduler(); // same seed, same delay
        QVERIFY(again->start().has_value());
        QCOMPARE(*again->nextDue(id), due);
        again.reset();
        SchedulerOptions other;
        other.jitterSeed = 7;
        auto different = f.makeScheduler(other);
        QVERIFY(different->start().has_value());
        QVERIFY(*different->nextDue(id) != due); // 1 in 600,001 to clash
        different.reset();

        f.clock.set(due.addMSecs(-1));
        s->wake();
        QVERIFY(f.launcher->launches.isEmpty());
        f.clock.set(due.addMSecs(5));
        s->wake();
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(8, 0)}); // the instant, not + delay
    }

    void thousandSchedulesInOneSecond()
    {
        Fixture f;
        QStringList ids;
        const auto tx = f.store->transaction([&]() -> Status {
            for (int i = 0; i < 1000; ++i) {
                ScheduleRecord r;
                r.agentId = QStringLiteral("a");
                r.cron = i % 2 ? QStringLiteral("0 0 9 * * *") : QStringLiteral("0 9 * * *");
                r.tz = QStringLiteral("UTC");
                auto added = f.store->addSchedule(r);
                if (!added)
                    return std::unexpected(added.error());
                ids << added->id;
            }
            return {};
        });
        QVERIFY(tx.has_value());
        f.setUpdatedAt(QString(), at(8, 0));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(s->scheduleCount(), 1000);
        QCOMPARE(s->nextWake(), at(9, 0));

        QSignalSpy fired(s.get(), &Scheduler::fired);
        f.clock.set(at(9, 0, 0, 2));
        QElapsedTimer t;
        t.start();
        s->wake();
        const qint64 ms = t.elapsed();
        qInfo() << "1,000 fires in one pass took" << ms << "ms";
        QVERIFY2(ms < 5000, qPrintable(QString::number(ms)));
        QCOMPARE(f.launcher->launches.size(), 1000);
        QSet<QString> seen;
        for (const FakeLauncher::Launch& l : std::as_const(f.launcher->launches)) {
            QCOMPARE(l.at, at(9, 0));
            seen.insert(l.scheduleId);
        }
        QCOMPARE(seen.size(), 1000);
        QCOMPARE(fired.size(), 1000);
        f.clock.set(at(9, 0, 0, 900));
        s->wake();
        QCOMPARE(f.launcher->launches.size(), 1000);
        QCOMPARE(s->nextWake(), at(9, 0).addDays(1));
    }

    void invalidRowsAreLeftOut()
    {
        Fixture f;
        const QString good = f.add(QStringLiteral("* * * * *"), at(7, 59, 30));
        const QString bad = f.add(QStringLiteral("61 * * * *"), at(7, 59, 30)); // not parsed
        QVERIFY(!bad.isEmpty());
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(s->scheduleCount(), 2);
        QVERIFY(!s->nextDue(bad));
        f.clock.set(at(8, 0, 0, 10));
        s->wake();
        QCOMPARE(f.launcher->instants(good), QList<QDateTime>{at(8, 0)});
    }

    void zonesAndDst()
    {
        Fixture f;
        // 02:30 does not exist in New York on 2026-03-08: cronie runs it at 03:00 EDT.
        const QString id =
            f.add(QStringLiteral("30 2 * * *"), QDateTime(QDate(2026, 3, 7), QTime(12, 0), Qt::UTC),
                  QStringLiteral("skip"), QStringLiteral("run_once"), 3600, 0,
                  QStringLiteral("America/New_York"));
        f.clock.set(QDateTime(QDate(2026, 3, 7), QTime(12, 0), Qt::UTC));
        auto s = f.makeScheduler();
        QVERIFY(s->start().has_value());
        QCOMPARE(s->nextDue(id), QDateTime(QDate(2026, 3, 8), QTime(7, 0), Qt::UTC));
    }

    void aJumpIsNoticedWithoutAWake()
    {
        // Real timers: nothing is due for an hour, then the wall clock jumps past it. The
        // wall-versus-monotonic check (here every 50 ms) finds it without anyone calling wake().
        Fixture f;
        const QString id = f.add(QStringLiteral("0 9 * * *"), at(7, 59, 30));
        SchedulerOptions o;
        o.wallCheckMs = 50;
        o.reloadPollMs = 100;
        o.jitterSeed = 1;
        Scheduler s(f.store.get(), f.launcher.get(), &f.clock, o);
        f.clock.set(at(8, 0));
        QVERIFY(s.start().has_value());
        QTest::qWait(120);
        QVERIFY(f.launcher->launches.isEmpty());
        f.clock.set(at(9, 0, 0, 500));
        QTRY_COMPARE_WITH_TIMEOUT(f.launcher->launches.size(), 1, 2000);
        QCOMPARE(f.launcher->instants(id), QList<QDateTime>{at(9, 0)});

        // And a change made by another process is picked up by the poll.
        ScheduleRecord r;
        r.agentId = QStringLiteral("a");
        r.cron = QStringLiteral("* * * * * *");
        r.tz = QStringLiteral("UTC");
        auto added = f.store->addSchedule(r);
        QVERIFY(added.has_value());
        f.setUpdatedAt(added->id, at(9, 0, 1));
        f.clock.set(at(9, 0, 2, 100));
        QTRY_VERIFY_WITH_TIMEOUT(!f.launcher->instants(added->id).isEmpty(), 2000);
        QCOMPARE(f.launcher->instants(added->id).first(), at(9, 0, 2));
    }
};

QTEST_GUILESS_MAIN(TestSchedulerService)
#include "tst_SchedulerService.moc"
