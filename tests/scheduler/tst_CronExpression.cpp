// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// CronExpression: parsing, cronie's matching rules, next() across DST, explain(). The DST
// expectations are checked twice: by hand-written tables, and against a minute-by-minute
// simulation of cronie's main loop (cron.c) built on an independent reference matcher.
#include "vivarium/scheduler/CronExpression.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>

#include <array>

using vivarium::CronExpression;

namespace {

// ---- an independent reference: numeric fields only, written separately from the parser ----

struct RefSpec
{
    std::array<bool, 60> sec{};
    std::array<bool, 60> min{};
    std::array<bool, 24> hour{};
    std::array<bool, 32> dom{};
    std::array<bool, 13> mon{};
    std::array<bool, 7> dow{};
    bool minStar = false;
    bool hourStar = false;
    bool domStar = false;
    bool dowStar = false;
};

template <size_t N> bool refField(const QString& text, int lo, int hi, std::array<bool, N>& out)
{
    for (const QString& part : text.split(QLatin1Char(','))) {
        QString range = part;
        int step = 1;
        const qsizetype slash = part.indexOf(QLatin1Char('/'));
        if (slash >= 0) {
            range = part.left(slash);
            step = part.mid(slash + 1).toInt();
        }
        int a = lo;
        int b = hi;
        if (range != QLatin1String("*")) {
            const qsizetype dash = range.indexOf(QLatin1Char('-'));
            a = range.left(dash < 0 ? range.size() : dash).toInt();
            b = dash < 0 ? (slash >= 0 ? hi : a) : range.mid(dash + 1).toInt();
        }
        if (step < 1 || a < lo || b > hi || a > b)
            return false;
        for (int v = a; v <= b; v += step)
            out[size_t(v)] = true;
    }
    return true;
}

RefSpec refParse(const QString& text)
{
    RefSpec r;
    QStringList f = text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (f.size() == 5)
        f.prepend(QStringLiteral("0"));
    bool ok = refField(f[0], 0, 59, r.sec) && refField(f[1], 0, 59, r.min) &&
              refField(f[2], 0, 23, r.hour) && refField(f[3], 1, 31, r.dom) &&
              refField(f[4], 1, 12, r.mon);
    std::array<bool, 8> dow8{};
    ok = ok && refField(f[5], 0, 7, dow8);
    for (int i = 0; i < 8; ++i)
        if (dow8[size_t(i)])
            r.dow[size_t(i % 7)] = true;
    Q_ASSERT(ok);
    r.minStar = f[1].startsWith(QLatin1Char('*'));
    r.hourStar = f[2].startsWith(QLatin1Char('*'));
    r.domStar = f[3].startsWith(QLatin1Char('*'));
    r.dowStar = f[5].startsWith(QLatin1Char('*'));
    return r;
}

/** Does the naive local wall-clock time `local` (seconds since 1970-01-01 local) match? */
bool refMatches(const RefSpec& r, qint64 local)
{
    const QDateTime dt = QDateTime::fromSecsSinceEpoch(local, Qt::UTC);
    const QDate d = dt.date();
    const QTime t = dt.time();
    const bool domOk = r.dom[size_t(d.day())];
    const bool dowOk = r.dow[size_t(d.dayOfWeek() % 7)];
    const bool dayOk = (r.domStar || r.dowStar) ? (domOk && dowOk) : (domOk || dowOk);
    return r.sec[size_t(t.second())] && r.min[size_t(t.minute())] && r.hour[size_t(t.hour())] &&
           r.mon[size_t(d.month())] && dayOk;
}

bool refFixed(const RefSpec& r)
{
    return !r.minStar && !r.hourStar;
}

/**
 * cronie's main loop (cron.c), one real minute at a time: the virtual clock, the timeDiff
 * classification and find_jobs' doWild/doNonWild split. Returns the UTC minutes (as seconds)
 * at which the job runs, in (startUtc, endUtc].
 */
QList<qint64> simulateCronie(const RefSpec& r, const QTimeZone& zone, qint64 startUtc,
                             qint64 endUtc)
{
    const auto localMinute = [&](qint64 utc) {
        const int off = zone.offsetFromUtc(QDateTime::fromSecsSinceEpoch(utc, Qt::UTC));
        return (utc + off) / 60;
    };
    QList<qint64> fires;
    const auto run = [&](qint64 realUtc, qint64 vMinute, bool doWild, bool doNonWild) {
        if (!refMatches(r, vMinute * 60))
            return;
        const bool wild = !refFixed(r);
        if ((doWild && wild) || (doNonWild && !wild))
            if (fires.isEmpty() || fires.last() != realUtc)
                fires << realUtc; // job_add: once per minute
    };
    qint64 virtualTime = localMinute(startUtc);
    for (qint64 u = startUtc + 60; u <= endUtc; u += 60) {
        const qint64 timeRunning = localMinute(u);
        const qint64 timeDiff = timeRunning - virtualTime;
        if (timeDiff == 1) {
            virtualTime = timeRunning;
            run(u, virtualTime, true, true);
        } else if (timeDiff > 180 || timeDiff < -180) {
            virtualTime = timeRunning;
            run(u, timeRunning, true, true);
        } else if (timeDiff > 5) {
            run(u, timeRunning, true, false);
            while (virtualTime < timeRunning)
                run(u, ++virtualTime, false, true);
        } else if (timeDiff > 0) {
            while (virtualTime < timeRunning)
                run(u, ++virtualTime, true, true);
        } else {
            run(u, timeRunning, true, false);
        }
    }
    return fires;
}

/** A random numeric expression the reference understands; `hours` biases the hour field. */
QString randomExpression(QRandomGenerator& rng, bool withSeconds, bool nightHours)
{
    const auto element = [&](int lo, int hi) -> QString {
        const int a = lo + int(rng.bounded(hi - lo + 1));
        const int b = a + int(rng.bounded(hi - a + 1));
        const int step = 1 + int(rng.bounded(std::max(1, (hi - lo) / 2)));
        switch (rng.bounded(7)) {
        case 0:
            return QStringLiteral("*");
        case 1:
            return QStringLiteral("*/%1").arg(step);
        case 2:
        case 3:
            return QString::number(a);
        case 4:
            return QStringLiteral("%1-%2").arg(a).arg(b);
        case 5:
            return QStringLiteral("%1-%2/%3").arg(a).arg(b).arg(step);
        default:
            return QStringLiteral("%1/%2").arg(a).arg(step);
        }
    };
    const auto field = [&](int lo, int hi) {
        QStringList parts;
        const int n = 1 + int(rng.bounded(3));
        for (int i = 0; i < n; ++i)
            parts << element(lo, hi);
        return parts.join(QLatin1Char(','));
    };
    QStringList f;
    if (withSeconds)
        f << field(0, 59);
    f << field(0, 59);
    f << (nightHours ? field(0, 3) : field(0, 23));
    f << field(1, 31);
    f << field(1, 12);
    f << field(0, 7);
    return f.join(QLatin1Char(' '));
}

qint64 secs(const QString& iso)
{
    const QDateTime dt = QDateTime::fromString(iso, Qt::ISODate);
    Q_ASSERT(dt.isValid());
    return dt.toSecsSinceEpoch();
}

QStringList isoList(const QList<QDateTime>& list)
{
    QStringList out;
    for (const QDateTime& dt : list)
        out << dt.toString(Qt::ISODate);
    return out;
}

/** The UTC offset transitions of a zone in [from, to). */
QList<QTimeZone::OffsetData> transitionsBetween(const QTimeZone& zone, const QString& from,
                                                const QString& to)
{
    return zone.transitions(QDateTime::fromString(from, Qt::ISODate),
                            QDateTime::fromString(to, Qt::ISODate));
}

} // namespace

class TestCronExpression : public QObject
{
    Q_OBJECT

private slots:
    void parsesValid_data();
    void parsesValid();
    void next_data();
    void next();
    void equivalent_data();
    void equivalent();
    void errors_data();
    void errors();
    void neverFires_data();
    void neverFires();
    void explain_data();
    void explain();
    void reboot();
    void strictlyAfter();
    void invalidInputs();
    void transitionsAreWhereTheTablesSayTheyAre();
    void apiaSkippedDay();
    void searchBound();
    void matchesCronieSimulation_data();
    void matchesCronieSimulation();
    void fuzzAgainstReference();
    void fuzzAcrossZones();
    void speed();
};

void TestCronExpression::parsesValid_data()
{
    QTest::addColumn<QString>("expr");
    QTest::addColumn<bool>("seconds");
    QTest::addColumn<bool>("wildcard");

    QTest::newRow("stars") << "* * * * *" << false << true;
    QTest::newRow("tabs") << "0\t9\t*\t*\t1-5" << false << false;
    QTest::newRow("padding") << "  0 9 * * *  " << false << false;
    QTest::newRow("six fields") << "30 0 9 * * *" << true << false;
    QTest::newRow("names any case") << "0 0 * JaN,fEb Mon-FRI" << false << false;
    QTest::newRow("seven sunday") << "0 0 * * 7" << false << false;
    QTest::newRow("range to 7") << "0 0 * * 5-7" << false << false;
    QTest::newRow("fri-sun") << "0 0 * * fri-sun" << false << false;
    QTest::newRow("a/n, hour star") << "5/15 * * * *" << false << true;
    QTest::newRow("hour star") << "0 */2 * * *" << false << true;
    QTest::newRow("question marks") << "0 0 ? * mon" << false << false;
    QTest::newRow("L") << "0 0 L * *" << false << false;
    QTest::newRow("L-3") << "0 0 L-3 * *" << false << false;
    QTest::newRow("LW") << "0 0 LW * *" << false << false;
    QTest::newRow("15W") << "0 0 15W * *" << false << false;
    QTest::newRow("5L") << "0 0 * * 5L" << false << false;
    QTest::newRow("friL") << "0 0 * * FRIL" << false << false;
    QTest::newRow("5#3") << "0 0 * * 5#3" << false << false;
    QTest::newRow("fri#3 list") << "0 0 * * mon,fri#3" << false << false;
    QTest::newRow("feb 29") << "0 0 29 2 *" << false << false;
    QTest::newRow("31 feb or monday") << "0 0 31 2 1" << false << false;
    QTest::newRow("@hourly") << "@hourly" << false << true;
    QTest::newRow("@daily") << "@daily" << false << false;
    QTest::newRow("@DAILY") << "@DAILY" << false << false;
    QTest::newRow("step = span") << "*/60 * * * *" << false << true;
}

void TestCronExpression::parsesValid()
{
    QFETCH(QString, expr);
    QFETCH(bool, seconds);
    QFETCH(bool, wildcard);
    auto c = CronExpression::parse(expr);
    QVERIFY2(c.has_value(), qPrintable(c ? QString() : c.error().message));
    QCOMPARE(c->hasSeconds(), seconds);
    QCOMPARE(c->isWildcardJob(), wildcard);
    QCOMPARE(c->isReboot(), false);
    QCOMPARE(c->text(), expr.trimmed());
    QVERIFY(!c->explain().isEmpty());
}

void TestCronExpression::next_data()
{
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QString>("zone");
    QTest::addColumn<QString>("after");
    QTest::addColumn<QStringList>("expected");

    const QString utc = QStringLiteral("UTC");
    // crontab(5) examples
    QTest::newRow("5 0 * * *") << "5 0 * * *" << utc << "2026-01-01T00:05:00Z"
                               << QStringList{"2026-01-02T00:05:00+00:00",
                                              "2026-01-03T00:05:00+00:00"};
    QTest::newRow("15 14 1 * *") << "15 14 1 * *" << utc << "2026-01-15T00:00:00Z"
                                 << QStringList{"2026-02-01T14:15:00+00:00",
                                                "2026-03-01T14:15:00+00:00"};
    QTest::newRow("0 22 * * 1-5") << "0 22 * * 1-5" << utc << "2026-01-02T23:00:00Z" // Fri
                                  << QStringList{"2026-01-05T22:00:00+00:00",
                                                 "2026-01-06T22:00:00+00:00"};
    QTest::newRow("23 0-23/2 * * *")
        << "23 0-23/2 * * *" << utc << "2026-01-01T21:00:00Z"
        << QStringList{"2026-01-01T22:23:00+00:00", "2026-01-02T00:23:00+00:00",
                       "2026-01-02T02:23:00+00:00"};
    QTest::newRow("5 4 * * sun") << "5 4 * * sun" << utc << "2026-01-01T00:00:00Z"
                                 << QStringList{"2026-01-04T04:05:00+00:00",
                                                "2026-01-11T04:05:00+00:00"};
    // cronie's own DOM/DOW example: the 1st and 15th, plus every Friday.
    QTest::newRow("30 4 1,15 * 5")
        << "30 4 1,15 * 5" << utc << "2026-01-01T05:00:00Z"
        << QStringList{"2026-01-02T04:30:00+00:00", "2026-01-09T04:30:00+00:00",
                       "2026-01-15T04:30:00+00:00", "2026-01-16T04:30:00+00:00",
                       "2026-01-23T04:30:00+00:00", "2026-01-30T04:30:00+00:00",
                       "2026-02-01T04:30:00+00:00"};
    // The `*` prefix subtlety: */2 counts as unrestricted, so both fields must match...
    QTest::newRow("*/2 dom AND monday")
        << "0 0 */2 * 1" << utc << "2026-01-01T00:00:00Z"
        << QStringList{"2026-01-05T00:00:00+00:00", "2026-01-19T00:00:00+00:00",
                       "2026-02-09T00:00:00+00:00", "2026-02-23T00:00:00+00:00"};
    // ...while 1-31/2 is restricted, so either matches.
    QTest::newRow("1-31/2 dom OR monday")
        << "0 0 1-31/2 * 1" << utc << "2026-01-01T00:00:00Z"
        << QStringList{"2026-01-03T00:00:00+00:00", "2026-01-05T00:00:00+00:00",
                       "2026-01-07T00:00:00+00:00", "2026-01-09T00:00:00+00:00",
                       "2026-01-11T00:00:00+00:00", "2026-01-12T00:00:00+00:00",
                       "2026-01-13T00:00:00+00:00"};
    QTest::newRow("dom 1 AND */2 dow")
        << "0 0 1 * */2" << utc << "2026-01-01T00:00:00Z" // Sun/Tue/Thu/Sat firsts
        << QStringList{"2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00",
                       "2026-08-01T00:00:00+00:00", "2026-09-01T00:00:00+00:00",
                       "2026-10-01T00:00:00+00:00"};
    QTest::newRow("dom * AND dow")
        << "0 12 * * 3" << utc << "2026-01-01T00:00:00Z"
        << QStringList{"2026-01-07T12:00:00+00:00", "2026-01-14T12:00:00+00:00"};
    QTest::newRow("31 feb OR monday")
        << "0 0 31 2 1" << utc << "2026-01-31T00:00:00Z"
        << QStringList{"2026-02-02T00:00:00+00:00", "2026-02-09T00:00:00+00:00",
                       "2026-02-16T00:00:00+00:00", "2026-02-23T00:00:00+00:00",
                       "2027-02-01T00:00:00+00:00"};
    // Names, 7 = Sunday, ranges through Sunday
    QTest::newRow("names") << "0 9 1 jan,JUL *" << utc << "2026-01-01T10:00:00Z"
                           << QStringList{"2026-07-01T09:00:00+00:00", "2027-01-01T09:00:00+00:00"};
    QTest::newRow("7 is sunday") << "0 0 * * 7" << utc << "2026-01-01T00:00:00Z"
                                 << QStringList{"2026-01-04T00:00:00+00:00",
                                                "2026-01-11T00:00:00+00:00"};
    QTest::newRow("5-7") << "0 0 * * 5-7" << utc << "2026-01-01T00:00:00Z"
                         << QStringList{"2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00",
                                        "2026-01-04T00:00:00+00:00", "2026-01-09T00:00:00+00:00"};
    // Steps and ranges
    QTest::newRow("*/15") << "*/15 * * * *" << utc << "2026-01-01T00:50:00Z"
                          << QStringList{"2026-01-01T01:00:00+00:00", "2026-01-01T01:15:00+00:00"};
    QTest::newRow("*/7 resets each hour")
        << "*/7 * * * *" << utc << "2026-01-01T00:50:00Z"
        << QStringList{"2026-01-01T00:56:00+00:00", "2026-01-01T01:00:00+00:00",
                       "2026-01-01T01:07:00+00:00"};
    QTest::newRow("a/n") << "5/20 * * * *" << utc << "2026-01-01T00:00:00Z"
                         << QStringList{"2026-01-01T00:05:00+00:00", "2026-01-01T00:25:00+00:00",
                                        "2026-01-01T00:45:00+00:00", "2026-01-01T01:05:00+00:00"};
    QTest::newRow("range step") << "10-30/10 9 * * *" << utc << "2026-01-01T09:10:00Z"
                                << QStringList{"2026-01-01T09:20:00+00:00",
                                               "2026-01-01T09:30:00+00:00",
                                               "2026-01-02T09:10:00+00:00"};
    QTest::newRow("list of ranges")
        << "0 1-2,22 * * *" << utc << "2026-01-01T03:00:00Z"
        << QStringList{"2026-01-01T22:00:00+00:00", "2026-01-02T01:00:00+00:00",
                       "2026-01-02T02:00:00+00:00"};
    // Seconds field
    QTest::newRow("every 20 s") << "*/20 * * * * *" << utc << "2026-01-01T00:00:00Z"
                                << QStringList{"2026-01-01T00:00:20+00:00",
                                               "2026-01-01T00:00:40+00:00",
                                               "2026-01-01T00:01:00+00:00"};
    QTest::newRow("seconds list") << "15,45 30 9 * * 1-5" << utc << "2026-01-02T09:30:15Z"
                                  << QStringList{"2026-01-02T09:30:45+00:00",
                                                 "2026-01-05T09:30:15+00:00"};
    // Macros
    QTest::newRow("@yearly") << "@yearly" << utc << "2026-01-01T00:00:00Z"
                             << QStringList{"2027-01-01T00:00:00+00:00"};
    QTest::newRow("@annually") << "@annually" << utc << "2025-12-31T23:59:59Z"
                               << QStringList{"2026-01-01T00:00:00+00:00"};
    QTest::newRow("@monthly") << "@monthly" << utc << "2026-01-15T00:00:00Z"
                              << QStringList{"2026-02-01T00:00:00+00:00",
                                             "2026-03-01T00:00:00+00:00"};
    QTest::newRow("@weekly") << "@weekly" << utc << "2026-01-01T00:00:00Z"
                             << QStringList{"2026-01-04T00:00:00+00:00",
                                            "2026-01-11T00:00:00+00:00"};
    QTest::newRow("@daily") << "@daily" << utc << "2026-01-01T00:00:00Z"
                            << QStringList{"2026-01-02T00:00:00+00:00"};
    QTest::newRow("@midnight") << "@midnight" << utc << "2026-01-01T12:00:00Z"
                               << QStringList{"2026-01-02T00:00:00+00:00"};
    QTest::newRow("@hourly") << "@hourly" << utc << "2026-01-01T00:30:00Z"
                             << QStringList{"2026-01-01T01:00:00+00:00",
                                            "2026-01-01T02:00:00+00:00"};
    // Leap years, February 29 and month ends
    QTest::newRow("feb 29") << "0 0 29 2 *" << utc << "2026-03-01T00:00:00Z"
                            << QStringList{"2028-02-29T00:00:00+00:00",
                                           "2032-02-29T00:00:00+00:00"};
    QTest::newRow("feb 29 across 2100") << "0 0 29 2 *" << utc << "2096-03-01T00:00:00Z"
                                        << QStringList{"2104-02-29T00:00:00+00:00"};
    QTest::newRow("31st skips short months")
        << "0 0 31 * *" << utc << "2026-01-31T12:00:00Z"
        << QStringList{"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00",
                       "2026-07-31T00:00:00+00:00", "2026-08-31T00:00:00+00:00",
                       "2026-10-31T00:00:00+00:00"};
    QTest::newRow("30th skips february") << "0 0 30 * *" << utc << "2026-01-30T12:00:00Z"
                                         << QStringList{"2026-03-30T00:00:00+00:00"};
    QTest::newRow("year end") << "59 23 31 12 *" << utc << "2026-12-31T23:59:00Z"
                              << QStringList{"2027-12-31T23:59:00+00:00"};
    // Extensions
    QTest::newRow("L") << "0 0 L * *" << utc << "2026-01-01T00:00:00Z"
                       << QStringList{"2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00",
                                      "2026-03-31T00:00:00+00:00", "2026-04-30T00:00:00+00:00"};
    QTest::newRow("L in leap feb")
        << "0 0 L 2 *" << utc << "2027-03-01T00:00:00Z" << QStringList{"2028-02-29T00:00:00+00:00"};
    QTest::newRow("L-2") << "0 0 L-2 * *" << utc << "2026-01-01T00:00:00Z"
                         << QStringList{"2026-01-29T00:00:00+00:00", "2026-02-26T00:00:00+00:00"};
    QTest::newRow("1,L") << "0 0 1,L * *" << utc << "2026-01-01T00:00:00Z"
                         << QStringList{"2026-01-31T00:00:00+00:00", "2026-02-01T00:00:00+00:00",
                                        "2026-02-28T00:00:00+00:00"};
    QTest::newRow("LW") << "0 0 LW * *" << utc << "2026-01-01T00:00:00Z" // Jan 31 is a Sat
                        << QStringList{"2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00",
                                       "2026-03-31T00:00:00+00:00", "2026-04-30T00:00:00+00:00",
                                       "2026-05-29T00:00:00+00:00"};
    QTest::newRow("15W") << "0 0 15W * *" << utc << "2026-01-31T00:00:00Z" // Feb 15 is a Sun
                         << QStringList{"2026-02-16T00:00:00+00:00", "2026-03-16T00:00:00+00:00",
                                        "2026-04-15T00:00:00+00:00"};
    QTest::newRow("15W saturday") << "0 0 15W 8 *" << utc << "2026-01-01T00:00:00Z"
                                  << QStringList{"2026-08-14T00:00:00+00:00"};
    QTest::newRow("1W saturday stays in month") << "0 0 1W 8 *" << utc << "2026-01-01T00:00:00Z"
                                                << QStringList{"2026-08-03T00:00:00+00:00"};
    QTest::newRow("31W sunday stays in month") << "0 0 31W 5 *" << utc << "2026-01-01T00:00:00Z"
                                               << QStringList{"2026-05-29T00:00:00+00:00"};
    QTest::newRow("5L") << "0 0 * * 5L" << utc << "2026-01-01T00:00:00Z"
                        << QStringList{"2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00",
                                       "2026-03-27T00:00:00+00:00"};
    QTest::newRow("friL") << "0 0 * * friL" << utc << "2026-01-01T00:00:00Z"
                          << QStringList{"2026-01-30T00:00:00+00:00"};
    QTest::newRow("5#3") << "0 0 * * 5#3" << utc << "2026-01-01T00:00:00Z"
                         << QStringList{"2026-01-16T00:00:00+00:00", "2026-02-20T00:00:00+00:00",
                                        "2026-03-20T00:00:00+00:00"};
    QTest::newRow("sun#1 as 7#1") << "0 0 * * 7#1" << utc << "2026-01-01T00:00:00Z"
                                  << QStringList{"2026-01-04T00:00:00+00:00",
                                                 "2026-02-01T00:00:00+00:00"};
    QTest::newRow("mon#5 in feb is rare")
        << "0 0 * 2 1#5" << utc << "2026-01-01T00:00:00Z"
        << QStringList{"2044-02-29T00:00:00+00:00", "2072-02-29T00:00:00+00:00"};
    QTest::newRow("1 OR 5L") << "0 0 1 * 5L" << utc << "2026-01-01T00:00:00Z"
                             << QStringList{"2026-01-30T00:00:00+00:00",
                                            "2026-02-01T00:00:00+00:00",
                                            "2026-02-27T00:00:00+00:00"};

    // ---- DST: America/New_York, 2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT ->
    // 01:00 EST.
    const QString ny = QStringLiteral("America/New_York");
    QTest::newRow("NY fixed in gap runs at 03:00 once")
        << "30 2 * * *" << ny << "2026-03-07T12:00:00-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"};
    QTest::newRow("NY gap, one second before the jump")
        << "30 2 * * *" << ny << "2026-03-08T01:59:59-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"};
    QTest::newRow("NY gap, exactly at the jump")
        << "30 2 * * *" << ny << "2026-03-08T03:00:00-04:00"
        << QStringList{"2026-03-09T02:30:00-04:00"};
    QTest::newRow("NY gap, seconds job one second before")
        << "0 30 2 * * *" << ny << "2026-03-08T01:59:59-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"};
    QTest::newRow("NY gap, wildcard minute one second before")
        << "0 * 2 * * *" << ny << "2026-03-08T01:59:59-05:00"
        << QStringList{"2026-03-09T02:00:00-04:00"};
    QTest::newRow("NY 02:00 in gap")
        << "0 2 * * *" << ny << "2026-03-07T12:00:00-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"};
    QTest::newRow("NY fixed list merges into 03:00")
        << "0,30 1-3 * * *" << ny << "2026-03-08T00:50:00-05:00"
        << QStringList{"2026-03-08T01:00:00-05:00", "2026-03-08T01:30:00-05:00",
                       "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00",
                       "2026-03-09T01:00:00-04:00"};
    QTest::newRow("NY fixed day-specific in gap")
        << "0 2 8 3 *" << ny << "2026-01-01T00:00:00-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2027-03-08T02:00:00-05:00"};
    QTest::newRow("NY seconds in gap")
        << "30 30 2 * * *" << ny << "2026-03-08T00:00:00-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:30-04:00"};
    QTest::newRow("NY hourly skips 02:00")
        << "0 * * * *" << ny << "2026-03-08T00:30:00-05:00"
        << QStringList{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                       "2026-03-08T04:00:00-04:00"};
    QTest::newRow("NY */15 in gap")
        << "*/15 * * * *" << ny << "2026-03-08T01:50:00-05:00"
        << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"};
    QTest::newRow("NY wildcard minute, hour 2: nothing that day")
        << "*/30 2 * * *" << ny << "2026-03-08T00:00:00-05:00"
        << QStringList{"2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00"};
    QTest::newRow("NY hourly runs twice at 01:00 on fall back")
        << "0 * * * *" << ny << "2026-11-01T00:30:00-04:00"
        << QStringList{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00",
                       "2026-11-01T02:00:00-05:00"};
    QTest::newRow("NY @hourly too")
        << "@hourly" << ny << "2026-11-01T00:30:00-04:00"
        << QStringList{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"};
    QTest::newRow("NY fixed in repeated hour runs once")
        << "30 1 * * *" << ny << "2026-10-31T12:00:00-04:00"
        << QStringList{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"};
    QTest::newRow("NY fixed after repeated hour")
        << "30 2 * * *" << ny << "2026-10-31T12:00:00-04:00"
        << QStringList{"2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00"};
    QTest::newRow("NY fixed list in repeated hour")
        << "0,30 1-3 * * *" << ny << "2026-11-01T00:50:00-04:00"
        << QStringList{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
                       "2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00",
                       "2026-11-01T03:00:00-05:00"};
    QTest::newRow("NY wildcard minute in repeated hour")
        << "*/15 1 * * *" << ny << "2026-11-01T00:50:00-04:00"
        << QStringList{"2026-11-01T01:00:00-04:00", "2026-11-01T01:15:00-04:00",
                       "2026-11-01T01:30:00-04:00", "2026-11-01T01:45:00-04:00",
                       "2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00",
                       "2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00",
                       "2026-11-02T01:00:00-05:00"};
    QTest::newRow("NY fixed, starting inside the second pass")
        << "45 1 * * *" << ny << "2026-11-01T01:10:00-05:00"
        << QStringList{"2026-11-02T01:45:00-05:00"};
    QTest::newRow("NY wildcard, starting inside the second pass")
        << "45 * * * *" << ny << "2026-11-01T01:10:00-05:00"
        << QStringList{"2026-11-01T01:45:00-05:00", "2026-11-01T02:45:00-05:00"};

    // ---- Europe/Paris: 2026-03-29 02:00 CET -> 03:00 CEST, 2026-10-25 03:00 CEST -> 02:00 CET.
    const QString paris = QStringLiteral("Europe/Paris");
    QTest::newRow("Paris every minute across the gap")
        << "* * * * *" << paris << "2026-03-29T01:59:00+01:00"
        << QStringList{"2026-03-29T03:00:00+02:00", "2026-03-29T03:01:00+02:00"};
    QTest::newRow("Paris fixed in gap")
        << "30 2 * * *" << paris << "2026-03-28T12:00:00+01:00"
        << QStringList{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"};
    QTest::newRow("Paris 03:00 and gap merged")
        << "0 2,3 * * *" << paris << "2026-03-28T12:00:00+01:00"
        << QStringList{"2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"};
    QTest::newRow("Paris fixed in repeated hour")
        << "30 2 * * *" << paris << "2026-10-24T12:00:00+02:00"
        << QStringList{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"};
    QTest::newRow("Paris wildcard in repeated hour")
        << "*/30 2 * * *" << paris << "2026-10-25T01:00:00+02:00"
        << QStringList{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                       "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00",
                       "2026-10-26T02:00:00+01:00"};
    QTest::newRow("Paris 03:00 on fall back") << "0 3 * * *" << paris << "2026-10-24T12:00:00+02:00"
                                              << QStringList{"2026-10-25T03:00:00+01:00"};
    QTest::newRow("Paris weekday job")
        << "*/15 8-18 * * 1-5" << paris << "2026-03-27T18:40:00+01:00" // Friday
        << QStringList{"2026-03-27T18:45:00+01:00", "2026-03-30T08:00:00+02:00"};

    // ---- Australia/Lord_Howe: 30-minute shifts. 2026-04-05 02:00 (+11) -> 01:30 (+10:30);
    // 2026-10-04 02:00 (+10:30) -> 02:30 (+11).
    const QString lh = QStringLiteral("Australia/Lord_Howe");
    QTest::newRow("Lord Howe fixed in repeated half hour")
        << "45 1 * * *" << lh << "2026-04-04T12:00:00+11:00"
        << QStringList{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"};
    QTest::newRow("Lord Howe wildcard in repeated half hour")
        << "*/15 1 * * *" << lh << "2026-04-04T12:00:00+11:00"
        << QStringList{"2026-04-05T01:00:00+11:00", "2026-04-05T01:15:00+11:00",
                       "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00",
                       "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30",
                       "2026-04-06T01:00:00+10:30"};
    QTest::newRow("Lord Howe fixed in gap")
        << "15 2 * * *" << lh << "2026-10-03T12:00:00+10:30"
        << QStringList{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"};
    QTest::newRow("Lord Howe two fixed times in gap, one run")
        << "0,15 2 * * *" << lh << "2026-10-03T12:00:00+10:30"
        << QStringList{"2026-10-04T02:30:00+11:00", "2026-10-05T02:00:00+11:00"};
    QTest::newRow("Lord Howe wildcard in gap")
        << "*/15 2 * * *" << lh << "2026-10-03T12:00:00+10:30"
        << QStringList{"2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00",
                       "2026-10-05T02:00:00+11:00"};
    QTest::newRow("Lord Howe 02:30 is the transition")
        << "30 2 * * *" << lh << "2026-10-03T12:00:00+10:30"
        << QStringList{"2026-10-04T02:30:00+11:00", "2026-10-05T02:30:00+11:00"};

    // ---- Pacific/Apia skipped 2011-12-30 (-10:00 -> +14:00 at local midnight).
    const QString apia = QStringLiteral("Pacific/Apia");
    QTest::newRow("Apia missing day") << "0 12 30 12 *" << apia << "2011-12-29T00:00:00-10:00"
                                      << QStringList{"2012-12-30T12:00:00+14:00"};
    QTest::newRow("Apia daily jumps a day")
        << "0 12 * * *" << apia << "2011-12-29T00:00:00-10:00"
        << QStringList{"2011-12-29T12:00:00-10:00", "2011-12-31T12:00:00+14:00"};
    QTest::newRow("Apia midnight")
        << "0 0 * * *" << apia << "2011-12-28T12:00:00-10:00"
        << QStringList{"2011-12-29T00:00:00-10:00", "2011-12-31T00:00:00+14:00",
                       "2012-01-01T00:00:00+14:00"};
    QTest::newRow("Apia every minute") << "* * * * *" << apia << "2011-12-29T23:59:00-10:00"
                                       << QStringList{"2011-12-31T00:00:00+14:00"};
}

void TestCronExpression::next()
{
    QFETCH(QString, expr);
    QFETCH(QString, zone);
    QFETCH(QString, after);
    QFETCH(QStringList, expected);

    auto c = CronExpression::parse(expr);
    QVERIFY2(c.has_value(), qPrintable(c ? QString() : c.error().message));
    const QTimeZone tz(zone.toUtf8());
    QVERIFY(tz.isValid());
    const QDateTime start = QDateTime::fromString(after, Qt::ISODate);
    QVERIFY(start.isValid());

    const QList<QDateTime> got = c->next(start, tz, int(expected.size()));
    QCOMPARE(isoList(got), expected);
    for (const QDateTime& dt : got)
        QCOMPARE(dt.timeZone(), tz);

    // The single-step API agrees with the list API.
    QDateTime t = start;
    for (const QString& e : expected) {
        const std::optional<QDateTime> n = c->next(t, tz);
        QVERIFY(n.has_value());
        QCOMPARE(n->toString(Qt::ISODate), e);
        t = *n;
    }
}

void TestCronExpression::equivalent_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::newRow("sun names") << "0 0 * * sun"
                               << "0 0 * * 0";
    QTest::newRow("7 and 0") << "0 0 * * 7"
                             << "0 0 * * 0";
    QTest::newRow("SUN range end") << "0 0 * * fri-sun"
                                   << "0 0 * * 5-7";
    QTest::newRow("mon-fri") << "0 9 * * MON-FRI"
                             << "0 9 * * 1-5";
    QTest::newRow("month names") << "0 0 1 jan-mar,DEC *"
                                 << "0 0 1 1-3,12 *";
    QTest::newRow("name step") << "0 0 1 jan/3 *"
                               << "0 0 1 1,4,7,10 *";
    QTest::newRow("a/n") << "10/15 * * * *"
                         << "10-59/15 * * * *";
    QTest::newRow("question mark") << "0 0 ? * 1"
                                   << "0 0 * * 1";
    QTest::newRow("dow question mark") << "0 0 1 * ?"
                                       << "0 0 1 * *";
    QTest::newRow("five vs six") << "0 30 9 * * *"
                                 << "30 9 * * *";
    QTest::newRow("@yearly") << "@yearly"
                             << "0 0 1 1 *";
    QTest::newRow("@monthly") << "@monthly"
                              << "0 0 1 * *";
    QTest::newRow("@weekly") << "@weekly"
                             << "0 0 * * 0";
    QTest::newRow("@daily") << "@daily"
                            << "0 0 * * *";
    QTest::newRow("@hourly") << "@hourly"
                             << "0 * * * *";
    QTest::newRow("dow */1 all") << "0 0 13 * */1"
                                 << "0 0 13 * *";
    QTest::newRow("fri#3 = 5#3") << "0 0 * * fri#3"
                                 << "0 0 * * 5#3";
    QTest::newRow("overlapping list") << "0,0,1-3,2 * * * *"
                                      << "0-3 * * * *";
}

void TestCronExpression::equivalent()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    auto ca = CronExpression::parse(a);
    auto cb = CronExpression::parse(b);
    QVERIFY(ca && cb);
    for (const char* zone : {"UTC", "America/New_York", "Australia/Lord_Howe"}) {
        const QTimeZone tz(zone);
        const QDateTime start =
            QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00Z"), Qt::ISODate);
        QCOMPARE(isoList(ca->next(start, tz, 200)), isoList(cb->next(start, tz, 200)));
    }
    QCOMPARE(ca->explain(), cb->explain());
}

void TestCronExpression::errors_data()
{
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QStringList>("mentions");

    QTest::newRow("4 fields") << "* * * *" << QStringList{"expected 5 or 6 fields, got 4"};
    QTest::newRow("7 fields") << "* * * * * * *" << QStringList{"expected 5 or 6 fields, got 7"};
    QTest::newRow("empty") << "   " << QStringList{"empty"};
    QTest::newRow("minute 60") << "60 * * * *"
                               << QStringList{"minute field", "\"60\"", "out of range 0-59"};
    QTest::newRow("second 61") << "61 * * * * *" << QStringList{"second field", "\"61\""};
    QTest::newRow("hour 24") << "0 24 * * *" << QStringList{"hour field", "\"24\"", "0-23"};
    QTest::newRow("dom 0") << "0 0 0 * *" << QStringList{"day-of-month field", "\"0\"", "1-31"};
    QTest::newRow("dom 32") << "0 0 32 * *" << QStringList{"day-of-month field", "\"32\""};
    QTest::newRow("month 13") << "0 0 * 13 *" << QStringList{"month field", "\"13\"", "1-12"};
    QTest::newRow("dow 8") << "0 0 * * 8"
                           << QStringList{"day-of-week field: \"8\" is out of range 0-7"};
    QTest::newRow("huge number") << "99999999999 * * * *"
                                 << QStringList{"minute field", "\"99999999999\""};
    QTest::newRow("reversed") << "5-1 * * * *"
                              << QStringList{"minute field", "\"5-1\"", "reversed"};
    QTest::newRow("reversed names") << "0 0 * dec-jan *" << QStringList{"month field", "dec-jan"};
    QTest::newRow("reversed dow") << "0 0 * * 7-1" << QStringList{"day-of-week field", "\"7-1\""};
    QTest::newRow("step 0") << "*/0 * * * *" << QStringList{"minute field", "\"0\"", "*/0"};
    QTest::newRow("step 0 range") << "0 0 * 1-6/0 *" << QStringList{"month field", "1-6/0"};
    QTest::newRow("step too big") << "*/61 * * * *" << QStringList{"minute field", "\"61\""};
    QTest::newRow("step not a number") << "*/x * * * *" << QStringList{"minute field", "\"x\""};
    QTest::newRow("double slash") << "*/2/3 * * * *" << QStringList{"minute field", "*/2/3"};
    QTest::newRow("bad month name")
        << "0 0 * foo *" << QStringList{"month field", "\"foo\"", "jan..dec"};
    QTest::newRow("bad day name") << "0 0 * * funday"
                                  << QStringList{"day-of-week field", "\"funday\"", "sun..sat"};
    QTest::newRow("long day name") << "0 0 * * monday" << QStringList{"day-of-week", "monday"};
    QTest::newRow("name in minutes") << "jan * * * *" << QStringList{"minute field", "\"jan\""};
    QTest::newRow("garbage char") << "1% * * * *" << QStringList{"minute field", "\"%\"", "1%"};
    QTest::newRow("unicode digit") << "\u0665 * * * *" << QStringList{"minute field"};
    QTest::newRow("empty element")
        << "1,,2 * * * *" << QStringList{"minute field", "empty list element", "1,,2"};
    QTest::newRow("trailing comma") << "0 1, * * *" << QStringList{"hour field", "\"1,\""};
    QTest::newRow("missing range start") << "-5 * * * *" << QStringList{"minute field", "-5"};
    QTest::newRow("missing range end") << "5- * * * *" << QStringList{"minute field", "5-"};
    QTest::newRow("two dashes") << "1-2-3 * * * *" << QStringList{"minute field", "1-2-3"};
    QTest::newRow("star in range") << "1-* * * * *" << QStringList{"minute field", "1-*"};
    QTest::newRow("unknown macro")
        << "@fortnightly" << QStringList{"unknown macro", "@fortnightly", "@hourly"};
    QTest::newRow("macro with extra") << "@daily now" << QStringList{"@daily", "now"};
    QTest::newRow("question mark in minutes") << "? * * * *" << QStringList{"minute field", "?"};
    QTest::newRow("question mark in list")
        << "0 0 ?,1 * *" << QStringList{"day-of-month field", "?,1"};
    QTest::newRow("random tilde") << "0~30 * * * *" << QStringList{"minute field", "~"};
    QTest::newRow("W alone") << "0 0 W * *" << QStringList{"day-of-month field", "\"W\""};
    QTest::newRow("W range") << "0 0 1-5W * *" << QStringList{"day-of-month field", "1-5W"};
    QTest::newRow("L-31") << "0 0 L-31 * *" << QStringList{"day-of-month field", "L-31"};
    QTest::newRow("L in hours") << "0 L * * *" << QStringList{"hour field", "\"L\""};
    QTest::newRow("L alone in dow") << "0 0 * * L" << QStringList{"day-of-week field", "\"L\""};
    QTest::newRow("#6") << "0 0 * * mon#6" << QStringList{"day-of-week field", "mon#6"};
    QTest::newRow("#0") << "0 0 * * 1#0" << QStringList{"day-of-week field", "1#0"};
    QTest::newRow("8#1") << "0 0 * * 8#1" << QStringList{"day-of-week field", "\"8\""};
    QTest::newRow("# in dom") << "0 0 1#2 * *" << QStringList{"day-of-month field", "1#2"};
    QTest::newRow("range L") << "0 0 * * 1-5L" << QStringList{"day-of-week field", "1-5L"};
}

void TestCronExpression::errors()
{
    QFETCH(QString, expr);
    QFETCH(QStringList, mentions);
    auto c = CronExpression::parse(expr);
    QVERIFY2(!c.has_value(), qPrintable(expr));
    QCOMPARE(c.error().code, vivarium::Error::Code::Validation);
    for (const QString& m : mentions)
        QVERIFY2(c.error().message.contains(m),
                 qPrintable(QStringLiteral("\"%1\" lacks \"%2\"").arg(c.error().message, m)));
}

void TestCronExpression::neverFires_data()
{
    QTest::addColumn<QString>("expr");
    QTest::newRow("feb 30") << "0 0 30 2 *";
    QTest::newRow("31 in 30-day months") << "0 0 31 4,6,9,11 *";
    QTest::newRow("31 feb,apr") << "0 0 31 2,4 *";
    QTest::newRow("feb 30,31 names") << "0 0 30,31 feb *";
    QTest::newRow("with ? dow") << "0 0 30 2 ?";
    QTest::newRow("*/30 dom AND 5th monday in feb") << "0 0 */30 2 1#5";
    QTest::newRow("30W in feb") << "0 0 30W 2 *";
}

void TestCronExpression::neverFires()
{
    QFETCH(QString, expr);
    auto c = CronExpression::parse(expr);
    QVERIFY(!c.has_value());
    QCOMPARE(c.error().code, vivarium::Error::Code::Validation);
    QVERIFY2(c.error().message.contains(QStringLiteral("never fire")),
             qPrintable(c.error().message));
}

void TestCronExpression::explain_data()
{
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QString>("words");
    QTest::newRow("work hours") << "*/15 8-18 * * 1-5"
                                << "every 15 minutes, between 08:00 and 18:59, Monday through "
                                   "Friday";
    QTest::newRow("day 1") << "30 9 1 * *"
                           << "at 09:30 on day 1 of the month";
    QTest::newRow("sunday") << "0 0 * * 0"
                            << "at 00:00 on Sunday";
    QTest::newRow("@weekly") << "@weekly"
                             << "at 00:00 on Sunday";
    QTest::newRow("every minute") << "* * * * *"
                                  << "every minute";
    QTest::newRow("@hourly") << "@hourly"
                             << "at minute 0 of every hour";
    QTest::newRow("@daily") << "@daily"
                            << "at 00:00";
    QTest::newRow("@yearly") << "@yearly"
                             << "at 00:00 on January 1";
    QTest::newRow("@reboot") << "@reboot"
                             << "once, when the engine starts";
    QTest::newRow("hour range") << "0 9-17 * * 1-5"
                                << "every hour from 09:00 to 17:00, Monday through Friday";
    QTest::newRow("two times") << "0 9,17 * * *"
                               << "at 09:00 and 17:00";
    QTest::newRow("weeknights") << "0 22 * * 1-5"
                                << "at 22:00 on Monday through Friday";
    QTest::newRow("cronie OR example") << "30 4 1,15 * 5"
                                       << "at 04:30 on days 1 and 15 of the month, and on Friday";
    QTest::newRow("star prefix AND")
        << "0 0 */2 * 1"
        << "at 00:00 on every 2nd day of the month from day 1 through 31, only if it falls on "
           "Monday";
    QTest::newRow("OR with all weekdays is every day") << "0 0 1 1 0-6"
                                                       << "at 00:00 in January";
    QTest::newRow("months") << "0 12 * 1-3 *"
                            << "at 12:00 in January through March";
    QTest::newRow("L") << "0 0 L * *"
                       << "at 00:00 on the last day of the month";
    QTest::newRow("5#3") << "0 0 * * 5#3"
                         << "at 00:00 on the third Friday of the month";
    QTest::newRow("5L") << "0 0 * * 5L"
                        << "at 00:00 on the last Friday of the month";
    QTest::newRow("15W") << "0 8 15W * *"
                         << "at 08:00 on the weekday nearest day 15 of the month";
    QTest::newRow("half hours") << "*/30 * * * *"
                                << "every 30 minutes";
    QTest::newRow("10 seconds") << "*/10 * * * * *"
                                << "every 10 seconds";
    QTest::newRow("every 2 hours") << "0 */2 * * *"
                                   << "every 2 hours from 00:00 to 22:00";
    QTest::newRow("uneven minutes") << "5/15 * * * *"
                                    << "at minutes 5, 20, 35 and 50 of the hour";
    QTest::newRow("fri-sun") << "0 0 * * 5-7"
                             << "at 00:00 on Friday through Sunday";
    QTest::newRow("weekend") << "0 10 * * sat,sun"
                             << "at 10:00 on Saturday and Sunday";
    QTest::newRow("seconds time") << "30 15 10 * * *"
                                  << "at 10:15:30";
    QTest::newRow("*/7 is not every 7") << "*/7 * * * *"
                                        << "at minutes 0, 7, 14, 21, 28, 35, 42, 49 and 56 of the "
                                           "hour";
    QTest::newRow("feb 29") << "0 0 29 2 *"
                            << "at 00:00 on February 29";
    QTest::newRow("few times") << "*/30 1,3,5 * * *"
                               << "at 01:00, 01:30, 03:00, 03:30, 05:00 and 05:30";
    QTest::newRow("hours list") << "*/20 1,3,5 * * *"
                                << "every 20 minutes, during hours 01, 03 and 05";
    QTest::newRow("odd hours") << "0 1,3,4,5,9,20,21,23 * * *"
                               << "at minute 0 of hours 01, 03 through 05, 09, 20, 21 and 23";
}

void TestCronExpression::explain()
{
    QFETCH(QString, expr);
    QFETCH(QString, words);
    auto c = CronExpression::parse(expr);
    QVERIFY(c.has_value());
    QCOMPARE(c->explain(), words);
}

void TestCronExpression::reboot()
{
    auto c = CronExpression::parse(QStringLiteral("@reboot"));
    QVERIFY(c.has_value());
    QVERIFY(c->isReboot());
    QVERIFY(!c->isWildcardJob());
    const QTimeZone tz("UTC");
    QVERIFY(!c->next(QDateTime::currentDateTimeUtc(), tz).has_value());
    QVERIFY(c->next(QDateTime::currentDateTimeUtc(), tz, 5).isEmpty());

    // Copies share the parsed form and stay valid after the original goes.
    std::optional<CronExpression> copy;
    {
        auto d = CronExpression::parse(QStringLiteral("0 9 * * *"));
        QVERIFY(d);
        copy = *d;
    }
    CronExpression moved = std::move(*copy);
    QCOMPARE(moved.text(), QStringLiteral("0 9 * * *"));
    QVERIFY(moved.next(QDateTime::currentDateTimeUtc(), tz).has_value());
}

void TestCronExpression::strictlyAfter()
{
    const QTimeZone tz("UTC");
    auto everySecond = CronExpression::parse(QStringLiteral("* * * * * *"));
    QVERIFY(everySecond);
    const QDateTime half =
        QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00.500Z"), Qt::ISODateWithMs);
    QCOMPARE(everySecond->next(half, tz)->toString(Qt::ISODate),
             QStringLiteral("2026-01-01T00:00:01+00:00"));
    auto everyMinute = CronExpression::parse(QStringLiteral("* * * * *"));
    QVERIFY(everyMinute);
    const QDateTime exact =
        QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00Z"), Qt::ISODate);
    QCOMPARE(everyMinute->next(exact, tz)->toString(Qt::ISODate),
             QStringLiteral("2026-01-01T00:01:00+00:00"));
    // Any zone and spec of `after` works: the instant is what counts.
    const QDateTime paris = exact.toTimeZone(QTimeZone("Europe/Paris"));
    QCOMPARE(everyMinute->next(paris, tz)->toString(Qt::ISODate),
             QStringLiteral("2026-01-01T00:01:00+00:00"));
    // Before 1970 works too.
    const QDateTime old =
        QDateTime::fromString(QStringLiteral("1969-12-31T23:59:30Z"), Qt::ISODate);
    QCOMPARE(everyMinute->next(old, tz)->toString(Qt::ISODate),
             QStringLiteral("1970-01-01T00:00:00+00:00"));
}

void TestCronExpression::invalidInputs()
{
    auto c = CronExpression::parse(QStringLiteral("* * * * *"));
    QVERIFY(c);
    QVERIFY(!c->next(QDateTime(), QTimeZone("UTC")).has_value());
    QVERIFY(!c->next(QDateTime::currentDateTimeUtc(), QTimeZone()).has_value());
    QVERIFY(c->next(QDateTime::currentDateTimeUtc(), QTimeZone("UTC"), 0).isEmpty());
    QVERIFY(c->next(QDateTime::currentDateTimeUtc(), QTimeZone("UTC"), -3).isEmpty());
}

void TestCronExpression::transitionsAreWhereTheTablesSayTheyAre()
{
    // The tables above hard-code the zone rules; make sure this machine's tzdata agrees.
    struct Expect
    {
        const char* zone;
        const char* from;
        const char* to;
        QStringList atUtcAndOffset;
    };
    const QList<Expect> expects = {
        {"America/New_York",
         "2026-01-01T00:00:00Z",
         "2027-01-01T00:00:00Z",
         {"2026-03-08T07:00:00Z -14400", "2026-11-01T06:00:00Z -18000"}},
        {"Europe/Paris",
         "2026-01-01T00:00:00Z",
         "2027-01-01T00:00:00Z",
         {"2026-03-29T01:00:00Z 7200", "2026-10-25T01:00:00Z 3600"}},
        {"Australia/Lord_Howe",
         "2026-01-01T00:00:00Z",
         "2027-01-01T00:00:00Z",
         {"2026-04-04T15:00:00Z 37800", "2026-10-03T15:30:00Z 39600"}},
        {"Pacific/Apia",
         "2011-12-01T00:00:00Z",
         "2012-02-01T00:00:00Z",
         {"2011-12-30T10:00:00Z 50400"}},
    };
    for (const Expect& e : expects) {
        QStringList got;
        for (const QTimeZone::OffsetData& o :
             transitionsBetween(QTimeZone(e.zone), QLatin1String(e.from), QLatin1String(e.to)))
            got << o.atUtc.toString(Qt::ISODate) + QLatin1Char(' ') +
                       QString::number(o.offsetFromUtc);
        QCOMPARE(got, e.atUtcAndOffset);
    }
}

void TestCronExpression::apiaSkippedDay()
{
    // No minute of 2011-12-30 exists in Apia: every-minute runs straight over it, and a
    // search that starts inside the missing day neither loops nor crashes.
    const QTimeZone apia("Pacific/Apia");
    auto c = CronExpression::parse(QStringLiteral("* * 30 12 *"));
    QVERIFY(c);
    const QDateTime start =
        QDateTime::fromString(QStringLiteral("2011-12-29T00:00:00-10:00"), Qt::ISODate);
    QCOMPARE(c->next(start, apia)->toString(Qt::ISODate),
             QStringLiteral("2012-12-30T00:00:00+14:00"));
    auto every = CronExpression::parse(QStringLiteral("*/30 * * * *"));
    QVERIFY(every);
    QCOMPARE(isoList(every->next(
                 QDateTime::fromString(QStringLiteral("2011-12-29T23:00:00-10:00"), Qt::ISODate),
                 apia, 3)),
             (QStringList{"2011-12-29T23:30:00-10:00", "2011-12-31T00:00:00+14:00",
                          "2011-12-31T00:30:00+14:00"}));
}

void TestCronExpression::searchBound()
{
    // Rare but possible: the fifth Monday of February needs a leap year starting on a Monday.
    auto rare = CronExpression::parse(QStringLiteral("0 0 * 2 1#5"));
    QVERIFY(rare);
    const QTimeZone paris("Europe/Paris");
    QElapsedTimer timer;
    timer.start();
    const QList<QDateTime> got = rare->next(
        QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00Z"), Qt::ISODate), paris, 5);
    QCOMPARE(got.size(), 5);
    for (const QDateTime& dt : got) {
        QCOMPARE(dt.date().month(), 2);
        QCOMPARE(dt.date().day(), 29);
        QCOMPARE(dt.date().dayOfWeek(), 1);
    }
    qDebug("5 fifth-Mondays-of-February in Europe/Paris (2044..2112+) took %lld us",
           timer.nsecsElapsed() / 1000);
}

void TestCronExpression::matchesCronieSimulation_data()
{
    QTest::addColumn<QString>("zone");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::newRow("New York 2026") << "America/New_York"
                                   << "2026-01-01T00:00:00Z"
                                   << "2027-01-01T00:00:00Z";
    QTest::newRow("Paris 2026") << "Europe/Paris"
                                << "2026-01-01T00:00:00Z"
                                << "2027-01-01T00:00:00Z";
    QTest::newRow("Lord Howe 2026") << "Australia/Lord_Howe"
                                    << "2026-01-01T00:00:00Z"
                                    << "2027-01-01T00:00:00Z";
    QTest::newRow("Apia 2011") << "Pacific/Apia"
                               << "2011-09-01T00:00:00Z"
                               << "2012-01-01T00:00:00Z";
    // Santiago changes at local midnight, so its gap and repeat straddle a date change.
    QTest::newRow("Santiago 2026") << "America/Santiago"
                                   << "2026-01-01T00:00:00Z"
                                   << "2027-01-01T00:00:00Z";
    // Troll shifts two hours at once.
    QTest::newRow("Troll 2026") << "Antarctica/Troll"
                                << "2026-01-01T00:00:00Z"
                                << "2027-01-01T00:00:00Z";
    // Casey jumped forward 3 hours ("large" for cronie: no catch-up) and back 3 hours (still
    // "negative": timeDiff -179).
    QTest::newRow("Casey 2020-2022") << "Antarctica/Casey"
                                     << "2020-01-01T00:00:00Z"
                                     << "2023-01-01T00:00:00Z";
    // Vostok went back 7 hours: a "large" jump, after which everything runs again.
    QTest::newRow("Vostok 1994") << "Antarctica/Vostok"
                                 << "1994-01-01T00:00:00Z"
                                 << "1995-01-01T00:00:00Z";
}

void TestCronExpression::matchesCronieSimulation()
{
    QFETCH(QString, zone);
    QFETCH(QString, from);
    QFETCH(QString, to);
    const QTimeZone tz(zone.toUtf8());
    QVERIFY(tz.isValid());
    const QList<QTimeZone::OffsetData> transitions = transitionsBetween(tz, from, to);
    QVERIFY(!transitions.isEmpty());

    QStringList exprs = {"* * * * *",         "*/15 * * * *",   "0 * * * *",    "30 * * * *",
                         "0 0 * * *",         "30 0 * * *",     "0 1 * * *",    "30 1 * * *",
                         "0 2 * * *",         "30 2 * * *",     "59 2 * * *",   "0 3 * * *",
                         "15 23 * * *",       "0,30 1-3 * * *", "*/10 2 * * *", "0 */2 * * *",
                         "45 0-4 * * *",      "0 0 * * 0",      "0 0 1-7 * 0",  "5 0 */2 * 0",
                         "10 22-23,0-1 * * *"};
    QRandomGenerator rng(20260329);
    for (int i = 0; i < 25; ++i)
        exprs << randomExpression(rng, false, true);

    int compared = 0;
    for (const QString& expr : exprs) {
        auto c = CronExpression::parse(expr);
        if (!c) {
            QVERIFY2(c.error().message.contains(QStringLiteral("never fire")),
                     qPrintable(expr + QStringLiteral(": ") + c.error().message));
            continue;
        }
        const RefSpec ref = refParse(expr);
        for (const QTimeZone::OffsetData& tr : transitions) {
            const qint64 at = tr.atUtc.toSecsSinceEpoch();
            const qint64 start = at - 36 * 3600;
            const qint64 end = at + 36 * 3600;
            const QList<qint64> want = simulateCronie(ref, tz, start, end);
            QList<qint64> got;
            QDateTime t = QDateTime::fromSecsSinceEpoch(start, Qt::UTC);
            for (;;) {
                const std::optional<QDateTime> n = c->next(t, tz);
                if (!n || n->toSecsSinceEpoch() > end)
                    break;
                got << n->toSecsSinceEpoch();
                t = *n;
            }
            if (got != want) {
                // Show the neighbourhood of the first difference only.
                qsizetype first = 0;
                while (first < got.size() && first < want.size() && got[first] == want[first])
                    ++first;
                const auto around = [&](const QList<qint64>& list) {
                    QStringList out;
                    for (qsizetype i = std::max<qsizetype>(0, first - 2);
                         i < std::min(list.size(), first + 3); ++i)
                        out << QDateTime::fromSecsSinceEpoch(list[i], tz).toString(Qt::ISODate);
                    return out;
                };
                const QStringList g = around(got);
                const QStringList w = around(want);
                QFAIL(qPrintable(QStringLiteral("%1 around %2:\n got  %3\n want %4")
                                     .arg(expr, tr.atUtc.toString(Qt::ISODate),
                                          g.join(QLatin1Char(' ')), w.join(QLatin1Char(' ')))));
            }
            ++compared;
        }
    }
    qDebug("%d expression/transition windows agree with the cronie simulation", compared);
}

void TestCronExpression::fuzzAgainstReference()
{
    // Without DST, every next() result must match the reference, nothing may be skipped,
    // and results strictly increase.
    QRandomGenerator rng(424242);
    const QTimeZone utc("UTC");
    int checked = 0;
    for (int i = 0; i < 400; ++i) {
        const bool withSeconds = rng.bounded(4) == 0;
        const QString expr = randomExpression(rng, withSeconds, false);
        auto c = CronExpression::parse(expr);
        if (!c) {
            QVERIFY2(c.error().message.contains(QStringLiteral("never fire")),
                     qPrintable(expr + QStringLiteral(": ") + c.error().message));
            continue;
        }
        const RefSpec ref = refParse(expr);
        const qint64 start = secs(QStringLiteral("2020-01-01T00:00:00Z")) +
                             qint64(rng.bounded(10 * 365)) * 86400 + rng.bounded(86400);
        const QList<QDateTime> got =
            c->next(QDateTime::fromSecsSinceEpoch(start, Qt::UTC), utc, 30);
        QVERIFY2(!got.isEmpty(), qPrintable(expr));
        qint64 prev = start;
        for (const QDateTime& dt : got) {
            const qint64 s = dt.toSecsSinceEpoch();
            QVERIFY2(s > prev, qPrintable(expr));
            QVERIFY2(refMatches(ref, s),
                     qPrintable(expr + QLatin1Char(' ') + dt.toString(Qt::ISODate)));
            // Nothing skipped in between (checked where the gap is short enough to walk).
            const qint64 stepSize = withSeconds ? 1 : 60;
            if (s - prev <= stepSize * 3 * 1440) {
                for (qint64 x = (prev / stepSize + 1) * stepSize; x < s; x += stepSize)
                    QVERIFY2(!refMatches(ref, x),
                             qPrintable(
                                 expr + QStringLiteral(" skipped ") +
                                 QDateTime::fromSecsSinceEpoch(x, Qt::UTC).toString(Qt::ISODate)));
            }
            prev = s;
            ++checked;
        }
    }
    qDebug("%d fire times checked against the reference matcher", checked);
}

void TestCronExpression::fuzzAcrossZones()
{
    // In DST zones a result either matches the fields in local time, or is a transition
    // instant at which a fixed-time job catches up on a skipped local time.
    QRandomGenerator rng(77);
    const QList<QTimeZone> zones = {QTimeZone("America/New_York"),    QTimeZone("Europe/Paris"),
                                    QTimeZone("Australia/Lord_Howe"), QTimeZone("Pacific/Apia"),
                                    QTimeZone("America/Santiago"),    QTimeZone("Asia/Kolkata")};
    int checked = 0;
    for (int i = 0; i < 300; ++i) {
        const QString expr = randomExpression(rng, rng.bounded(5) == 0, rng.bounded(2) == 0);
        auto c = CronExpression::parse(expr);
        if (!c)
            continue;
        const RefSpec ref = refParse(expr);
        const QTimeZone& tz = zones.at(qsizetype(rng.bounded(int(zones.size()))));
        const qint64 start = secs(QStringLiteral("2010-01-01T00:00:00Z")) +
                             qint64(rng.bounded(20 * 365)) * 86400 + rng.bounded(86400);
        const QList<QDateTime> got = c->next(QDateTime::fromSecsSinceEpoch(start, Qt::UTC), tz, 40);
        QVERIFY(!got.isEmpty());
        qint64 prev = start;
        for (const QDateTime& dt : got) {
            const qint64 s = dt.toSecsSinceEpoch();
            QVERIFY2(s > prev, qPrintable(expr));
            prev = s;
            ++checked;
            const qint64 local = s + dt.offsetFromUtc();
            if (refMatches(ref, local))
                continue;
            // A catch-up: s must be a transition with a forward shift whose skipped local
            // times include a match.
            const QTimeZone::OffsetData tr =
                tz.previousTransition(QDateTime::fromSecsSinceEpoch(s + 1, Qt::UTC));
            QVERIFY2(tr.atUtc.toSecsSinceEpoch() == s,
                     qPrintable(expr + QLatin1Char(' ') + dt.toString(Qt::ISODate)));
            const int before = tz.offsetFromUtc(QDateTime::fromSecsSinceEpoch(s - 1, Qt::UTC));
            QVERIFY(tr.offsetFromUtc > before);
            bool skippedMatch = false;
            const qint64 step = c->hasSeconds() ? 1 : 60;
            for (qint64 l = s + before; l < s + tr.offsetFromUtc && !skippedMatch; l += step)
                skippedMatch = refMatches(ref, l);
            QVERIFY2(skippedMatch, qPrintable(expr + QLatin1Char(' ') + dt.toString(Qt::ISODate)));
        }
    }
    qDebug("%d fire times checked in DST zones", checked);
}

void TestCronExpression::speed()
{
    // Not asserted (machines differ); the figure goes into the log.
    auto c = CronExpression::parse(QStringLiteral("*/15 8-18 * * 1-5"));
    auto yearly = CronExpression::parse(QStringLiteral("0 0 29 2 *"));
    QVERIFY(c && yearly);
    const QTimeZone paris("Europe/Paris");
    QDateTime t = QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00Z"), Qt::ISODate);
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 10000; ++i)
        t = *c->next(t, paris);
    const qint64 chained = timer.nsecsElapsed();
    timer.restart();
    const QDateTime fixed =
        QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00Z"), Qt::ISODate);
    for (int i = 0; i < 10000; ++i)
        QVERIFY(yearly->next(fixed.addSecs(i * 3600), paris).has_value());
    const qint64 rare = timer.nsecsElapsed();
    qDebug("10,000 chained next() of \"*/15 8-18 * * 1-5\" in Europe/Paris: %lld ms (%lld ns "
           "each); 10,000 next() of \"0 0 29 2 *\": %lld ms",
           chained / 1000000, chained / 10000, rare / 1000000);
}

QTEST_GUILESS_MAIN(TestCronExpression)
#include "tst_CronExpression.moc"
