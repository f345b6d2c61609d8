// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "FakeUpstream.h"

#include <QDeadlineTimer>
#include <QMutex>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QWaitCondition>

#include <cctype>

namespace testsupport {

namespace {

constexpr qsizetype MaxRequestBytes = 16 * 1024 * 1024;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    default:
        return "Status";
    }
}

struct Connection
{
    QByteArray buffer;
    bool headersParsed = false;
    bool handled = false;
    qsizetype bodyStart = 0;
    qsizetype contentLength = 0;
    FakeUpstream::Request request;
};

void trickle(const QPointer<QTcpSocket>& guarded, std::shared_ptr<QByteArray> rest, int bytes,
             int gapMs)
{
    // A raw pointer checked once: GCC cannot see that QPointer stays non-null below.
    QTcpSocket* socket = guarded.data();
    if (socket == nullptr || socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (rest->isEmpty()) {
        socket->disconnectFromHost();
        return;
    }
    socket->write(rest->left(bytes));
    rest->remove(0, qMin<qsizetype>(bytes, rest->size()));
    socket->flush();
    QTimer::singleShot(gapMs, Qt::PreciseTimer, socket,
                       [guarded, rest, bytes, gapMs] { trickle(guarded, rest, bytes, gapMs); });
}

} // namespace

QByteArray FakeUpstream::Request::header(const QByteArray& name) const
{
    for (const auto& [n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

bool FakeUpstream::Request::hasHeader(const QByteArray& name) const
{
    for (const auto& [n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

struct FakeUpstream::Private
{
    mutable QMutex mutex;
    mutable QWaitCondition recorded;
    Handler handler;
    QList<Request> requests;
    int connections = 0;

    QThread thread;
    QObject* context = nullptr;   // lives in `thread`
    QTcpServer* server = nullptr; // lives in `thread`
    quint16 port = 0;

    void onNewConnection();
    void onReadyRead(QTcpSocket* socket, Connection& conn);
    void respond(QTcpSocket* socket, const Request& request);
};

void FakeUpstream::Private::onNewConnection()
{
    while (QTcpSocket* socket = server->nextPendingConnection()) {
        {
            QMutexLocker lock(&mutex);
            ++connections;
        }
        auto conn = std::make_shared<Connection>();
        QObject::connect(socket, &QTcpSocket::readyRead, socket,
                         [this, socket, conn] { onReadyRead(socket, *conn); });
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void FakeUpstream::Private::onReadyRead(QTcpSocket* socket, Connection& conn)
{
    if (conn.handled) {
        socket->readAll();
        return;
    }
    conn.buffer += socket->readAll();
    // Not HTTP (a TLS ClientHello, say): hang up, as a plain-HTTP server would.
    if (!conn.buffer.isEmpty() && !std::isupper(uchar(conn.buffer.at(0)))) {
        socket->abort();
        return;
    }
    if (conn.buffer.size() > MaxRequestBytes) {
        socket->abort();
        return;
    }
    if (!conn.headersParsed) {
        const qsizetype end = conn.buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QList<QByteArray> lines = conn.buffer.left(end).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        conn.request.method = requestLine.value(0);
        conn.request.target = requestLine.value(1);
        conn.request.path = conn.request.target;
        if (const qsizetype q = conn.request.path.indexOf('?'); q >= 0)
            conn.request.path.truncate(q);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0)
                conn.request.headers.append(
                    {line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
        }
        conn.contentLength = conn.request.header("content-length").toLongLong();
        conn.bodyStart = end + 4;
        conn.headersParsed = true;
    }
    if (conn.buffer.size() - conn.bodyStart < conn.contentLength)
        return;
    conn.handled = true;
    conn.request.body = conn.buffer.mid(conn.bodyStart, conn.contentLength);
    conn.buffer.clear();
    respond(socket, conn.request);
}

void FakeUpstream::Private::respond(QTcpSocket* socket, const Request& request)
{
    Handler h;
    {
        QMutexLocker lock(&mutex);
        requests.append(request);
        h = handler;
        recorded.wakeAll();
    }
    const Response r = h ? h(request) : Response{200, {}, "ok", 0, 0, 0, false, {}};
    if (r.hang)
        return;
    QByteArray bytes = r.raw;
    if (bytes.isEmpty()) {
        bytes = "HTTP/1.1 " + QByteArray::number(r.status) + ' ' + reasonPhrase(r.status) + "\r\n";
        for (const auto& [name, value] : r.headers)
            bytes += name + ": " + value + "\r\n";
        bytes += "Content-Length: " + QByteArray::number(r.body.size()) + "\r\n";
        bytes += "Connection: close\r\n\r\n";
        bytes += r.body;
    }
    QPointer<QTcpSocket> guarded(socket);
    auto rest = std::make_shared<QByteArray>(bytes);
    const int piece = r.trickleBytes > 0 ? r.trickleBytes : int(bytes.size() + 1);
    QTimer::singleShot(r.delayMs, Qt::PreciseTimer, socket,
                       [guarded, rest, piece, r] { trickle(guarded, rest, piece, r.trickleMs); });
}

FakeUpstream::FakeUpstream()
    : d(std::make_unique<Private>())
{}

FakeUpstream::~FakeUpstream()
{
    stop();
}

void FakeUpstream::setHandler(Handler handler)
{
    QMutexLocker lock(&d->mutex);
    d->handler = std::move(handler);
}

bool FakeUpstream::start()
{
    if (d->thread.isRunning())
        return true;
    d->context = new QObject;
    d->context->moveToThread(&d->thread);
    d->thread.setObjectName(QStringLiteral("FakeUpstream"));
    d->thread.start();
    bool ok = false;
    QMetaObject::invokeMethod(
        d->context,
        [this, &ok] {
            d->server = new QTcpServer(d->context);
            QObject::connect(d->server, &QTcpServer::newConnection, d->server,
                             [this] { d->onNewConnection(); });
            ok = d->server->listen(QHostAddress::LocalHost, 0);
            d->port = ok ? d->server->serverPort() : 0;
        },
        Qt::BlockingQueuedConnection);
    if (!ok)
        stop();
    return ok;
}

void FakeUpstream::stop()
{
    if (!d->thread.isRunning())
        return;
    QMetaObject::invokeMethod(
        d->context,
        [this] {
            delete d->server;
            d->server = nullptr;
        },
        Qt::BlockingQueuedConnection);
    d->thread.quit();
    d->thread.wait();
    delete d->context;
    d->context = nullptr;
    d->port = 0;
}

quint16 FakeUpstream::port() const
{
    return d->port;
}

QList<FakeUpstream::Request> FakeUpstream::requests() const
{
    QMutexLocker lock(&d->mutex);
    return d->requests;
}

int FakeUpstream::requestCount() const
{
    QMutexLocker lock(&d->mutex);
    return int(d->requests.size());
}

int FakeUpstream::connectionCount() const
{
    QMutexLocker lock(&d->mutex);
    return d->connections;
}

void FakeUpstream::clear()
{
    QMutexLocker lock(&d->mutex);
    d->requests.clear();
    d->connections = 0;
}

bool FakeUpstream::waitForRequests(int count, int timeoutMs) const
{
    QDeadlineTimer deadline(timeoutMs);
    QMutexLocker lock(&d->mutex);
    while (d->requests.size() < count) {
        if (!d->recorded.wait(&d->mutex, deadline))
            return d->requests.size() >= count;
    }
    return true;
}

} // namespace testsupport
