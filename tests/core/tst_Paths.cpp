// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

class TestPaths : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { QCoreApplication::setApplicationName(QStringLiteral("vivarium")); }

    void precedence()
    {
        qputenv(Paths::DataDirEnv, "/tmp/from-env");
        QCOMPARE(Paths::resolveDataDir(QStringLiteral("/tmp/explicit")),
                 QStringLiteral("/tmp/explicit"));
        QCOMPARE(Paths::resolveDataDir(), QStringLiteral("/tmp/from-env"));
        qputenv(Paths::DataDirEnv, "");
        const QString platform = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
        QCOMPARE(Paths::resolveDataDir(), QDir::cleanPath(platform));
        QVERIFY(platform.endsWith(QStringLiteral("/vivarium")));
    }

    void relativeBecomesAbsolute()
    {
        const QString r = Paths::resolveDataDir(QStringLiteral("some/../rel"));
        QVERIFY(QFileInfo(r).isAbsolute());
        QVERIFY(r.endsWith(QStringLiteral("/rel")));
        QVERIFY(!r.contains(QStringLiteral("..")));
    }

    void privateDir()
    {
        QTemporaryDir tmp;
        const QString d = tmp.filePath(QStringLiteral("a/b/data"));
        QVERIFY(Paths::ensurePrivateDir(d).has_value());
        QVERIFY(QFileInfo(d).isDir());
        QCOMPARE(QFileInfo(d).permissions() & (QFile::ReadGroup | QFile::ReadOther),
                 QFile::Permissions());
        QVERIFY(Paths::ensurePrivateDir(d).has_value()); // idempotent

        const QString file = tmp.filePath(QStringLiteral("plain"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        auto r = Paths::ensurePrivateDir(file);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().code, Error::Code::Io);
        QVERIFY(r.error().message.contains(QStringLiteral("not a directory")));
    }
};

QTEST_GUILESS_MAIN(TestPaths)
#include "tst_Paths.moc"
