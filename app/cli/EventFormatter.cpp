// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "EventFormatter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

namespace vivarium::cli {

namespace {

QString compact(const QJsonValue& v)
{
    if (v.isString())
        return v.toString();
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    if (v.isNull() || v.isUndefined())
        return QStringLiteral("null");
    return v.toVariant().toString();
}

QString tokens(qint64 n)
{
    return QLocale::c().toString(n);
}

} // namespace

QString EventFormatter::cost(std::optional<double> usd, bool unpriced)
{
    if (unpriced || !usd)
        return QStringLiteral("unpriced");
    return QStringLiteral("$%1").arg(*usd, 0, 'f', *usd < 0.01 ? 4 : 2);
}

QString EventFormatter::shorten(const QString& text, int max)
{
    QString one = text.simplified();
    return one.size() > max ? one.left(max - 1) + QChar(0x2026) : one;
}

QString EventFormatter::format(const RunEvent& e)
{
    if (!m_start.isValid())
        m_start = e.ts;
    const double secs = double(m_start.msecsTo(e.ts)) / 1000.0;
    const QJsonObject& d = e.data;
    const int step = d.value(QStringLiteral("step")).toInt();
    QString what;
    QString tag = e.type;

    if (e.type == QLatin1String("run.queued")) {
        what = QStringLiteral("agent %1 v%2 (%3)")
                   .arg(d.value(QStringLiteral("agent")).toString())
                   .arg(d.value(QStringLiteral("agent_version")).toInt())
                   .arg(d.value(QStringLiteral("trigger")).toString());
    } else if (e.type == QLatin1String("run.started")) {
        const QString tier = d.value(QStringLiteral("tier")).toString(QStringLiteral("none"));
        what = QStringLiteral("runner pid %1, sandbox %2")
                   .arg(d.value(QStringLiteral("runner_pid")).toInt())
                   .arg(tier == QLatin1String("none") ? QStringLiteral("none: UNSANDBOXED") : tier);
    } else if (e.type == QLatin1String("llm.request")) {
        tag = QStringLiteral("step %1").arg(step);
        what = QStringLiteral("-> %1 (%2 messages, %3 tools)")
                   .arg(d.value(QStringLiteral("model")).toString())
                   .arg(d.value(QStringLiteral("messages")).toInt())
                   .arg(d.value(QStringLiteral("tools")).toArray().size());
    } else if (e.type == QLatin1String("llm.response")) {
        tag = QStringLiteral("step %1").arg(step);
        const QJsonObject u = d.value(QStringLiteral("usage")).toObject();
        m_inputTokens += qint64(u.value(QStringLiteral("input_tokens")).toDouble());
        m_outputTokens += qint64(u.value(QStringLiteral("output_tokens")).toDouble());
        const QJsonValue c = d.value(QStringLiteral("cost_usd"));
        if (c.isDouble())
            m_cost += c.toDouble();
        else
            m_unpriced = true;
        QStringList calls;
        for (const QJsonValue& v : d.value(QStringLiteral("tool_calls")).toArray())
            calls << v.toObject().value(QStringLiteral("name")).toString();
        const QString body = calls.isEmpty() ? QStringLiteral("\"%1\"").arg(shorten(
                                                   d.value(QStringLiteral("text")).toString(), 50))
                                             : calls.join(QStringLiteral(", "));
        what = QStringLiteral("<- %1: %2 | %3 tokens total, %4")
                   .arg(d.value(QStringLiteral("stop_reason")).toString(), body,
                        tokens(m_inputTokens + m_outputTokens), cost(m_cost, m_unpriced));
    } else if (e.type == QLatin1String("tool.call")) {
        tag = QStringLiteral("tool");
        what =
            QStringLiteral("%1 %2").arg(d.value(QStringLiteral("name")).toString(),
                                        shorten(compact(d.value(QStringLiteral("arguments"))), 70));
    } else if (e.type == QLatin1String("tool.result")) {
        const bool err = d.value(QStringLiteral("is_error")).toBool();
        tag = err ? QStringLiteral("tool ERROR") : QStringLiteral("tool ok");
        what = QStringLiteral("%1: %2").arg(
            d.value(QStringLiteral("name")).toString(),
            shorten(d.value(QStringLiteral("content")).toString(), 70));
    } else if (e.type == QLatin1String("log")) {
        tag = QStringLiteral("log %1").arg(d.value(QStringLiteral("level")).toString());
        what = shorten(d.value(QStringLiteral("message")).toString(), 100);
    } else if (e.type == QLatin1String("run.output")) {
        tag = QStringLiteral("output");
        what = shorten(compact(d.value(QStringLiteral("output"))), 100);
    } else if (e.type == QLatin1String("run.finished")) {
        tag = QStringLiteral("finished");
        const QJsonObject u = d.value(QStringLiteral("usage")).toObject();
        const qint64 total = qint64(u.value(QStringLiteral("input_tokens")).toDouble() +
                                    u.value(QStringLiteral("output_tokens")).toDouble());
        const QJsonValue c = u.value(QStringLiteral("cost_usd"));
        const bool unpriced = u.value(QStringLiteral("unpriced")).toBool() || !c.isDouble();
        what = d.value(QStringLiteral("status")).toString();
        const QString reason = d.value(QStringLiteral("reason")).toString();
        if (!reason.isEmpty())
            what += QStringLiteral(" (%1)").arg(reason);
        what += QStringLiteral(" | %1 steps, %2 tokens, %3")
                    .arg(u.value(QStringLiteral("steps")).toInt())
                    .arg(tokens(total))
                    .arg(cost(c.isDouble() ? std::optional<double>(c.toDouble()) : std::nullopt,
                              unpriced));
    } else {
        what = shorten(compact(d), 100);
    }
    return QStringLiteral("[%1s] %2 %3").arg(secs, 7, 'f', 2).arg(tag, -11).arg(what);
}

} // namespace vivarium::cli
