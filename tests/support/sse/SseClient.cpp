// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SseClient.h"

namespace testsupport {

SseClient::SseClient(quint16 port, const QByteArray& path,
                     const QList<QPair<QByteArray, QByteArray>>& headers, QObject* parent)
    : QObject(parent)
{
    http_parser_init(&m_parser, HTTP_RESPONSE);
    m_parser.data = this;
    m_settings.on_header_field = &SseClient::onField;
    m_settings.on_header_value = &SseClient::onValue;
    m_settings.on_headers_complete = &SseClient::onHeaders;
    m_settings.on_body = &SseClient::onBody;
    m_settings.on_message_complete = &SseClient::onComplete;
    connect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onData);
    connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
        http_parser_execute(&m_parser, &m_settings, nullptr, 0);
        m_ended = true;
    });
    QByteArray request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) + "\r\n";
    for (const auto& [k, v] : headers)
        request += k + ": " + v + "\r\n";
    request += "\r\n";
    m_socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    m_socket.write(request);
}

SseClient::~SseClient()
{
    m_socket.abort();
}

QByteArray SseClient::header(const QByteArray& name) const
{
    for (const auto& [k, v] : m_headers)
        if (k.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    return {};
}

void SseClient::drop()
{
    m_socket.abort();
    m_ended = true;
}

void SseClient::onData()
{
    const QByteArray data = m_socket.readAll();
    http_parser_execute(&m_parser, &m_settings, data.constData(), size_t(data.size()));
}

void SseClient::feed(const QByteArray& bytes)
{
    m_buffer += bytes;
    for (;;) {
        const qsizetype nl = m_buffer.indexOf('\n');
        if (nl < 0)
            break;
        QByteArray line = m_buffer.left(nl);
        m_buffer.remove(0, nl + 1);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) {
            if (m_hasPending)
                m_events << m_pending;
            m_pending = SseEvent();
            m_hasPending = false;
            continue;
        }
        if (line.startsWith(':')) {
            ++m_comments;
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
        if (field == "retry") {
            m_retry = value;
            continue;
        }
        m_hasPending = true;
        if (field == "id")
            m_pending.id = value;
        else if (field == "event")
            m_pending.event = value;
        else if (field == "data")
            m_pending.data += (m_pending.data.isEmpty() ? QByteArray() : QByteArray("\n")) + value;
    }
}

int SseClient::onHeaders(http_parser* p)
{
    static_cast<SseClient*>(p->data)->m_status = int(p->status_code);
    return 0;
}

int SseClient::onField(http_parser* p, const char* at, size_t len)
{
    auto* c = static_cast<SseClient*>(p->data);
    if (c->m_lastValue) {
        c->m_field.clear();
        c->m_lastValue = false;
    }
    c->m_field.append(at, qsizetype(len));
    return 0;
}

int SseClient::onValue(http_parser* p, const char* at, size_t len)
{
    auto* c = static_cast<SseClient*>(p->data);
    if (!c->m_lastValue) {
        c->m_headers.append(qMakePair(c->m_field, QByteArray()));
        c->m_lastValue = true;
    }
    c->m_headers.last().second.append(at, qsizetype(len));
    return 0;
}

int SseClient::onBody(http_parser* p, const char* at, size_t len)
{
    static_cast<SseClient*>(p->data)->feed(QByteArray(at, qsizetype(len)));
    return 0;
}

int SseClient::onComplete(http_parser* p)
{
    static_cast<SseClient*>(p->data)->m_ended = true;
    return 0;
}

} // namespace testsupport
