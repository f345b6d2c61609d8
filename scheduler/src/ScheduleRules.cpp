// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/scheduler/ScheduleRules.h"

#include "vivarium/scheduler/CronExpression.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QStringList>

namespace vivarium {

std::optional<qint64> ScheduleRules::parseDuration(const QString& text)
{
    static const QRegularExpression re(
        QStringLiteral("\\A(?:(\\d{1,9})d)?(?:(\\d{1,9})h)?(?:(\\d{1,9})m)?(?:(\\d{1,9})s)?\\z"));
    const QString s = text.trimmed();
    if (s.isEmpty())
        return std::nullopt;
    bool plain = false;
    const qint64 seconds = s.toLongLong(&plain);
    if (plain)
        return seconds >= 0 && seconds <= MaxDurationS ? std::optional<qint64>(seconds)
                                                       : std::nullopt;
    const QRegularExpressionMatch m = re.match(s);
    if (!m.hasMatch())
        return std::nullopt;
    const qint64 units[] = {86400, 3600, 60, 1};
    qint64 total = 0;
    for (int i = 0; i < 4; ++i)
        total += m.captured(i + 1).toLongLong() * units[i];
    if (total > MaxDurationS)
        return std::nullopt;
    return total;
}

QString ScheduleRules::formatDuration(qint64 seconds)
{
    if (seconds <= 0)
        return QStringLiteral("0s");
    QString out;
    const qint64 units[] = {86400, 3600, 60, 1};
    const char names[] = {'d', 'h', 'm', 's'};
    for (int i = 0; i < 4; ++i) {
        if (seconds >= units[i]) {
            out += QString::number(seconds / units[i]) + QLatin1Char(names[i]);
            seconds %= units[i];
        }
    }
    return out;
}

QString ScheduleRules::durationProblem(const QString& text)
{
    if (parseDuration(text))
        return {};
    return QStringLiteral("\"%1\" is not a duration such as 90s, 15m or 1h30m (at most %2)")
        .arg(text, formatDuration(MaxDurationS));
}

Result<QJsonValue> ScheduleRules::parseInput(const QString& text)
{
    // Wrapped in an array so any JSON value (not only objects) is accepted.
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray('[' + text.toUtf8() + ']'), &err);
    if (err.error != QJsonParseError::NoError || doc.array().size() != 1)
        return fail(Error::Code::Parse,
                    QStringLiteral("not valid JSON: %1")
                        .arg(err.error != QJsonParseError::NoError ? err.errorString()
                                                                   : QStringLiteral("one value")));
    return doc.array().at(0);
}

QString ScheduleRules::systemZoneId()
{
    const QByteArray id = QTimeZone::systemTimeZoneId();
    if (!id.isEmpty() && QTimeZone::isTimeZoneIdAvailable(id))
        return QString::fromUtf8(id);
    return QStringLiteral("UTC");
}

QTimeZone ScheduleRules::zoneOf(const ScheduleRecord& schedule)
{
    return QTimeZone(schedule.tz.isEmpty() ? systemZoneId().toUtf8() : schedule.tz.toUtf8());
}

Status ScheduleRules::validate(const ScheduleRecord& schedule)
{
    QStringList problems;
    if (auto cron = CronExpression::parse(schedule.cron); !cron) {
        const QString why = cron.error().details.isEmpty()
                                ? cron.error().message
                                : cron.error().details.join(QStringLiteral("; "));
        problems << QStringLiteral("cron: ") + why;
    }
    if (!schedule.tz.isEmpty() && !QTimeZone::isTimeZoneIdAvailable(schedule.tz.toUtf8()))
        problems << QStringLiteral("tz: unknown time zone \"%1\" (use an IANA name such as "
                                   "\"Europe/Paris\")")
                        .arg(schedule.tz);
    static const QStringList overlaps{QStringLiteral("skip"), QStringLiteral("queue_one"),
                                      QStringLiteral("allow")};
    static const QStringList misfires{QStringLiteral("run_once"), QStringLiteral("skip")};
    if (!overlaps.contains(schedule.overlap))
        problems << QStringLiteral("overlap: \"%1\" is not one of skip, queue_one, allow")
                        .arg(schedule.overlap);
    if (!misfires.contains(schedule.misfire))
        problems
            << QStringLiteral("misfire: \"%1\" is not one of run_once, skip").arg(schedule.misfire);
    if (schedule.misfireMaxAgeS < 0 || schedule.misfireMaxAgeS > MaxDurationS)
        problems << QStringLiteral("misfire-max-age: must be from 0s to %1")
                        .arg(formatDuration(MaxDurationS));
    if (schedule.jitterS < 0 || schedule.jitterS > MaxDurationS)
        problems
            << QStringLiteral("jitter: must be from 0s to %1").arg(formatDuration(MaxDurationS));
    if (problems.isEmpty())
        return {};
    return fail(Error::Code::Validation, QStringLiteral("invalid schedule"), problems);
}

QString ScheduleRules::formatInstant(const QDateTime& instant, const QTimeZone& zone)
{
    if (!instant.isValid())
        return {};
    const QDateTime local = zone.isValid() ? instant.toTimeZone(zone) : instant.toUTC();
    const int offset = local.offsetFromUtc();
    const int abs = offset < 0 ? -offset : offset;
    // Written out rather than Qt::ISODate, which prints "Z" for some UTC zones: one shape always.
    return local.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss")) +
           QLatin1Char(offset < 0 ? '-' : '+') +
           QStringLiteral("%1:%2")
               .arg(abs / 3600, 2, 10, QLatin1Char('0'))
               .arg((abs % 3600) / 60, 2, 10, QLatin1Char('0'));
}

} // namespace vivarium
