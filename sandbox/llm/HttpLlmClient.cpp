// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "HttpLlmClient.h"

#include "LlmLogging.h"
#include "RetryPolicy.h"
#include "SseParser.h"
#include "vivarium/protocol/BrokerProtocol.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonParseError>

#include <chrono>
#include <thread>

namespace vivarium {

namespace {

/// A non-streaming body larger than this is refused rather than buffered.
constexpr qsizetype MaxBodyBytes = 64 * 1024 * 1024;

LlmError makeError(const char* kind, const QString& message, bool retryable = false,
                   int httpStatus = 0)
{
    LlmError e;
    e.kind = QString::fromLatin1(kind);
    e.message = message;
    e.retryable = retryable;
    e.httpStatus = httpStatus;
    return e;
}

/** Sleeps up to `ms`, waking every 50 ms to see whether the call was cancelled. */
bool sleepUnlessCancelled(qint64 ms, const CancelToken& cancel)
{
    QElapsedTimer timer;
    timer.start();
    while (!cancel.isCancelled()) {
        const qint64 left = ms - timer.elapsed();
        if (left <= 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<qint64>(left, 50)));
    }
    return false;
}

QString describeHost(const QUrl& url)
{
    return url.port() > 0 ? url.host() + QLatin1Char(':') + QString::number(url.port())
                          : url.host();
}

} // namespace

HttpLlmClient::HttpLlmClient(EndpointConfig config)
    : m_config(std::move(config))
{}

std::optional<LlmError> HttpLlmClient::validate(const LlmRequest& request) const
{
    const QUrl base = m_config.baseUrl;
    if (!base.isValid() || base.host().isEmpty() ||
        (base.scheme() != QLatin1String("https") && base.scheme() != QLatin1String("http"))) {
        return makeError(
            protocol::ErrorKind::Config,
            QStringLiteral("endpoint \"%1\" has no valid http(s) base URL").arg(m_config.name));
    }
    if (request.model.isEmpty()) {
        return makeError(protocol::ErrorKind::Config,
                         QStringLiteral("no model set for endpoint \"%1\"").arg(m_config.name));
    }
    // A key with a line break would let it inject headers; refuse rather than send.
    if (m_config.apiKey.contains('\r') || m_config.apiKey.contains('\n') ||
        m_config.apiKey.contains('\0')) {
        return makeError(
            protocol::ErrorKind::Config,
            QStringLiteral("the API key of endpoint \"%1\" contains control characters")
                .arg(m_config.name));
    }
    return std::nullopt;
}

std::expected<LlmResponse, LlmError> HttpLlmClient::complete(const LlmRequest& request,
                                                             const CancelToken& cancel,
                                                             const LlmDeltaCallback& onDelta)
{
    if (const std::optional<LlmError> invalid = validate(request))
        return std::unexpected(*invalid);

    CurlTransport::Request http;
    http.url = endpointUrl();
    http.body = QJsonDocument(requestBody(request)).toJson(QJsonDocument::Compact);
    http.headers = requestHeaders(request.stream);
    http.connectTimeoutMs = m_config.connectTimeoutMs;
    http.idleTimeoutMs = m_config.idleTimeoutMs;
    http.totalTimeoutMs = m_config.totalTimeoutMs;

    const QString where = describeHost(http.url);
    const int maxAttempts = std::max(1, m_config.maxAttempts);
    for (int n = 1;; ++n) {
        if (cancel.isCancelled()) {
            LlmError e = makeError(protocol::ErrorKind::Cancelled, QStringLiteral("cancelled"));
            e.attempts = std::max(1, n - 1);
            return std::unexpected(e);
        }
        qCDebug(lcSandboxLlm).noquote()
            << "POST" << where << http.url.path() << "model" << request.model << "stream"
            << request.stream << "attempt" << n << "body bytes" << http.body.size();
        QElapsedTimer took;
        took.start();
        std::expected<LlmResponse, AttemptFailure> result =
            attempt(http, request.stream, cancel, onDelta);
        if (result) {
            LlmResponse r = std::move(*result);
            r.attempts = n;
            if (r.model.isEmpty())
                r.model = request.model; // some OpenAI-compatible servers leave it out
            r.costUsd = PriceTable::cost(r.model, r.usage, &m_config);
            if (!r.costUsd && r.model != request.model)
                r.costUsd = PriceTable::cost(request.model, r.usage, &m_config);
            qCDebug(lcSandboxLlm).noquote()
                << "done in" << took.elapsed() << "ms stop" << r.stopReason << "tokens"
                << r.usage.inputTokens << "/" << r.usage.outputTokens;
            return r;
        }
        LlmError e = std::move(result.error().error);
        e.message = redact(e.message, m_config.apiKey);
        e.attempts = n;
        if (e.kind == QLatin1String(protocol::ErrorKind::Cancelled) || !e.retryable ||
            n >= maxAttempts) {
            qCDebug(lcSandboxLlm).noquote() << "giving up after" << n << "attempt(s):" << e.message;
            return std::unexpected(e);
        }
        const qint64 delay = RetryPolicy::backoffMs(
            n, m_config.initialBackoffMs, m_config.maxBackoffMs, result.error().serverDelayMs);
        qCInfo(lcSandboxLlm).noquote()
            << QStringLiteral("attempt %1 of %2 to %3 failed (%4); retrying in %5 ms")
                   .arg(QString::number(n), QString::number(maxAttempts), where, e.message,
                        QString::number(delay));
        if (!sleepUnlessCancelled(delay, cancel)) {
            LlmError c = makeError(protocol::ErrorKind::Cancelled,
                                   QStringLiteral("cancelled while waiting to retry"));
            c.attempts = n;
            return std::unexpected(c);
        }
    }
}

std::expected<LlmResponse, HttpLlmClient::AttemptFailure>
HttpLlmClient::attempt(const CurlTransport::Request& http, bool stream, const CancelToken& cancel,
                       const LlmDeltaCallback& onDelta) const
{
    SseParser parser;
    std::unique_ptr<StreamAssembler> assembler = makeAssembler();
    assembler->setDeltaCallback(onDelta);
    QByteArray plainBody;
    bool decided = false;
    bool isSse = false;
    bool tooBig = false;

    const auto sink = [&](const HttpHead& head, QByteArrayView bytes) {
        if (!decided) {
            // Trust the content type: a server may ignore `stream` and answer with JSON.
            const QByteArray type = head.header("content-type").toLower();
            isSse = type.contains("text/event-stream") || (stream && type.isEmpty());
            decided = true;
        }
        if (isSse) {
            parser.feed(bytes);
            for (const SseEvent& event : parser.takeEvents())
                assembler->onEvent(event);
            return !parser.hasError();
        }
        if (plainBody.size() + bytes.size() > MaxBodyBytes) {
            tooBig = true;
            return false;
        }
        plainBody.append(bytes);
        return true;
    };
    const HttpResult r = CurlTransport::post(http, cancel, sink);
    const QString where = describeHost(http.url);
    qCDebug(lcSandboxLlm).noquote() << "HTTP" << r.head.status << "from" << where << "body"
                                    << r.bytesReceived << "bytes in" << r.bodyReads << "reads";
    using O = HttpResult::Outcome;
    const auto fail = [](LlmError e, std::optional<qint64> delay = std::nullopt) {
        return std::unexpected(AttemptFailure{std::move(e), delay});
    };

    // A stream that reached its end marker is whole, however the connection ends afterwards.
    if (isSse && assembler->isComplete() && !assembler->error() && r.outcome != O::Cancelled)
        return assembler->response();

    switch (r.outcome) {
    case O::Cancelled:
        return fail(makeError(protocol::ErrorKind::Cancelled, QStringLiteral("cancelled")));
    case O::ConnectTimeout:
        return fail(makeError(protocol::ErrorKind::Timeout,
                              QStringLiteral("no connection to %1 within %2 ms")
                                  .arg(where)
                                  .arg(http.connectTimeoutMs),
                              true));
    case O::IdleTimeout:
        return fail(makeError(
            protocol::ErrorKind::Timeout,
            QStringLiteral("%1 sent nothing for %2 ms").arg(where).arg(http.idleTimeoutMs), true));
    case O::TotalTimeout:
        return fail(makeError(protocol::ErrorKind::Timeout,
                              QStringLiteral("the call to %1 took longer than %2 ms")
                                  .arg(where)
                                  .arg(http.totalTimeoutMs),
                              true));
    case O::ConnectFailed:
        return fail(makeError(protocol::ErrorKind::Connection,
                              QStringLiteral("cannot reach %1: %2").arg(where, r.detail), true));
    case O::TlsFailed:
        return fail(makeError(protocol::ErrorKind::Connection,
                              QStringLiteral("TLS failure with %1: %2").arg(where, r.detail)));
    case O::Broken:
        if (isSse && assembler->error())
            break; // the vendor said why before closing
        return fail(makeError(protocol::ErrorKind::Connection,
                              QStringLiteral("connection to %1 broke after %2 bytes: %3")
                                  .arg(where)
                                  .arg(r.bytesReceived)
                                  .arg(r.detail),
                              true));
    case O::SinkStopped:
        if (parser.hasError())
            return fail(makeError(protocol::ErrorKind::Protocol, parser.error()));
        if (tooBig)
            return fail(makeError(protocol::ErrorKind::Protocol,
                                  QStringLiteral("response from %1 larger than %2 bytes")
                                      .arg(where)
                                      .arg(MaxBodyBytes)));
        return fail(makeError(protocol::ErrorKind::Protocol,
                              QStringLiteral("response from %1 rejected").arg(where)));
    case O::Completed:
        break;
    }

    const int status = r.head.status;
    if (status >= 200 && status < 300) {
        if (!isSse && decided) {
            std::expected<LlmResponse, LlmError> parsed = parseResponseBody(plainBody);
            if (!parsed)
                return fail(parsed.error());
            if (onDelta && !parsed->text.isEmpty())
                onDelta(parsed->text);
            return *parsed;
        }
        if (const std::optional<LlmError>& vendor = assembler->error()) {
            LlmError e = *vendor;
            if (e.kind == QLatin1String(protocol::ErrorKind::Http)) {
                e.httpStatus = status;
                e.message = QStringLiteral("%1 reported mid-stream: %2").arg(where, e.message);
            }
            return fail(e);
        }
        if (!decided) {
            return fail(makeError(
                protocol::ErrorKind::Protocol,
                QStringLiteral("%1 answered HTTP %2 with an empty body").arg(where).arg(status)));
        }
        return fail(makeError(protocol::ErrorKind::Connection,
                              QStringLiteral("the stream from %1 ended before its end marker "
                                             "(%2 bytes received)")
                                  .arg(where)
                                  .arg(r.bytesReceived),
                              true));
    }
    if (status >= 300 && status < 400) {
        return fail(makeError(
            protocol::ErrorKind::Http,
            QStringLiteral("HTTP %1 from %2: redirects are not followed").arg(status).arg(where),
            false, status));
    }
    LlmError e = httpError(status, r.errorBody);
    e.message =
        QStringLiteral("HTTP %1 from %2: %3").arg(QString::number(status), where, e.message);
    e.retryable = RetryPolicy::isRetryableStatus(status);
    // Anthropic's explicit hint overrides the status-based guess.
    const QByteArray shouldRetry = r.head.header("x-should-retry").toLower();
    if (shouldRetry == "true")
        e.retryable = true;
    else if (shouldRetry == "false")
        e.retryable = false;
    return fail(e, RetryPolicy::serverDelayMs(r.head));
}

LlmError HttpLlmClient::httpError(int status, const QByteArray& body)
{
    LlmError e;
    e.kind = QString::fromLatin1(protocol::ErrorKind::Http);
    e.httpStatus = status;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    const QJsonObject o = doc.object();
    const QJsonValue err = o.value(QLatin1String("error"));
    if (err.isObject()) {
        const QJsonObject eo = err.toObject();
        const QString type = eo.value(QLatin1String("type")).toString();
        const QString message = eo.value(QLatin1String("message")).toString();
        e.message = type.isEmpty() ? message : type + QStringLiteral(": ") + message;
    } else if (err.isString()) {
        e.message = err.toString();
    } else if (o.value(QLatin1String("message")).isString()) {
        e.message = o.value(QLatin1String("message")).toString();
    } else if (o.value(QLatin1String("detail")).isString()) {
        e.message = o.value(QLatin1String("detail")).toString();
    }
    if (e.message.isEmpty()) {
        const QString text = QString::fromUtf8(body.left(300)).simplified();
        e.message = text.isEmpty() ? QStringLiteral("(empty body)") : text;
    }
    return e;
}

QString HttpLlmClient::redact(QString text, const QByteArray& secret)
{
    if (secret.size() >= 4)
        text.replace(QString::fromUtf8(secret), QStringLiteral("[redacted]"));
    return text;
}

} // namespace vivarium
