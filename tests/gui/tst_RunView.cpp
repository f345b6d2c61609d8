// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The run view against real runs (supervisor, real runner, fake model server on 127.0.0.1),
// the timeline model's merge and seq rules, a 1,000-event replay, and the insight chart.
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/ui/RunChart.h"
#include "vivarium/ui/RunView.h"
#include "vivarium/ui/TimelineModel.h"

#include "FakeModelServer.h"
#include "TestSupport.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>
#include <QTreeView>
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

constexpr int FinishTimeoutMs = 30000;

void saveScreenshot(QWidget* w, const QString& name)
{
    const QString dir = qEnvironmentVariable("VIVARIUM_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    QApplication::processEvents(); // pending layouts first: the picture is what a user sees
    QVERIFY(w->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png")));
}

AgentDefinition makeAgent(const QString& id, const QString& endpoint)
{
    AgentDefinition def;
    def.id = id;
    def.name = QStringLiteral("Agent ") + id;
    def.prompt = QStringLiteral("Triage the inbox and report.");
    def.model.endpoint = endpoint;
    def.model.name = QStringLiteral("test-model");
    def.limits.timeoutS = 60;
    def.tools.memory = true;
    def.tools.files = true;
    // The view is under test, not the sandbox (tst_sandboxattacks covers that).
    def.sandbox.tier = QStringLiteral("none");
    def.sandbox.minTier = QStringLiteral("none");
    return def;
}

QJsonObject usage(int in, int out)
{
    return {{QStringLiteral("input_tokens"), in}, {QStringLiteral("output_tokens"), out}};
}

QJsonObject toolTurn(const QString& id, const QString& name, const QJsonObject& args,
                     int delayMs = 0)
{
    return {{QStringLiteral("tool_calls"),
             QJsonArray{QJsonObject{{QStringLiteral("id"), id},
                                    {QStringLiteral("name"), name},
                                    {QStringLiteral("arguments"), args}}}},
            {QStringLiteral("usage"), usage(120, 30)},
            {QStringLiteral("delay_ms"), delayMs}};
}

QJsonObject textTurn(const QString& text, int delayMs = 0)
{
    return {{QStringLiteral("text"), text},
            {QStringLiteral("usage"), usage(200, 40)},
            {QStringLiteral("delay_ms"), delayMs}};
}

/** A data directory with a store, an in-memory vault, a fake model and a supervisor. */
class Env
{
public:
    Env()
    {
        auto s = Store::open(Paths(m_tmp.path()).storeFile());
        if (!s) {
            m_error = s.error().toString();
            return;
        }
        store = std::move(*s);
        if (!server.start())
            m_error = QStringLiteral("fake model server did not start");
    }
    ~Env()
    {
        sup.reset();
        server.stop();
    }

    bool ok() const { return m_error.isEmpty(); }
    QString error() const { return m_error; }
    QString dataDir() const { return m_tmp.path(); }

    /** A model endpoint on the fake server (priced or not) and an agent using it. */
    bool addAgent(const QString& agentId, bool priced)
    {
        ModelEndpointRecord e;
        e.name = agentId + QStringLiteral("-model");
        e.api = QStringLiteral("openai");
        e.baseUrl = server.openAiBaseUrl().toString();
        if (priced) {
            e.inputPricePerMTok = 3.0;
            e.outputPricePerMTok = 15.0;
        }
        if (auto r = store->saveModelEndpoint(e); !r) {
            m_error = r.error().toString();
            return false;
        }
        AgentDefinition def = makeAgent(agentId, e.name);
        def.outputSchema = QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}};
        if (auto r = store->saveAgent(def); !r) {
            m_error = r.error().toString();
            return false;
        }
        return true;
    }

    RunSupervisor* start()
    {
        SupervisorOptions o;
        o.runnerPath = testsupport::bin(QStringLiteral("vivarium-runner"));
        o.adoptForeignRuns = false;
        sup = std::make_unique<RunSupervisor>(store.get(), &secrets, Paths(m_tmp.path()), o);
        return sup.get();
    }

    QString enqueue(const QString& agentId)
    {
        auto r =
            sup->enqueue(agentId, QJsonObject{{QStringLiteral("mailbox"), QStringLiteral("work")}},
                         QStringLiteral("cli:tester"));
        if (!r) {
            m_error = r.error().toString();
            return {};
        }
        return r->id;
    }

    testsupport::FakeModelServer server;
    std::unique_ptr<Store> store;
    MemorySecretStore secrets;
    std::unique_ptr<RunSupervisor> sup;

private:
    QTemporaryDir m_tmp;
    QString m_error;
};

RunEvent makeEvent(qint64 seq, const QString& type, const QJsonObject& data, qint64 msFromStart = 0)
{
    RunEvent e;
    e.seq = seq;
    e.type = type;
    e.ts = QDateTime::fromMSecsSinceEpoch(1'780'000'000'000 + msFromStart, Qt::UTC);
    e.data = data;
    return e;
}

/**
 * A realistic journal of `count` events: queued, started, then model turns each with a tool
 * call and result (every 7th an error), logs, the output and the end.
 */
QList<RunEvent> syntheticJournal(int count)
{
    QList<RunEvent> out;
    qint64 ms = 0;
    auto add = [&](const QString& type, const QJsonObject& data) {
        ms += 37;
        RunEvent e;
        e.type = type;
        e.ts = QDateTime::fromMSecsSinceEpoch(1'780'000'000'000 + ms, Qt::UTC);
        e.data = data;
        out << e;
    };
    add(QStringLiteral("run.queued"), {{QStringLiteral("agent"), QStringLiteral("bulk")},
                                       {QStringLiteral("agent_version"), 1},
                                       {QStringLiteral("trigger"), QStringLiteral("test")}});
    add(QStringLiteral("run.started"),
        {{QStringLiteral("runner_pid"), 4242}, {QStringLiteral("tier"), QStringLiteral("bwrap")}});
    int step = 0;
    while (out.size() < count - 3) {
        ++step;
        add(QStringLiteral("llm.request"), {{QStringLiteral("step"), step},
                                            {QStringLiteral("model"), QStringLiteral("test-model")},
                                            {QStringLiteral("messages"), step * 2},
                                            {QStringLiteral("tools"), QJsonArray{}}});
        const QString callId = QStringLiteral("call_%1").arg(step);
        add(QStringLiteral("llm.response"),
            {{QStringLiteral("step"), step},
             {QStringLiteral("model"), QStringLiteral("test-model")},
             {QStringLiteral("stop_reason"), QStringLiteral("tool_use")},
             {QStringLiteral("text"), QString()},
             {QStringLiteral("tool_calls"),
              QJsonArray{QJsonObject{{QStringLiteral("id"), callId},
                                     {QStringLiteral("name"), QStringLiteral("file_read")}}}},
             {QStringLiteral("usage"), usage(100 + step, 20)},
             {QStringLiteral("cost_usd"), 0.0006}});
        if (out.size() >= count - 3)
            break;
        add(QStringLiteral("tool.call"),
            {{QStringLiteral("step"), step},
             {QStringLiteral("call_id"), callId},
             {QStringLiteral("name"), QStringLiteral("file_read")},
             {QStringLiteral("arguments"),
              QJsonObject{{QStringLiteral("path"), QStringLiteral("notes/%1.txt").arg(step)}}}});
        if (out.size() >= count - 3)
            break;
        add(QStringLiteral("tool.result"),
            {{QStringLiteral("step"), step},
             {QStringLiteral("call_id"), callId},
             {QStringLiteral("name"), QStringLiteral("file_read")},
             {QStringLiteral("is_error"), step % 7 == 0},
             {QStringLiteral("content"), QString(QStringLiteral("line of text ")).repeated(40)},
             {QStringLiteral("duration_ms"), 3}});
        if (out.size() < count - 3 && step % 5 == 0)
            add(QStringLiteral("log"), {{QStringLiteral("level"), QStringLiteral("info")},
                                        {QStringLiteral("message"), QStringLiteral("progress")}});
    }
    while (out.size() < count - 2)
        add(QStringLiteral("log"), {{QStringLiteral("level"), QStringLiteral("info")},
                                    {QStringLiteral("message"), QStringLiteral("padding")}});
    add(QStringLiteral("run.output"),
        {{QStringLiteral("output"), QJsonObject{{QStringLiteral("done"), true}}}});
    add(QStringLiteral("run.finished"),
        {{QStringLiteral("status"), QStringLiteral("succeeded")},
         {QStringLiteral("reason"), QString()},
         {QStringLiteral("usage"), QJsonObject{{QStringLiteral("steps"), step},
                                               {QStringLiteral("input_tokens"), 100 * step},
                                               {QStringLiteral("output_tokens"), 20 * step},
                                               {QStringLiteral("cost_usd"), 0.0006 * step},
                                               {QStringLiteral("unpriced"), false}}},
         {QStringLiteral("duration_ms"), double(ms)}});
    return out;
}

/** Top-level rows of the model with a severity. */
int rowsWithSeverity(const QAbstractItemModel* m, TimelineModel::Severity s)
{
    int n = 0;
    for (int r = 0; r < m->rowCount(); ++r)
        n += m->index(r, 0).data(TimelineModel::SeverityRole).toInt() == int(s) ? 1 : 0;
    return n;
}

int rowsOfKind(const QAbstractItemModel* m, TimelineModel::Kind k)
{
    int n = 0;
    for (int r = 0; r < m->rowCount(); ++r)
        n += m->index(r, 0).data(TimelineModel::KindRole).toInt() == int(k) ? 1 : 0;
    return n;
}

} // namespace

class TestRunView : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        const QString runner = testsupport::bin(QStringLiteral("vivarium-runner"));
        QVERIFY2(QFileInfo(runner).isExecutable(), qPrintable(runner));
    }

    // --- the model alone ----------------------------------------------------------------------

    void modelMergesAndKeepsSeqOrder()
    {
        TimelineModel m;
        const QList<RunEvent> first{
            makeEvent(1, QStringLiteral("run.queued"),
                      {{QStringLiteral("agent"), QStringLiteral("a")}}),
            makeEvent(
                2, QStringLiteral("llm.request"),
                {{QStringLiteral("step"), 1}, {QStringLiteral("model"), QStringLiteral("m")}}),
            makeEvent(
                3, QStringLiteral("llm.response"),
                {{QStringLiteral("step"), 1},
                 {QStringLiteral("text"), QString()},
                 {QStringLiteral("tool_calls"),
                  QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("file_read")}}}},
                 {QStringLiteral("usage"), usage(10, 5)},
                 {QStringLiteral("cost_usd"), QJsonValue()}},
                800),
        };
        QCOMPARE(m.appendEvents(first), 3);
        QCOMPARE(m.rowCount(), 2); // request and response are one model turn
        const QModelIndex turn = m.index(1, TimelineModel::TokensColumn);
        QCOMPARE(turn.data().toString(), QStringLiteral("10 in / 5 out"));
        QCOMPARE(m.index(1, TimelineModel::CostColumn).data().toString(),
                 QStringLiteral("unpriced"));
        QCOMPARE(m.index(1, TimelineModel::DurationColumn).data().toString(),
                 QStringLiteral("800 ms"));
        QVERIFY(m.totals().unpriced);

        // Replay overlapping live delivery: 2 and 3 again, then 4 and 5.
        const QString longContent = QString(QStringLiteral("x")).repeated(5000);
        const QList<RunEvent> second{
            first.at(1),
            first.at(2),
            makeEvent(4, QStringLiteral("tool.call"),
                      {{QStringLiteral("step"), 1},
                       {QStringLiteral("call_id"), QStringLiteral("c1")},
                       {QStringLiteral("name"), QStringLiteral("file_read")},
                       {QStringLiteral("arguments"),
                        QJsonObject{{QStringLiteral("path"), QStringLiteral("missing.txt")}}}}),
            makeEvent(5, QStringLiteral("tool.result"),
                      {{QStringLiteral("step"), 1},
                       {QStringLiteral("call_id"), QStringLiteral("c1")},
                       {QStringLiteral("name"), QStringLiteral("file_read")},
                       {QStringLiteral("is_error"), true},
                       {QStringLiteral("content"), longContent},
                       {QStringLiteral("duration_ms"), 4}}),
        };
        QCOMPARE(m.appendEvents(second), 2);
        QCOMPARE(m.eventCount(), 5);
        QCOMPARE(m.rowCount(), 3); // the call and its result are one row
        const QModelIndex tool = m.index(2, 0);
        QCOMPARE(tool.data(TimelineModel::SeverityRole).toInt(),
                 int(TimelineModel::Severity::Error));
        QCOMPARE(m.rowCount(tool), 2); // arguments, error
        QCOMPARE(m.index(1, TimelineModel::EventColumn, tool).data().toString(),
                 QStringLiteral("error"));
        // Long values: elided in the row, whole in FullTextRole.
        const QString details = m.index(1, TimelineModel::DetailsColumn, tool).data().toString();
        QVERIFY(details.size() <= TimelineModel::DetailsChars);
        QVERIFY(details.endsWith(QChar(0x2026)));
        QCOMPARE(m.index(1, 0, tool).data(TimelineModel::FullTextRole).toString(), longContent);
        QCOMPARE(m.totals().toolErrors, 1);

        // A gap stops the batch: nothing after it is taken until the caller fills it.
        QCOMPARE(m.appendEvents({makeEvent(7, QStringLiteral("log"), {})}), 0);
        QVERIFY(m.hasGapAfter());
        QCOMPARE(m.lastSeq(), qint64(5));
        QCOMPARE(m.appendEvents({makeEvent(6, QStringLiteral("log"),
                                           {{QStringLiteral("level"), QStringLiteral("error")},
                                            {QStringLiteral("message"), QStringLiteral("boom")}}),
                                 makeEvent(7, QStringLiteral("log"), {})}),
                 2);
        QVERIFY(!m.hasGapAfter());
        QCOMPARE(rowsWithSeverity(&m, TimelineModel::Severity::Error), 2);
    }

    // --- a real run, live -----------------------------------------------------------------------

    void liveRunFillsTimeline()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        QVERIFY2(env.addAgent(QStringLiteral("triage"), true), qPrintable(env.error()));
        env.server.setScript(
            {toolTurn(QStringLiteral("call_1"), QStringLiteral("file_write"),
                      {{QStringLiteral("path"), QStringLiteral("notes.txt")},
                       {QStringLiteral("content"), QStringLiteral("3 invoices, 1 refund")}},
                      400),
             toolTurn(QStringLiteral("call_2"), QStringLiteral("file_read"),
                      {{QStringLiteral("path"), QStringLiteral("missing.txt")}}, 400),
             textTurn(QStringLiteral("{\"summary\": \"3 invoices filed\", \"refunds\": 1}"), 400)});
        RunSupervisor* sup = env.start();

        RunView view(env.store.get(), sup);
        view.resize(1100, 720);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        auto* tree = view.findChild<QTreeView*>(QStringLiteral("runTimeline"));
        auto* cancel = view.findChild<QPushButton*>(QStringLiteral("cancelRunButton"));
        auto* tokens = view.findChild<QLabel*>(QStringLiteral("runTokens"));
        auto* cost = view.findChild<QLabel*>(QStringLiteral("runCost"));
        auto* output = view.findChild<QPlainTextEdit*>(QStringLiteral("runOutput"));
        auto* detail = view.findChild<QPlainTextEdit*>(QStringLiteral("runDetail"));
        auto* audit = view.findChild<QTreeWidget*>(QStringLiteral("runAudit"));
        auto* status = view.findChild<QLabel*>(QStringLiteral("runStatus"));
        QVERIFY(tree && cancel && tokens && cost && output && detail && audit && status);
        auto* model = qobject_cast<TimelineModel*>(tree->model());
        QVERIFY(model);

        // Rows must appear while the run is live, not only at the end.
        int rowsSeenLive = 0;
        QStringList tokensSeenLive;
        connect(model, &QAbstractItemModel::rowsInserted, &view, [&](const QModelIndex& parent) {
            if (!parent.isValid() && view.isLive()) {
                rowsSeenLive = model->rowCount();
                tokensSeenLive << tokens->text();
            }
        });

        QSignalSpy finished(&view, &RunView::runFinished);
        const QString id = env.enqueue(QStringLiteral("triage"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        view.showRun(id);
        QCOMPARE(view.runId(), id);
        QVERIFY(view.isLive());
        QVERIFY(cancel->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(cancel->isEnabled(), 5000);

        // Mid-run: the first tool call is in, the run is still going.
        QTRY_VERIFY_WITH_TIMEOUT(rowsOfKind(model, TimelineModel::Kind::ToolCall) >= 1,
                                 FinishTimeoutMs);
        if (view.isLive())
            saveScreenshot(&view, QStringLiteral("run-view-live"));

        QTRY_VERIFY_WITH_TIMEOUT(!view.isLive(), FinishTimeoutMs);
        QCOMPARE(view.status(), RunStatus::Succeeded);
        QVERIFY2(rowsSeenLive >= 3, qPrintable(QString::number(rowsSeenLive)));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), id);
        QVERIFY(!cancel->isEnabled());

        // Every stored event exactly once, in seq order.
        auto stored = env.store->events(id);
        VERIFY_OK(stored);
        QTRY_COMPARE_WITH_TIMEOUT(model->eventCount(), int(stored->size()), 5000);
        QCOMPARE(model->lastSeq(), stored->last().seq);
        QCOMPARE(rowsOfKind(model, TimelineModel::Kind::ModelTurn), 3);
        QCOMPARE(rowsOfKind(model, TimelineModel::Kind::ToolCall), 2);
        QCOMPARE(rowsOfKind(model, TimelineModel::Kind::Finished), 1);
        QCOMPARE(rowsOfKind(model, TimelineModel::Kind::Output), 1);
        QVERIFY(rowsWithSeverity(model, TimelineModel::Severity::Error) >= 1); // missing.txt

        // Totals: 3 turns (120+30, 120+30, 200+40) = 540 tokens; priced, so a dollar amount.
        const RunRecord run = *env.store->run(id);
        QCOMPARE(run.usage.inputTokens + run.usage.outputTokens, qint64(540));
        QVERIFY2(tokens->text().contains(QStringLiteral("540")), qPrintable(tokens->text()));
        QVERIFY2(cost->text().contains(QLatin1Char('$')), qPrintable(cost->text()));
        tokensSeenLive.removeDuplicates();
        QVERIFY2(tokensSeenLive.size() >= 2, qPrintable(tokensSeenLive.join(QLatin1Char('|'))));

        // The output, pretty, in its tab and in the detail pane (selected at the end).
        QVERIFY2(
            output->toPlainText().contains(QStringLiteral("\"summary\": \"3 invoices filed\"")),
            qPrintable(output->toPlainText()));
        QVERIFY(output->toPlainText().contains(QLatin1Char('\n')));
        QTRY_VERIFY_WITH_TIMEOUT(detail->toPlainText().contains(QStringLiteral("3 invoices filed")),
                                 5000);

        // The audit trail of the run.
        QTRY_VERIFY_WITH_TIMEOUT(audit->topLevelItemCount() >= 4, 5000);
        QStringList actions;
        for (int i = 0; i < audit->topLevelItemCount(); ++i)
            actions << audit->topLevelItem(i)->text(2);
        QVERIFY2(actions.contains(QStringLiteral("run.finished")), qPrintable(actions.join(',')));
        QVERIFY(actions.contains(QStringLiteral("llm.call")));

        tree->expandAll();
        saveScreenshot(&view, QStringLiteral("run-view-finished"));
    }

    void unpricedRunNeverShowsZeroDollars()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        QVERIFY2(env.addAgent(QStringLiteral("local"), false), qPrintable(env.error()));
        env.server.setScript({textTurn(QStringLiteral("{\"ok\": true}"))});
        RunSupervisor* sup = env.start();
        RunView view(env.store.get(), sup);
        const QString id = env.enqueue(QStringLiteral("local"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        view.showRun(id);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isLive(), FinishTimeoutMs);
        auto* cost = view.findChild<QLabel*>(QStringLiteral("runCost"));
        QTRY_VERIFY_WITH_TIMEOUT(cost->text().contains(QStringLiteral("unpriced")), 5000);
        QVERIFY(!cost->text().contains(QStringLiteral("$0")));
    }

    void cancelSlowRun()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        QVERIFY2(env.addAgent(QStringLiteral("slow"), true), qPrintable(env.error()));
        env.server.setScript({textTurn(QStringLiteral("{\"late\": true}"), 25000)});
        RunSupervisor* sup = env.start();
        RunView view(env.store.get(), sup);
        view.resize(1000, 600);
        view.show();
        auto* cancel = view.findChild<QPushButton*>(QStringLiteral("cancelRunButton"));
        auto* model = qobject_cast<TimelineModel*>(
            view.findChild<QTreeView*>(QStringLiteral("runTimeline"))->model());
        QVERIFY(cancel && model);

        const QString id = env.enqueue(QStringLiteral("slow"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        view.showRun(id);
        // The model call is out and waiting.
        QTRY_VERIFY_WITH_TIMEOUT(rowsWithSeverity(model, TimelineModel::Severity::Pending) == 1,
                                 FinishTimeoutMs);
        QVERIFY(cancel->isEnabled());
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(cancel, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(view.status(), RunStatus::Cancelled, 10000);
        QVERIFY2(clock.elapsed() < 10000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(!cancel->isEnabled());
        QTRY_COMPARE_WITH_TIMEOUT(rowsOfKind(model, TimelineModel::Kind::Finished), 1, 5000);
        QCOMPARE(model->finishedStatus(), std::optional<RunStatus>(RunStatus::Cancelled));
        // The turn that never got its answer is closed, not left "waiting".
        QCOMPARE(rowsWithSeverity(model, TimelineModel::Severity::Pending), 0);
        QCOMPARE(env.store->run(id)->reason, QStringLiteral("cancelled from the desktop app"));
        saveScreenshot(&view, QStringLiteral("run-view-cancelled"));
    }

    // --- replay ------------------------------------------------------------------------------

    void thousandEventRunRenders()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        QVERIFY2(env.addAgent(QStringLiteral("bulk"), true), qPrintable(env.error()));
        NewRun nr;
        nr.agentId = QStringLiteral("bulk");
        nr.trigger = QStringLiteral("test");
        auto run = env.store->createRun(nr);
        VERIFY_OK(run);
        QList<RunEvent> journal = syntheticJournal(1000);
        QCOMPARE(journal.size(), 1000);
        // The first half while "live", then the rest: the view must join them without a seam.
        QList<RunEvent> firstHalf = journal.mid(0, 500);
        QList<RunEvent> secondHalf = journal.mid(500);
        VERIFY_OK(env.store->setRunStatus(run->id, RunStatus::Running));
        VERIFY_OK(env.store->appendEvents(run->id, firstHalf));

        // Read-only (no supervisor): it polls the store while the run is live.
        RunView view(env.store.get(), nullptr);
        view.resize(1100, 720);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        auto* tree = view.findChild<QTreeView*>(QStringLiteral("runTimeline"));
        auto* model = qobject_cast<TimelineModel*>(tree->model());
        QVERIFY(!view.findChild<QPushButton*>(QStringLiteral("cancelRunButton"))->isVisible());

        QSignalSpy finished(&view, &RunView::runFinished);
        view.showRun(run->id);
        QCOMPARE(model->eventCount(), 500);
        VERIFY_OK(env.store->appendEvents(run->id, secondHalf));
        VERIFY_OK(env.store->setRunStatus(run->id, RunStatus::Succeeded));
        view.refresh();
        view.refresh(); // twice: nothing may come twice
        QTRY_COMPARE_WITH_TIMEOUT(model->eventCount(), 1000, 5000);
        QCOMPARE(model->lastSeq(), qint64(1000));
        QVERIFY(!view.isLive());
        QCOMPARE(finished.count(), 1); // seen ending by polling

        // A finished 1,000-event run from scratch: the store read, the model insert, the paint.
        RunView fresh(env.store.get(), nullptr);
        fresh.resize(1100, 720);
        fresh.show();
        QVERIFY(QTest::qWaitForWindowExposed(&fresh));
        auto* freshModel = qobject_cast<TimelineModel*>(
            fresh.findChild<QTreeView*>(QStringLiteral("runTimeline"))->model());
        QSignalSpy freshFinished(&fresh, &RunView::runFinished); // it ended before: no signal
        QElapsedTimer clock;
        clock.start();
        fresh.showRun(run->id);
        const qint64 loadMs = clock.elapsed();
        QCOMPARE(freshModel->eventCount(), 1000);
        fresh.repaint();
        const qint64 paintMs = clock.elapsed();
        QCOMPARE(freshFinished.count(), 0);

        // The model alone: events per second appended in live-sized batches of 10.
        for (qsizetype i = 0; i < journal.size(); ++i)
            journal[i].seq = i + 1; // as the store numbered them
        TimelineModel bare;
        QElapsedTimer insert;
        insert.start();
        for (int i = 0; i < journal.size(); i += 10)
            bare.appendEvents(journal.mid(i, 10));
        const qint64 insertUs = insert.nsecsElapsed() / 1000;
        QCOMPARE(bare.eventCount(), 1000);
        qInfo("timeline: 1000 events -> %d rows; showRun (store read + model insert) %lld ms, "
              "to first paint %lld ms; model insert in batches of 10: %lld us (%.0f events/s)",
              freshModel->rowCount(), loadMs, paintMs, insertUs,
              insertUs > 0 ? 1000.0 * 1e6 / double(insertUs) : 0.0);
        saveScreenshot(&fresh, QStringLiteral("run-view-1000-events"));
    }

    void unknownRunShowsWhy()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        RunView view(env.store.get(), nullptr);
        view.showRun(QStringLiteral("run_doesnotexist"));
        auto* empty = view.findChild<QLabel*>(QStringLiteral("runEmptyState"));
        QVERIFY(empty->text().contains(QStringLiteral("not found")));
        view.clear();
        QVERIFY(view.runId().isEmpty());
    }

    // --- the insight chart -----------------------------------------------------------------------

    void chartShowsRecentRuns()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        QVERIFY2(env.addAgent(QStringLiteral("daily"), true), qPrintable(env.error()));
        QVERIFY2(env.addAgent(QStringLiteral("idle"), true), qPrintable(env.error()));

        RunChart chart(env.store.get());
        chart.resize(900, 420);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.showAgent(QStringLiteral("idle"));
        auto* empty = chart.findChild<QLabel*>(QStringLiteral("runChartEmptyState"));
        QVERIFY(empty && empty->isVisible());
        QVERIFY(empty->text().contains(QStringLiteral("No runs yet")));
        saveScreenshot(&chart, QStringLiteral("run-chart-empty"));

        // 12 runs with varied outcomes, durations and usage, plus a skipped ledger entry.
        const QList<RunStatus> outcomes{
            RunStatus::Succeeded, RunStatus::Succeeded, RunStatus::Failed,    RunStatus::Succeeded,
            RunStatus::TimedOut,  RunStatus::Succeeded, RunStatus::Cancelled, RunStatus::Succeeded,
            RunStatus::Succeeded, RunStatus::Failed,    RunStatus::Succeeded, RunStatus::Succeeded};
        QStringList ids;
        QList<int> durations;
        for (int i = 0; i < outcomes.size(); ++i) {
            NewRun nr;
            nr.agentId = QStringLiteral("daily");
            nr.trigger = QStringLiteral("schedule:daily#1");
            auto r = env.store->createRun(nr);
            VERIFY_OK(r);
            VERIFY_OK(env.store->setRunStatus(r->id, RunStatus::Running));
            RunUsage u;
            u.steps = 2 + i % 4;
            u.inputTokens = 800 + 150 * (i % 5);
            u.outputTokens = 120 + 40 * (i % 3);
            if (i == 4) {
                u.unpriced = true;
            } else {
                u.costUsd = (double(u.inputTokens) * 3 + double(u.outputTokens) * 15) / 1e6;
            }
            VERIFY_OK(env.store->setRunUsage(r->id, u));
            VERIFY_OK(env.store->setRunStatus(r->id, outcomes.at(i), QStringLiteral("test")));
            ids << r->id;
            durations << 20 + (i * 37) % 90;
        }
        NewRun skipped;
        skipped.agentId = QStringLiteral("daily");
        skipped.trigger = QStringLiteral("schedule:daily#1");
        skipped.status = RunStatus::Skipped;
        skipped.reason = QStringLiteral("skipped: previous run still running (overlap skip)");
        VERIFY_OK(env.store->createRun(skipped));

        // Spread the runs over the last hours so the bars have lengths (the store stamps "now").
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"),
                                                        QStringLiteral("tst_runview_shape"));
            db.setDatabaseName(env.store->path());
            QVERIFY(db.open());
            const QDateTime base = QDateTime::currentDateTimeUtc().addSecs(-3600 * 6);
            for (int i = 0; i < ids.size(); ++i) {
                const QDateTime created = base.addSecs(i * 1800);
                const QDateTime started = created.addSecs(1);
                QSqlQuery q(db);
                q.prepare(QStringLiteral("UPDATE runs SET created_at = ?, started_at = ?, "
                                         "finished_at = ? WHERE id = ?"));
                q.addBindValue(created.toString(Qt::ISODateWithMs));
                q.addBindValue(started.toString(Qt::ISODateWithMs));
                q.addBindValue(started.addSecs(durations.at(i)).toString(Qt::ISODateWithMs));
                q.addBindValue(ids.at(i));
                QVERIFY(q.exec());
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("tst_runview_shape"));

        chart.showAgent(QStringLiteral("daily"));
        QCOMPARE(chart.runIds(), ids); // oldest first, the skipped entry left out
        auto* summary = chart.findChild<QLabel*>(QStringLiteral("runChartSummary"));
        QVERIFY(summary && summary->isVisible());
        QVERIFY2(summary->text().contains(QStringLiteral("12 runs")), qPrintable(summary->text()));
        QVERIFY2(summary->text().contains(QStringLiteral("1 unpriced run")),
                 qPrintable(summary->text()));
        chart.setRunLimit(5);
        QCOMPARE(chart.runIds(), ids.mid(7));
        chart.setRunLimit(30);
        saveScreenshot(&chart, QStringLiteral("run-chart"));
    }
};

QTEST_MAIN(TestRunView)
#include "tst_RunView.moc"
