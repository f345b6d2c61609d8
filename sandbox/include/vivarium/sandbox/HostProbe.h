// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/sandbox/TierSelection.h"

#include <QList>
#include <QString>

namespace vivarium {

/** What the host offers for one isolation feature, found by actually trying it. */
struct HostFeature
{
    QString name; ///< "bwrap", "user namespaces", "landlock", "seccomp", "container"
    bool available = false;
    QString detail; ///< the version found, or the exact reason it is not usable
};

/**
 * Probes the isolation features a run's sandbox can use (DESIGN section 5). Every answer comes
 * from a real attempt (running bwrap, asking the kernel), never from guessing by distribution.
 * Blocking: runs bwrap once (bounded by a timeout), call it off the GUI thread.
 */
class HostProbe
{
public:
    static QList<HostFeature> probe();

    static HostFeature probeBwrap();
    static HostFeature probeUserNamespaces();
    static HostFeature probeLandlock();
    static HostFeature probeSeccomp();
    static HostFeature probeContainer();

    /**
     * Each sandbox tier, weakest first, with whether it works here and the exact reason if
     * not. Every available tier was just used: /usr/bin/true started through it, exactly the
     * way a run's runner is started (as the sandbox uid when this process is root).
     */
    static QList<TierSupport> probeTiers();

    /** Classify bwrap's stderr into a reason a user can act on. */
    static QString explainBwrapFailure(const QString& stderrText);
};

} // namespace vivarium
