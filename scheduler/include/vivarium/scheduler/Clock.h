// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QDateTime>

namespace vivarium {

/**
 * Wall-clock time as the scheduler sees it. The service asks for "now" only through this, so
 * tests (ManualClock) and benchmarks can move time, jump it back and forth, and replay a
 * suspend without waiting. Monotonic time (how long the engine really slept) is always the
 * process's own QElapsedTimer: it is what reveals a wall-clock jump.
 */
class Clock
{
public:
    virtual ~Clock() = default;
    /** The current instant, UTC, millisecond precision. */
    virtual QDateTime now() const = 0;
};

} // namespace vivarium
