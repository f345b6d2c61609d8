// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/AgentDefinition.h"

#include <QJsonArray>

namespace vivarium {

namespace {

QJsonArray toArray(const QStringList& list)
{
    QJsonArray out;
    for (const QString& s : list)
        out.append(s);
    return out;
}

} // namespace

// Canonical form: required fields, every policy field (tools, limits, sandbox, approval) always
// spelled out so the stored version pins what was in force, optional values only when set.
// QJsonObject keeps keys sorted, so the serialized bytes are deterministic for hashing.
QJsonObject AgentDefinition::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), id);
    o.insert(QStringLiteral("name"), name);
    if (!description.isEmpty())
        o.insert(QStringLiteral("description"), description);
    if (!version.isEmpty())
        o.insert(QStringLiteral("version"), version);
    o.insert(QStringLiteral("prompt"), prompt);

    QJsonObject m;
    m.insert(QStringLiteral("endpoint"), model.endpoint);
    m.insert(QStringLiteral("name"), model.name);
    if (model.temperature)
        m.insert(QStringLiteral("temperature"), *model.temperature);
    if (model.topP)
        m.insert(QStringLiteral("top_p"), *model.topP);
    if (model.maxTokens)
        m.insert(QStringLiteral("max_tokens"), *model.maxTokens);
    o.insert(QStringLiteral("model"), m);

    o.insert(QStringLiteral("tools"), QJsonObject{{QStringLiteral("memory"), tools.memory},
                                                  {QStringLiteral("files"), tools.files},
                                                  {QStringLiteral("shell"), tools.shell}});

    if (!providers.isEmpty()) {
        QJsonArray list;
        for (const ProviderGrant& p : providers) {
            QJsonObject g;
            g.insert(QStringLiteral("provider"), p.provider);
            if (!p.connection.isEmpty())
                g.insert(QStringLiteral("connection"), p.connection);
            g.insert(QStringLiteral("operations"), toArray(p.operations));
            g.insert(QStringLiteral("authorized_uris"), toArray(p.authorizedUris));
            list.append(g);
        }
        o.insert(QStringLiteral("providers"), list);
    }

    QJsonObject l;
    l.insert(QStringLiteral("max_steps"), limits.maxSteps);
    l.insert(QStringLiteral("timeout_s"), limits.timeoutS);
    if (limits.maxTokens)
        l.insert(QStringLiteral("max_tokens"), *limits.maxTokens);
    if (limits.maxCostUsd)
        l.insert(QStringLiteral("max_cost_usd"), *limits.maxCostUsd);
    o.insert(QStringLiteral("limits"), l);

    // A default-constructed QJsonValue is null, not undefined: treat both as "no schema".
    if (!outputSchema.isUndefined() && !outputSchema.isNull())
        o.insert(QStringLiteral("output_schema"), outputSchema);

    if (!schedules.isEmpty()) {
        QJsonArray list;
        for (const ScheduleSpec& s : schedules) {
            QJsonObject j;
            j.insert(QStringLiteral("cron"), s.cron);
            if (!s.tz.isEmpty())
                j.insert(QStringLiteral("tz"), s.tz);
            j.insert(QStringLiteral("overlap"), s.overlap);
            j.insert(QStringLiteral("misfire"), s.misfire);
            if (s.misfireMaxAgeS)
                j.insert(QStringLiteral("misfire_max_age"), *s.misfireMaxAgeS);
            if (s.jitterS)
                j.insert(QStringLiteral("jitter"), *s.jitterS);
            j.insert(QStringLiteral("enabled"), s.enabled);
            list.append(j);
        }
        o.insert(QStringLiteral("schedules"), list);
    }

    o.insert(QStringLiteral("sandbox"), QJsonObject{{QStringLiteral("tier"), sandbox.tier},
                                                    {QStringLiteral("min_tier"), sandbox.minTier}});
    o.insert(QStringLiteral("approval"), QJsonObject{{QStringLiteral("mode"), approval.mode}});
    return o;
}

QString Diagnostic::toString() const
{
    if (pointer.isEmpty())
        return file + QStringLiteral(": ") + message;
    return file + QStringLiteral(": ") + pointer + QStringLiteral(": ") + message;
}

} // namespace vivarium
