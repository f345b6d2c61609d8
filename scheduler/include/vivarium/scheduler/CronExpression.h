// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QTimeZone>

#include <memory>
#include <optional>

namespace vivarium {

/// A cron expression with cronie's semantics (DESIGN section 6): 5 fields or 6 with a leading
/// seconds field; names for months and days; ranges, lists, steps; 7 = Sunday; macros
/// @yearly @annually @monthly @weekly @daily @midnight @hourly @reboot. Day-of-month and
/// day-of-week: if both are restricted either may match; a field whose text starts with `*`
/// counts as unrestricted. Evaluated in an IANA time zone with cronie's DST rules: a fixed-time
/// job whose local time is skipped runs at the first valid instant after the jump; a fixed-time
/// job in a repeated hour runs once; jobs with a wildcard hour or minute follow the wall clock.
/// Immutable, cheap to copy, thread-safe.
///
/// ## Syntax
///
/// | field        | values | names      | extensions (Quartz-style, not in cronie) |
/// |--------------|--------|------------|-------------------------------------------|
/// | second (opt) | 0-59   |            |                                           |
/// | minute       | 0-59   |            |                                           |
/// | hour         | 0-23   |            |                                           |
/// | day-of-month | 1-31   |            | `L`, `L-n`, `LW`, `nW`, `?`               |
/// | month        | 1-12   | jan..dec   |                                           |
/// | day-of-week  | 0-7    | sun..sat   | `xL`, `x#n`, `?`                          |
///
/// - Fields are separated by spaces or tabs. With 6 fields the first is seconds; with 5 every
///   fire time is at second 0.
/// - Each field is a comma-separated list of elements: `*`, `a`, `a-b`, `*` or `a-b` followed by
///   `/step`, and `a/step`, which means `a-max/step` (as cronie and Debian cron).
/// - A reversed range (`5-1`) is an error, as in cronie; so is a step of 0 or a step larger
///   than the field's range, an empty list element (`1,,2`) and any character other than
///   letters, digits and `* , - / #`.
/// - Names are the three-letter English abbreviations, in any case, usable wherever a number
///   is (single values and range ends). `7` and `sun` are Sunday; as the end of a range `sun`
///   means 7, so `fri-sun` is Friday through Sunday (cronie would read it as the reversed 5-0).
/// - Macros, in any case: `@yearly` = `@annually` = `0 0 1 1 *`, `@monthly` = `0 0 1 * *`,
///   `@weekly` = `0 0 * * 0`, `@daily` = `@midnight` = `0 0 * * *`, `@hourly` = `0 * * * *`,
///   and `@reboot` (isReboot(); next() is always nullopt). Like cronie, `@hourly` is a wildcard
///   job for DST purposes and the others are fixed-time jobs.
/// - Day rule, exactly cronie's: the day-of-month or day-of-week field counts as unrestricted
///   when its text starts with `*` (so `*/2` is "unrestricted" although it does restrict). If
///   either is unrestricted a day must match both fields; if both are restricted a day matching
///   either one fires. `0 0 */2 * 1` is odd days that are Mondays; `0 0 1-31/2 * 1` is odd days
///   and also every Monday.
/// - Extensions: `L` the last day of the month, `L-n` n days before it, `LW` the last weekday
///   (Monday-Friday) of the month, `15W` the weekday nearest the 15th without leaving the month
///   (`1W` on a Saturday is Monday the 3rd; a day the month does not have never matches);
///   `5L` or `friL` the last Friday of the month, `5#3` or `fri#3` the third Friday (n = 1-5).
///   They may appear in lists (`1,L`) and count as restrictions for the day rule. `L` alone
///   in the day-of-week field is rejected as ambiguous. `?` (alone, day fields only) means the
///   same as `*`, Quartz-style.
/// - Not supported: cronie's random `~` ranges, `H` hashes, a year field.
/// - An expression whose day fields can match no day of any month it names (`0 0 30 2 *`,
///   `0 0 31 4,6,9,11 *`) is rejected at parse time; February 29 is valid (leap years only).
///
/// ## Time zones and DST
///
/// Matching is done on the zone's local wall-clock time. Around a UTC-offset transition the
/// result is what cronie's main loop (cron.c, the `timeDiff`/`wakeupKind` cases) does when the
/// zone is the system zone. A job is a *wildcard* job when its minute or hour field starts
/// with `*` (cronie's MIN_STAR/HR_STAR; the seconds field does not count), else *fixed-time*.
/// - Forward shift (gap) of 5 to 179 minutes (every real DST change, Lord Howe's 30 minutes
///   included): wildcard jobs simply have no runs at the skipped local times; a fixed-time job
///   matching any skipped local time runs once at the transition instant (the first valid
///   instant, e.g. 03:00 for New York's 02:00-02:59 gap), merged with a run due at that instant.
/// - Forward shift under 5 minutes: every job catches up at the transition instant.
/// - Forward shift of 3 hours or more (Pacific/Apia skipping 2011-12-30): skipped times are
///   gone for every job.
/// - Backward shift (repeated local times) up to 181 minutes: wildcard jobs run in both passes,
///   fixed-time jobs only in the first.
/// - Backward shift of 182 minutes or more: every job runs in both passes.
/// Deviation from cronie: cronie works in whole minutes and, for 6-field expressions we have
/// seconds it never had; a catch-up run happens at the transition instant itself (second 0 of
/// the first minute after the jump), not a few seconds later. Cronie's CRON_TZ jobs are
/// suppressed during the *system* zone's transitions; here each schedule's own zone is
/// treated as if it were the system zone, which is what cronie does for its own zone.
///
/// ## Bounds
///
/// next() searches at most 401 years ahead (a valid expression always fires within one
/// 400-year Gregorian cycle) and returns nullopt beyond that; it never steps minute by minute.
class CronExpression
{
public:
    /**
     * Parse. Validation errors name the field and the offending token, e.g.
     * `day-of-week field: "8" is out of range 0-7`; an expression that can never fire
     * (`0 0 30 2 *`) is rejected with the reason.
     */
    static Result<CronExpression> parse(const QString& text);

    QString text() const;    ///< as given, trimmed
    bool isReboot() const;   ///< @reboot: fires once when the engine starts, never by time
    bool hasSeconds() const; ///< 6-field form
    /**
     * Whether the minute or hour field starts with `*` (or the macro is @hourly): such jobs
     * follow the wall clock across DST changes; the others are fixed-time jobs. (Addition.)
     */
    bool isWildcardJob() const;

    /**
     * The first fire time strictly after `after`, in `zone`; nullopt for @reboot, an invalid
     * `after` or `zone`, or nothing within the search bound. Fire times are whole seconds.
     */
    std::optional<QDateTime> next(const QDateTime& after, const QTimeZone& zone) const;
    /** The next `count` fire times after `after`, strictly increasing. */
    QList<QDateTime> next(const QDateTime& after, const QTimeZone& zone, int count) const;

    /** The expression in words, e.g. "at 08:00 on Monday through Friday". */
    QString explain() const;

    CronExpression(const CronExpression&);
    CronExpression& operator=(const CronExpression&);
    CronExpression(CronExpression&&) noexcept;
    CronExpression& operator=(CronExpression&&) noexcept;
    ~CronExpression();

private:
    struct Data;
    explicit CronExpression(std::shared_ptr<const Data> d);
    std::shared_ptr<const Data> d;
};

} // namespace vivarium
