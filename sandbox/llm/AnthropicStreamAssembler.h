// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "StreamAssembler.h"

#include <QJsonObject>

#include <map>

namespace vivarium {

/**
 * Assembles an Anthropic Messages stream: message_start (id, model, input usage),
 * content_block_start/delta/stop (text_delta appended to text blocks, input_json_delta
 * `partial_json` appended verbatim to tool_use blocks), message_delta (stop_reason, output
 * usage), message_stop. `ping` and unknown events (thinking blocks, future types) are
 * ignored; `event: error` mid-stream ends the call with that error (retryable when the
 * vendor was overloaded or failed internally).
 */
class AnthropicStreamAssembler final : public StreamAssembler
{
public:
    void onEvent(const SseEvent& event) override;
    bool isComplete() const override { return m_done; }
    LlmResponse response() const override;

    /** stop_reason -> our stop reason: the known values map 1:1, others to "other". */
    static QString stopReason(const QString& stopReason);
    /**
     * `usage` into `out`, normalised: inputTokens counts every input token including cache
     * reads and writes (Anthropic reports those apart), like OpenAI's prompt_tokens does.
     * Fields missing from `usage` keep their value in `out`.
     */
    static void mergeUsage(const QJsonObject& usage, Usage& out);
    /** An `error` object ({"type","message"}) as an LlmError. */
    static LlmError vendorError(const QJsonObject& error, int httpStatus);

private:
    struct Block
    {
        enum class Type { Text, ToolUse, Other };
        Type type = Type::Other;
        QString text;
        QString id;
        QString name;
        QString arguments;
        QString initialInput; ///< `input` given in content_block_start, compact JSON
        bool gotDelta = false;
    };

    bool m_done = false;
    QString m_id;
    QString m_model;
    QString m_stopReason;
    Usage m_usage;
    std::map<int, Block> m_blocks;
};

} // namespace vivarium
