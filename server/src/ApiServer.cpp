// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/ApiServer.h"

#include "RateLimiter.h"
#include "RunEventHub.h"
#include "ServerLogging.h"
#include "controllers/AgentsController.h"
#include "controllers/ApiKeysController.h"
#include "controllers/ConnectionsController.h"
#include "controllers/RunsController.h"
#include "controllers/SchedulesController.h"
#include "controllers/SystemController.h"
#include "http/HttpConnection.h"
#include "http/HttpExchange.h"
#include "webhooks/WebhooksController.h"

#include "vivarium/core/Store.h"
#include "vivarium/server/ApiController.h"

#include <QFile>
#include <QJsonDocument>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QTcpServer>
#include <QTcpSocket>

#include <exception>

namespace vivarium::server {

// Generated from resources/openapi.json (OpenApiDocument.cpp.in).
extern const char* const OpenApiJson;

struct ApiServer::Private
{
    ApiServer* q;
    ApiServerOptions options;
    QTcpServer* listener = nullptr;
    HttpLimits limits;
    int connections = 0;
    RateLimiter keyLimiter;
    RateLimiter ipLimiter;
    std::unique_ptr<RunEventHub> hub;
    QStringList allowedHosts;         ///< lower-case names without port
    QHash<QString, qint64> lastTouch; ///< key id -> ms since epoch of the last last_used_at write
    /** "METHOD route status" -> count, for /metrics. */
    QHash<QString, qint64> responses;
    qint64 refusedConnections = 0;

    Private(ApiServer* owner, ApiServerOptions o)
        : q(owner)
        , options(std::move(o))
        , keyLimiter(options.keyRatePerSecond)
        , ipLimiter(options.ipRatePerSecond)
    {
        limits.maxBodyBytes = options.maxBodyBytes;
        limits.maxHeaderBytes = options.maxHeaderBytes;
        limits.idleTimeoutMs = options.idleTimeoutMs;
        limits.requestTimeoutMs = options.requestTimeoutMs;
    }

    void accept();
    void handle(const std::shared_ptr<HttpExchange>& exchange);
    std::optional<ApiProblem> checkHost(const HttpRequest& r) const;
    std::expected<ApiPrincipal, ApiProblem> authenticate(const HttpRequest& r);
    void count(const std::shared_ptr<HttpExchange>& exchange, const QString& route);
};

ApiServer::ApiServer(ApiContext context, ApiServerOptions options, QObject* parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this, std::move(options)))
    , m_context(std::move(context))
{
    d->hub = std::make_unique<RunEventHub>(m_context.store, m_context.supervisor);
    m_context.events = d->hub.get();
    addController(std::make_unique<SystemController>(m_context, this));
    addController(std::make_unique<RunsController>(m_context, d->options));
    addController(std::make_unique<AgentsController>(m_context, d->options));
    addController(std::make_unique<SchedulesController>(m_context));
    addController(std::make_unique<ConnectionsController>(m_context));
    addController(std::make_unique<ApiKeysController>(m_context));
    addController(std::make_unique<WebhooksController>(m_context));
}

ApiServer::~ApiServer()
{
    stop();
}

void ApiServer::addController(std::unique_ptr<ApiController> controller)
{
    controller->registerRoutes(m_router);
    m_controllers.push_back(std::move(controller));
}

Status ApiServer::start()
{
    const ApiServerOptions& o = d->options;
    const bool loopback = o.address.isLoopback();
    const bool tls = !o.tlsCertFile.isEmpty() || !o.tlsKeyFile.isEmpty();
    if (!loopback && !o.allowRemote)
        return fail(Error::Code::Validation,
                    QStringLiteral("refusing to serve the API on %1, which is not a loopback "
                                   "address: pass --allow-remote with --tls-cert and --tls-key")
                        .arg(o.address.toString()));
    if (!loopback && (o.tlsCertFile.isEmpty() || o.tlsKeyFile.isEmpty()))
        return fail(Error::Code::Validation,
                    QStringLiteral("serving the API on %1 needs TLS: pass --tls-cert and "
                                   "--tls-key")
                        .arg(o.address.toString()));
    if (tls && (o.tlsCertFile.isEmpty() || o.tlsKeyFile.isEmpty()))
        return fail(Error::Code::Validation,
                    QStringLiteral("--tls-cert and --tls-key go together"));

    if (tls) {
        const auto certs = QSslCertificate::fromPath(o.tlsCertFile, QSsl::Pem);
        if (certs.isEmpty())
            return fail(Error::Code::Io,
                        QStringLiteral("%1: no PEM certificate could be read").arg(o.tlsCertFile));
        QFile keyFile(o.tlsKeyFile);
        if (!keyFile.open(QIODevice::ReadOnly))
            return fail(Error::Code::Io,
                        QStringLiteral("%1: %2").arg(o.tlsKeyFile, keyFile.errorString()));
        const QByteArray pem = keyFile.readAll();
        QSslKey key(pem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull())
            key = QSslKey(pem, QSsl::Ec, QSsl::Pem);
        if (key.isNull())
            return fail(Error::Code::Io,
                        QStringLiteral("%1: not an unencrypted PEM RSA or EC private key")
                            .arg(o.tlsKeyFile));
        QSslConfiguration conf = QSslConfiguration::defaultConfiguration();
        conf.setLocalCertificateChain(certs);
        conf.setPrivateKey(key);
        conf.setPeerVerifyMode(QSslSocket::VerifyNone);
        conf.setProtocol(QSsl::TlsV1_2OrLater);
        auto* ssl = new QSslServer(this);
        ssl->setSslConfiguration(conf);
        d->listener = ssl;
    } else {
        d->listener = new QTcpServer(this);
    }
    d->listener->setMaxPendingConnections(256);
    connect(d->listener, &QTcpServer::pendingConnectionAvailable, this, [this] { d->accept(); });
    if (!d->listener->listen(o.address, o.port)) {
        const QString why = d->listener->errorString();
        const bool inUse = d->listener->serverError() == QAbstractSocket::AddressInUseError;
        delete d->listener;
        d->listener = nullptr;
        return fail(inUse ? Error::Code::Conflict : Error::Code::Io,
                    QStringLiteral("cannot listen on %1:%2: %3")
                        .arg(o.address.toString())
                        .arg(o.port)
                        .arg(why));
    }
    d->allowedHosts = {QStringLiteral("localhost"), QStringLiteral("127.0.0.1"),
                       QStringLiteral("[::1]")};
    if (!loopback && !o.address.isEqual(QHostAddress::Any) &&
        !o.address.isEqual(QHostAddress::AnyIPv6)) {
        d->allowedHosts << (o.address.protocol() == QAbstractSocket::IPv6Protocol
                                ? QStringLiteral("[%1]").arg(o.address.toString())
                                : o.address.toString());
    }
    for (const QString& h : o.hostNames)
        d->allowedHosts << h.toLower();
    qCInfo(lcServerApi).noquote() << "HTTP API listening on" << baseUrl();
    return {};
}

void ApiServer::stop()
{
    if (!d->listener)
        return;
    d->listener->close();
    for (HttpConnection* c : d->listener->findChildren<HttpConnection*>())
        c->abort();
    delete d->listener;
    d->listener = nullptr;
}

quint16 ApiServer::port() const
{
    return d->listener ? d->listener->serverPort() : 0;
}

QString ApiServer::baseUrl() const
{
    const QHostAddress& a = d->options.address;
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol
                             ? QStringLiteral("[%1]").arg(a.toString())
                             : a.toString();
    const bool tls = !d->options.tlsCertFile.isEmpty();
    return QStringLiteral("%1://%2:%3")
        .arg(tls ? QStringLiteral("https") : QStringLiteral("http"), host)
        .arg(port());
}

QJsonObject ApiServer::openApiDocument()
{
    return QJsonDocument::fromJson(QByteArray(OpenApiJson)).object();
}

void ApiServer::Private::accept()
{
    while (listener && listener->hasPendingConnections()) {
        QTcpSocket* socket = listener->nextPendingConnection();
        if (!socket)
            break;
        if (connections >= options.maxConnections) {
            ++refusedConnections;
            const ApiProblem p(
                ApiProblem::Kind::Unavailable,
                QStringLiteral("too many open connections (limit %1)").arg(options.maxConnections));
            HttpResponse r = p.toResponse();
            r.setHeader("Retry-After", "1");
            QByteArray out = "HTTP/1.1 503 Service Unavailable\r\n";
            for (const auto& [k, v] : r.headers)
                out += k + ": " + v + "\r\n";
            out += "Content-Length: " + QByteArray::number(r.body.size()) +
                   "\r\nConnection: close\r\n\r\n" + r.body;
            socket->write(out);
            socket->disconnectFromHost();
            QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            continue;
        }
        ++connections;
        auto* c = new HttpConnection(
            socket, limits, [this](const std::shared_ptr<HttpExchange>& ex) { handle(ex); },
            listener);
        QObject::connect(c, &QObject::destroyed, q, [this] { --connections; });
    }
}

std::optional<ApiProblem> ApiServer::Private::checkHost(const HttpRequest& r) const
{
    const QByteArray host = r.header("host").toLower();
    if (host.isEmpty())
        return ApiProblem(ApiProblem::Kind::InvalidRequest,
                          QStringLiteral("the Host header is required"));
    QByteArray name = host;
    QByteArray port;
    if (host.startsWith('[')) {
        const qsizetype end = host.indexOf(']');
        if (end < 0)
            return ApiProblem(ApiProblem::Kind::HostNotAllowed,
                              QStringLiteral("malformed Host header"));
        name = host.left(end + 1);
        if (host.size() > end + 1) {
            if (host.at(end + 1) != ':')
                return ApiProblem(ApiProblem::Kind::HostNotAllowed,
                                  QStringLiteral("malformed Host header"));
            port = host.mid(end + 2);
        }
    } else if (const qsizetype colon = host.lastIndexOf(':'); colon >= 0) {
        name = host.left(colon);
        port = host.mid(colon + 1);
    }
    const quint16 bound = listener ? listener->serverPort() : 0;
    const bool defaultPort = bound == (r.tls ? 443 : 80);
    const bool portOk = port.isEmpty() ? defaultPort : port.toUInt() == bound;
    if (!allowedHosts.contains(QString::fromLatin1(name)) || !portOk) {
        return ApiProblem(ApiProblem::Kind::HostNotAllowed,
                          QStringLiteral("Host \"%1\" is not this server; use localhost:%2, "
                                         "127.0.0.1:%2 or [::1]:%2%3")
                              .arg(QString::fromLatin1(host.left(100)))
                              .arg(bound)
                              .arg(options.hostNames.isEmpty()
                                       ? QString()
                                       : QStringLiteral(" or a name given with --host-name")));
    }
    return std::nullopt;
}

std::expected<ApiPrincipal, ApiProblem> ApiServer::Private::authenticate(const HttpRequest& r)
{
    auto refuse = [&](ApiProblem p) -> std::expected<ApiPrincipal, ApiProblem> {
        // Only failures spend the client address's budget: a flood of bad keys is throttled
        // without slowing down clients that hold a good one.
        if (const int wait = ipLimiter.take(r.peer.toString()); wait > 0) {
            ApiProblem limited(ApiProblem::Kind::RateLimited,
                               QStringLiteral("too many requests without a valid API key from "
                                              "this address; retry in %1 s")
                                   .arg(wait));
            limited.headers.append(
                qMakePair(QByteArray("Retry-After"), QByteArray(QByteArray::number(wait))));
            return std::unexpected(limited);
        }
        p.headers.append(
            qMakePair(QByteArray("WWW-Authenticate"), QByteArray("Bearer realm=\"vivarium\"")));
        return std::unexpected(p);
    };
    const QByteArray auth = r.header("authorization");
    if (auth.isEmpty())
        return refuse(ApiProblem(ApiProblem::Kind::Unauthorized,
                                 QStringLiteral("send an API key as \"Authorization: Bearer "
                                                "viv_...\" (create one with vivarium api-key "
                                                "create)")));
    const qsizetype space = auth.indexOf(' ');
    if (space < 0 || auth.left(space).compare("bearer", Qt::CaseInsensitive) != 0)
        return refuse(ApiProblem(ApiProblem::Kind::Unauthorized,
                                 QStringLiteral("the Authorization header must use the Bearer "
                                                "scheme")));
    const QString secret = QString::fromLatin1(auth.mid(space + 1).trimmed());
    auto key = q->m_context.store->findApiKey(secret);
    if (!key)
        return std::unexpected(ApiProblem::fromError(key.error()));
    if (!*key)
        return refuse(
            ApiProblem(ApiProblem::Kind::Unauthorized, QStringLiteral("the API key is not valid")));
    const Store::ApiKeyRecord& rec = **key;
    if (rec.isRevoked())
        return refuse(
            ApiProblem(ApiProblem::Kind::ApiKeyRevoked,
                       QStringLiteral("API key %1 (%2) was revoked at %3")
                           .arg(rec.id, rec.name, rec.revokedAt.toString(Qt::ISODateWithMs))));
    // last_used_at is informative: a write at most once a minute per key keeps GETs read-only.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - lastTouch.value(rec.id, 0) > 60'000) {
        lastTouch.insert(rec.id, now);
        if (auto ok = q->m_context.store->touchApiKey(rec.id, QDateTime::currentDateTimeUtc()); !ok)
            qCWarning(lcServerApi).noquote() << ok.error().message;
    }
    return ApiPrincipal{rec.id, rec.name, rec.scopes};
}

void ApiServer::Private::count(const std::shared_ptr<HttpExchange>& exchange, const QString& route)
{
    std::weak_ptr<HttpExchange> weak = exchange;
    const QString prefix = QString::fromLatin1(exchange->request().method) + QLatin1Char(' ') +
                           route + QLatin1Char(' ');
    exchange->onFinished([this, weak, prefix] {
        if (auto ex = weak.lock())
            ++responses[prefix + QString::number(ex->status())];
    });
}

void ApiServer::Private::handle(const std::shared_ptr<HttpExchange>& exchange)
{
    const HttpRequest& req = exchange->request();
    ApiReply reply(exchange);
    qCDebug(lcServerApi).noquote() << req.method << req.path << "from" << req.peer.toString();

    if (auto bad = checkHost(req)) {
        count(exchange, QStringLiteral("(refused)"));
        reply.problem(*bad);
        return;
    }
    // CORS stays closed: no Access-Control-Allow-Origin ever. A browser page reaching this
    // port (after DNS rebinding, or from any site) is refused before anything runs.
    if (req.hasHeader("origin") || req.method == "OPTIONS") {
        count(exchange, QStringLiteral("(refused)"));
        reply.problem(ApiProblem(ApiProblem::Kind::CrossOriginRefused,
                                 QStringLiteral("browser cross-origin requests and CORS "
                                                "preflights are refused; call the API from a "
                                                "script or server")));
        return;
    }
    const Router::Match m = q->m_router.match(req.method, req.path);
    if (!m.route) {
        count(exchange, QStringLiteral("(unmatched)"));
        if (!m.allowedMethods.isEmpty()) {
            ApiProblem p(ApiProblem::Kind::MethodNotAllowed,
                         QStringLiteral("%1 is not allowed on %2; allowed: %3")
                             .arg(QString::fromLatin1(req.method), req.path,
                                  QString::fromLatin1(m.allowedMethods.join(", "))));
            p.headers.append(
                qMakePair(QByteArray("Allow"), QByteArray(m.allowedMethods.join(", "))));
            reply.problem(p);
        } else {
            reply.problem(ApiProblem(ApiProblem::Kind::NotFound,
                                     QStringLiteral("no such resource: %1 (see /openapi.json)")
                                         .arg(req.path.left(200))));
        }
        return;
    }
    const Route& route = *m.route;
    count(exchange, route.path);

    ApiPrincipal principal;
    if (!route.isPublic) {
        auto who = authenticate(req);
        if (!who) {
            reply.problem(who.error());
            return;
        }
        principal = *who;
        if (!principal.hasScope(route.scope)) {
            reply.problem(ApiProblem(ApiProblem::Kind::InsufficientScope,
                                     QStringLiteral("%1 %2 needs scope %3; key %4 has %5")
                                         .arg(QString::fromLatin1(route.method), route.path,
                                              route.scope, principal.keyName,
                                              principal.scopes.join(QStringLiteral(", ")))));
            return;
        }
        if (const int wait = keyLimiter.take(principal.keyId); wait > 0) {
            ApiProblem p(ApiProblem::Kind::RateLimited,
                         QStringLiteral("API key %1 is over its limit of %2 requests per "
                                        "second; retry in %3 s")
                             .arg(principal.keyName)
                             .arg(options.keyRatePerSecond)
                             .arg(wait));
            p.headers.append(
                qMakePair(QByteArray("Retry-After"), QByteArray(QByteArray::number(wait))));
            reply.problem(p);
            return;
        }
    }

    ApiRequest request(req, m.params, principal);
    try {
        route.handler(request, reply);
    } catch (const std::exception& e) {
        qCCritical(lcServerApi).noquote()
            << "handler of" << route.method << route.path << "threw:" << e.what();
    } catch (...) {
        qCCritical(lcServerApi).noquote() << "handler of" << route.method << route.path << "threw";
    }
    if (!reply.isDone() && !reply.isDeferred()) {
        qCCritical(lcServerApi).noquote()
            << "handler of" << route.method << route.path << "did not answer";
        reply.problem(ApiProblem(ApiProblem::Kind::InternalError,
                                 QStringLiteral("the server failed to answer this request")));
    }
}

QByteArray ApiServer::metricsText()
{
    MetricsWriter out;
    for (const auto& c : m_controllers)
        c->appendMetrics(out);
    out.family(QStringLiteral("vivarium_api_responses_total"), QStringLiteral("counter"),
               QStringLiteral("HTTP API responses by method, route and status since start"));
    QStringList keys = d->responses.keys();
    keys.sort();
    for (const QString& k : std::as_const(keys)) {
        const QStringList parts = k.split(QLatin1Char(' '));
        if (parts.size() != 3)
            continue;
        out.sample(QStringLiteral("vivarium_api_responses_total"),
                   {{QStringLiteral("method"), parts.at(0)},
                    {QStringLiteral("route"), parts.at(1)},
                    {QStringLiteral("status"), parts.at(2)}},
                   double(d->responses.value(k)));
    }
    out.family(QStringLiteral("vivarium_api_open_connections"), QStringLiteral("gauge"),
               QStringLiteral("HTTP connections open now"));
    out.sample(QStringLiteral("vivarium_api_open_connections"), d->connections);
    out.family(QStringLiteral("vivarium_api_refused_connections_total"), QStringLiteral("counter"),
               QStringLiteral("connections refused because the connection limit was reached"));
    out.sample(QStringLiteral("vivarium_api_refused_connections_total"),
               double(d->refusedConnections));
    out.family(QStringLiteral("vivarium_api_event_subscribers"), QStringLiteral("gauge"),
               QStringLiteral("SSE streams and long-polls waiting on runs now"));
    out.sample(QStringLiteral("vivarium_api_event_subscribers"), d->hub->subscriberCount());
    return out.text();
}

} // namespace vivarium::server
