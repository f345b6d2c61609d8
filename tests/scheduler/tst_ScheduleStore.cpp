// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Schedules in the store (schema 4): CLI schedules, agent definitions' schedules kept in sync
// on save and removal, the change counter, fire bookkeeping, scheduled_for of runs.
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

namespace {

ScheduleSpec spec(const QString& cron, const QString& tz = {})
{
    ScheduleSpec s;
    s.cron = cron;
    s.tz = tz;
    return s;
}

AgentDefinition agent(const QString& id, const QList<ScheduleSpec>& schedules,
                      const QString& prompt = QStringLiteral("Triage the inbox."))
{
    AgentDefinition d;
    d.id = id;
    d.name = id;
    d.prompt = prompt;
    d.model.endpoint = QStringLiteral("local");
    d.model.name = QStringLiteral("m");
    d.schedules = schedules;
    return d;
}

ScheduleRecord cli(const QString& agentId, const QString& cron)
{
    ScheduleRecord s;
    s.agentId = agentId;
    s.cron = cron;
    return s;
}

qint64 generation(Store& store)
{
    return store.scheduleGeneration().value_or(-1);
}

} // namespace

class TestScheduleStore : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_n = 0;
    QString m_path;
    std::unique_ptr<Store> open(const Store::Options& o = {})
    {
        auto s = Store::open(m_path, o);
        if (!s)
            qWarning() << s.error().toString();
        return s ? std::move(*s) : nullptr;
    }

private slots:
    void initTestCase()
    {
        // One line per fire would drown the failures; warnings stay on.
        if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
            QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    }

    void init() { m_path = m_dir.filePath(QStringLiteral("s%1.db").arg(++m_n)); }

    void migrationBackfillsAgentSchedules()
    {
        {
            Store::Options o;
            o.migrateTo = 3;
            auto store = open(o);
            QVERIFY(store);
            ScheduleSpec off = spec(QStringLiteral("*/5 * * * *"));
            off.enabled = false;
            off.overlap = QStringLiteral("allow");
            off.misfireMaxAgeS = 120;
            QVERIFY(
                store
                    ->saveAgent(agent(
                        QStringLiteral("a"),
                        {spec(QStringLiteral("0 9 * * 1-5"), QStringLiteral("Europe/Paris")), off}))
                    .has_value());
        }
        auto store = open();
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), Store::latestSchemaVersion());
        auto list = store->schedules();
        QVERIFY(list.has_value());
        QCOMPARE(list->size(), 2);
        QCOMPARE(list->at(0).id, QStringLiteral("a#1"));
        QCOMPARE(list->at(0).source, QStringLiteral("agent"));
        QCOMPARE(list->at(0).tz, QStringLiteral("Europe/Paris"));
        QCOMPARE(list->at(0).misfireMaxAgeS, 3600);
        QVERIFY(!list->at(0).paused);
        QVERIFY(list->at(0).updatedAt.isValid());
        QCOMPARE(list->at(1).id, QStringLiteral("a#2"));
        QCOMPARE(list->at(1).tz, QString()); // system zone, resolved when read
        QCOMPARE(list->at(1).overlap, QStringLiteral("allow"));
        QCOMPARE(list->at(1).misfireMaxAgeS, 120);
        QVERIFY(list->at(1).paused);
        QVERIFY(ScheduleRules::zoneOf(list->at(1)).isValid());
        // The first save after the upgrade rewrites them fully resolved.
        QVERIFY(store
                    ->saveAgent(
                        agent(QStringLiteral("a"),
                              {spec(QStringLiteral("0 9 * * 1-5"), QStringLiteral("Europe/Paris"))},
                              QStringLiteral("v2")))
                    .has_value());
        list = store->schedules();
        QCOMPARE(list->size(), 1);
        QCOMPARE(list->at(0).tz, QStringLiteral("Europe/Paris"));
    }

    void agentSchedulesFollowTheDefinition()
    {
        auto store = open();
        QVERIFY(store);
        const qint64 g0 = generation(*store);
        QVERIFY(store
                    ->saveAgent(agent(QStringLiteral("a"),
                                      {spec(QStringLiteral("0 9 * * *"), QStringLiteral("UTC")),
                                       spec(QStringLiteral("@hourly"))}))
                    .has_value());
        const qint64 g1 = generation(*store);
        QVERIFY(g1 > g0);
        auto one = store->schedule(QStringLiteral("a#1"));
        QVERIFY(one.has_value());
        auto two = store->schedule(QStringLiteral("a#2"));
        QVERIFY(two.has_value());
        QCOMPARE(two->tz, ScheduleRules::systemZoneId()); // resolved and stored explicitly
        QCOMPARE(two->source, QStringLiteral("agent"));

        // Pause one from the CLI, fire it once, then save a new version that keeps it.
        QCOMPARE(store->setSchedulePaused(QStringLiteral("a#1"), true), true);
        const QDateTime fired = QDateTime::currentDateTimeUtc().addSecs(-60);
        QVERIFY(
            store->saveScheduleFireStates({{QStringLiteral("a#1"), fired, {}, {}}}).has_value());
        const qint64 g2 = generation(*store);
        QVERIFY(store
                    ->saveAgent(agent(QStringLiteral("a"),
                                      {spec(QStringLiteral("0 9 * * *"), QStringLiteral("UTC")),
                                       spec(QStringLiteral("@hourly"))},
                                      QStringLiteral("A new prompt.")))
                    .has_value());
        QCOMPARE(generation(*store), g2); // nothing about the schedules changed
        one = store->schedule(QStringLiteral("a#1"));
        QVERIFY(one->paused);
        QCOMPARE(one->lastFireAt,
                 QDateTime::fromMSecsSinceEpoch(fired.toMSecsSinceEpoch(), Qt::UTC));

        // Change the first, drop the second.
        const QDateTime before = one->updatedAt;
        QTest::qWait(5);
        QVERIFY(store->saveAgent(agent(QStringLiteral("a"), {spec(QStringLiteral("0 10 * * *"))}))
                    .has_value());
        QVERIFY(generation(*store) > g2);
        one = store->schedule(QStringLiteral("a#1"));
        QCOMPARE(one->cron, QStringLiteral("0 10 * * *"));
        QVERIFY(!one->paused); // a new schedule under the same id: the definition's enabled
        QVERIFY(one->updatedAt > before);
        QCOMPARE(store->schedule(QStringLiteral("a#2")).error().code, Error::Code::NotFound);
        QCOMPARE(store->schedules(QStringLiteral("a"))->size(), 1);
    }

    void removingTheAgent()
    {
        auto store = open();
        QVERIFY(store);
        QVERIFY(store->saveAgent(agent(QStringLiteral("a"), {spec(QStringLiteral("@daily"))}))
                    .has_value());
        auto added = store->addSchedule(cli(QStringLiteral("a"), QStringLiteral("*/5 * * * *")));
        QVERIFY(added.has_value());
        const qint64 g = generation(*store);
        QVERIFY(store->removeAgent(QStringLiteral("a")).has_value());
        QVERIFY(generation(*store) > g);
        auto list = store->schedules(QStringLiteral("a"));
        QCOMPARE(list->size(), 1); // its own went with it; the CLI one stays, paused
        QCOMPARE(list->first().id, added->id);
        QVERIFY(list->first().paused);
        auto resume = store->setSchedulePaused(added->id, false);
        QVERIFY(!resume.has_value());
        QCOMPARE(resume.error().code, Error::Code::Conflict);
        QVERIFY2(resume.error().message.contains(QLatin1String("was removed")),
                 qPrintable(resume.error().message));
        // A schedule cannot be added to a removed agent.
        QCOMPARE(
            store->addSchedule(cli(QStringLiteral("a"), QStringLiteral("@daily"))).error().code,
            Error::Code::NotFound);

        QVERIFY(store->saveAgent(agent(QStringLiteral("a"), {spec(QStringLiteral("@daily"))}))
                    .has_value());
        QCOMPARE(store->schedules(QStringLiteral("a"))->size(), 2);
        QCOMPARE(store->setSchedulePaused(added->id, false), true);
    }

    void cliSchedules()
    {
        auto store = open();
        QVERIFY(store);
        QVERIFY(store->saveAgent(agent(QStringLiteral("a"), {spec(QStringLiteral("@daily"))}))
                    .has_value());
        QCOMPARE(store->addSchedule(cli(QStringLiteral("nobody"), QStringLiteral("@daily")))
                     .error()
                     .code,
                 Error::Code::NotFound);
        ScheduleRecord bad = cli(QStringLiteral("a"), QStringLiteral("@daily"));
        bad.overlap = QStringLiteral("sometimes");
        bad.tz = QStringLiteral("Mars/Olympus_Mons");
        auto refused = store->addSchedule(bad);
        QCOMPARE(refused.error().code, Error::Code::Validation);
        QCOMPARE(refused.error().details.size(), 2);

        ScheduleRecord s = cli(QStringLiteral("a"), QStringLiteral(" 0 9 * * * "));
        s.input = QJsonObject{{QStringLiteral("k"), 1}};
        s.jitterS = 30;
        const qint64 g = generation(*store);
        auto added = store->addSchedule(s);
        QVERIFY(added.has_value());
        QVERIFY(generation(*store) > g);
        QVERIFY(QRegularExpression(QStringLiteral("\\Asch_[0-9a-z]{8}\\z"))
                    .match(added->id)
                    .hasMatch());
        QCOMPARE(added->source, QStringLiteral("cli"));
        QCOMPARE(added->cron, QStringLiteral("0 9 * * *"));
        QCOMPARE(added->tz, ScheduleRules::systemZoneId());
        auto read = store->schedule(added->id);
        QVERIFY(read.has_value());
        QCOMPARE(read->input, QJsonValue(QJsonObject{{QStringLiteral("k"), 1}}));
        QCOMPARE(read->jitterS, 30);
        QCOMPARE(read->createdAt, added->createdAt);

        QCOMPARE(store->setSchedulePaused(added->id, true), true);
        QCOMPARE(store->setSchedulePaused(added->id, true), false);
        QCOMPARE(store->setSchedulePaused(QStringLiteral("sch_nothere"), true).error().code,
                 Error::Code::NotFound);

        auto own = store->removeSchedule(QStringLiteral("a#1"));
        QCOMPARE(own.error().code, Error::Code::Conflict);
        QVERIFY(own.error().message.contains(QLatin1String("edit the agent")));
        QVERIFY(store->removeSchedule(added->id).has_value());
        QCOMPARE(store->removeSchedule(added->id).error().code, Error::Code::NotFound);
    }

    void fireBookkeepingAndRuns()
    {
        auto store = open();
        QVERIFY(store);
        QVERIFY(store->saveAgent(agent(QStringLiteral("a"), {spec(QStringLiteral("@daily"))}))
                    .has_value());
        const qint64 g = generation(*store);
        const QDateTime t = QDateTime(QDate(2026, 11, 28), QTime(9, 0), Qt::UTC);
        QVERIFY(store
                    ->saveScheduleFireStates({{QStringLiteral("a#1"), t, t.addDays(1), t},
                                              {QStringLiteral("gone"), t, {}, {}}})
                    .has_value());
        QCOMPARE(generation(*store), g); // bookkeeping is not a change of what fires
        auto s = store->schedule(QStringLiteral("a#1"));
        QCOMPARE(s->lastFireAt, t);
        QCOMPARE(s->nextFireAt, t.addDays(1));
        QCOMPARE(s->pendingFireAt, t);

        NewRun missed;
        missed.agentId = QStringLiteral("a");
        missed.trigger = QStringLiteral("schedule:a#1");
        missed.status = RunStatus::Missed;
        missed.reason =
            QStringLiteral("missed: engine was not running at 2026-11-28T09:00:00+00:00");
        missed.scheduledFor = t;
        auto m = store->createRun(missed);
        QVERIFY(m.has_value());
        QCOMPARE(m->scheduledFor, t);
        NewRun live;
        live.agentId = QStringLiteral("a");
        live.trigger = QStringLiteral("schedule:a#1");
        auto l = store->createRun(live);
        QVERIFY(l.has_value());
        QVERIFY(store->setRunScheduledFor(l->id, t.addDays(1)).has_value());
        NewRun manual;
        manual.agentId = QStringLiteral("a");
        manual.trigger = QStringLiteral("cli:me");
        QVERIFY(store->createRun(manual).has_value());

        auto runs = store->scheduleRuns(QStringLiteral("a#1"));
        QCOMPARE(runs->size(), 2);
        QCOMPARE(runs->at(0).id, l->id); // newest first
        QCOMPARE(runs->at(0).scheduledFor, t.addDays(1));
        QCOMPARE(runs->at(1).status, RunStatus::Missed);
        QCOMPARE(runs->at(1).scheduledFor, t);
        auto liveRuns = store->liveScheduleRuns();
        QCOMPARE(liveRuns->size(), 1);
        QCOMPARE(liveRuns->first().id, l->id);
        QCOMPARE(store->run(m->id)->scheduledFor, t);
        QCOMPARE(store->setRunScheduledFor(QStringLiteral("run_x"), t).error().code,
                 Error::Code::NotFound);
    }

    void durations()
    {
        QCOMPARE(ScheduleRules::parseDuration(QStringLiteral("90s")), 90);
        QCOMPARE(ScheduleRules::parseDuration(QStringLiteral("15m")), 900);
        QCOMPARE(ScheduleRules::parseDuration(QStringLiteral("1h30m")), 5400);
        QCOMPARE(ScheduleRules::parseDuration(QStringLiteral("2d")), 172800);
        QCOMPARE(ScheduleRules::parseDuration(QStringLiteral("45")), 45);
        QCOMPARE(ScheduleRules::parseDuration(QStringLiteral("0s")), 0);
        for (const char* bad : {"", "5x", "1h 30m", "-5", "30m1h", "400d", "h"})
            QVERIFY2(!ScheduleRules::parseDuration(QString::fromLatin1(bad)), bad);
        QCOMPARE(ScheduleRules::formatDuration(5400), QStringLiteral("1h30m"));
        QCOMPARE(ScheduleRules::formatDuration(90), QStringLiteral("1m30s"));
        QCOMPARE(ScheduleRules::formatDuration(0), QStringLiteral("0s"));
        QCOMPARE(ScheduleRules::formatInstant(QDateTime(QDate(2026, 11, 28), QTime(8, 0), Qt::UTC),
                                              QTimeZone("Europe/Paris")),
                 QStringLiteral("2026-11-28T09:00:00+01:00"));
        QCOMPARE(ScheduleRules::formatInstant(QDateTime(QDate(2026, 11, 28), QTime(8, 0), Qt::UTC),
                                              QTimeZone("Asia/Kolkata")),
                 QStringLiteral("2026-11-28T13:30:00+05:30"));
        QCOMPARE(ScheduleRules::formatInstant(QDateTime(QDate(2026, 11, 28), QTime(8, 0), Qt::UTC),
                                              QTimeZone("UTC")),
                 QStringLiteral("2026-11-28T08:00:00+00:00"));
    }

    void validation()
    {
        ScheduleRecord s = cli(QStringLiteral("a"), QStringLiteral("0 0 30 2 *"));
        s.tz = QStringLiteral("Nowhere/Land");
        auto r = ScheduleRules::validate(s);
        QVERIFY(!r);
        QCOMPARE(r.error().code, Error::Code::Validation);
        QCOMPARE(r.error().details.size(), 2);
        QVERIFY(r.error().details.at(0).startsWith(QLatin1String("cron: ")));
        QVERIFY(r.error().details.at(1).contains(QLatin1String("\"Nowhere/Land\"")));
        s = cli(QStringLiteral("a"), QStringLiteral("*/5 * * * 8"));
        r = ScheduleRules::validate(s);
        QVERIFY(!r);
        QVERIFY2(r.error().details.at(0).contains(QLatin1String("day-of-week")) &&
                     r.error().details.at(0).contains(QLatin1String("\"8\"")),
                 qPrintable(r.error().details.at(0)));
        QVERIFY(ScheduleRules::validate(cli(QStringLiteral("a"), QStringLiteral("@reboot"))));
    }
};

QTEST_GUILESS_MAIN(TestScheduleStore)
#include "tst_ScheduleStore.moc"
