// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/TrayController.h"

#include "Format.h"
#include "Icons.h"

#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/ui/MainWindow.h"

#include <QAction>
#include <QMenu>
#include <QSystemTrayIcon>
#include <QTimer>

namespace vivarium {

TrayController::TrayController(MainWindow* window, QObject* parent)
    : QObject(parent)
    , m_window(window)
{
    m_menu = new QMenu;
    m_menu->setObjectName(QStringLiteral("trayMenu"));
    m_state = m_menu->addAction(tr("Engine starting…"));
    m_state->setEnabled(false);
    m_menu->addSeparator();
    m_toggle = m_menu->addAction(tr("Show Vivarium"), this, [this] {
        if (MainWindow* win = m_window.data(); win && win->isVisible() && !win->isMinimized())
            win->hide();
        else
            showWindow();
    });
    m_runMenu = m_menu->addMenu(icons::get(QStringLiteral("run")), tr("Run now"));
    m_runMenu->setObjectName(QStringLiteral("trayRunMenu"));
    connect(m_runMenu, &QMenu::aboutToShow, this, &TrayController::rebuildRunMenu);
    m_menu->addSeparator();
    QAction* quit = m_menu->addAction(tr("Quit Vivarium"), this, [this] {
        if (MainWindow* win = m_window.data())
            win->requestQuit();
    });
    quit->setObjectName(QStringLiteral("trayQuit"));
    connect(m_menu, &QMenu::aboutToShow, this, [this] {
        const MainWindow* win = m_window.data();
        m_toggle->setText(win && win->isVisible() ? tr("Hide Vivarium") : tr("Show Vivarium"));
    });
    rebuildRunMenu();

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(icons::get(QStringLiteral("vivarium")), this);
        m_tray->setContextMenu(m_menu);
        m_tray->setToolTip(tr("Vivarium"));
        connect(m_tray, &QSystemTrayIcon::activated, this,
                [this](QSystemTrayIcon::ActivationReason reason) {
                    if (reason == QSystemTrayIcon::Trigger ||
                        reason == QSystemTrayIcon::DoubleClick)
                        showWindow();
                });
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
            showWindow();
            MainWindow* win = m_window.data();
            if (win && m_lastWasConnection)
                win->showPage(MainWindow::Page::Connections);
            else if (win && !m_lastRunNotified.isEmpty())
                win->showRun(m_lastRunNotified);
        });
        m_tray->show();
    }
    // Raw pointer once checked: GCC 12 -O2 sees a possible null in every QPointer access.
    if (MainWindow* win = m_window.data()) {
        win->setTrayAvailable(isAvailable());
        connect(win, &MainWindow::engineStateChanged, this, &TrayController::updateState);
        connect(win, &MainWindow::hiddenToTray, this, [this] {
            if (m_toldAboutTray || !m_tray)
                return;
            m_toldAboutTray = true;
            m_tray->showMessage(tr("Vivarium keeps running"),
                                tr("Schedules go on firing. Quit from this icon's menu."),
                                QSystemTrayIcon::Information, 5000);
        });
        if (RunSupervisor* sup = win->services().supervisor)
            connect(sup, &RunSupervisor::runFinished, this, &TrayController::notifyRunFinished);
        m_connectionsTimer = new QTimer(this);
        m_connectionsTimer->setInterval(60'000);
        connect(m_connectionsTimer, &QTimer::timeout, this, &TrayController::checkConnections);
        m_connectionsTimer->start();
        QTimer::singleShot(0, this, &TrayController::checkConnections);
    }
}

TrayController::~TrayController()
{
    delete m_menu;
}

bool TrayController::isAvailable() const
{
    return m_tray != nullptr;
}

void TrayController::showWindow()
{
    MainWindow* win = m_window.data();
    if (!win)
        return;
    win->show();
    win->setWindowState((win->windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
    win->raise();
    win->activateWindow();
}

void TrayController::rebuildRunMenu()
{
    m_runMenu->clear();
    MainWindow* win = m_window.data();
    if (!win)
        return;
    const UiServices& s = win->services();
    auto agents = s.store->agentSummaries();
    if (!agents || agents->isEmpty()) {
        m_runMenu->addAction(tr("No agents yet"))->setEnabled(false);
        return;
    }
    for (const AgentSummary& a : std::as_const(*agents)) {
        QAction* act = m_runMenu->addAction(a.name, this, [this, id = a.id] {
            if (MainWindow* w = m_window.data())
                w->runAgent(id);
        });
        act->setEnabled(s.supervisor != nullptr);
        act->setData(a.id);
        if (a.sandboxTier == QLatin1String("none"))
            act->setText(tr("%1 (UNSANDBOXED)").arg(a.name));
    }
}

void TrayController::updateState(const QString& text)
{
    m_state->setText(text);
    if (m_tray)
        m_tray->setToolTip(tr("Vivarium\n%1").arg(text));
}

void TrayController::notifyRunFinished(const QString& runId, RunStatus status,
                                       const QString& reason)
{
    if (status != RunStatus::Failed && status != RunStatus::TimedOut)
        return;
    QString agent = runId;
    if (MainWindow* win = m_window.data()) {
        if (auto run = win->services().store->run(runId)) {
            agent = run->agentId;
            if (auto a = win->services().store->agent(run->agentId))
                agent = a->definition.name;
        }
    }
    m_lastRunNotified = runId;
    m_lastWasConnection = false;
    const QString title =
        status == RunStatus::TimedOut ? tr("%1 timed out").arg(agent) : tr("%1 failed").arg(agent);
    const QString text = reason.isEmpty() ? runId : reason;
    m_lastNotification = title + QStringLiteral(": ") + text;
    if (m_tray)
        m_tray->showMessage(title, text, QSystemTrayIcon::Warning, 8000);
}

void TrayController::checkConnections()
{
    MainWindow* win = m_window.data();
    if (!win || !win->services().store)
        return;
    auto list = win->services().store->connections();
    if (!list)
        return; // a busy or broken store is reported where it is used, not from the tray
    QSet<QString> broken;
    for (const ConnectionRecord& c : std::as_const(*list)) {
        if (c.status != QLatin1String("needs_reconnect"))
            continue;
        broken.insert(c.name);
        if (m_reconnectNotified.contains(c.name))
            continue;
        const QString title = tr("%1 needs a reconnect").arg(c.name);
        QString reason = c.statusReason.isEmpty()
                             ? tr("The provider no longer accepts its sign-in.")
                             : c.statusReason;
        if (!reason.endsWith(QLatin1Char('.')))
            reason += QLatin1Char('.');
        const QString text =
            reason + QLatin1Char(' ') + tr("Agents that use it pause until you reconnect it.");
        m_lastNotification = title + QStringLiteral(": ") + text;
        m_lastWasConnection = true;
        if (m_tray)
            m_tray->showMessage(title, text, QSystemTrayIcon::Warning, 8000);
    }
    // Forget the ones that were fixed, so a new break is told again.
    m_reconnectNotified = broken;
}

} // namespace vivarium
