// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Error.h"
#include "vivarium/core/Store.h"

#include <QStringList>

namespace vivarium {

/** What an import did. */
struct ImportedAgent
{
    QString id;
    SaveResult saved;
    QStringList warnings; ///< the loader's, as `agent add` prints them
};

/**
 * Agent packages, the format of `vivarium agent add` and `vivarium agent export`: a single
 * .json file with the prompt inline, or a directory with agent.json and prompt.md.
 */
class AgentPackages
{
public:
    /**
     * `vivarium agent add PATH`: load and validate (AgentLoader::loadPath, then the schedules
     * with ScheduleRules), then save a new version unless identical. Errors: those of the
     * loader (Validation with one detail per problem, Parse, Io) and of the store.
     */
    static Result<ImportedAgent> import(Store& store, const QString& path,
                                        const KnownReferences& refs);
    /** `vivarium agent export ID -o PATH [--version N] [--force]` (core's exportAgent). */
    static Status exportTo(const Store& store, const QString& agentId, std::optional<int> version,
                           const QString& path, bool overwrite);
};

} // namespace vivarium
