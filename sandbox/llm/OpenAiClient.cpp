// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "OpenAiClient.h"

#include "OpenAiStreamAssembler.h"
#include "vivarium/protocol/BrokerProtocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace vivarium {

namespace {

QJsonObject toolSchema(const QJsonObject& parameters)
{
    // An empty schema is not valid for function parameters; "no arguments" is an empty object.
    if (parameters.isEmpty())
        return {{QStringLiteral("type"), QStringLiteral("object")},
                {QStringLiteral("properties"), QJsonObject{}}};
    return parameters;
}

bool usesMaxCompletionTokens(const QString& model)
{
    for (const char* prefix : {"o1", "o3", "o4", "gpt-5"}) {
        if (model.startsWith(QLatin1String(prefix)))
            return true;
    }
    return false;
}

} // namespace

OpenAiClient::OpenAiClient(EndpointConfig config)
    : HttpLlmClient(std::move(config))
{}

QUrl OpenAiClient::endpointUrl(const QUrl& baseUrl)
{
    QUrl url = baseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QStringLiteral("/chat/completions"));
    return url;
}

QJsonObject OpenAiClient::buildRequestBody(const LlmRequest& request)
{
    QJsonArray messages;
    for (const ChatMessage& m : request.messages) {
        QJsonObject o{{QStringLiteral("role"), roleName(m.role)}};
        switch (m.role) {
        case ChatMessage::Role::System:
        case ChatMessage::Role::User:
            o.insert(QStringLiteral("content"), m.text);
            break;
        case ChatMessage::Role::Assistant: {
            // content may be null when the turn is only tool calls.
            o.insert(QStringLiteral("content"), m.text.isEmpty() && !m.toolCalls.isEmpty()
                                                    ? QJsonValue(QJsonValue::Null)
                                                    : QJsonValue(m.text));
            if (!m.toolCalls.isEmpty()) {
                QJsonArray calls;
                for (const ToolCall& c : m.toolCalls) {
                    calls.append(
                        QJsonObject{{QStringLiteral("id"), c.id},
                                    {QStringLiteral("type"), QStringLiteral("function")},
                                    {QStringLiteral("function"),
                                     QJsonObject{{QStringLiteral("name"), c.name},
                                                 {QStringLiteral("arguments"), c.arguments}}}});
                }
                o.insert(QStringLiteral("tool_calls"), calls);
            }
            break;
        }
        case ChatMessage::Role::Tool:
            o.insert(QStringLiteral("tool_call_id"), m.toolCallId);
            o.insert(QStringLiteral("content"),
                     m.isError ? QStringLiteral("ERROR: ") + m.text : m.text);
            break;
        }
        messages.append(o);
    }

    QJsonObject body{{QStringLiteral("model"), request.model},
                     {QStringLiteral("messages"), messages}};
    if (!request.tools.isEmpty()) {
        QJsonArray tools;
        for (const ToolSpec& t : request.tools) {
            tools.append(QJsonObject{
                {QStringLiteral("type"), QStringLiteral("function")},
                {QStringLiteral("function"),
                 QJsonObject{{QStringLiteral("name"), t.name},
                             {QStringLiteral("description"), t.description},
                             {QStringLiteral("parameters"), toolSchema(t.parameters)}}}});
        }
        body.insert(QStringLiteral("tools"), tools);
    }
    if (request.temperature)
        body.insert(QStringLiteral("temperature"), *request.temperature);
    if (request.topP)
        body.insert(QStringLiteral("top_p"), *request.topP);
    if (request.maxTokens) {
        body.insert(usesMaxCompletionTokens(request.model) ? QStringLiteral("max_completion_tokens")
                                                           : QStringLiteral("max_tokens"),
                    *request.maxTokens);
    }
    body.insert(QStringLiteral("stream"), request.stream);
    if (request.stream) {
        body.insert(QStringLiteral("stream_options"),
                    QJsonObject{{QStringLiteral("include_usage"), true}});
    }
    return body;
}

std::expected<LlmResponse, LlmError> OpenAiClient::parseResponse(const QJsonObject& completion)
{
    if (completion.value(QLatin1String("error")).isObject())
        return std::unexpected(OpenAiStreamAssembler::vendorError(
            completion.value(QLatin1String("error")).toObject(), 200));
    const QJsonArray choices = completion.value(QLatin1String("choices")).toArray();
    if (choices.isEmpty() || !choices.first().isObject()) {
        LlmError e;
        e.kind = QString::fromLatin1(protocol::ErrorKind::Protocol);
        e.message = QStringLiteral("chat.completion without choices");
        return std::unexpected(e);
    }
    const QJsonObject choice = choices.first().toObject();
    const QJsonObject message = choice.value(QLatin1String("message")).toObject();

    LlmResponse r;
    r.responseId = completion.value(QLatin1String("id")).toString();
    r.model = completion.value(QLatin1String("model")).toString();
    r.text = message.value(QLatin1String("content")).toString();
    r.refusal = message.value(QLatin1String("refusal")).toString();
    r.usage = OpenAiStreamAssembler::usage(completion.value(QLatin1String("usage")).toObject());
    const QJsonArray calls = message.value(QLatin1String("tool_calls")).toArray();
    for (const QJsonValue& v : calls) {
        const QJsonObject tc = v.toObject();
        const QJsonObject fn = tc.value(QLatin1String("function")).toObject();
        const QJsonObject custom = tc.value(QLatin1String("custom")).toObject();
        ToolCall c;
        c.id = tc.value(QLatin1String("id")).toString();
        if (!fn.isEmpty()) {
            c.name = fn.value(QLatin1String("name")).toString();
            c.arguments = fn.value(QLatin1String("arguments")).toString();
        } else {
            c.name = custom.value(QLatin1String("name")).toString();
            c.arguments = custom.value(QLatin1String("input")).toString();
        }
        r.toolCalls.append(c);
    }
    r.stopReason =
        OpenAiStreamAssembler::stopReason(choice.value(QLatin1String("finish_reason")).toString(),
                                          !r.toolCalls.isEmpty(), !r.refusal.isEmpty());
    return r;
}

QList<QByteArray> OpenAiClient::requestHeaders(bool stream) const
{
    QList<QByteArray> headers{QByteArrayLiteral("Content-Type: application/json"),
                              stream ? QByteArrayLiteral("Accept: text/event-stream")
                                     : QByteArrayLiteral("Accept: application/json"),
                              QByteArrayLiteral("User-Agent: vivarium/" VIVARIUM_VERSION)};
    if (!config().apiKey.isEmpty())
        headers.append(QByteArrayLiteral("Authorization: Bearer ") + config().apiKey);
    return headers;
}

std::unique_ptr<StreamAssembler> OpenAiClient::makeAssembler() const
{
    return std::make_unique<OpenAiStreamAssembler>();
}

std::expected<LlmResponse, LlmError> OpenAiClient::parseResponseBody(const QByteArray& body) const
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        LlmError e;
        e.kind = QString::fromLatin1(protocol::ErrorKind::Protocol);
        e.message = QStringLiteral("malformed chat.completion: %1").arg(pe.errorString());
        return std::unexpected(e);
    }
    return parseResponse(doc.object());
}

} // namespace vivarium
