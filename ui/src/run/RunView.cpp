// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/RunView.h"

#include "run/RunFormat.h"
#include "run/RunLogging.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/ui/TimelineModel.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTimer>
#include <QTreeView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace vivarium {

using ui::RunFormat;

namespace {

/** Events read from the store per step of a replay: big runs load without freezing the UI. */
constexpr int ReplayChunk = 2000;
/** Live events are collected this long and inserted as one batch. */
constexpr int FlushMs = 30;
/** Store polls while the run is live: events other processes wrote, missed signals. */
constexpr int PollWithSupervisorMs = 2000;
constexpr int PollReadOnlyMs = 1000;

QString cancelReason()
{
    return QStringLiteral("cancelled from the desktop app");
}

QLabel* makeLabel(const QString& objectName, QWidget* parent)
{
    auto* l = new QLabel(parent);
    l->setObjectName(objectName);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    return l;
}

} // namespace

struct RunView::Private
{
    Q_DECLARE_TR_FUNCTIONS(vivarium::RunView)
public:
    RunView* q = nullptr;
    Store* store = nullptr;
    QPointer<RunSupervisor> supervisor;

    QString runId;
    RunRecord record;
    bool haveRecord = false;
    bool finishAnnounced = false;
    bool cancelling = false;
    QString startedTier;
    qint64 lastAuditId = 0;

    TimelineModel* model = nullptr;
    QList<RunEvent> pending;
    QTimer flushTimer;
    QTimer pollTimer;
    QTimer tickTimer;

    QStackedWidget* stack = nullptr;
    QLabel* empty = nullptr;
    QWidget* content = nullptr;
    QLabel* status = nullptr;
    QLabel* title = nullptr;
    QLabel* agent = nullptr;
    QLabel* times = nullptr;
    QLabel* reason = nullptr;
    QLabel* steps = nullptr;
    QLabel* tokens = nullptr;
    QLabel* cost = nullptr;
    QLabel* tools = nullptr;
    QLabel* message = nullptr;
    QPushButton* cancel = nullptr;
    QTabWidget* tabs = nullptr;
    QTreeView* tree = nullptr;
    QCheckBox* follow = nullptr;
    QLabel* detailTitle = nullptr;
    QPlainTextEdit* detail = nullptr;
    QPushButton* copy = nullptr;
    QPlainTextEdit* output = nullptr;
    QPlainTextEdit* input = nullptr;
    QTreeWidget* audit = nullptr;

    void build();
    void fillFromStore();
    void flush();
    void appendBatch(const QList<RunEvent>& events);
    void readRecord();
    void showRecord();
    void showTotals();
    void readAudit();
    void showDetail();
    void updateLive();
    void afterInsert(bool wasAtBottom);
    bool atBottom() const;
};

void RunView::Private::build()
{
    q->setObjectName(QStringLiteral("runView"));
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);

    empty = new QLabel(q);
    empty->setObjectName(QStringLiteral("runEmptyState"));
    empty->setAlignment(Qt::AlignCenter);
    empty->setWordWrap(true);
    empty->setText(tr("<h3>No run selected</h3><p>Pick a run to see what it did, step by step."
                      "</p>"));

    content = new QWidget(q);
    auto* outer = new QVBoxLayout(content);
    outer->setContentsMargins(0, 0, 0, 0);

    // Header: status, id, agent, times, reason; Cancel on the right.
    auto* header = new QHBoxLayout;
    status = new QLabel(content);
    status->setObjectName(QStringLiteral("runStatus"));
    status->setAlignment(Qt::AlignCenter);
    status->setMinimumWidth(90);
    title = makeLabel(QStringLiteral("runTitle"), content);
    QFont big = title->font();
    big.setPointSizeF(big.pointSizeF() * 1.15);
    big.setBold(true);
    title->setFont(big);
    cancel = new QPushButton(tr("Cancel run"), content);
    cancel->setObjectName(QStringLiteral("cancelRunButton"));
    cancel->setToolTip(tr("Stop this run now: the runner is terminated and the run ends "
                          "cancelled."));
    cancel->setIcon(q->style()->standardIcon(QStyle::SP_BrowserStop));
    header->addWidget(status);
    header->addSpacing(8);
    header->addWidget(title, 1);
    header->addWidget(cancel);
    outer->addLayout(header);

    agent = makeLabel(QStringLiteral("runAgent"), content);
    agent->setTextFormat(Qt::RichText);
    QObject::connect(agent, &QLabel::linkActivated, q,
                     [this](const QString& link) { emit q->agentActivated(link); });
    times = makeLabel(QStringLiteral("runTimes"), content);
    reason = makeLabel(QStringLiteral("runReason"), content);
    reason->setWordWrap(true);
    message = makeLabel(QStringLiteral("runMessage"), content);
    message->setWordWrap(true);
    message->setStyleSheet(QStringLiteral("color: #c62828;"));
    message->hide();
    outer->addWidget(agent);
    outer->addWidget(times);
    outer->addWidget(reason);
    outer->addWidget(message);

    // Running totals.
    auto* totals = new QFrame(content);
    totals->setObjectName(QStringLiteral("runTotals"));
    totals->setFrameShape(QFrame::StyledPanel);
    auto* tl = new QHBoxLayout(totals);
    tl->setContentsMargins(8, 4, 8, 4);
    steps = makeLabel(QStringLiteral("runSteps"), totals);
    tokens = makeLabel(QStringLiteral("runTokens"), totals);
    cost = makeLabel(QStringLiteral("runCost"), totals);
    tools = makeLabel(QStringLiteral("runTools"), totals);
    for (QLabel* l : {steps, tokens, cost, tools}) {
        l->setTextFormat(Qt::RichText);
        tl->addWidget(l);
        tl->addSpacing(16);
    }
    tl->addStretch(1);
    outer->addWidget(totals);

    // Timeline: the tree, and below it everything about the selected row.
    model = new TimelineModel(q);
    tree = new QTreeView(content);
    tree->setObjectName(QStringLiteral("runTimeline"));
    tree->setModel(model);
    tree->setUniformRowHeights(true); // no per-row measuring: 1,000 rows stay cheap
    tree->setAlternatingRowColors(true);
    tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    tree->setSelectionMode(QAbstractItemView::SingleSelection);
    tree->setAllColumnsShowFocus(true);
    tree->setAnimated(false);
    tree->setExpandsOnDoubleClick(true);
    tree->setTextElideMode(Qt::ElideRight);
    QHeaderView* h = tree->header();
    h->setStretchLastSection(true);
    h->setSectionResizeMode(QHeaderView::Interactive);
    const QFontMetrics fm(tree->font());
    const auto w = [&](const QString& sample) { return fm.horizontalAdvance(sample) + 28; };
    tree->setColumnWidth(TimelineModel::TimeColumn, w(QStringLiteral("+00:00.0")) + 12);
    tree->setColumnWidth(TimelineModel::StepColumn, w(QStringLiteral("Step")) - 8);
    tree->setColumnWidth(TimelineModel::EventColumn, w(QStringLiteral("Finished")) + 24);
    tree->setColumnWidth(TimelineModel::DurationColumn, w(QStringLiteral("999 ms")));
    tree->setColumnWidth(TimelineModel::TokensColumn, w(QStringLiteral("99,999 in / 9,999 out")));
    tree->setColumnWidth(TimelineModel::CostColumn, w(QStringLiteral("unpriced")));

    auto* timelineTab = new QWidget(content);
    auto* tlay = new QVBoxLayout(timelineTab);
    tlay->setContentsMargins(0, 4, 0, 0);
    auto* bar = new QHBoxLayout;
    auto* expand = new QPushButton(tr("Expand all"), timelineTab);
    expand->setObjectName(QStringLiteral("expandAllButton"));
    auto* collapse = new QPushButton(tr("Collapse all"), timelineTab);
    collapse->setObjectName(QStringLiteral("collapseAllButton"));
    follow = new QCheckBox(tr("Follow new events"), timelineTab);
    follow->setObjectName(QStringLiteral("followCheck"));
    follow->setChecked(true);
    follow->setToolTip(tr("While the run is live, keep the newest event in view."));
    QObject::connect(expand, &QPushButton::clicked, tree, &QTreeView::expandAll);
    QObject::connect(collapse, &QPushButton::clicked, tree, &QTreeView::collapseAll);
    bar->addWidget(expand);
    bar->addWidget(collapse);
    bar->addStretch(1);
    bar->addWidget(follow);
    tlay->addLayout(bar);

    auto* split = new QSplitter(Qt::Vertical, timelineTab);
    split->setObjectName(QStringLiteral("runTimelineSplitter"));
    split->addWidget(tree);
    auto* detailBox = new QWidget(split);
    auto* dl = new QVBoxLayout(detailBox);
    dl->setContentsMargins(0, 4, 0, 0);
    auto* dh = new QHBoxLayout;
    detailTitle = makeLabel(QStringLiteral("runDetailTitle"), detailBox);
    QFont bold = detailTitle->font();
    bold.setBold(true);
    detailTitle->setFont(bold);
    copy = new QPushButton(tr("Copy"), detailBox);
    copy->setObjectName(QStringLiteral("copyDetailButton"));
    copy->setEnabled(false);
    dh->addWidget(detailTitle, 1);
    dh->addWidget(copy);
    dl->addLayout(dh);
    detail = new QPlainTextEdit(detailBox);
    detail->setObjectName(QStringLiteral("runDetail"));
    detail->setReadOnly(true);
    detail->setFont(mono);
    detail->setPlaceholderText(tr("Select an event to see all of it: tool arguments and "
                                  "results, the model's replies, the output."));
    dl->addWidget(detail);
    split->addWidget(detailBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    tlay->addWidget(split, 1);
    QObject::connect(copy, &QPushButton::clicked, q,
                     [this] { QApplication::clipboard()->setText(detail->toPlainText()); });
    QObject::connect(tree->selectionModel(), &QItemSelectionModel::currentRowChanged, q,
                     [this] { showDetail(); });
    QObject::connect(model, &TimelineModel::totalsChanged, q, [this] { showTotals(); });

    output = new QPlainTextEdit(content);
    output->setObjectName(QStringLiteral("runOutput"));
    output->setReadOnly(true);
    output->setFont(mono);
    input = new QPlainTextEdit(content);
    input->setObjectName(QStringLiteral("runInput"));
    input->setReadOnly(true);
    input->setFont(mono);
    audit = new QTreeWidget(content);
    audit->setObjectName(QStringLiteral("runAudit"));
    audit->setRootIsDecorated(false);
    audit->setAlternatingRowColors(true);
    audit->setUniformRowHeights(true);
    audit->setHeaderLabels({tr("Time"), tr("Actor"), tr("Action"), tr("Details"), tr("Hash")});
    audit->header()->setStretchLastSection(false);
    audit->header()->setSectionResizeMode(3, QHeaderView::Stretch);
    audit->setColumnWidth(0, w(QStringLiteral("2026-05-04 12:03:04")));
    audit->setColumnWidth(1, w(QStringLiteral("schedule:sch_7k2m9qfd")));
    audit->setColumnWidth(2, w(QStringLiteral("run.finished")));
    audit->setColumnWidth(4, w(QStringLiteral("0123456789ab")));

    tabs = new QTabWidget(content);
    tabs->setObjectName(QStringLiteral("runTabs"));
    tabs->addTab(timelineTab, tr("Timeline"));
    tabs->addTab(output, tr("Output"));
    tabs->addTab(input, tr("Input"));
    tabs->addTab(audit, tr("Audit"));
    outer->addWidget(tabs, 1);

    stack = new QStackedWidget(q);
    stack->addWidget(empty);
    stack->addWidget(content);
    auto* lay = new QVBoxLayout(q);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->addWidget(stack);

    flushTimer.setSingleShot(true);
    flushTimer.setInterval(FlushMs);
    QObject::connect(&flushTimer, &QTimer::timeout, q, [this] { flush(); });
    QObject::connect(&pollTimer, &QTimer::timeout, q, [this] { q->refresh(); });
    tickTimer.setInterval(1000);
    QObject::connect(&tickTimer, &QTimer::timeout, q, [this] { showRecord(); });
    QObject::connect(cancel, &QPushButton::clicked, q, [this] {
        if (!supervisor || runId.isEmpty())
            return;
        if (auto ok = supervisor->cancel(runId, cancelReason()); !ok) {
            message->setText(tr("Could not cancel: %1").arg(ok.error().message));
            message->show();
            q->refresh();
            return;
        }
        cancelling = true;
        updateLive();
    });
}

bool RunView::Private::atBottom() const
{
    const QScrollBar* sb = tree->verticalScrollBar();
    return sb->value() >= sb->maximum() - 2;
}

void RunView::Private::afterInsert(bool wasAtBottom)
{
    if (follow->isChecked() && wasAtBottom && !isTerminal(record.status))
        tree->scrollToBottom();
}

void RunView::Private::appendBatch(const QList<RunEvent>& events)
{
    const bool bottom = atBottom();
    const bool hadFinish = model->finishedStatus().has_value();
    model->appendEvents(events);
    bool lifecycle = false; // an event that moves the run's state: re-read its record
    for (const RunEvent& e : events) {
        if (e.type == QLatin1String("run.started")) {
            startedTier = e.data.value(QStringLiteral("tier")).toString();
            lifecycle = true;
        }
        if (e.type.startsWith(QLatin1String("approval.")))
            lifecycle = true;
        if (e.type == QLatin1String("run.output") && output->toPlainText().isEmpty())
            output->setPlainText(RunFormat::prettyJson(e.data.value(QStringLiteral("output"))));
    }
    afterInsert(bottom);
    if ((!hadFinish && model->finishedStatus()) || (lifecycle && haveRecord)) {
        readRecord(); // status, times, output and audit as committed
        readAudit();
    }
}

void RunView::Private::fillFromStore()
{
    if (runId.isEmpty())
        return;
    auto events = store->events(runId, model->lastSeq(), ReplayChunk);
    if (!events) {
        qCWarning(lcUiRun).noquote()
            << "could not read the events of" << runId << ":" << events.error().toString();
        message->setText(tr("Could not read the run's events: %1").arg(events.error().message));
        message->show();
        return;
    }
    if (events->isEmpty())
        return;
    appendBatch(*events);
    if (events->size() == ReplayChunk) {
        // More to read: let the event loop paint what is there first.
        const QString id = runId;
        QTimer::singleShot(0, q, [this, id] {
            if (runId == id)
                fillFromStore();
        });
    }
}

void RunView::Private::flush()
{
    if (pending.isEmpty())
        return;
    QList<RunEvent> batch;
    batch.swap(pending);
    std::sort(batch.begin(), batch.end(),
              [](const RunEvent& a, const RunEvent& b) { return a.seq < b.seq; });
    appendBatch(batch);
    // A signal was missed (the view opened between a commit and its announcement, or
    // several batches raced): the store has every committed event, in order.
    if (model->hasGapAfter())
        fillFromStore();
}

void RunView::Private::readRecord()
{
    auto r = store->run(runId);
    if (!r) {
        message->setText(tr("Could not read run %1: %2").arg(runId, r.error().message));
        message->show();
        return;
    }
    const bool firstRead = !haveRecord;
    const bool wasLive = haveRecord && !isTerminal(record.status);
    record = *r;
    haveRecord = true;
    showRecord();
    showTotals();
    if (!record.output.isUndefined() && !record.output.isNull())
        output->setPlainText(RunFormat::prettyJson(record.output));
    if (firstRead)
        input->setPlainText(record.input.isNull() || record.input.isUndefined()
                                ? QString()
                                : RunFormat::prettyJson(record.input));
    if (isTerminal(record.status) && (firstRead || wasLive)) {
        readAudit();
        pending.clear();
        // Read what the journal has left (run.finished), then show the output in the detail
        // pane unless the user is looking at something else.
        QTimer::singleShot(0, q, [this, id = runId] {
            if (runId != id)
                return;
            fillFromStore();
            // Unless the user picked a row: focus alone makes the first row current.
            const QModelIndex current = tree->currentIndex();
            if (!current.isValid() || (!current.parent().isValid() && current.row() == 0)) {
                const QModelIndex out =
                    model->outputIndex().isValid() ? model->outputIndex() : model->finishedIndex();
                if (out.isValid())
                    tree->setCurrentIndex(out);
            }
        });
        if (wasLive && !finishAnnounced) {
            finishAnnounced = true;
            emit q->runFinished(runId, record.status);
        }
    }
    updateLive();
}

void RunView::Private::updateLive()
{
    const bool live = haveRecord && !isTerminal(record.status);
    // Only while there is something to cancel: a greyed button on a finished run is noise.
    cancel->setVisible(supervisor && (live || !haveRecord));
    cancel->setEnabled(live && supervisor && !cancelling);
    cancel->setText(cancelling && live ? tr("Cancelling…") : tr("Cancel run"));
    if (live) {
        if (!pollTimer.isActive())
            pollTimer.start(supervisor ? PollWithSupervisorMs : PollReadOnlyMs);
        if (!tickTimer.isActive())
            tickTimer.start();
    } else {
        pollTimer.stop();
        tickTimer.stop();
    }
}

void RunView::Private::showRecord()
{
    if (!haveRecord)
        return;
    const QColor c = RunFormat::statusColor(record.status);
    status->setText(RunFormat::statusText(record.status));
    status->setStyleSheet(QStringLiteral("QLabel { background: %1; color: white; border-radius: "
                                         "4px; padding: 3px 10px; font-weight: bold; }")
                              .arg(c.name()));
    title->setText(tr("Run %1").arg(record.id));

    QString who = tr("Agent <a href=\"%1\">%2</a> v%3")
                      .arg(record.agentId.toHtmlEscaped(), record.agentId.toHtmlEscaped())
                      .arg(record.agentVersion);
    if (!record.trigger.isEmpty())
        who += tr(" · triggered by %1").arg(record.trigger.toHtmlEscaped());
    if (record.scheduledFor.isValid())
        who += tr(" · scheduled for %1").arg(RunFormat::timestamp(record.scheduledFor));
    if (startedTier == QLatin1String("none"))
        who += tr(" · <b style=\"color:#b26a00\">UNSANDBOXED</b>");
    else if (!startedTier.isEmpty())
        who += tr(" · sandbox %1").arg(startedTier.toHtmlEscaped());
    agent->setText(who);

    QStringList t;
    t << tr("Queued %1").arg(RunFormat::timestamp(record.createdAt));
    if (record.startedAt.isValid())
        t << tr("started %1").arg(RunFormat::timestamp(record.startedAt));
    if (record.finishedAt.isValid())
        t << tr("finished %1").arg(RunFormat::timestamp(record.finishedAt));
    const QDateTime from = record.startedAt.isValid() ? record.startedAt : record.createdAt;
    if (record.finishedAt.isValid())
        t << tr("took %1").arg(RunFormat::duration(from.msecsTo(record.finishedAt)));
    else if (!isTerminal(record.status)) {
        const qint64 ms = std::max<qint64>(0, from.msecsTo(QDateTime::currentDateTimeUtc()));
        t << (ms < 1000 ? tr("live for less than a second")
                        : tr("live for %1").arg(RunFormat::duration(ms / 1000 * 1000)));
    }
    times->setText(t.join(QStringLiteral(" · ")));

    reason->setVisible(!record.reason.isEmpty());
    reason->setText(tr("Reason: %1").arg(record.reason));
    const bool bad = record.status == RunStatus::Failed || record.status == RunStatus::TimedOut;
    reason->setStyleSheet(bad ? QStringLiteral("color: #c62828;") : QString());

    if ((record.output.isUndefined() || record.output.isNull()) &&
        output->toPlainText().isEmpty()) {
        output->setPlaceholderText(isTerminal(record.status)
                                       ? tr("This run produced no output.")
                                       : tr("No output yet: it appears when the run finishes."));
    }
    input->setPlaceholderText(tr("This run had no input."));
}

void RunView::Private::showTotals()
{
    // The timeline's totals follow every model call; the record's are the committed ones
    // (they also cover a run whose journal is not readable).
    TimelineModel::Totals t = model->totals();
    if (model->eventCount() == 0 && haveRecord) {
        t.steps = record.usage.steps;
        t.inputTokens = record.usage.inputTokens;
        t.outputTokens = record.usage.outputTokens;
        t.costUsd = record.usage.costUsd.value_or(0);
        t.unpriced = record.usage.unpriced;
    }
    steps->setText(tr("Steps <b>%1</b>").arg(t.steps));
    if (t.inputTokens + t.outputTokens == 0 && t.steps == 0)
        tokens->setText(tr("Tokens <b>–</b>"));
    else
        tokens->setText(tr("Tokens <b>%1</b> (%2 in / %3 out)")
                            .arg(RunFormat::count(t.inputTokens + t.outputTokens),
                                 RunFormat::count(t.inputTokens),
                                 RunFormat::count(t.outputTokens)));
    if (t.unpriced) {
        cost->setText(tr("Cost <b style=\"color:#b26a00\">unpriced</b>"));
        cost->setToolTip(tr("At least one model call has no known price, so the cost is "
                            "unknown (not zero). Set a price with vivarium model add "
                            "--price-input/--price-output."));
    } else if (t.steps == 0) {
        cost->setText(tr("Cost <b>–</b>"));
        cost->setToolTip(tr("No model call yet."));
    } else {
        cost->setText(tr("Cost <b>%1</b>").arg(RunFormat::cost(t.costUsd, false)));
        cost->setToolTip(QString());
    }
    tools->setText(t.toolErrors > 0
                       ? tr("Tool calls <b>%1</b> (<b style=\"color:#c62828\">%2 failed</b>)")
                             .arg(t.toolCalls)
                             .arg(t.toolErrors)
                       : tr("Tool calls <b>%1</b>").arg(t.toolCalls));
}

void RunView::Private::readAudit()
{
    // The trail is append-only: add the rows not shown yet, so a poll never resets what the
    // user is looking at.
    auto rows = store->auditRecords(runId);
    if (!rows) {
        message->setText(tr("Could not read the audit trail: %1").arg(rows.error().message));
        message->show();
        return;
    }
    QList<QTreeWidgetItem*> items;
    for (const AuditRecord& a : std::as_const(*rows)) {
        if (a.id <= lastAuditId)
            continue;
        lastAuditId = a.id;
        auto* it = new QTreeWidgetItem({RunFormat::timestamp(a.ts), a.actor, a.action,
                                        RunFormat::compactJson(a.details), a.hash.left(12)});
        it->setToolTip(3, RunFormat::prettyJson(a.details));
        it->setToolTip(4, tr("SHA-256 %1\nprevious %2").arg(a.hash, a.prevHash));
        items << it;
    }
    if (items.isEmpty())
        return;
    audit->addTopLevelItems(items);
    tabs->setTabText(tabs->indexOf(audit), tr("Audit (%1)").arg(audit->topLevelItemCount()));
}

void RunView::Private::showDetail()
{
    const QModelIndex i = tree->currentIndex();
    copy->setEnabled(i.isValid());
    if (!i.isValid()) {
        detailTitle->clear();
        detail->clear();
        return;
    }
    const QModelIndex first = i.siblingAtColumn(0);
    detailTitle->setText(
        tr("%1 · event #%2 · %3")
            .arg(first.data(TimelineModel::TitleRole).toString())
            .arg(first.data(TimelineModel::SeqRole).toLongLong())
            .arg(
                first.siblingAtColumn(TimelineModel::TimeColumn).data(Qt::ToolTipRole).toString()));
    detail->setPlainText(first.data(TimelineModel::FullTextRole).toString());
}

RunView::RunView(Store* store, RunSupervisor* supervisor, QWidget* parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    d->supervisor = supervisor;
    d->build();
    if (supervisor) {
        connect(supervisor, &RunSupervisor::eventAppended, this,
                [this](const QString& runId, const RunEvent& event) {
                    if (runId != d->runId)
                        return;
                    d->pending.append(event);
                    if (!d->flushTimer.isActive())
                        d->flushTimer.start();
                });
        connect(supervisor, &RunSupervisor::runFinished, this,
                [this](const QString& runId, RunStatus, const QString&) {
                    if (runId != d->runId)
                        return;
                    d->flush();
                    d->fillFromStore();
                    d->readRecord();
                });
    }
    clear();
}

RunView::~RunView() = default;

QString RunView::runId() const
{
    return d->runId;
}

RunStatus RunView::status() const
{
    return d->haveRecord ? d->record.status : RunStatus::Queued;
}

bool RunView::isLive() const
{
    return d->haveRecord && !isTerminal(d->record.status);
}

void RunView::showRun(const QString& runId)
{
    QElapsedTimer clock;
    clock.start();
    clear();
    d->runId = runId;
    d->stack->setCurrentWidget(d->content);
    d->readRecord();
    if (!d->haveRecord) {
        d->empty->setText(tr("<h3>Run not found</h3><p>%1</p>").arg(runId.toHtmlEscaped()));
        d->stack->setCurrentWidget(d->empty);
        return;
    }
    d->fillFromStore();
    d->readAudit();
    qCDebug(lcUiRun) << "showed" << runId << "with" << d->model->eventCount() << "events in"
                     << clock.elapsed() << "ms";
}

void RunView::refresh()
{
    if (d->runId.isEmpty())
        return;
    d->flush();
    d->fillFromStore();
    d->readRecord();
    d->readAudit();
}

void RunView::clear()
{
    d->runId.clear();
    d->record = RunRecord{};
    d->haveRecord = false;
    d->finishAnnounced = false;
    d->cancelling = false;
    d->startedTier.clear();
    d->pending.clear();
    d->flushTimer.stop();
    d->model->clear();
    d->output->clear();
    d->input->clear();
    d->audit->clear();
    d->lastAuditId = 0;
    d->tabs->setTabText(d->tabs->indexOf(d->audit), tr("Audit"));
    d->detail->clear();
    d->detailTitle->clear();
    d->message->hide();
    d->empty->setText(
        tr("<h3>No run selected</h3><p>Pick a run to see what it did, step by step.</p>"));
    d->stack->setCurrentWidget(d->empty);
    d->updateLive();
}

} // namespace vivarium
