// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// `vivarium cron next|explain` through the real binary: line format, DST examples, --json,
// exit codes and error lines.
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

using namespace testsupport;

namespace {

ProcessResult cron(const QStringList& args, const QProcessEnvironment& env = {})
{
    return runProcess(bin(QStringLiteral("vivarium")), QStringList{QStringLiteral("cron")} + args,
                      {}, 30000, env);
}

QStringList lines(const QByteArray& out)
{
    return QString::fromUtf8(out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

const QRegularExpression& isoLine()
{
    static const QRegularExpression re(
        QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d$"));
    return re;
}

} // namespace

class TestCronCli : public QObject
{
    Q_OBJECT

private slots:
    void nextLines_data()
    {
        QTest::addColumn<QString>("expr");
        QTest::addColumn<QString>("zone");
        QTest::addColumn<QString>("after");
        QTest::addColumn<int>("count");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("Paris spring forward")
            << "*/15 * * * *"
            << "Europe/Paris"
            << "2026-03-29T01:40:00+01:00" << 3
            << QStringList{"2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00",
                           "2026-03-29T03:15:00+02:00"};
        QTest::newRow("Paris fixed job in the gap")
            << "30 2 * * *"
            << "Europe/Paris"
            << "2026-03-29T01:59:00+01:00" << 2
            << QStringList{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"};
        QTest::newRow("after given in Z")
            << "* * * * *"
            << "Europe/Paris"
            << "2026-03-29T00:59:00Z" << 1 << QStringList{"2026-03-29T03:00:00+02:00"};
        QTest::newRow("after as local time in --tz")
            << "* * * * *"
            << "Europe/Paris"
            << "2026-03-29T01:59:00" << 1 << QStringList{"2026-03-29T03:00:00+02:00"};
        QTest::newRow("local time with a space, no seconds")
            << "0 12 * * *"
            << "Asia/Tokyo"
            << "2026-05-01 11:30" << 2
            << QStringList{"2026-05-01T12:00:00+09:00", "2026-05-02T12:00:00+09:00"};
        QTest::newRow("local date alone is midnight")
            << "0 0 * * *"
            << "UTC"
            << "2026-05-01" << 1 << QStringList{"2026-05-02T00:00:00+00:00"};
        QTest::newRow("repeated local time means the first pass")
            << "*/30 * * * *"
            << "America/New_York"
            << "2026-11-01T01:10:00" << 4
            << QStringList{"2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
                           "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"};
        QTest::newRow("skipped local time means the transition")
            << "* * * * *"
            << "America/New_York"
            << "2026-03-08T02:30:00" << 1 << QStringList{"2026-03-08T03:01:00-04:00"};
        QTest::newRow("New York fixed job in gap")
            << "30 2 * * *"
            << "America/New_York"
            << "2026-03-07T12:00:00-05:00" << 2
            << QStringList{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"};
        QTest::newRow("New York hourly twice at 01:00")
            << "0 * * * *"
            << "America/New_York"
            << "2026-11-01T00:30:00-04:00" << 3
            << QStringList{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00",
                           "2026-11-01T02:00:00-05:00"};
        QTest::newRow("Lord Howe half-hour gap")
            << "15 2 * * *"
            << "Australia/Lord_Howe"
            << "2026-10-03T12:00:00+10:30" << 2
            << QStringList{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"};
        QTest::newRow("Apia skipped day")
            << "0 12 30 12 *"
            << "Pacific/Apia"
            << "2011-12-29T00:00:00-10:00" << 1 << QStringList{"2012-12-30T12:00:00+14:00"};
        QTest::newRow("six fields and a macro")
            << "@hourly"
            << "UTC"
            << "2026-01-01T00:00:00Z" << 2
            << QStringList{"2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"};
        QTest::newRow("seconds") << "*/20 * * * * *"
                                 << "UTC"
                                 << "2026-01-01T00:00:00Z" << 3
                                 << QStringList{"2026-01-01T00:00:20+00:00",
                                                "2026-01-01T00:00:40+00:00",
                                                "2026-01-01T00:01:00+00:00"};
        QTest::newRow("leap day") << "0 0 29 2 *"
                                  << "UTC"
                                  << "2026-03-01T00:00:00Z" << 1
                                  << QStringList{"2028-02-29T00:00:00+00:00"};
    }

    void nextLines()
    {
        QFETCH(QString, expr);
        QFETCH(QString, zone);
        QFETCH(QString, after);
        QFETCH(int, count);
        QFETCH(QStringList, expected);
        const ProcessResult r = cron({QStringLiteral("next"), expr, QStringLiteral("--tz"), zone,
                                      QStringLiteral("--after"), after, QStringLiteral("--count"),
                                      QString::number(count)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.err.isEmpty(), qPrintable(r.describe()));
        QCOMPARE(lines(r.out), expected);
        for (const QString& line : lines(r.out))
            QVERIFY2(isoLine().match(line).hasMatch(), qPrintable(line));
    }

    void defaultsToFiveLinesFromNowInTheSystemZone()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("TZ"), QStringLiteral("Europe/Berlin"));
        const ProcessResult r = cron({QStringLiteral("next"), QStringLiteral("*/5 * * * *")}, env);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.err.isEmpty(), qPrintable(r.describe()));
        const QStringList got = lines(r.out);
        QCOMPARE(got.size(), 5);
        QDateTime prev = QDateTime::currentDateTimeUtc().addSecs(-5);
        for (const QString& line : got) {
            QVERIFY2(isoLine().match(line).hasMatch(), qPrintable(line));
            const QDateTime t = QDateTime::fromString(line, Qt::ISODate);
            QVERIFY(t > prev);
            QCOMPARE(t.time().minute() % 5, 0);
            QCOMPARE(t.time().second(), 0);
            // Berlin is +01:00 or +02:00.
            QVERIFY2(line.endsWith(QLatin1String("+01:00")) ||
                         line.endsWith(QLatin1String("+02:00")),
                     qPrintable(line));
            prev = t;
        }
        QVERIFY(prev < QDateTime::currentDateTimeUtc().addSecs(3600));
    }

    void countLimits()
    {
        const ProcessResult r =
            cron({QStringLiteral("next"), QStringLiteral("* * * * *"), QStringLiteral("--tz"),
                  QStringLiteral("America/New_York"), QStringLiteral("--after"),
                  QStringLiteral("2026-11-01T00:00:00-04:00"), QStringLiteral("--count"),
                  QStringLiteral("1000")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QStringList got = lines(r.out);
        QCOMPARE(got.size(), 1000);
        QDateTime prev;
        for (const QString& line : got) {
            QVERIFY2(isoLine().match(line).hasMatch(), qPrintable(line));
            const QDateTime t = QDateTime::fromString(line, Qt::ISODate);
            if (prev.isValid())
                QCOMPARE(prev.secsTo(t), 60); // every minute, both passes of 01:xx included
            prev = t;
        }
    }

    void json()
    {
        const ProcessResult r =
            cron({QStringLiteral("next"), QStringLiteral("*/15 8-18 * * 1-5"),
                  QStringLiteral("--tz"), QStringLiteral("Europe/Paris"), QStringLiteral("--after"),
                  QStringLiteral("2026-03-27T18:40:00+01:00"), QStringLiteral("--count"),
                  QStringLiteral("2"), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QJsonParseError error{};
        const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(r.describe()));
        const QJsonObject o = doc.object();
        QCOMPARE(o.value(QStringLiteral("expression")).toString(),
                 QStringLiteral("*/15 8-18 * * 1-5"));
        QCOMPARE(o.value(QStringLiteral("timezone")).toString(), QStringLiteral("Europe/Paris"));
        QCOMPARE(o.value(QStringLiteral("after")).toString(),
                 QStringLiteral("2026-03-27T18:40:00+01:00"));
        QCOMPARE(o.value(QStringLiteral("next")).toArray(),
                 (QJsonArray{QStringLiteral("2026-03-27T18:45:00+01:00"),
                             QStringLiteral("2026-03-30T08:00:00+02:00")}));
        QCOMPARE(o.value(QStringLiteral("explain")).toString(),
                 QStringLiteral("every 15 minutes, between 08:00 and 18:59, Monday through "
                                "Friday"));
    }

    void reboot()
    {
        const ProcessResult r = cron({QStringLiteral("next"), QStringLiteral("@reboot")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.contains("@reboot") && r.err.contains("engine starts"),
                 qPrintable(r.describe()));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("stderrContains");
        QTest::newRow("4 fields") << QStringList{"next", "* * * *"}
                                  << QStringList{"vivarium cron next: ",
                                                 "expected 5 or 6 fields, got 4"};
        QTest::newRow("out of range")
            << QStringList{"next", "0 0 * * 8"}
            << QStringList{"vivarium cron next: ", "day-of-week", "\"8\""};
        QTest::newRow("never fires") << QStringList{"next", "0 0 30 2 *"}
                                     << QStringList{"vivarium cron next: ", "never fire"};
        QTest::newRow("unknown macro") << QStringList{"next", "@sometimes"}
                                       << QStringList{"vivarium cron next: ", "@sometimes"};
        QTest::newRow("bad zone") << QStringList{"next", "* * * * *", "--tz", "Mars/Olympus"}
                                  << QStringList{"vivarium cron next: ", "Mars/Olympus"};
        QTest::newRow("bad after") << QStringList{"next", "* * * * *", "--after", "tomorrow"}
                                   << QStringList{"vivarium cron next: ", "--after", "tomorrow"};
        QTest::newRow("bad after date")
            << QStringList{"next", "* * * * *", "--after", "2026-02-30T00:00:00Z"}
            << QStringList{"vivarium cron next: ", "--after"};
        QTest::newRow("count 0") << QStringList{"next", "* * * * *", "--count", "0"}
                                 << QStringList{"vivarium cron next: ", "--count"};
        QTest::newRow("count 1001") << QStringList{"next", "* * * * *", "--count", "1001"}
                                    << QStringList{"vivarium cron next: ", "1001"};
        QTest::newRow("count not a number") << QStringList{"next", "* * * * *", "--count", "ten"}
                                            << QStringList{"vivarium cron next: ", "ten"};
        QTest::newRow("unquoted") << QStringList{"next", "0", "9", "*", "*", "*"}
                                  << QStringList{"vivarium cron next: ", "quote"};
        QTest::newRow("missing expression")
            << QStringList{"next"} << QStringList{"vivarium cron next: "};
        QTest::newRow("explain invalid")
            << QStringList{"explain", "61 * * * *"}
            << QStringList{"vivarium cron explain: ", "minute", "\"61\""};
        QTest::newRow("explain missing")
            << QStringList{"explain"} << QStringList{"vivarium cron explain: "};
    }

    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, stderrContains);
        const ProcessResult r = cron(args);
        QVERIFY2(r.exitCode == 2, qPrintable(r.describe()));
        QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
        const QString err = QString::fromUtf8(r.err);
        for (const QString& s : stderrContains)
            QVERIFY2(err.contains(s), qPrintable(r.describe()));
    }

    void explain()
    {
        const ProcessResult r = cron({QStringLiteral("explain"), QStringLiteral("30 9 1 * *")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QByteArray("at 09:30 on day 1 of the month\n"));
        QVERIFY(r.err.isEmpty());

        const ProcessResult j =
            cron({QStringLiteral("explain"), QStringLiteral("@weekly"), QStringLiteral("--json")});
        QVERIFY2(j.exitCode == 0, qPrintable(j.describe()));
        const QJsonObject o = QJsonDocument::fromJson(j.out).object();
        QCOMPARE(o.value(QStringLiteral("expression")).toString(), QStringLiteral("@weekly"));
        QCOMPARE(o.value(QStringLiteral("explain")).toString(),
                 QStringLiteral("at 00:00 on Sunday"));
    }

    void help()
    {
        const ProcessResult r = cron({QStringLiteral("next"), QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        for (const char* word : {"--tz", "--after", "--count", "--json", "EXPR"})
            QVERIFY2(r.out.contains(word), word);
    }
};

QTEST_GUILESS_MAIN(TestCronCli)
#include "tst_CronCli.moc"
