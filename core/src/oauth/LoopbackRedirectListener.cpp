// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/LoopbackRedirectListener.h"

#include "OAuthLogging.h"

#include <QHostAddress>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace vivarium {

namespace {

constexpr qsizetype MaxRequestBytes = 16 * 1024;

QByteArray response(int status, const char* reason, const QByteArray& body,
                    const QByteArray& extraHeaders = {})
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
           "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
           QByteArray::number(body.size()) +
           "\r\nCache-Control: no-store\r\nConnection: close\r\nReferrer-Policy: no-referrer\r\n"
           "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'none'; "
           "style-src 'unsafe-inline'\r\n" +
           extraHeaders + "\r\n" + body;
}

} // namespace

struct LoopbackRedirectListener::Private
{
    QString path;
    int requestTimeoutMs = 10'000;
    std::unique_ptr<QTcpServer> server;
    Handler handler;
    std::function<void()> completedCallback;
    quint16 port = 0;
    bool completed = false;

    void accept();
    void onReadable(QTcpSocket* socket);
    void reply(QTcpSocket* socket, const QByteArray& bytes)
    {
        socket->write(bytes);
        socket->flush();
        socket->waitForBytesWritten(2000);
        socket->disconnectFromHost();
    }
    bool hostIsOurs(const QByteArray& host) const
    {
        const QByteArray h = host.trimmed().toLower();
        const QByteArray p = ':' + QByteArray::number(port);
        return h == "127.0.0.1" + p || h == "localhost" + p;
    }
};

LoopbackRedirectListener::LoopbackRedirectListener(QString path, int requestTimeoutMs)
    : d(std::make_unique<Private>())
{
    d->path = std::move(path);
    d->requestTimeoutMs = requestTimeoutMs;
}

LoopbackRedirectListener::~LoopbackRedirectListener()
{
    close();
}

Status LoopbackRedirectListener::listen(Handler handler)
{
    d->handler = std::move(handler);
    d->server = std::make_unique<QTcpServer>();
    // Never anything but the loopback interface: the code must not be reachable from outside.
    if (!d->server->listen(QHostAddress(QHostAddress::LocalHost), 0)) {
        const QString why = d->server->errorString();
        d->server.reset();
        return fail(
            Error::Code::Io,
            QStringLiteral("could not listen on 127.0.0.1 for the sign-in redirect: %1").arg(why));
    }
    d->port = d->server->serverPort();
    QObject::connect(d->server.get(), &QTcpServer::newConnection, d->server.get(),
                     [p = d.get()] { p->accept(); });
    return {};
}

void LoopbackRedirectListener::Private::accept()
{
    while (QTcpSocket* socket = server->nextPendingConnection()) {
        socket->setParent(server.get());
        // A browser may open speculative connections that never send anything.
        auto* timer = new QTimer(socket);
        timer->setSingleShot(true);
        QObject::connect(timer, &QTimer::timeout, socket, [socket] { socket->abort(); });
        timer->start(requestTimeoutMs);
        QObject::connect(socket, &QTcpSocket::readyRead, socket,
                         [this, socket] { onReadable(socket); });
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void LoopbackRedirectListener::Private::onReadable(QTcpSocket* socket)
{
    QByteArray buffer = socket->property("vivarium_buffer").toByteArray();
    buffer += socket->readAll();
    if (buffer.size() > MaxRequestBytes) {
        reply(socket, response(431, "Request Header Fields Too Large",
                               renderPage({false, QStringLiteral("Request too large"),
                                           QStringLiteral("This is not a sign-in redirect.")})));
        return;
    }
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0) {
        socket->setProperty("vivarium_buffer", buffer);
        return;
    }
    socket->setProperty("vivarium_buffer", QByteArray());
    if (auto* timer = socket->findChild<QTimer*>())
        timer->stop();
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    QByteArray host;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray& line = lines.at(i);
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == "host")
            host = line.mid(colon + 1).trimmed();
    }
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1.")) {
        reply(socket, response(400, "Bad Request",
                               renderPage({false, QStringLiteral("Bad request"),
                                           QStringLiteral("This is not a sign-in redirect.")})));
        return;
    }
    const QByteArray& method = requestLine.at(0);
    const QString target = QString::fromLatin1(requestLine.at(1));
    const QString targetPath = target.left(
        target.indexOf(QLatin1Char('?')) < 0 ? target.size() : target.indexOf(QLatin1Char('?')));
    if (!hostIsOurs(host)) {
        // DNS rebinding: a page elsewhere must not reach this listener under another name.
        reply(socket, response(400, "Bad Request",
                               renderPage({false, QStringLiteral("Bad request"),
                                           QStringLiteral("Unexpected Host header.")})));
        return;
    }
    if (targetPath != path) {
        reply(socket, response(404, "Not Found",
                               renderPage({false, QStringLiteral("Not found"),
                                           QStringLiteral("This port only receives the Vivarium "
                                                          "sign-in redirect.")})));
        return;
    }
    if (method != "GET") {
        reply(socket, response(405, "Method Not Allowed",
                               renderPage({false, QStringLiteral("Method not allowed"),
                                           QStringLiteral("The sign-in redirect is a GET.")}),
                               "Allow: GET\r\n"));
        return;
    }
    if (completed) {
        reply(socket, response(410, "Gone",
                               renderPage({false, QStringLiteral("Already done"),
                                           QStringLiteral("This sign-in has already received "
                                                          "its redirect. Return to the "
                                                          "terminal.")})));
        return;
    }
    completed = true;
    server->pauseAccepting(); // one completion: nobody else gets in while the handler runs
    qCDebug(lcOAuth) << "redirect received on port" << port;
    const Page page = handler ? handler(target) : Page{};
    reply(socket, response(page.ok ? 200 : 400, page.ok ? "OK" : "Bad Request", renderPage(page)));
    server->close();
    if (completedCallback)
        QTimer::singleShot(0, server.get(), [cb = completedCallback] { cb(); });
}

QString LoopbackRedirectListener::redirectUri() const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(d->port).arg(d->path);
}

quint16 LoopbackRedirectListener::port() const
{
    return d->port;
}

bool LoopbackRedirectListener::completed() const
{
    return d->completed;
}

void LoopbackRedirectListener::onCompleted(std::function<void()> callback)
{
    d->completedCallback = std::move(callback);
}

void LoopbackRedirectListener::close()
{
    if (d->server) {
        d->server->close();
        d->server.reset(); // deletes every socket still open (they are its children)
    }
}

QByteArray LoopbackRedirectListener::renderPage(const Page& page)
{
    const QString colour = page.ok ? QStringLiteral("#1a7f37") : QStringLiteral("#b42318");
    const QString html =
        QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width\">"
                       "<title>Vivarium: %1</title><style>body{font-family:system-ui,sans-serif;"
                       "max-width:34em;margin:4em auto;padding:0 1em;color:#222}"
                       "h1{color:%2;font-weight:600}</style></head><body><h1>%1</h1><p>%3</p>"
                       "<p>You can close this tab and return to the terminal.</p></body></html>\n")
            .arg(page.title.toHtmlEscaped(), colour, page.message.toHtmlEscaped());
    return html.toUtf8();
}

} // namespace vivarium
