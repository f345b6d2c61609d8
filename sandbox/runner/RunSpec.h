// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <expected>
#include <optional>

namespace vivarium::runner {

/**
 * What the broker's answer to `hello` tells the runner: the run and the parts of the canonical
 * agent JSON (AgentDefinition::toJson) the loop uses. Parsed here rather than with
 * AgentLoader so the runner does not link vivarium_core.
 */
struct RunSpec
{
    QString runId;
    QString agentId;
    QString agentName;
    QString prompt;

    QString model;
    std::optional<double> temperature;
    std::optional<double> topP;
    std::optional<int> maxTokensPerCall;

    bool memoryTool = true;
    bool filesTool = true;
    bool shellTool = false;
    bool hasProviders = false;
    QJsonArray providers; ///< the agent's grants: {provider, connection?, authorized_uris?, ...}
    /**
     * The granted manifest operations, one tool each (the broker's `run.operations`): {name,
     * provider, operation, connections: [..], description, parameters, writes}.
     */
    QJsonArray operations;

    int maxSteps = 25;
    std::optional<qint64> maxTokens;
    std::optional<double> maxCostUsd;
    QJsonValue outputSchema{QJsonValue::Undefined}; ///< Undefined when the agent has none

    QJsonValue input{QJsonValue::Undefined};
    QString workspace;
    QString memoryDir; ///< empty when the run has no memory directory

    bool hasOutputSchema() const { return !outputSchema.isUndefined(); }

    /** From the `run` object of the hello result; the reason when it is unusable. */
    static std::expected<RunSpec, QString> fromJson(const QJsonObject& run);
};

} // namespace vivarium::runner
