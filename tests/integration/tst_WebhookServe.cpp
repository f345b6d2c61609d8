// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Webhooks through the real `vivarium serve --listen 127.0.0.1:0` binary and its HTTP API, to
// a node receiver that verifies each delivery with the reference `standardwebhooks` library:
// the routes, a run's own webhook, rotation, scopes, and an engine killed with SIGKILL in the
// middle of a delivery's retries that delivers it after a restart with the same webhook-id.
#include "TestSupport.h"
#include "webhooks/WebhookReceiver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace testsupport;

namespace {

const char* kAgent = R"({"id": "hello", "name": "Hello", "prompt": "Say hello.",
 "model": {"endpoint": "nowhere", "name": "llama3.1"}, "sandbox": {"tier": "none", "min_tier": "none"}})";

QString str(const QJsonValue& v, const char* key)
{
    return v.toObject().value(QLatin1String(key)).toString();
}

} // namespace

class TestWebhookServe : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_data;
    QString m_key;      ///< webhooks:write + runs
    QString m_readOnly; ///< runs:read only
    QString m_admin;
    QProcess m_serve;
    QByteArray m_log;
    QString m_base;
    WebhookReceiver m_receiver;

    QString cli(const QStringList& args)
    {
        const ProcessResult r = runCli(m_data, args, {}, 30000);
        if (r.exitCode != 0)
            qWarning().noquote() << r.describe();
        return QString::fromUtf8(r.out).trimmed();
    }

    bool startServe()
    {
        m_serve.setProgram(bin(QStringLiteral("vivarium")));
        m_serve.setArguments({QStringLiteral("serve"), QStringLiteral("--data-dir"), m_data,
                              QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
        m_serve.start();
        if (!m_serve.waitForStarted(10000))
            return false;
        QElapsedTimer t;
        t.start();
        static const QRegularExpression url(
            QStringLiteral("HTTP API on (http://127\\.0\\.0\\.1:\\d+)"));
        while (t.elapsed() < 20000) {
            m_serve.waitForReadyRead(200);
            m_log += m_serve.readAllStandardError();
            const auto m = url.match(QString::fromUtf8(m_log));
            if (m.hasMatch()) {
                m_base = m.captured(1);
                return true;
            }
            if (m_serve.state() != QProcess::Running)
                return false;
        }
        return false;
    }

    void drainLog()
    {
        if (m_serve.state() == QProcess::Running)
            m_log += m_serve.readAllStandardError();
    }

    HttpResult api(const QByteArray& method, const QString& path, const QJsonObject& body = {},
                   const QString& key = {})
    {
        const QByteArray auth = "Bearer " + (key.isEmpty() ? m_key : key).toLatin1();
        const QByteArray payload = method == "GET" || method == "DELETE"
                                       ? QByteArray()
                                       : QJsonDocument(body).toJson(QJsonDocument::Compact);
        HttpResult r = httpRequest(method, m_base + path, payload,
                                   {{QByteArrayLiteral("Authorization"), auth}}, 15000);
        drainLog();
        return r;
    }

    /** Poll the API until the delivery has `status`. */
    QJsonObject waitDelivery(const QString& webhookId, const QString& deliveryId,
                             const QString& status, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        QJsonObject last;
        while (t.elapsed() < timeoutMs) {
            const HttpResult r = api(
                "GET", QStringLiteral("/v1/webhooks/%1/deliveries/%2").arg(webhookId, deliveryId));
            last = r.json();
            if (str(last, "status") == status)
                return last;
            QTest::qWait(100);
        }
        qWarning().noquote() << "delivery stuck:" << QJsonDocument(last).toJson();
        return {};
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_data = m_tmp.filePath(QStringLiteral("data"));
        QVERIFY(writeFile(m_tmp.filePath(QStringLiteral("agent/agent.json")), kAgent));
        QCOMPARE(runCli(m_data, {QStringLiteral("agent"), QStringLiteral("add"),
                                 m_tmp.filePath(QStringLiteral("agent"))})
                     .exitCode,
                 0);
        // The encrypted file vault (no desktop keychain in a test), quick retries.
        for (const auto& [key, value] :
             QList<QPair<QString, QString>>{{"secrets.backend", "vault"},
                                            {"webhooks.retry_base_ms", "200"},
                                            {"webhooks.max_attempts", "50"},
                                            {"webhooks.timeout_s", "30"}}) {
            const ProcessResult r =
                runCli(m_data, {QStringLiteral("settings"), QStringLiteral("set"), key, value});
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        }
        m_key = cli({QStringLiteral("api-key"), QStringLiteral("create"), QStringLiteral("hooks"),
                     QStringLiteral("--scope"), QStringLiteral("webhooks:write"),
                     QStringLiteral("--scope"), QStringLiteral("runs:write"),
                     QStringLiteral("--scope"), QStringLiteral("runs:read")});
        m_readOnly =
            cli({QStringLiteral("api-key"), QStringLiteral("create"), QStringLiteral("reader"),
                 QStringLiteral("--scope"), QStringLiteral("runs:read")});
        m_admin = cli({QStringLiteral("api-key"), QStringLiteral("create"), QStringLiteral("ops"),
                       QStringLiteral("--scope"), QStringLiteral("admin")});
        QVERIFY(m_key.startsWith(QStringLiteral("viv_")) &&
                m_readOnly.startsWith(QStringLiteral("viv_")));
        QVERIFY2(m_receiver.start(), qPrintable(m_receiver.errorText()));
        QVERIFY2(startServe(), m_log.constData());
    }

    void cleanupTestCase()
    {
        if (m_serve.state() == QProcess::Running) {
            m_serve.terminate();
            if (!m_serve.waitForFinished(15000))
                m_serve.kill();
        }
        m_serve.waitForFinished(5000);
    }

    void routesAndATestEvent()
    {
        HttpResult r = api("POST", QStringLiteral("/v1/webhooks"),
                           {{QStringLiteral("url"), m_receiver.url(QStringLiteral("/routes"))},
                            {QStringLiteral("description"), QStringLiteral("test")}});
        QCOMPARE(r.status, 201);
        const QJsonObject created = r.json();
        const QString id = str(created, "id");
        const QString secret = str(created, "secret");
        QVERIFY(secret.startsWith(QStringLiteral("whsec_")));
        QVERIFY(created.value(QStringLiteral("events")).isNull());
        QVERIFY(m_receiver.setSecrets(QStringLiteral("/routes"), {secret}));

        // The secret is shown once.
        r = api("GET", QStringLiteral("/v1/webhooks/") + id);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.json().contains(QStringLiteral("secret")));
        QVERIFY(!r.body.contains(secret.mid(6).toLatin1()));
        r = api("GET", QStringLiteral("/v1/webhooks"));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.body.contains(secret.mid(6).toLatin1()));
        bool listed = false;
        for (const QJsonValue& w : r.json().value(QStringLiteral("data")).toArray())
            listed = listed || str(w, "id") == id;
        QVERIFY(listed);

        r = api("POST", QStringLiteral("/v1/webhooks/%1/test").arg(id));
        QCOMPARE(r.status, 202);
        const QString deliveryId = str(r.json(), "id");
        QVERIFY(deliveryId.startsWith(QStringLiteral("msg_")));
        const QJsonObject done = waitDelivery(id, deliveryId, QStringLiteral("succeeded"), 15000);
        QCOMPARE(done.value(QStringLiteral("attempts")).toArray().size(), 1);
        const QJsonArray got = m_receiver.deliveriesTo(QStringLiteral("/routes"));
        QCOMPARE(got.size(), 1);
        QCOMPARE(str(got.at(0), "id"), deliveryId);
        QCOMPARE(got.at(0).toObject().value(QStringLiteral("verified")).toArray(),
                 QJsonArray{true});

        r = api("GET", QStringLiteral("/v1/webhooks/%1/deliveries?limit=5").arg(id));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("data")).toArray().size(), 1);
        QCOMPARE(str(r.json().value(QStringLiteral("data")).toArray().at(0), "status"),
                 QStringLiteral("succeeded"));

        // Validation: every problem at once, as problem+json.
        r = api("POST", QStringLiteral("/v1/webhooks"),
                {{QStringLiteral("url"), QStringLiteral("ftp://example.com/")},
                 {QStringLiteral("events"), QJsonArray{QStringLiteral("run.finishd")}},
                 {QStringLiteral("colour"), 1}});
        QCOMPARE(r.status, 422);
        const QJsonArray errors = r.json().value(QStringLiteral("errors")).toArray();
        QCOMPARE(errors.size(), 3);
        QVERIFY(r.body.contains("/url") && r.body.contains("run.finishd") &&
                r.body.contains("/colour"));
        // An array item's problem names its JSON pointer.
        QVERIFY2(r.body.contains("/events/0: unknown event type \\\"run.finishd\\\""),
                 r.body.constData());
        r = api("GET", QStringLiteral("/v1/webhooks/wh_nope"));
        QCOMPARE(r.status, 404);
        r = api("GET", QStringLiteral("/v1/webhooks/%1/deliveries?limit=0").arg(id));
        QCOMPARE(r.status, 400);

        // Scopes: reading webhooks needs webhooks:write too.
        r = api("GET", QStringLiteral("/v1/webhooks"), {}, m_readOnly);
        QCOMPARE(r.status, 403);

        // Rotation through the API: both secrets verify during the overlap.
        r = api("POST", QStringLiteral("/v1/webhooks/%1/rotate").arg(id), {});
        QCOMPARE(r.status, 200);
        const QString secret2 = str(r.json(), "secret");
        QVERIFY(secret2.startsWith(QStringLiteral("whsec_")) && secret2 != secret);
        QVERIFY(!r.json().value(QStringLiteral("previous_secret_expires_at")).isNull());
        r = api("POST", QStringLiteral("/v1/webhooks/%1/test").arg(id));
        QCOMPARE(r.status, 202);
        waitDelivery(id, str(r.json(), "id"), QStringLiteral("succeeded"), 15000);
        const QJsonArray v = m_receiver.verify({secret, secret2});
        QCOMPARE(v.last().toObject().value(QStringLiteral("verified")).toArray(),
                 (QJsonArray{true, true}));

        // Metrics (runs:read or admin).
        r = api("GET", QStringLiteral("/metrics"), {}, m_admin);
        QCOMPARE(r.status, 200);
        QVERIFY2(r.body.contains("vivarium_webhook_attempts_total{outcome=\"succeeded\"} 2"),
                 r.body.constData());

        // Delete: gone, with its deliveries.
        r = api("DELETE", QStringLiteral("/v1/webhooks/") + id);
        QCOMPARE(r.status, 204);
        QCOMPARE(api("GET", QStringLiteral("/v1/webhooks/") + id).status, 404);
        QCOMPARE(api("GET", QStringLiteral("/v1/webhooks/%1/deliveries").arg(id)).status, 404);
    }

    void runWebhookGetsRunFinished()
    {
        // A standing subscription to run.finished, and the run's own webhook with a secret the
        // caller already holds (what an n8n workflow sends).
        HttpResult r =
            api("POST", QStringLiteral("/v1/webhooks"),
                {{QStringLiteral("url"), m_receiver.url(QStringLiteral("/finished"))},
                 {QStringLiteral("events"), QJsonArray{QStringLiteral("run.finished")}}});
        QCOMPARE(r.status, 201);
        const QString standing = str(r.json(), "secret");
        const QString mine =
            QStringLiteral("whsec_") +
            QString::fromLatin1(QByteArray("0123456789abcdef0123456789abcdef").toBase64());
        QVERIFY(m_receiver.setSecrets(QStringLiteral("/finished"), {standing}));
        QVERIFY(m_receiver.setSecrets(QStringLiteral("/mine"), {mine}));

        r = api("POST", QStringLiteral("/v1/runs"),
                {{QStringLiteral("agent"), QStringLiteral("hello")},
                 {QStringLiteral("input"), QJsonObject{{QStringLiteral("n"), 1}}},
                 {QStringLiteral("webhook"),
                  QJsonObject{{QStringLiteral("url"), m_receiver.url(QStringLiteral("/mine"))},
                              {QStringLiteral("secret"), mine}}}});
        QVERIFY2(r.status == 202, r.body.constData());
        const QString runId = str(r.json(), "id");
        // A secret the caller gave is never echoed back.
        QVERIFY2(!r.body.contains(mine.toUtf8()), r.body.constData());
        QVERIFY(r.json().value(QStringLiteral("webhook")).toObject().contains(
            QStringLiteral("id")));
        QVERIFY(m_receiver.waitForCount(QStringLiteral("/mine"), 1, 30000));
        QVERIFY(m_receiver.waitForCount(QStringLiteral("/finished"), 1, 30000));
        for (const QString& p : {QStringLiteral("/mine"), QStringLiteral("/finished")}) {
            const QJsonArray got = m_receiver.deliveriesTo(p);
            QCOMPARE(got.size(), 1);
            QCOMPARE(got.at(0).toObject().value(QStringLiteral("verified")).toArray(),
                     QJsonArray{true});
            const QJsonObject payload =
                QJsonDocument::fromJson(str(got.at(0), "body").toUtf8()).object();
            QCOMPARE(str(payload, "type"), QStringLiteral("run.finished"));
            const QJsonObject data = payload.value(QStringLiteral("data")).toObject();
            QCOMPARE(str(data, "run_id"), runId);
            QCOMPARE(str(data, "agent_id"), QStringLiteral("hello"));
            QCOMPARE(str(data, "status"), QStringLiteral("failed")); // no model endpoint "nowhere"
            QCOMPARE(str(data.value(QStringLiteral("links")), "run"),
                     m_base + QStringLiteral("/v1/runs/") + runId);
        }
        // A bad webhook is refused before any run exists.
        r = api("POST", QStringLiteral("/v1/runs"),
                {{QStringLiteral("agent"), QStringLiteral("hello")},
                 {QStringLiteral("webhook"), QStringLiteral("file:///etc/passwd")}});
        QCOMPARE(r.status, 422);
        QVERIFY(r.body.contains("webhook"));
    }

    void killedMidRetryDeliversAfterRestartWithTheSameId()
    {
        HttpResult r =
            api("POST", QStringLiteral("/v1/webhooks"),
                {{QStringLiteral("url"), m_receiver.url(QStringLiteral("/crash"))},
                 {QStringLiteral("events"), QJsonArray{QStringLiteral("webhook.test")}}});
        QCOMPARE(r.status, 201);
        const QString id = str(r.json(), "id");
        const QString secret = str(r.json(), "secret");
        // Two failures, then an answer so slow that the engine dies while it waits.
        QVERIFY(m_receiver.script(
            QStringLiteral("/crash"),
            {QJsonObject{{QStringLiteral("status"), 500}},
             QJsonObject{{QStringLiteral("status"), 503}},
             QJsonObject{{QStringLiteral("status"), 200}, {QStringLiteral("delay_ms"), 20000}}},
            {secret}));
        r = api("POST", QStringLiteral("/v1/webhooks/%1/test").arg(id));
        QCOMPARE(r.status, 202);
        const QString deliveryId = str(r.json(), "id");
        QVERIFY(m_receiver.waitForCount(QStringLiteral("/crash"), 3, 20000));

        // kill -9 the engine in the middle of the third attempt.
        ::kill(pid_t(m_serve.processId()), SIGKILL);
        QVERIFY(m_serve.waitForFinished(10000));
        QCOMPARE(m_serve.exitStatus(), QProcess::CrashExit);
        QVERIFY(m_receiver.script(QStringLiteral("/crash"), {}, {secret})); // 200 from now on

        m_log.clear();
        QVERIFY2(startServe(), m_log.constData());
        const QJsonObject done = waitDelivery(id, deliveryId, QStringLiteral("succeeded"), 30000);
        QVERIFY(!done.isEmpty());
        const QJsonArray got = m_receiver.deliveriesTo(QStringLiteral("/crash"));
        QCOMPARE(got.size(), 4);
        for (const QJsonValue& d : got) {
            QCOMPARE(str(d, "id"), deliveryId); // the same webhook-id across the crash
            QCOMPARE(d.toObject().value(QStringLiteral("verified")).toArray(), QJsonArray{true});
        }
        // Every attempt is in the log, the interrupted one included.
        QStringList outcomes;
        for (const QJsonValue& a : done.value(QStringLiteral("attempts")).toArray())
            outcomes << str(a, "outcome");
        QCOMPARE(outcomes, (QStringList{"retry", "retry", "interrupted", "succeeded"}));
        const QJsonArray attempts = done.value(QStringLiteral("attempts")).toArray();
        QCOMPARE(attempts.at(0).toObject().value(QStringLiteral("status_code")).toInt(), 500);
        QCOMPARE(attempts.at(1).toObject().value(QStringLiteral("status_code")).toInt(), 503);
        QVERIFY(attempts.at(2).toObject().value(QStringLiteral("status_code")).isNull());
        QVERIFY(!str(attempts.at(2), "error").isEmpty());
        QVERIFY(attempts.at(3).toObject().value(QStringLiteral("duration_ms")).toDouble() >= 0);
    }

    void secretsNeverReachTheStoreOrTheLog()
    {
        // Whatever the tests minted: read the delivered signatures' secrets back from the
        // receiver's scripts is not possible, so mint one more and grep for it everywhere.
        HttpResult r = api("POST", QStringLiteral("/v1/webhooks"),
                           {{QStringLiteral("url"), m_receiver.url(QStringLiteral("/canary"))}});
        QCOMPARE(r.status, 201);
        const QByteArray canary = str(r.json(), "secret").mid(6).toLatin1();
        QVERIFY(canary.size() == 44);
        r = api("POST", QStringLiteral("/v1/webhooks/%1/test").arg(str(r.json(), "id")));
        QVERIFY(m_receiver.waitForCount(QStringLiteral("/canary"), 1, 15000));
        m_serve.terminate();
        QVERIFY(m_serve.waitForFinished(15000));
        m_log += m_serve.readAllStandardError();
        QVERIFY(!m_log.contains(canary));
        QDir dir(m_data);
        for (const QString& f : dir.entryList(QDir::Files)) {
            if (f.startsWith(QStringLiteral("vault")))
                continue; // encrypted: the one place secrets live
            QFile file(dir.filePath(f));
            QVERIFY(file.open(QIODevice::ReadOnly));
            QVERIFY2(!file.readAll().contains(canary), qPrintable(f));
        }
    }
};

QTEST_GUILESS_MAIN(TestWebhookServe)
#include "tst_WebhookServe.moc"
