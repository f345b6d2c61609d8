// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunsPage.h"

#include "EmptyState.h"
#include "Format.h"
#include "Icons.h"
#include "RunListModel.h"

#include "vivarium/core/Store.h"
#include "vivarium/ui/RunView.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

namespace vivarium {

RunsPage::RunsPage(const UiServices& services, QWidget* parent)
    : QWidget(parent)
    , m_services(services)
{
    m_model = new RunListModel(services.store, this);

    auto* title = new QLabel(tr("Runs"), this);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.35);
    tf.setBold(true);
    title->setFont(tf);

    m_agent = new QComboBox(this);
    m_agent->setObjectName(QStringLiteral("runsAgentFilter"));
    m_agent->setToolTip(tr("Only runs of this agent"));
    m_agent->setMinimumContentsLength(16);
    m_agent->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_status = new QComboBox(this);
    m_status->setObjectName(QStringLiteral("runsStatusFilter"));
    m_status->setToolTip(tr("Only runs in this state"));
    m_status->addItem(tr("Any status"), QString());
    for (RunStatus s :
         {RunStatus::Queued, RunStatus::Running, RunStatus::AwaitingApproval, RunStatus::Succeeded,
          RunStatus::Failed, RunStatus::TimedOut, RunStatus::Cancelled, RunStatus::Interrupted,
          RunStatus::Skipped, RunStatus::Missed})
        m_status->addItem(Format::statusIcon(s), Format::status(s), runStatusName(s));
    m_text = new QLineEdit(this);
    m_text->setObjectName(QStringLiteral("runsTextFilter"));
    m_text->setPlaceholderText(tr("Search id, trigger, reason…"));
    m_text->setClearButtonEnabled(true);
    auto* reload = new QPushButton(icons::get(QStringLiteral("refresh")), QString(), this);
    reload->setObjectName(QStringLiteral("runsRefresh"));
    reload->setToolTip(tr("Read the history again (F5)"));

    auto* header = new QHBoxLayout;
    header->addWidget(title);
    header->addStretch();
    header->addWidget(m_agent);
    header->addWidget(m_status);
    header->addWidget(m_text, 1);
    header->addWidget(reload);

    m_list = new QTreeView(this);
    m_list->setObjectName(QStringLiteral("runsList"));
    m_list->setModel(m_model);
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setAlternatingRowColors(true);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    QHeaderView* h = m_list->header();
    h->setStretchLastSection(true);
    h->resizeSection(RunListModel::Status, 130);
    h->resizeSection(RunListModel::Agent, 150);
    h->resizeSection(RunListModel::Started, 130);
    h->resizeSection(RunListModel::Duration, 80);
    h->resizeSection(RunListModel::Trigger, 140);
    h->resizeSection(RunListModel::Steps, 50);
    h->resizeSection(RunListModel::Tokens, 60);
    h->resizeSection(RunListModel::Cost, 70);

    m_footer = new QLabel(this);
    m_footer->setObjectName(QStringLiteral("runsFooter"));
    m_footer->setForegroundRole(QPalette::PlaceholderText);

    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_list, 1);
    leftLayout->addWidget(m_footer);

    m_view = new RunView(services.store, services.supervisor, this);
    m_view->setObjectName(QStringLiteral("runView"));
    connect(m_view, &RunView::agentActivated, this, &RunsPage::agentActivated);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("runsSplitter"));
    split->addWidget(left);
    split->addWidget(m_view);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);
    m_content = split;

    m_empty = new EmptyState(QStringLiteral("runs"), this);
    m_empty->setObjectName(QStringLiteral("runsEmptyState"));
    m_empty->setTitle(tr("No runs yet"));
    m_empty->setText(tr("Every run of every agent shows up here, live: started with "
                        "<b>Run now</b> on the Agents page, by a schedule, the API or "
                        "<code>vivarium run</code>."));

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_content);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_stack, 1);

    setTabOrder(m_agent, m_status);
    setTabOrder(m_status, m_text);
    setTabOrder(m_text, reload);
    setTabOrder(reload, m_list);

    m_textDelay = new QTimer(this);
    m_textDelay->setSingleShot(true);
    m_textDelay->setInterval(250);
    connect(m_textDelay, &QTimer::timeout, this, &RunsPage::applyFilter);
    connect(m_text, &QLineEdit::textChanged, m_textDelay, qOverload<>(&QTimer::start));
    connect(m_agent, &QComboBox::currentIndexChanged, this, &RunsPage::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &RunsPage::applyFilter);
    connect(reload, &QPushButton::clicked, this, &RunsPage::refresh);
    connect(m_model, &RunListModel::pageLoaded, this, &RunsPage::updateFooter);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &RunsPage::updateFooter);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid())
                    m_view->showRun(current.data(RunListModel::RunIdRole).toString());
            });

    m_coalesce = new QTimer(this);
    m_coalesce->setSingleShot(true);
    m_coalesce->setInterval(150);
    connect(m_coalesce, &QTimer::timeout, this, [this] {
        const QSet<QString> dirty = std::exchange(m_dirty, {});
        for (const QString& id : dirty)
            if (auto r = m_services.store->run(id))
                m_model->upsert(*r);
        if (!m_anyRun && m_model->rowCount() > 0) {
            m_anyRun = true;
            m_stack->setCurrentWidget(m_content);
        }
    });
    // Runs started by other processes (the CLI, the API of another engine run) and the
    // durations of live runs: a slow timer, never a tight poll.
    auto* slow = new QTimer(this);
    slow->setInterval(5000);
    connect(slow, &QTimer::timeout, this, [this] {
        if (!isVisible())
            return;
        m_model->refreshRecent();
        m_model->tick();
        if (!m_anyRun && m_model->rowCount() > 0) {
            m_anyRun = true;
            m_stack->setCurrentWidget(m_content);
        }
    });
    slow->start();

    reloadAgents();
    applyFilter();
}

QString RunsPage::currentRunId() const
{
    const QModelIndex i = m_list->currentIndex();
    return i.isValid() ? i.data(RunListModel::RunIdRole).toString() : QString();
}

void RunsPage::reloadAgents()
{
    QHash<QString, QString> names;
    const QString keep = m_agent->currentData().toString();
    const QSignalBlocker block(m_agent);
    m_agent->clear();
    m_agent->addItem(tr("All agents"), QString());
    if (auto agents = m_services.store->agentSummaries()) {
        for (const AgentSummary& a : std::as_const(*agents)) {
            names.insert(a.id, a.name);
            m_agent->addItem(a.name, a.id);
            m_agent->setItemData(m_agent->count() - 1, a.id, Qt::ToolTipRole);
        }
    }
    const int i = m_agent->findData(keep);
    m_agent->setCurrentIndex(i < 0 ? 0 : i);
    m_model->setAgentNames(names);
}

void RunsPage::refresh()
{
    reloadAgents();
    applyFilter();
}

void RunsPage::filterAgent(const QString& agentId)
{
    int i = m_agent->findData(agentId);
    if (i < 0)
        i = 0;
    m_agent->setCurrentIndex(i);
}

void RunsPage::applyFilter()
{
    RunListModel::Filter f;
    f.agentId = m_agent->currentData().toString();
    if (const QString s = m_status->currentData().toString(); !s.isEmpty())
        f.status = runStatusFromString(s);
    f.text = m_text->text();
    const QString keep = currentRunId();
    m_model->setFilter(f);
    const bool filtered = !f.agentId.isEmpty() || f.status || !f.text.trimmed().isEmpty();
    m_anyRun = m_anyRun || m_model->rowCount() > 0;
    if (!filtered)
        m_anyRun = m_model->rowCount() > 0;
    m_stack->setCurrentWidget(m_anyRun ? m_content : static_cast<QWidget*>(m_empty));
    if (const int row = m_model->rowOf(keep); row >= 0)
        m_list->setCurrentIndex(m_model->index(row, 0));
    else if (m_model->rowCount() > 0)
        m_list->setCurrentIndex(m_model->index(0, 0));
    else
        m_view->clear();
    updateFooter();
}

void RunsPage::updateFooter()
{
    const int n = m_model->rowCount();
    if (!m_model->lastError().isEmpty())
        m_footer->setText(tr("Cannot read the history: %1").arg(m_model->lastError()));
    else if (n == 0 && m_model->exhausted())
        m_footer->setText(tr("No runs match these filters."));
    else if (m_model->exhausted())
        m_footer->setText(n == 1 ? tr("The only run is shown.") : tr("All %1 runs shown.").arg(n));
    else
        m_footer->setText(tr("%1 runs shown; scroll down for older ones.").arg(n));
}

void RunsPage::showRun(const QString& runId)
{
    if (runId.isEmpty())
        return;
    auto run = m_services.store->run(runId);
    if (!run)
        return;
    if (!m_model->matches(*run)) {
        const QSignalBlocker a(m_agent), s(m_status), t(m_text);
        m_agent->setCurrentIndex(0);
        m_status->setCurrentIndex(0);
        m_text->clear();
        applyFilter();
    }
    m_model->upsert(*run);
    // Older than the loaded pages: read on until it appears (bounded by the history's size).
    while (m_model->rowOf(runId) < 0 && m_model->canFetchMore({}))
        m_model->fetchMore({});
    const int row = m_model->rowOf(runId);
    if (row < 0)
        return;
    m_anyRun = true;
    m_stack->setCurrentWidget(m_content);
    m_list->setCurrentIndex(m_model->index(row, 0));
    m_list->scrollTo(m_model->index(row, 0));
    m_view->showRun(runId);
}

void RunsPage::noteRunChanged(const QString& runId)
{
    m_dirty.insert(runId);
    if (!m_coalesce->isActive())
        m_coalesce->start();
}

} // namespace vivarium
