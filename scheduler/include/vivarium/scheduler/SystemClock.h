// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/scheduler/Clock.h"

namespace vivarium {

/** The real wall clock (CLOCK_REALTIME): jumps when the operator or NTP sets the time. */
class SystemClock final : public Clock
{
public:
    QDateTime now() const override { return QDateTime::currentDateTimeUtc(); }
};

} // namespace vivarium
