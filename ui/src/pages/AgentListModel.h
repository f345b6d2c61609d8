// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Store.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QList>

#include <optional>

namespace vivarium {

/**
 * The Agents page's rows: each agent's listing view, its latest run and its next scheduled
 * fire (computed with CronExpression from the store's schedules). Reads the store only when
 * asked (reload, updateAgents): the page calls it on engine signals and a slow timer.
 */
class AgentListModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, LastRun, NextRun, Model, Sandbox, Action, ColumnCount };
    enum Role {
        AgentIdRole = Qt::UserRole + 1,
        TierRole,
        SortRole,
        /** "none" ... "container": the badge's tier; for Action: whether a run can start. */
        SearchTextRole,
    };

    struct NextFire
    {
        QDateTime at;   ///< invalid: none by time
        QString note;   ///< "paused", "at engine start", "" (no schedule)
        QString detail; ///< tooltip: the schedule in words and its zone
    };

    struct Row
    {
        AgentSummary summary;
        std::optional<RunRecord> lastRun;
        NextFire next;
    };

    explicit AgentListModel(Store* store, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /** Re-read every agent, latest runs and schedules. Error: the store's, rows unchanged. */
    Status reload();
    /** Re-read the latest run of these agents only (after run events). */
    void updateAgents(const QSet<QString>& agentIds);
    /** Recompute next fires from the store's schedules (they move with time). */
    void updateNextFires();

    int rowOf(const QString& agentId) const;
    const Row* rowFor(const QString& agentId) const;
    QStringList agentIds() const;
    /** Whether "Run now" is possible (a supervisor exists): drawn as a disabled button if not. */
    void setCanRun(bool canRun);
    bool canRun() const { return m_canRun; }

    /** Next fire per agent of these schedules after `now` (paused ones noted, not counted). */
    static QHash<QString, NextFire> nextFires(const QList<ScheduleRecord>& schedules,
                                              const QDateTime& now);

private:
    Store* m_store;
    QList<Row> m_rows;
    QHash<QString, int> m_index;
    bool m_canRun = true;
};

} // namespace vivarium
