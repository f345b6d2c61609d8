// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AnthropicStreamAssembler.h"

#include "vivarium/protocol/BrokerProtocol.h"

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

void AnthropicStreamAssembler::onEvent(const SseEvent& event)
{
    if (error() || m_done)
        return;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(event.data.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        fail(protocolError(
            QStringLiteral("malformed %1 event: %2").arg(event.event, pe.errorString())));
        return;
    }
    const QJsonObject o = doc.object();
    // The JSON `type` is authoritative; the SSE event name is the same by contract.
    QString type = o.value(QLatin1String("type")).toString();
    if (type.isEmpty())
        type = event.event;

    if (type == QLatin1String("message_start")) {
        const QJsonObject message = o.value(QLatin1String("message")).toObject();
        m_id = message.value(QLatin1String("id")).toString();
        m_model = message.value(QLatin1String("model")).toString();
        mergeUsage(message.value(QLatin1String("usage")).toObject(), m_usage);
    } else if (type == QLatin1String("content_block_start")) {
        const int index = o.value(QLatin1String("index")).toInt();
        const QJsonObject cb = o.value(QLatin1String("content_block")).toObject();
        const QString cbType = cb.value(QLatin1String("type")).toString();
        Block b;
        if (cbType == QLatin1String("text")) {
            b.type = Block::Type::Text;
            b.text = cb.value(QLatin1String("text")).toString();
            emitDelta(b.text);
        } else if (cbType == QLatin1String("tool_use")) {
            b.type = Block::Type::ToolUse;
            b.id = cb.value(QLatin1String("id")).toString();
            b.name = cb.value(QLatin1String("name")).toString();
            const QJsonObject input = cb.value(QLatin1String("input")).toObject();
            if (!input.isEmpty())
                b.initialInput =
                    QString::fromUtf8(QJsonDocument(input).toJson(QJsonDocument::Compact));
        }
        m_blocks[index] = std::move(b);
    } else if (type == QLatin1String("content_block_delta")) {
        const int index = o.value(QLatin1String("index")).toInt();
        const QJsonObject delta = o.value(QLatin1String("delta")).toObject();
        const QString dType = delta.value(QLatin1String("type")).toString();
        Block& b = m_blocks[index];
        if (dType == QLatin1String("text_delta")) {
            if (b.type == Block::Type::Other)
                b.type = Block::Type::Text; // tolerate a missing content_block_start
            const QString text = delta.value(QLatin1String("text")).toString();
            b.text.append(text);
            emitDelta(text);
        } else if (dType == QLatin1String("input_json_delta")) {
            b.arguments.append(delta.value(QLatin1String("partial_json")).toString());
            b.gotDelta = true;
        }
    } else if (type == QLatin1String("message_delta")) {
        const QJsonValue sr =
            o.value(QLatin1String("delta")).toObject().value(QLatin1String("stop_reason"));
        if (sr.isString())
            m_stopReason = sr.toString();
        mergeUsage(o.value(QLatin1String("usage")).toObject(), m_usage);
    } else if (type == QLatin1String("message_stop")) {
        m_done = true;
    } else if (type == QLatin1String("error")) {
        fail(vendorError(o.value(QLatin1String("error")).toObject(), 0));
    }
    // ping, content_block_stop and unknown events carry nothing we keep.
}

LlmResponse AnthropicStreamAssembler::response() const
{
    LlmResponse r;
    r.responseId = m_id;
    r.model = m_model;
    r.usage = m_usage;
    for (const auto& [index, b] : m_blocks) {
        if (b.type == Block::Type::Text)
            r.text.append(b.text);
        else if (b.type == Block::Type::ToolUse)
            r.toolCalls.append(ToolCall{b.id, b.name, b.gotDelta ? b.arguments : b.initialInput});
    }
    r.stopReason = m_stopReason.isEmpty() ? QStringLiteral("other") : stopReason(m_stopReason);
    return r;
}

QString AnthropicStreamAssembler::stopReason(const QString& stopReason)
{
    static const QStringList known{QStringLiteral("end_turn"), QStringLiteral("tool_use"),
                                   QStringLiteral("max_tokens"), QStringLiteral("stop_sequence"),
                                   QStringLiteral("refusal")};
    return known.contains(stopReason) ? stopReason : QStringLiteral("other");
}

void AnthropicStreamAssembler::mergeUsage(const QJsonObject& usage, Usage& out)
{
    const auto field = [&usage](const char* key, qint64 current) {
        const QJsonValue v = usage.value(QLatin1String(key));
        return v.isDouble() ? v.toInteger() : current;
    };
    // Undo the normalisation, take what this event reports, normalise again.
    const qint64 rawInput =
        field("input_tokens", out.inputTokens - out.cacheReadTokens - out.cacheWriteTokens);
    out.cacheReadTokens = field("cache_read_input_tokens", out.cacheReadTokens);
    out.cacheWriteTokens = field("cache_creation_input_tokens", out.cacheWriteTokens);
    out.outputTokens = field("output_tokens", out.outputTokens);
    out.inputTokens = rawInput + out.cacheReadTokens + out.cacheWriteTokens;
}

LlmError AnthropicStreamAssembler::vendorError(const QJsonObject& error, int httpStatus)
{
    LlmError e;
    e.kind = QString::fromLatin1(protocol::ErrorKind::Http);
    e.httpStatus = httpStatus;
    const QString type = error.value(QLatin1String("type")).toString();
    const QString message = error.value(QLatin1String("message")).toString();
    e.message = type.isEmpty() ? message : type + QStringLiteral(": ") + message;
    e.retryable = type == QLatin1String("overloaded_error") || type == QLatin1String("api_error") ||
                  type == QLatin1String("rate_limit_error");
    return e;
}

} // namespace vivarium
