// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunSpec.h"

#include <QJsonArray>

namespace vivarium::runner {

namespace {

std::optional<double> optNumber(const QJsonObject& o, const char* key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

} // namespace

std::expected<RunSpec, QString> RunSpec::fromJson(const QJsonObject& run)
{
    RunSpec s;
    const QJsonValue agentValue = run.value(QStringLiteral("agent"));
    if (!agentValue.isObject())
        return std::unexpected(QStringLiteral("run.agent is not an object"));
    const QJsonObject agent = agentValue.toObject();

    s.runId = run.value(QStringLiteral("id")).toString();
    s.agentId = agent.value(QStringLiteral("id")).toString();
    s.agentName = agent.value(QStringLiteral("name")).toString();
    if (!agent.value(QStringLiteral("prompt")).isString())
        return std::unexpected(QStringLiteral("run.agent.prompt is not a string"));
    s.prompt = agent.value(QStringLiteral("prompt")).toString();

    const QJsonObject model = agent.value(QStringLiteral("model")).toObject();
    if (!model.value(QStringLiteral("name")).isString())
        return std::unexpected(QStringLiteral("run.agent.model.name is not a string"));
    s.model = model.value(QStringLiteral("name")).toString();
    s.temperature = optNumber(model, "temperature");
    s.topP = optNumber(model, "top_p");
    if (const auto mt = optNumber(model, "max_tokens"))
        s.maxTokensPerCall = int(*mt);

    // Absent switches keep AgentDefinition's defaults.
    const QJsonObject tools = agent.value(QStringLiteral("tools")).toObject();
    s.memoryTool = tools.value(QStringLiteral("memory")).toBool(true);
    s.filesTool = tools.value(QStringLiteral("files")).toBool(true);
    s.shellTool = tools.value(QStringLiteral("shell")).toBool(false);
    s.providers = agent.value(QStringLiteral("providers")).toArray();
    s.hasProviders = !s.providers.isEmpty();
    const QJsonValue operations = run.value(QStringLiteral("operations"));
    if (!operations.isUndefined() && !operations.isNull() && !operations.isArray())
        return std::unexpected(QStringLiteral("run.operations is not an array"));
    for (const QJsonValue& op : operations.toArray()) {
        const QJsonObject o = op.toObject();
        if (!op.isObject() || !o.value(QStringLiteral("name")).isString() ||
            !o.value(QStringLiteral("provider")).isString() ||
            !o.value(QStringLiteral("operation")).isString() ||
            !o.value(QStringLiteral("parameters")).isObject())
            return std::unexpected(QStringLiteral("run.operations holds a malformed operation"));
        s.operations.append(o);
    }

    const QJsonObject limits = agent.value(QStringLiteral("limits")).toObject();
    if (const auto ms = optNumber(limits, "max_steps"))
        s.maxSteps = int(*ms);
    if (const auto mt = optNumber(limits, "max_tokens"))
        s.maxTokens = qint64(*mt);
    s.maxCostUsd = optNumber(limits, "max_cost_usd");

    const QJsonValue schema = agent.value(QStringLiteral("output_schema"));
    if (schema.isObject() || schema.isBool())
        s.outputSchema = schema;

    s.input = run.value(QStringLiteral("input"));
    s.workspace = run.value(QStringLiteral("workspace")).toString();
    s.memoryDir = run.value(QStringLiteral("memory_dir")).toString();
    return s;
}

} // namespace vivarium::runner
