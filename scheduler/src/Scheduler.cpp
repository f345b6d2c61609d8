// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/scheduler/Scheduler.h"

#include "SchedulerLogging.h"

#include "vivarium/core/Store.h"
#include "vivarium/scheduler/Clock.h"
#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleLauncher.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QRandomGenerator>
#include <QTimeZone>
#include <QTimer>

#include <limits>
#include <queue>
#include <vector>

namespace vivarium {

namespace {

const QString TriggerPrefix = QStringLiteral("schedule:");

/** One schedule as the service plans it. */
struct Entry
{
    ScheduleRecord rec;
    std::optional<CronExpression> expr;
    QTimeZone zone;
    QString problem;  ///< why it cannot fire (cron or zone no longer valid); empty when fine
    QDateTime next;   ///< the first instant not handled yet; invalid: nothing to plan
    qint64 dueMs = 0; ///< next + its jitter, ms since the epoch
    quint64 seq = 0;  ///< of its current heap item; 0: not in the heap
    QStringList live; ///< runs this engine started for it that have not ended

    // Pass-local: fires decided in the current pass whose runs are not started yet.
    int passLaunches = 0;
    QDateTime passFirstLaunch;

    bool canFire() const { return !rec.paused && expr.has_value() && problem.isEmpty(); }
};

struct HeapItem
{
    qint64 dueMs = 0;
    quint64 seq = 0;
    QString id;
};

struct LaterFirst
{
    bool operator()(const HeapItem& a, const HeapItem& b) const
    {
        return a.dueMs != b.dueMs ? a.dueMs > b.dueMs : a.seq > b.seq;
    }
};

using Heap = std::priority_queue<HeapItem, std::vector<HeapItem>, LaterFirst>;

/** What a pass decided for one fire. */
struct Decision
{
    enum class Kind { Launch, Record };
    Entry* entry = nullptr;
    Kind kind = Kind::Launch;
    QDateTime at;
    RunStatus status = RunStatus::Missed; ///< Record only
    QString reason;                       ///< Record only
};

/** The missed fires of one gap: the first `cap` one by one, the rest counted. */
struct MissedFires
{
    QList<QDateTime> shown;
    qint64 more = 0;
    bool estimated = false; ///< `more` is a lower bound: counting stopped at the budget
    QDateTime firstMore;
    QDateTime lastMore;
    QDateTime latest;
    QDateTime queuedAt; ///< a queue_one fire a previous engine left pending (one of these)

    bool isEmpty() const { return !latest.isValid(); }
    void add(const QDateTime& t, int cap)
    {
        if (shown.size() < cap) {
            shown.append(t);
        } else {
            if (!firstMore.isValid())
                firstMore = t;
            lastMore = t;
            ++more;
        }
        latest = t;
    }
};

quint64 splitmix64(quint64 x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/** FNV-1a: unlike qHash it is not seeded per process, so a fixed jitter seed replays. */
quint64 stableHash(const QString& s)
{
    quint64 h = 0xCBF29CE484222325ULL;
    for (const QChar c : s) {
        h ^= c.unicode();
        h *= 0x100000001B3ULL;
    }
    return h;
}

/**
 * The latest fire in (lowerExclusive, limit], or invalid. CronExpression only looks forward,
 * so look back in doubling windows until one holds a fire, then walk forward inside it: a
 * handful of next() calls even when the gap is a year of per-second fires.
 */
QDateTime latestAtOrBefore(const CronExpression& expr, const QTimeZone& zone,
                           const QDateTime& limit, const QDateTime& lowerExclusive)
{
    qint64 window = 1000;
    for (;;) {
        QDateTime from = limit.addMSecs(-window);
        bool atLower = false;
        if (from <= lowerExclusive) {
            from = lowerExclusive;
            atLower = true;
        }
        const auto first = expr.next(from, zone);
        if (first && *first <= limit) {
            QDateTime best = *first;
            while (const auto n = expr.next(best, zone)) {
                if (*n > limit)
                    break;
                best = *n;
            }
            return best;
        }
        if (atLower)
            return {};
        window *= 2;
    }
}

QDateTime maxTime(const QDateTime& a, const QDateTime& b)
{
    if (!a.isValid())
        return b;
    if (!b.isValid())
        return a;
    return a < b ? b : a;
}

} // namespace

struct Scheduler::Private
{
    Private(Scheduler* owner, Store* s, ScheduleLauncher* l, Clock* c, SchedulerOptions o)
        : q(owner)
        , store(s)
        , launcher(l)
        , clock(c)
        , opt(std::move(o))
        , jitterSeed(opt.jitterSeed ? *opt.jitterSeed : QRandomGenerator::system()->generate64())
    {}

    std::shared_ptr<Entry> build(const ScheduleRecord& rec);
    qint64 jitterMs(const Entry& e, const QDateTime& t) const;
    qint64 dueMs(const Entry& e, const QDateTime& t) const
    {
        return t.toMSecsSinceEpoch() + jitterMs(e, t);
    }
    void push(Entry& e);
    void rebuildHeap();
    void dropStaleTop() const;

    Status pass(const QList<Entry*>& due, const QDateTime& now, bool startup);
    void plan(Entry& e, const QDateTime& now, bool startup, QList<Decision>& out);
    void decideOverlap(Entry& e, const QDateTime& at, QList<Decision>& out);
    void prune(Entry& e);
    void launch(Entry& e, const QDateTime& at);
    void launchPendingIfFree(Entry& e);
    QString missedBase(const QDateTime& t, const Entry& e) const;

    void arm();
    void onTimer();
    void poll();

    Scheduler* q;
    Store* store;
    ScheduleLauncher* launcher;
    Clock* clock;
    SchedulerOptions opt;
    quint64 jitterSeed;

    bool running = false;
    QDateTime startedAt;
    QHash<QString, std::shared_ptr<Entry>> entries;
    mutable Heap heap;
    quint64 seqCounter = 0;
    QHash<QString, QString> runOwner;                 ///< run id -> schedule id, for runEnded()
    QHash<QString, Result<CronExpression>> cronCache; ///< by text; rebuilt on each load
    QHash<QString, QTimeZone> zoneCache;              ///< by id; rebuilt on each load
    qint64 generation = -1;

    QTimer timer;
    QTimer pollTimer;
    QElapsedTimer mono;   ///< monotonic time since the timer was armed
    qint64 armWallMs = 0; ///< wall time when it was armed
    qint64 plannedWakeMs = 0;
    qint64 retryAtMs = 0; ///< after a failed store write: no pass before this
};

std::shared_ptr<Entry> Scheduler::Private::build(const ScheduleRecord& rec)
{
    auto e = std::make_shared<Entry>();
    e->rec = rec;
    // Many schedules share an expression and a zone: parse each text once per load and share
    // the (immutable, implicitly shared) result; parsing is most of the cost of a start.
    auto parsed = cronCache.constFind(rec.cron);
    if (parsed == cronCache.cend())
        parsed = cronCache.insert(rec.cron, CronExpression::parse(rec.cron));
    if (!*parsed)
        e->problem = QStringLiteral("cron: ") + parsed->error().message;
    else
        e->expr = **parsed;
    auto zone = zoneCache.constFind(rec.tz);
    if (zone == zoneCache.cend())
        zone = zoneCache.insert(rec.tz, ScheduleRules::zoneOf(rec));
    e->zone = *zone;
    if (!e->zone.isValid()) {
        e->problem += (e->problem.isEmpty() ? QString() : QStringLiteral("; ")) +
                      QStringLiteral("tz: unknown time zone \"%1\"").arg(rec.tz);
    }
    if (!e->problem.isEmpty()) {
        // Stored by an older or newer build, or a zone the system no longer has: say so once
        // per load instead of failing the engine.
        qCWarning(lcSchedulerService).noquote()
            << QStringLiteral("schedule %1 of agent %2 cannot fire: %3")
                   .arg(rec.id, rec.agentId, e->problem);
        return e;
    }
    if (e->canFire() && !e->expr->isReboot()) {
        // Fires count from the later of the last handled fire and the last change (creation,
        // new spec, resume): nothing from before a change or while paused is "missed".
        const QDateTime from = maxTime(rec.lastFireAt, rec.updatedAt);
        if (from.isValid()) {
            if (const auto n = e->expr->next(from, e->zone))
                e->next = *n;
        }
        if (e->next.isValid())
            e->dueMs = dueMs(*e, e->next);
    }
    return e;
}

qint64 Scheduler::Private::jitterMs(const Entry& e, const QDateTime& t) const
{
    if (e.rec.jitterS <= 0)
        return 0;
    // A function of (seed, schedule, instant): re-planning never re-rolls a fire's delay.
    const quint64 h =
        splitmix64(jitterSeed ^ stableHash(e.rec.id) ^ splitmix64(quint64(t.toMSecsSinceEpoch())));
    return qint64(h % (quint64(e.rec.jitterS) * 1000 + 1));
}

void Scheduler::Private::push(Entry& e)
{
    if (!e.canFire() || !e.next.isValid()) {
        e.seq = 0;
        return;
    }
    e.seq = ++seqCounter;
    heap.push(HeapItem{e.dueMs, e.seq, e.rec.id});
}

void Scheduler::Private::rebuildHeap()
{
    heap = Heap();
    for (const std::shared_ptr<Entry>& e : std::as_const(entries))
        push(*e);
}

void Scheduler::Private::dropStaleTop() const
{
    // Items are never removed from the middle: a re-planned entry just gets a new seq.
    while (!heap.empty()) {
        const HeapItem& top = heap.top();
        const auto it = entries.constFind(top.id);
        if (it != entries.cend() && (*it)->seq == top.seq)
            return;
        heap.pop();
    }
}

QString Scheduler::Private::missedBase(const QDateTime& t, const Entry& e) const
{
    const QString when = ScheduleRules::formatInstant(t, e.zone);
    if (t < startedAt)
        return QStringLiteral("engine was not running at %1").arg(when);
    return QStringLiteral("the engine was suspended or the clock jumped forward at %1").arg(when);
}

void Scheduler::Private::plan(Entry& e, const QDateTime& now, bool startup, QList<Decision>& out)
{
    const qint64 nowMs = now.toMSecsSinceEpoch();
    const qint64 cutoffMs = nowMs - qMax(0, opt.onTimeToleranceMs);
    const int cap = qMax(1, opt.missedRecordCap);
    MissedFires missed;
    QList<QDateTime> onTime;

    if (startup && e.rec.pendingFireAt.isValid()) {
        // Queued behind a live run when the previous engine stopped: that run was
        // interrupted, the queued fire never ran. It is a missed fire like the others.
        missed.queuedAt = e.rec.pendingFireAt;
        missed.add(e.rec.pendingFireAt, cap);
        e.rec.pendingFireAt = QDateTime();
    }
    if (startup && e.canFire() && e.expr->isReboot())
        onTime.append(startedAt);

    if (e.canFire() && e.next.isValid()) {
        QDateTime t = e.next;
        int budget = qMax(1, opt.missedCountBudget);
        while (t.isValid() && dueMs(e, t) <= nowMs) {
            const bool late = dueMs(e, t) < cutoffMs;
            if (late)
                missed.add(t, cap);
            else
                onTime.append(t);
            if (late && --budget == 0) {
                // A long gap of frequent fires (a year of downtime of an every-second
                // schedule): stop counting, jump to the last one before the cutoff.
                const QDateTime last = latestAtOrBefore(
                    *e.expr, e.zone, QDateTime::fromMSecsSinceEpoch(cutoffMs - 1, Qt::UTC), t);
                if (last.isValid() && last > t) {
                    missed.estimated = true;
                    missed.add(last, cap);
                    t = last;
                }
                budget = std::numeric_limits<int>::max();
            }
            const auto n = e.expr->next(t, e.zone);
            // next() is strictly increasing; a result that is not would loop here forever.
            t = n && *n > t ? *n : QDateTime();
        }
        e.next = t;
        e.dueMs = t.isValid() ? dueMs(e, t) : 0;
    }

    QDateTime handled = maxTime(e.rec.lastFireAt, missed.latest);
    if (!onTime.isEmpty())
        handled = maxTime(handled, onTime.last());
    // A @reboot schedule has no other instants: its last fire is this start.
    e.rec.lastFireAt = handled;

    QDateTime runLate;
    QString why;
    if (!missed.isEmpty()) {
        const qint64 ageMs = nowMs - missed.latest.toMSecsSinceEpoch();
        if (e.rec.misfire != QLatin1String("run_once")) {
            why = QStringLiteral("misfire skip");
        } else if (!onTime.isEmpty()) {
            why = QStringLiteral("a fire on time followed");
        } else if (ageMs > qint64(e.rec.misfireMaxAgeS) * 1000) {
            why = QStringLiteral("older than the misfire max age of %1")
                      .arg(ScheduleRules::formatDuration(e.rec.misfireMaxAgeS));
        } else {
            runLate = missed.latest;
            why = QStringLiteral("misfire run_once ran only the latest, %1")
                      .arg(ScheduleRules::formatInstant(runLate, e.zone));
            // Take it out of the ledger: it runs.
            if (missed.more > 0 && missed.lastMore == runLate) {
                --missed.more;
                if (missed.more == 0) {
                    missed.firstMore = missed.lastMore = QDateTime();
                } else {
                    missed.lastMore = latestAtOrBefore(*e.expr, e.zone, runLate.addMSecs(-1),
                                                       missed.firstMore.addMSecs(-1));
                }
            } else if (!missed.shown.isEmpty() && missed.shown.last() == runLate) {
                missed.shown.removeLast();
            }
        }
    }

    for (const QDateTime& t : std::as_const(missed.shown)) {
        const QString base =
            t == missed.queuedAt
                ? QStringLiteral("was queued (overlap queue_one) when the engine stopped, at %1")
                      .arg(ScheduleRules::formatInstant(t, e.zone))
                : missedBase(t, e);
        out.append(Decision{&e, Decision::Kind::Record, t, RunStatus::Missed,
                            QStringLiteral("missed: %1 (%2)").arg(base, why)});
    }
    if (missed.more > 0) {
        const QString cause = missed.firstMore < startedAt
                                  ? QStringLiteral("engine was not running")
                                  : QStringLiteral("the engine was suspended or the clock "
                                                   "jumped forward");
        out.append(
            Decision{&e, Decision::Kind::Record, missed.firstMore, RunStatus::Missed,
                     QStringLiteral("missed: and %1%2 more fires from %3 to %4 (%5; %6)")
                         .arg(missed.estimated ? QStringLiteral("more than ") : QString())
                         .arg(missed.more)
                         .arg(ScheduleRules::formatInstant(missed.firstMore, e.zone),
                              ScheduleRules::formatInstant(missed.lastMore, e.zone), cause, why)});
    }
    if (missed.shown.size() + missed.more > 0) {
        qCInfo(lcSchedulerService).noquote()
            << QStringLiteral("schedule %1: %2%3 fire(s) missed (%4)")
                   .arg(e.rec.id, missed.estimated ? QStringLiteral("more than ") : QString())
                   .arg(missed.shown.size() + missed.more)
                   .arg(why);
    }

    if (runLate.isValid())
        decideOverlap(e, runLate, out);
    for (const QDateTime& t : std::as_const(onTime))
        decideOverlap(e, t, out);
}

void Scheduler::Private::prune(Entry& e)
{
    for (qsizetype i = e.live.size() - 1; i >= 0; --i) {
        if (!launcher->isLive(e.live.at(i)))
            runOwner.remove(e.live.takeAt(i));
    }
}

void Scheduler::Private::decideOverlap(Entry& e, const QDateTime& at, QList<Decision>& out)
{
    auto startRun = [&](const QDateTime& t) {
        if (e.passLaunches++ == 0)
            e.passFirstLaunch = t;
        out.append(Decision{&e, Decision::Kind::Launch, t, RunStatus::Queued, {}});
    };
    if (e.passLaunches == 0) {
        prune(e);
        // The run a queued fire waited for ended unnoticed: the queued fire goes first.
        if (e.live.isEmpty() && e.rec.pendingFireAt.isValid()) {
            const QDateTime queued = e.rec.pendingFireAt;
            e.rec.pendingFireAt = QDateTime();
            startRun(queued);
        }
    }
    const bool busy = !e.live.isEmpty() || e.passLaunches > 0;
    // Who is in the way, for the ledger.
    const QString blocker =
        !e.live.isEmpty() ? QStringLiteral("previous run %1 still running").arg(e.live.constLast())
                          : QStringLiteral("the run for %1 is still running")
                                .arg(ScheduleRules::formatInstant(e.passFirstLaunch, e.zone));

    if (e.rec.overlap == QLatin1String("allow") || !busy) {
        startRun(at);
        return;
    }
    if (e.rec.overlap == QLatin1String("queue_one")) {
        if (!e.rec.pendingFireAt.isValid()) {
            // Persisted with the pass: it runs when the live run ends (runEnded or the poll).
            e.rec.pendingFireAt = at;
            return;
        }
        out.append(
            Decision{&e, Decision::Kind::Record, at, RunStatus::Skipped,
                     QStringLiteral("skipped: %1 and the fire of %2 is already queued "
                                    "(overlap queue_one)")
                         .arg(blocker, ScheduleRules::formatInstant(e.rec.pendingFireAt, e.zone))});
        return;
    }
    out.append(Decision{&e, Decision::Kind::Record, at, RunStatus::Skipped,
                        QStringLiteral("skipped: %1 (overlap skip)").arg(blocker)});
}

Status Scheduler::Private::pass(const QList<Entry*>& due, const QDateTime& now, bool startup)
{
    struct Snapshot
    {
        Entry* e;
        ScheduleRecord rec;
        QDateTime next;
        qint64 dueMs;
    };
    QList<Snapshot> snapshots;
    snapshots.reserve(due.size());
    QList<Decision> decisions;
    for (Entry* e : due) {
        snapshots.append(Snapshot{e, e->rec, e->next, e->dueMs});
        e->passLaunches = 0;
        e->passFirstLaunch = QDateTime();
        plan(*e, now, startup, decisions);
    }

    // Everything decided is written before any run starts: ledger entries and each
    // schedule's last fire in one transaction. A crash after the commit loses the runs about
    // to start (at most once); a failed commit changes nothing and the pass is retried.
    QList<ScheduleFireState> states;
    states.reserve(due.size());
    for (const Entry* e : due)
        states.append(
            ScheduleFireState{e->rec.id, e->rec.lastFireAt, e->next, e->rec.pendingFireAt});
    QList<const Decision*> recorded;
    Status st = store->transaction([&]() -> Status {
        for (const Decision& dec : std::as_const(decisions)) {
            if (dec.kind != Decision::Kind::Record)
                continue;
            NewRun n;
            n.agentId = dec.entry->rec.agentId;
            n.trigger = TriggerPrefix + dec.entry->rec.id;
            n.input = dec.entry->rec.input;
            n.status = dec.status;
            n.reason = dec.reason;
            n.scheduledFor = dec.at;
            auto r = store->createRun(n);
            if (!r) {
                // The agent was removed a moment ago (the change poll has not caught up): its
                // entry cannot exist; everything else must still be written.
                if (r.error().code == Error::Code::NotFound)
                    continue;
                return std::unexpected(r.error());
            }
            recorded.append(&dec);
        }
        return store->saveScheduleFireStates(states);
    });
    if (!st) {
        for (const Snapshot& s : std::as_const(snapshots)) {
            s.e->rec = s.rec;
            s.e->next = s.next;
            s.e->dueMs = s.dueMs;
            s.e->passLaunches = 0;
            push(*s.e);
        }
        retryAtMs = clock->now().toMSecsSinceEpoch() + qMax(1, opt.storeRetryMs);
        qCWarning(lcSchedulerService).noquote()
            << QStringLiteral("cannot record %1 schedule fire(s), retrying in %2 ms: %3")
                   .arg(due.size())
                   .arg(opt.storeRetryMs)
                   .arg(st.error().message);
        return st;
    }
    for (const Decision* dec : std::as_const(recorded))
        emit q->recorded(dec->entry->rec.id, dec->status, dec->at, dec->reason);
    for (const Decision& dec : std::as_const(decisions)) {
        if (dec.kind == Decision::Kind::Launch)
            launch(*dec.entry, dec.at);
    }
    for (Entry* e : due) {
        e->passLaunches = 0;
        push(*e);
    }
    return {};
}

void Scheduler::Private::launch(Entry& e, const QDateTime& at)
{
    auto run = launcher->launch(e.rec, at);
    if (!run) {
        // Its instant is already recorded as handled: at most once, never a retry storm.
        qCWarning(lcSchedulerService).noquote()
            << QStringLiteral("schedule %1: cannot start a run of agent %2 for %3: %4")
                   .arg(e.rec.id, e.rec.agentId, ScheduleRules::formatInstant(at, e.zone),
                        run.error().message);
        return;
    }
    e.live.append(*run);
    runOwner.insert(*run, e.rec.id);
    qCInfo(lcSchedulerService).noquote()
        << QStringLiteral("schedule %1 fired for %2: run %3")
               .arg(e.rec.id, ScheduleRules::formatInstant(at, e.zone), *run);
    emit q->fired(e.rec.id, *run, at);
}

void Scheduler::Private::launchPendingIfFree(Entry& e)
{
    if (!running || !e.rec.pendingFireAt.isValid() || !e.canFire())
        return;
    prune(e);
    if (!e.live.isEmpty())
        return;
    const QDateTime at = e.rec.pendingFireAt;
    e.rec.pendingFireAt = QDateTime();
    // Cleared in the store before the run starts, like every fire.
    if (auto st = store->saveScheduleFireStates(
            {ScheduleFireState{e.rec.id, e.rec.lastFireAt, e.next, QDateTime()}});
        !st) {
        e.rec.pendingFireAt = at;
        qCWarning(lcSchedulerService).noquote()
            << QStringLiteral("schedule %1: cannot start the queued fire yet: %2")
                   .arg(e.rec.id, st.error().message);
        return;
    }
    launch(e, at);
}

void Scheduler::Private::arm()
{
    if (!opt.timers || !running)
        return;
    const qint64 nowMs = clock->now().toMSecsSinceEpoch();
    dropStaleTop();
    qint64 delay = qMax(1, opt.wallCheckMs);
    if (!heap.empty())
        delay = qBound<qint64>(0, heap.top().dueMs - nowMs, delay);
    if (retryAtMs > nowMs)
        delay = qMax(delay, qMin<qint64>(retryAtMs - nowMs, opt.wallCheckMs));
    armWallMs = nowMs;
    plannedWakeMs = nowMs + delay;
    mono.restart();
    timer.start(int(delay));
}

void Scheduler::Private::onTimer()
{
    const qint64 nowMs = clock->now().toMSecsSinceEpoch();
    // Qt timers run on the monotonic clock, which stops during suspend and ignores clock
    // changes; comparing it with the wall clock on every wake (at least once a minute) is
    // how a suspend or a jump shows. Either way the pass below works from wall time.
    const qint64 drift = nowMs - (armWallMs + mono.elapsed());
    if (drift > opt.jumpLogThresholdMs) {
        qCInfo(lcSchedulerService).noquote()
            << QStringLiteral("wall clock moved %1 s further than the monotonic clock (suspend "
                              "and resume, or the clock was set forward): catching up")
                   .arg(double(drift) / 1000.0, 0, 'f', 1);
    } else if (drift < -opt.jumpLogThresholdMs) {
        qCInfo(lcSchedulerService).noquote()
            << QStringLiteral("wall clock went back %1 s: re-planning; no fire at or before a "
                              "schedule's last fire runs again")
                   .arg(double(-drift) / 1000.0, 0, 'f', 1);
    } else if (nowMs - plannedWakeMs > opt.jumpLogThresholdMs) {
        qCDebug(lcSchedulerService) << "woke" << nowMs - plannedWakeMs << "ms late";
    }
    q->wake();
}

void Scheduler::Private::poll()
{
    if (!running)
        return;
    auto gen = store->scheduleGeneration();
    if (!gen) {
        qCWarning(lcSchedulerService).noquote()
            << "cannot check for schedule changes:" << gen.error().message;
        return;
    }
    if (*gen != generation) {
        if (auto st = q->reload(); !st)
            return;
        q->wake();
    }
    // A run-ended notification can be missed (the run ended in another process, or the
    // supervisor was replaced): queued fires whose blocker is gone start here at the latest.
    QList<std::shared_ptr<Entry>> waiting;
    for (const std::shared_ptr<Entry>& e : std::as_const(entries))
        if (e->rec.pendingFireAt.isValid())
            waiting.append(e);
    for (const std::shared_ptr<Entry>& e : std::as_const(waiting))
        launchPendingIfFree(*e);
}

// --- Scheduler ----------------------------------------------------------------------------

Scheduler::Scheduler(Store* store, ScheduleLauncher* launcher, Clock* clock,
                     SchedulerOptions options, QObject* parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this, store, launcher, clock, std::move(options)))
{
    d->timer.setSingleShot(true);
    d->timer.setTimerType(Qt::PreciseTimer);
    connect(&d->timer, &QTimer::timeout, this, [this]() { d->onTimer(); });
    d->pollTimer.setTimerType(Qt::CoarseTimer);
    connect(&d->pollTimer, &QTimer::timeout, this, [this]() { d->poll(); });
}

Scheduler::~Scheduler()
{
    stop();
}

Status Scheduler::start()
{
    if (d->running)
        return {};
    d->startedAt = d->clock->now();
    d->retryAtMs = 0;
    // The generation first: a change made between the two reads is seen by the next poll.
    auto gen = d->store->scheduleGeneration();
    if (!gen)
        return std::unexpected(gen.error());
    auto rows = d->store->schedules();
    if (!rows)
        return std::unexpected(rows.error());
    auto live = d->store->liveScheduleRuns();
    if (!live)
        return std::unexpected(live.error());
    d->generation = *gen;
    d->entries.clear();
    d->runOwner.clear();
    d->cronCache.clear();
    d->zoneCache.clear();
    for (const ScheduleRecord& rec : std::as_const(*rows))
        d->entries.insert(rec.id, d->build(rec));
    // The engine marks runs left live as interrupted before this; these are only runs queued
    // by another process or still live in a process that shares the store.
    for (const RunRecord& r : std::as_const(*live)) {
        const QString id = r.trigger.mid(TriggerPrefix.size());
        if (auto it = d->entries.find(id); it != d->entries.end()) {
            (*it)->live.append(r.id);
            d->runOwner.insert(r.id, id);
        }
    }

    d->running = true;
    d->heap = Heap();
    const qint64 nowMs = d->startedAt.toMSecsSinceEpoch();
    QList<Entry*> due;
    int paused = 0;
    int broken = 0;
    for (const std::shared_ptr<Entry>& e : std::as_const(d->entries)) {
        paused += e->rec.paused ? 1 : 0;
        broken += e->problem.isEmpty() ? 0 : 1;
        const bool reboot = e->canFire() && e->expr->isReboot();
        if (reboot || e->rec.pendingFireAt.isValid() ||
            (e->canFire() && e->next.isValid() && e->dueMs <= nowMs))
            due.append(e.get());
        else
            d->push(*e);
    }
    if (!due.isEmpty()) {
        if (auto st = d->pass(due, d->startedAt, true); !st) {
            d->running = false;
            return st;
        }
    }
    qCInfo(lcSchedulerService).noquote()
        << QStringLiteral("scheduler started: %1 schedule(s), %2 paused, %3 that cannot fire")
               .arg(d->entries.size())
               .arg(paused)
               .arg(broken);
    if (d->opt.timers) {
        d->pollTimer.start(qMax(100, d->opt.reloadPollMs));
        d->arm();
    }
    return {};
}

void Scheduler::stop()
{
    if (!d->running)
        return;
    d->running = false;
    d->timer.stop();
    d->pollTimer.stop();
    qCInfo(lcSchedulerService) << "scheduler stopped";
}

bool Scheduler::isRunning() const
{
    return d->running;
}

void Scheduler::wake()
{
    processDue();
    d->arm();
}

void Scheduler::processDue()
{
    if (!d->running)
        return;
    const QDateTime now = d->clock->now();
    const qint64 nowMs = now.toMSecsSinceEpoch();
    if (d->retryAtMs > nowMs)
        return;
    d->retryAtMs = 0;
    QList<Entry*> due;
    for (;;) {
        d->dropStaleTop();
        if (d->heap.empty() || d->heap.top().dueMs > nowMs)
            break;
        const HeapItem item = d->heap.top();
        d->heap.pop();
        Entry* e = d->entries.value(item.id).get();
        if (!e)
            continue; // dropStaleTop() ruled this out
        e->seq = 0;
        due.append(e);
    }
    if (!due.isEmpty())
        (void)d->pass(due, now, false);
}

Status Scheduler::reload()
{
    auto gen = d->store->scheduleGeneration();
    if (!gen)
        return std::unexpected(gen.error());
    auto rows = d->store->schedules();
    if (!rows) {
        qCWarning(lcSchedulerService).noquote()
            << "cannot reload schedules:" << rows.error().message;
        return std::unexpected(rows.error());
    }
    const auto sameRules = [](const ScheduleRecord& a, const ScheduleRecord& b) {
        return a.agentId == b.agentId && a.cron == b.cron && a.tz == b.tz &&
               a.overlap == b.overlap && a.misfire == b.misfire &&
               a.misfireMaxAgeS == b.misfireMaxAgeS && a.jitterS == b.jitterS &&
               a.input == b.input && a.paused == b.paused && a.updatedAt == b.updatedAt;
    };
    QHash<QString, std::shared_ptr<Entry>> next;
    int changed = 0;
    // Texts no schedule uses any more must not pile up over weeks of edits.
    d->cronCache.clear();
    d->zoneCache.clear();
    for (const ScheduleRecord& rec : std::as_const(*rows)) {
        const std::shared_ptr<Entry> old = d->entries.value(rec.id);
        if (old && sameRules(old->rec, rec)) {
            next.insert(rec.id, old);
            continue;
        }
        ++changed;
        std::shared_ptr<Entry> e = d->build(rec);
        if (old) {
            // Same schedule id, new rules: its runs still count for the overlap policy.
            e->live = old->live;
            if (e->rec.paused)
                e->rec.pendingFireAt = QDateTime();
        }
        next.insert(rec.id, e);
    }
    int removed = 0;
    for (auto it = d->entries.cbegin(); it != d->entries.cend(); ++it) {
        if (next.contains(it.key()))
            continue;
        ++removed;
        for (const QString& run : std::as_const(it.value()->live))
            d->runOwner.remove(run);
    }
    d->entries = std::move(next);
    d->generation = *gen;
    d->rebuildHeap();
    if (changed + removed > 0) {
        qCInfo(lcSchedulerService).noquote()
            << QStringLiteral("schedules reloaded: %1 new or changed, %2 removed, %3 in all")
                   .arg(changed)
                   .arg(removed)
                   .arg(d->entries.size());
    }
    return {};
}

void Scheduler::runEnded(const QString& runId)
{
    const QString id = d->runOwner.take(runId);
    if (id.isEmpty())
        return;
    const std::shared_ptr<Entry> e = d->entries.value(id);
    if (!e)
        return;
    e->live.removeAll(runId);
    d->launchPendingIfFree(*e);
}

int Scheduler::scheduleCount() const
{
    return int(d->entries.size());
}

std::optional<QDateTime> Scheduler::nextDue(const QString& scheduleId) const
{
    const std::shared_ptr<Entry> e = d->entries.value(scheduleId);
    if (!e || !e->canFire() || !e->next.isValid())
        return std::nullopt;
    return QDateTime::fromMSecsSinceEpoch(e->dueMs, Qt::UTC);
}

std::optional<QDateTime> Scheduler::nextWake() const
{
    d->dropStaleTop();
    if (d->heap.empty())
        return std::nullopt;
    return QDateTime::fromMSecsSinceEpoch(d->heap.top().dueMs, Qt::UTC);
}

} // namespace vivarium
