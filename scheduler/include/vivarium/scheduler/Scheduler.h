// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Run.h"

#include <QDateTime>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace vivarium {

class Clock;
class ScheduleLauncher;
class Store;

/** Tunables of the scheduler service; the defaults are what `vivarium serve` uses. */
struct SchedulerOptions
{
    /**
     * A fire handled at most this long after its instant (plus its jitter) runs normally;
     * one found later (the engine was down, the machine asleep, the clock jumped forward)
     * follows the schedule's misfire policy instead.
     */
    int onTimeToleranceMs = 10'000;
    /** Missed fires of one gap recorded one by one; the rest become one summary entry. */
    int missedRecordCap = 100;
    /** next() steps spent counting one gap's missed fires before estimating the rest. */
    int missedCountBudget = 20'000;
    /**
     * Longest sleep: the wall clock is compared with the monotonic one at least this often,
     * which is how a jump or a suspend is noticed even when nothing is due for hours.
     */
    int wallCheckMs = 60'000;
    /** How often the store is asked whether another process (the CLI) changed schedules. */
    int reloadPollMs = 2'000;
    /** Wall time drifting from monotonic time by more than this is logged as a jump. */
    int jumpLogThresholdMs = 2'000;
    /** Wait before retrying a pass whose bookkeeping could not be written. */
    int storeRetryMs = 1'000;
    /** Seed of the per-fire jitter; unset: random per engine start. Same seed = same delays. */
    std::optional<quint64> jitterSeed;
    /** False: no timers at all; only start(), wake(), reload() and runEnded() act (tests). */
    bool timers = true;
};

/**
 * The scheduler service (DESIGN section 6): fires every schedule of the store at its cron
 * instants in its time zone, through a ScheduleLauncher, applying the overlap, misfire and
 * jitter policies, and records fires not run (overlap: `skipped`; engine down, asleep, clock
 * jumped: `missed`) as runs with trigger "schedule:<id>". See docs/scheduling.md.
 *
 * Sleeps on one precise timer until the earliest fire (at most wallCheckMs), never ticks.
 * Persists the instant of each fire before starting its run: a crash right after loses that
 * fire rather than running it twice (at most once). Lives on the thread that created it; the
 * store, launcher and clock must outlive it.
 */
class Scheduler : public QObject
{
    Q_OBJECT
public:
    Scheduler(Store* store, ScheduleLauncher* launcher, Clock* clock, SchedulerOptions options = {},
              QObject* parent = nullptr);
    ~Scheduler() override;

    /**
     * Load the schedules, fire @reboot ones, record or run (per misfire policy) what was
     * missed while no engine ran, then sleep until the first fire. Store errors only; a
     * schedule whose cron or zone no longer parses is logged and left out.
     */
    Status start();
    /** Stop firing (timers off). Runs already started are the supervisor's. Idempotent. */
    void stop();
    bool isRunning() const;

    /** Handle every fire due at the clock's now, then sleep until the next one. */
    void wake();
    /** One pass at the clock's now without re-arming the timer (tests, benchmarks). */
    void processDue();
    /** Re-read the schedules from the store now and re-plan (what the change poll does). */
    Status reload();
    /** A run ended (the engine forwards RunSupervisor::runFinished): frees queue_one. */
    void runEnded(const QString& runId);

    /** Schedules loaded (paused and invalid ones included). */
    int scheduleCount() const;
    /** When the next fire of this schedule is due (its instant plus jitter); nullopt: none. */
    std::optional<QDateTime> nextDue(const QString& scheduleId) const;
    /** The earliest due fire of all schedules; nullopt when nothing will fire. */
    std::optional<QDateTime> nextWake() const;

signals:
    /** A run was started for `scheduledFor`. */
    void fired(const QString& scheduleId, const QString& runId, const QDateTime& scheduledFor);
    /** A ledger entry (skipped or missed) was committed. */
    void recorded(const QString& scheduleId, vivarium::RunStatus status,
                  const QDateTime& scheduledFor, const QString& reason);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
