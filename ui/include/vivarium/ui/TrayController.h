// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QObject>
#include <QPointer>
#include <QSet>

class QAction;
class QMenu;
class QTimer;
class QSystemTrayIcon;

namespace vivarium {

class MainWindow;

/**
 * The system tray icon (where the desktop has a tray): the engine's state in its tooltip and
 * menu, Show/Hide, a "Run now" submenu of every agent, notifications when a run fails or
 * times out (a click opens the run) and when a connection needs a reconnect (a click opens the
 * Connections page), and an explicit Quit. With it, closing the window keeps
 * the engine running (setting `gui.close_to_tray`).
 */
class TrayController : public QObject
{
    Q_OBJECT
public:
    explicit TrayController(MainWindow* window, QObject* parent = nullptr);
    ~TrayController() override;

    /** False where the desktop has no tray (then the window's close quits). */
    bool isAvailable() const;
    QMenu* menu() const { return m_menu; }
    /** The last notification shown (title: text), for tests on a platform without a tray. */
    QString lastNotification() const { return m_lastNotification; }

public slots:
    /** Show and raise the window. */
    void showWindow();
    /** Say that a run failed (or timed out); clicking the message opens it. */
    void notifyRunFinished(const QString& runId, vivarium::RunStatus status, const QString& reason);
    /**
     * Look for connections that need a reconnect and say so once per connection (again after it
     * was fixed and broke anew). Runs every minute: the engine's refresher, the CLI and other
     * processes change connections without telling this one.
     */
    void checkConnections();

private:
    void rebuildRunMenu();
    void updateState(const QString& text);

    QPointer<MainWindow> m_window;
    QSystemTrayIcon* m_tray = nullptr;
    QMenu* m_menu = nullptr;
    QMenu* m_runMenu = nullptr;
    QAction* m_state = nullptr;
    QAction* m_toggle = nullptr;
    QString m_lastRunNotified;
    bool m_lastWasConnection = false;
    QSet<QString> m_reconnectNotified;
    QTimer* m_connectionsTimer = nullptr;
    QString m_lastNotification;
    bool m_toldAboutTray = false;
};

} // namespace vivarium
