// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/MainWindow.h"

#include "Icons.h"
#include "UiLogging.h"
#include "agent/AgentEditor.h"
#include "agent/AgentPackages.h"
#include "agent/AgentValidation.h"
#include "pages/AgentsPage.h"
#include "pages/ConnectionsPage.h"
#include "pages/RunsPage.h"
#include "pages/SettingsPage.h"

#include "vivarium/core/MachineReferences.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/ui/Dialogs.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>

namespace vivarium {

namespace {

/** Sidebar rows, in Page order. */
struct NavEntry
{
    const char* objectName;
    const char* icon;
};
constexpr NavEntry NavEntries[] = {{"navAgents", "agents"},
                                   {"navRuns", "runs"},
                                   {"navConnections", "connections"},
                                   {"navSettings", "settings"}};

/** Run events that change what a list shows; the rest (model turns, tool calls) do not. */
bool changesState(const QString& type)
{
    return type == QLatin1String("run.queued") || type == QLatin1String("run.started") ||
           type == QLatin1String("run.finished") || type == QLatin1String("approval.requested") ||
           type == QLatin1String("approval.resolved") || type == QLatin1String("llm.response");
}

} // namespace

MainWindow::MainWindow(const UiServices& services, QWidget* parent)
    : QMainWindow(parent)
    , m_services(services)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Vivarium"));
    setWindowIcon(icons::get(QStringLiteral("vivarium")));
    resize(1180, 740);

    m_agents = new AgentsPage(services, this);
    m_runs = new RunsPage(services, this);
    m_connections = new ConnectionsPage(services, this);
    m_settings = new SettingsPage(services, this);
    m_editor = new AgentEditor(services, this);

    m_pages = new QStackedWidget(this);
    m_pages->setObjectName(QStringLiteral("pages"));
    m_pages->addWidget(m_agents);
    m_pages->addWidget(m_runs);
    m_pages->addWidget(m_connections);
    m_pages->addWidget(m_settings);
    m_pages->addWidget(m_editor);

    m_nav = new QListWidget(this);
    m_nav->setObjectName(QStringLiteral("navigation"));
    m_nav->setIconSize(QSize(22, 22));
    m_nav->setFixedWidth(180);
    m_nav->setFrameShape(QFrame::NoFrame);
    m_nav->setSpacing(2);
    QFont navFont = m_nav->font();
    navFont.setPointSizeF(navFont.pointSizeF() * 1.08);
    m_nav->setFont(navFont);
    m_nav->setStyleSheet(
        QStringLiteral("QListWidget#navigation { background: palette(window); }"
                       "QListWidget#navigation::item { padding: 7px 6px; border-radius: 6px; }"
                       "QListWidget#navigation::item:selected { background: palette(highlight); "
                       "color: palette(highlighted-text); }"));
    const QString names[] = {tr("Agents"), tr("Runs"), tr("Connections"), tr("Settings")};
    for (int i = 0; i < 4; ++i) {
        auto* item =
            new QListWidgetItem(icons::get(QLatin1String(NavEntries[i].icon)), names[i], m_nav);
        item->setData(Qt::UserRole, QLatin1String(NavEntries[i].objectName));
        item->setToolTip(tr("%1 (Ctrl+%2)").arg(names[i]).arg(i + 1));
    }
    m_nav->setCurrentRow(0);

    auto* central = new QWidget(this);
    auto* layout = new QHBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->addWidget(m_nav);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    setTabOrder(m_nav, m_pages);

    // Menus: every action reachable from the keyboard.
    auto* file = menuBar()->addMenu(tr("&File"));
    QAction* newAgentAction = file->addAction(icons::get(QStringLiteral("add")), tr("&New agent"),
                                              this, &MainWindow::newAgent);
    newAgentAction->setShortcut(QKeySequence::New);
    QAction* importAction =
        file->addAction(icons::get(QStringLiteral("import")), tr("&Import agent package…"), this,
                        &MainWindow::importAgent);
    importAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    file->addSeparator();
    QAction* reload = file->addAction(icons::get(QStringLiteral("refresh")), tr("&Refresh"), this,
                                      &MainWindow::refresh);
    reload->setShortcuts({QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_R)});
    file->addSeparator();
    QAction* closeWindow = file->addAction(tr("&Close window"), this, &QWidget::close);
    closeWindow->setShortcut(QKeySequence::Close);
    QAction* quit = file->addAction(tr("&Quit Vivarium"), this, &MainWindow::requestQuit);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName(QStringLiteral("actionQuit"));

    auto* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < 4; ++i) {
        QAction* a = view->addAction(icons::get(QLatin1String(NavEntries[i].icon)), names[i], this,
                                     [this, i] { showPage(Page(i)); });
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Vivarium"), this, [this] {
        Dialogs::information(this, tr("About Vivarium"),
                             tr("Vivarium %1\nAdaptive automations, sandboxed.\n\nData directory: "
                                "%2")
                                 .arg(QStringLiteral(VIVARIUM_VERSION), m_services.dataDir));
    });

    m_engineState = new QLabel(this);
    m_engineState->setObjectName(QStringLiteral("engineState"));
    statusBar()->addPermanentWidget(m_engineState);

    // Navigation.
    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && Page(row) != currentPage() &&
            !(currentPage() == Page::AgentEditor && row == int(Page::Agents)))
            showPage(Page(row));
    });
    connect(m_nav, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
        if (m_nav->row(item) == int(Page::Agents) && currentPage() == Page::AgentEditor)
            showPage(Page::Agents);
    });
    connect(m_agents, &AgentsPage::newAgentRequested, this, &MainWindow::newAgent);
    connect(m_agents, &AgentsPage::importRequested, this, &MainWindow::importAgent);
    connect(m_agents, &AgentsPage::editRequested, this, &MainWindow::editAgent);
    connect(m_agents, &AgentsPage::exportRequested, this, &MainWindow::exportAgent);
    connect(m_agents, &AgentsPage::runActivated, this, &MainWindow::showRun);
    connect(m_agents, &AgentsPage::message, this,
            [this](const QString& t) { statusBar()->showMessage(t, 8000); });
    connect(m_agents, &AgentsPage::runStarted, this,
            [this](const QString& runId, const QString& agentId) {
                m_runs->noteRunChanged(runId);
                statusBar()->showMessage(tr("Started %1 of %2 (Runs: Ctrl+2)").arg(runId, agentId),
                                         10000);
                updateEngineState();
                emit runStarted(runId, agentId);
            });
    connect(m_runs, &RunsPage::agentActivated, this, &MainWindow::editAgent);
    connect(m_settings, &SettingsPage::settingChanged, this, &MainWindow::settingChanged);
    connect(m_settings, &SettingsPage::message, this,
            [this](const QString& t) { statusBar()->showMessage(t, 8000); });
    connect(m_editor, &AgentEditor::closeRequested, this, [this] {
        if (leaveEditor())
            showPage(Page::Agents);
    });
    connect(m_editor, &AgentEditor::saved, this, [this](const QString& id) {
        m_agents->refresh();
        m_agents->selectAgent(id);
        m_runs->reloadAgents();
    });
    connect(m_editor, &AgentEditor::message, this,
            [this](const QString& t) { statusBar()->showMessage(t, 8000); });
    connect(m_editor, &AgentEditor::runRequested, this, &MainWindow::runAgent);
    connect(m_editor, &AgentEditor::exportRequested, this, &MainWindow::exportAgent);

    // Live updates come from the engine's signals, not from polling the store.
    if (RunSupervisor* sup = m_services.supervisor) {
        connect(
            sup, &RunSupervisor::eventAppended, this,
            [this](const QString& runId, const RunEvent& event) { onRunEvent(runId, event.type); });
        connect(sup, &RunSupervisor::runFinished, this,
                [this](const QString& runId) { onRunFinished(runId); });
    }
    // What other processes change (the CLI beside this engine): a slow timer, visible pages only.
    auto* slow = new QTimer(this);
    slow->setInterval(30'000);
    connect(slow, &QTimer::timeout, this, [this] {
        if (!isVisible())
            return;
        m_agents->poll();
        if (currentPage() == Page::Connections)
            m_connections->refresh();
        updateEngineState();
    });
    slow->start();

    updateEngineState();
}

MainWindow::~MainWindow() = default;

MainWindow::Page MainWindow::currentPage() const
{
    return Page(m_pages->currentIndex());
}

void MainWindow::setTrayAvailable(bool available)
{
    m_trayAvailable = available;
}

void MainWindow::showPage(Page page)
{
    if (currentPage() == Page::AgentEditor && page != Page::AgentEditor && !leaveEditor())
        return;
    if (page == Page::Connections)
        m_connections->refresh();
    m_pages->setCurrentIndex(int(page));
    const int navRow = page == Page::AgentEditor ? int(Page::Agents) : int(page);
    const QSignalBlocker block(m_nav);
    m_nav->setCurrentRow(navRow);
    // Keyboard users land in the page, not on the sidebar.
    if (QWidget* w = m_pages->currentWidget(); w && page != Page::AgentEditor)
        w->setFocus();
}

bool MainWindow::leaveEditor()
{
    return currentPage() != Page::AgentEditor || m_editor->confirmLeave();
}

void MainWindow::refresh()
{
    m_agents->refresh();
    m_runs->refresh();
    m_connections->refresh();
    m_settings->refresh();
    updateEngineState();
}

void MainWindow::showRun(const QString& runId)
{
    showPage(Page::Runs);
    if (currentPage() == Page::Runs)
        m_runs->showRun(runId);
}

void MainWindow::newAgent()
{
    if (!leaveEditor())
        return;
    m_editor->newAgent();
    showPage(Page::AgentEditor);
    m_editor->setFocus();
}

void MainWindow::editAgent(const QString& agentId)
{
    if (agentId.isEmpty() || !leaveEditor())
        return;
    if (!m_editor->loadAgent(agentId))
        return;
    showPage(Page::AgentEditor);
}

void MainWindow::runAgent(const QString& agentId)
{
    m_agents->runAgent(agentId);
}

void MainWindow::importAgent()
{
    const QString path =
        Dialogs::openFileName(this, tr("Import an agent package"), QDir::homePath(),
                              tr("Agent packages (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    auto imported = AgentPackages::import(*m_services.store, path,
                                          machineReferences(*m_services.store, m_services.dataDir));
    if (!imported) {
        Dialogs::warning(this, tr("Cannot import %1").arg(QFileInfo(path).fileName()),
                         imported.error().message,
                         imported.error().details.join(QLatin1Char('\n')));
        return;
    }
    qCInfo(lcUi).noquote() << "imported agent" << imported->id << "from" << path;
    m_agents->refresh();
    m_agents->selectAgent(imported->id);
    m_runs->reloadAgents();
    showPage(Page::Agents);
    const SaveResult& s = imported->saved;
    const QString what = !s.created ? tr("Agent %1 unchanged (version %2)")
                                    : (s.newAgent ? tr("Added agent %1 (version %2)")
                                                  : tr("Updated agent %1 to version %2"));
    statusBar()->showMessage(what.arg(imported->id).arg(s.version), 10000);
    if (!imported->warnings.isEmpty())
        Dialogs::information(this, tr("Imported with warnings"),
                             what.arg(imported->id).arg(s.version) + QStringLiteral("\n\n") +
                                 imported->warnings.join(QLatin1Char('\n')));
}

void MainWindow::exportAgent(const QString& agentId)
{
    if (agentId.isEmpty())
        return;
    const QString fileFilter = tr("Single file, prompt inline (*.json)");
    const QString dirFilter = tr("Folder with agent.json and prompt.md (*)");
    QString selected = fileFilter;
    QString path = Dialogs::saveFileName(this, tr("Export %1").arg(agentId),
                                         QDir::home().filePath(agentId + QStringLiteral(".json")),
                                         fileFilter + QStringLiteral(";;") + dirFilter, &selected);
    if (path.isEmpty())
        return;
    if (selected == dirFilter && path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive))
        path.chop(5);
    // The file dialog already asked about replacing a file; a folder is asked about here.
    bool overwrite = QFileInfo(path).isFile();
    auto ok = AgentPackages::exportTo(*m_services.store, agentId, std::nullopt, path, overwrite);
    if (!ok && ok.error().code == Error::Code::Conflict && QFileInfo(path).isDir()) {
        if (Dialogs::question(this, tr("Replace the package?"),
                              tr("%1 already holds an agent package. Replace its agent.json and "
                                 "prompt.md?")
                                  .arg(path),
                              QMessageBox::Yes | QMessageBox::Cancel,
                              QMessageBox::Cancel) != QMessageBox::Yes)
            return;
        ok = AgentPackages::exportTo(*m_services.store, agentId, std::nullopt, path, true);
    }
    if (!ok) {
        Dialogs::warning(this, tr("Cannot export %1").arg(agentId), ok.error().message,
                         ok.error().details.join(QLatin1Char('\n')));
        return;
    }
    qCInfo(lcUi).noquote() << "exported agent" << agentId << "to" << path;
    statusBar()->showMessage(tr("Exported %1 to %2").arg(agentId, path), 10000);
}

bool MainWindow::requestQuit()
{
    if (!leaveEditor())
        return false;
    const int live = m_services.supervisor ? m_services.supervisor->activeRuns() : 0;
    if (live > 0 &&
        Dialogs::question(
            this, tr("Quit Vivarium"),
            (live == 1 ? tr("A run is still going.") : tr("%1 runs are still going.").arg(live)) +
                QLatin1Char(' ') +
                tr("Quitting stops the engine: live runs are recorded as "
                   "interrupted and schedules stop firing until Vivarium runs "
                   "again."),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
        return false;
    emit quitRequested();
    return true;
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    const bool toTray =
        m_trayAvailable && Settings(*m_services.store)
                                   .value(QStringLiteral("gui.close_to_tray"))
                                   .value_or(QStringLiteral("true")) == QLatin1String("true");
    if (toTray) {
        hide();
        event->ignore();
        emit hiddenToTray();
        return;
    }
    if (requestQuit())
        event->accept();
    else
        event->ignore();
}

void MainWindow::onRunEvent(const QString& runId, const QString& type)
{
    if (!changesState(type))
        return;
    m_runs->noteRunChanged(runId);
    if (auto run = m_services.store->run(runId))
        m_agents->noteRunChanged(run->agentId);
    if (type == QLatin1String("run.queued") || type == QLatin1String("run.started"))
        updateEngineState();
}

void MainWindow::onRunFinished(const QString& runId)
{
    m_runs->noteRunChanged(runId);
    if (auto run = m_services.store->run(runId))
        m_agents->noteRunChanged(run->agentId);
    // The supervisor counts the run until it has returned from emitting.
    QTimer::singleShot(0, this, &MainWindow::updateEngineState);
}

void MainWindow::updateEngineState()
{
    QString text;
    if (!m_services.supervisor) {
        text = tr("No engine in this window: read-only");
    } else {
        const int n = m_services.supervisor->activeRuns();
        text = n == 0 ? tr("Engine running · no run active")
                      : (n == 1 ? tr("Engine running · 1 run active")
                                : tr("Engine running · %1 runs active").arg(n));
    }
    if (m_engineState->text() != text) {
        m_engineState->setText(text);
        emit engineStateChanged(text);
    }
}

} // namespace vivarium
