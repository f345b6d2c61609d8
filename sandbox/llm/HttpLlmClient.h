// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "CurlTransport.h"
#include "StreamAssembler.h"
#include "vivarium/sandbox/LlmClient.h"

#include <QJsonObject>

#include <memory>
#include <optional>

namespace vivarium {

/**
 * What both vendors' clients share: the attempt loop with retries and backoff, streaming
 * through SseParser into a StreamAssembler, error bodies, redaction of the key, cost.
 *
 * Retry rule for broken streams: the caller only ever sees the final assembled response, so a
 * connection that breaks mid-stream (or a stream that ends before its end marker) retries the
 * whole request. Live deltas of the failed attempt were already passed to `onDelta`; the next
 * attempt's deltas start over from the beginning.
 */
class HttpLlmClient : public LlmClient
{
public:
    explicit HttpLlmClient(EndpointConfig config);

    std::expected<LlmResponse, LlmError> complete(const LlmRequest& request,
                                                  const CancelToken& cancel,
                                                  const LlmDeltaCallback& onDelta = {}) final;

    /**
     * An error body as an LlmError (kind http). Both vendors send {"error": {"type",
     * "message"}}; OpenAI-compatible servers also send {"error": "text"}, {"message"} or
     * {"detail"}; anything else is quoted, shortened.
     */
    static LlmError httpError(int status, const QByteArray& body);
    /** `text` with every occurrence of `secret` replaced (vendors echo bad keys back). */
    static QString redact(QString text, const QByteArray& secret);

protected:
    const EndpointConfig& config() const { return m_config; }

    virtual QUrl endpointUrl() const = 0;
    /** "Name: value" lines, the key among them. */
    virtual QList<QByteArray> requestHeaders(bool stream) const = 0;
    virtual QJsonObject requestBody(const LlmRequest& request) const = 0;
    virtual std::unique_ptr<StreamAssembler> makeAssembler() const = 0;
    /** A complete non-streaming response body. */
    virtual std::expected<LlmResponse, LlmError>
    parseResponseBody(const QByteArray& body) const = 0;

private:
    struct AttemptFailure
    {
        LlmError error;
        std::optional<qint64> serverDelayMs;
    };
    std::expected<LlmResponse, AttemptFailure> attempt(const CurlTransport::Request& http,
                                                       bool stream, const CancelToken& cancel,
                                                       const LlmDeltaCallback& onDelta) const;
    std::optional<LlmError> validate(const LlmRequest& request) const;

    EndpointConfig m_config;
};

} // namespace vivarium
