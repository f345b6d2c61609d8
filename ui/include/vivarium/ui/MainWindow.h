// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"
#include "vivarium/ui/UiServices.h"

#include <QMainWindow>

class QLabel;
class QListWidget;
class QStackedWidget;

namespace vivarium {

class AgentEditor;
class AgentsPage;
class ConnectionsPage;
class RunsPage;
class SettingsPage;

/**
 * The desktop app's main window: a sidebar (Agents, Runs, Connections, Settings) beside the
 * page it selects, and the agent editor. It drives the engine's own services (UiServices) and
 * follows the run supervisor's signals; a slow timer catches what other processes (the CLI)
 * change in the store. Closing it hides it to the tray when a tray exists and the
 * `gui.close_to_tray` setting says so; otherwise it asks the app to quit.
 */
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    enum class Page { Agents, Runs, Connections, Settings, AgentEditor };

    explicit MainWindow(const UiServices& services, QWidget* parent = nullptr);
    ~MainWindow() override;

    Page currentPage() const;
    const UiServices& services() const { return m_services; }
    /** A tray icon exists: closing the window may hide it there (TrayController sets this). */
    void setTrayAvailable(bool available);

public slots:
    void showPage(vivarium::MainWindow::Page page);
    /** Re-read everything from the store (F5). */
    void refresh();
    /** The Runs page with this run selected. */
    void showRun(const QString& runId);
    void newAgent();
    void editAgent(const QString& agentId);
    /** Start a run of the agent now; the status bar says which run it is. */
    void runAgent(const QString& agentId);
    /** Ask for an agent package and import it, as `vivarium agent add` does. */
    void importAgent();
    /** Ask where to write the agent's package and export it, as `vivarium agent export`. */
    void exportAgent(const QString& agentId);
    /**
     * Quit the app (the engine stops): asks first when runs are live, as they would be
     * interrupted. Emits quitRequested() when confirmed.
     */
    bool requestQuit();

signals:
    /** The user confirmed quitting: the app should stop the engine and exit. */
    void quitRequested();
    /** A setting was stored from the Settings page (key as in `vivarium settings`). */
    void settingChanged(const QString& key);
    /** A run was started from this window. */
    void runStarted(const QString& runId, const QString& agentId);
    /** The engine state line changed (for the tray's tooltip). */
    void engineStateChanged(const QString& text);
    /** The window was closed into the tray (the engine goes on). */
    void hiddenToTray();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void onRunEvent(const QString& runId, const QString& type);
    void onRunFinished(const QString& runId);
    void updateEngineState();
    bool leaveEditor();

    UiServices m_services;
    QListWidget* m_nav = nullptr;
    QStackedWidget* m_pages = nullptr;
    AgentsPage* m_agents = nullptr;
    RunsPage* m_runs = nullptr;
    ConnectionsPage* m_connections = nullptr;
    SettingsPage* m_settings = nullptr;
    AgentEditor* m_editor = nullptr;
    QLabel* m_engineState = nullptr;
    bool m_trayAvailable = false;
    bool m_toldAboutTray = false;
};

} // namespace vivarium
