// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QAbstractItemModel>
#include <QHash>
#include <QList>

#include <memory>
#include <optional>
#include <vector>

namespace vivarium {

/**
 * The timeline of one run as a tree model: one top-level row per thing that happened (the
 * run queued and started, a model turn, a tool call, a log line, an approval, the output, the
 * end), children for what it carried (tool arguments and result, the model's reply). Related
 * events are merged into one row as they arrive: llm.response completes its llm.request's
 * row, tool.result its tool.call's (by call_id), approval.resolved its approval.requested.
 *
 * Events are taken in seq order only: appendEvents() ignores those already shown and stops at
 * a gap, so a caller mixing a store replay and live signals neither duplicates nor skips one.
 * One call is one batch: one beginInsertRows for the new rows, one dataChanged for rows
 * completed, so a 1,000-event run costs a handful of view updates.
 *
 * Columns: time since the first event, step, event, duration, tokens, cost, details. The
 * details column is elided to one line; FullTextRole has everything (pretty JSON).
 */
class TimelineModel : public QAbstractItemModel
{
    Q_OBJECT
public:
    enum Column {
        TimeColumn,
        StepColumn,
        EventColumn,
        DurationColumn,
        TokensColumn,
        CostColumn,
        DetailsColumn,
        ColumnCount
    };

    /** What a row stands for. */
    enum class Kind {
        Lifecycle,
        ModelTurn,
        ToolCall,
        Log,
        Approval,
        Output,
        Finished,
        Other,
        Part
    };
    Q_ENUM(Kind)

    /** How a row is drawn: errors highlighted, pending in italics. */
    enum class Severity { Normal, Pending, Success, Warning, Error };
    Q_ENUM(Severity)

    enum Role {
        KindRole = Qt::UserRole + 1, ///< Kind (int)
        SeverityRole,                ///< Severity (int)
        SeqRole,                     ///< seq of the event that created the row (qint64)
        FullTextRole,                ///< everything the row stands for, untruncated
        EventTypeRole,               ///< the event type that created the row ("tool.call")
        TitleRole,                   ///< a short title for a detail pane ("Tool call file_read")
    };

    /** Running totals of the run, from its llm.response and run.finished events. */
    struct Totals
    {
        int steps = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        double costUsd = 0;
        bool unpriced = false; ///< some model call had no price: the cost is unknown
        int toolCalls = 0;
        int toolErrors = 0;
        int errors = 0; ///< error rows of any kind (tool errors, error logs, failed end)
    };

    /** Details longer than this are elided in the details column (FullTextRole keeps all). */
    static constexpr int DetailsChars = 240;

    explicit TimelineModel(QObject* parent = nullptr);
    ~TimelineModel() override;

    /** Forget everything (a new run). */
    void clear();
    /**
     * Append events of one run in seq order as one batch. Events with seq <= lastSeq() are
     * ignored; at a gap (seq > lastSeq() + 1) the rest is left out. Returns how many were
     * taken; hasGapAfter() tells whether a gap stopped it.
     */
    int appendEvents(const QList<RunEvent>& events);
    /** Whether the last appendEvents() stopped at a gap (the caller fills it from the store). */
    bool hasGapAfter() const { return m_gap; }
    /** seq of the last event taken (0: none). */
    qint64 lastSeq() const { return m_lastSeq; }
    /** Events taken so far. */
    int eventCount() const { return m_eventCount; }
    Totals totals() const { return m_totals; }
    /** The run's status as its run.finished said; nullopt before. */
    std::optional<RunStatus> finishedStatus() const { return m_finished; }
    /** The row of the run's output (run.output), invalid if none yet. */
    QModelIndex outputIndex() const;
    /** The row of the run's end (run.finished), invalid if none yet. */
    QModelIndex finishedIndex() const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

signals:
    /** After a batch that changed the totals. */
    void totalsChanged();

private:
    struct Node;
    struct Batch;
    Node* nodeOf(const QModelIndex& index) const;
    QModelIndex indexOf(Node* node, int column = 0) const;
    void take(const RunEvent& event, Batch& batch);
    Node* addTop(Batch& batch, std::unique_ptr<Node> node);
    void addChild(Batch& batch, Node* parent, std::unique_ptr<Node> child);
    void touched(Batch& batch, Node* node);
    void closePending(Batch& batch, const QString& why);

    std::unique_ptr<Node> m_root;
    qint64 m_lastSeq = 0;
    int m_eventCount = 0;
    bool m_gap = false;
    QDateTime m_start;
    Totals m_totals;
    std::optional<RunStatus> m_finished;
    QHash<int, Node*> m_turnByStep;
    QHash<QString, Node*> m_toolByCallId;
    QHash<QString, Node*> m_approvalById;
    Node* m_output = nullptr;
    Node* m_finishedNode = nullptr;
};

} // namespace vivarium
