// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/protocol/Conversation.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

#include <atomic>
#include <expected>
#include <functional>
#include <memory>

namespace vivarium {

/** Which wire format an endpoint speaks. */
enum class ModelApi { OpenAi, Anthropic };

/** Everything a client needs to reach one model endpoint. Holds the key: broker-side only. */
struct EndpointConfig
{
    QString name;
    ModelApi api = ModelApi::OpenAi;
    /// As the vendors' SDKs take it: OpenAI-compatible ones include /v1, Anthropic's does not.
    QUrl baseUrl;
    QByteArray apiKey; ///< empty: no key (local servers); never logged
    int connectTimeoutMs = 10'000;
    int idleTimeoutMs = 120'000;  ///< no byte for this long ends the attempt
    int totalTimeoutMs = 600'000; ///< one attempt, start to end
    int maxAttempts = 4;          ///< 1 = no retry
    int initialBackoffMs = 500;
    int maxBackoffMs = 30'000;
    /// Prices per million tokens overriding the built-in table (nullopt: use the table).
    std::optional<double> inputPricePerMTok;
    std::optional<double> outputPricePerMTok;
};

/** A cancellation flag shared between the caller and a running call. */
class CancelToken
{
public:
    void cancel() { m_cancelled.store(true); }
    bool isCancelled() const { return m_cancelled.load(); }

private:
    std::atomic_bool m_cancelled{false};
};

/** Why a model call failed, in words the runner can show the model or the operator. */
struct LlmError
{
    QString kind;    ///< a protocol::ErrorKind value
    QString message; ///< human-readable, never contains the key
    int httpStatus = 0;
    bool retryable = false; ///< was retryable; reported after the retries ran out
    int attempts = 1;
};

/** Text as it streams in, for live views. Called on the calling thread. */
// After a retry (say the connection broke mid-stream) the deltas start over with the new
// attempt's text; only the returned LlmResponse is authoritative. A non-streaming call
// delivers its whole text once, at the end.
using LlmDeltaCallback = std::function<void(const QString& textDelta)>;

/**
 * One model endpoint. `complete` blocks the calling thread (the broker runs it on a worker
 * thread) and is safe to call from several threads at once. Streaming and non-streaming both
 * return the assembled response; retries with backoff honour Retry-After on 429, 5xx and
 * connection errors; `cancel` stops it mid-stream within ~100 ms.
 */
class LlmClient
{
public:
    virtual ~LlmClient() = default;
    virtual std::expected<LlmResponse, LlmError> complete(const LlmRequest& request,
                                                          const CancelToken& cancel,
                                                          const LlmDeltaCallback& onDelta = {}) = 0;

    /** The client for `config.api`. */
    static std::unique_ptr<LlmClient> create(const EndpointConfig& config);
};

/** Built-in prices per model (USD per million tokens); unknown models are unpriced. */
class PriceTable
{
public:
    /** Cost of `usage` on `model`, or nullopt if the model has no known price. */
    static std::optional<double> cost(const QString& model, const Usage& usage,
                                      const EndpointConfig* overrides = nullptr);
};

} // namespace vivarium
