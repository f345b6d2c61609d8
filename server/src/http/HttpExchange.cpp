// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "HttpExchange.h"

#include "HttpConnection.h"

namespace vivarium::server {

HttpExchange::HttpExchange(HttpConnection* connection, HttpRequest request, bool keepAlive)
    : m_connection(connection)
    , m_request(std::move(request))
    , m_keepAlive(keepAlive)
{}

HttpExchange::~HttpExchange() = default;

bool HttpExchange::isOpen() const
{
    return !m_done && m_connection && m_connection->isConnected();
}

void HttpExchange::send(HttpResponse response)
{
    if (m_done || m_streaming)
        return;
    m_done = true;
    m_status = response.status;
    QPointer<HttpConnection> connection = m_connection;
    if (connection)
        connection->writeResponse(response, m_keepAlive);
    // Callbacks first: they may drop their copies of this exchange before the next request.
    auto self = shared_from_this();
    finish();
    if (connection)
        connection->exchangeDone(m_keepAlive);
}

void HttpExchange::startStream(int status, const HttpHeaders& headers)
{
    if (m_done || m_streaming)
        return;
    m_streaming = true;
    m_deferred = true;
    m_status = status;
    if (m_connection)
        m_connection->writeStreamHead(status, headers, m_request.httpMinor >= 1);
}

bool HttpExchange::write(const QByteArray& data)
{
    if (m_done || !m_streaming || !m_connection)
        return false;
    return m_connection->writeStreamData(data, m_request.httpMinor >= 1);
}

void HttpExchange::end()
{
    if (m_done)
        return;
    m_done = true;
    QPointer<HttpConnection> connection = m_connection;
    auto self = shared_from_this();
    finish();
    if (connection && m_streaming)
        connection->endStream(m_request.httpMinor >= 1, m_keepAlive);
}

void HttpExchange::onFinished(std::function<void()> callback)
{
    if (m_finishedCalled) {
        callback();
        return;
    }
    m_onFinished.push_back(std::move(callback));
}

void HttpExchange::connectionClosed()
{
    m_connection = nullptr;
    m_done = true;
    finish();
}

void HttpExchange::finish()
{
    if (m_finishedCalled)
        return;
    m_finishedCalled = true;
    auto callbacks = std::move(m_onFinished);
    m_onFinished.clear();
    for (auto& cb : callbacks)
        cb();
}

} // namespace vivarium::server
