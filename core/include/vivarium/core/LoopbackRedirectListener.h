// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QString>

#include <functional>
#include <memory>

namespace vivarium {

/**
 * The loopback redirect of a native app's OAuth sign-in (RFC 8252 7.3): a one-shot HTTP
 * listener on 127.0.0.1 with an ephemeral port. It answers only `GET <path>` with a Host
 * header naming itself (anything else: 404/405/400 pages, the flow goes on), hands the first
 * such request to the handler and answers the browser with the handler's page (success or
 * error, for a human, with no secret), then stops listening: one completion only. A client
 * that sends nothing is dropped after the request timeout. The caller bounds the whole wait.
 *
 * Lives on the thread that creates it and needs that thread's event loop.
 */
class LoopbackRedirectListener
{
public:
    /** What the browser is told. */
    struct Page
    {
        bool ok = false;
        QString title;   ///< "Connected", "Not connected"
        QString message; ///< one or two sentences; HTML-escaped when rendered
    };
    /** Gets the request target (`/callback?code=...`); runs once. */
    using Handler = std::function<Page(const QString& target)>;

    explicit LoopbackRedirectListener(QString path = QStringLiteral("/callback"),
                                      int requestTimeoutMs = 10'000);
    ~LoopbackRedirectListener();
    LoopbackRedirectListener(const LoopbackRedirectListener&) = delete;
    LoopbackRedirectListener& operator=(const LoopbackRedirectListener&) = delete;

    /** Bind 127.0.0.1 on a port the system picks. Io error when it cannot. */
    Status listen(Handler handler);
    /** http://127.0.0.1:<port><path>, what the authorization request names. */
    QString redirectUri() const;
    quint16 port() const;
    /** True once the handler ran. */
    bool completed() const;
    /** Called (once) after the handler's page went out. */
    void onCompleted(std::function<void()> callback);
    /** Stop listening and drop every open connection. */
    void close();

    /** The HTML page for `page` (exposed for tests). */
    static QByteArray renderPage(const Page& page);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
