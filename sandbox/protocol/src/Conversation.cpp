// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/protocol/Conversation.h"

#include <QJsonArray>

namespace vivarium {

namespace {

void setFail(bool* ok)
{
    if (ok)
        *ok = false;
}

QString str(const QJsonObject& o, const char* key, bool* ok, bool required)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isString())
        return v.toString();
    if (required || !v.isUndefined())
        setFail(ok);
    return {};
}

std::optional<double> optDouble(const QJsonObject& o, const char* key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

} // namespace

QString roleName(ChatMessage::Role role)
{
    switch (role) {
    case ChatMessage::Role::System:
        return QStringLiteral("system");
    case ChatMessage::Role::User:
        return QStringLiteral("user");
    case ChatMessage::Role::Assistant:
        return QStringLiteral("assistant");
    case ChatMessage::Role::Tool:
        return QStringLiteral("tool");
    }
    return QStringLiteral("user");
}

QJsonObject toJson(const ToolCall& c)
{
    return {{QStringLiteral("id"), c.id},
            {QStringLiteral("name"), c.name},
            {QStringLiteral("arguments"), c.arguments}};
}

QJsonObject toJson(const ChatMessage& m)
{
    QJsonObject o{{QStringLiteral("role"), roleName(m.role)}, {QStringLiteral("text"), m.text}};
    if (!m.toolCalls.isEmpty()) {
        QJsonArray calls;
        for (const ToolCall& c : m.toolCalls)
            calls.append(toJson(c));
        o.insert(QStringLiteral("tool_calls"), calls);
    }
    if (m.role == ChatMessage::Role::Tool) {
        o.insert(QStringLiteral("tool_call_id"), m.toolCallId);
        o.insert(QStringLiteral("is_error"), m.isError);
    }
    return o;
}

QJsonObject toJson(const ToolSpec& t)
{
    return {{QStringLiteral("name"), t.name},
            {QStringLiteral("description"), t.description},
            {QStringLiteral("parameters"), t.parameters}};
}

QJsonObject toJson(const LlmRequest& r)
{
    QJsonArray messages;
    for (const ChatMessage& m : r.messages)
        messages.append(toJson(m));
    QJsonArray tools;
    for (const ToolSpec& t : r.tools)
        tools.append(toJson(t));
    QJsonObject o{{QStringLiteral("model"), r.model},
                  {QStringLiteral("messages"), messages},
                  {QStringLiteral("tools"), tools},
                  {QStringLiteral("stream"), r.stream}};
    if (r.temperature)
        o.insert(QStringLiteral("temperature"), *r.temperature);
    if (r.topP)
        o.insert(QStringLiteral("top_p"), *r.topP);
    if (r.maxTokens)
        o.insert(QStringLiteral("max_tokens"), *r.maxTokens);
    return o;
}

QJsonObject toJson(const Usage& u)
{
    QJsonObject o{{QStringLiteral("input_tokens"), double(u.inputTokens)},
                  {QStringLiteral("output_tokens"), double(u.outputTokens)}};
    if (u.cacheReadTokens)
        o.insert(QStringLiteral("cache_read_tokens"), double(u.cacheReadTokens));
    if (u.cacheWriteTokens)
        o.insert(QStringLiteral("cache_write_tokens"), double(u.cacheWriteTokens));
    return o;
}

QJsonObject toJson(const LlmResponse& r)
{
    QJsonArray calls;
    for (const ToolCall& c : r.toolCalls)
        calls.append(toJson(c));
    QJsonObject o{{QStringLiteral("text"), r.text},
                  {QStringLiteral("tool_calls"), calls},
                  {QStringLiteral("stop_reason"), r.stopReason},
                  {QStringLiteral("usage"), toJson(r.usage)},
                  // null, never 0, for a model without a price
                  {QStringLiteral("cost_usd"), r.costUsd ? QJsonValue(*r.costUsd) : QJsonValue()},
                  {QStringLiteral("model"), r.model},
                  {QStringLiteral("response_id"), r.responseId},
                  {QStringLiteral("attempts"), r.attempts}};
    if (!r.refusal.isEmpty())
        o.insert(QStringLiteral("refusal"), r.refusal);
    return o;
}

ToolCall toolCallFromJson(const QJsonObject& o, bool* ok)
{
    ToolCall c;
    c.id = str(o, "id", ok, true);
    c.name = str(o, "name", ok, true);
    c.arguments = str(o, "arguments", ok, false);
    return c;
}

ChatMessage chatMessageFromJson(const QJsonObject& o, bool* ok)
{
    ChatMessage m;
    const QString role = str(o, "role", ok, true);
    if (role == QLatin1String("system"))
        m.role = ChatMessage::Role::System;
    else if (role == QLatin1String("user"))
        m.role = ChatMessage::Role::User;
    else if (role == QLatin1String("assistant"))
        m.role = ChatMessage::Role::Assistant;
    else if (role == QLatin1String("tool"))
        m.role = ChatMessage::Role::Tool;
    else
        setFail(ok);
    m.text = str(o, "text", ok, false);
    for (const QJsonValue& v : o.value(QStringLiteral("tool_calls")).toArray())
        m.toolCalls.append(toolCallFromJson(v.toObject(), ok));
    if (m.role == ChatMessage::Role::Tool) {
        m.toolCallId = str(o, "tool_call_id", ok, true);
        m.isError = o.value(QStringLiteral("is_error")).toBool();
    }
    return m;
}

ToolSpec toolSpecFromJson(const QJsonObject& o, bool* ok)
{
    ToolSpec t;
    t.name = str(o, "name", ok, true);
    t.description = str(o, "description", ok, false);
    t.parameters = o.value(QStringLiteral("parameters")).toObject();
    return t;
}

LlmRequest llmRequestFromJson(const QJsonObject& o, bool* ok)
{
    LlmRequest r;
    r.model = str(o, "model", ok, false);
    if (!o.value(QStringLiteral("messages")).isArray())
        setFail(ok);
    for (const QJsonValue& v : o.value(QStringLiteral("messages")).toArray())
        r.messages.append(chatMessageFromJson(v.toObject(), ok));
    for (const QJsonValue& v : o.value(QStringLiteral("tools")).toArray())
        r.tools.append(toolSpecFromJson(v.toObject(), ok));
    r.temperature = optDouble(o, "temperature");
    r.topP = optDouble(o, "top_p");
    if (const auto mt = optDouble(o, "max_tokens"))
        r.maxTokens = int(*mt);
    r.stream = o.value(QStringLiteral("stream")).toBool(true);
    return r;
}

Usage usageFromJson(const QJsonObject& o)
{
    Usage u;
    u.inputTokens = qint64(o.value(QStringLiteral("input_tokens")).toDouble());
    u.outputTokens = qint64(o.value(QStringLiteral("output_tokens")).toDouble());
    u.cacheReadTokens = qint64(o.value(QStringLiteral("cache_read_tokens")).toDouble());
    u.cacheWriteTokens = qint64(o.value(QStringLiteral("cache_write_tokens")).toDouble());
    return u;
}

LlmResponse llmResponseFromJson(const QJsonObject& o, bool* ok)
{
    LlmResponse r;
    r.text = str(o, "text", ok, false);
    for (const QJsonValue& v : o.value(QStringLiteral("tool_calls")).toArray())
        r.toolCalls.append(toolCallFromJson(v.toObject(), ok));
    r.stopReason = str(o, "stop_reason", ok, false);
    r.refusal = str(o, "refusal", ok, false);
    r.usage = usageFromJson(o.value(QStringLiteral("usage")).toObject());
    r.costUsd = optDouble(o, "cost_usd");
    r.model = str(o, "model", ok, false);
    r.responseId = str(o, "response_id", ok, false);
    r.attempts = o.value(QStringLiteral("attempts")).toInt(1);
    return r;
}

} // namespace vivarium
