// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RawHttp.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTcpSocket>
#include <QTimer>

#include <http_parser.h>

namespace testsupport {

QByteArray RawResponse::header(const QByteArray& name) const
{
    for (const auto& [k, v] : headers)
        if (k.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    return {};
}

namespace {

struct Parse
{
    RawResponse* out;
    QByteArray field;
    bool lastValue = false;
};

int onStatus(http_parser*, const char*, size_t)
{
    return 0;
}
int onField(http_parser* p, const char* at, size_t len)
{
    auto* s = static_cast<Parse*>(p->data);
    if (s->lastValue) {
        s->field.clear();
        s->lastValue = false;
    }
    s->field.append(at, qsizetype(len));
    return 0;
}
int onValue(http_parser* p, const char* at, size_t len)
{
    auto* s = static_cast<Parse*>(p->data);
    if (!s->lastValue) {
        s->out->headers.append(qMakePair(s->field, QByteArray()));
        s->lastValue = true;
    }
    s->out->headers.last().second.append(at, qsizetype(len));
    return 0;
}
int onHeaders(http_parser* p)
{
    auto* s = static_cast<Parse*>(p->data);
    s->out->status = int(p->status_code);
    return 0;
}
int onBody(http_parser* p, const char* at, size_t len)
{
    static_cast<Parse*>(p->data)->out->body.append(at, qsizetype(len));
    return 0;
}
int onComplete(http_parser* p)
{
    static_cast<Parse*>(p->data)->out->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

} // namespace

RawResponse rawExchange(quint16 port, const QByteArray& bytes, int timeoutMs, qint64 keepSending)
{
    RawResponse out;
    Parse state{&out, {}, false};
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &state;
    http_parser_settings settings{};
    settings.on_status = onStatus;
    settings.on_header_field = onField;
    settings.on_header_value = onValue;
    settings.on_headers_complete = onHeaders;
    settings.on_body = onBody;
    settings.on_message_complete = onComplete;

    QTcpSocket socket;
    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &QTcpSocket::readyRead, &loop, [&] {
        const QByteArray data = socket.readAll();
        http_parser_execute(&parser, &settings, data.constData(), size_t(data.size()));
        if (out.complete)
            loop.quit();
    });
    QObject::connect(&socket, &QTcpSocket::disconnected, &loop, [&] {
        out.closed = true;
        http_parser_execute(&parser, &settings, nullptr, 0); // EOF ends a close-delimited body
        loop.quit();
    });
    qint64 left = keepSending;
    QTimer pump;
    pump.setInterval(1);
    QObject::connect(&pump, &QTimer::timeout, &loop, [&] {
        // Keep uploading while the server has not answered, a piece at a time.
        if (left <= 0 || out.status != 0 || socket.bytesToWrite() > 256 * 1024)
            return;
        const qint64 n = qMin<qint64>(left, 64 * 1024);
        socket.write(QByteArray(n, 'x'));
        left -= n;
    });
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(5000))
        return out;
    socket.write(bytes);
    if (keepSending > 0)
        pump.start();
    timeout.start(timeoutMs);
    loop.exec();
    return out;
}

QByteArray rawRequest(quint16 port, const QByteArray& method, const QByteArray& path,
                      const QList<QPair<QByteArray, QByteArray>>& headers, const QByteArray& body)
{
    QByteArray out = method + ' ' + path + " HTTP/1.1\r\n";
    bool host = false;
    for (const auto& [k, v] : headers)
        host = host || k.compare("host", Qt::CaseInsensitive) == 0;
    if (!host)
        out += "Host: 127.0.0.1:" + QByteArray::number(port) + "\r\n";
    for (const auto& [k, v] : headers)
        out += k + ": " + v + "\r\n";
    if (!body.isEmpty())
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "\r\n" + body;
    return out;
}

} // namespace testsupport
