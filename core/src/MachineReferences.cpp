// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/MachineReferences.h"

#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/Store.h"

namespace vivarium {

KnownReferences machineReferences(const Store& store, const QString& dataDir)
{
    KnownReferences refs;
    if (auto list = store.modelEndpoints()) {
        QSet<QString> endpoints;
        for (const ModelEndpointRecord& e : std::as_const(*list))
            endpoints.insert(e.name);
        refs.endpoints = endpoints;
    }
    QSet<QString> providers;
    const ProviderCatalog catalog = ProviderCatalog::load(ProviderCatalog::userDirectory(dataDir));
    for (const ProviderManifest& m : catalog.manifests())
        providers.insert(m.id);
    refs.providers = providers;
    if (auto list = store.connections()) {
        QSet<QString> connections;
        for (const ConnectionRecord& c : std::as_const(*list))
            connections.insert(c.name);
        refs.connections = connections;
    }
    return refs;
}

} // namespace vivarium
