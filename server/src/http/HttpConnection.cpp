// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "HttpConnection.h"

#include "../ServerLogging.h"
#include "HttpExchange.h"

#include <QDateTime>
#include <QLocale>
#include <QTcpSocket>
#include <QUrl>

#include <limits>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace vivarium::server {

namespace {

HttpConnection* self(http_parser* p)
{
    return static_cast<HttpConnection*>(p->data);
}

/** The Date header, formatted at most once a second (IMF-fixdate). */
QByteArray dateHeader()
{
    static qint64 cachedSecond = -1;
    static QByteArray cached;
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    if (now != cachedSecond) {
        cachedSecond = now;
        cached = QLocale::c()
                     .toString(QDateTime::fromSecsSinceEpoch(now, Qt::UTC),
                               QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
                     .toLatin1();
    }
    return cached;
}

void appendHead(QByteArray& out, int status, const HttpHeaders& headers)
{
    out += "HTTP/1.1 ";
    out += QByteArray::number(status);
    out += ' ';
    out += httpReasonPhrase(status);
    out += "\r\nDate: ";
    out += dateHeader();
    out += "\r\n";
    for (const auto& [name, value] : headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
}

} // namespace

HttpConnection::HttpConnection(QTcpSocket* socket, const HttpLimits& limits, RequestHandler handler,
                               QObject* parent)
    : QObject(parent)
    , m_socket(socket)
    , m_limits(limits)
    , m_handler(std::move(handler))
{
    m_socket->setParent(this);
    // Bounded reading while a response is pending: the kernel's buffers, then TCP, push back.
    m_socket->setReadBufferSize(64 * 1024);
    http_parser_init(&m_parser, HTTP_REQUEST);
    m_parser.data = this;
    m_settings.on_message_begin = &HttpConnection::onMessageBegin;
    m_settings.on_url = &HttpConnection::onUrl;
    m_settings.on_header_field = &HttpConnection::onHeaderField;
    m_settings.on_header_value = &HttpConnection::onHeaderValue;
    m_settings.on_headers_complete = &HttpConnection::onHeadersComplete;
    m_settings.on_body = &HttpConnection::onBody;
    m_settings.on_message_complete = &HttpConnection::onMessageComplete;

    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(m_limits.idleTimeoutMs);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] { abort(); });
    m_requestTimer.setSingleShot(true);
    m_requestTimer.setInterval(m_limits.requestTimeoutMs);
    connect(&m_requestTimer, &QTimer::timeout, this, [this] {
        reject(ApiProblem(ApiProblem::Kind::RequestTimeout,
                          QStringLiteral("the request did not arrive completely within %1 ms")
                              .arg(m_limits.requestTimeoutMs)));
    });

    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::socketGone);
    m_idleTimer.start();
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::onReadyRead, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection()
{
    if (m_active) {
        auto active = std::move(m_active);
        active->connectionClosed();
    }
}

bool HttpConnection::isConnected() const
{
    return !m_closing && m_socket->state() == QAbstractSocket::ConnectedState;
}

void HttpConnection::abort()
{
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort();
    socketGone();
}

void HttpConnection::socketGone()
{
    if (m_gone)
        return;
    m_gone = true;
    m_closing = true;
    m_idleTimer.stop();
    m_requestTimer.stop();
    if (m_active) {
        auto active = std::move(m_active);
        active->connectionClosed();
    }
    deleteLater();
}

void HttpConnection::onReadyRead()
{
    if (m_discarding) {
        m_discarded += m_socket->skip(std::numeric_limits<qint64>::max());
        if (m_discarded > 8 * 1024 * 1024)
            abort();
        return;
    }
    parseBuffered();
}

void HttpConnection::parseBuffered()
{
    if (m_active || m_closing)
        return;
    if (m_socket->bytesAvailable() > 0) {
        // Never hold more than one request's worth unparsed: the parser's callbacks enforce
        // the limits as bytes go through, so a huge body is refused while it is read.
        m_buffer += m_socket->readAll();
    }
    while (!m_buffer.isEmpty() && !m_active && !m_closing) {
        const size_t parsed = http_parser_execute(&m_parser, &m_settings, m_buffer.constData(),
                                                  size_t(m_buffer.size()));
        const auto err = HTTP_PARSER_ERRNO(&m_parser);
        if (m_limitProblem) {
            const ApiProblem problem = *m_limitProblem;
            m_limitProblem.reset();
            reject(problem);
            return;
        }
        if (err != HPE_OK && err != HPE_PAUSED) {
            reject(ApiProblem(ApiProblem::Kind::InvalidRequest,
                              QStringLiteral("malformed HTTP request: %1")
                                  .arg(QString::fromLatin1(http_errno_description(err)))));
            return;
        }
        m_buffer.remove(0, qsizetype(parsed));
        if (m_messageComplete) {
            m_messageComplete = false;
            dispatch();
        } else if (err == HPE_OK && parsed == 0) {
            break;
        }
    }
}

void HttpConnection::dispatch()
{
    m_requestTimer.stop();
    const bool upgrade = m_parser.upgrade != 0;
    const bool keepAlive = !upgrade && http_should_keep_alive(&m_parser) != 0;
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    request.peer = m_socket->peerAddress();
    m_active = std::make_shared<HttpExchange>(this, std::move(request), keepAlive);
    auto exchange = m_active;
    m_handler(exchange);
}

void HttpConnection::exchangeDone(bool keepAlive)
{
    m_active.reset();
    if (!keepAlive || m_closing) {
        closeSoon();
        return;
    }
    http_parser_pause(&m_parser, 0);
    m_idleTimer.start();
    // Later, not now: a handler that answers at once must not recurse into the next request.
    QMetaObject::invokeMethod(this, &HttpConnection::parseBuffered, Qt::QueuedConnection);
}

void HttpConnection::writeResponse(const HttpResponse& response, bool keepAlive)
{
    if (!isConnected())
        return;
    QByteArray out;
    out.reserve(256 + response.body.size());
    appendHead(out, response.status, response.headers);
    out += "Content-Length: ";
    out += QByteArray::number(response.body.size());
    out += keepAlive
               ? (m_parser.http_minor == 0 ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\n\r\n")
               : "\r\nConnection: close\r\n\r\n";
    out += response.body;
    m_socket->write(out);
}

void HttpConnection::writeStreamHead(int status, const HttpHeaders& headers, bool chunked)
{
    if (!isConnected())
        return;
    m_idleTimer.stop();
    QByteArray out;
    appendHead(out, status, headers);
    out += chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Connection: close\r\n\r\n";
    m_socket->write(out);
}

bool HttpConnection::writeStreamData(const QByteArray& data, bool chunked)
{
    if (!isConnected())
        return false;
    if (data.isEmpty())
        return true;
    if (m_socket->bytesToWrite() > m_limits.maxQueuedStreamBytes) {
        qCInfo(lcServerHttp) << "dropping a stream client that reads too slowly"
                             << m_socket->peerAddress().toString();
        abort();
        return false;
    }
    if (chunked) {
        QByteArray out = QByteArray::number(data.size(), 16);
        out += "\r\n";
        out += data;
        out += "\r\n";
        m_socket->write(out);
    } else {
        m_socket->write(data);
    }
    return true;
}

void HttpConnection::endStream(bool chunked, bool keepAlive)
{
    if (isConnected() && chunked)
        m_socket->write("0\r\n\r\n");
    exchangeDone(chunked && keepAlive);
}

void HttpConnection::reject(const ApiProblem& problem)
{
    qCInfo(lcServerHttp).noquote() << "refused" << m_socket->peerAddress().toString() << "with"
                                   << problem.status() << problem.slug() << "-" << problem.detail;
    if (m_active) {
        auto active = std::move(m_active);
        active->connectionClosed();
    }
    if (isConnected())
        writeResponse(problem.toResponse(), false);
    m_requestTimer.stop();
    m_buffer.clear();
    closeSoon();
}

void HttpConnection::closeSoon()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleTimer.stop();
    m_requestTimer.stop();
    // Lingering close: send the answer, then close only our side and read and drop what the
    // client still sends until it closes too (at most 2 s). Closing with unread input makes
    // the kernel send a reset, and the client might never see the answer (a 413 mid-upload).
    m_discarding = true;
    m_socket->skip(std::numeric_limits<qint64>::max());
    QTimer::singleShot(2000, this, [this] { abort(); });
#ifdef Q_OS_UNIX
    if (!m_socket->inherits("QSslSocket")) {
        auto halfClose = [this] {
            if (m_socket->bytesToWrite() == 0 &&
                m_socket->state() == QAbstractSocket::ConnectedState && !m_halfClosed) {
                m_halfClosed = true;
                ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
            }
        };
        connect(m_socket, &QTcpSocket::bytesWritten, this, halfClose);
        halfClose();
        return;
    }
#endif
    m_socket->disconnectFromHost();
}

bool HttpConnection::countHeaderBytes(size_t len)
{
    m_headerBytes += qint64(len);
    if (m_headerBytes > m_limits.maxHeaderBytes) {
        m_limitProblem = ApiProblem(ApiProblem::Kind::HeadersTooLarge,
                                    QStringLiteral("the request line and headers exceed %1 bytes")
                                        .arg(m_limits.maxHeaderBytes));
        return false;
    }
    return true;
}

int HttpConnection::onMessageBegin(http_parser* p)
{
    HttpConnection* c = self(p);
    c->m_request = HttpRequest();
    c->m_field.clear();
    c->m_lastWasValue = false;
    c->m_headerBytes = 0;
    c->m_idleTimer.stop();
    c->m_requestTimer.start();
    return 0;
}

int HttpConnection::onUrl(http_parser* p, const char* at, size_t len)
{
    HttpConnection* c = self(p);
    if (!c->countHeaderBytes(len))
        return 1;
    c->m_request.target.append(at, qsizetype(len));
    return 0;
}

int HttpConnection::onHeaderField(http_parser* p, const char* at, size_t len)
{
    HttpConnection* c = self(p);
    if (!c->countHeaderBytes(len))
        return 1;
    if (c->m_lastWasValue) {
        c->m_field.clear();
        c->m_lastWasValue = false;
    }
    c->m_field.append(at, qsizetype(len));
    return 0;
}

int HttpConnection::onHeaderValue(http_parser* p, const char* at, size_t len)
{
    HttpConnection* c = self(p);
    if (!c->countHeaderBytes(len))
        return 1;
    if (!c->m_lastWasValue) {
        c->m_request.headers.append(qMakePair(QByteArray(c->m_field), QByteArray(QByteArray())));
        c->m_lastWasValue = true;
    }
    c->m_request.headers.last().second.append(at, qsizetype(len));
    return 0;
}

int HttpConnection::onHeadersComplete(http_parser* p)
{
    HttpConnection* c = self(p);
    HttpRequest& r = c->m_request;
    r.method = http_method_str(http_method(p->method));
    r.httpMinor = p->http_minor;
    r.tls = c->m_socket->inherits("QSslSocket");
    for (auto& h : r.headers)
        h.second = h.second.trimmed();

    const qsizetype q = r.target.indexOf('?');
    const QByteArray pathPart = q >= 0 ? r.target.left(q) : r.target;
    r.path = QUrl::fromPercentEncoding(pathPart);
    if (q >= 0)
        r.query = QUrlQuery(QString::fromUtf8(r.target.mid(q + 1)));

    // Content-Length is known before any body byte: refuse at once, before reading it.
    const bool hasLength = (p->flags & F_CONTENTLENGTH) != 0;
    if (hasLength && p->content_length > quint64(c->m_limits.maxBodyBytes)) {
        c->m_limitProblem = ApiProblem(ApiProblem::Kind::PayloadTooLarge,
                                       QStringLiteral("the body is %1 bytes; the limit is %2")
                                           .arg(p->content_length)
                                           .arg(c->m_limits.maxBodyBytes));
        return 1;
    }
    if (r.header("expect").compare("100-continue", Qt::CaseInsensitive) == 0 && c->isConnected()) {
        c->m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    return 0;
}

int HttpConnection::onBody(http_parser* p, const char* at, size_t len)
{
    HttpConnection* c = self(p);
    if (c->m_request.body.size() + qint64(len) > c->m_limits.maxBodyBytes) {
        c->m_limitProblem =
            ApiProblem(ApiProblem::Kind::PayloadTooLarge,
                       QStringLiteral("the body exceeds %1 bytes").arg(c->m_limits.maxBodyBytes));
        return 1;
    }
    c->m_request.body.append(at, qsizetype(len));
    return 0;
}

int HttpConnection::onMessageComplete(http_parser* p)
{
    HttpConnection* c = self(p);
    c->m_messageComplete = true;
    // One request at a time: the rest of the buffer waits until this one is answered.
    http_parser_pause(p, 1);
    return 0;
}

} // namespace vivarium::server
