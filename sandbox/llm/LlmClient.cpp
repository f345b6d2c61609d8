// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/LlmClient.h"

#include "AnthropicClient.h"
#include "OpenAiClient.h"

namespace vivarium {

std::unique_ptr<LlmClient> LlmClient::create(const EndpointConfig& config)
{
    switch (config.api) {
    case ModelApi::Anthropic:
        return std::make_unique<AnthropicClient>(config);
    case ModelApi::OpenAi:
        break;
    }
    return std::make_unique<OpenAiClient>(config);
}

} // namespace vivarium
