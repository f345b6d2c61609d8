// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium audit: the append-only, hash-chained record of who did what.
#include "Cli.h"
#include "TextTable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace vivarium::cli {

int cmdAudit(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Only this run's records."),
                                 QStringLiteral("RUN"));
    const QCommandLineOption verify(QStringLiteral("verify"),
                                    QStringLiteral("Check the whole hash chain; exit 1 naming the "
                                                   "first record that does not match."));
    const QCommandLineOption limit(
        QStringLiteral("limit"), QStringLiteral("Only the last N records (default 100, 0 = all)."),
        QStringLiteral("N"), QStringLiteral("100"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Print JSON for scripts."));
    p.addOption(run);
    p.addOption(verify);
    p.addOption(limit);
    p.addOption(json);
    if (auto stop = inv.parse(p, QStringLiteral("List or verify the audit trail."), 0, 0))
        return *stop;
    bool ok = false;
    const int n = p.value(limit).toInt(&ok);
    if (!ok || n < 0)
        return usageError(inv.commandName(), QStringLiteral("--limit must be a number >= 0"));
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());

    if (p.isSet(verify)) {
        auto v = (*store)->verifyAudit();
        if (!v)
            return reportError(v.error());
        if (p.isSet(json)) {
            printJson(QJsonObject{{QStringLiteral("ok"), v->ok},
                                  {QStringLiteral("checked"), double(v->checked)},
                                  {QStringLiteral("first_bad_id"),
                                   v->ok ? QJsonValue() : QJsonValue(double(v->firstBadId))},
                                  {QStringLiteral("problem"), v->problem}});
        } else if (v->ok) {
            printOut(QStringLiteral("Audit chain intact: %1 records verified").arg(v->checked));
        } else {
            printErr(QStringLiteral("vivarium: audit chain BROKEN at record %1: %2")
                         .arg(v->firstBadId)
                         .arg(v->problem));
        }
        return v->ok ? ExitOk : ExitFailure;
    }

    auto rows = (*store)->auditRecords(p.value(run), n);
    if (!rows)
        return reportError(rows.error());
    if (p.isSet(json)) {
        QJsonArray arr;
        for (const AuditRecord& a : *rows)
            arr << QJsonObject{
                {QStringLiteral("id"), double(a.id)},
                {QStringLiteral("ts"), jsonTime(a.ts)},
                {QStringLiteral("actor"), a.actor},
                {QStringLiteral("action"), a.action},
                {QStringLiteral("run"), a.runId.isEmpty() ? QJsonValue() : QJsonValue(a.runId)},
                {QStringLiteral("agent"),
                 a.agentId.isEmpty() ? QJsonValue() : QJsonValue(a.agentId)},
                {QStringLiteral("details"), a.details},
                {QStringLiteral("hash"), a.hash}};
        printJson(arr);
        return ExitOk;
    }
    if (rows->isEmpty()) {
        printOut(QStringLiteral("No audit records yet."));
        return ExitOk;
    }
    TextTable t({QStringLiteral("ID"), QStringLiteral("TIME"), QStringLiteral("ACTOR"),
                 QStringLiteral("ACTION"), QStringLiteral("RUN"), QStringLiteral("DETAILS")});
    for (const AuditRecord& a : *rows)
        t.addRow({QString::number(a.id), humanTime(a.ts), a.actor, a.action, a.runId,
                  QString::fromUtf8(QJsonDocument(a.details).toJson(QJsonDocument::Compact))});
    printOut(t.render(70));
    return ExitOk;
}

} // namespace vivarium::cli
