// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Paths.h"
#include "vivarium/core/Run.h"
#include "vivarium/sandbox/RunSupervisor.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

class QObject;
class QThreadPool;

namespace vivarium {

class EventJournal;
class SecretStore;
class Store;

/** The state a terminal write left in the store. */
struct TerminalOutcome
{
    RunStatus status = RunStatus::Failed;
    QString reason;
};

/**
 * What the supervisor shares with its run sessions. Owned by the supervisor, which outlives
 * every session; all of it is used on the supervisor's thread only, except `pool`.
 */
struct SupervisorContext
{
    Store* store = nullptr;
    SecretStore* secrets = nullptr;
    Paths paths;
    SupervisorOptions options;
    EventJournal* journal = nullptr;
    /** Model calls run here. */
    QThreadPool* pool = nullptr;
    /** Receives model-call results on the supervisor's thread; outlives every call. */
    QObject* resultTarget = nullptr;

    /** Append an audit row; the caller decides what a failure means. */
    Status tryAudit(const QString& actor, const QString& action, const QString& runId,
                    const QString& agentId, const QJsonObject& details) const;
    /** Append an audit row; a failure is logged, never fatal to the run. */
    void audit(const QString& actor, const QString& action, const QString& runId,
               const QString& agentId, const QJsonObject& details) const;

    /**
     * End a run: flush its events, write usage and the terminal state together, then event
     * `run.finished` and audit `run.finished`. If another process ended the run first, its
     * state stands and is returned (no second run.finished).
     */
    TerminalOutcome writeTerminal(const QString& runId, const QString& agentId, RunStatus status,
                                  const QString& reason, const QJsonValue& output,
                                  const RunUsage& usage, qint64 durationMs) const;
};

/** {steps, input_tokens, output_tokens, cost_usd (null when unpriced), unpriced}. */
QJsonObject runUsageToJson(const RunUsage& usage);

} // namespace vivarium
