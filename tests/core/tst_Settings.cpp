// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Typed settings over the store: defaults, validation with the key named, persistence.
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"

#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

class tst_Settings : public QObject
{
    Q_OBJECT
private slots:
    void defaultsWhenUnset();
    void setNormalizesAndPersists();
    void badValuesNameTheKey_data();
    void badValuesNameTheKey();
    void unknownKeyListsKnownOnes();
    void providerPatternKeys();
    void unsetReturnsToDefault();
};

namespace {
std::unique_ptr<Store> openStore(const QTemporaryDir& dir)
{
    auto s = Store::open(dir.filePath(QStringLiteral("vivarium.db")));
    if (!s)
        qFatal("store: %s", qPrintable(s.error().toString()));
    return std::move(*s);
}
} // namespace

void tst_Settings::defaultsWhenUnset()
{
    QTemporaryDir dir;
    auto store = openStore(dir);
    Settings s(*store);
    QCOMPARE(s.secretBackend(), QStringLiteral("auto"));
    QCOMPARE(s.maxConcurrentRuns(), 4);
    QCOMPARE(s.apiEnabled(), false);
    QCOMPARE(s.apiListen(), QStringLiteral("127.0.0.1:8765"));
    QVERIFY(!s.isSet(QStringLiteral("secrets.backend")));
}

void tst_Settings::setNormalizesAndPersists()
{
    QTemporaryDir dir;
    {
        auto store = openStore(dir);
        Settings s(*store);
        QVERIFY(s.set(QStringLiteral("api.enabled"), QStringLiteral(" Yes ")));
        QVERIFY(s.set(QStringLiteral("runs.max_concurrent"), QStringLiteral("08")));
        QVERIFY(s.set(QStringLiteral("api.listen"), QStringLiteral("[::1]:9000")));
        QVERIFY(s.set(QStringLiteral("secrets.backend"), QStringLiteral("vault")));
    }
    auto store = openStore(dir); // a new process would see the same
    Settings s(*store);
    QCOMPARE(s.value(QStringLiteral("api.enabled")).value(), QStringLiteral("true"));
    QVERIFY(s.apiEnabled());
    QCOMPARE(s.maxConcurrentRuns(), 8);
    QCOMPARE(s.apiListen(), QStringLiteral("[::1]:9000"));
    QCOMPARE(s.secretBackend(), QStringLiteral("vault"));
}

void tst_Settings::badValuesNameTheKey_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("enum") << "secrets.backend"
                          << "plaintext"
                          << "auto, keychain, vault";
    QTest::newRow("int range") << "runs.max_concurrent"
                               << "0"
                               << "from 1 to 64";
    QTest::newRow("int text") << "runs.max_concurrent"
                              << "many"
                              << "whole number";
    QTest::newRow("bool") << "api.enabled"
                          << "perhaps"
                          << "true or false";
    QTest::newRow("listen no port") << "api.listen"
                                    << "127.0.0.1"
                                    << "ADDRESS:PORT";
    QTest::newRow("listen remote") << "api.listen"
                                   << "0.0.0.0:8765"
                                   << "loopback";
    QTest::newRow("listen name") << "api.listen"
                                 << "example.com:80"
                                 << "ADDRESS:PORT";
    QTest::newRow("multi-line") << "oauth.gmail.client_id"
                                << "a\nb"
                                << "single line";
}

void tst_Settings::badValuesNameTheKey()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    auto store = openStore(dir);
    Settings s(*store);
    const auto before = s.value(key);
    auto r = s.set(key, value);
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::Validation);
    QVERIFY2(r.error().message.contains(key), qPrintable(r.error().message));
    QVERIFY2(r.error().message.contains(expected), qPrintable(r.error().message));
    QCOMPARE(s.value(key).value(), before.value()); // nothing was written
    QVERIFY(!s.isSet(key));
}

void tst_Settings::unknownKeyListsKnownOnes()
{
    QTemporaryDir dir;
    auto store = openStore(dir);
    auto r = Settings(*store).set(QStringLiteral("api.enable"), QStringLiteral("true"));
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::NotFound);
    QVERIFY(r.error().message.contains(QStringLiteral("api.enabled")));
}

void tst_Settings::providerPatternKeys()
{
    QTemporaryDir dir;
    auto store = openStore(dir);
    Settings s(*store);
    QVERIFY(s.set(QStringLiteral("oauth.gmail.client_id"), QStringLiteral("123.apps")));
    QCOMPARE(s.oauthClientId(QStringLiteral("gmail")), QStringLiteral("123.apps"));
    QCOMPARE(s.oauthClientId(QStringLiteral("slack")), QString());
    QVERIFY(!s.set(QStringLiteral("oauth..client_id"), QStringLiteral("x")));
    QVERIFY(!s.set(QStringLiteral("oauth.Gmail!.client_id"), QStringLiteral("x")));
}

void tst_Settings::unsetReturnsToDefault()
{
    QTemporaryDir dir;
    auto store = openStore(dir);
    Settings s(*store);
    QVERIFY(s.set(QStringLiteral("runs.max_concurrent"), QStringLiteral("2")));
    QVERIFY(s.unset(QStringLiteral("runs.max_concurrent")));
    QCOMPARE(s.maxConcurrentRuns(), 4);
    QVERIFY(s.unset(QStringLiteral("runs.max_concurrent"))); // already unset: fine
}

QTEST_GUILESS_MAIN(tst_Settings)
#include "tst_Settings.moc"
