// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Run timeline benchmarks (the desktop app's run view) on a 1,000-event run: events per second
// appended to the TimelineModel (one batch, live-sized batches of 10, and batches of 10 with a
// tree view attached and painted), and the time from RunView::showRun of a stored finished
// run to the first paint of its timeline. Medians of several runs; the offscreen platform
// unless QT_QPA_PLATFORM says otherwise. Baseline: a QStandardItemModel fed the same rows.
#include "vivarium/core/Paths.h"
#include "vivarium/core/Store.h"
#include "vivarium/ui/RunView.h"
#include "vivarium/ui/TimelineModel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QTreeView>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace vivarium;

namespace {

constexpr int kEvents = 1000;
constexpr int kRepeats = 9;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

QJsonObject usage(int in, int out)
{
    return {{QStringLiteral("input_tokens"), in}, {QStringLiteral("output_tokens"), out}};
}

/** Queued, started, model turns each with a tool call and its result, logs, output, end. */
QList<RunEvent> journal(int count)
{
    QList<RunEvent> out;
    qint64 ms = 0;
    auto add = [&](const QString& type, const QJsonObject& data) {
        ms += 37;
        RunEvent e;
        e.seq = out.size() + 1;
        e.type = type;
        e.ts = QDateTime::fromMSecsSinceEpoch(1'780'000'000'000 + ms, Qt::UTC);
        e.data = data;
        out << e;
    };
    add(QStringLiteral("run.queued"), {{QStringLiteral("agent"), QStringLiteral("bench")},
                                       {QStringLiteral("agent_version"), 1},
                                       {QStringLiteral("trigger"), QStringLiteral("bench")}});
    add(QStringLiteral("run.started"),
        {{QStringLiteral("runner_pid"), 4242}, {QStringLiteral("tier"), QStringLiteral("bwrap")}});
    int step = 0;
    const QString content = QString(QStringLiteral("a line of tool output ")).repeated(60);
    while (out.size() < count - 2) {
        ++step;
        const QString callId = QStringLiteral("call_%1").arg(step);
        const QList<std::pair<QString, QJsonObject>> turn{
            {QStringLiteral("llm.request"),
             {{QStringLiteral("step"), step},
              {QStringLiteral("model"), QStringLiteral("bench-model")},
              {QStringLiteral("messages"), step * 2},
              {QStringLiteral("tools"), QJsonArray{QStringLiteral("file_read")}}}},
            {QStringLiteral("llm.response"),
             {{QStringLiteral("step"), step},
              {QStringLiteral("stop_reason"), QStringLiteral("tool_use")},
              {QStringLiteral("text"), QStringLiteral("Reading the next file.")},
              {QStringLiteral("tool_calls"),
               QJsonArray{QJsonObject{{QStringLiteral("id"), callId},
                                      {QStringLiteral("name"), QStringLiteral("file_read")}}}},
              {QStringLiteral("usage"), usage(1000 + step, 50)},
              {QStringLiteral("cost_usd"), 0.0037}}},
            {QStringLiteral("tool.call"),
             {{QStringLiteral("step"), step},
              {QStringLiteral("call_id"), callId},
              {QStringLiteral("name"), QStringLiteral("file_read")},
              {QStringLiteral("arguments"),
               QJsonObject{{QStringLiteral("path"), QStringLiteral("in/%1.txt").arg(step)}}}}},
            {QStringLiteral("tool.result"),
             {{QStringLiteral("step"), step},
              {QStringLiteral("call_id"), callId},
              {QStringLiteral("name"), QStringLiteral("file_read")},
              {QStringLiteral("is_error"), step % 9 == 0},
              {QStringLiteral("content"), content},
              {QStringLiteral("duration_ms"), 2}}},
        };
        for (const auto& [type, data] : turn) {
            if (out.size() < count - 2)
                add(type, data);
        }
    }
    add(QStringLiteral("run.output"),
        {{QStringLiteral("output"), QJsonObject{{QStringLiteral("files"), step}}}});
    add(QStringLiteral("run.finished"),
        {{QStringLiteral("status"), QStringLiteral("succeeded")},
         {QStringLiteral("usage"), QJsonObject{{QStringLiteral("steps"), step},
                                               {QStringLiteral("input_tokens"), 1000 * step},
                                               {QStringLiteral("output_tokens"), 50 * step},
                                               {QStringLiteral("cost_usd"), 0.0037 * step}}},
         {QStringLiteral("duration_ms"), double(ms)}});
    return out;
}

/** Wall time of `body`, in milliseconds. */
template <typename F> double timeMs(F&& body)
{
    QElapsedTimer t;
    t.start();
    body();
    return double(t.nsecsElapsed()) / 1e6;
}

/** Notes when a widget is painted. */
class PaintSpy : public QObject
{
public:
    bool painted = false;
    bool eventFilter(QObject* o, QEvent* e) override
    {
        if (e->type() == QEvent::Paint)
            painted = true;
        return QObject::eventFilter(o, e);
    }
};

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QList<RunEvent> events = journal(kEvents);

    std::printf("== run timeline: %d events (%s platform) ==\n", int(events.size()),
                qPrintable(QGuiApplication::platformName()));

    std::vector<double> oneBatch, live, viewed, baseline;
    int rows = 0;
    for (int r = 0; r < kRepeats; ++r) {
        {
            TimelineModel m;
            oneBatch.push_back(timeMs([&] { m.appendEvents(events); }));
            rows = m.rowCount();
        }
        {
            TimelineModel m;
            live.push_back(timeMs([&] {
                for (qsizetype i = 0; i < events.size(); i += 10)
                    m.appendEvents(events.mid(i, 10));
            }));
        }
        {
            TimelineModel m;
            QTreeView view;
            view.setUniformRowHeights(true);
            view.setModel(&m);
            view.resize(1100, 700);
            view.show();
            QCoreApplication::processEvents();
            viewed.push_back(timeMs([&] {
                for (qsizetype i = 0; i < events.size(); i += 10) {
                    m.appendEvents(events.mid(i, 10));
                    view.scrollToBottom();
                    QCoreApplication::processEvents(); // the view lays out and paints
                }
            }));
        }
        {
            // Baseline: the same events as plain QStandardItem rows (no merging, no text).
            QStandardItemModel m;
            baseline.push_back(timeMs([&] {
                for (const RunEvent& e : events) {
                    QList<QStandardItem*> row{
                        new QStandardItem(QString::number(e.seq)), new QStandardItem(e.type),
                        new QStandardItem(e.data.value(QStringLiteral("name")).toString())};
                    m.appendRow(row);
                }
            }));
        }
    }
    const auto rate = [](double ms) { return ms > 0 ? double(kEvents) / (ms / 1000.0) : 0.0; };
    std::printf("  TimelineModel, one batch:             %7.2f ms  (%9.0f events/s, %d rows)\n",
                median(oneBatch), rate(median(oneBatch)), rows);
    std::printf("  TimelineModel, batches of 10:         %7.2f ms  (%9.0f events/s)\n",
                median(live), rate(median(live)));
    std::printf("  batches of 10, tree view painting:    %7.2f ms  (%9.0f events/s)\n",
                median(viewed), rate(median(viewed)));
    std::printf("  baseline: QStandardItemModel appendRow x %d: %6.2f ms (%9.0f events/s)\n",
                kEvents, median(baseline), rate(median(baseline)));

    // A stored finished run: RunView::showRun to the first paint of the timeline.
    QTemporaryDir dir;
    auto store = Store::open(Paths(dir.path()).storeFile());
    if (!store) {
        std::fprintf(stderr, "store: %s\n", qPrintable(store.error().toString()));
        return 1;
    }
    AgentDefinition def;
    def.id = QStringLiteral("bench");
    def.name = QStringLiteral("Bench");
    def.prompt = QStringLiteral("Read files.");
    def.model.endpoint = QStringLiteral("local");
    def.model.name = QStringLiteral("bench-model");
    if (!(*store)->saveAgent(def)) {
        std::fprintf(stderr, "cannot save the agent\n");
        return 1;
    }
    NewRun nr;
    nr.agentId = def.id;
    nr.trigger = QStringLiteral("bench");
    auto run = (*store)->createRun(nr);
    QList<RunEvent> stored = events;
    for (RunEvent& e : stored)
        e.seq = 0;
    if (!run || !(*store)->appendEvents(run->id, stored) ||
        !(*store)->setRunStatus(run->id, RunStatus::Succeeded)) {
        std::fprintf(stderr, "cannot store the run\n");
        return 1;
    }
    std::vector<double> showMs, paintMs;
    for (int r = 0; r < kRepeats; ++r) {
        RunView view(store->get(), nullptr);
        view.resize(1100, 720);
        view.show();
        QCoreApplication::processEvents();
        auto* tree = view.findChild<QTreeView*>(QStringLiteral("runTimeline"));
        PaintSpy spy;
        tree->viewport()->installEventFilter(&spy);
        QElapsedTimer t;
        t.start();
        view.showRun(run->id);
        showMs.push_back(double(t.nsecsElapsed()) / 1e6);
        while (!spy.painted && t.elapsed() < 10000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        paintMs.push_back(double(t.nsecsElapsed()) / 1e6);
        tree->viewport()->removeEventFilter(&spy);
    }
    std::printf("  RunView::showRun (store read, model, totals, audit): %7.2f ms\n",
                median(showMs));
    std::printf("  ... to the first paint of the timeline:             %7.2f ms  (target < 100 "
                "ms)\n",
                median(paintMs));
    return 0;
}
