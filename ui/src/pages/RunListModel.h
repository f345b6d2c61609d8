// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Store.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

#include <optional>

namespace vivarium {

/**
 * Run history for the Runs page, newest first, read a page at a time (fetchMore, as the view
 * scrolls) with the store's id cursor, so 10,000 runs cost what one screen shows. The agent
 * and status filters go to the store; the text filter (id, agent, trigger, reason) is applied
 * to each page, scanning a bounded number of rows per fetch so the GUI never stalls.
 */
class RunListModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Status,
        Agent,
        Started,
        Duration,
        Trigger,
        Steps,
        Tokens,
        Cost,
        Reason,
        ColumnCount
    };
    enum Role { RunIdRole = Qt::UserRole + 1, AgentIdRole, LiveRole };

    static constexpr int PageSize = 100;
    /** At most this many rows are read per fetchMore while a text filter skips most. */
    static constexpr int ScanLimit = 2000;

    struct Filter
    {
        QString agentId;
        std::optional<RunStatus> status;
        QString text;
    };

    explicit RunListModel(Store* store, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;

    /** Replace the filter and read the first page. */
    void setFilter(const Filter& filter);
    const Filter& filter() const { return m_filter; }
    /** Agent display names (id -> name) for the Agent column. */
    void setAgentNames(const QHash<QString, QString>& names);

    /** Insert or update one run as the store has it now (live updates). */
    void upsert(const RunRecord& run);
    /** Re-read live rows and pick up runs newer than the newest shown (slow timer). */
    void refreshRecent();
    /** Live rows tick their duration. */
    void tick();

    bool exhausted() const { return m_exhausted; }
    QString lastError() const { return m_error; }
    int rowOf(const QString& runId) const;
    RunRecord runAt(int row) const { return m_rows.value(row); }
    bool matches(const RunRecord& run) const;

signals:
    /** A page was read (or an error happened): the footer re-reads the counts. */
    void pageLoaded();

private:
    void reindex();

    Store* m_store;
    Filter m_filter;
    QList<RunRecord> m_rows;
    QHash<QString, int> m_index;
    QHash<QString, QString> m_agentNames;
    QString m_cursor; ///< oldest id scanned so far
    bool m_exhausted = false;
    QString m_error;
};

} // namespace vivarium
