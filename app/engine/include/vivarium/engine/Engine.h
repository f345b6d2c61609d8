// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/ConnectionRefresher.h"
#include "vivarium/core/EngineLock.h"
#include "vivarium/core/Error.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/scheduler/Scheduler.h"
#include "vivarium/scheduler/SystemClock.h"
#include "vivarium/server/WebhookService.h"

#include <QObject>

#include <memory>

namespace vivarium {

/**
 * One engine per data directory (DESIGN section 1): takes the engine lock, opens and migrates
 * the store, recovers runs that were live when the previous engine died, runs the supervisor
 * and the scheduler (which fires through the supervisor, trigger "schedule:<id>"). The GUI
 * and `vivarium serve` each embed one. Lives on the thread that created it.
 */
class Engine : public QObject
{
    Q_OBJECT
public:
    explicit Engine(Paths paths, SupervisorOptions options = {}, QObject* parent = nullptr);
    ~Engine() override;

    /**
     * Lock the data directory, open the store and the secret store, mark runs left live as
     * `interrupted`, start the run supervisor, then the scheduler (which records what was
     * missed while no engine ran and fires @reboot schedules).
     * Errors: Locked (another engine holds the directory, message names its pid), Io, Database,
     * Unsupported. On error nothing is held.
     */
    Status start();
    /**
     * Stop taking runs, give live runs `graceMs` to finish (then they are `interrupted`),
     * release everything. Safe to call twice.
     */
    void stop(int graceMs = 0);
    /**
     * The first half of stop(), for a graceful shutdown (SIGTERM to `vivarium serve`): the
     * scheduler stops firing, the supervisor refuses new runs (the API answers 503) and ends
     * queued ones as `interrupted`, and live runs get `graceMs` to finish while the event loop
     * keeps serving them (and the API); what still runs then is `interrupted`. The store and
     * everything else stay open until stop(). Safe to call twice; endGrace() cuts it short.
     */
    void drain(int graceMs);
    /** During drain(): stop waiting for live runs now (a second signal). */
    void endGrace();
    bool isDraining() const { return m_draining; }

    /**
     * Whether start() runs the scheduler (default true: `serve`, the GUI). A process that is
     * the engine only for one run (`vivarium run` with no `serve` around) turns it off, or it
     * would fire @reboot schedules and spend missed fires on runs it interrupts when it exits.
     * Call before start().
     */
    void setSchedulingEnabled(bool enabled) { m_schedulingEnabled = enabled; }

    bool isRunning() const { return m_store != nullptr; }
    const Paths& paths() const { return m_paths; }
    /** Null when scheduling is disabled. */
    Scheduler* scheduler() const { return m_scheduler.get(); }
    /** The engine's store; valid between start() and stop(). */
    Store* store() const { return m_store.get(); }
    SecretStore* secrets() const { return m_secrets.get(); }
    /** The secret backend start() chose ("keychain" | "vault") and the sentence saying why. */
    QString secretBackend() const { return m_secretBackend; }
    QString secretBackendReason() const { return m_secretBackendReason; }
    /** Webhook subscriptions and delivery (server/src/webhooks); valid while running. */
    WebhookService* webhooks() const { return m_webhooks.get(); }
    RunSupervisor* supervisor() const { return m_supervisor.get(); }
    /** How many runs start() found live and marked interrupted. */
    int recoveredRuns() const { return m_recovered; }

private:
    Paths m_paths;
    SupervisorOptions m_options;
    std::unique_ptr<EngineLock> m_lock;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<RunSupervisor> m_supervisor;
    std::unique_ptr<WebhookService> m_webhooks;
    /** Keeps OAuth connections' tokens fresh ahead of expiry (docs/connections.md). */
    std::unique_ptr<ConnectionRefresher> m_refresher;
    /** Starts schedule fires as supervisor runs (scheduler links core only). */
    class ScheduleBridge;
    std::unique_ptr<ScheduleBridge> m_bridge;
    SystemClock m_clock;
    std::unique_ptr<Scheduler> m_scheduler;
    bool m_schedulingEnabled = true;
    bool m_draining = false; ///< drain() has begun; reset by stop()
    QString m_secretBackend;
    QString m_secretBackendReason;
    int m_recovered = 0;
};

} // namespace vivarium
