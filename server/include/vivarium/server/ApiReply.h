// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiProblem.h"
#include "vivarium/server/HttpTypes.h"

#include <QJsonValue>

#include <functional>
#include <memory>

namespace vivarium::server {

class HttpExchange;

/**
 * How a handler answers. Cheap to copy (shared state): a handler answers at once, or calls
 * defer() and keeps a copy to answer later (long-poll) or to stream (SSE). Answering twice,
 * or writing to a client that went away, is a no-op. A handler that returns without answering
 * or deferring gets a 500 (a bug, logged).
 *
 * Threading: the engine thread only, like the rest of the API.
 */
class ApiReply
{
public:
    explicit ApiReply(std::shared_ptr<HttpExchange> exchange);

    /** JSON body (compact), Content-Type application/json. */
    void json(int status, const QJsonValue& body, const HttpHeaders& extra = {});
    /** The problem as application/problem+json. */
    void problem(const ApiProblem& problem);
    /** Shorthand for problem(ApiProblem::fromError(error)). */
    void error(const Error& error);
    void send(HttpResponse response);

    /** The handler will answer later; the connection stays open (bounded by the caller). */
    void defer();
    bool isDeferred() const;
    /** A complete response was sent, or a stream was ended. */
    bool isDone() const;
    /** The client is still connected and nothing has ended the exchange. */
    bool isOpen() const;

    /** Start a streaming response (chunked on HTTP/1.1). Implies defer(). */
    void startStream(int status, const HttpHeaders& headers);
    /**
     * Write part of the stream. False when the client is gone, or when it reads so slowly that
     * more than the buffer limit is queued (the connection is then closed: a client resumes).
     */
    bool write(const QByteArray& data);
    /** End the stream (final chunk); the connection may serve further requests. */
    void end();
    /** Called once when the exchange ends for any reason (sent, ended, client gone). */
    void onFinished(std::function<void()> callback);

private:
    std::shared_ptr<HttpExchange> m_exchange;
};

} // namespace vivarium::server
