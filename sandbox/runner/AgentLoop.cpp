// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentLoop.h"

#include "BrokerConnection.h"
#include "JsonText.h"
#include "Prompt.h"
#include "ProviderTools.h"
#include "ToolBox.h"

#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/protocol/JsonSchema.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace vivarium::runner {

namespace {

constexpr int MaxRefusalChars = 200;
constexpr int MaxSchemaProblems = 20;

const char* const LevelInfo = "info";
const char* const LevelWarning = "warning";
const char* const LevelError = "error";

/**
 * The JSON value in a final answer: the whole text, or the content of a fenced block
 * (```json ... ```), which models like to add even when told not to.
 */
std::optional<QJsonValue> extractJson(const QString& text, QString* error)
{
    const QString trimmed = text.trimmed();
    if (const auto whole = parseJson(trimmed.toUtf8(), error))
        return whole;
    static const QRegularExpression fence(QStringLiteral("```[A-Za-z0-9_-]*[ \\t]*\\r?\\n(.*?)```"),
                                          QRegularExpression::DotMatchesEverythingOption);
    const QRegularExpressionMatch m = fence.match(trimmed);
    if (m.hasMatch()) {
        if (const auto fenced = parseJson(m.captured(1).trimmed().toUtf8(), error))
            return fenced;
    }
    return std::nullopt;
}

QString ordinal(int n)
{
    switch (n) {
    case 1:
        return QStringLiteral("1st");
    case 2:
        return QStringLiteral("2nd");
    case 3:
        return QStringLiteral("3rd");
    default:
        return QString::number(n) + QStringLiteral("th");
    }
}

} // namespace

AgentLoop::AgentLoop(BrokerConnection& broker)
    : m_broker(broker)
{}

AgentLoop::~AgentLoop() = default;

int AgentLoop::fatal(const QString& why)
{
    m_error = why;
    return 1;
}

void AgentLoop::append(const ChatMessage& message)
{
    m_conversation.append(QJsonDocument(toJson(message)).toJson(QJsonDocument::Compact));
}

bool AgentLoop::log(const char* level, const QString& message)
{
    return m_broker.sendEvent(
        QStringLiteral("log"),
        {{QStringLiteral("level"), QLatin1String(level)}, {QStringLiteral("message"), message}});
}

int AgentLoop::exec()
{
    const auto hello = m_broker.request({{QStringLiteral("type"), QStringLiteral("hello")},
                                         {QStringLiteral("protocol"), protocol::Version}});
    if (!hello)
        return fatal(m_broker.error());
    if (!hello->value(QStringLiteral("ok")).toBool())
        return fatal(QStringLiteral("the broker refused hello: ") +
                     hello->value(QStringLiteral("error"))
                         .toObject()
                         .value(QStringLiteral("message"))
                         .toString());
    const auto spec = RunSpec::fromJson(hello->value(QStringLiteral("run")).toObject());
    if (!spec)
        return fatal(QStringLiteral("the broker sent an unusable run: ") + spec.error());
    m_spec = *spec;

    openDirectories();
    if (!m_broker.error().isEmpty())
        return fatal(m_broker.error());
    m_tools = std::make_unique<ToolBox>(m_workspace.isOpen() ? &m_workspace : nullptr,
                                        m_memory.isOpen() ? &m_memory : nullptr);
    addProviderTools(*m_tools, m_broker, m_spec);

    ChatMessage system;
    system.role = ChatMessage::Role::System;
    system.text = systemPrompt(m_spec, m_tools->names(), m_workspace.isOpen(),
                               m_memory.isOpen() ? &m_memory : nullptr);
    ChatMessage input;
    input.role = ChatMessage::Role::User;
    input.text = firstUserMessage(m_spec.input);
    append(system);
    append(input);

    const auto outcome = loop();
    if (!outcome)
        return fatal(m_broker.error());

    if (outcome->succeeded && !m_broker.sendEvent(QStringLiteral("run.output"),
                                                  {{QStringLiteral("output"), outcome->output}}))
        return fatal(m_broker.error());
    const auto ack = m_broker.request(
        {{QStringLiteral("type"), QStringLiteral("finish")},
         {QStringLiteral("status"),
          outcome->succeeded ? QStringLiteral("succeeded") : QStringLiteral("failed")},
         {QStringLiteral("reason"), outcome->reason},
         {QStringLiteral("output"), outcome->succeeded ? outcome->output : QJsonValue()}});
    if (!ack)
        return fatal(m_broker.error());
    if (!ack->value(QStringLiteral("ok")).toBool())
        return fatal(QStringLiteral("the broker did not accept finish: ") +
                     ack->value(QStringLiteral("error"))
                         .toObject()
                         .value(QStringLiteral("message"))
                         .toString());
    return 0;
}

void AgentLoop::openDirectories()
{
    if (m_spec.filesTool) {
        // The supervisor starts us in the workspace; the path it sends is the same place, but
        // may only make sense outside the sandbox.
        auto opened = m_spec.workspace.isEmpty()
                          ? m_workspace.open(QStringLiteral("."), QStringLiteral("workspace"))
                          : m_workspace.open(m_spec.workspace, QStringLiteral("workspace"));
        if (!opened && !m_spec.workspace.isEmpty())
            opened = m_workspace.open(QStringLiteral("."), QStringLiteral("workspace"));
        if (!opened)
            log(LevelWarning, opened.error() + QStringLiteral("; the file tools are not offered"));
    }
    if (m_spec.memoryTool && !m_spec.memoryDir.isEmpty()) {
        QDir().mkpath(m_spec.memoryDir);
        const auto opened = m_memory.open(m_spec.memoryDir, QStringLiteral("memory directory"));
        if (!opened)
            log(LevelWarning,
                opened.error() + QStringLiteral("; the memory tools are not offered"));
    }
    if (m_spec.shellTool)
        log(LevelWarning, QStringLiteral("the shell tool is enabled for this agent, but this "
                                         "runner does not provide it yet; it is not offered"));
}

std::optional<AgentLoop::Outcome> AgentLoop::loop()
{
    int step = 0;
    qint64 tokens = 0;
    double cost = 0;
    bool unpricedWarned = false;
    for (;;) {
        if (step >= m_spec.maxSteps)
            return Outcome{false, QStringLiteral("max_steps"), {}};
        ++step;

        LlmRequest request;
        request.model = m_spec.model;
        // messages stays empty: the conversation is spliced into its place on the wire.
        request.tools = m_tools->specs();
        request.temperature = m_spec.temperature;
        request.topP = m_spec.topP;
        request.maxTokens = m_spec.maxTokensPerCall;
        request.stream = true;
        const auto result = m_broker.request({{QStringLiteral("type"), QStringLiteral("llm")},
                                              {QStringLiteral("request"), toJson(request)}},
                                             QByteArrayLiteral("\"messages\":[]"), m_conversation);
        if (!result)
            return std::nullopt;
        if (!result->value(QStringLiteral("ok")).toBool()) {
            const QJsonObject e = result->value(QStringLiteral("error")).toObject();
            return Outcome{false,
                           QStringLiteral("llm_error: %1: %2")
                               .arg(e.value(QStringLiteral("kind")).toString(),
                                    e.value(QStringLiteral("message")).toString()),
                           {}};
        }
        LlmResponse response =
            llmResponseFromJson(result->value(QStringLiteral("response")).toObject());

        tokens += response.usage.total();
        if (response.costUsd) {
            cost += *response.costUsd;
        } else if (m_spec.maxCostUsd && !unpricedWarned) {
            unpricedWarned = true;
            if (!log(LevelWarning,
                     QStringLiteral("model %1 has no known price (cost_usd is null), so the cost "
                                    "budget of %2 USD cannot be enforced")
                         .arg(response.model.isEmpty() ? m_spec.model : response.model)
                         .arg(*m_spec.maxCostUsd)))
                return std::nullopt;
        }

        // Every call needs an id its result can answer; a vendor that omits one gets ours.
        for (qsizetype i = 0; i < response.toolCalls.size(); ++i) {
            if (response.toolCalls[i].id.isEmpty())
                response.toolCalls[i].id = QStringLiteral("call_%1_%2").arg(step).arg(i + 1);
        }
        ChatMessage assistant;
        assistant.role = ChatMessage::Role::Assistant;
        assistant.text = response.text;
        assistant.toolCalls = response.toolCalls;
        append(assistant);

        if (m_spec.maxTokens && tokens > *m_spec.maxTokens)
            return Outcome{false, QStringLiteral("token_budget"), {}};
        if (m_spec.maxCostUsd && cost > *m_spec.maxCostUsd)
            return Outcome{false, QStringLiteral("cost_budget"), {}};

        bool broken = false;
        if (response.toolCalls.isEmpty()) {
            auto outcome = finalAnswer(response, &broken);
            if (broken)
                return std::nullopt;
            if (outcome)
                return outcome;
            continue; // a repair turn was asked for
        }
        auto stop = runToolCalls(response, step, &broken);
        if (broken)
            return std::nullopt;
        if (stop)
            return stop;
    }
}

std::optional<AgentLoop::Outcome> AgentLoop::finalAnswer(const LlmResponse& response, bool* broken)
{
    const bool refused = response.stopReason == QLatin1String("refusal") ||
                         !response.refusal.isEmpty() ||
                         (response.stopReason == QLatin1String("content_filter") &&
                          response.text.trimmed().isEmpty());
    if (refused) {
        QString why = response.refusal.isEmpty() ? response.text : response.refusal;
        why = why.simplified();
        if (why.isEmpty())
            why = response.stopReason == QLatin1String("content_filter")
                      ? QStringLiteral("(blocked by the vendor's content filter)")
                      : QStringLiteral("(no reason given)");
        return Outcome{false, QStringLiteral("model_refused: ") + why.left(MaxRefusalChars), {}};
    }
    const bool cutOff = response.stopReason == QLatin1String("max_tokens");

    if (!m_spec.hasOutputSchema()) {
        if (cutOff && !log(LevelWarning, QStringLiteral("the final answer was cut off at the "
                                                        "model's max_tokens limit; it is "
                                                        "accepted as it is"))) {
            *broken = true;
            return std::nullopt;
        }
        return Outcome{true, QString(), response.text};
    }

    QStringList problems;
    QString parseError;
    const auto value = extractJson(response.text, &parseError);
    if (!value)
        problems.append(QStringLiteral("the answer is not valid JSON (%1)").arg(parseError) +
                        (cutOff ? QStringLiteral("; it was cut off at the max_tokens limit, so "
                                                 "keep it shorter")
                                : QString()));
    else
        problems = JsonSchema::validate(m_spec.outputSchema, *value, MaxSchemaProblems);
    if (problems.isEmpty())
        return Outcome{true, QString(), *value};

    if (!m_repairUsed) {
        m_repairUsed = true;
        ChatMessage repair;
        repair.role = ChatMessage::Role::User;
        repair.text = QStringLiteral("Your final answer does not conform to the required output "
                                     "JSON Schema:\n- ") +
                      problems.join(QStringLiteral("\n- ")) +
                      QStringLiteral("\nReply with only the corrected JSON value, no other text.");
        append(repair);
        if (!log(LevelInfo, QStringLiteral("the final answer does not match the output schema; "
                                           "asking the model once to correct it"))) {
            *broken = true;
            return std::nullopt;
        }
        return std::nullopt;
    }
    if (!log(LevelError, QStringLiteral("the final answer does not match the output schema after "
                                        "a repair turn: ") +
                             problems.join(QStringLiteral("; ")))) {
        *broken = true;
        return std::nullopt;
    }
    return Outcome{false, QStringLiteral("output_invalid"), {}};
}

std::optional<AgentLoop::Outcome> AgentLoop::runToolCalls(const LlmResponse& response, int step,
                                                          bool* broken)
{
    const bool cutOff = response.stopReason == QLatin1String("max_tokens");
    for (const ToolCall& call : response.toolCalls) {
        const auto parsed = parseJson(call.arguments.toUtf8());
        const QJsonValue shownArgs = parsed ? *parsed : QJsonValue(call.arguments);
        // Canonical JSON (sorted keys, compact) so whitespace or key order does not hide a
        // repeat; unparsable arguments compare as raw text.
        // Only a digest is kept: arguments can be megabytes (file_write content).
        const QByteArray key =
            QCryptographicHash::hash(QString(call.name + QLatin1Char('\n') +
                                             (parsed ? compactJson(*parsed) : call.arguments))
                                         .toUtf8(),
                                     QCryptographicHash::Sha256);
        const int count = ++m_callCounts[key];
        if (count >= RepeatStopAt) {
            if (!log(LevelError,
                     QStringLiteral("the model made the same call %1 times, stopping: "
                                    "%2 %3")
                         .arg(count)
                         .arg(call.name, truncateWithNote(compactJson(shownArgs), 1024)))) {
                *broken = true;
                return std::nullopt;
            }
            return Outcome{false, QStringLiteral("no_progress"), {}};
        }

        if (!m_broker.sendEvent(QStringLiteral("tool.call"),
                                {{QStringLiteral("step"), step},
                                 {QStringLiteral("call_id"), call.id},
                                 {QStringLiteral("name"), call.name},
                                 {QStringLiteral("arguments"), shownArgs}})) {
            *broken = true;
            return std::nullopt;
        }
        QElapsedTimer timer;
        timer.start();
        ToolResult result = m_tools->invoke(call, cutOff);
        const qint64 durationMs = timer.elapsed();
        if (count >= RepeatWarnAt)
            result.content +=
                QStringLiteral("\n\n[warning: this is the %1 time you made exactly this call "
                               "(%2 with the same arguments). Repeating it gives the same "
                               "result: change the arguments or take another approach. The "
                               "run is stopped at the %3 identical call.]")
                    .arg(ordinal(count), call.name, ordinal(RepeatStopAt));

        if (!m_broker.sendEvent(QStringLiteral("tool.result"),
                                {{QStringLiteral("step"), step},
                                 {QStringLiteral("call_id"), call.id},
                                 {QStringLiteral("name"), call.name},
                                 {QStringLiteral("is_error"), result.isError},
                                 {QStringLiteral("content"),
                                  truncateWithNote(result.content, MaxEventContentBytes)},
                                 {QStringLiteral("duration_ms"), durationMs}})) {
            *broken = true;
            return std::nullopt;
        }
        ChatMessage message;
        message.role = ChatMessage::Role::Tool;
        message.toolCallId = call.id;
        message.text = result.content;
        message.isError = result.isError;
        append(message);
    }
    return std::nullopt;
}

} // namespace vivarium::runner
