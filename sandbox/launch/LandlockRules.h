// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/sandbox/SandboxProfile.h"

#include <QList>
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

namespace vivarium {

/** One path and what a run may do beneath it. */
struct LandlockRule
{
    std::string path;
    std::uint64_t access = 0;
};

/** A Landlock ruleset ready to apply in a forked child (no allocation needed there). */
struct LandlockPlan
{
    int abi = 0; ///< 0: no Landlock
    std::uint64_t handledFs = 0;
    std::uint64_t handledNet = 0;
    std::uint64_t scoped = 0;
    std::vector<LandlockRule> rules;
};

/** The kernel's Landlock ABI version, or 0 (see landlockUnavailableReason()). */
int landlockAbi();
QString landlockUnavailableReason();

/**
 * The landlock tier's ruleset: /usr (and unmerged /bin, /lib...) read and execute, the curated
 * /etc read, its own /proc/<pid> read, a few character devices read-write, the workspace and
 * memory read-write, the program read and execute; everything else denied. With ABI >= 4 TCP
 * bind/connect are denied too, with ABI >= 6 abstract Unix sockets and signals outside the sandbox.
 */
LandlockPlan landlockPlan(int abi, const QString& workspace, const QString& memoryDir,
                          const QString& program, const QList<RootEntry>& rootEntries);

/** Create, fill and enforce the ruleset. Async-signal-safe. 0 or an errno (`*failed`: what). */
int applyLandlock(const LandlockPlan& plan, const char** failed) noexcept;

} // namespace vivarium
