// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Store.h"

#include <QDateTime>
#include <QString>

namespace vivarium {

/**
 * How the scheduler starts runs without knowing the sandbox: the engine implements it over
 * RunSupervisor (scheduler links core only); tests use a fake whose runs stay live until told.
 */
class ScheduleLauncher
{
public:
    virtual ~ScheduleLauncher() = default;
    /**
     * Start a run of `schedule` (trigger "schedule:<id>") for the instant `scheduledFor`;
     * returns the run id. An error means no run exists (the fire is then lost: logged).
     */
    virtual Result<QString> launch(const ScheduleRecord& schedule,
                                   const QDateTime& scheduledFor) = 0;
    /** Whether the run is queued or live (not in a terminal state), for the overlap policy. */
    virtual bool isLive(const QString& runId) = 0;
};

} // namespace vivarium
