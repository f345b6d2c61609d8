// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// CronExpression::explain(): plain English built from the parsed bit sets, never from the
// text, so what it says is what next() does. Common shapes get natural phrases; anything else
// is listed value by value rather than approximated.
#include "CronSpec.h"

#include <QList>
#include <QStringList>

#include <functional>

namespace vivarium::cron {

namespace {

QList<int> valuesOf(std::uint64_t bits, int min, int max)
{
    QList<int> out;
    for (int v = min; v <= max; ++v)
        if (bits >> v & 1u)
            out << v;
    return out;
}

/** "a", "a and b", "a, b and c". */
QString joinWords(const QStringList& words, const QString& last = QStringLiteral(" and "))
{
    if (words.size() <= 1)
        return words.value(0);
    return words.mid(0, words.size() - 1).join(QStringLiteral(", ")) + last + words.last();
}

QString ordinal(int n)
{
    const int tens = n % 100;
    const char* suffix = "th";
    if (tens < 11 || tens > 13) {
        switch (n % 10) {
        case 1:
            suffix = "st";
            break;
        case 2:
            suffix = "nd";
            break;
        case 3:
            suffix = "rd";
            break;
        default:
            break;
        }
    }
    return QString::number(n) + QLatin1String(suffix);
}

QString twoDigits(int v)
{
    return QStringLiteral("%1").arg(v, 2, 10, QLatin1Char('0'));
}

QString clock(int h, int m, int s, bool withSeconds)
{
    QString t = twoDigits(h) + QLatin1Char(':') + twoDigits(m);
    if (withSeconds)
        t += QLatin1Char(':') + twoDigits(s);
    return t;
}

/** The shape of a set of values, for choosing a phrase. */
struct Shape
{
    enum Kind { All, Single, Range, Step, List } kind = List;
    int first = 0;
    int last = 0;
    int step = 1;
};

Shape shapeOf(const QList<int>& v, int min, int max)
{
    Shape s;
    s.first = v.first();
    s.last = v.last();
    if (v.size() == max - min + 1) {
        s.kind = Shape::All;
        return s;
    }
    if (v.size() == 1) {
        s.kind = Shape::Single;
        return s;
    }
    if (v.size() >= 3 && s.last - s.first + 1 == v.size()) {
        s.kind = Shape::Range;
        return s;
    }
    if (v.size() >= 3) {
        const int step = v.at(1) - v.at(0);
        bool progression = step > 1;
        for (qsizetype i = 2; progression && i < v.size(); ++i)
            progression = v.at(i) - v.at(i - 1) == step;
        if (progression) {
            s.kind = Shape::Step;
            s.step = step;
            return s;
        }
    }
    s.kind = Shape::List;
    return s;
}

/** Values as words, runs of three or more folded into "a through b". */
QString listValues(const QList<int>& v, const std::function<QString(int)>& name)
{
    QStringList parts;
    for (qsizetype i = 0; i < v.size();) {
        qsizetype j = i;
        while (j + 1 < v.size() && v.at(j + 1) == v.at(j) + 1)
            ++j;
        if (j - i >= 2) {
            parts << name(v.at(i)) + QStringLiteral(" through ") + name(v.at(j));
        } else {
            for (qsizetype k = i; k <= j; ++k)
                parts << name(v.at(k));
        }
        i = j + 1;
    }
    return joinWords(parts);
}

QString number(int v)
{
    return QString::number(v);
}

/** "every 15 minutes" when the values are 0, n, 2n... and n divides the unit, else empty. */
QString evenEvery(const QList<int>& v, int span, const QString& unitPlural)
{
    if (v.size() < 2 || v.first() != 0)
        return {};
    const int step = v.at(1);
    if (step < 2 || span % step != 0 || v.size() != span / step)
        return {};
    for (qsizetype i = 0; i < v.size(); ++i)
        if (v.at(i) != int(i) * step)
            return {};
    return QStringLiteral("every %1 %2").arg(step).arg(unitPlural);
}

const char* const kMonthNames[] = {"",        "January",  "February", "March",  "April",
                                   "May",     "June",     "July",     "August", "September",
                                   "October", "November", "December"};
const char* const kDayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};
const char* const kNth[] = {"first", "second", "third", "fourth", "fifth"};

QString monthName(int m)
{
    return QLatin1String(kMonthNames[m]);
}

QString dayName(int w)
{
    return QLatin1String(kDayNames[w % 7]);
}

struct TimePhrase
{
    QString text;
    bool clockTimes = false; ///< "at 08:00 and 17:30": joins the day phrase with " on ..."
};

QString hourQualifier(const QList<int>& hours)
{
    const Shape h = shapeOf(hours, 0, 23);
    switch (h.kind) {
    case Shape::All:
        return {};
    case Shape::Single:
        return QStringLiteral(", between %1 and %2")
            .arg(clock(h.first, 0, 0, false), clock(h.first, 59, 0, false));
    case Shape::Range:
        return QStringLiteral(", between %1 and %2")
            .arg(clock(h.first, 0, 0, false), clock(h.last, 59, 0, false));
    default:
        return QStringLiteral(", during hours ") + listValues(hours, twoDigits);
    }
}

TimePhrase timePhrase(const Spec& spec)
{
    const QList<int> secs = valuesOf(spec.seconds, 0, 59);
    const QList<int> mins = valuesOf(spec.minutes, 0, 59);
    const QList<int> hours = valuesOf(spec.hours, 0, 23);
    const Shape m = shapeOf(mins, 0, 59);
    const Shape h = shapeOf(hours, 0, 23);

    if (secs.size() == 1) {
        const int s = secs.first();
        const bool withSeconds = s != 0;
        // A handful of clock times: list them.
        if (mins.size() * hours.size() <= 6 && m.kind != Shape::All) {
            QStringList times;
            for (int hh : hours)
                for (int mm : mins)
                    times << clock(hh, mm, s, withSeconds);
            return {QStringLiteral("at ") + joinWords(times), true};
        }
        const QString atSecond = withSeconds ? QStringLiteral(" at second %1").arg(s) : QString();
        const QString commaSecond = withSeconds ? QStringLiteral(", second %1").arg(s) : QString();
        if (m.kind == Shape::Single) {
            const int mm = m.first;
            switch (h.kind) {
            case Shape::All:
                return {QStringLiteral("at minute %1%2 of every hour").arg(mm).arg(commaSecond)};
            case Shape::Range:
                return {QStringLiteral("every hour from %1 to %2")
                            .arg(clock(h.first, mm, s, withSeconds),
                                 clock(h.last, mm, s, withSeconds))};
            case Shape::Step:
                return {QStringLiteral("every %1 hours from %2 to %3")
                            .arg(h.step)
                            .arg(clock(h.first, mm, s, withSeconds),
                                 clock(h.last, mm, s, withSeconds))};
            default:
                return {QStringLiteral("at minute %1%2 of hours %3")
                            .arg(mm)
                            .arg(commaSecond, listValues(hours, twoDigits))};
            }
        }
        QString minutePart;
        if (m.kind == Shape::All)
            minutePart = QStringLiteral("every minute");
        else if (const QString every = evenEvery(mins, 60, QStringLiteral("minutes"));
                 !every.isEmpty())
            minutePart = every;
        else if (m.kind == Shape::Range)
            minutePart = QStringLiteral("every minute from minute %1 through %2 of the hour")
                             .arg(m.first)
                             .arg(m.last);
        else
            minutePart = QStringLiteral("at minutes %1 of the hour").arg(listValues(mins, number));
        return {minutePart + atSecond + hourQualifier(hours)};
    }

    // Several seconds per minute.
    QString secondPart;
    const Shape s = shapeOf(secs, 0, 59);
    if (s.kind == Shape::All)
        secondPart = QStringLiteral("every second");
    else if (const QString every = evenEvery(secs, 60, QStringLiteral("seconds")); !every.isEmpty())
        secondPart = every;
    else
        secondPart = QStringLiteral("at seconds %1").arg(listValues(secs, number));
    if (m.kind == Shape::All)
        return {secondPart + hourQualifier(hours)};
    QString minutePart;
    if (m.kind == Shape::Single)
        minutePart = QStringLiteral(" of minute %1").arg(m.first);
    else
        minutePart = QStringLiteral(" of minutes %1").arg(listValues(mins, number));
    if (h.kind == Shape::All)
        return {secondPart + minutePart + QStringLiteral(" of every hour")};
    return {secondPart + minutePart + hourQualifier(hours)};
}

QString domPhrase(const Spec& spec)
{
    QStringList parts;
    const QList<int> days = valuesOf(spec.days, 1, 31);
    if (!days.isEmpty()) {
        const Shape s = shapeOf(days, 1, 31);
        switch (s.kind) {
        case Shape::Single:
            parts << QStringLiteral("day %1 of the month").arg(s.first);
            break;
        case Shape::Step:
            parts << QStringLiteral("every %1 day of the month from day %2 through %3")
                         .arg(ordinal(s.step))
                         .arg(s.first)
                         .arg(s.last);
            break;
        default:
            parts << QStringLiteral("days %1 of the month").arg(listValues(days, number));
            break;
        }
    }
    for (int n : valuesOf(spec.lastDayMinus, 0, 30)) {
        if (n == 0)
            parts << QStringLiteral("the last day of the month");
        else if (n == 1)
            parts << QStringLiteral("the day before the last day of the month");
        else
            parts << QStringLiteral("%1 days before the last day of the month").arg(n);
    }
    if (spec.lastWeekday)
        parts << QStringLiteral("the last weekday of the month");
    for (int d : valuesOf(spec.nearestWeekday, 1, 31))
        parts << QStringLiteral("the weekday nearest day %1 of the month").arg(d);
    return joinWords(parts);
}

QString dowPhrase(const Spec& spec)
{
    QStringList parts;
    if (spec.weekdays) {
        // Monday first, so "5-7" reads "Friday through Sunday".
        QList<int> mondayFirst;
        for (int i = 1; i <= 7; ++i)
            if (spec.weekdays >> (i % 7) & 1u)
                mondayFirst << i;
        const bool run = mondayFirst.size() >= 3 &&
                         mondayFirst.last() - mondayFirst.first() + 1 == mondayFirst.size();
        if (run) {
            parts << dayName(mondayFirst.first()) + QStringLiteral(" through ") +
                         dayName(mondayFirst.last());
        } else {
            QStringList names;
            for (int w : mondayFirst)
                names << dayName(w);
            parts << joinWords(names);
        }
    }
    for (int n = 0; n < 5; ++n)
        for (int w : valuesOf(spec.nthWeekday[size_t(n)], 0, 6))
            parts
                << QStringLiteral("the %1 %2 of the month").arg(QLatin1String(kNth[n]), dayName(w));
    for (int w : valuesOf(spec.lastOfWeekday, 0, 6))
        parts << QStringLiteral("the last %1 of the month").arg(dayName(w));
    return joinWords(parts);
}

struct DayPhrase
{
    QString text;              ///< without a leading "on"
    bool weekdaysOnly = false; ///< only day-of-week words, e.g. "Monday through Friday"
};

DayPhrase dayPhrase(const Spec& spec)
{
    const bool domAll = spec.days == 0xFFFFFFFEu && !spec.hasDomExtensions();
    const bool dowAll = spec.weekdays == 0x7F && !spec.hasDowExtensions();
    if (spec.domStar || spec.dowStar) {
        // cronie: both must match.
        if (domAll && dowAll)
            return {};
        if (domAll)
            return {dowPhrase(spec), !spec.hasDowExtensions()};
        if (dowAll)
            return {domPhrase(spec)};
        return {domPhrase(spec) + QStringLiteral(", only if it falls on ") + dowPhrase(spec)};
    }
    // cronie: both restricted, either may match; one that allows every day wins.
    if (domAll || dowAll)
        return {};
    return {domPhrase(spec) + QStringLiteral(", and on ") + dowPhrase(spec)};
}

QString monthPhrase(const Spec& spec)
{
    const QList<int> months = valuesOf(spec.months, 1, 12);
    if (months.size() == 12)
        return {};
    return QStringLiteral("in ") + listValues(months, monthName);
}

} // namespace

QString describe(const Spec& spec)
{
    if (spec.reboot)
        return QStringLiteral("once, when the engine starts");

    const TimePhrase time = timePhrase(spec);
    DayPhrase day = dayPhrase(spec);
    QString month = monthPhrase(spec);

    // "on January 1" reads better than "on day 1 of the month in January".
    const QList<int> days = valuesOf(spec.days, 1, 31);
    const QList<int> months = valuesOf(spec.months, 1, 12);
    if ((spec.domStar || spec.dowStar) && days.size() == 1 && months.size() == 1 &&
        !spec.hasDomExtensions() && spec.weekdays == 0x7F && !spec.hasDowExtensions()) {
        day.text = monthName(months.first()) + QLatin1Char(' ') + QString::number(days.first());
        day.weekdaysOnly = false;
        month.clear();
    }

    QString out = time.text;
    const QString sep = time.clockTimes ? QStringLiteral(" ") : QStringLiteral(", ");
    if (!day.text.isEmpty()) {
        // "at 09:00 on Monday" but "every 15 minutes, Monday through Friday".
        if (time.clockTimes || !day.weekdaysOnly)
            out += sep + QStringLiteral("on ") + day.text;
        else
            out += sep + day.text;
    }
    if (!month.isEmpty()) {
        // After a day phrase a comma keeps "in February" from binding to its last part only.
        out += (day.text.isEmpty() ? sep : QStringLiteral(", ")) + month;
    }
    return out;
}

} // namespace vivarium::cron
