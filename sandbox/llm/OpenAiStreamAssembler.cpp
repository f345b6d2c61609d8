// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "OpenAiStreamAssembler.h"

#include "vivarium/protocol/BrokerProtocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace vivarium {

namespace {

LlmError protocolError(const QString& message)
{
    LlmError e;
    e.kind = QString::fromLatin1(protocol::ErrorKind::Protocol);
    e.message = message;
    return e;
}

} // namespace

void OpenAiStreamAssembler::onEvent(const SseEvent& event)
{
    if (error() || m_done)
        return;
    if (event.data == QLatin1String("[DONE]")) {
        m_done = true;
        return;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(event.data.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        fail(protocolError(
            QStringLiteral("malformed chat.completion.chunk: %1").arg(pe.errorString())));
        return;
    }
    const QJsonObject chunk = doc.object();
    if (chunk.value(QLatin1String("error")).isObject()) {
        // Some servers (OpenAI included) report failures inside a 200 stream.
        fail(vendorError(chunk.value(QLatin1String("error")).toObject(), 0));
        return;
    }
    if (m_id.isEmpty())
        m_id = chunk.value(QLatin1String("id")).toString();
    if (m_model.isEmpty())
        m_model = chunk.value(QLatin1String("model")).toString();
    if (chunk.value(QLatin1String("usage")).isObject())
        m_usage = usage(chunk.value(QLatin1String("usage")).toObject());

    const QJsonArray choices = chunk.value(QLatin1String("choices")).toArray();
    for (const QJsonValue& cv : choices) {
        const QJsonObject choice = cv.toObject();
        if (choice.value(QLatin1String("index")).toInt(0) != 0)
            continue;
        const QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
        const QJsonValue content = delta.value(QLatin1String("content"));
        if (content.isString()) {
            m_text.append(content.toString());
            emitDelta(content.toString());
        }
        const QJsonValue refusal = delta.value(QLatin1String("refusal"));
        if (refusal.isString())
            m_refusal.append(refusal.toString());

        const QJsonArray calls = delta.value(QLatin1String("tool_calls")).toArray();
        for (const QJsonValue& tv : calls) {
            const QJsonObject tc = tv.toObject();
            const QString id = tc.value(QLatin1String("id")).toString();
            int index = 0;
            if (tc.value(QLatin1String("index")).isDouble()) {
                index = tc.value(QLatin1String("index")).toInt();
            } else if (!m_toolCalls.empty()) {
                // Servers that omit `index`: a new id opens a new call, otherwise continue.
                index = m_toolCalls.rbegin()->first;
                if (!id.isEmpty() && m_toolCalls.rbegin()->second.id != id)
                    ++index;
            }
            Slot& slot = m_toolCalls[index];
            if (!id.isEmpty())
                slot.id = id;
            // `function` for function tools, `custom` (free-form `input`) for custom tools.
            const QJsonObject fn = tc.value(QLatin1String("function")).toObject();
            const QJsonObject custom = tc.value(QLatin1String("custom")).toObject();
            const QString name = fn.contains(QLatin1String("name"))
                                     ? fn.value(QLatin1String("name")).toString()
                                     : custom.value(QLatin1String("name")).toString();
            if (!name.isEmpty())
                slot.name = name;
            slot.arguments.append(fn.contains(QLatin1String("arguments"))
                                      ? fn.value(QLatin1String("arguments")).toString()
                                      : custom.value(QLatin1String("input")).toString());
        }
        const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
        if (finish.isString())
            m_finishReason = finish.toString();
    }
}

LlmResponse OpenAiStreamAssembler::response() const
{
    LlmResponse r;
    r.responseId = m_id;
    r.model = m_model;
    r.text = m_text;
    r.refusal = m_refusal;
    r.usage = m_usage;
    for (const auto& [index, slot] : m_toolCalls)
        r.toolCalls.append(ToolCall{slot.id, slot.name, slot.arguments});
    r.stopReason = stopReason(m_finishReason, !r.toolCalls.isEmpty(), !m_refusal.isEmpty());
    return r;
}

QString OpenAiStreamAssembler::stopReason(const QString& finishReason, bool hasToolCalls,
                                          bool refused)
{
    if (finishReason == QLatin1String("stop") || finishReason.isEmpty()) {
        // Some OpenAI-compatible servers say "stop" even when they return tool calls; the
        // runner keys off tool_use, so normalise.
        if (hasToolCalls)
            return QStringLiteral("tool_use");
        if (refused)
            return QStringLiteral("refusal");
        return finishReason.isEmpty() ? QStringLiteral("other") : QStringLiteral("end_turn");
    }
    if (finishReason == QLatin1String("tool_calls") ||
        finishReason == QLatin1String("function_call"))
        return QStringLiteral("tool_use");
    if (finishReason == QLatin1String("length"))
        return QStringLiteral("max_tokens");
    if (finishReason == QLatin1String("content_filter"))
        return QStringLiteral("content_filter");
    return QStringLiteral("other");
}

Usage OpenAiStreamAssembler::usage(const QJsonObject& u)
{
    Usage out;
    out.inputTokens = u.value(QLatin1String("prompt_tokens")).toInteger();
    out.outputTokens = u.value(QLatin1String("completion_tokens")).toInteger();
    out.cacheReadTokens = u.value(QLatin1String("prompt_tokens_details"))
                              .toObject()
                              .value(QLatin1String("cached_tokens"))
                              .toInteger();
    return out;
}

LlmError OpenAiStreamAssembler::vendorError(const QJsonObject& error, int httpStatus)
{
    LlmError e;
    e.kind = QString::fromLatin1(protocol::ErrorKind::Http);
    e.httpStatus = httpStatus;
    const QString type = error.value(QLatin1String("type")).toString();
    const QString message = error.value(QLatin1String("message")).toString();
    e.message = type.isEmpty() ? message : type + QStringLiteral(": ") + message;
    // A mid-stream server_error is the same transient failure as a 500.
    e.retryable =
        type == QLatin1String("server_error") || type == QLatin1String("overloaded_error");
    return e;
}

} // namespace vivarium
