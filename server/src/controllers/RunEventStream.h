// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"
#include "vivarium/server/ApiReply.h"

#include <QTimer>

#include <memory>

namespace vivarium {
class Store;
}

namespace vivarium::server {

class RunEventHub;

/**
 * One SSE client of GET /v1/runs/{id}/events. Replays the journal from the store after the
 * client's Last-Event-ID, then forwards live events; every event goes out exactly once, in
 * seq order: anything at or below the last seq sent is dropped, and a jump in seq (an event
 * that reached the store but not this stream) is filled from the store before going on.
 * Ends after run.finished (or when the run is terminal and the journal is drained).
 */
class RunEventStream : public std::enable_shared_from_this<RunEventStream>
{
public:
    RunEventStream(ApiReply reply, Store* store, RunEventHub* hub, QString runId, qint64 afterSeq,
                   int heartbeatMs, int retryMs);
    ~RunEventStream();

    void start();

private:
    void onEvent(const RunEvent& event);
    void onTerminal();
    /** Send everything in the store after m_lastSent. False if the client is gone. */
    bool catchUp();
    bool send(const RunEvent& event);
    void finish();
    void cleanup();

    ApiReply m_reply;
    Store* m_store;
    RunEventHub* m_hub;
    QString m_runId;
    qint64 m_lastSent;
    int m_heartbeatMs;
    int m_retryMs;
    int m_sub = 0;
    bool m_finished = false;
    /** deleteLater: the stream may end inside the timer's own timeout. */
    struct LaterDeleter
    {
        void operator()(QTimer* t) const { t->deleteLater(); }
    };
    std::unique_ptr<QTimer, LaterDeleter> m_heartbeat;
};

} // namespace vivarium::server
