// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

// The parsed form of a cron expression and the calendar arithmetic the search needs. Private to
// vivarium_scheduler: CronExpression.h is the interface.

#include "vivarium/core/Error.h"

#include <QString>

#include <array>
#include <cstdint>

namespace vivarium::cron {

enum class FieldId { Second, Minute, Hour, DayOfMonth, Month, DayOfWeek };

/** "day-of-week" etc., as used in error messages. */
QString fieldName(FieldId f);

/**
 * One expression as bit sets. Bit i of a set means value i matches (days and months are
 * 1-based, so bit 0 of `days` and `months` is never set; weekdays use 0 = Sunday, 7 is folded
 * into 0).
 */
struct Spec
{
    std::uint64_t seconds = 1; ///< 5-field expressions fire at second 0
    std::uint64_t minutes = 0;
    std::uint32_t hours = 0;
    std::uint32_t days = 0;
    std::uint16_t months = 0;
    std::uint8_t weekdays = 0;

    // Quartz-style day extensions.
    std::uint32_t lastDayMinus = 0;           ///< bit n: "L-n" (n = 0 is plain "L")
    std::uint32_t nearestWeekday = 0;         ///< bit d: "dW"
    bool lastWeekday = false;                 ///< "LW"
    std::uint8_t lastOfWeekday = 0;           ///< bit w: "wL", the last w-day of the month
    std::array<std::uint8_t, 5> nthWeekday{}; ///< [n-1] bit w: "w#n"

    // cronie's flags: a field whose text starts with `*` (or our `?`) is "unrestricted" for the
    // day-of-month/day-of-week rule; a job whose minute or hour starts with `*` is a wildcard
    // job for the DST rules.
    bool minuteStar = false;
    bool hourStar = false;
    bool domStar = false;
    bool dowStar = false;

    bool hasSeconds = false;
    bool reboot = false;
    std::array<QString, 6> texts; ///< each field's text, indexed by FieldId

    bool fixedTime() const { return !minuteStar && !hourStar; }
    bool hasDomExtensions() const { return lastDayMinus || nearestWeekday || lastWeekday; }
    bool hasDowExtensions() const
    {
        if (lastOfWeekday)
            return true;
        for (std::uint8_t n : nthWeekday)
            if (n)
                return true;
        return false;
    }
};

/** Parse text (trimmed by the caller) into a Spec, or a Validation error naming field + token. */
Result<Spec> parseSpec(const QString& text);

/** The sentence for explain(). */
QString describe(const Spec& spec);

// ---- calendar ---------------------------------------------------------------------------

constexpr std::int64_t kSecondsPerDay = 86400;

inline bool isLeapYear(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

inline int daysInMonth(int y, int m)
{
    static constexpr int kDays[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeapYear(y) ? 29 : kDays[m];
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
inline std::int64_t daysFromCivil(std::int64_t y, int m, int d)
{
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil
{
    int year = 1970;
    int month = 1;
    int day = 1;
};

inline Civil civilFromDays(std::int64_t z)
{
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const int d = int(doy - (153 * mp + 2) / 5 + 1);
    const int m = int(mp < 10 ? mp + 3 : mp - 9);
    return Civil{int(yoe + era * 400 + (m <= 2)), m, d};
}

/** 0 = Sunday. */
inline int weekdayFromDays(std::int64_t z)
{
    return int(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

/**
 * The days of a month that match the day-of-month and day-of-week fields (bit d = day d), for a
 * month of `dim` days whose first day is weekday `firstWeekday`. This is where cronie's rule
 * lives: if either field is unrestricted (text starts with `*`) both must match, else either.
 */
std::uint32_t dayMaskForShape(const Spec& spec, int dim, int firstWeekday);

inline std::uint32_t dayMaskForMonth(const Spec& spec, int y, int m)
{
    return dayMaskForShape(spec, daysInMonth(y, m), weekdayFromDays(daysFromCivil(y, m, 1)));
}

} // namespace vivarium::cron
