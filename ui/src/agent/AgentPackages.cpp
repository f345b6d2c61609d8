// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentPackages.h"

#include "AgentValidation.h"

#include <QFileInfo>

namespace vivarium {

Result<ImportedAgent> AgentPackages::import(Store& store, const QString& path,
                                            const KnownReferences& refs)
{
    auto loaded = AgentLoader::loadPath(path, refs);
    if (!loaded)
        return std::unexpected(loaded.error());
    // The loader only checks a cron expression's shape; `agent add` parses it for real too.
    QStringList problems;
    for (const FieldProblem& p : AgentValidation::scheduleProblems(loaded->definition.schedules))
        problems << path + QStringLiteral(": ") + p.toString();
    if (!problems.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("invalid schedule in %1").arg(path),
                    problems);
    auto saved = store.saveAgent(loaded->definition, QFileInfo(path).absoluteFilePath());
    if (!saved)
        return std::unexpected(saved.error());
    ImportedAgent out;
    out.id = loaded->definition.id;
    out.saved = *saved;
    for (const Diagnostic& w : loaded->warnings)
        out.warnings << w.toString();
    return out;
}

Status AgentPackages::exportTo(const Store& store, const QString& agentId,
                               std::optional<int> version, const QString& path, bool overwrite)
{
    auto rec = store.agent(agentId, version);
    if (!rec)
        return std::unexpected(rec.error());
    return exportAgent(rec->definition, path, overwrite);
}

} // namespace vivarium
