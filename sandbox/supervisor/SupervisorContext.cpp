// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SupervisorContext.h"

#include "EventJournal.h"
#include "SupervisorLogging.h"

#include "vivarium/core/Store.h"

namespace vivarium {

Status SupervisorContext::tryAudit(const QString& actor, const QString& action,
                                   const QString& runId, const QString& agentId,
                                   const QJsonObject& details) const
{
    AuditRecord r;
    r.actor = actor;
    r.action = action;
    r.runId = runId;
    r.agentId = agentId;
    r.details = details;
    if (auto s = store->appendAudit(r); !s)
        return std::unexpected(s.error());
    return {};
}

void SupervisorContext::audit(const QString& actor, const QString& action, const QString& runId,
                              const QString& agentId, const QJsonObject& details) const
{
    if (auto s = tryAudit(actor, action, runId, agentId, details); !s) {
        qCWarning(lcSupervisor).noquote() << "could not write audit row" << action << "of" << runId
                                          << ":" << s.error().toString();
    }
}

TerminalOutcome SupervisorContext::writeTerminal(const QString& runId, const QString& agentId,
                                                 RunStatus status, const QString& reason,
                                                 const QJsonValue& output, const RunUsage& usage,
                                                 qint64 durationMs) const
{
    // Everything the run said comes before its end.
    journal->flush(runId);
    const Status written = store->transaction([&]() -> Status {
        if (auto s = store->setRunUsage(runId, usage); !s)
            return s;
        return store->setRunStatus(runId, status, reason, output);
    });
    if (!written) {
        qCWarning(lcSupervisor).noquote()
            << "could not end run" << runId << "as" << runStatusName(status) << ":"
            << written.error().toString();
        if (written.error().code == Error::Code::Conflict) {
            // Someone else (the CLI, another process) ended it first: theirs stands.
            if (auto stored = store->run(runId))
                return {stored->status, stored->reason};
        }
        return {status, reason};
    }
    journal->record(runId, QStringLiteral("run.finished"),
                    {{QStringLiteral("status"), runStatusName(status)},
                     {QStringLiteral("reason"), reason},
                     {QStringLiteral("usage"), runUsageToJson(usage)},
                     {QStringLiteral("duration_ms"), double(durationMs)}});
    journal->flush(runId);
    QJsonObject details = runUsageToJson(usage);
    details.insert(QStringLiteral("status"), runStatusName(status));
    details.insert(QStringLiteral("reason"), reason);
    details.insert(QStringLiteral("duration_ms"), double(durationMs));
    audit(QStringLiteral("engine"), QStringLiteral("run.finished"), runId, agentId, details);
    qCInfo(lcSupervisor).noquote()
        << QStringLiteral("run %1 %2%3")
               .arg(runId, runStatusName(status),
                    reason.isEmpty() ? QString() : QStringLiteral(": ") + reason);
    return {status, reason};
}

QJsonObject runUsageToJson(const RunUsage& usage)
{
    return {{QStringLiteral("steps"), usage.steps},
            {QStringLiteral("input_tokens"), double(usage.inputTokens)},
            {QStringLiteral("output_tokens"), double(usage.outputTokens)},
            // null, never 0, once any call had no known price
            {QStringLiteral("cost_usd"),
             usage.costUsd && !usage.unpriced ? QJsonValue(*usage.costUsd) : QJsonValue()},
            {QStringLiteral("unpriced"), usage.unpriced}};
}

} // namespace vivarium
