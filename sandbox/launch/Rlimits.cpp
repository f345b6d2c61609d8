// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/Rlimits.h"

#include <cerrno>

namespace vivarium {

SandboxLimits SandboxLimits::defaults()
{
    SandboxLimits l;
#if defined(__SANITIZE_ADDRESS__)
    // ASan reserves its shadow memory up front: any RLIMIT_AS a run could live with kills it.
    l.addressSpaceBytes = 0;
#endif
    return l;
}

QList<RlimitSetting> outerRlimits(const SandboxLimits& limits, bool withProcesses)
{
    QList<RlimitSetting> out;
    if (withProcesses && limits.maxProcesses > 0)
        out.append({RLIMIT_NPROC, QStringLiteral("RLIMIT_NPROC"), limits.maxProcesses});
    if (limits.addressSpaceBytes > 0)
        out.append({RLIMIT_AS, QStringLiteral("RLIMIT_AS"), limits.addressSpaceBytes});
    if (limits.fileSizeBytes > 0)
        out.append({RLIMIT_FSIZE, QStringLiteral("RLIMIT_FSIZE"), limits.fileSizeBytes});
    if (limits.openFiles > 0)
        out.append({RLIMIT_NOFILE, QStringLiteral("RLIMIT_NOFILE"), limits.openFiles});
    out.append({RLIMIT_CORE, QStringLiteral("RLIMIT_CORE"), limits.coreBytes});
    return out;
}

int applyRlimits(const RlimitSetting* settings, int count) noexcept
{
    for (int i = 0; i < count; ++i) {
        const rlimit lim{settings[i].value, settings[i].value};
        if (::setrlimit(static_cast<__rlimit_resource_t>(settings[i].resource), &lim) != 0)
            return errno;
    }
    return 0;
}

} // namespace vivarium
