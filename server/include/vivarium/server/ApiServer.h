// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/server/ApiContext.h"
#include "vivarium/server/Router.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

#include <memory>
#include <vector>

namespace vivarium::server {

class ApiController;

/** Everything `vivarium serve --api` can tune; defaults are the documented ones. */
struct ApiServerOptions
{
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 8765; ///< 0: any free port (tests)
    /** Bind a non-loopback address; also needs TLS (tlsCertFile and tlsKeyFile). */
    bool allowRemote = false;
    QString tlsCertFile;
    QString tlsKeyFile;
    /** Host header names accepted besides localhost, 127.0.0.1 and [::1] (with the port). */
    QStringList hostNames;

    qint64 maxBodyBytes = 1024 * 1024;
    int maxHeaderBytes = 16 * 1024;
    int maxConnections = 1024;
    /** Requests per second per API key (token bucket, burst = 2 s worth); 0 = no limit. */
    double keyRatePerSecond = 50;
    /** Unauthenticated or failed requests per second per client address; 0 = no limit. */
    double ipRatePerSecond = 10;
    int sseHeartbeatMs = 15'000;
    int sseRetryMs = 2'000;
    /** Keep-alive connections idle this long are closed. */
    int idleTimeoutMs = 60'000;
    /** A request whose headers and body do not arrive within this gets 408 (slowloris). */
    int requestTimeoutMs = 10'000;
    int maxWaitSeconds = 60; ///< GET /v1/runs/{id}?wait=
};

/**
 * The localhost HTTP API (DESIGN section 7): an HTTP/1.1 front end (QTcpServer or QSslServer
 * with http-parser), Host/Origin checks, API-key auth with scopes, rate limits, and the
 * controllers. Lives on the engine thread and uses the engine's store directly.
 */
class ApiServer : public QObject
{
    Q_OBJECT
public:
    ApiServer(ApiContext context, ApiServerOptions options, QObject* parent = nullptr);
    ~ApiServer() override;

    /** Add an area; its routes are live at once. Call before start(). */
    void addController(std::unique_ptr<ApiController> controller);

    /**
     * Check the options and listen. Validation: a non-loopback address without allowRemote,
     * or without TLS; Io: unreadable certificate or key; Conflict: address in use.
     */
    Status start();
    /** Close the listener and every connection (streams end). */
    void stop();
    /** The bound port (after start). */
    quint16 port() const;
    /** e.g. "http://127.0.0.1:8765". */
    QString baseUrl() const;

    const Router& router() const { return m_router; }
    ApiContext& context() { return m_context; }
    /** The OpenAPI 3.1 document served at /openapi.json (resources/openapi.json). */
    static QJsonObject openApiDocument();
    /** The Prometheus text of every controller plus the server's own counters. */
    QByteArray metricsText();

private:
    struct Private;
    std::unique_ptr<Private> d;
    ApiContext m_context;
    Router m_router;
    std::vector<std::unique_ptr<ApiController>> m_controllers;
};

} // namespace vivarium::server
