// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/engine/Engine.h"

#include "vivarium/core/Logging.h"
#include "vivarium/core/Settings.h"
#include "vivarium/scheduler/ScheduleLauncher.h"

namespace vivarium {

/** The scheduler's launcher: a fire becomes a supervisor run with trigger "schedule:<id>". */
class Engine::ScheduleBridge final : public ScheduleLauncher
{
public:
    ScheduleBridge(Store* store, RunSupervisor* supervisor)
        : m_store(store)
        , m_supervisor(supervisor)
    {}

    Result<QString> launch(const ScheduleRecord& schedule, const QDateTime& scheduledFor) override
    {
        auto run = m_supervisor->enqueue(schedule.agentId, schedule.input,
                                         QStringLiteral("schedule:") + schedule.id);
        if (!run)
            return std::unexpected(run.error());
        // enqueue() knows nothing of schedules; the instant is informative, so a failure to
        // record it must not undo a run that exists.
        if (auto ok = m_store->setRunScheduledFor(run->id, scheduledFor); !ok)
            qCWarning(lcEngine).noquote() << ok.error().message;
        return run->id;
    }

    bool isLive(const QString& runId) override
    {
        // The store, not the supervisor: a CLI cancel ends a run behind the engine's back.
        auto run = m_store->run(runId);
        return run && !isTerminal(run->status);
    }

private:
    Store* m_store;
    RunSupervisor* m_supervisor;
};

Engine::Engine(Paths paths, SupervisorOptions options, QObject* parent)
    : QObject(parent)
    , m_paths(std::move(paths))
    , m_options(std::move(options))
{}

Engine::~Engine()
{
    stop();
}

Status Engine::start()
{
    if (isRunning())
        return {};
    if (auto ok = Paths::ensurePrivateDir(m_paths.dataDir()); !ok)
        return std::unexpected(ok.error());
    auto lock = EngineLock::acquire(m_paths.lockFile());
    if (!lock) {
        Error e = lock.error();
        if (e.code == Error::Code::Locked)
            e.message = QStringLiteral("%1: %2").arg(m_paths.dataDir(), e.message);
        return std::unexpected(e);
    }
    auto store = Store::open(m_paths.storeFile());
    if (!store)
        return std::unexpected(store.error());
    // Runs that were live when the last engine died can never report back: say so once.
    auto recovered =
        (*store)->markLiveRunsInterrupted(QStringLiteral("engine stopped while the run was live"));
    if (!recovered)
        return std::unexpected(recovered.error());
    auto secrets = SecretStore::openDefault(m_paths, Settings(**store).secretBackend());
    if (!secrets)
        return std::unexpected(secrets.error());
    qCInfo(lcEngine).noquote() << "secrets:" << secrets->backend << "-" << secrets->reason;
    m_recovered = *recovered;
    if (m_recovered > 0)
        qCWarning(lcEngine) << "marked" << m_recovered << "run(s) left live as interrupted";
    m_lock = std::move(*lock);
    m_store = std::move(*store);
    m_secrets = std::move(secrets->store);
    m_secretBackend = secrets->backend;
    m_secretBackendReason = secrets->reason;
    // A stored setting wins over the built-in default (`vivarium settings set ...`).
    if (Settings settings(*m_store); settings.isSet(QStringLiteral("runs.max_concurrent")))
        m_options.maxConcurrentRuns = settings.maxConcurrentRuns();
    m_supervisor =
        std::make_unique<RunSupervisor>(m_store.get(), m_secrets.get(), m_paths, m_options);
    // Webhooks resume their outbox (and queue run.finished of runs just marked interrupted).
    m_webhooks = std::make_unique<WebhookService>(m_store.get(), m_secrets.get());
    connect(m_supervisor.get(), &RunSupervisor::eventAppended, m_webhooks.get(),
            &WebhookService::onRunEvent);
    connect(m_supervisor.get(), &RunSupervisor::runFinished, m_webhooks.get(),
            &WebhookService::onRunFinished);
    if (auto ok = m_webhooks->start(); !ok)
        qCWarning(lcEngine).noquote() << "webhook delivery:" << ok.error().message;
    m_refresher =
        std::make_unique<ConnectionRefresher>(m_store.get(), m_secrets.get(), m_paths.dataDir());
    m_refresher->start();
    if (m_schedulingEnabled) {
        m_bridge = std::make_unique<ScheduleBridge>(m_store.get(), m_supervisor.get());
        m_scheduler = std::make_unique<Scheduler>(m_store.get(), m_bridge.get(), &m_clock);
        connect(m_supervisor.get(), &RunSupervisor::runFinished, m_scheduler.get(),
                [this](const QString& runId) { m_scheduler->runEnded(runId); });
        if (auto ok = m_scheduler->start(); !ok) {
            Error e = ok.error();
            stop();
            return std::unexpected(e);
        }
    }
    qCInfo(lcEngine) << "engine started on" << m_paths.dataDir();
    return {};
}

void Engine::drain(int graceMs)
{
    if (!isRunning() || m_draining)
        return;
    m_draining = true;
    // No new fires once stopping. The stopped scheduler stays (the API's context points at it)
    // but no longer hears of ending runs: a queue_one schedule must not launch its pending run.
    if (m_scheduler) {
        m_scheduler->stop();
        disconnect(m_supervisor.get(), nullptr, m_scheduler.get(), nullptr);
    }
    // The refresher keeps running: a run finishing in its grace may still need a fresh token.
    m_supervisor->shutdown(graceMs);
}

void Engine::endGrace()
{
    if (m_draining && m_supervisor)
        m_supervisor->endGrace();
}

void Engine::stop(int graceMs)
{
    if (!isRunning())
        return;
    drain(graceMs);
    // Order matters: the supervisor wrote its final states into the store it was given.
    m_scheduler.reset();
    m_bridge.reset();
    m_refresher.reset(); // stores a refresh in flight before the vault goes
    // After the supervisor's shutdown: the run.finished of runs it interrupted are in the outbox.
    m_webhooks.reset();
    m_supervisor.reset();
    m_secrets.reset();
    m_store.reset();
    m_lock.reset();
    m_draining = false;
    qCInfo(lcEngine) << "engine stopped";
}

} // namespace vivarium
