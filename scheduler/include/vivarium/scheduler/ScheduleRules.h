// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Store.h"

#include <QDateTime>
#include <QJsonValue>
#include <QString>
#include <QTimeZone>

#include <optional>

namespace vivarium {

/**
 * The rules a schedule must follow and how its times are written, shared by the CLI, the
 * scheduler service and (later) the API so they say the same thing. Stateless.
 */
class ScheduleRules
{
public:
    /** Longest duration accepted (misfire max age, jitter): one leap year, as agent files. */
    static constexpr qint64 MaxDurationS = 366LL * 24 * 3600;
    static constexpr int DefaultMisfireMaxAgeS = 3600;

    /**
     * "90s", "15m", "1h30m", "2d", "1d12h" or whole seconds ("45"); nullopt if malformed or
     * beyond MaxDurationS. Same grammar as durations in agent files.
     */
    static std::optional<qint64> parseDuration(const QString& text);
    /** Inverse of parseDuration for display: 5400 -> "1h30m", 0 -> "0s". */
    static QString formatDuration(qint64 seconds);
    /**
     * Why `text` is not a duration, in the words every front end uses (`"5x" is not a duration
     * such as 90s, 15m or 1h30m (at most 366d)`); empty when parseDuration accepts it.
     */
    static QString durationProblem(const QString& text);
    /**
     * A schedule's run input from its JSON text: any JSON value (object, array, string, ...).
     * Parse error: `not valid JSON: <why>`.
     */
    static Result<QJsonValue> parseInput(const QString& text);

    /** The zone a schedule without one gets: the system zone, "UTC" if it has no IANA id. */
    static QString systemZoneId();
    /** The zone of a stored schedule; an empty id (rows from before schema 4) = system zone. */
    static QTimeZone zoneOf(const ScheduleRecord& schedule);

    /**
     * Check everything the store does not: the cron expression (with CronExpression::parse)
     * and the zone. Validation error; each detail names the field, e.g.
     * `cron: day-of-week field: "8" is out of range 0-7` or `tz: unknown time zone "Mars/Base"`.
     */
    static Status validate(const ScheduleRecord& schedule);

    /** ISO 8601 with the zone's UTC offset, to the second: "2026-11-28T09:00:00+01:00". */
    static QString formatInstant(const QDateTime& instant, const QTimeZone& zone);
};

} // namespace vivarium
