// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/HostProbe.h"

#include <QTest>

using namespace vivarium;

class TestHostProbe : public QObject
{
    Q_OBJECT
private slots:
    void everyFeatureAnswersWithAReason()
    {
        const QList<HostFeature> features = HostProbe::probe();
        QCOMPARE(features.size(), 5);
        for (const HostFeature& f : features)
            QVERIFY2(!f.detail.isEmpty(), qPrintable(f.name));
    }

    void bwrapWorksWhereCiRequiresIt()
    {
        const HostFeature bwrap = HostProbe::probeBwrap();
        if (qEnvironmentVariable("REQUIRE_SANDBOX") == QLatin1String("1"))
            QVERIFY2(bwrap.available, qPrintable(bwrap.detail));
        else if (!bwrap.available)
            QSKIP(qPrintable(bwrap.detail));
        QVERIFY(bwrap.detail.contains(QStringLiteral("bubblewrap")));
    }

    void classifiesBwrapFailures_data()
    {
        QTest::addColumn<QString>("stderrText");
        QTest::addColumn<QString>("expected");
        QTest::newRow("userns off")
            << "bwrap: No permissions to create new namespace, likely because the kernel does not "
               "allow non-privileged user namespaces."
            << "refuses new user namespaces";
        QTest::newRow("uid map") << "bwrap: setting up uid map: Permission denied"
                                 << "uid mapping";
        QTest::newRow("eperm") << "bwrap: Creating new namespace failed: Operation not permitted"
                               << "refuses new user namespaces";
        QTest::newRow("other") << "bwrap: something else"
                               << "something else";
    }
    void classifiesBwrapFailures()
    {
        QFETCH(QString, stderrText);
        QFETCH(QString, expected);
        QVERIFY2(HostProbe::explainBwrapFailure(stderrText).contains(expected),
                 qPrintable(HostProbe::explainBwrapFailure(stderrText)));
    }
};

QTEST_GUILESS_MAIN(TestHostProbe)
#include "tst_HostProbe.moc"
