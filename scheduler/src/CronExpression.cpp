// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/scheduler/CronExpression.h"

#include "CronSpec.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace vivarium {

using namespace cron;

namespace {

constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

/**
 * How far ahead next() looks, in years. Parsing rejects expressions that match no day in any
 * month shape, and every month shape recurs within one 400-year Gregorian cycle, so a valid
 * expression always has a match inside this window: the bound only stops runaway searches.
 */
constexpr int kHorizonYears = 401;

/**
 * More than any UTC offset (tzdata's extremes are about +-16 h, local mean time included): an
 * instant this far after a local time t is certain to be at or after t in every zone.
 */
constexpr std::int64_t kOffsetSafety = 2 * kSecondsPerDay;

/** Upper bound on the zone segments one search visits; jumps keep real searches far below it. */
constexpr int kMaxSegments = 4096;

std::int64_t floorDiv(std::int64_t a, std::int64_t b)
{
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/**
 * The first local wall-clock time (seconds since 1970-01-01T00:00 local, no zone) at or after
 * `from` that matches every field, or nullopt if none before the end of `lastYear`. Skips by
 * month, day, hour and minute through the bit sets instead of stepping.
 */
std::optional<std::int64_t> firstLocalMatch(const Spec& s, std::int64_t from, int lastYear)
{
    const std::int64_t dayNumber = floorDiv(from, kSecondsPerDay);
    const int secondOfDay = int(from - dayNumber * kSecondsPerDay);
    const Civil c = civilFromDays(dayNumber);
    int y = c.year;
    int m = c.month;
    int d = c.day;
    int h = secondOfDay / 3600;
    int mi = secondOfDay / 60 % 60;
    int sec = secondOfDay % 60;

    const auto startOfNextMonth = [&] {
        if (++m > 12) {
            m = 1;
            ++y;
        }
        d = 1;
        h = mi = sec = 0;
    };
    const auto startOfNextDay = [&] {
        if (++d > daysInMonth(y, m)) {
            startOfNextMonth();
            return;
        }
        h = mi = sec = 0;
    };

    for (;;) {
        if (y > lastYear)
            return std::nullopt;
        if (!(s.months >> m & 1u)) {
            const std::uint32_t later = s.months & ~((std::uint32_t(2) << m) - 1);
            if (later) {
                m = std::countr_zero(later);
            } else {
                ++y;
                m = std::countr_zero(std::uint32_t(s.months));
            }
            d = 1;
            h = mi = sec = 0;
            continue;
        }
        const std::uint32_t days = dayMaskForMonth(s, y, m) & ~((std::uint32_t(1) << d) - 1);
        if (!days) {
            startOfNextMonth();
            continue;
        }
        if (const int nd = std::countr_zero(days); nd != d) {
            d = nd;
            h = mi = sec = 0;
        }
        const std::uint32_t hours = s.hours & ~((std::uint32_t(1) << h) - 1);
        if (!hours) {
            startOfNextDay();
            continue;
        }
        if (const int nh = std::countr_zero(hours); nh != h) {
            h = nh;
            mi = sec = 0;
        }
        const std::uint64_t minutes = s.minutes & ~((std::uint64_t(1) << mi) - 1);
        if (!minutes) {
            if (++h > 23)
                startOfNextDay();
            else
                mi = sec = 0;
            continue;
        }
        if (const int nm = std::countr_zero(minutes); nm != mi) {
            mi = nm;
            sec = 0;
        }
        const std::uint64_t seconds = s.seconds & ~((std::uint64_t(1) << sec) - 1);
        if (!seconds) {
            if (++mi > 59) {
                mi = 0;
                if (++h > 23)
                    startOfNextDay();
                else
                    sec = 0;
            } else {
                sec = 0;
            }
            continue;
        }
        sec = std::countr_zero(seconds);
        return daysFromCivil(y, m, d) * kSecondsPerDay + h * 3600 + mi * 60 + sec;
    }
}

/** A stretch of time with one UTC offset, between two transitions of the zone. */
struct Segment
{
    std::int64_t start = std::numeric_limits<std::int64_t>::min(); ///< transition, or none
    std::int64_t end = kNoLimit;                                   ///< next transition, or none
    int offset = 0;
    int offsetBefore = 0; ///< in effect before `start`
};

QDateTime utcAt(std::int64_t secs)
{
    return QDateTime::fromSecsSinceEpoch(secs, Qt::UTC);
}

Segment segmentAt(const QTimeZone& zone, std::int64_t t)
{
    Segment seg;
    const QDateTime at = utcAt(t);
    seg.offset = zone.offsetFromUtc(at);
    seg.offsetBefore = seg.offset;
    if (!zone.hasTransitions())
        return seg;
    const QTimeZone::OffsetData prev = zone.previousTransition(utcAt(t + 1));
    if (prev.atUtc.isValid()) {
        const std::int64_t s = prev.atUtc.toSecsSinceEpoch();
        if (s <= t) {
            seg.start = s;
            seg.offsetBefore = zone.offsetFromUtc(utcAt(s - 1));
        }
    }
    const QTimeZone::OffsetData next = zone.nextTransition(at);
    if (next.atUtc.isValid()) {
        const std::int64_t e = next.atUtc.toSecsSinceEpoch();
        if (e > t)
            seg.end = e;
    }
    return seg;
}

// cronie's cron.c compares its virtual clock (local minutes) with the real one every minute and
// classifies a jump of `timeDiff` minutes: 1 normal; 2..5 "small" (run every job for each missed
// minute); 6..180 "medium" (wildcard jobs for the current minute, fixed-time jobs for every
// missed minute); above 180 or below -180 "large" (jump, run what matches now); otherwise
// "negative" (only wildcard jobs until the clock catches up). A forward DST shift of s minutes
// is timeDiff = s + 1; a backward one is timeDiff = 1 - s.

/** Whether local times skipped by a forward shift of `shift` seconds fire at the transition. */
bool catchesUpGap(const Spec& s, int shift)
{
    const int minutes = shift / 60;
    if (minutes + 1 <= 5)
        return true; // small: every job runs for each missed minute
    if (minutes + 1 <= 180)
        return s.fixedTime(); // medium: fixed-time jobs only
    return false;             // large: the skipped times are simply gone
}

/** Whether local times repeated by a backward shift of `shift` seconds fire again. */
bool firesInRepeat(const Spec& s, int shift)
{
    const int minutes = shift / 60;
    if (1 - minutes < -180)
        return true;       // large: cronie jumps its virtual clock back and runs everything again
    return !s.fixedTime(); // negative: wildcard jobs only
}

/** The first fire instant (UTC seconds) strictly after `after`, cronie's DST rules applied. */
std::optional<std::int64_t> nextFire(const Spec& s, std::int64_t after, const QTimeZone& zone)
{
    std::int64_t t = after + 1;
    const int lastYear = civilFromDays(floorDiv(t, kSecondsPerDay)).year + kHorizonYears;

    // The first local match at or after memoFrom; still the answer for any later `from` up to
    // it, which spares most segments a fresh search.
    std::int64_t memoFrom = kNoLimit;
    std::optional<std::int64_t> memoMatch;
    const auto firstMatch = [&](std::int64_t from) {
        if (from >= memoFrom && (!memoMatch || *memoMatch >= from))
            return memoMatch;
        memoFrom = from;
        memoMatch = firstLocalMatch(s, from, lastYear);
        return memoMatch;
    };

    for (int visited = 0; visited < kMaxSegments; ++visited) {
        const Segment seg = segmentAt(zone, t);
        if (seg.start == t && seg.offset > seg.offsetBefore &&
            catchesUpGap(s, seg.offset - seg.offsetBefore)) {
            // Local times in [gapFrom, gapTo) never happen: cronie runs what they would have
            // run at the first minute after the jump, which is the transition instant t.
            const std::int64_t gapFrom = t + seg.offsetBefore;
            const std::int64_t gapTo = t + seg.offset;
            if (const std::optional<std::int64_t> inGap = firstMatch(gapFrom);
                inGap && *inGap < gapTo)
                return t;
        }
        std::int64_t from = t + seg.offset;
        if (seg.offsetBefore > seg.offset && !firesInRepeat(s, seg.offsetBefore - seg.offset)) {
            // The wall-clock times before the end of the repeated stretch already had their
            // turn before the transition.
            from = std::max(from, seg.start + seg.offsetBefore);
        }
        const std::optional<std::int64_t> match = firstMatch(from);
        if (!match)
            return std::nullopt;
        if (seg.end == kNoLimit || *match < seg.end + seg.offset)
            return *match - seg.offset;

        // The next segment starts at the transition, where a catch-up may be due.
        t = seg.end;
        // Nothing matches before memoMatch in local time; once past the reach of any offset
        // from memoFrom, jump to just before it instead of visiting every transition between.
        if (memoMatch && t >= memoFrom + kOffsetSafety && *memoMatch - kOffsetSafety > t)
            t = *memoMatch - kOffsetSafety;
    }
    return std::nullopt;
}

} // namespace

struct CronExpression::Data
{
    QString text;
    Spec spec;
};

CronExpression::CronExpression(std::shared_ptr<const Data> data)
    : d(std::move(data))
{}

CronExpression::CronExpression(const CronExpression&) = default;
CronExpression& CronExpression::operator=(const CronExpression&) = default;
CronExpression::CronExpression(CronExpression&&) noexcept = default;
CronExpression& CronExpression::operator=(CronExpression&&) noexcept = default;
CronExpression::~CronExpression() = default;

Result<CronExpression> CronExpression::parse(const QString& text)
{
    const QString trimmed = text.trimmed();
    auto spec = parseSpec(trimmed);
    if (!spec)
        return std::unexpected(spec.error());
    auto data = std::make_shared<Data>();
    data->text = trimmed;
    data->spec = std::move(*spec);
    return CronExpression(std::move(data));
}

QString CronExpression::text() const
{
    return d->text;
}

bool CronExpression::isReboot() const
{
    return d->spec.reboot;
}

bool CronExpression::hasSeconds() const
{
    return d->spec.hasSeconds;
}

bool CronExpression::isWildcardJob() const
{
    return !d->spec.reboot && !d->spec.fixedTime();
}

std::optional<QDateTime> CronExpression::next(const QDateTime& after, const QTimeZone& zone) const
{
    if (d->spec.reboot || !after.isValid() || !zone.isValid())
        return std::nullopt;
    const std::int64_t afterSecs = floorDiv(after.toMSecsSinceEpoch(), 1000);
    const std::optional<std::int64_t> fire = nextFire(d->spec, afterSecs, zone);
    if (!fire)
        return std::nullopt;
    return QDateTime::fromSecsSinceEpoch(*fire, zone);
}

QList<QDateTime> CronExpression::next(const QDateTime& after, const QTimeZone& zone,
                                      int count) const
{
    QList<QDateTime> out;
    if (d->spec.reboot || !after.isValid() || !zone.isValid() || count <= 0)
        return out;
    out.reserve(count);
    std::int64_t t = floorDiv(after.toMSecsSinceEpoch(), 1000);
    while (out.size() < count) {
        const std::optional<std::int64_t> fire = nextFire(d->spec, t, zone);
        if (!fire)
            break;
        out.append(QDateTime::fromSecsSinceEpoch(*fire, zone));
        t = *fire;
    }
    return out;
}

QString CronExpression::explain() const
{
    return describe(d->spec);
}

} // namespace vivarium
