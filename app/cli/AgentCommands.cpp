// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium agent add|list|show|versions|rm|export
#include "Cli.h"
#include "TextTable.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/MachineReferences.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace vivarium::cli {

namespace {

QJsonObject summaryJson(const AgentSummary& a)
{
    return QJsonObject{
        {QStringLiteral("id"), a.id},
        {QStringLiteral("name"), a.name},
        {QStringLiteral("description"), a.description},
        {QStringLiteral("version"), a.version},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("endpoint"), a.modelEndpoint},
                                              {QStringLiteral("name"), a.modelName}}},
        {QStringLiteral("schedules"), a.scheduleCount},
        {QStringLiteral("providers"), a.providerCount},
        {QStringLiteral("sandbox_tier"), a.sandboxTier},
        {QStringLiteral("created_at"), jsonTime(a.createdAt)},
        {QStringLiteral("saved_at"), jsonTime(a.savedAt)},
    };
}

std::optional<int> parseVersion(const QCommandLineParser& p, const QCommandLineOption& o,
                                const QString& command, int* exitCode)
{
    if (!p.isSet(o))
        return std::nullopt;
    bool ok = false;
    const int v = p.value(o).toInt(&ok);
    if (!ok || v < 1) {
        *exitCode = usageError(
            command,
            QStringLiteral("--version needs a positive integer, got \"%1\"").arg(p.value(o)));
        return -1;
    }
    return v;
}

} // namespace

int cmdAgentAdd(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("PATH"),
                            QStringLiteral("agent.json, a single-file agent, or a directory "
                                           "holding agent.json"));
    p.addOption(jsonOption());
    if (auto stop =
            inv.parse(p, QStringLiteral("Add an agent, or save a new version of it."), 1, 1))
        return *stop;
    const QString path = p.positionalArguments().first();
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto loaded = AgentLoader::loadPath(path, machineReferences(**store, inv.paths().dataDir()));
    if (!loaded)
        return reportError(loaded.error());
    for (const Diagnostic& w : loaded->warnings)
        printErr(QStringLiteral("vivarium: warning: ") + w.toString());
    // The loader only checks the shape of a cron expression (core has no cron parser); the
    // store turns each entry into a schedule ("<agent>#<n>") as it saves, so check them fully
    // here, where a bad one can still be refused with the field and token at fault.
    QStringList scheduleProblems;
    for (qsizetype i = 0; i < loaded->definition.schedules.size(); ++i) {
        const ScheduleSpec& spec = loaded->definition.schedules.at(i);
        ScheduleRecord check;
        check.cron = spec.cron;
        check.tz = spec.tz;
        check.overlap = spec.overlap;
        check.misfire = spec.misfire;
        if (auto ok = ScheduleRules::validate(check); !ok)
            for (const QString& d : ok.error().details)
                scheduleProblems << QStringLiteral("%1: /schedules/%2/%3").arg(path).arg(i).arg(d);
    }
    if (!scheduleProblems.isEmpty())
        return reportError(Error::make(Error::Code::Validation,
                                       QStringLiteral("invalid schedule in %1").arg(path),
                                       scheduleProblems));

    const QString source = QFileInfo(path).absoluteFilePath();
    auto saved = (*store)->saveAgent(loaded->definition, source);
    if (!saved)
        return reportError(saved.error());
    const QString& id = loaded->definition.id;
    if (p.isSet(jsonOption())) {
        QJsonArray warnings;
        for (const Diagnostic& w : loaded->warnings)
            warnings << w.toString();
        printJson(QJsonObject{{QStringLiteral("id"), id},
                              {QStringLiteral("version"), saved->version},
                              {QStringLiteral("created"), saved->created},
                              {QStringLiteral("new_agent"), saved->newAgent},
                              {QStringLiteral("warnings"), warnings}});
    } else if (!saved->created) {
        printOut(QStringLiteral("Agent %1 unchanged (version %2)").arg(id).arg(saved->version));
    } else if (saved->newAgent) {
        printOut(QStringLiteral("Added agent %1 (version %2)").arg(id).arg(saved->version));
        // `agent rm` paused the schedules added with the CLI; say how to bring them back.
        if (auto schedules = (*store)->schedules(id)) {
            for (const ScheduleRecord& s : std::as_const(*schedules))
                if (s.source == QLatin1String("cli") && s.paused)
                    printOut(QStringLiteral("  schedule %1 (%2) is paused: vivarium schedule "
                                            "resume %1")
                                 .arg(s.id, s.cron));
        }
    } else {
        printOut(QStringLiteral("Updated agent %1 to version %2").arg(id).arg(saved->version));
    }
    return ExitOk;
}

int cmdAgentList(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("List agents."), 0, 0))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto agents = (*store)->agentSummaries();
    if (!agents)
        return reportError(agents.error());
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const AgentSummary& a : *agents)
            arr << summaryJson(a);
        printJson(arr);
        return ExitOk;
    }
    if (agents->isEmpty()) {
        printOut(QStringLiteral("No agents yet. Add one with: vivarium agent add PATH"));
        return ExitOk;
    }
    TextTable t({QStringLiteral("ID"), QStringLiteral("NAME"), QStringLiteral("VERSION"),
                 QStringLiteral("MODEL"), QStringLiteral("SCHEDULES"), QStringLiteral("SANDBOX"),
                 QStringLiteral("SAVED")});
    for (const AgentSummary& a : *agents) {
        t.addRow({a.id, a.name, QString::number(a.version),
                  a.modelEndpoint + QLatin1Char('/') + a.modelName,
                  QString::number(a.scheduleCount),
                  a.sandboxTier == QLatin1String("none") ? QStringLiteral("none (UNSANDBOXED)")
                                                         : a.sandboxTier,
                  humanTime(a.savedAt)});
    }
    printOut(t.render());
    return ExitOk;
}

int cmdAgentShow(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("agent id"));
    const QCommandLineOption version(QStringLiteral("version"),
                                     QStringLiteral("Show this saved version (default: current)."),
                                     QStringLiteral("N"));
    p.addOption(version);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("Show an agent's definition."), 1, 1))
        return *stop;
    int code = ExitOk;
    const auto wanted = parseVersion(p, version, inv.commandName(), &code);
    if (wanted && *wanted < 0)
        return code;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto rec = (*store)->agent(p.positionalArguments().first(), wanted);
    if (!rec)
        return reportError(rec.error());
    const QJsonObject def = rec->definition.toJson();
    if (p.isSet(jsonOption())) {
        printJson(QJsonObject{{QStringLiteral("id"), rec->id},
                              {QStringLiteral("version"), rec->version},
                              {QStringLiteral("latest_version"), rec->latestVersion},
                              {QStringLiteral("created_at"), jsonTime(rec->createdAt)},
                              {QStringLiteral("saved_at"), jsonTime(rec->savedAt)},
                              {QStringLiteral("source_path"), rec->sourcePath},
                              {QStringLiteral("content_hash"), rec->contentHash},
                              {QStringLiteral("definition"), def}});
        return ExitOk;
    }
    QString head = QStringLiteral("# %1 (%2), version %3 of %4, saved %5\n")
                       .arg(rec->id, rec->definition.name)
                       .arg(rec->version)
                       .arg(rec->latestVersion)
                       .arg(humanTime(rec->savedAt));
    if (!rec->sourcePath.isEmpty())
        head += QStringLiteral("# source: %1\n").arg(rec->sourcePath);
    printOut(head + QString::fromUtf8(QJsonDocument(def).toJson(QJsonDocument::Indented)));
    return ExitOk;
}

int cmdAgentVersions(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("agent id"));
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("List an agent's saved versions."), 1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto versions = (*store)->agentVersions(p.positionalArguments().first());
    if (!versions)
        return reportError(versions.error());
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const AgentVersionInfo& v : *versions)
            arr << QJsonObject{{QStringLiteral("version"), v.version},
                               {QStringLiteral("saved_at"), jsonTime(v.savedAt)},
                               {QStringLiteral("source_path"), v.sourcePath},
                               {QStringLiteral("content_hash"), v.contentHash}};
        printJson(arr);
        return ExitOk;
    }
    TextTable t({QStringLiteral("VERSION"), QStringLiteral("SAVED"), QStringLiteral("HASH"),
                 QStringLiteral("SOURCE")});
    for (const AgentVersionInfo& v : *versions)
        t.addRow({QString::number(v.version), humanTime(v.savedAt), v.contentHash.left(12),
                  v.sourcePath});
    printOut(t.render(80));
    return ExitOk;
}

int cmdAgentRemove(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("agent id"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Remove an agent. Its versions and past runs "
                                             "stay readable; adding it again continues "
                                             "its version numbers."),
                              1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    const QString id = p.positionalArguments().first();
    if (auto ok = (*store)->removeAgent(id); !ok)
        return reportError(ok.error());
    printOut(QStringLiteral("Removed agent %1").arg(id));
    return ExitOk;
}

int cmdAgentExport(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("agent id"));
    const QCommandLineOption out({QStringLiteral("o"), QStringLiteral("output")},
                                 QStringLiteral("Write here: a .json file (prompt inline) or a "
                                                "directory (agent.json + prompt.md)."),
                                 QStringLiteral("PATH"));
    const QCommandLineOption version(
        QStringLiteral("version"), QStringLiteral("Export this saved version (default: current)."),
        QStringLiteral("N"));
    const QCommandLineOption force(QStringLiteral("force"),
                                   QStringLiteral("Overwrite existing files."));
    p.addOption(out);
    p.addOption(version);
    p.addOption(force);
    if (auto stop = inv.parse(p, QStringLiteral("Export an agent as a portable package."), 1, 1))
        return *stop;
    if (!p.isSet(out))
        return usageError(inv.commandName(), QStringLiteral("missing -o PATH"));
    int code = ExitOk;
    const auto wanted = parseVersion(p, version, inv.commandName(), &code);
    if (wanted && *wanted < 0)
        return code;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto rec = (*store)->agent(p.positionalArguments().first(), wanted);
    if (!rec)
        return reportError(rec.error());
    if (auto ok = exportAgent(rec->definition, p.value(out), p.isSet(force)); !ok)
        return reportError(ok.error());
    printOut(QStringLiteral("Exported %1 version %2 to %3")
                 .arg(rec->id)
                 .arg(rec->version)
                 .arg(p.value(out)));
    return ExitOk;
}

} // namespace vivarium::cli
