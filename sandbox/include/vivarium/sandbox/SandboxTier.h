// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace vivarium {

/**
 * How a run is isolated (DESIGN section 5), weakest first: the order is the one `min_tier`
 * compares against.
 */
enum class SandboxTier {
    None = 0,     ///< plain subprocess, dev only: UNSANDBOXED
    Landlock = 1, ///< Landlock + seccomp + rlimits, no namespaces (hosts without user namespaces)
    Bwrap = 2,    ///< bubblewrap: every namespace, empty network, seccomp, rlimits (the default)
    Container = 3 ///< podman/docker: room in the interface, not implemented in this build
};

/** Every tier, weakest first. */
QList<SandboxTier> allSandboxTiers();
/** "none", "landlock", "bwrap", "container" (the agent file's spelling). */
QString sandboxTierName(SandboxTier tier);
/** The inverse of sandboxTierName; nullopt for anything else. */
std::optional<SandboxTier> parseSandboxTier(const QString& name);

} // namespace vivarium
