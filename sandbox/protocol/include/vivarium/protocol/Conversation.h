// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace vivarium {

/** A tool call the model asked for. `arguments` is the raw JSON text the model produced. */
struct ToolCall
{
    QString id;
    QString name;
    QString arguments;

    bool operator==(const ToolCall&) const = default;
};

/**
 * One message of a conversation, vendor-neutral. The broker translates to OpenAI chat
 * completions or Anthropic Messages.
 */
struct ChatMessage
{
    enum class Role { System, User, Assistant, Tool };
    Role role = Role::User;
    QString text;              ///< content; for Tool, the tool result text
    QList<ToolCall> toolCalls; ///< Assistant only
    QString toolCallId;        ///< Tool only: which call this answers
    bool isError = false;      ///< Tool only: the result is an error

    bool operator==(const ChatMessage&) const = default;
};

/** A tool offered to the model: name, description, JSON Schema of its arguments. */
struct ToolSpec
{
    QString name;
    QString description;
    QJsonObject parameters;

    bool operator==(const ToolSpec&) const = default;
};

/** One model call, vendor-neutral. */
struct LlmRequest
{
    QString model;
    QList<ChatMessage> messages; ///< a System message, if any, comes first
    QList<ToolSpec> tools;
    std::optional<double> temperature;
    std::optional<double> topP;
    std::optional<int> maxTokens;
    bool stream = true;

    bool operator==(const LlmRequest&) const = default;
};

/** Tokens a call used, as the vendor reported them. */
struct Usage
{
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0;

    qint64 total() const { return inputTokens + outputTokens; }
    bool operator==(const Usage&) const = default;
};

/** What came back from one model call. */
struct LlmResponse
{
    QString text;
    QList<ToolCall> toolCalls;
    /// end_turn | tool_use | max_tokens | refusal | stop_sequence | content_filter | other
    QString stopReason;
    QString refusal; ///< refusal text when the model refused (OpenAI `refusal`)
    Usage usage;
    std::optional<double> costUsd; ///< nullopt = unpriced model (never shown as $0)
    QString model;                 ///< model name the vendor reports
    QString responseId;
    int attempts = 1; ///< HTTP attempts it took (retries + 1)

    bool operator==(const LlmResponse&) const = default;
};

// JSON forms used on the broker socket and in run events. fromJson never throws: missing or
// wrongly typed fields get defaults, and `ok` (when given) is set to false.
QString roleName(ChatMessage::Role role);
QJsonObject toJson(const ToolCall& c);
QJsonObject toJson(const ChatMessage& m);
QJsonObject toJson(const ToolSpec& t);
QJsonObject toJson(const LlmRequest& r);
QJsonObject toJson(const Usage& u);
QJsonObject toJson(const LlmResponse& r);
ToolCall toolCallFromJson(const QJsonObject& o, bool* ok = nullptr);
ChatMessage chatMessageFromJson(const QJsonObject& o, bool* ok = nullptr);
ToolSpec toolSpecFromJson(const QJsonObject& o, bool* ok = nullptr);
LlmRequest llmRequestFromJson(const QJsonObject& o, bool* ok = nullptr);
Usage usageFromJson(const QJsonObject& o);
LlmResponse llmResponseFromJson(const QJsonObject& o, bool* ok = nullptr);

} // namespace vivarium
