// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AnthropicClient.h"

#include "AnthropicStreamAssembler.h"
#include "vivarium/protocol/BrokerProtocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace vivarium {

namespace {

QJsonObject inputObject(const QString& arguments)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(arguments.toUtf8(), &pe);
    return pe.error == QJsonParseError::NoError && doc.isObject() ? doc.object() : QJsonObject{};
}

QJsonObject textBlock(const QString& text)
{
    return {{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), text}};
}

} // namespace

AnthropicClient::AnthropicClient(EndpointConfig config)
    : HttpLlmClient(std::move(config))
{}

QUrl AnthropicClient::endpointUrl(const QUrl& baseUrl)
{
    QUrl url = baseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QStringLiteral("/v1/messages"));
    return url;
}

QJsonObject AnthropicClient::buildRequestBody(const LlmRequest& request)
{
    QStringList system;
    struct Turn
    {
        QString role;
        QJsonArray blocks;
    };
    QList<Turn> turns;
    for (const ChatMessage& m : request.messages) {
        if (m.role == ChatMessage::Role::System) {
            if (!m.text.isEmpty())
                system.append(m.text);
            continue;
        }
        const QString role = m.role == ChatMessage::Role::Assistant ? QStringLiteral("assistant")
                                                                    : QStringLiteral("user");
        if (turns.isEmpty() || turns.last().role != role)
            turns.append(Turn{role, {}});
        QJsonArray& blocks = turns.last().blocks;
        switch (m.role) {
        case ChatMessage::Role::System:
            break;
        case ChatMessage::Role::User:
            // Empty text blocks are rejected by the API.
            if (!m.text.isEmpty())
                blocks.append(textBlock(m.text));
            break;
        case ChatMessage::Role::Assistant:
            if (!m.text.isEmpty())
                blocks.append(textBlock(m.text));
            for (const ToolCall& c : m.toolCalls) {
                blocks.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                                          {QStringLiteral("id"), c.id},
                                          {QStringLiteral("name"), c.name},
                                          {QStringLiteral("input"), inputObject(c.arguments)}});
            }
            break;
        case ChatMessage::Role::Tool: {
            QJsonObject result{{QStringLiteral("type"), QStringLiteral("tool_result")},
                               {QStringLiteral("tool_use_id"), m.toolCallId},
                               {QStringLiteral("is_error"), m.isError}};
            if (!m.text.isEmpty())
                result.insert(QStringLiteral("content"), m.text);
            blocks.append(result);
            break;
        }
        }
    }

    QJsonArray messages;
    for (const Turn& t : turns) {
        // A lone text block goes as a plain string, as the SDKs send it.
        QJsonValue content = t.blocks;
        if (t.blocks.isEmpty())
            content = QString();
        else if (t.blocks.size() == 1 &&
                 t.blocks.first().toObject().value(QLatin1String("type")) == QLatin1String("text"))
            content = t.blocks.first().toObject().value(QLatin1String("text"));
        messages.append(
            QJsonObject{{QStringLiteral("role"), t.role}, {QStringLiteral("content"), content}});
    }

    QJsonObject body{{QStringLiteral("model"), request.model},
                     {QStringLiteral("max_tokens"), request.maxTokens.value_or(DefaultMaxTokens)},
                     {QStringLiteral("messages"), messages}};
    if (!system.isEmpty())
        body.insert(QStringLiteral("system"), system.join(QStringLiteral("\n\n")));
    if (!request.tools.isEmpty()) {
        QJsonArray tools;
        for (const ToolSpec& t : request.tools) {
            QJsonObject schema = t.parameters;
            if (schema.isEmpty())
                schema = {{QStringLiteral("type"), QStringLiteral("object")},
                          {QStringLiteral("properties"), QJsonObject{}}};
            QJsonObject tool{{QStringLiteral("name"), t.name},
                             {QStringLiteral("input_schema"), schema}};
            if (!t.description.isEmpty())
                tool.insert(QStringLiteral("description"), t.description);
            tools.append(tool);
        }
        body.insert(QStringLiteral("tools"), tools);
    }
    if (request.temperature)
        body.insert(QStringLiteral("temperature"), *request.temperature);
    if (request.topP)
        body.insert(QStringLiteral("top_p"), *request.topP);
    body.insert(QStringLiteral("stream"), request.stream);
    return body;
}

std::expected<LlmResponse, LlmError> AnthropicClient::parseResponse(const QJsonObject& message)
{
    if (message.value(QLatin1String("type")) == QLatin1String("error"))
        return std::unexpected(AnthropicStreamAssembler::vendorError(
            message.value(QLatin1String("error")).toObject(), 200));
    if (!message.value(QLatin1String("content")).isArray()) {
        LlmError e;
        e.kind = QString::fromLatin1(protocol::ErrorKind::Protocol);
        e.message = QStringLiteral("message without content");
        return std::unexpected(e);
    }
    LlmResponse r;
    r.responseId = message.value(QLatin1String("id")).toString();
    r.model = message.value(QLatin1String("model")).toString();
    const QJsonArray content = message.value(QLatin1String("content")).toArray();
    for (const QJsonValue& v : content) {
        const QJsonObject block = v.toObject();
        const QString type = block.value(QLatin1String("type")).toString();
        if (type == QLatin1String("text")) {
            r.text.append(block.value(QLatin1String("text")).toString());
        } else if (type == QLatin1String("tool_use")) {
            ToolCall c;
            c.id = block.value(QLatin1String("id")).toString();
            c.name = block.value(QLatin1String("name")).toString();
            const QJsonValue input = block.value(QLatin1String("input"));
            if (input.isObject())
                c.arguments = QString::fromUtf8(
                    QJsonDocument(input.toObject()).toJson(QJsonDocument::Compact));
            else if (input.isArray())
                c.arguments = QString::fromUtf8(
                    QJsonDocument(input.toArray()).toJson(QJsonDocument::Compact));
            r.toolCalls.append(c);
        }
    }
    const QString stop = message.value(QLatin1String("stop_reason")).toString();
    r.stopReason =
        stop.isEmpty() ? QStringLiteral("other") : AnthropicStreamAssembler::stopReason(stop);
    AnthropicStreamAssembler::mergeUsage(message.value(QLatin1String("usage")).toObject(), r.usage);
    return r;
}

QList<QByteArray> AnthropicClient::requestHeaders(bool stream) const
{
    QList<QByteArray> headers{QByteArrayLiteral("Content-Type: application/json"),
                              stream ? QByteArrayLiteral("Accept: text/event-stream")
                                     : QByteArrayLiteral("Accept: application/json"),
                              QByteArrayLiteral("anthropic-version: ") + ApiVersion,
                              QByteArrayLiteral("User-Agent: vivarium/" VIVARIUM_VERSION)};
    if (!config().apiKey.isEmpty())
        headers.append(QByteArrayLiteral("x-api-key: ") + config().apiKey);
    return headers;
}

std::unique_ptr<StreamAssembler> AnthropicClient::makeAssembler() const
{
    return std::make_unique<AnthropicStreamAssembler>();
}

std::expected<LlmResponse, LlmError>
AnthropicClient::parseResponseBody(const QByteArray& body) const
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        LlmError e;
        e.kind = QString::fromLatin1(protocol::ErrorKind::Protocol);
        e.message = QStringLiteral("malformed message: %1").arg(pe.errorString());
        return std::unexpected(e);
    }
    return parseResponse(doc.object());
}

} // namespace vivarium
