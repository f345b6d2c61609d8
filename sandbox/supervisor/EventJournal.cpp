// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "EventJournal.h"

#include "SupervisorLogging.h"

#include "vivarium/core/Store.h"

#include <QDateTime>

namespace vivarium {

namespace {
// After a failed write, wait at least this long before the next attempt: the usual cause is
// another process holding the write lock, which a tight loop would only prolong.
constexpr int RetryDelayMs = 250;
} // namespace

EventJournal::EventJournal(Store* store, int flushMs, QObject* parent)
    : QObject(parent)
    , m_store(store)
    , m_flushMs(qMax(0, flushMs))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &EventJournal::flushAll);
}

EventJournal::~EventJournal()
{
    flushAll();
}

void EventJournal::record(const QString& runId, const QString& type, const QJsonObject& data)
{
    RunEvent e;
    e.type = type;
    // Stamped when it happened, not when the batch is written.
    e.ts = QDateTime::currentDateTimeUtc();
    e.data = data;
    m_pending[runId].append(std::move(e));
    arm();
}

bool EventJournal::flush(const QString& runId)
{
    auto it = m_pending.find(runId);
    if (it == m_pending.end())
        return true;
    QList<RunEvent> batch = std::move(*it);
    m_pending.erase(it);
    if (batch.isEmpty())
        return true;
    if (auto s = m_store->appendEvents(runId, batch); !s) {
        qCWarning(lcSupervisor).noquote() << "could not write" << batch.size() << "events of"
                                          << runId << "(will retry):" << s.error().toString();
        // Put the batch back in front of anything recorded since.
        QList<RunEvent>& pending = m_pending[runId];
        batch.append(pending);
        pending = std::move(batch);
        if (!m_timer.isActive())
            m_timer.start(qMax(m_flushMs, RetryDelayMs));
        return false;
    }
    for (RunEvent& e : batch)
        m_outbox.append({runId, std::move(e)});
    // A listener may record and flush again (a cancel from a live view): its events are
    // committed at once but announced after the ones already being announced, in seq order.
    if (m_announcing)
        return true;
    m_announcing = true;
    while (!m_outbox.isEmpty()) {
        const auto [run, event] = m_outbox.takeFirst();
        emit committed(run, event);
    }
    m_announcing = false;
    return true;
}

void EventJournal::flushAll()
{
    const QStringList runs = m_pending.keys();
    for (const QString& runId : runs)
        flush(runId);
}

void EventJournal::arm()
{
    if (m_timer.isActive())
        return;
    m_timer.start(m_flushMs);
}

} // namespace vivarium
