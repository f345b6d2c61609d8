// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiProblem.h"
#include "vivarium/server/HttpTypes.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <http_parser.h>

#include <functional>
#include <memory>
#include <optional>

class QTcpSocket;

namespace vivarium::server {

class HttpExchange;

/** Limits and timeouts of the HTTP front end (from ApiServerOptions). */
struct HttpLimits
{
    qint64 maxBodyBytes = 1024 * 1024;
    int maxHeaderBytes = 16 * 1024;
    int idleTimeoutMs = 60'000;
    int requestTimeoutMs = 10'000;
    /** A streaming client with more than this queued unread is dropped (it can resume). */
    qint64 maxQueuedStreamBytes = 1024 * 1024;
};

/**
 * One client connection: http-parser turns bytes into requests, one at a time (pipelined
 * requests wait, unread, until the previous response is complete); limits are enforced while
 * parsing, before anything large is buffered. Deletes itself when the socket closes.
 */
class HttpConnection : public QObject
{
    Q_OBJECT
public:
    using RequestHandler = std::function<void(const std::shared_ptr<HttpExchange>&)>;

    HttpConnection(QTcpSocket* socket, const HttpLimits& limits, RequestHandler handler,
                   QObject* parent = nullptr);
    ~HttpConnection() override;

    /** Close now (server stopping). */
    void abort();

    // Used by HttpExchange.
    void writeResponse(const HttpResponse& response, bool keepAlive);
    void writeStreamHead(int status, const HttpHeaders& headers, bool chunked);
    bool writeStreamData(const QByteArray& data, bool chunked);
    void endStream(bool chunked, bool keepAlive);
    bool isConnected() const;
    /** The exchange was answered: next request (keep-alive) or close. */
    void exchangeDone(bool keepAlive);

private:
    void onReadyRead();
    void parseBuffered();
    void dispatch();
    /** Answer a protocol-level problem (limits, malformed HTTP) and close. */
    void reject(const ApiProblem& problem);
    void closeSoon();
    void socketGone();

    static int onMessageBegin(http_parser* p);
    static int onUrl(http_parser* p, const char* at, size_t len);
    static int onHeaderField(http_parser* p, const char* at, size_t len);
    static int onHeaderValue(http_parser* p, const char* at, size_t len);
    static int onHeadersComplete(http_parser* p);
    static int onBody(http_parser* p, const char* at, size_t len);
    static int onMessageComplete(http_parser* p);
    bool countHeaderBytes(size_t len);

    QTcpSocket* m_socket;
    HttpLimits m_limits;
    RequestHandler m_handler;
    http_parser m_parser{};
    http_parser_settings m_settings{};
    QByteArray m_buffer; ///< received, not yet parsed (pipelined requests wait here)
    HttpRequest m_request;
    QByteArray m_field;
    bool m_lastWasValue = false;
    qint64 m_headerBytes = 0;
    bool m_inMessage = false;
    bool m_messageComplete = false;
    std::optional<ApiProblem> m_limitProblem;
    std::shared_ptr<HttpExchange> m_active;
    bool m_closing = false;
    bool m_gone = false;
    bool m_discarding = false; ///< answered and closing: input is read and dropped
    bool m_halfClosed = false; ///< our side shut down (SHUT_WR), waiting for the client's
    qint64 m_discarded = 0;
    QTimer m_idleTimer;    ///< between requests
    QTimer m_requestTimer; ///< from a request's first byte to its end
};

} // namespace vivarium::server
