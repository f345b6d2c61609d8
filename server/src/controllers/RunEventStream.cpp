// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunEventStream.h"

#include "../RunEventHub.h"
#include "../ServerLogging.h"
#include "Representations.h"

#include "vivarium/core/Store.h"

namespace vivarium::server {

RunEventStream::RunEventStream(ApiReply reply, Store* store, RunEventHub* hub, QString runId,
                               qint64 afterSeq, int heartbeatMs, int retryMs)
    : m_reply(std::move(reply))
    , m_store(store)
    , m_hub(hub)
    , m_runId(std::move(runId))
    , m_lastSent(afterSeq)
    , m_heartbeatMs(heartbeatMs)
    , m_retryMs(retryMs)
{}

RunEventStream::~RunEventStream()
{
    cleanup();
}

void RunEventStream::start()
{
    m_reply.startStream(
        200, {{"Content-Type", "text/event-stream; charset=utf-8"}, {"X-Accel-Buffering", "no"}});
    m_reply.write(QByteArrayLiteral("retry: ") + QByteArray::number(m_retryMs) + "\n: run " +
                  m_runId.toUtf8() + "\n\n");
    std::weak_ptr<RunEventStream> weak = weak_from_this();
    // Subscribe before the replay: nothing can slip between the two, and whatever arrives
    // twice is dropped by seq.
    m_sub = m_hub->subscribe(
        m_runId, m_lastSent,
        [weak](const RunEvent& e) {
            if (auto self = weak.lock())
                self->onEvent(e);
        },
        [weak](RunStatus) {
            if (auto self = weak.lock())
                self->onTerminal();
        });
    auto self = shared_from_this();
    m_reply.onFinished([self] { self->cleanup(); });
    if (!catchUp() || m_finished)
        return;
    auto run = m_store->run(m_runId);
    if (run && isTerminal(run->status)) {
        finish();
        return;
    }
    m_heartbeat.reset(new QTimer);
    m_heartbeat->setInterval(m_heartbeatMs);
    QObject::connect(m_heartbeat.get(), &QTimer::timeout, m_heartbeat.get(), [weak] {
        if (auto s = weak.lock()) {
            // A comment line: keeps proxies and idle timers from closing a quiet stream.
            if (!s->m_reply.write(QByteArrayLiteral(": heartbeat\n\n")))
                s->cleanup();
        }
    });
    m_heartbeat->start();
}

void RunEventStream::onEvent(const RunEvent& event)
{
    if (m_finished || event.seq <= m_lastSent)
        return;
    if (event.seq > m_lastSent + 1) {
        catchUp();
        return;
    }
    send(event);
}

void RunEventStream::onTerminal()
{
    if (m_finished)
        return;
    if (catchUp() && !m_finished)
        finish();
}

bool RunEventStream::catchUp()
{
    while (!m_finished) {
        auto events = m_store->events(m_runId, m_lastSent, 500);
        if (!events) {
            qCWarning(lcServerApi).noquote() << "SSE replay:" << events.error().message;
            finish();
            return false;
        }
        for (const RunEvent& e : std::as_const(*events)) {
            if (!send(e))
                return false;
            if (m_finished)
                return true;
        }
        if (events->size() < 500)
            break;
    }
    return true;
}

bool RunEventStream::send(const RunEvent& event)
{
    if (event.seq <= m_lastSent)
        return true;
    QByteArray frame = QByteArrayLiteral("id: ") + QByteArray::number(event.seq) +
                       QByteArrayLiteral("\nevent: ") + event.type.toUtf8() +
                       QByteArrayLiteral("\ndata: ") + repr::compact(repr::event(event)) +
                       QByteArrayLiteral("\n\n");
    if (!m_reply.write(frame)) {
        cleanup();
        return false;
    }
    m_lastSent = event.seq;
    if (event.type == QLatin1String("run.finished"))
        finish();
    return true;
}

void RunEventStream::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    cleanup();
    m_reply.end();
}

void RunEventStream::cleanup()
{
    if (m_heartbeat)
        m_heartbeat->stop();
    if (m_sub) {
        const int sub = m_sub;
        m_sub = 0;
        m_hub->unsubscribe(sub);
    }
}

} // namespace vivarium::server
