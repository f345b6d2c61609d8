// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>

namespace vivarium {

/** Run states of DESIGN section 3, plus the schedule ledger entries `skipped` and `missed`. */
enum class RunStatus {
    Queued,
    Starting,
    Running,
    AwaitingApproval,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    Interrupted,
    Skipped, ///< a schedule fire not run because of the overlap policy
    Missed,  ///< a schedule fire lost while the engine was down
};

/** Wire/storage name, e.g. "awaiting_approval". */
QString runStatusName(RunStatus s);
/** Inverse of toString; nullopt for an unknown name. */
std::optional<RunStatus> runStatusFromString(const QString& s);
/** True for states a run never leaves. */
bool isTerminal(RunStatus s);

/** What a run consumed so far (kept current while it runs). */
struct RunUsage
{
    int steps = 0; ///< model turns
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    std::optional<double> costUsd; ///< nullopt: some call was unpriced (never shown as $0)
    bool unpriced = false;         ///< at least one model call had no known price
};

/** A run as stored. */
struct RunRecord
{
    QString id; ///< "run_" + 26-char ULID: sortable by creation time
    QString agentId;
    int agentVersion = 0;
    RunStatus status = RunStatus::Queued;
    QString reason;  ///< why it ended ("max_steps", "crashed: signal 9", ...); empty while live
    QString trigger; ///< who started it: "cli:<user>", "schedule:<id>", "api:<key name>"
    QJsonValue input;
    QJsonValue output;
    QDateTime createdAt;
    QDateTime startedAt;
    QDateTime finishedAt;
    RunUsage usage;
    /** Schedule runs and ledger entries: the instant the schedule fired for (UTC). */
    QDateTime scheduledFor;
};

/** What the caller supplies to create a run; the store assigns id and timestamps. */
struct NewRun
{
    QString agentId;
    std::optional<int> agentVersion; ///< default: the agent's current version
    QString trigger;
    QJsonValue input;
    RunStatus status = RunStatus::Queued; ///< Skipped/Missed for ledger entries
    QString reason;
    QDateTime scheduledFor; ///< schedule fires only: the instant it fired for
};

/** One entry of a run's append-only journal. `seq` starts at 1 and has no gaps. */
struct RunEvent
{
    qint64 seq = 0;
    QString type; ///< run.queued, llm.request, tool.call, ... (DESIGN section 3)
    QDateTime ts; ///< UTC, millisecond precision
    QJsonObject data;
};

/** Filter and page for listing runs, newest first. */
struct RunFilter
{
    QString agentId;                 ///< empty: all agents
    std::optional<RunStatus> status; ///< empty: any
    QString beforeId;                ///< cursor: only runs older than this id
    int limit = 50;
};

} // namespace vivarium
