// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <utility>

namespace vivarium {

class Store;

/**
 * The run events of every run this supervisor drives, on their way to the store. Events are
 * collected per run and written in one transaction per run every `flushMs` (a burst of tool
 * calls costs one commit, not one each); `committed` follows the commit, so listeners only
 * ever see events that survive a crash. A failed write keeps the batch and retries: the
 * store assigns seq at commit, so a retry cannot leave a gap.
 */
class EventJournal : public QObject
{
    Q_OBJECT
public:
    EventJournal(Store* store, int flushMs, QObject* parent = nullptr);
    ~EventJournal() override;

    /** Queue an event of `runId`, stamped now. */
    void record(const QString& runId, const QString& type, const QJsonObject& data);
    /** Write what is queued for `runId` now. False if the store refused (kept for a retry). */
    bool flush(const QString& runId);
    /** Write everything queued. */
    void flushAll();

signals:
    /** One per event, in seq order, after its batch committed. */
    void committed(const QString& runId, const vivarium::RunEvent& event);

private:
    void arm();

    Store* m_store;
    int m_flushMs;
    QTimer m_timer;
    QHash<QString, QList<RunEvent>> m_pending;
    QList<std::pair<QString, RunEvent>> m_outbox; ///< committed, not yet announced
    bool m_announcing = false;
};

} // namespace vivarium
