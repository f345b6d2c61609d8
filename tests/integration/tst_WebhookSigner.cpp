// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The Standard Webhooks signer against the specification's published test vector, secret
// format, and the checks on webhook URLs and caller-supplied secrets.
#include "vivarium/server/WebhookService.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace vivarium;

class TestWebhookSigner : public QObject
{
    Q_OBJECT
private slots:
    void specTestVector()
    {
        // standard-webhooks/libraries/javascript/src/webhook.test.ts "sign function works"
        // (the same vector is in every reference library).
        const QByteArray key =
            webhooksign::secretKey(QStringLiteral("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        QCOMPARE(key.size(), 24);
        const QString sig =
            webhooksign::sign(key, QStringLiteral("msg_p5jXN8AQM9LWM0D4loKWxJek"), 1614265330,
                              QByteArrayLiteral(R"({"test": 2432232314})"));
        QCOMPARE(sig, QStringLiteral("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    void signatureCoversIdTimestampAndBody()
    {
        const QByteArray key = webhooksign::secretKey(webhooksign::newSecret());
        const QString base = webhooksign::sign(key, QStringLiteral("msg_1"), 100, "{}");
        QVERIFY(base != webhooksign::sign(key, QStringLiteral("msg_2"), 100, "{}"));
        QVERIFY(base != webhooksign::sign(key, QStringLiteral("msg_1"), 101, "{}"));
        QVERIFY(base != webhooksign::sign(key, QStringLiteral("msg_1"), 100, "{ }"));
        QCOMPARE(base, webhooksign::sign(key, QStringLiteral("msg_1"), 100, "{}"));
    }

    void secretFormat()
    {
        static const QRegularExpression shape(QStringLiteral("^whsec_[A-Za-z0-9+/]{43}=$"));
        QSet<QString> seen;
        for (int i = 0; i < 50; ++i) {
            const QString s = webhooksign::newSecret();
            QVERIFY2(shape.match(s).hasMatch(), qPrintable(s));
            QCOMPARE(webhooksign::secretKey(s).size(), 32);
            seen.insert(s);
        }
        QCOMPARE(seen.size(), 50);
    }

    void secretKeyParsing()
    {
        const QString bare = QStringLiteral("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        QCOMPARE(webhooksign::secretKey(bare),
                 webhooksign::secretKey(QStringLiteral("whsec_") + bare));
        QVERIFY(webhooksign::secretKey(QStringLiteral("whsec_not base64!")).isEmpty());
        QVERIFY(webhooksign::secretKey(QString()).isEmpty());
    }

    void validateUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("https") << "https://hooks.example.com/in" << true << "";
        QTest::newRow("loopback n8n") << "http://127.0.0.1:5678/webhook/abc" << true << "";
        QTest::newRow("localhost") << "http://localhost:5678/webhook-test/x?y=1" << true << "";
        QTest::newRow("ipv6 loopback") << "http://[::1]:8080/h" << true << "";
        QTest::newRow("empty") << "" << false << "required";
        QTest::newRow("relative") << "/webhook" << false << "scheme";
        QTest::newRow("ftp") << "ftp://example.com/x" << false << "scheme";
        QTest::newRow("file") << "file:///etc/passwd" << false << "scheme";
        QTest::newRow("no host") << "http:///path" << false << "host";
        QTest::newRow("user info") << "https://user:pw@example.com/" << false << "user info";
        QTest::newRow("fragment") << "https://example.com/#x" << false << "fragment";
        QTest::newRow("space") << "https://example.com/a b" << false << "space";
        QTest::newRow("newline") << "https://example.com/a\r\nX: y" << false << "control";
        QTest::newRow("too long") << "https://example.com/" + QString(2100, QLatin1Char('a'))
                                  << false << "2048";
    }

    void validateUrl()
    {
        QFETCH(QString, url);
        QFETCH(bool, ok);
        QFETCH(QString, mentions);
        const Status s = WebhookService::validateUrl(url);
        QCOMPARE(bool(s), ok);
        if (!ok) {
            QCOMPARE(s.error().code, Error::Code::Validation);
            QVERIFY2(s.error().message.startsWith(QStringLiteral("url: ")),
                     qPrintable(s.error().message));
            QVERIFY2(s.error().message.contains(mentions), qPrintable(s.error().message));
            QVERIFY2(!s.error().message.contains(QStringLiteral("pw@")),
                     "a password in a URL must not be echoed");
        }
    }

    void validateSecret_data()
    {
        QTest::addColumn<QString>("secret");
        QTest::addColumn<bool>("ok");
        QTest::newRow("generated") << webhooksign::newSecret() << true;
        QTest::newRow("24 bytes (spec vector)") << "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" << true;
        QTest::newRow("no prefix") << "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" << false;
        QTest::newRow("too short")
            << "whsec_" + QString::fromLatin1(QByteArray(16, 'k').toBase64()) << false;
        QTest::newRow("too long") << "whsec_" + QString::fromLatin1(QByteArray(65, 'k').toBase64())
                                  << false;
        QTest::newRow("not base64") << "whsec_%%%%" << false;
    }

    void validateSecret()
    {
        QFETCH(QString, secret);
        QFETCH(bool, ok);
        const Status s = WebhookService::validateSecret(secret);
        QCOMPARE(bool(s), ok);
        if (!ok) {
            QVERIFY(s.error().message.startsWith(QStringLiteral("secret: ")));
            QVERIFY2(!s.error().message.contains(secret.mid(6)) || secret.size() <= 10,
                     "the secret must never be echoed");
        }
    }

    void eventTypes()
    {
        const QStringList types = WebhookService::eventTypes();
        for (const char* t : {"run.started", "run.finished", "approval.requested", "webhook.test"})
            QVERIFY2(types.contains(QLatin1String(t)), t);
        // Standard Webhooks: full-stop delimited identifiers of [a-zA-Z0-9_].
        static const QRegularExpression shape(QStringLiteral("^[a-z0-9_]+(\\.[a-z0-9_]+)+$"));
        for (const QString& t : types)
            QVERIFY2(shape.match(t).hasMatch(), qPrintable(t));
    }
};

QTEST_GUILESS_MAIN(TestWebhookSigner)
#include "tst_WebhookSigner.moc"
