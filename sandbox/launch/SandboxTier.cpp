// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/SandboxTier.h"

namespace vivarium {

QList<SandboxTier> allSandboxTiers()
{
    return {SandboxTier::None, SandboxTier::Landlock, SandboxTier::Bwrap, SandboxTier::Container};
}

QString sandboxTierName(SandboxTier tier)
{
    switch (tier) {
    case SandboxTier::None:
        return QStringLiteral("none");
    case SandboxTier::Landlock:
        return QStringLiteral("landlock");
    case SandboxTier::Bwrap:
        return QStringLiteral("bwrap");
    case SandboxTier::Container:
        return QStringLiteral("container");
    }
    return QStringLiteral("none");
}

std::optional<SandboxTier> parseSandboxTier(const QString& name)
{
    for (SandboxTier t : allSandboxTiers()) {
        if (sandboxTierName(t) == name)
            return t;
    }
    return std::nullopt;
}

} // namespace vivarium
