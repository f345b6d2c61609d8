// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/EngineLock.h"

#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

class TestEngineLock : public QObject
{
    Q_OBJECT
private slots:
    void acquireAndRelease()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("engine.lock"));
        QVERIFY(!EngineLock::holder(path).has_value());
        {
            auto lock = EngineLock::acquire(path);
            QVERIFY2(lock.has_value(), qPrintable(lock ? QString() : lock.error().message));
            const auto holder = EngineLock::holder(path);
            QVERIFY(holder.has_value());
            QCOMPARE(*holder, QCoreApplication::applicationPid());
        }
        // Released: nobody holds it, and it can be taken again.
        QVERIFY(!EngineLock::holder(path).has_value());
        QVERIFY(EngineLock::acquire(path).has_value());
    }

    void secondAcquireNamesHolder()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("engine.lock"));
        auto first = EngineLock::acquire(path);
        QVERIFY(first.has_value());
        auto second = EngineLock::acquire(path);
        QVERIFY(!second.has_value());
        QCOMPARE(second.error().code, Error::Code::Locked);
        QVERIFY2(second.error().message.contains(
                     QStringLiteral("pid %1").arg(QCoreApplication::applicationPid())),
                 qPrintable(second.error().message));
    }

    void staleFileIsNotALock()
    {
        // A crashed engine leaves its pid in the file but the kernel dropped the lock.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("engine.lock"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("999999\n");
        f.close();
        QVERIFY(!EngineLock::holder(path).has_value());
        QVERIFY(EngineLock::acquire(path).has_value());
    }

    void unwritableLocationIsIoError()
    {
        auto lock = EngineLock::acquire(QStringLiteral("/nonexistent-dir-vivarium/engine.lock"));
        QVERIFY(!lock.has_value());
        QCOMPARE(lock.error().code, Error::Code::Io);
        QVERIFY(lock.error().message.contains(QStringLiteral("/nonexistent-dir-vivarium")));
    }
};

QTEST_GUILESS_MAIN(TestEngineLock)
#include "tst_EngineLock.moc"
