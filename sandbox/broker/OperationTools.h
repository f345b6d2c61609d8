// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/ProviderManifest.h"

#include <QJsonArray>
#include <QStringList>

namespace vivarium {

/** What a run's runner is told about the manifest operations its agent may call. */
struct OperationTools
{
    /**
     * One entry per granted (provider, operation), for the hello's `run.operations`:
     * {"name": "<provider>_<operation>", "provider", "operation", "connections": [names],
     * "description", "parameters" (the schema without x- keywords), "writes"}. Several
     * connections of one provider granting the same operation share one tool.
     */
    QJsonArray tools;
    /** Grants naming a provider or an operation the catalog does not have: not offered. */
    QStringList warnings;
};

/** The operation tools of `grants` under `catalog` (docs/providers.md). */
OperationTools operationTools(const QList<ProviderGrant>& grants, const ProviderCatalog& catalog);

} // namespace vivarium
