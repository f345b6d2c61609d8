// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QList>
#include <QString>

#include <sys/resource.h>

namespace vivarium {

/**
 * Resource limits of a sandboxed run (soft = hard, so the run cannot raise them again). 0 means
 * "leave the inherited limit" except for coreBytes, where 0 is the limit.
 */
struct SandboxLimits
{
    /**
     * RLIMIT_NPROC. The kernel counts processes per user (and, since 5.14, per user namespace
     * level), so in the bwrap tier it is set inside the sandbox's own user namespace by
     * vivarium-sandbox-init and bounds this run alone; elsewhere it counts every process of the
     * uid (see docs/sandbox.md).
     */
    rlim_t maxProcesses = 256;
    /** RLIMIT_AS. 0 in sanitizer builds, whose shadow memory needs terabytes of address space. */
    rlim_t addressSpaceBytes = rlim_t(4) * 1024 * 1024 * 1024;
    /** RLIMIT_FSIZE: the largest file a run can write (SIGXFSZ / EFBIG beyond it). */
    rlim_t fileSizeBytes = rlim_t(256) * 1024 * 1024;
    /** RLIMIT_NOFILE. */
    rlim_t openFiles = 512;
    /** RLIMIT_CORE: no core dumps (they would land in the workspace and could hold anything). */
    rlim_t coreBytes = 0;
    /** Size of the sandbox's tmpfs /tmp (bwrap tier): memory-backed, so it is bounded too. */
    qint64 tmpBytes = qint64(64) * 1024 * 1024;

    /** The defaults above, with RLIMIT_AS dropped in sanitizer builds. */
    static SandboxLimits defaults();
};

/** One limit as applied: for tests and the documentation. */
struct RlimitSetting
{
    int resource = 0; ///< RLIMIT_*
    QString name;     ///< "RLIMIT_AS"
    rlim_t value = 0;
};

/**
 * The limits applied from outside (before bwrap or the program is exec'd): everything except
 * RLIMIT_NPROC, which `withProcesses` adds (the landlock tier, which has no namespace to
 * scope it).
 */
QList<RlimitSetting> outerRlimits(const SandboxLimits& limits, bool withProcesses);

/**
 * Apply `count` settings (soft = hard). Async-signal-safe: called between fork and exec.
 * Returns 0, or the errno of the first failure.
 */
int applyRlimits(const RlimitSetting* settings, int count) noexcept;

} // namespace vivarium
