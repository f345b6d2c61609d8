// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"
#include "vivarium/ui/UiServices.h"

#include <QSet>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QStackedWidget;
class QTimer;
class QTreeView;

namespace vivarium {

class AgentListModel;
class EmptyState;
class RunChart;

/**
 * The Agents page: every agent with its last result, next run and sandbox tier, a Run now
 * button per row, the selected agent's details and recent runs chart; an empty state that
 * says how to get a first agent.
 */
class AgentsPage : public QWidget
{
    Q_OBJECT
public:
    explicit AgentsPage(const UiServices& services, QWidget* parent = nullptr);

    AgentListModel* model() const { return m_model; }
    /** The agent selected in the list, empty if none. */
    QString currentAgentId() const;
    void selectAgent(const QString& agentId);

public slots:
    /** Re-read everything (F5, after saves). */
    void refresh();
    /**
     * The slow timer: re-read the rows in place when the agents are the same (keeps the
     * selection and scroll position), everything when another process changed them.
     */
    void poll();
    /** A run of this agent changed: refresh its row soon (coalesced). */
    void noteRunChanged(const QString& agentId);
    /** Start a run of the agent now (the same as `vivarium run ID` without --follow). */
    void runAgent(const QString& agentId);

signals:
    void newAgentRequested();
    void importRequested();
    void editRequested(const QString& agentId);
    void exportRequested(const QString& agentId);
    void runStarted(const QString& runId, const QString& agentId);
    void runActivated(const QString& runId);
    /** A sentence for the status bar. */
    void message(const QString& text);

private:
    void updateDetails();
    void updateActions();
    void removeCurrent();

    UiServices m_services;
    AgentListModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QStackedWidget* m_stack = nullptr;
    EmptyState* m_empty = nullptr;
    QWidget* m_content = nullptr;
    QTreeView* m_list = nullptr;
    QLineEdit* m_filter = nullptr;
    QLabel* m_count = nullptr;
    QPushButton* m_runNow = nullptr;
    QPushButton* m_edit = nullptr;
    QPushButton* m_export = nullptr;
    QPushButton* m_remove = nullptr;
    QLabel* m_detailTitle = nullptr;
    QLabel* m_detailText = nullptr;
    RunChart* m_chart = nullptr;
    QTimer* m_coalesce = nullptr;
    QSet<QString> m_dirty;
};

} // namespace vivarium
