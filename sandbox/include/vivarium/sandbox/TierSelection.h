// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/sandbox/SandboxTier.h"

#include <QList>
#include <QString>

namespace vivarium {

/** Whether this host can run a tier, and the exact reason when it cannot. */
struct TierSupport
{
    SandboxTier tier = SandboxTier::None;
    bool available = false;
    QString detail; ///< what was found (version, ABI), or why it cannot be used
};

/** Which tier a run gets. */
struct TierDecision
{
    bool ok = false;
    SandboxTier tier = SandboxTier::None;
    /** When !ok: why the run cannot start (it fails at once with this reason). */
    QString error;
    /** When ok but not the requested tier: the announcement (a warning event, never silent). */
    QString notice;
};

/**
 * The tier policy (docs/sandbox.md): the requested tier when this host supports it; otherwise
 * the strongest supported tier below it that is still at or above `minimum`, announced in
 * `notice`; otherwise refused with every reason. Never a tier below `minimum`, never a tier
 * above the requested one.
 */
TierDecision chooseSandboxTier(SandboxTier requested, SandboxTier minimum,
                               const QList<TierSupport>& support);

/**
 * This host's tier support, probed once per process on first use (a real sandboxed start of
 * /usr/bin/true per tier, ~10-50 ms) and cached: hosts do not grow user namespaces mid-run.
 */
const QList<TierSupport>& cachedTierSupport();

} // namespace vivarium
