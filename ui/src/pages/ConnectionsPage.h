// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/ui/UiServices.h"

#include <QWidget>

class QLabel;
class QStackedWidget;
class QTreeWidget;

namespace vivarium {

class EmptyState;

/**
 * The Connections page: every connection's metadata and health (never a secret), the ones
 * that need reconnecting highlighted. Connecting happens in the connection wizard (a later
 * version); until then the Connect button says how to do it from a terminal.
 */
class ConnectionsPage : public QWidget
{
    Q_OBJECT
public:
    explicit ConnectionsPage(const UiServices& services, QWidget* parent = nullptr);

    /** Connections whose status is needs_reconnect (the tray and the sidebar show the count). */
    int needsReconnectCount() const { return m_needsReconnect; }

public slots:
    void refresh();
    /** The placeholder for the connection wizard. */
    void connectNew();

signals:
    void needsReconnectChanged(int count);

private:
    UiServices m_services;
    QTreeWidget* m_list = nullptr;
    QLabel* m_summary = nullptr;
    QStackedWidget* m_stack = nullptr;
    EmptyState* m_empty = nullptr;
    int m_needsReconnect = 0;
};

} // namespace vivarium
