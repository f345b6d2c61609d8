// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/TierSelection.h"

#include "vivarium/sandbox/HostProbe.h"

namespace vivarium {

namespace {

const TierSupport* find(const QList<TierSupport>& support, SandboxTier tier)
{
    for (const TierSupport& s : support) {
        if (s.tier == tier)
            return &s;
    }
    return nullptr;
}

QString reasonOf(const QList<TierSupport>& support, SandboxTier tier)
{
    const TierSupport* s = find(support, tier);
    return s ? s->detail : QStringLiteral("not probed");
}

} // namespace

TierDecision chooseSandboxTier(SandboxTier requested, SandboxTier minimum,
                               const QList<TierSupport>& support)
{
    TierDecision d;
    const QString req = sandboxTierName(requested);
    const QString min = sandboxTierName(minimum);
    if (int(requested) < int(minimum)) {
        d.error = QStringLiteral("sandbox tier \"%1\" is below the agent's min_tier \"%2\"")
                      .arg(req, min);
        return d;
    }
    const TierSupport* wanted = find(support, requested);
    if (wanted && wanted->available) {
        d.ok = true;
        d.tier = requested;
        return d;
    }
    QStringList lower;
    for (int t = int(requested) - 1; t >= int(minimum); --t) {
        const auto tier = SandboxTier(t);
        const TierSupport* s = find(support, tier);
        if (s && s->available) {
            d.ok = true;
            d.tier = tier;
            d.notice = QStringLiteral("sandbox tier \"%1\" is not available on this host (%2); "
                                      "using \"%3\", the strongest available tier at or above "
                                      "min_tier \"%4\"")
                           .arg(req, reasonOf(support, requested), sandboxTierName(tier), min);
            return d;
        }
        lower << QStringLiteral("\"%1\": %2").arg(sandboxTierName(tier), reasonOf(support, tier));
    }
    d.error = QStringLiteral("sandbox tier \"%1\" is not available on this host (%2) and the agent "
                             "requires at least \"%3\"")
                  .arg(req, reasonOf(support, requested), min);
    if (!lower.isEmpty())
        d.error += QStringLiteral("; also unavailable: ") + lower.join(QStringLiteral("; "));
    return d;
}

const QList<TierSupport>& cachedTierSupport()
{
    // Thread-safe one-time initialisation; later callers get the same answer.
    static const QList<TierSupport> support = HostProbe::probeTiers();
    return support;
}

} // namespace vivarium
