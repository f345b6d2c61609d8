// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "connect/ConnectionWizard.h"
#include "vivarium/ui/UiServices.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QStackedWidget;
class QTreeWidget;

namespace vivarium {

class ConnectionCheck;
class ConnectionRemoval;
class EmptyState;

/**
 * The Connections page: every connection's metadata and health (never a secret), the ones
 * that need reconnecting highlighted with a one-click Reconnect. Connect… opens the connection
 * wizard; Test and Remove act on the selected connection (off the GUI thread where they call
 * the provider).
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
    /** Open the connection wizard (window-modal, not blocking); it deletes itself on close. */
    void connectNew();
    /** The wizard at the sign-in page of `name`; returns it (tests drive it). */
    ConnectionWizard* reconnect(const QString& name);
    void testSelected();
    void removeSelected();

public:
    /** How wizards opened from here behave (tests inject the browser). */
    void setWizardOptions(const ConnectionWizardOptions& options) { m_wizardOptions = options; }
    /** The wizard open now, if any. */
    ConnectionWizard* wizard() const { return m_wizard; }

signals:
    void needsReconnectChanged(int count);

private:
    UiServices m_services;
    QTreeWidget* m_list = nullptr;
    QLabel* m_summary = nullptr;
    QStackedWidget* m_stack = nullptr;
    EmptyState* m_empty = nullptr;
    QPushButton* m_test = nullptr;
    QPushButton* m_remove = nullptr;
    QLabel* m_message = nullptr;
    ConnectionCheck* m_check = nullptr;
    ConnectionRemoval* m_removal = nullptr;
    ConnectionWizardOptions m_wizardOptions;
    ConnectionWizard* m_wizard = nullptr;
    int m_needsReconnect = 0;

    ConnectionWizard* openWizard(const QString& reconnect);
    QString selectedName() const;
    void showMessage(bool ok, const QString& text);
};

} // namespace vivarium
