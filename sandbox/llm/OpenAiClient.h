// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "HttpLlmClient.h"

namespace vivarium {

/**
 * OpenAI-compatible chat completions: POST {baseUrl}/chat/completions (baseUrl includes /v1),
 * `Authorization: Bearer KEY` only when a key is set.
 *
 * Mapping notes:
 * - A tool result that is an error has no `is_error` field in this API: its content is sent
 *   as "ERROR: " followed by the text, so the model still sees that it failed.
 * - The token limit goes out as `max_tokens`, except for the reasoning families (o1, o3, o4,
 *   gpt-5) which reject it and take `max_completion_tokens`.
 * - Usage: prompt_tokens (which already includes cached tokens) -> inputTokens,
 *   completion_tokens -> outputTokens, prompt_tokens_details.cached_tokens -> cacheReadTokens.
 * - finish_reason stop -> end_turn (refusal when a refusal came back, tool_use when tool
 *   calls did), tool_calls -> tool_use, length -> max_tokens, content_filter -> content_filter.
 */
class OpenAiClient final : public HttpLlmClient
{
public:
    explicit OpenAiClient(EndpointConfig config);

    static QUrl endpointUrl(const QUrl& baseUrl);
    static QJsonObject buildRequestBody(const LlmRequest& request);
    /** A `chat.completion` object. */
    static std::expected<LlmResponse, LlmError> parseResponse(const QJsonObject& completion);

protected:
    QUrl endpointUrl() const override { return endpointUrl(config().baseUrl); }
    QList<QByteArray> requestHeaders(bool stream) const override;
    QJsonObject requestBody(const LlmRequest& request) const override
    {
        return buildRequestBody(request);
    }
    std::unique_ptr<StreamAssembler> makeAssembler() const override;
    std::expected<LlmResponse, LlmError> parseResponseBody(const QByteArray& body) const override;
};

} // namespace vivarium
