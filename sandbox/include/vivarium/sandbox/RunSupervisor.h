// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/Run.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <QJsonValue>
#include <QObject>
#include <QString>

#include <memory>

namespace vivarium {

class SecretStore;
class Store;

/** Tunables of the supervisor; defaults suit a laptop. */
struct SupervisorOptions
{
    /** vivarium-runner; empty = SandboxLaunch::findHelper (build tree or installed libexec). */
    QString runnerPath;
    int maxConcurrentRuns = 4;
    /** After SIGTERM to the runner's process group, wait this long before SIGKILL. */
    int killGraceMs = 2000;
    /** A runner that has not said hello on its socket by then fails its run. */
    int connectTimeoutMs = 10'000;
    /** Events of a run are written in batches collected over this window. */
    int eventFlushMs = 20;
    /** Adopt runs queued in the store by other processes (the CLI beside `serve`). */
    bool adoptForeignRuns = true;
    int adoptPollMs = 500;
    /** The broker's provider calls: resolver, credentials, local endpoints, limits. */
    ProviderCallOptions providerCalls;
};

/**
 * Runs agents (DESIGN sections 1, 3, 4): a queue with a concurrency limit; per run a workspace
 * directory and a broker socket, the runner started with a cleared environment in its own
 * process group; the broker side of the socket (model calls with the key injected, events
 * persisted with per-run seq); the wall clock enforced from outside; cancellation; a terminal
 * state written exactly once with a reason; audit rows for queued/started/finished and each
 * model call. A runner that crashes or speaks garbage fails its run; the engine lives on.
 *
 * Lives on the engine thread; model calls run on worker threads.
 */
class RunSupervisor : public QObject
{
    Q_OBJECT
public:
    RunSupervisor(Store* store, SecretStore* secrets, Paths paths, SupervisorOptions options = {},
                  QObject* parent = nullptr);
    ~RunSupervisor() override; ///< kills what still runs; those runs become `interrupted`

    /**
     * Create a run of the agent's current version (status queued, event run.queued, audit) and
     * start it when a slot is free. NotFound if the agent does not exist. An agent whose model
     * endpoint, key or connections are missing still gets a run, which fails at once saying
     * what is missing.
     */
    Result<RunRecord> enqueue(const QString& agentId, const QJsonValue& input,
                              const QString& trigger);
    /** Take over a run another process queued in the store. */
    Status adopt(const QString& runId);
    /** Cancel a queued or live run: status `cancelled` with `reason`. NotFound / Conflict. */
    Status cancel(const QString& runId, const QString& reason = QStringLiteral("cancelled"));
    /** Runs starting, running or queued here. */
    int activeRuns() const;
    /**
     * Stop taking runs; give live runs `graceMs` to finish, then kill them and mark them
     * `interrupted`. Emits runFinished for each.
     */
    void shutdown(int graceMs);
    /** While shutdown() waits out its grace period: stop waiting now (a second SIGTERM). */
    void endGrace();

signals:
    /** After the event is committed to the store (seq assigned). */
    void eventAppended(const QString& runId, const vivarium::RunEvent& event);
    /** After the terminal state is committed. */
    void runFinished(const QString& runId, vivarium::RunStatus status, const QString& reason);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
