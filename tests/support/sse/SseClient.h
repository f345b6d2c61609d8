// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTcpSocket>

#include <http_parser.h>

namespace testsupport {

/** One server-sent event as dispatched (WHATWG rules: fields until a blank line). */
struct SseEvent
{
    QByteArray id;
    QByteArray event;
    QByteArray data;
};

/**
 * A raw SSE client for the API tests: HTTP/1.1 over a QTcpSocket, the response decoded by
 * http-parser (chunked or not), the event stream split into events and comment lines. Runs in
 * the event loop; poll its state with QTRY_* macros.
 */
class SseClient : public QObject
{
    Q_OBJECT
public:
    SseClient(quint16 port, const QByteArray& path,
              const QList<QPair<QByteArray, QByteArray>>& headers, QObject* parent = nullptr);
    ~SseClient() override;

    int status() const { return m_status; }
    QByteArray header(const QByteArray& name) const;
    const QList<SseEvent>& events() const { return m_events; }
    int comments() const { return m_comments; }
    QByteArray retry() const { return m_retry; }
    /** The response ended (last chunk) or the connection closed. */
    bool ended() const { return m_ended; }
    /** Drop the connection now, like a network failure. */
    void drop();

private:
    void onData();
    void feed(const QByteArray& bytes);
    static int onHeaders(http_parser* p);
    static int onField(http_parser* p, const char* at, size_t len);
    static int onValue(http_parser* p, const char* at, size_t len);
    static int onBody(http_parser* p, const char* at, size_t len);
    static int onComplete(http_parser* p);

    QTcpSocket m_socket;
    http_parser m_parser{};
    http_parser_settings m_settings{};
    int m_status = 0;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QByteArray m_field;
    bool m_lastValue = false;
    QByteArray m_buffer; ///< event-stream text not yet split into lines
    SseEvent m_pending;
    bool m_hasPending = false;
    QList<SseEvent> m_events;
    int m_comments = 0;
    QByteArray m_retry;
    bool m_ended = false;
};

} // namespace testsupport
