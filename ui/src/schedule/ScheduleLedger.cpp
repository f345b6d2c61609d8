// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/ScheduleLedger.h"

#include "Format.h"
#include "run/RunFormat.h"
#include "schedule/ScheduleLogging.h"
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QStackedWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace vivarium {

using ui::RunFormat;

namespace {

/** Entries read per schedule and status; the newest are what an operator looks for. */
constexpr int PerScheduleLimit = 200;

enum Column { ForColumn, OutcomeColumn, ScheduleColumn, ReasonColumn, RecordedColumn };

/** "skipped: previous run ... (overlap skip)" -> "previous run ... (overlap skip)". */
QString withoutPrefix(const QString& reason)
{
    for (const char* prefix : {"skipped: ", "missed: "}) {
        if (reason.startsWith(QLatin1String(prefix)))
            return reason.mid(int(qstrlen(prefix)));
    }
    return reason;
}

struct Entry
{
    RunRecord run;
    ScheduleRecord schedule;
};

} // namespace

struct ScheduleLedger::Private
{
    Q_DECLARE_TR_FUNCTIONS(vivarium::ScheduleLedger)
public:
    ScheduleLedger* q = nullptr;
    Store* store = nullptr;
    QString scheduleId;
    QString agentId;
    bool all = false;

    QLabel* title = nullptr;
    QCheckBox* showAll = nullptr;
    QStackedWidget* stack = nullptr;
    QLabel* empty = nullptr;
    QTreeWidget* list = nullptr;

    void reload();
    Result<QList<Entry>> entriesOf(const ScheduleRecord& s) const;
};

Result<QList<Entry>> ScheduleLedger::Private::entriesOf(const ScheduleRecord& s) const
{
    QList<Entry> out;
    const QString trigger = QStringLiteral("schedule:") + s.id;
    if (all) {
        auto runs = store->scheduleRuns(s.id, PerScheduleLimit);
        if (!runs)
            return std::unexpected(runs.error());
        for (const RunRecord& r : std::as_const(*runs))
            out << Entry{r, s};
        return out;
    }
    for (RunStatus status : {RunStatus::Skipped, RunStatus::Missed}) {
        Store::RunQuery query;
        query.trigger = trigger;
        query.status = status;
        query.limit = PerScheduleLimit;
        auto runs = store->queryRuns(query);
        if (!runs)
            return std::unexpected(runs.error());
        for (const RunRecord& r : std::as_const(*runs))
            out << Entry{r, s};
    }
    return out;
}

void ScheduleLedger::Private::reload()
{
    list->clear();
    QList<ScheduleRecord> schedules;
    QString problem;
    if (!scheduleId.isEmpty()) {
        if (auto s = store->schedule(scheduleId))
            schedules << *s;
        else
            problem = s.error().message;
    } else if (!agentId.isEmpty()) {
        if (auto list = store->schedules(agentId))
            schedules = *list;
        else
            problem = list.error().message;
    }
    list->setColumnHidden(ScheduleColumn, !scheduleId.isEmpty());
    if (!scheduleId.isEmpty())
        title->setText((all ? tr("Every fire of schedule <b>%1</b>")
                            : tr("Fires of schedule <b>%1</b> that did not run"))
                           .arg(scheduleId.toHtmlEscaped()));
    else if (!agentId.isEmpty())
        title->setText((all ? tr("Every fire of the schedules of agent <b>%1</b>")
                            : tr("Fires of the schedules of agent <b>%1</b> that did not run"))
                           .arg(agentId.toHtmlEscaped()));
    else
        title->clear();

    QList<Entry> entries;
    for (const ScheduleRecord& s : std::as_const(schedules)) {
        auto more = entriesOf(s);
        if (!more) {
            problem = more.error().message;
            break;
        }
        entries << *more;
    }
    if (!problem.isEmpty()) {
        qCWarning(lcUiSchedule).noquote() << "ledger:" << problem;
        empty->setText(
            tr("<h3>Could not read the ledger</h3><p>%1</p>").arg(problem.toHtmlEscaped()));
        stack->setCurrentWidget(empty);
        return;
    }
    // Newest fire first; ledger entries without an instant sort by when they were recorded.
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        const QDateTime ta = a.run.scheduledFor.isValid() ? a.run.scheduledFor : a.run.createdAt;
        const QDateTime tb = b.run.scheduledFor.isValid() ? b.run.scheduledFor : b.run.createdAt;
        return ta != tb ? ta > tb : a.run.id > b.run.id;
    });

    QList<QTreeWidgetItem*> items;
    for (const Entry& e : std::as_const(entries)) {
        const QTimeZone zone = ScheduleRules::zoneOf(e.schedule);
        const QString reason = withoutPrefix(e.run.reason);
        auto* it = new QTreeWidgetItem;
        it->setText(ForColumn, e.run.scheduledFor.isValid()
                                   ? ScheduleRules::formatInstant(e.run.scheduledFor, zone)
                                   : tr("(unknown)"));
        it->setToolTip(ForColumn,
                       tr("In the schedule's zone, %1").arg(QString::fromUtf8(zone.id())));
        it->setText(OutcomeColumn, RunFormat::statusText(e.run.status));
        it->setForeground(OutcomeColumn, RunFormat::statusColor(e.run.status));
        it->setIcon(OutcomeColumn, Format::statusIcon(e.run.status));
        it->setText(ScheduleColumn, e.schedule.id);
        it->setText(ReasonColumn, reason.isEmpty() ? e.run.id : reason);
        it->setToolTip(ReasonColumn, e.run.reason.isEmpty() ? e.run.id : e.run.reason);
        it->setText(RecordedColumn, RunFormat::timestamp(e.run.createdAt));
        it->setData(ForColumn, Qt::UserRole, e.run.id);
        items << it;
    }
    list->addTopLevelItems(items);
    if (items.isEmpty()) {
        empty->setText(schedules.isEmpty()
                           ? (agentId.isEmpty() && scheduleId.isEmpty()
                                  ? tr("<h3>No schedule selected</h3>")
                                  : tr("<h3>No schedules</h3><p>This agent has no schedule.</p>"))
                       : all ? tr("<h3>No fires yet</h3>")
                             : tr("<h3>Nothing skipped or missed</h3><p>Every fire ran. Fires "
                                  "are <b>skipped</b> when a run is still going (overlap "
                                  "policy) and <b>missed</b> when the engine was not running "
                                  "or the machine slept (misfire policy).</p>"));
        stack->setCurrentWidget(empty);
    } else {
        stack->setCurrentWidget(list);
    }
}

ScheduleLedger::ScheduleLedger(Store* store, QWidget* parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    setObjectName(QStringLiteral("scheduleLedger"));

    d->title = new QLabel(this);
    d->title->setObjectName(QStringLiteral("ledgerTitle"));
    d->title->setTextFormat(Qt::RichText);
    d->showAll = new QCheckBox(tr("Show every fire"), this);
    d->showAll->setObjectName(QStringLiteral("ledgerShowAll"));
    d->showAll->setToolTip(tr("Also list the fires that started a run."));
    connect(d->showAll, &QCheckBox::toggled, this, &ScheduleLedger::setShowAllFires);

    d->list = new QTreeWidget(this);
    d->list->setObjectName(QStringLiteral("ledgerList"));
    d->list->setRootIsDecorated(false);
    d->list->setAlternatingRowColors(true);
    d->list->setUniformRowHeights(true);
    d->list->setHeaderLabels(
        {tr("Fire for"), tr("Outcome"), tr("Schedule"), tr("Reason"), tr("Recorded")});
    d->list->header()->setStretchLastSection(false);
    d->list->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    d->list->header()->setSectionResizeMode(ReasonColumn, QHeaderView::Stretch);
    connect(d->list, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* it) {
        emit runActivated(it->data(ForColumn, Qt::UserRole).toString());
    });

    d->empty = new QLabel(this);
    d->empty->setObjectName(QStringLiteral("ledgerEmptyState"));
    d->empty->setAlignment(Qt::AlignCenter);
    d->empty->setWordWrap(true);

    d->stack = new QStackedWidget(this);
    d->stack->addWidget(d->empty);
    d->stack->addWidget(d->list);

    auto* top = new QHBoxLayout;
    top->addWidget(d->title, 1);
    top->addWidget(d->showAll);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->addLayout(top);
    lay->addWidget(d->stack, 1);
    d->reload();
}

ScheduleLedger::~ScheduleLedger() = default;

int ScheduleLedger::entryCount() const
{
    return d->list->topLevelItemCount();
}

void ScheduleLedger::setShowAllFires(bool all)
{
    if (d->all == all)
        return;
    d->all = all;
    const QSignalBlocker block(d->showAll);
    d->showAll->setChecked(all);
    d->reload();
}

void ScheduleLedger::showSchedule(const QString& scheduleId)
{
    d->scheduleId = scheduleId;
    d->agentId.clear();
    d->reload();
}

void ScheduleLedger::showAgent(const QString& agentId)
{
    d->agentId = agentId;
    d->scheduleId.clear();
    d->reload();
}

void ScheduleLedger::refresh()
{
    d->reload();
}

} // namespace vivarium
