// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/engine/Engine.h"

#include "vivarium/core/Logging.h"

namespace vivarium {

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
    auto secrets = SecretStore::openDefault(m_paths);
    if (!secrets)
        return std::unexpected(secrets.error());
    m_recovered = *recovered;
    if (m_recovered > 0)
        qCWarning(lcEngine) << "marked" << m_recovered << "run(s) left live as interrupted";
    m_lock = std::move(*lock);
    m_store = std::move(*store);
    m_secrets = std::move(*secrets);
    m_supervisor =
        std::make_unique<RunSupervisor>(m_store.get(), m_secrets.get(), m_paths, m_options);
    qCInfo(lcEngine) << "engine started on" << m_paths.dataDir();
    return {};
}

void Engine::stop(int graceMs)
{
    if (!isRunning())
        return;
    // Order matters: the supervisor writes final states into the store it is given.
    m_supervisor->shutdown(graceMs);
    m_supervisor.reset();
    m_secrets.reset();
    m_store.reset();
    m_lock.reset();
    qCInfo(lcEngine) << "engine stopped";
}

} // namespace vivarium
