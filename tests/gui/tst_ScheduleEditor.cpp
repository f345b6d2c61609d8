// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The schedule editor (live cron validation, the sentence, fire times in a zone across DST,
// saving as `vivarium schedule add` does) and the ledger of skipped and missed fires.
#include "vivarium/core/Paths.h"
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"
#include "vivarium/ui/ScheduleEditor.h"
#include "vivarium/ui/ScheduleLedger.h"

#include "TestSupport.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <memory>

using namespace vivarium;

namespace {

#define VERIFY_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& result_ = (expr);                                                              \
        QVERIFY2(result_.has_value(),                                                              \
                 qPrintable(result_ ? QString() : result_.error().toString()));                    \
    } while (0)

void saveScreenshot(QWidget* w, const QString& name)
{
    const QString dir = qEnvironmentVariable("VIVARIUM_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    QApplication::processEvents(); // pending layouts first: the picture is what a user sees
    QVERIFY(w->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png")));
}

AgentDefinition makeAgent(const QString& id)
{
    AgentDefinition d;
    d.id = id;
    d.name = QStringLiteral("Daily digest");
    d.prompt = QStringLiteral("Summarise yesterday.");
    d.model.endpoint = QStringLiteral("local");
    d.model.name = QStringLiteral("llama3.1");
    return d;
}

/** Replace a line edit's text the way a user does: select all, type. */
void retype(QLineEdit* edit, const QString& text)
{
    edit->setFocus();
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
}

} // namespace

class TestScheduleEditor : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<Store> m_store;
    int m_n = 0;

private slots:
    void init()
    {
        QVERIFY(m_tmp.isValid());
        const QString dir = m_tmp.filePath(QString::number(++m_n));
        QVERIFY(QDir().mkpath(dir));
        auto s = Store::open(Paths(dir).storeFile());
        VERIFY_OK(s);
        m_store = std::move(*s);
        VERIFY_OK(m_store->saveAgent(makeAgent(QStringLiteral("digest"))));
    }

    void cleanup() { m_store.reset(); }

    void badCronThenFixedThenSaved()
    {
        ScheduleEditor ed(m_store.get());
        ed.resize(1000, 640);
        ed.setAgent(QStringLiteral("digest"));
        ed.show();
        QVERIFY(QTest::qWaitForWindowExposed(&ed));
        auto* cron = ed.findChild<QLineEdit*>(QStringLiteral("cronEdit"));
        auto* cronStatus = ed.findChild<QLabel*>(QStringLiteral("cronStatus"));
        auto* zone = ed.findChild<QComboBox*>(QStringLiteral("zonePicker"));
        auto* zoneStatus = ed.findChild<QLabel*>(QStringLiteral("zoneStatus"));
        auto* preview = ed.findChild<QTreeWidget*>(QStringLiteral("firePreview"));
        auto* save = ed.findChild<QPushButton*>(QStringLiteral("saveScheduleButton"));
        auto* overlap = ed.findChild<QComboBox*>(QStringLiteral("overlapCombo"));
        auto* misfire = ed.findChild<QComboBox*>(QStringLiteral("misfireCombo"));
        auto* jitter = ed.findChild<QLineEdit*>(QStringLiteral("jitterEdit"));
        auto* input = ed.findChild<QPlainTextEdit*>(QStringLiteral("inputEdit"));
        QVERIFY(cron && cronStatus && zone && zoneStatus && preview && save && overlap && misfire &&
                jitter && input);

        // The zone defaults to the system zone and says so.
        QCOMPARE(zone->currentText(), ScheduleRules::systemZoneId());
        QVERIFY2(zoneStatus->text().contains(QStringLiteral("the system zone")),
                 qPrintable(zoneStatus->text()));
        QVERIFY(!save->isEnabled());

        // A bad hour: the parser's own message, inline; nothing to save.
        QTest::keyClicks(cron, QStringLiteral("0 25 * * *"));
        const auto bad = CronExpression::parse(QStringLiteral("0 25 * * *"));
        QVERIFY(!bad);
        QVERIFY2(cronStatus->text().contains(bad.error().message), qPrintable(cronStatus->text()));
        QVERIFY(cronStatus->text().contains(QStringLiteral("\"25\" is out of range 0-23")));
        QVERIFY(!save->isEnabled());
        QVERIFY(!ed.save());
        QCOMPARE(preview->topLevelItemCount(), 0);
        saveScreenshot(&ed, QStringLiteral("schedule-editor-error"));

        // Fixed: 02:30 every day, in New York, across the 2026-03-08 spring-forward gap.
        retype(cron, QStringLiteral("30 2 * * *"));
        const auto good = CronExpression::parse(QStringLiteral("30 2 * * *"));
        VERIFY_OK(good);
        QVERIFY2(cronStatus->text().contains(good->explain()), qPrintable(cronStatus->text()));
        retype(zone->lineEdit(), QStringLiteral("America/New_York"));
        QVERIFY2(!zoneStatus->text().contains(QStringLiteral("unknown")),
                 qPrintable(zoneStatus->text()));
        const QDateTime after(QDate(2026, 3, 4), QTime(12, 0), Qt::UTC);
        ed.setPreviewStart(after);
        const QTimeZone ny("America/New_York");
        const QList<QDateTime> expected = good->next(after, ny, 10);
        QCOMPARE(expected.size(), 10);
        QCOMPARE(preview->topLevelItemCount(), 10);
        QStringList shown;
        for (int i = 0; i < 10; ++i) {
            shown << preview->topLevelItem(i)->data(0, Qt::UserRole).toString();
            QCOMPARE(shown.last(), ScheduleRules::formatInstant(expected.at(i), ny));
        }
        // cronie's rule: the skipped 02:30 runs at the first valid instant, 03:00 EDT.
        const int gap = int(shown.indexOf(QStringLiteral("2026-03-08T03:00:00-04:00")));
        QVERIFY2(gap > 0, qPrintable(shown.join(QLatin1Char('\n'))));
        QCOMPARE(shown.at(gap - 1), QStringLiteral("2026-03-07T02:30:00-05:00"));
        QCOMPARE(shown.at(gap + 1), QStringLiteral("2026-03-09T02:30:00-04:00"));
        QVERIFY(preview->topLevelItem(gap)->font(2).bold()); // the offset change stands out

        // Zone search: any part of the name finds it.
        QCompleter* completer = zone->completer();
        QVERIFY(completer);
        completer->setCompletionPrefix(QStringLiteral("york"));
        QVERIFY(completer->completionCount() >= 1);
        QCOMPARE(completer->currentCompletion(), QStringLiteral("America/New_York"));

        // Policies, jitter, input; then save.
        overlap->setCurrentIndex(overlap->findData(QStringLiteral("queue_one")));
        misfire->setCurrentIndex(misfire->findData(QStringLiteral("skip")));
        retype(jitter, QStringLiteral("90s"));
        input->setFocus();
        QTest::keyClicks(input, QStringLiteral("{\"since\": \"yesterday\"}"));
        QVERIFY(save->isEnabled());
        saveScreenshot(&ed, QStringLiteral("schedule-editor"));

        QSignalSpy saved(&ed, &ScheduleEditor::saved);
        QTest::mouseClick(save, Qt::LeftButton);
        QCOMPARE(saved.count(), 1);
        const QString id = saved.at(0).at(0).toString();
        QVERIFY2(id.startsWith(QStringLiteral("sch_")), qPrintable(id));
        QCOMPARE(ed.scheduleId(), id); // a second save edits this one

        auto stored = m_store->schedule(id);
        VERIFY_OK(stored);
        QCOMPARE(stored->source, QStringLiteral("cli"));
        QCOMPARE(stored->agentId, QStringLiteral("digest"));
        QCOMPARE(stored->cron, QStringLiteral("30 2 * * *"));
        QCOMPARE(stored->tz, QStringLiteral("America/New_York"));
        QCOMPARE(stored->overlap, QStringLiteral("queue_one"));
        QCOMPARE(stored->misfire, QStringLiteral("skip"));
        QCOMPARE(stored->misfireMaxAgeS, 3600);
        QCOMPARE(stored->jitterS, 90);
        QCOMPARE(stored->input.toObject().value(QStringLiteral("since")).toString(),
                 QStringLiteral("yesterday"));
        QVERIFY(!stored->paused);

        // Exactly what the CLI stores for the same request.
        const auto cli = testsupport::runCli(
            QFileInfo(m_store->path()).absolutePath(),
            {QStringLiteral("schedule"), QStringLiteral("add"), QStringLiteral("digest"),
             QStringLiteral("--cron"), QStringLiteral("30 2 * * *"), QStringLiteral("--tz"),
             QStringLiteral("America/New_York"), QStringLiteral("--overlap"),
             QStringLiteral("queue_one"), QStringLiteral("--misfire"), QStringLiteral("skip"),
             QStringLiteral("--jitter"), QStringLiteral("90s"), QStringLiteral("--input"),
             QStringLiteral("{\"since\": \"yesterday\"}"), QStringLiteral("--json")});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.describe()));
        const QString cliId =
            QJsonDocument::fromJson(cli.out).object().value(QStringLiteral("id")).toString();
        auto viaCli = m_store->schedule(cliId);
        VERIFY_OK(viaCli);
        QCOMPARE(viaCli->cron, stored->cron);
        QCOMPARE(viaCli->tz, stored->tz);
        QCOMPARE(viaCli->overlap, stored->overlap);
        QCOMPARE(viaCli->misfire, stored->misfire);
        QCOMPARE(viaCli->misfireMaxAgeS, stored->misfireMaxAgeS);
        QCOMPARE(viaCli->jitterS, stored->jitterS);
        QCOMPARE(viaCli->input, stored->input);
        QCOMPARE(viaCli->paused, stored->paused);
        QCOMPARE(viaCli->source, stored->source);
    }

    void inlineErrorsSpeakLikeTheCli()
    {
        ScheduleEditor ed(m_store.get());
        ed.setAgent(QStringLiteral("digest"));
        ed.show();
        auto* cron = ed.findChild<QLineEdit*>(QStringLiteral("cronEdit"));
        auto* jitter = ed.findChild<QLineEdit*>(QStringLiteral("jitterEdit"));
        auto* maxAge = ed.findChild<QLineEdit*>(QStringLiteral("misfireMaxAgeEdit"));
        auto* policyStatus = ed.findChild<QLabel*>(QStringLiteral("policyStatus"));
        auto* input = ed.findChild<QPlainTextEdit*>(QStringLiteral("inputEdit"));
        auto* inputStatus = ed.findChild<QLabel*>(QStringLiteral("inputStatus"));
        auto* zone = ed.findChild<QComboBox*>(QStringLiteral("zonePicker"));
        auto* zoneStatus = ed.findChild<QLabel*>(QStringLiteral("zoneStatus"));
        auto* save = ed.findChild<QPushButton*>(QStringLiteral("saveScheduleButton"));
        auto* preview = ed.findChild<QTreeWidget*>(QStringLiteral("firePreview"));
        auto* previewTitle = ed.findChild<QLabel*>(QStringLiteral("previewTitle"));

        QTest::keyClicks(cron, QStringLiteral("@daily"));
        QVERIFY(save->isEnabled());

        retype(jitter, QStringLiteral("5x"));
        QVERIFY2(
            policyStatus->text().contains(ScheduleRules::durationProblem(QStringLiteral("5x"))),
            qPrintable(policyStatus->text()));
        QVERIFY(policyStatus->text().contains(QStringLiteral("\"5x\" is not a duration")));
        QVERIFY(!save->isEnabled());
        retype(jitter, QStringLiteral("30s"));
        retype(maxAge, QStringLiteral("400d"));
        QVERIFY2(policyStatus->text().contains(QStringLiteral("at most 366d")),
                 qPrintable(policyStatus->text()));
        retype(maxAge, QStringLiteral("2h"));
        QVERIFY(policyStatus->isHidden());
        QVERIFY(save->isEnabled());

        input->setFocus();
        QTest::keyClicks(input, QStringLiteral("{bad"));
        QVERIFY2(inputStatus->text().contains(QStringLiteral("not valid JSON")),
                 qPrintable(inputStatus->text()));
        QVERIFY(!save->isEnabled());
        input->clear();
        QVERIFY(save->isEnabled());

        retype(zone->lineEdit(), QStringLiteral("Mars/Base"));
        QVERIFY2(zoneStatus->text().contains(QStringLiteral("unknown time zone \"Mars/Base\"")),
                 qPrintable(zoneStatus->text()));
        QVERIFY(!save->isEnabled());
        retype(zone->lineEdit(), QStringLiteral("UTC"));
        QVERIFY(save->isEnabled());

        // @reboot has no times by the clock, and says so.
        retype(cron, QStringLiteral("@reboot"));
        QCOMPARE(preview->topLevelItemCount(), 0);
        QVERIFY(previewTitle->text().contains(QStringLiteral("engine starts")));
        QVERIFY(save->isEnabled());

        // An unknown agent cannot get a schedule.
        ScheduleEditor orphan(m_store.get());
        orphan.setAgent(QStringLiteral("nobody"));
        QTest::keyClicks(orphan.findChild<QLineEdit*>(QStringLiteral("cronEdit")),
                         QStringLiteral("@daily"));
        QVERIFY(!orphan.isValid());
        QVERIFY(!orphan.save());
    }

    void editCliScheduleKeepsItsIdAndHistory()
    {
        ScheduleRecord s;
        s.agentId = QStringLiteral("digest");
        s.cron = QStringLiteral("0 9 * * 1-5");
        s.tz = QStringLiteral("Europe/Paris");
        auto added = m_store->addSchedule(s);
        VERIFY_OK(added);
        const QString id = added->id;
        const QDateTime lastFire(QDate(2026, 1, 5), QTime(8, 0), Qt::UTC);
        VERIFY_OK(m_store->saveScheduleFireStates({{id, lastFire, {}, {}}}));
        NewRun entry;
        entry.agentId = QStringLiteral("digest");
        entry.trigger = QStringLiteral("schedule:") + id;
        entry.status = RunStatus::Missed;
        entry.reason = QStringLiteral("missed: engine was not running at x (misfire skip)");
        entry.scheduledFor = lastFire;
        VERIFY_OK(m_store->createRun(entry));

        // Pausing alone keeps the schedule as it is (history, plan).
        ScheduleEditor ed(m_store.get());
        ed.setSchedule(*m_store->schedule(id));
        auto* paused = ed.findChild<QCheckBox*>(QStringLiteral("pausedCheck"));
        auto* state = ed.findChild<QLabel*>(QStringLiteral("scheduleState"));
        QVERIFY(state->text().contains(QStringLiteral("2026-01-05T09:00:00+01:00")));
        paused->click();
        QVERIFY(paused->isChecked());
        QVERIFY(ed.save());
        auto after = m_store->schedule(id);
        VERIFY_OK(after);
        QVERIFY(after->paused);
        QCOMPARE(after->lastFireAt, lastFire);
        QCOMPARE(after->createdAt, added->createdAt);

        // A new time: the same id, a fresh start; its ledger stays.
        QSignalSpy saved(&ed, &ScheduleEditor::saved);
        retype(ed.findChild<QLineEdit*>(QStringLiteral("cronEdit")),
               QStringLiteral("0 10 * * 1-5"));
        QVERIFY(ed.save());
        QCOMPARE(saved.at(0).at(0).toString(), id);
        after = m_store->schedule(id);
        VERIFY_OK(after);
        QCOMPARE(after->cron, QStringLiteral("0 10 * * 1-5"));
        QVERIFY(after->paused);
        QVERIFY(!after->lastFireAt.isValid());
        QCOMPARE(m_store->schedules(QStringLiteral("digest"))->size(), 1);
        QCOMPARE(m_store->scheduleRuns(id)->size(), 1);
    }

    void editAgentScheduleSavesANewVersion()
    {
        AgentDefinition def = makeAgent(QStringLiteral("digest"));
        ScheduleSpec spec;
        spec.cron = QStringLiteral("0 9 * * *");
        spec.tz = QStringLiteral("Europe/Paris");
        def.schedules << spec;
        VERIFY_OK(m_store->saveAgent(def));
        const int version = m_store->agent(QStringLiteral("digest"))->latestVersion;
        auto s = m_store->schedule(QStringLiteral("digest#1"));
        VERIFY_OK(s);

        ScheduleEditor ed(m_store.get());
        ed.setSchedule(*s);
        auto* input = ed.findChild<QPlainTextEdit*>(QStringLiteral("inputEdit"));
        QVERIFY(!input->isEnabled()); // agent schedules have no input of their own
        auto* state = ed.findChild<QLabel*>(QStringLiteral("scheduleState"));
        QVERIFY2(state->text().contains(QStringLiteral("version %1").arg(version + 1)),
                 qPrintable(state->text()));
        retype(ed.findChild<QLineEdit*>(QStringLiteral("cronEdit")), QStringLiteral("0 7 * * *"));
        QVERIFY(ed.save());
        auto agent = m_store->agent(QStringLiteral("digest"));
        VERIFY_OK(agent);
        QCOMPARE(agent->latestVersion, version + 1);
        QCOMPARE(agent->definition.schedules.size(), 1);
        QCOMPARE(agent->definition.schedules.at(0).cron, QStringLiteral("0 7 * * *"));
        QCOMPARE(agent->definition.schedules.at(0).tz, QStringLiteral("Europe/Paris"));
        QCOMPARE(m_store->schedule(QStringLiteral("digest#1"))->cron, QStringLiteral("0 7 * * *"));
    }

    void ledgerListsSkippedAndMissedFires()
    {
        ScheduleRecord s;
        s.agentId = QStringLiteral("digest");
        s.cron = QStringLiteral("*/5 * * * *");
        s.tz = QStringLiteral("Europe/Paris");
        auto added = m_store->addSchedule(s);
        VERIFY_OK(added);
        const QString id = added->id;
        const QString trigger = QStringLiteral("schedule:") + id;
        const QDateTime t0(QDate(2026, 6, 1), QTime(7, 0), Qt::UTC);
        auto entry = [&](RunStatus st, const QString& reason, const QDateTime& at) {
            NewRun nr;
            nr.agentId = QStringLiteral("digest");
            nr.trigger = trigger;
            nr.status = st;
            nr.reason = reason;
            nr.scheduledFor = at;
            return m_store->createRun(nr);
        };
        VERIFY_OK(entry(RunStatus::Queued, {}, t0));
        VERIFY_OK(entry(RunStatus::Skipped,
                        QStringLiteral("skipped: previous run run_01ABC still running (overlap "
                                       "skip)"),
                        t0.addSecs(300)));
        VERIFY_OK(entry(RunStatus::Missed,
                        QStringLiteral("missed: engine was not running at "
                                       "2026-06-01T09:10:00+02:00 (misfire skip)"),
                        t0.addSecs(600)));

        ScheduleLedger ledger(m_store.get());
        ledger.resize(900, 300);
        ledger.show();
        QVERIFY(QTest::qWaitForWindowExposed(&ledger));
        auto* empty = ledger.findChild<QLabel*>(QStringLiteral("ledgerEmptyState"));
        QVERIFY(empty->isVisible());

        ledger.showSchedule(id);
        QCOMPARE(ledger.entryCount(), 2);
        auto* list = ledger.findChild<QTreeWidget*>(QStringLiteral("ledgerList"));
        QVERIFY(list->isVisible());
        // Newest first, instants in the schedule's zone, reasons as recorded.
        QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("2026-06-01T09:10:00+02:00"));
        QCOMPARE(list->topLevelItem(0)->text(1), QStringLiteral("Missed"));
        QVERIFY(
            list->topLevelItem(0)->text(3).startsWith(QStringLiteral("engine was not running")));
        QCOMPARE(list->topLevelItem(1)->text(1), QStringLiteral("Skipped"));
        QVERIFY(list->topLevelItem(1)->text(3).contains(QStringLiteral("overlap skip")));
        saveScreenshot(&ledger, QStringLiteral("schedule-ledger"));

        QSignalSpy activated(&ledger, &ScheduleLedger::runActivated);
        emit list->itemActivated(list->topLevelItem(0), 0);
        QCOMPARE(activated.count(), 1);
        QVERIFY(activated.at(0).at(0).toString().startsWith(QStringLiteral("run_")));

        ledger.setShowAllFires(true);
        QCOMPARE(ledger.entryCount(), 3);
        ledger.setShowAllFires(false);
        ledger.showAgent(QStringLiteral("digest"));
        QCOMPARE(ledger.entryCount(), 2);

        // A schedule with nothing to report says so.
        ScheduleRecord quiet = s;
        auto other = m_store->addSchedule(quiet);
        VERIFY_OK(other);
        ledger.showSchedule(other->id);
        QCOMPARE(ledger.entryCount(), 0);
        QVERIFY(empty->isVisible());
        QVERIFY(empty->text().contains(QStringLiteral("Nothing skipped or missed")));
    }
};

QTEST_MAIN(TestScheduleEditor)
#include "tst_ScheduleEditor.moc"
