// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

#include <functional>
#include <memory>

namespace testsupport {

/**
 * A small HTTP/1.1 server on 127.0.0.1 standing in for a provider's API in broker tests: one
 * request per connection, answered by a handler the test sets, on the server's own thread
 * (so a blocking client may run on the test's thread). Every accepted TCP connection is
 * counted, even one that never sends a request, so a test can assert that nothing at all
 * reached the upstream.
 */
class FakeUpstream
{
public:
    struct Request
    {
        QByteArray method;
        QByteArray target; ///< as on the request line: path and query
        QByteArray path;   ///< without the query
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray body;

        QByteArray header(const QByteArray& name) const; ///< case-insensitive; empty if absent
        bool hasHeader(const QByteArray& name) const;
    };

    struct Response
    {
        int status = 200;
        QList<QPair<QByteArray, QByteArray>> headers; ///< Content-Length is added
        QByteArray body;
        int delayMs = 0; ///< before anything is sent
        /** With trickleBytes > 0: the body in pieces of that size, trickleMs apart. */
        int trickleBytes = 0;
        int trickleMs = 0;
        bool hang = false; ///< read the request, never answer
        QByteArray raw;    ///< if set, sent verbatim instead of status/headers/body
    };

    using Handler = std::function<Response(const Request&)>;

    FakeUpstream();
    ~FakeUpstream();
    FakeUpstream(const FakeUpstream&) = delete;
    FakeUpstream& operator=(const FakeUpstream&) = delete;

    /** Default: 200 with body "ok". Called on the server's thread. */
    void setHandler(Handler handler);
    bool start();
    void stop();
    quint16 port() const;

    QList<Request> requests() const;
    int requestCount() const;
    /** TCP connections accepted so far (with or without a request). */
    int connectionCount() const;
    void clear();
    bool waitForRequests(int count, int timeoutMs) const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace testsupport
