// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium runs list|show
#include "Cli.h"
#include "EventFormatter.h"
#include "TextTable.h"

#include "vivarium/core/EngineLock.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace vivarium::cli {

namespace {

QString duration(const RunRecord& r)
{
    if (!r.startedAt.isValid())
        return {};
    const QDateTime end = r.finishedAt.isValid() ? r.finishedAt : QDateTime::currentDateTimeUtc();
    const qint64 ms = r.startedAt.msecsTo(end);
    if (ms < 10'000)
        return QStringLiteral("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1);
    if (ms < 3'600'000)
        return QStringLiteral("%1m%2s")
            .arg(ms / 60'000)
            .arg((ms / 1000) % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1h%2m")
        .arg(ms / 3'600'000)
        .arg((ms / 60'000) % 60, 2, 10, QLatin1Char('0'));
}

QJsonObject runJson(const RunRecord& r)
{
    return QJsonObject{
        {QStringLiteral("id"), r.id},
        {QStringLiteral("agent"), r.agentId},
        {QStringLiteral("agent_version"), r.agentVersion},
        {QStringLiteral("status"), runStatusName(r.status)},
        {QStringLiteral("reason"),
         r.reason.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(r.reason)},
        {QStringLiteral("trigger"), r.trigger},
        {QStringLiteral("input"), r.input.isUndefined() ? QJsonValue::Null : r.input},
        {QStringLiteral("output"), r.output.isUndefined() ? QJsonValue::Null : r.output},
        {QStringLiteral("created_at"), jsonTime(r.createdAt)},
        {QStringLiteral("started_at"), jsonTime(r.startedAt)},
        {QStringLiteral("finished_at"), jsonTime(r.finishedAt)},
        {QStringLiteral("scheduled_for"), jsonTime(r.scheduledFor)}};
}

QString compactJson(const QJsonValue& v)
{
    if (v.isUndefined() || v.isNull())
        return QStringLiteral("-");
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented))
            .trimmed();
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented))
            .trimmed();
    return v.toVariant().toString();
}

} // namespace

int cmdRunsList(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption agent(QStringLiteral("agent"),
                                   QStringLiteral("Only this agent's runs."), QStringLiteral("ID"));
    const QCommandLineOption status(QStringLiteral("status"),
                                    QStringLiteral("Only runs in this state (queued, running, "
                                                   "succeeded, failed, timed_out, cancelled, "
                                                   "interrupted, skipped, missed, ...)."),
                                    QStringLiteral("STATE"));
    const QCommandLineOption limit(QStringLiteral("limit"),
                                   QStringLiteral("At most N runs (default 50, max 1000)."),
                                   QStringLiteral("N"), QStringLiteral("50"));
    const QCommandLineOption before(QStringLiteral("before"),
                                    QStringLiteral("Only runs older than this run id (paging)."),
                                    QStringLiteral("RUN"));
    p.addOption(agent);
    p.addOption(status);
    p.addOption(limit);
    p.addOption(before);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("List runs, newest first."), 0, 0))
        return *stop;

    RunFilter filter;
    filter.agentId = p.value(agent);
    filter.beforeId = p.value(before);
    if (p.isSet(status)) {
        const auto s = runStatusFromString(p.value(status));
        if (!s)
            return usageError(inv.commandName(),
                              QStringLiteral("unknown state \"%1\"").arg(p.value(status)));
        filter.status = s;
    }
    bool ok = false;
    filter.limit = p.value(limit).toInt(&ok);
    if (!ok || filter.limit < 1 || filter.limit > 1000)
        return usageError(
            inv.commandName(),
            QStringLiteral("--limit must be 1..1000, got \"%1\"").arg(p.value(limit)));

    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    if (!filter.agentId.isEmpty()) {
        // A typo in --agent should not look like "no runs".
        if (auto versions = (*store)->agentVersions(filter.agentId); !versions)
            return reportError(versions.error());
    }
    auto runs = (*store)->runs(filter);
    if (!runs)
        return reportError(runs.error());
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const RunRecord& r : *runs)
            arr << runJson(r);
        printJson(arr);
        return ExitOk;
    }
    if (runs->isEmpty()) {
        printOut(filter.agentId.isEmpty() && !filter.status ? QStringLiteral("No runs yet.")
                                                            : QStringLiteral("No runs match."));
        return ExitOk;
    }
    TextTable t({QStringLiteral("RUN"), QStringLiteral("AGENT"), QStringLiteral("STATUS"),
                 QStringLiteral("CREATED"), QStringLiteral("DURATION"), QStringLiteral("TRIGGER"),
                 QStringLiteral("REASON")});
    for (const RunRecord& r : *runs)
        t.addRow({r.id, r.agentId + QStringLiteral(" v") + QString::number(r.agentVersion),
                  runStatusName(r.status), humanTime(r.createdAt), duration(r), r.trigger,
                  r.reason});
    printOut(t.render(60));
    return ExitOk;
}

int cmdRunsShow(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("run id"));
    const QCommandLineOption events(QStringLiteral("events"),
                                    QStringLiteral("Also print the run's whole journal."));
    p.addOption(events);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("Show one run."), 1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto r = (*store)->run(p.positionalArguments().first());
    if (!r)
        return reportError(r.error());
    QList<RunEvent> journal;
    if (p.isSet(events)) {
        auto ev = (*store)->events(r->id);
        if (!ev)
            return reportError(ev.error());
        journal = *ev;
    }
    if (p.isSet(jsonOption())) {
        QJsonObject o = runJson(*r);
        if (p.isSet(events)) {
            QJsonArray arr;
            for (const RunEvent& e : journal)
                arr << QJsonObject{{QStringLiteral("seq"), double(e.seq)},
                                   {QStringLiteral("type"), e.type},
                                   {QStringLiteral("ts"), jsonTime(e.ts)},
                                   {QStringLiteral("data"), e.data}};
            o.insert(QStringLiteral("events"), arr);
        }
        printJson(o);
        return ExitOk;
    }
    QString text;
    auto row = [&text](const QString& k, const QString& v) {
        if (!v.isEmpty())
            text += k.leftJustified(10) + v + QLatin1Char('\n');
    };
    row(QStringLiteral("Run"), r->id);
    row(QStringLiteral("Agent"),
        QStringLiteral("%1 (version %2)").arg(r->agentId).arg(r->agentVersion));
    row(QStringLiteral("Status"), runStatusName(r->status));
    row(QStringLiteral("Reason"), r->reason);
    row(QStringLiteral("Trigger"), r->trigger);
    row(QStringLiteral("Scheduled"), humanTime(r->scheduledFor));
    row(QStringLiteral("Created"), humanTime(r->createdAt));
    row(QStringLiteral("Started"), humanTime(r->startedAt));
    row(QStringLiteral("Finished"), humanTime(r->finishedAt));
    row(QStringLiteral("Duration"), duration(*r));
    row(QStringLiteral("Input"), compactJson(r->input));
    row(QStringLiteral("Output"), compactJson(r->output));
    row(QStringLiteral("Usage"),
        QStringLiteral("%1 steps, %2 input + %3 output tokens, %4")
            .arg(r->usage.steps)
            .arg(r->usage.inputTokens)
            .arg(r->usage.outputTokens)
            .arg(EventFormatter::cost(r->usage.costUsd, r->usage.unpriced)));
    if (p.isSet(events)) {
        text += QStringLiteral("\nJournal (%1 events)\n").arg(journal.size());
        EventFormatter fmt;
        for (const RunEvent& e : journal) {
            const QString line = fmt.format(e);
            if (!line.isEmpty())
                text += line + QLatin1Char('\n');
        }
    }
    printOut(text);
    return ExitOk;
}

int cmdRunsCancel(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("RUN"), QStringLiteral("run id"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Cancel a queued or running run. The engine "
                                             "running it stops its runner within a second."),
                              1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    const QString id = p.positionalArguments().first();
    auto r = (*store)->run(id);
    if (!r)
        return reportError(r.error());
    if (isTerminal(r->status))
        return reportError(Error::make(
            Error::Code::Conflict,
            QStringLiteral("run %1 already ended (%2)").arg(id, runStatusName(r->status))));
    // The terminal write is guarded in the store; the engine that runs it notices and kills
    // the runner on its next poll.
    if (auto s = (*store)->setRunStatus(id, RunStatus::Cancelled,
                                        QStringLiteral("cancelled from the CLI"));
        !s)
        return reportError(s.error());
    const bool engineUp = EngineLock::holder(inv.paths().lockFile()).has_value();
    printOut(QStringLiteral("Cancelled run %1%2")
                 .arg(id, engineUp ? QString() : QStringLiteral(" (no engine was running it)")));
    return ExitOk;
}

} // namespace vivarium::cli
