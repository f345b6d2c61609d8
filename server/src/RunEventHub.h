// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>

#include <functional>

namespace vivarium {
class RunSupervisor;
class Store;
} // namespace vivarium

namespace vivarium::server {

/**
 * Live run events for the API: what the supervisor publishes (eventAppended, runFinished),
 * plus a slow poll of the store for the runs someone watches, so events and terminal states
 * written by anything else (a CLI cancel) still arrive. Subscribers see events in seq order
 * but may see one twice or miss one: they dedupe and fill gaps by seq from the store
 * (RunEventStream does). Engine thread only.
 */
class RunEventHub : public QObject
{
    Q_OBJECT
public:
    using EventFn = std::function<void(const RunEvent&)>;
    using TerminalFn = std::function<void(RunStatus)>;

    RunEventHub(Store* store, RunSupervisor* supervisor, int pollMs = 1000,
                QObject* parent = nullptr);

    /**
     * Watch a run. `afterSeq`: what the subscriber already has (its replay), where the hub's
     * own store poll starts if it does not poll the run's events yet; -1: terminal state only
     * (long-poll), no event polling. Returns an id for unsubscribe.
     */
    int subscribe(const QString& runId, qint64 afterSeq, EventFn onEvent, TerminalFn onTerminal);
    void unsubscribe(int id);
    int subscriberCount() const { return int(m_subs.size()); }
    int watchedRuns() const { return int(m_runs.size()); }

private:
    struct Sub
    {
        QString runId;
        EventFn onEvent;
        TerminalFn onTerminal;
    };
    struct Watch
    {
        qint64 lastSeq = -1; ///< -1: nobody wants events, poll the status only
        QList<int> subs;
    };

    void deliver(const QString& runId, const RunEvent& event);
    void terminal(const QString& runId, RunStatus status);
    void poll();

    Store* m_store;
    QHash<int, Sub> m_subs;
    QHash<QString, Watch> m_runs;
    int m_nextId = 1;
    QTimer m_poll;
};

} // namespace vivarium::server
