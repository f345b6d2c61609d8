// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "HttpLlmClient.h"

namespace vivarium {

/**
 * Anthropic Messages: POST {baseUrl}/v1/messages (baseUrl has no /v1), `x-api-key` (when set)
 * and `anthropic-version: 2023-06-01`.
 *
 * Mapping notes:
 * - System messages become the top-level `system` (several are joined with a blank line).
 * - Tool results become `tool_result` blocks in a user message; consecutive user-side
 *   messages (tool results, then perhaps user text) merge into one message because the API
 *   wants user and assistant to alternate. Consecutive assistant messages merge likewise.
 * - An assistant tool call goes back as a `tool_use` block whose `input` must be an object:
 *   the stored arguments are parsed, and anything that is not a JSON object (empty, invalid,
 *   truncated by max_tokens) is sent as {}.
 * - `max_tokens` is required by the API: 4096 when the request leaves it unset.
 * - A non-streaming `tool_use.input` comes back as an object and is kept as compact JSON.
 * - Usage is normalised: inputTokens = input_tokens + cache_read_input_tokens +
 *   cache_creation_input_tokens, so it means "all input tokens" for both vendors.
 */
class AnthropicClient final : public HttpLlmClient
{
public:
    static constexpr int DefaultMaxTokens = 4096;
    static constexpr const char* ApiVersion = "2023-06-01";

    explicit AnthropicClient(EndpointConfig config);

    static QUrl endpointUrl(const QUrl& baseUrl);
    static QJsonObject buildRequestBody(const LlmRequest& request);
    /** A `message` object. */
    static std::expected<LlmResponse, LlmError> parseResponse(const QJsonObject& message);

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
