// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ProviderBroker.h"

#include "BrokerLogging.h"

#include "vivarium/core/Store.h"
#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/protocol/JsonSchema.h"
#include "vivarium/sandbox/LlmClient.h"

#include <QFutureWatcher>
#include <QPromise>
#include <QThreadPool>

namespace vivarium {

namespace {

constexpr int PoolThreads = 16;
constexpr qsizetype MaxAuditUrlChars = 512;

Q_GLOBAL_STATIC(QThreadPool, providerPool)

/** The runner's URL as far as an audit row may quote it: no query, no fragment, no controls. */
QString auditableRawUrl(const QString& raw)
{
    QString url = raw;
    for (const QChar stop : {QLatin1Char('?'), QLatin1Char('#')}) {
        const qsizetype at = url.indexOf(stop);
        if (at >= 0)
            url.truncate(at);
    }
    QString out;
    for (const QChar c : std::as_const(url).left(MaxAuditUrlChars)) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            out += QStringLiteral("\\x%1").arg(int(c.unicode()), 2, 16, QLatin1Char('0'));
        else
            out += c;
    }
    return out;
}

/** A body cut at the limit may end inside a character: drop that partial character. */
QByteArray withoutPartialCharacter(QByteArray body)
{
    qsizetype i = body.size();
    int continuation = 0;
    while (i > 0 && continuation < 3 && (uchar(body.at(i - 1)) & 0xC0) == 0x80) {
        --i;
        ++continuation;
    }
    if (i > 0 && uchar(body.at(i - 1)) >= 0xC0)
        body.truncate(i - 1);
    return body;
}

} // namespace

QThreadPool* ProviderBroker::pool()
{
    QThreadPool* p = providerPool();
    if (p->maxThreadCount() != PoolThreads)
        p->setMaxThreadCount(PoolThreads);
    return p;
}

ProviderBroker::ProviderBroker(Setup setup, QObject* parent)
    : QObject(parent)
    , m_setup(std::move(setup))
    , m_policy(m_setup.grants, m_setup.options.maxRequestBodyBytes)
{
    m_catalog = m_setup.catalog ? m_setup.catalog : m_setup.options.catalog;
    if (!m_catalog)
        m_catalog = std::make_shared<const ProviderCatalog>(ProviderCatalog::load({}));
    m_credentials = m_setup.options.credentials;
    if (!m_credentials)
        m_credentials =
            std::make_shared<ConnectionCredentialSource>(m_setup.store, m_catalog, m_setup.secrets);
    m_resolver = m_setup.options.resolver;
    if (!m_resolver)
        m_resolver = std::make_shared<SystemResolver>();
    for (const QString& e : std::as_const(m_setup.options.localEndpoints)) {
        const QString normalized = ProviderCallPolicy::normalizeEndpoint(e);
        if (normalized.isEmpty())
            qCWarning(lcBroker).noquote()
                << "ignoring the local endpoint" << e << "(expected host:port)";
        else
            m_localEndpoints.insert(normalized);
    }
    if (!m_setup.cancel)
        m_setup.cancel = std::make_shared<CancelToken>();
    m_textScrubber.setModelRedactor(m_setup.modelRedactor);
}

ProviderBroker::~ProviderBroker()
{
    // A call still running finishes on its worker; its result has nowhere to go.
}

void ProviderBroker::submit(const QJsonValue& id, const QJsonObject& message)
{
    Pending p;
    p.id = id;
    p.received.start();
    const QJsonValue call = message.value(QStringLiteral("call"));
    if (!call.isObject())
        p.request = std::unexpected(QStringLiteral("\"provider\" without a call object"));
    else
        p.request = ProviderCallRequest::fromJson(call.toObject());
    if (m_queue.size() >= MaxQueued) {
        refuse(p,
               {QLatin1String(protocol::ErrorKind::Policy), QStringLiteral("limit.queue"),
                QStringLiteral("more than %1 provider calls are waiting; wait for the answers")
                    .arg(MaxQueued)},
               requestContext(p));
        return;
    }
    m_queue.append(std::move(p));
    startNext();
}

void ProviderBroker::startNext()
{
    while (!m_inFlight && !m_queue.isEmpty()) {
        Pending p = m_queue.takeFirst();
        dispatch(p);
    }
}

QJsonObject ProviderBroker::requestContext(const Pending& pending) const
{
    if (!pending.request)
        return {};
    const ProviderCallRequest& r = *pending.request;
    // What the runner sent is bounded before it goes in a row.
    QJsonObject context{
        {QStringLiteral("provider"), m_textScrubber.scrub(r.provider.left(128))},
        {QStringLiteral("connection"), m_textScrubber.scrub(r.connection.left(128))},
        {QStringLiteral("method"), m_textScrubber.scrub(r.method.left(32))},
        {QStringLiteral("url"), m_textScrubber.scrub(auditableRawUrl(r.url))}};
    if (r.isOperation())
        context.insert(QStringLiteral("operation"), m_textScrubber.scrub(r.operation.left(128)));
    return context;
}

QJsonObject ProviderBroker::callContext(const CheckedCall& call, const QString& operation)
{
    QJsonObject context{{QStringLiteral("provider"), call.grant.provider},
                        {QStringLiteral("connection"), call.grant.connection},
                        {QStringLiteral("method"), call.method},
                        {QStringLiteral("url"), call.url.auditUrl()},
                        {QStringLiteral("has_query"), call.url.hasQuery},
                        {QStringLiteral("pattern"), call.pattern}};
    if (!operation.isEmpty())
        context.insert(QStringLiteral("operation"), operation);
    return context;
}

std::expected<std::pair<ProviderCallRequest, ProviderGrant>, ProviderCallError>
ProviderBroker::resolveOperation(const ProviderCallRequest& request) const
{
    const QString policy = QLatin1String(protocol::ErrorKind::Policy);
    auto refusal = [](const QString& kind, const QString& rule, const QString& message) {
        return std::unexpected(ProviderCallError{kind, rule, message});
    };
    QList<const ProviderGrant*> ofProvider;
    QList<const ProviderGrant*> granting;
    for (const ProviderGrant& g : m_setup.grants) {
        if (g.provider != request.provider ||
            (!request.connection.isEmpty() && g.connection != request.connection))
            continue;
        ofProvider.append(&g);
        if (g.operations.contains(request.operation))
            granting.append(&g);
    }
    const QString asked = request.connection.isEmpty()
                              ? request.provider
                              : request.provider + QLatin1Char('/') + request.connection;
    if (ofProvider.isEmpty())
        return refusal(policy, QStringLiteral("request.grant"),
                       QStringLiteral("provider \"%1\" is not granted to this agent").arg(asked));
    if (granting.isEmpty()) {
        QStringList granted;
        for (const ProviderGrant* g : std::as_const(ofProvider))
            granted += g->operations;
        granted.removeDuplicates();
        return refusal(policy, QStringLiteral("operation.not_granted"),
                       QStringLiteral("operation \"%1\" of %2 is not granted to this agent "
                                      "(granted: %3)")
                           .arg(request.operation, asked,
                                granted.isEmpty() ? QStringLiteral("none")
                                                  : granted.join(QStringLiteral(", "))));
    }
    if (granting.size() > 1)
        return refusal(policy, QStringLiteral("request.grant"),
                       QStringLiteral("several connections of \"%1\" grant \"%2\": name the "
                                      "connection")
                           .arg(request.provider, request.operation));
    const ProviderGrant& grant = *granting.first();

    auto manifest = m_catalog->find(request.provider);
    if (!manifest)
        return refusal(QLatin1String(protocol::ErrorKind::Config),
                       QStringLiteral("operation.unknown_provider"), manifest.error().message);
    const ProviderOperation* op = manifest->operation(request.operation);
    if (!op)
        return refusal(policy, QStringLiteral("operation.unknown"),
                       QStringLiteral("provider \"%1\" has no operation \"%2\"")
                           .arg(request.provider, request.operation));
    // The runner validated too, but the broker trusts nothing from inside the sandbox.
    const QStringList problems = JsonSchema::validate(op->parameters, request.args, 5);
    if (!problems.isEmpty())
        return refusal(policy, QStringLiteral("operation.args"),
                       QStringLiteral("the arguments of %1 do not match its schema: %2")
                           .arg(ProviderCatalog::toolName(request.provider, request.operation),
                                problems.join(QStringLiteral("; "))));
    QJsonObject meta;
    if (m_setup.store) {
        if (auto record = ConnectionCredentialSource::findConnection(*m_setup.store, grant.provider,
                                                                     grant.connection))
            meta = record->meta;
    }
    auto rendered = ProviderCatalog::render(*manifest, request.operation, request.args, meta);
    if (!rendered)
        return refusal(policy, QStringLiteral("operation.render"), rendered.error().message);

    ProviderCallRequest raw;
    raw.provider = grant.provider;
    raw.connection = grant.connection;
    raw.operation = request.operation;
    raw.method = rendered->method;
    raw.url = rendered->url;
    for (const auto& [name, value] : std::as_const(rendered->headers))
        raw.headers.append({QString::fromLatin1(name), QString::fromUtf8(value)});
    raw.body = rendered->body;
    ProviderGrant effective = grant;
    if (effective.authorizedUris.isEmpty())
        effective.authorizedUris = manifest->authorizedUris;
    return std::make_pair(raw, effective);
}

bool ProviderBroker::dispatch(Pending& pending)
{
    if (!pending.request) {
        refuse(pending,
               {QLatin1String(protocol::ErrorKind::Protocol), QStringLiteral("request.malformed"),
                pending.request.error()},
               {});
        return false;
    }
    // A manifest operation becomes the request its manifest describes, checked against the
    // grant's URIs or the manifest's default ones; from here on it is like any other call.
    std::optional<ProviderCallPolicy> operationPolicy;
    if (pending.request->isOperation()) {
        auto resolved = resolveOperation(*pending.request);
        if (!resolved) {
            refuse(pending, resolved.error(), requestContext(pending));
            return false;
        }
        pending.request = resolved->first;
        operationPolicy.emplace(QList<ProviderGrant>{resolved->second},
                                m_setup.options.maxRequestBodyBytes);
    }
    // a) + b): nothing has left the engine, no name has been looked up.
    auto checked = (operationPolicy ? *operationPolicy : m_policy).check(*pending.request);
    if (!checked) {
        refuse(pending, checked.error(), requestContext(pending));
        return false;
    }
    const CheckedCall& call = *checked;
    const QString operation = pending.request->operation;
    const QJsonObject context = callContext(call, operation);
    const bool local = m_localEndpoints.contains(call.url.endpoint());

    // e) prepared here, sent only after c) and d) on the worker: the credential of this
    // connection if the host is its bound host, and every credential of the run to redact.
    auto job = std::make_shared<ProviderCallJob>();
    job->scrubber.setModelRedactor(m_setup.modelRedactor);
    job->call = call;
    job->explicitlyLocal = local;
    auto credential = m_credentials->credential(call.grant.provider, call.grant.connection);
    if (!credential && credential.error().code != Error::Code::NotFound) {
        // Conflict is the connection's state (needs_reconnect), not an unreadable vault.
        const bool reconnect = credential.error().code == Error::Code::Conflict;
        refuse(pending,
               {QLatin1String(protocol::ErrorKind::Config),
                reconnect ? QStringLiteral("connection.needs_reconnect")
                          : QStringLiteral("credential.unreadable"),
                m_textScrubber.scrub(credential.error().message)},
               context);
        return false;
    }
    std::optional<ProviderCredential> own;
    if (credential)
        own = std::move(*credential);
    auto attached = ProviderCaller::attachCredential(*job, std::move(own), call.grant.connection);
    if (!attached) {
        refuse(pending, attached.error(), context);
        return false;
    }
    const QString credentialState = *attached;
    for (const ProviderGrant& g : std::as_const(m_setup.grants)) {
        if (g.provider == call.grant.provider && g.connection == call.grant.connection)
            continue;
        if (auto other = m_credentials->credential(g.provider, g.connection)) {
            job->scrubber.addSecret(other->secret);
            other->secret.fill('\0');
            for (QByteArray& r : other->alsoRedact) {
                job->scrubber.addSecret(r);
                r.fill('\0');
            }
        }
    }

    job->resolver = m_resolver;
    job->maxResponseBytes = m_setup.options.maxResponseBytes;
    job->connectTimeoutMs = m_setup.options.connectTimeoutMs;
    job->totalTimeoutMs = m_setup.options.totalTimeoutMs;

    m_inFlight = true;
    auto promise = std::make_shared<QPromise<ProviderCallOutcome>>();
    auto* watcher = new QFutureWatcher<ProviderCallOutcome>(this);
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher, pending, call, credentialState]() {
                watcher->deleteLater();
                const QFuture<ProviderCallOutcome> future = watcher->future();
                ProviderCallOutcome outcome;
                if (future.resultCount() > 0)
                    outcome = future.result();
                else
                    outcome.error = ProviderCallError{QLatin1String(protocol::ErrorKind::Cancelled),
                                                      QStringLiteral("cancelled"),
                                                      QStringLiteral("the call was abandoned")};
                onDone(pending, call, credentialState, outcome);
                startNext();
            });
    watcher->setFuture(promise->future());
    std::shared_ptr<CancelToken> cancel = m_setup.cancel;
    pool()->start([promise, job, cancel]() {
        promise->start();
        promise->addResult(ProviderCaller::execute(*job, *cancel));
        promise->finish();
    });
    return true;
}

void ProviderBroker::onDone(const Pending& pending, const CheckedCall& call,
                            const QString& credentialState, const ProviderCallOutcome& outcome)
{
    m_inFlight = false;
    QJsonObject audit = callContext(call, pending.request ? pending.request->operation : QString());
    audit.insert(QStringLiteral("credential"), credentialState);
    audit.insert(QStringLiteral("address"), outcome.address);
    audit.insert(QStringLiteral("bytes"), double(outcome.bytes));
    audit.insert(QStringLiteral("duration_ms"), double(outcome.durationMs));
    if (outcome.error) {
        const ProviderCallError& e = *outcome.error;
        const bool denied = e.kind == QLatin1String(protocol::ErrorKind::Policy);
        audit.insert(QStringLiteral("decision"),
                     denied ? QStringLiteral("deny") : QStringLiteral("allow"));
        audit.insert(QStringLiteral("rule"), e.rule);
        audit.insert(QStringLiteral("reason"), m_textScrubber.scrub(e.message));
        audit.insert(QStringLiteral("error_kind"), e.kind);
        audit.insert(QStringLiteral("status"), QJsonValue());
        audit.insert(QStringLiteral("sent"), outcome.sent);
        const QJsonObject answer{
            {QStringLiteral("type"), QStringLiteral("result")},
            {QStringLiteral("id"), pending.id},
            {QStringLiteral("ok"), false},
            {QStringLiteral("error"),
             QJsonObject{{QStringLiteral("kind"), e.kind},
                         {QStringLiteral("rule"), e.rule},
                         {QStringLiteral("message"), m_textScrubber.scrub(e.message)},
                         {QStringLiteral("retryable"), false}}}};
        finish(answer, audit);
        return;
    }

    audit.insert(QStringLiteral("decision"), QStringLiteral("allow"));
    audit.insert(QStringLiteral("rule"), QStringLiteral("uri.allow"));
    audit.insert(QStringLiteral("status"), outcome.status);
    audit.insert(QStringLiteral("truncated"), outcome.truncated);
    audit.insert(QStringLiteral("sent"), true);

    QJsonObject headers;
    for (const auto& [name, value] : outcome.headers) {
        const QString key = QString::fromLatin1(name);
        const QString text = QString::fromUtf8(value);
        const QString prev = headers.value(key).toString();
        headers.insert(key, prev.isEmpty() ? text : prev + QStringLiteral(", ") + text);
    }
    QJsonObject response{{QStringLiteral("status"), outcome.status},
                         {QStringLiteral("headers"), headers},
                         {QStringLiteral("truncated"), outcome.truncated},
                         {QStringLiteral("bytes"), double(outcome.bytes)},
                         {QStringLiteral("credential"), credentialState}};
    const QByteArray body =
        outcome.truncated ? withoutPartialCharacter(outcome.body) : outcome.body;
    if (body.isValidUtf8()) {
        response.insert(QStringLiteral("body"), QString::fromUtf8(body));
        response.insert(QStringLiteral("body_encoding"), QStringLiteral("utf-8"));
    } else {
        response.insert(QStringLiteral("body"), QString::fromLatin1(outcome.body.toBase64()));
        response.insert(QStringLiteral("body_encoding"), QStringLiteral("base64"));
    }
    finish({{QStringLiteral("type"), QStringLiteral("result")},
            {QStringLiteral("id"), pending.id},
            {QStringLiteral("ok"), true},
            {QStringLiteral("response"), response}},
           audit);
}

void ProviderBroker::refuse(const Pending& pending, const ProviderCallError& error,
                            const QJsonObject& context)
{
    QJsonObject audit = context;
    const QString message = m_textScrubber.scrub(error.message);
    audit.insert(QStringLiteral("decision"), QStringLiteral("deny"));
    audit.insert(QStringLiteral("rule"), error.rule);
    audit.insert(QStringLiteral("reason"), message);
    audit.insert(QStringLiteral("error_kind"), error.kind);
    audit.insert(QStringLiteral("status"), QJsonValue());
    audit.insert(QStringLiteral("bytes"), 0);
    audit.insert(QStringLiteral("sent"), false);
    audit.insert(QStringLiteral("duration_ms"), double(pending.received.elapsed()));
    qCInfo(lcBroker).noquote() << "run" << m_setup.runId << "provider call refused:" << error.rule
                               << "-" << message;
    finish({{QStringLiteral("type"), QStringLiteral("result")},
            {QStringLiteral("id"), pending.id},
            {QStringLiteral("ok"), false},
            {QStringLiteral("error"), QJsonObject{{QStringLiteral("kind"), error.kind},
                                                  {QStringLiteral("rule"), error.rule},
                                                  {QStringLiteral("message"), message},
                                                  {QStringLiteral("retryable"), false}}}},
           audit);
}

void ProviderBroker::finish(const QJsonObject& answer, const QJsonObject& audit)
{
    if (m_setup.audit)
        m_setup.audit(audit);
    if (m_setup.send)
        m_setup.send(answer);
    emit callFinished(answer, audit);
}

} // namespace vivarium
