// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/HttpTypes.h"

#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

namespace vivarium::server {

class HttpConnection;

/**
 * One request and its response on a connection. Shared by the connection and every copy of
 * the handler's ApiReply; when the connection goes away first, the exchange is closed and
 * writes become no-ops. Engine thread only.
 */
class HttpExchange : public std::enable_shared_from_this<HttpExchange>
{
public:
    HttpExchange(HttpConnection* connection, HttpRequest request, bool keepAlive);
    ~HttpExchange();

    const HttpRequest& request() const { return m_request; }

    void send(HttpResponse response);
    void startStream(int status, const HttpHeaders& headers);
    bool write(const QByteArray& data);
    void end();

    void defer() { m_deferred = true; }
    bool isDeferred() const { return m_deferred; }
    bool isDone() const { return m_done; }
    bool isStreaming() const { return m_streaming; }
    /** The status sent (0 before an answer). */
    int status() const { return m_status; }
    bool isOpen() const;
    void onFinished(std::function<void()> callback);

    /** The connection closed under the exchange (client gone, server stopping). */
    void connectionClosed();

private:
    void finish();

    QPointer<HttpConnection> m_connection;
    HttpRequest m_request;
    bool m_keepAlive = true;
    int m_status = 0;
    bool m_deferred = false;
    bool m_streaming = false;
    bool m_done = false;
    bool m_finishedCalled = false;
    std::vector<std::function<void()>> m_onFinished;
};

} // namespace vivarium::server
