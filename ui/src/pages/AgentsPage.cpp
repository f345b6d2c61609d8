// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentsPage.h"

#include "AgentItemDelegate.h"
#include "AgentListModel.h"
#include "EmptyState.h"
#include "Format.h"
#include "Icons.h"

#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/ui/Dialogs.h"
#include "vivarium/ui/RunChart.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QShortcut>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

#include <pwd.h>
#include <unistd.h>

namespace vivarium {

namespace {

/** Who started a run from this window: "gui:<user>", as the CLI writes "cli:<user>". */
QString guiTrigger()
{
    const passwd* pw = ::getpwuid(::getuid());
    return QStringLiteral("gui:%1").arg(pw ? QString::fromLocal8Bit(pw->pw_name)
                                           : QString::number(::getuid()));
}

QPushButton* toolButton(QWidget* parent, const QString& name, const QString& text,
                        const QString& icon, const QString& tip)
{
    auto* b = new QPushButton(icons::get(icon), text, parent);
    b->setObjectName(name);
    b->setToolTip(tip);
    return b;
}

} // namespace

AgentsPage::AgentsPage(const UiServices& services, QWidget* parent)
    : QWidget(parent)
    , m_services(services)
{
    m_model = new AgentListModel(services.store, this);
    m_model->setCanRun(services.supervisor != nullptr);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(AgentListModel::SortRole);
    m_proxy->setFilterRole(AgentListModel::SearchTextRole);
    m_proxy->setFilterKeyColumn(AgentListModel::Name);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);

    // Header: title, search, actions.
    auto* title = new QLabel(tr("Agents"), this);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.35);
    tf.setBold(true);
    title->setFont(tf);
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("agentsCount"));
    m_count->setForegroundRole(QPalette::PlaceholderText);

    auto* newAgent =
        toolButton(this, QStringLiteral("agentsNew"), tr("&New agent"), QStringLiteral("add"),
                   tr("Create an agent in the editor (Ctrl+N)"));
    auto* import =
        toolButton(this, QStringLiteral("agentsImport"), tr("&Import…"), QStringLiteral("import"),
                   tr("Add an agent package (agent.json or a single .json file), "
                      "as vivarium agent add does"));
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("agentsFilter"));
    m_filter->setPlaceholderText(tr("Filter agents…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMaximumWidth(260);

    auto* header = new QHBoxLayout;
    header->addWidget(title);
    header->addWidget(m_count);
    header->addStretch();
    header->addWidget(m_filter);
    header->addWidget(newAgent);
    header->addWidget(import);

    // The list.
    m_list = new QTreeView(this);
    m_list->setObjectName(QStringLiteral("agentsList"));
    m_list->setModel(m_proxy);
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setAlternatingRowColors(true);
    m_list->setSortingEnabled(true);
    m_list->sortByColumn(AgentListModel::Name, Qt::AscendingOrder);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_list->setMouseTracking(true);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* delegate = new AgentItemDelegate(m_list);
    m_list->setItemDelegate(delegate);
    QHeaderView* h = m_list->header();
    h->setStretchLastSection(false);
    h->setSectionResizeMode(AgentListModel::Name, QHeaderView::Stretch);
    h->setSectionResizeMode(AgentListModel::LastRun, QHeaderView::Interactive);
    h->setSectionResizeMode(AgentListModel::NextRun, QHeaderView::Interactive);
    h->setSectionResizeMode(AgentListModel::Model, QHeaderView::Interactive);
    h->setSectionResizeMode(AgentListModel::Sandbox, QHeaderView::ResizeToContents);
    h->setSectionResizeMode(AgentListModel::Action, QHeaderView::ResizeToContents);
    h->resizeSection(AgentListModel::LastRun, 200);
    h->resizeSection(AgentListModel::NextRun, 150);
    h->resizeSection(AgentListModel::Model, 170);

    // Row actions.
    m_runNow =
        toolButton(this, QStringLiteral("agentsRunNow"), tr("&Run now"), QStringLiteral("run"),
                   tr("Start a run of the selected agent (Ctrl+Enter)"));
    m_edit = toolButton(this, QStringLiteral("agentsEdit"), tr("&Edit"), QStringLiteral("edit"),
                        tr("Open the selected agent in the editor (Enter)"));
    m_export = toolButton(this, QStringLiteral("agentsExport"), tr("E&xport…"),
                          QStringLiteral("export"), tr("Write the agent as a portable package"));
    m_remove =
        toolButton(this, QStringLiteral("agentsRemove"), tr("Remove…"), QStringLiteral("remove"),
                   tr("Remove the agent; its versions and past runs stay readable"));
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_runNow);
    actions->addWidget(m_edit);
    actions->addWidget(m_export);
    actions->addStretch();
    actions->addWidget(m_remove);

    // Details of the selected agent and its recent runs.
    m_detailTitle = new QLabel(this);
    m_detailTitle->setObjectName(QStringLiteral("agentDetailTitle"));
    QFont df = m_detailTitle->font();
    df.setBold(true);
    m_detailTitle->setFont(df);
    m_detailText = new QLabel(this);
    m_detailText->setObjectName(QStringLiteral("agentDetailText"));
    m_detailText->setWordWrap(true);
    m_detailText->setTextFormat(Qt::RichText);
    m_detailText->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_detailText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chart = new RunChart(services.store, this);
    m_chart->setObjectName(QStringLiteral("agentRunChart"));
    connect(m_chart, &RunChart::runActivated, this, &AgentsPage::runActivated);

    auto* detail = new QWidget(this);
    auto* detailText = new QVBoxLayout;
    detailText->addWidget(m_detailTitle);
    detailText->addWidget(m_detailText, 1);
    auto* detailLayout = new QHBoxLayout(detail);
    detailLayout->setContentsMargins(0, 6, 0, 0);
    detailLayout->addLayout(detailText, 2);
    detailLayout->addWidget(m_chart, 3);

    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(m_list, 1);
    topLayout->addLayout(actions);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("agentsSplitter"));
    split->addWidget(top);
    split->addWidget(detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);

    m_content = split;
    m_empty = new EmptyState(QStringLiteral("agents"), this);
    m_empty->setObjectName(QStringLiteral("agentsEmptyState"));
    m_empty->setTitle(tr("No agents yet"));
    m_empty->setText(
        tr("An agent is a prompt, a model and the tools it may use, run on demand or on a "
           "schedule, each run in its own sandbox.<br><br>Create one here, or import a package "
           "made with <code>vivarium agent export</code>. From a terminal: "
           "<code>vivarium agent add PATH</code>."));
    connect(m_empty->addAction(QStringLiteral("agentsEmptyNew"), tr("New agent"),
                               QStringLiteral("add")),
            &QPushButton::clicked, this, &AgentsPage::newAgentRequested);
    connect(m_empty->addAction(QStringLiteral("agentsEmptyImport"), tr("Import package…"),
                               QStringLiteral("import")),
            &QPushButton::clicked, this, &AgentsPage::importRequested);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_content);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_stack, 1);

    setTabOrder(m_filter, newAgent);
    setTabOrder(newAgent, import);
    setTabOrder(import, m_list);
    setTabOrder(m_list, m_runNow);
    setTabOrder(m_runNow, m_edit);
    setTabOrder(m_edit, m_export);
    setTabOrder(m_export, m_remove);

    connect(newAgent, &QPushButton::clicked, this, &AgentsPage::newAgentRequested);
    connect(import, &QPushButton::clicked, this, &AgentsPage::importRequested);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_proxy->setFilterFixedString(text);
        updateActions();
    });
    connect(delegate, &AgentItemDelegate::runRequested, this, &AgentsPage::runAgent);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        updateDetails();
        updateActions();
    });
    connect(m_list, &QTreeView::activated, this, [this](const QModelIndex& index) {
        if (index.column() != AgentListModel::Action)
            emit editRequested(index.data(AgentListModel::AgentIdRole).toString());
    });
    connect(m_runNow, &QPushButton::clicked, this, [this] { runAgent(currentAgentId()); });
    connect(m_edit, &QPushButton::clicked, this, [this] { emit editRequested(currentAgentId()); });
    connect(m_export, &QPushButton::clicked, this,
            [this] { emit exportRequested(currentAgentId()); });
    connect(m_remove, &QPushButton::clicked, this, &AgentsPage::removeCurrent);
    auto* runKey = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), m_list);
    runKey->setContext(Qt::WidgetShortcut);
    connect(runKey, &QShortcut::activated, this, [this] { runAgent(currentAgentId()); });
    auto* delKey = new QShortcut(QKeySequence::Delete, m_list);
    delKey->setContext(Qt::WidgetShortcut);
    connect(delKey, &QShortcut::activated, this, &AgentsPage::removeCurrent);

    // Run events arrive in bursts (a run writes many): one store read per agent per burst.
    m_coalesce = new QTimer(this);
    m_coalesce->setSingleShot(true);
    m_coalesce->setInterval(150);
    connect(m_coalesce, &QTimer::timeout, this, [this] {
        const QSet<QString> dirty = std::exchange(m_dirty, {});
        m_model->updateAgents(dirty);
        if (dirty.contains(currentAgentId()))
            m_chart->refresh();
    });
    // Next-run times move with the clock; nothing else needs a timer.
    auto* minute = new QTimer(this);
    minute->setInterval(30'000);
    connect(minute, &QTimer::timeout, m_model, &AgentListModel::updateNextFires);
    minute->start();

    refresh();
}

QString AgentsPage::currentAgentId() const
{
    const QModelIndex i = m_list->currentIndex();
    return i.isValid() ? i.data(AgentListModel::AgentIdRole).toString() : QString();
}

void AgentsPage::selectAgent(const QString& agentId)
{
    const int row = m_model->rowOf(agentId);
    if (row < 0)
        return;
    const QModelIndex i = m_proxy->mapFromSource(m_model->index(row, AgentListModel::Name));
    if (!i.isValid())
        return;
    m_list->setCurrentIndex(i);
    m_list->scrollTo(i);
}

void AgentsPage::refresh()
{
    const QString keep = currentAgentId();
    if (auto ok = m_model->reload(); !ok) {
        m_empty->setTitle(tr("Cannot read the store"));
        m_empty->setText(ok.error().message.toHtmlEscaped());
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    const int n = m_model->rowCount();
    m_count->setText(n == 0 ? QString() : (n == 1 ? tr("1 agent") : tr("%1 agents").arg(n)));
    m_stack->setCurrentWidget(n == 0 ? static_cast<QWidget*>(m_empty) : m_content);
    if (n > 0) {
        if (!keep.isEmpty() && m_model->rowOf(keep) >= 0)
            selectAgent(keep);
        else if (!m_list->currentIndex().isValid())
            m_list->setCurrentIndex(m_proxy->index(0, AgentListModel::Name));
    }
    updateDetails();
    updateActions();
}

void AgentsPage::poll()
{
    auto summaries = m_services.store->agentSummaries();
    if (!summaries)
        return;
    bool same = summaries->size() == m_model->rowCount();
    for (const AgentSummary& a : std::as_const(*summaries)) {
        const AgentListModel::Row* row = same ? m_model->rowFor(a.id) : nullptr;
        same = row && row->summary.version == a.version;
        if (!same)
            break;
    }
    if (!same) {
        refresh();
        return;
    }
    const QStringList ids = m_model->agentIds();
    m_model->updateAgents(QSet<QString>(ids.cbegin(), ids.cend()));
    m_model->updateNextFires();
}

void AgentsPage::noteRunChanged(const QString& agentId)
{
    m_dirty.insert(agentId);
    if (!m_coalesce->isActive())
        m_coalesce->start();
}

void AgentsPage::runAgent(const QString& agentId)
{
    if (agentId.isEmpty())
        return;
    if (!m_services.supervisor) {
        emit message(tr("This window cannot start runs (no engine)."));
        return;
    }
    auto run = m_services.supervisor->enqueue(agentId, QJsonValue(), guiTrigger());
    if (!run) {
        Dialogs::warning(this, tr("Cannot start a run"), run.error().message,
                         run.error().details.join(QLatin1Char('\n')));
        return;
    }
    noteRunChanged(agentId);
    emit runStarted(run->id, agentId);
}

void AgentsPage::updateDetails()
{
    const QString id = currentAgentId();
    const AgentListModel::Row* row = m_model->rowFor(id);
    if (!row) {
        m_detailTitle->setText(tr("No agent selected"));
        m_detailText->clear();
        return;
    }
    const AgentSummary& a = row->summary;
    m_detailTitle->setText(tr("%1 — version %2").arg(a.name).arg(a.version));
    QString html;
    if (!a.description.isEmpty())
        html += QStringLiteral("<p>%1</p>").arg(a.description.toHtmlEscaped());
    html += QStringLiteral("<p>") +
            tr("<b>Model</b> %1 / %2")
                .arg(a.modelEndpoint.toHtmlEscaped(), a.modelName.toHtmlEscaped());
    html += QStringLiteral("<br>") +
            tr("<b>Sandbox</b> %1").arg(Format::tierSentence(a.sandboxTier).toHtmlEscaped());
    if (a.providerCount > 0)
        html += QStringLiteral("<br>") + tr("<b>Providers</b> %1").arg(a.providerCount);
    if (!row->next.detail.isEmpty())
        html += QStringLiteral("<br>") + tr("<b>Schedules</b> %1")
                                             .arg(row->next.detail.toHtmlEscaped().replace(
                                                 QLatin1Char('\n'), QStringLiteral("; ")));
    html += QStringLiteral("</p>");
    m_detailText->setText(html);
    m_chart->showAgent(id);
}

void AgentsPage::updateActions()
{
    const bool has = !currentAgentId().isEmpty();
    m_runNow->setEnabled(has && m_services.supervisor);
    m_edit->setEnabled(has);
    m_export->setEnabled(has);
    m_remove->setEnabled(has);
}

void AgentsPage::removeCurrent()
{
    const QString id = currentAgentId();
    if (id.isEmpty())
        return;
    const auto answer = Dialogs::question(
        this, tr("Remove agent"),
        tr("Remove %1? It disappears from the list and its schedules stop. Its versions and "
           "past runs stay readable; importing it again continues its version numbers.")
            .arg(id),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    if (auto ok = m_services.store->removeAgent(id); !ok) {
        Dialogs::warning(this, tr("Cannot remove the agent"), ok.error().message);
        return;
    }
    emit message(tr("Removed agent %1").arg(id));
    refresh();
}

} // namespace vivarium
