// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunEventHub.h"

#include "ServerLogging.h"

#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"

namespace vivarium::server {

RunEventHub::RunEventHub(Store* store, RunSupervisor* supervisor, int pollMs, QObject* parent)
    : QObject(parent)
    , m_store(store)
{
    if (supervisor) {
        connect(supervisor, &RunSupervisor::eventAppended, this,
                [this](const QString& runId, const RunEvent& event) { deliver(runId, event); });
        connect(supervisor, &RunSupervisor::runFinished, this,
                [this](const QString& runId, RunStatus status, const QString&) {
                    terminal(runId, status);
                });
    }
    m_poll.setInterval(pollMs);
    connect(&m_poll, &QTimer::timeout, this, &RunEventHub::poll);
}

int RunEventHub::subscribe(const QString& runId, qint64 afterSeq, EventFn onEvent,
                           TerminalFn onTerminal)
{
    const int id = m_nextId++;
    m_subs.insert(id, Sub{runId, std::move(onEvent), std::move(onTerminal)});
    auto it = m_runs.find(runId);
    if (it == m_runs.end())
        it = m_runs.insert(runId, Watch{});
    if (afterSeq >= 0 && it->lastSeq < 0)
        it->lastSeq = afterSeq;
    it->subs << id;
    if (!m_poll.isActive())
        m_poll.start();
    return id;
}

void RunEventHub::unsubscribe(int id)
{
    const auto sub = m_subs.find(id);
    if (sub == m_subs.end())
        return;
    const QString runId = sub->runId;
    m_subs.erase(sub);
    auto it = m_runs.find(runId);
    if (it != m_runs.end()) {
        it->subs.removeAll(id);
        if (it->subs.isEmpty())
            m_runs.erase(it);
    }
    if (m_runs.isEmpty())
        m_poll.stop();
}

void RunEventHub::deliver(const QString& runId, const RunEvent& event)
{
    auto it = m_runs.find(runId);
    if (it == m_runs.end())
        return;
    if (it->lastSeq >= 0)
        it->lastSeq = qMax(it->lastSeq, event.seq);
    // Copy: a callback may unsubscribe (itself or others) while we iterate.
    const QList<int> ids = it->subs;
    for (int id : ids) {
        const auto sub = m_subs.constFind(id);
        if (sub != m_subs.constEnd() && sub->onEvent) {
            EventFn fn = sub->onEvent;
            fn(event);
        }
    }
}

void RunEventHub::terminal(const QString& runId, RunStatus status)
{
    auto it = m_runs.find(runId);
    if (it == m_runs.end())
        return;
    const QList<int> ids = it->subs;
    for (int id : ids) {
        const auto sub = m_subs.constFind(id);
        if (sub != m_subs.constEnd() && sub->onTerminal) {
            TerminalFn fn = sub->onTerminal;
            fn(status);
        }
    }
}

void RunEventHub::poll()
{
    const QStringList runIds = m_runs.keys();
    for (const QString& runId : runIds) {
        auto it = m_runs.find(runId);
        if (it == m_runs.end())
            continue;
        if (it->lastSeq >= 0) {
            auto events = m_store->events(runId, it->lastSeq, 500);
            if (!events) {
                qCWarning(lcServerApi).noquote() << "event poll:" << events.error().message;
                continue;
            }
            for (const RunEvent& e : std::as_const(*events))
                deliver(runId, e);
        }
        auto run = m_store->run(runId);
        if (run && isTerminal(run->status) && m_runs.contains(runId))
            terminal(runId, run->status);
    }
}

} // namespace vivarium::server
