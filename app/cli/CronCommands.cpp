// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium cron next|explain: try a cron expression without creating a schedule.
#include "Cli.h"

#include "vivarium/scheduler/CronExpression.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTimeZone>

#include <algorithm>
#include <cstdlib>

namespace vivarium::cli {

namespace {

constexpr int kDefaultCount = 5;
constexpr int kMaxCount = 1000;

/**
 * "2026-03-29T03:00:00+02:00": always seconds and the zone's numeric offset (never "Z"), so
 * lines from different zones compare and parse alike.
 */
QString isoWithOffset(const QDateTime& dt)
{
    const int offset = dt.offsetFromUtc();
    const int magnitude = std::abs(offset);
    QString out = dt.toString(QStringLiteral("yyyy-MM-dd'T'HH:mm:ss"));
    out += offset < 0 ? QLatin1Char('-') : QLatin1Char('+');
    out += QStringLiteral("%1:%2")
               .arg(magnitude / 3600, 2, 10, QLatin1Char('0'))
               .arg(magnitude / 60 % 60, 2, 10, QLatin1Char('0'));
    if (magnitude % 60 != 0) // local mean time offsets before ~1900 have seconds
        out += QStringLiteral(":%1").arg(magnitude % 60, 2, 10, QLatin1Char('0'));
    return out;
}

/**
 * A wall-clock time in `zone` as an instant: a time that occurs twice means its first
 * occurrence; a time skipped by a forward shift means the transition (the first valid instant
 * after it), which is also what a fixed-time cron job does.
 */
QDateTime resolveLocal(const QDate& date, const QTime& time, const QTimeZone& zone)
{
    const qint64 naive = QDateTime(date, time, Qt::UTC).toMSecsSinceEpoch();
    const qint64 window = qint64(2) * 86400 * 1000; // wider than any offset
    const QDateTime from = QDateTime::fromMSecsSinceEpoch(naive - window, Qt::UTC);
    const QDateTime to = QDateTime::fromMSecsSinceEpoch(naive + window, Qt::UTC);

    QList<int> offsets{zone.offsetFromUtc(from)};
    const QList<QTimeZone::OffsetData> transitions =
        zone.hasTransitions() ? zone.transitions(from, to) : QList<QTimeZone::OffsetData>();
    for (const QTimeZone::OffsetData& t : transitions)
        offsets << t.offsetFromUtc;

    std::optional<qint64> best;
    for (int offset : offsets) {
        const qint64 candidate = naive - qint64(offset) * 1000;
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(candidate, Qt::UTC);
        if (zone.offsetFromUtc(at) == offset && (!best || candidate < *best))
            best = candidate;
    }
    if (!best) {
        // In a gap: the transition whose jump covers the time.
        int before = zone.offsetFromUtc(from);
        for (const QTimeZone::OffsetData& t : transitions) {
            const qint64 at = t.atUtc.toMSecsSinceEpoch();
            if (at + qint64(before) * 1000 <= naive && naive < at + qint64(t.offsetFromUtc) * 1000)
                best = at;
            before = t.offsetFromUtc;
        }
    }
    if (!best)
        return {};
    return QDateTime::fromMSecsSinceEpoch(*best, zone);
}

/** ISO 8601 with offset or Z, or a local time (date alone = midnight) meant in `zone`. */
QDateTime parseAfter(QString text, const QTimeZone& zone)
{
    text = text.trimmed();
    if (text.size() > 10 && text.at(10) == QLatin1Char(' '))
        text[10] = QLatin1Char('T');
    const QDateTime parsed = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!parsed.isValid())
        return {};
    if (parsed.timeSpec() == Qt::LocalTime)
        return resolveLocal(parsed.date(), parsed.time(), zone);
    return parsed;
}

/** The expression argument, or an exit code after telling the user what is wrong. */
std::optional<int> takeExpression(const QCommandLineParser& p, const QString& command,
                                  QString* expr)
{
    const QStringList args = p.positionalArguments();
    if (args.size() > 1)
        return usageError(command,
                          QStringLiteral("EXPR must be one argument: quote it, e.g. vivarium %1 "
                                         "'*/15 * * * *' (got %2 arguments)")
                              .arg(command)
                              .arg(args.size()));
    *expr = args.first();
    return std::nullopt;
}

} // namespace

int cmdCronNext(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("EXPR"),
                            QStringLiteral("cron expression, quoted: 5 or 6 fields or a macro"));
    const QCommandLineOption tzOption(QStringLiteral("tz"),
                                      QStringLiteral("IANA time zone (default: the system zone)."),
                                      QStringLiteral("ZONE"));
    const QCommandLineOption afterOption(
        QStringLiteral("after"),
        QStringLiteral("Start strictly after this instant: ISO 8601 with offset or Z, or a local "
                       "time in --tz (default: now)."),
        QStringLiteral("ISO8601"));
    const QCommandLineOption countOption(
        QStringLiteral("count"),
        QStringLiteral("How many fire times (default %1, at most %2).")
            .arg(kDefaultCount)
            .arg(kMaxCount),
        QStringLiteral("N"));
    p.addOption(tzOption);
    p.addOption(afterOption);
    p.addOption(countOption);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p,
                              QStringLiteral("Print the next fire times of a cron expression, one "
                                             "per line, in ISO 8601 with the zone's offset."),
                              1, -1))
        return *stop;
    const QString command = inv.commandName();
    QString text;
    if (auto stop = takeExpression(p, command, &text))
        return *stop;

    auto expr = CronExpression::parse(text);
    if (!expr)
        return usageError(command, expr.error().message);

    QTimeZone zone = QTimeZone::systemTimeZone();
    if (p.isSet(tzOption)) {
        const QByteArray id = p.value(tzOption).toUtf8();
        if (!QTimeZone::isTimeZoneIdAvailable(id))
            return usageError(command,
                              QStringLiteral("unknown time zone \"%1\" (use an IANA name such as "
                                             "Europe/Paris)")
                                  .arg(p.value(tzOption)));
        zone = QTimeZone(id);
    }

    int count = kDefaultCount;
    if (p.isSet(countOption)) {
        bool ok = false;
        count = p.value(countOption).toInt(&ok);
        if (!ok || count < 1 || count > kMaxCount)
            return usageError(command,
                              QStringLiteral("--count needs a whole number from 1 to %1, got "
                                             "\"%2\"")
                                  .arg(kMaxCount)
                                  .arg(p.value(countOption)));
    }

    QDateTime after = QDateTime::currentDateTimeUtc();
    if (p.isSet(afterOption)) {
        after = parseAfter(p.value(afterOption), zone);
        if (!after.isValid())
            return usageError(command,
                              QStringLiteral("--after needs an ISO 8601 time such as "
                                             "2026-03-29T01:59:00+01:00, 2026-03-29T00:59:00Z or "
                                             "a local 2026-03-29T01:59, got \"%1\"")
                                  .arg(p.value(afterOption)));
    }
    after = after.toTimeZone(zone);

    const QList<QDateTime> times =
        expr->isReboot() ? QList<QDateTime>() : expr->next(after, zone, count);
    if (expr->isReboot())
        printErr(QStringLiteral("vivarium %1: @reboot fires only when the engine starts; it has "
                                "no next time")
                     .arg(command));
    else if (times.size() < count)
        printErr(QStringLiteral("vivarium %1: no further fire times within the search bound "
                                "(about 400 years)")
                     .arg(command));

    if (p.isSet(jsonOption())) {
        QJsonArray next;
        for (const QDateTime& t : times)
            next << isoWithOffset(t);
        printJson(QJsonObject{{QStringLiteral("expression"), expr->text()},
                              {QStringLiteral("timezone"), QString::fromUtf8(zone.id())},
                              {QStringLiteral("after"), isoWithOffset(after)},
                              {QStringLiteral("next"), next},
                              {QStringLiteral("explain"), expr->explain()}});
        return ExitOk;
    }
    if (times.isEmpty())
        return ExitOk;
    QStringList lines;
    for (const QDateTime& t : times)
        lines << isoWithOffset(t);
    printOut(lines.join(QLatin1Char('\n')));
    return ExitOk;
}

int cmdCronExplain(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("EXPR"),
                            QStringLiteral("cron expression, quoted: 5 or 6 fields or a macro"));
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("Say a cron expression in words."), 1, -1))
        return *stop;
    const QString command = inv.commandName();
    QString text;
    if (auto stop = takeExpression(p, command, &text))
        return *stop;
    auto expr = CronExpression::parse(text);
    if (!expr)
        return usageError(command, expr.error().message);
    if (p.isSet(jsonOption())) {
        printJson(QJsonObject{{QStringLiteral("expression"), expr->text()},
                              {QStringLiteral("explain"), expr->explain()}});
        return ExitOk;
    }
    printOut(expr->explain());
    return ExitOk;
}

} // namespace vivarium::cli
