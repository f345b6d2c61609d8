// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/ui/UiServices.h"

#include <QSet>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QStackedWidget;
class QTimer;
class QTreeView;

namespace vivarium {

class EmptyState;
class RunListModel;
class RunView;

/**
 * The Runs page: history filtered by agent, status and text, read a page at a time; the
 * selected run's live timeline beside it (RunView).
 */
class RunsPage : public QWidget
{
    Q_OBJECT
public:
    explicit RunsPage(const UiServices& services, QWidget* parent = nullptr);

    RunListModel* model() const { return m_model; }
    QString currentRunId() const;

public slots:
    /** Re-read the agents for the filter and the first page. */
    void refresh();
    /** Select (loading pages as needed) and show a run; clears filters that hide it. */
    void showRun(const QString& runId);
    /** A run was created or changed state: update its row soon (coalesced). */
    void noteRunChanged(const QString& runId);
    /** Agents changed (names, new ones): the filter list and the Agent column. */
    void reloadAgents();
    /** Only runs of this agent (empty: all). */
    void filterAgent(const QString& agentId);

signals:
    void agentActivated(const QString& agentId);

private:
    void applyFilter();
    void updateFooter();

    UiServices m_services;
    RunListModel* m_model = nullptr;
    QComboBox* m_agent = nullptr;
    QComboBox* m_status = nullptr;
    QLineEdit* m_text = nullptr;
    QTreeView* m_list = nullptr;
    RunView* m_view = nullptr;
    QLabel* m_footer = nullptr;
    QStackedWidget* m_stack = nullptr;
    EmptyState* m_empty = nullptr;
    QWidget* m_content = nullptr;
    QTimer* m_textDelay = nullptr;
    QTimer* m_coalesce = nullptr;
    QSet<QString> m_dirty;
    bool m_anyRun = false;
};

} // namespace vivarium
