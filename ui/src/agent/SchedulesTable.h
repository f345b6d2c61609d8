// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "AgentValidation.h"

#include <QJsonArray>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableWidget;

namespace vivarium {

/**
 * An agent's own schedules, edited in place: cron, zone, overlap and misfire policy, jitter,
 * enabled. Each row says what its cron means and when it fires next (CronExpression, the
 * schedule's zone); problems from the validation mark their cells.
 */
class SchedulesTable : public QWidget
{
    Q_OBJECT
public:
    explicit SchedulesTable(QWidget* parent = nullptr);

    void setSchedules(const QList<ScheduleSpec>& schedules);
    /** The rows as typed, for the loader. */
    QJsonArray toJson() const;
    int count() const;

    void setProblems(const QList<FieldProblem>& problems);
    void focusPointer(const QString& pointer);
    /** Whether "Edit in the schedule editor" may be offered (the agent is saved, unchanged). */
    void setEditorAvailable(bool available);

signals:
    void changed();
    /** Open row `row`'s schedule in the full schedule editor. */
    void openEditorRequested(int row);

private:
    void addRow(const ScheduleSpec& spec);
    void updateExplanation(int row);

    QTableWidget* m_table = nullptr;
    QPushButton* m_remove = nullptr;
    QPushButton* m_openEditor = nullptr;
    bool m_editorAvailable = false;
    QLabel* m_errors = nullptr;
    bool m_loading = false;
};

} // namespace vivarium
