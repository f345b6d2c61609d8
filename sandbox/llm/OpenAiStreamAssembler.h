// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "StreamAssembler.h"

#include <QJsonObject>

#include <map>

namespace vivarium {

/**
 * Assembles an OpenAI chat-completions stream (`chat.completion.chunk` objects, a final
 * usage chunk with empty `choices` when `stream_options.include_usage` was asked, then
 * `data: [DONE]`). Tool calls are assembled by `index`: id, type and name arrive first,
 * `arguments` in pieces appended verbatim (so an invalid or empty argument text survives
 * unchanged for the runner to report). `custom` tool calls (free-form `input`) are kept the
 * same way. Only choice 0 is read: we never ask for n > 1.
 */
class OpenAiStreamAssembler final : public StreamAssembler
{
public:
    void onEvent(const SseEvent& event) override;
    bool isComplete() const override { return m_done; }
    LlmResponse response() const override;

    /** finish_reason -> our stop reason (see LlmResponse::stopReason). */
    static QString stopReason(const QString& finishReason, bool hasToolCalls, bool refused);
    /** `usage` -> Usage; prompt_tokens already includes the cached tokens. */
    static Usage usage(const QJsonObject& usage);
    /** An `{"error": {...}}` object, in a body or mid-stream, as an LlmError. */
    static LlmError vendorError(const QJsonObject& error, int httpStatus);

private:
    struct Slot
    {
        QString id;
        QString name;
        QString arguments;
    };

    bool m_done = false;
    QString m_id;
    QString m_model;
    QString m_text;
    QString m_refusal;
    QString m_finishReason;
    Usage m_usage;
    std::map<int, Slot> m_toolCalls;
};

} // namespace vivarium
