// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Representations.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace vivarium::server::repr {

QJsonValue time(const QDateTime& t)
{
    if (!t.isValid())
        return QJsonValue::Null;
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QJsonValue textOrNull(const QString& s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

QJsonObject run(const RunRecord& r)
{
    const QString self = QStringLiteral("/v1/runs/") + r.id;
    QJsonObject usage{{QStringLiteral("steps"), r.usage.steps},
                      {QStringLiteral("input_tokens"), double(r.usage.inputTokens)},
                      {QStringLiteral("output_tokens"), double(r.usage.outputTokens)},
                      {QStringLiteral("cost_usd"),
                       r.usage.costUsd ? QJsonValue(*r.usage.costUsd) : QJsonValue::Null},
                      {QStringLiteral("unpriced"), r.usage.unpriced}};
    return QJsonObject{
        {QStringLiteral("id"), r.id},
        {QStringLiteral("agent"), r.agentId},
        {QStringLiteral("agent_version"), r.agentVersion},
        {QStringLiteral("status"), runStatusName(r.status)},
        {QStringLiteral("terminal"), isTerminal(r.status)},
        {QStringLiteral("reason"), textOrNull(r.reason)},
        {QStringLiteral("trigger"), r.trigger},
        {QStringLiteral("input"), r.input.isUndefined() ? QJsonValue::Null : r.input},
        {QStringLiteral("output"), r.output.isUndefined() ? QJsonValue::Null : r.output},
        {QStringLiteral("created_at"), time(r.createdAt)},
        {QStringLiteral("started_at"), time(r.startedAt)},
        {QStringLiteral("finished_at"), time(r.finishedAt)},
        {QStringLiteral("scheduled_for"), time(r.scheduledFor)},
        {QStringLiteral("usage"), usage},
        {QStringLiteral("links"),
         QJsonObject{
             {QStringLiteral("self"), self},
             {QStringLiteral("events"), QString(self + QStringLiteral("/events"))},
             {QStringLiteral("cancel"), QString(self + QStringLiteral("/cancel"))},
             {QStringLiteral("agent"), QString(QStringLiteral("/v1/agents/") + r.agentId)}}},
    };
}

QJsonObject event(const RunEvent& e)
{
    return QJsonObject{{QStringLiteral("seq"), double(e.seq)},
                       {QStringLiteral("type"), e.type},
                       {QStringLiteral("ts"), time(e.ts)},
                       {QStringLiteral("data"), e.data}};
}

QJsonObject apiKey(const Store::ApiKeyRecord& k)
{
    return QJsonObject{{QStringLiteral("id"), k.id},
                       {QStringLiteral("name"), k.name},
                       {QStringLiteral("prefix"), QString(QStringLiteral("viv_") + k.prefix)},
                       {QStringLiteral("scopes"), QJsonArray::fromStringList(k.scopes)},
                       {QStringLiteral("created_at"), time(k.createdAt)},
                       {QStringLiteral("last_used_at"), time(k.lastUsedAt)},
                       {QStringLiteral("revoked_at"), time(k.revokedAt)},
                       {QStringLiteral("revoked"), k.isRevoked()}};
}

QByteArray compact(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace vivarium::server::repr
