// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// WebhookService against a real receiver on 127.0.0.1 (tests/support/webhooks/receiver.mjs)
// that verifies every delivery with the reference `standardwebhooks` library: signing,
// filters, retries with backoff, Retry-After, 410, timeouts, redirects, rotation, bounded
// concurrency, the persistent outbox across service restarts, and secrets kept out of the
// store and the logs.
#include "TestSupport.h"
#include "webhooks/WebhookReceiver.h"

#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/server/WebhookService.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;
using namespace testsupport;

#define VERIFY_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& r_ = (expr);                                                                   \
        QVERIFY2(bool(r_), bool(r_) ? "" : qPrintable(r_.error().toString()));                     \
    } while (false)

namespace {

QMutex g_logMutex;
QStringList g_log;
QtMessageHandler g_previous = nullptr;

void collectLog(QtMsgType type, const QMessageLogContext& ctx, const QString& msg)
{
    {
        QMutexLocker lock(&g_logMutex);
        g_log << msg;
    }
    if (g_previous)
        g_previous(type, ctx, msg);
}

NewRun newRun(const QString& agent, const QString& trigger, const QJsonValue& input = {})
{
    NewRun n;
    n.agentId = agent;
    n.trigger = trigger;
    n.input = input;
    return n;
}

AgentDefinition makeAgent(const QString& id)
{
    AgentDefinition def;
    def.id = id;
    def.name = QStringLiteral("Agent ") + id;
    def.prompt = QStringLiteral("Say hi.");
    def.model.endpoint = QStringLiteral("local");
    def.model.name = QStringLiteral("llama3");
    return def;
}

WebhookServiceOptions fastOptions()
{
    WebhookServiceOptions o;
    o.readSettings = false;
    o.maxAttempts = 4;
    o.retryBaseMs = 50;
    o.retryCapMs = 400;
    o.connectTimeoutMs = 1000;
    o.requestTimeoutMs = 1000;
    return o;
}

QJsonObject reply(int status)
{
    return QJsonObject{{QStringLiteral("status"), status}};
}

QString str(const QJsonValue& v, const char* key)
{
    return v.toObject().value(QLatin1String(key)).toString();
}

} // namespace

class TestWebhookDelivery : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<MemorySecretStore> m_secrets;
    std::unique_ptr<WebhookService> m_service;
    WebhookReceiver m_receiver;
    int m_case = 0;

    QString dbPath() const { return m_tmp.filePath(QStringLiteral("vivarium.db")); }

    void startService(const WebhookServiceOptions& options = fastOptions())
    {
        m_service = std::make_unique<WebhookService>(m_store.get(), m_secrets.get(), options);
        const Status ok = m_service->start();
        QVERIFY2(bool(ok), ok ? "" : qPrintable(ok.error().toString()));
    }

    /** A fresh path on the receiver for each test, so scripts never leak between tests. */
    QString path(const char* name)
    {
        return QStringLiteral("/%1/%2").arg(m_case).arg(QLatin1String(name));
    }

    QString finishedRun(const QString& agent, RunStatus status, const QJsonValue& output)
    {
        auto run = m_store->createRun(
            newRun(agent, QStringLiteral("cli:test"), QJsonObject{{QStringLiteral("q"), 1}}));
        if (!run)
            return {};
        if (!m_store->setRunStatus(run->id, RunStatus::Running))
            return {};
        if (!m_store->setRunStatus(run->id, status, QStringLiteral("done"), output))
            return {};
        return run->id;
    }

    bool waitStatus(const QString& deliveryId, const QString& status, int timeoutMs = 10000)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            auto r = m_service->delivery(deliveryId);
            if (r && r->status == status)
                return true;
            QTest::qWait(20);
        }
        auto r = m_service->delivery(deliveryId);
        qWarning() << "delivery" << deliveryId << "is" << (r ? r->status : r.error().message)
                   << (r ? r->lastError : QString());
        return false;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        g_previous = qInstallMessageHandler(collectLog);
        auto store = Store::open(dbPath());
        QVERIFY2(bool(store), store ? "" : qPrintable(store.error().toString()));
        m_store = std::move(*store);
        VERIFY_OK(m_store->saveAgent(makeAgent(QStringLiteral("triage"))));
        m_secrets = std::make_unique<MemorySecretStore>();
        QVERIFY2(m_receiver.start(), qPrintable(m_receiver.errorText()));
    }

    void init()
    {
        ++m_case;
        startService();
    }

    void cleanup() { m_service.reset(); }

    void testEventIsSignedAndVerifies()
    {
        const QString p = path("ok");
        auto created = m_service->create(m_receiver.url(p));
        VERIFY_OK(created);
        QVERIFY(created->secret.startsWith(QStringLiteral("whsec_")));
        QVERIFY(created->webhook.id.startsWith(QStringLiteral("wh_")));
        QVERIFY(!created->webhook.events); // every type
        QVERIFY(m_receiver.script(p, {}, {created->secret}));

        QSignalSpy finished(m_service.get(), &WebhookService::deliveryFinished);
        auto queued = m_service->sendTest(created->webhook.id);
        VERIFY_OK(queued);
        QVERIFY(queued->id.startsWith(QStringLiteral("msg_")));
        QVERIFY(waitStatus(queued->id, QStringLiteral("succeeded")));
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("succeeded"));

        const QJsonArray got = m_receiver.deliveriesTo(p);
        QCOMPARE(got.size(), 1);
        const QJsonObject d = got.at(0).toObject();
        QCOMPARE(d.value(QStringLiteral("verified")).toArray(), QJsonArray{true});
        QCOMPARE(str(d, "id"), queued->id);
        QCOMPARE(str(d, "method"), QStringLiteral("POST"));
        QCOMPARE(str(d, "content_type"), QStringLiteral("application/json"));
        QVERIFY(str(d, "signature").startsWith(QStringLiteral("v1,")));
        QVERIFY(!str(d, "signature").contains(QLatin1Char(' ')));
        const qint64 ts = str(d, "timestamp").toLongLong();
        QVERIFY(qAbs(ts - QDateTime::currentSecsSinceEpoch()) < 60);
        // The body is exactly what the outbox holds.
        QCOMPARE(str(d, "body").toUtf8(), queued->payload);
        const QJsonObject payload = QJsonDocument::fromJson(str(d, "body").toUtf8()).object();
        QCOMPARE(payload.value(QStringLiteral("type")).toString(), QStringLiteral("webhook.test"));
        QVERIFY(QDateTime::fromString(payload.value(QStringLiteral("timestamp")).toString(),
                                      Qt::ISODateWithMs)
                    .isValid());
        QCOMPARE(
            payload.value(QStringLiteral("data")).toObject().value(QStringLiteral("webhook_id")),
            QJsonValue(created->webhook.id));

        // The attempt is logged.
        auto attempts = m_service->attempts(queued->id);
        VERIFY_OK(attempts);
        QCOMPARE(attempts->size(), 1);
        QCOMPARE(attempts->at(0).outcome, QStringLiteral("succeeded"));
        QCOMPARE(attempts->at(0).statusCode, 200);
        QVERIFY(attempts->at(0).durationMs >= 0);
        QCOMPARE(m_service->metrics().attemptsSucceeded, 1);
        QVERIFY(m_service->prometheusText().contains(
            QStringLiteral("vivarium_webhook_attempts_total{outcome=\"succeeded\"} 1")));
    }

    void runEventsFollowFilters()
    {
        const QString all = path("all"), started = path("started"), fin = path("finished"),
                      mine = path("mine"), other = path("other");
        auto wAll = m_service->create(m_receiver.url(all));
        auto wStarted = m_service->create(m_receiver.url(started), QStringList{"run.started"});
        auto wFinished =
            m_service->create(m_receiver.url(fin), QStringList{"run.finished", "run.finished"});
        VERIFY_OK(wAll);
        VERIFY_OK(wStarted);
        VERIFY_OK(wFinished);
        QCOMPARE(*wFinished->webhook.events, QStringList{"run.finished"}); // deduplicated

        // A live run gets run.started; its own one-off webhook only its run.finished.
        auto live = m_store->createRun(newRun(QStringLiteral("triage"), QStringLiteral("api:k")));
        VERIFY_OK(live);
        auto wMine = m_service->addRunWebhook(live->id, m_receiver.url(mine));
        VERIFY_OK(wMine);
        QCOMPARE(wMine->webhook.runId, live->id);
        const QString otherRun = finishedRun(QStringLiteral("triage"), RunStatus::Failed, {});
        QVERIFY(!otherRun.isEmpty());
        // The other run already ended: its own webhook gets its run.finished at once.
        auto wOther = m_service->addRunWebhook(otherRun, m_receiver.url(other));
        VERIFY_OK(wOther);

        VERIFY_OK(m_store->setRunStatus(live->id, RunStatus::Running));
        RunEvent ev;
        ev.seq = 2;
        ev.type = QStringLiteral("run.started");
        ev.ts = QDateTime::currentDateTimeUtc();
        m_service->onRunEvent(live->id, ev);
        m_service->onRunEvent(live->id, ev); // reported twice: delivered once
        RunEvent noise = ev;
        noise.type = QStringLiteral("llm.request");
        m_service->onRunEvent(live->id, noise);

        RunUsage usage;
        usage.steps = 3;
        usage.inputTokens = 120;
        usage.outputTokens = 30;
        usage.costUsd = 0.0012;
        VERIFY_OK(m_store->setRunUsage(live->id, usage));
        const QJsonObject output{{QStringLiteral("answer"), 42}};
        VERIFY_OK(m_store->setRunStatus(live->id, RunStatus::Succeeded, QString(), output));
        m_service->onRunFinished(live->id, RunStatus::Succeeded, QString());
        m_service->onRunFinished(live->id, RunStatus::Succeeded, QString());

        QVERIFY(m_receiver.waitFor(
            [&](const QJsonArray& a) {
                int n = 0;
                for (const QJsonValue& d : a)
                    n += str(d, "path").startsWith(QStringLiteral("/%1/").arg(m_case)) ? 1 : 0;
                return n >= 7;
            },
            10000));
        QTest::qWait(300); // nothing else may arrive
        auto types = [&](const QString& p) {
            QStringList out;
            for (const QJsonValue& d : m_receiver.deliveriesTo(p))
                out << QJsonDocument::fromJson(str(d, "body").toUtf8())
                           .object()
                           .value(QStringLiteral("type"))
                           .toString();
            out.sort();
            return out;
        };
        // Both runs' run.finished reach the subscriptions that take it (the ended one's when
        // its own webhook was attached: nothing had queued it before).
        QCOMPARE(types(all), (QStringList{"run.finished", "run.finished", "run.started"}));
        QCOMPARE(types(started), QStringList{"run.started"});
        QCOMPARE(types(fin), (QStringList{"run.finished", "run.finished"}));
        QCOMPARE(types(mine), QStringList{"run.finished"});
        QCOMPARE(types(other), QStringList{"run.finished"});

        for (const QJsonValue& d : m_receiver.deliveriesTo(fin)) {
            const QJsonObject data = QJsonDocument::fromJson(str(d, "body").toUtf8())
                                         .object()
                                         .value(QStringLiteral("data"))
                                         .toObject();
            if (data.value(QStringLiteral("run_id")).toString() != live->id) {
                QCOMPARE(data.value(QStringLiteral("run_id")).toString(), otherRun);
                QCOMPARE(data.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
                continue;
            }
            QCOMPARE(data.value(QStringLiteral("agent_id")).toString(), QStringLiteral("triage"));
            QCOMPARE(data.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
            QCOMPARE(data.value(QStringLiteral("output")).toObject(), output);
            const QJsonObject u = data.value(QStringLiteral("usage")).toObject();
            QCOMPARE(u.value(QStringLiteral("steps")).toInt(), 3);
            QCOMPARE(u.value(QStringLiteral("input_tokens")).toInt(), 120);
            QCOMPARE(data.value(QStringLiteral("links")).toObject().value(QStringLiteral("run")),
                     QJsonValue(QStringLiteral("/v1/runs/") + live->id));
        }
        // The one-off webhooks verify with their own secrets.
        const QJsonArray v = m_receiver.verify({wMine->secret});
        int verified = 0;
        for (const QJsonValue& r : v)
            verified +=
                r.toObject().value(QStringLiteral("verified")).toArray().at(0).toBool() ? 1 : 0;
        QCOMPARE(verified, 1);
    }

    void unknownEventTypeRefused()
    {
        auto bad = m_service->create(m_receiver.url(path("x")), QStringList{"run.finishd"});
        QVERIFY(!bad);
        QCOMPARE(bad.error().code, Error::Code::Validation);
        QVERIFY(bad.error().message.contains(QStringLiteral("run.finishd")));
        auto empty = m_service->create(m_receiver.url(path("x")), QStringList{});
        QVERIFY(!empty);
        auto badUrl = m_service->create(QStringLiteral("gopher://x/"));
        QVERIFY(!badUrl);
        QVERIFY(badUrl.error().message.startsWith(QStringLiteral("url:")));
        // Nothing half-created: no rows, no secrets.
        auto all = m_service->webhooks();
        VERIFY_OK(all);
        for (const WebhookRecord& w : *all)
            QVERIFY(!w.url.contains(QStringLiteral("/%1/x").arg(m_case)));
    }

    void retriesWithBackoffKeepTheId()
    {
        const QString p = path("flaky");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        QVERIFY(m_receiver.script(p, {reply(500), reply(503), reply(200)}, {w->secret}));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));

        const QJsonArray got = m_receiver.deliveriesTo(p);
        QCOMPARE(got.size(), 3);
        qint64 previous = 0;
        for (int i = 0; i < got.size(); ++i) {
            const QJsonObject d = got.at(i).toObject();
            QCOMPARE(str(d, "id"), q->id); // the same webhook-id on every attempt
            QCOMPARE(d.value(QStringLiteral("verified")).toArray(), QJsonArray{true});
            const qint64 at = qint64(d.value(QStringLiteral("received_at_ms")).toDouble());
            if (i > 0) {
                // Full jitter: at most base * 2^(n-1) (50, 100 ms) plus scheduling slack.
                const qint64 bound = 50LL << (i - 1);
                QVERIFY2(
                    at - previous <= bound + 400,
                    qPrintable(QStringLiteral("gap %1 ms > %2 ms").arg(at - previous).arg(bound)));
            }
            previous = at;
        }
        auto attempts = m_service->attempts(q->id);
        VERIFY_OK(attempts);
        QCOMPARE(attempts->size(), 3);
        QCOMPARE(attempts->at(0).outcome, QStringLiteral("retry"));
        QCOMPARE(attempts->at(0).statusCode, 500);
        QVERIFY(attempts->at(0).nextAttemptAt.isValid());
        QCOMPARE(attempts->at(1).statusCode, 503);
        QCOMPARE(attempts->at(2).outcome, QStringLiteral("succeeded"));
        auto d = m_service->delivery(q->id);
        QCOMPARE(d->attempts, 3);
        QCOMPARE(d->lastStatusCode, 200);
    }

    void retryAfterIsHonoured()
    {
        const QString p = path("limited");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        QVERIFY(m_receiver.script(
            p, {QJsonObject{{QStringLiteral("status"), 429}, {QStringLiteral("retry_after"), "1"}},
                reply(200)}));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));
        const QJsonArray got = m_receiver.deliveriesTo(p);
        QCOMPARE(got.size(), 2);
        const double gap = got.at(1).toObject().value(QStringLiteral("received_at_ms")).toDouble() -
                           got.at(0).toObject().value(QStringLiteral("received_at_ms")).toDouble();
        // The base backoff is 50 ms; Retry-After asked for a second.
        QVERIFY2(gap >= 950, qPrintable(QString::number(gap)));
        auto attempts = m_service->attempts(q->id);
        QCOMPARE(attempts->at(0).statusCode, 429);
        QCOMPARE(attempts->at(0).outcome, QStringLiteral("retry"));
    }

    void goneDisablesTheWebhook()
    {
        WebhookServiceOptions o = fastOptions();
        o.maxConcurrentDeliveries = 1; // deterministic order
        m_service.reset();
        startService(o);
        const QString p = path("gone");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        QVERIFY(m_receiver.script(p, {reply(410)}));
        auto first = m_service->sendTest(w->webhook.id);
        auto second = m_service->sendTest(w->webhook.id);
        VERIFY_OK(first);
        VERIFY_OK(second);
        QVERIFY(waitStatus(first->id, QStringLiteral("failed")));
        QVERIFY(waitStatus(second->id, QStringLiteral("failed")));
        QCOMPARE(m_receiver.deliveriesTo(p).size(), 1); // the second was never sent
        auto after = m_service->webhook(w->webhook.id);
        VERIFY_OK(after);
        QVERIFY(!after->enabled);
        QVERIFY2(after->disabledReason.contains(QStringLiteral("410")),
                 qPrintable(after->disabledReason));
        QVERIFY(m_service->delivery(second->id)->lastError.contains(QStringLiteral("disabled")));
        QCOMPARE(m_service->attempts(first->id)->size(), 1);
        auto refused = m_service->sendTest(w->webhook.id);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, Error::Code::Conflict);
        QCOMPARE(m_service->metrics().webhooksDisabled, 1);
    }

    void clientErrorFailsWithoutRetry()
    {
        const QString p = path("bad");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        QVERIFY(m_receiver.script(
            p, {QJsonObject{{QStringLiteral("status"), 400}, {QStringLiteral("body"), "nope"}}}));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("failed")));
        QTest::qWait(300);
        QCOMPARE(m_receiver.deliveriesTo(p).size(), 1);
        auto d = m_service->delivery(q->id);
        QCOMPARE(d->attempts, 1);
        QVERIFY2(d->lastError.contains(QStringLiteral("HTTP 400")) &&
                     d->lastError.contains(QStringLiteral("nope")),
                 qPrintable(d->lastError));
        QVERIFY(m_service->webhook(w->webhook.id)->enabled); // only 410 disables
    }

    void redirectsAreNotFollowed()
    {
        const QString p = path("moved"), target = path("target");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        QVERIFY(m_receiver.script(p, {QJsonObject{{QStringLiteral("status"), 302},
                                                  {QStringLiteral("location"), target}}}));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("failed")));
        QTest::qWait(300);
        QCOMPARE(m_receiver.deliveriesTo(target).size(), 0);
        QVERIFY(m_service->delivery(q->id)->lastError.contains(QStringLiteral("not followed")));
    }

    void timeoutAndResetAreRetried()
    {
        const QString p = path("slow");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        QVERIFY(m_receiver.script(
            p, {QJsonObject{{QStringLiteral("status"), 200}, {QStringLiteral("delay_ms"), 3000}},
                QJsonObject{{QStringLiteral("reset"), true}}, reply(204)}));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded"), 15000));
        auto attempts = m_service->attempts(q->id);
        VERIFY_OK(attempts);
        QCOMPARE(attempts->size(), 3);
        QVERIFY2(attempts->at(0).error.contains(QStringLiteral("timed out")),
                 qPrintable(attempts->at(0).error));
        QVERIFY2(attempts->at(0).durationMs >= 900 && attempts->at(0).durationMs < 2500,
                 qPrintable(QString::number(attempts->at(0).durationMs)));
        QCOMPARE(attempts->at(0).statusCode, 0);
        QCOMPARE(attempts->at(1).statusCode, 0);
        QVERIFY(!attempts->at(1).error.isEmpty());
        QCOMPARE(attempts->at(2).statusCode, 204);
    }

    void connectionRefusedEndsDead()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 closed = probe.serverPort();
        probe.close();
        auto w = m_service->create(QStringLiteral("http://127.0.0.1:%1/nobody").arg(closed));
        VERIFY_OK(w);
        QSignalSpy finished(m_service.get(), &WebhookService::deliveryFinished);
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("dead")));
        auto attempts = m_service->attempts(q->id);
        VERIFY_OK(attempts);
        QCOMPARE(attempts->size(), 4); // maxAttempts
        for (int i = 0; i < 3; ++i)
            QCOMPARE(attempts->at(i).outcome, QStringLiteral("retry"));
        QCOMPARE(attempts->at(3).outcome, QStringLiteral("dead"));
        QVERIFY2(attempts->at(0).error.contains(QStringLiteral("onnect")),
                 qPrintable(attempts->at(0).error));
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("dead"));
        const WebhookMetrics m = m_service->metrics();
        QCOMPARE(m.attemptsRetried, 3);
        QCOMPARE(m.attemptsDead, 1);
    }

    void rotationSignsWithBothSecretsDuringOverlap()
    {
        const QString p = path("rotate");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        const QString s1 = w->secret;
        auto r2 = m_service->rotate(w->webhook.id); // default overlap: 24 h
        VERIFY_OK(r2);
        const QString s2 = r2->secret;
        QVERIFY(s2 != s1);
        QVERIFY(r2->webhook.previousExpiresAt > QDateTime::currentDateTimeUtc().addSecs(23 * 3600));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));
        QJsonArray got = m_receiver.deliveriesTo(p);
        QCOMPARE(got.size(), 1);
        QCOMPARE(str(got.at(0), "signature").split(QLatin1Char(' ')).size(), 2);
        // Receivers that still hold the old secret, and those already on the new one, verify.
        QJsonArray v = m_receiver.verify({s1, s2});
        QJsonArray last = v.last().toObject().value(QStringLiteral("verified")).toArray();
        QCOMPARE(last, (QJsonArray{true, true}));

        // Rotating without overlap: only the newest secret signs.
        auto r3 = m_service->rotate(w->webhook.id, 0);
        VERIFY_OK(r3);
        QVERIFY(r3->webhook.previousSecretRef.isEmpty());
        q = m_service->sendTest(w->webhook.id);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));
        v = m_receiver.verify({s1, s2, r3->secret});
        last = v.last().toObject().value(QStringLiteral("verified")).toArray();
        QCOMPARE(last, (QJsonArray{false, false, true}));

        // An overlap that ends: the previous secret stops signing and leaves the vault.
        auto r4 = m_service->rotate(w->webhook.id, 1);
        VERIFY_OK(r4);
        QVERIFY(bool(m_secrets->read(r4->webhook.previousSecretRef)));
        QTest::qWait(1200);
        q = m_service->sendTest(w->webhook.id);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));
        got = m_receiver.deliveriesTo(p);
        QCOMPARE(str(got.last(), "signature").split(QLatin1Char(' ')).size(), 1);
        v = m_receiver.verify({r3->secret, r4->secret});
        last = v.last().toObject().value(QStringLiteral("verified")).toArray();
        QCOMPARE(last, (QJsonArray{false, true}));
        QVERIFY(!m_secrets->read(QStringLiteral("webhook/%1/previous").arg(w->webhook.id)));
        QVERIFY(m_service->webhook(w->webhook.id)->previousSecretRef.isEmpty());
    }

    void concurrencyIsBounded()
    {
        WebhookServiceOptions o = fastOptions();
        o.maxConcurrentDeliveries = 3;
        m_service.reset();
        startService(o);
        QVERIFY(m_receiver.clear());
        QStringList ids;
        for (int i = 0; i < 3; ++i) {
            const QString p = path("busy") + QString::number(i);
            auto w = m_service->create(m_receiver.url(p));
            VERIFY_OK(w);
            QJsonArray slow;
            for (int k = 0; k < 3; ++k)
                slow.append(QJsonObject{{QStringLiteral("status"), 200},
                                        {QStringLiteral("delay_ms"), 300}});
            QVERIFY(m_receiver.script(p, slow));
            for (int k = 0; k < 3; ++k) {
                auto q = m_service->sendTest(w->webhook.id);
                VERIFY_OK(q);
                ids << q->id;
            }
        }
        for (const QString& id : ids)
            QVERIFY(waitStatus(id, QStringLiteral("succeeded")));
        const int peak = m_receiver.stats().value(QStringLiteral("max_concurrent")).toInt();
        QVERIFY2(peak >= 2 && peak <= 3, qPrintable(QString::number(peak)));
    }

    void outboxSurvivesAServiceRestart()
    {
        const QString p = path("restart");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        // First a slow answer: the service stops while the attempt is in flight.
        QVERIFY(m_receiver.script(
            p, {QJsonObject{{QStringLiteral("status"), 200}, {QStringLiteral("delay_ms"), 5000}}},
            {w->secret}));
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(m_receiver.waitForCount(p, 1, 5000));
        QElapsedTimer t;
        t.start();
        m_service.reset(); // aborts the attempt in flight
        QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
        auto mid = m_store->webhookDelivery(q->id);
        VERIFY_OK(mid);
        QCOMPARE(mid->status, QStringLiteral("pending"));
        auto log = m_store->webhookAttempts(q->id);
        QCOMPARE(log->size(), 1);
        QCOMPARE(log->at(0).outcome, QStringLiteral("interrupted"));

        startService();
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));
        const QJsonArray got = m_receiver.deliveriesTo(p);
        QCOMPARE(got.size(), 2);
        QCOMPARE(str(got.at(0), "id"), q->id);
        QCOMPARE(str(got.at(1), "id"), q->id);
        QCOMPARE(got.at(1).toObject().value(QStringLiteral("verified")).toArray(),
                 QJsonArray{true});
        QCOMPARE(m_service->attempts(q->id)->size(), 2);
    }

    void catchUpAfterDowntime()
    {
        const QString p = path("catchup");
        auto w = m_service->create(m_receiver.url(p), QStringList{"run.finished"});
        VERIFY_OK(w);
        m_service.reset();
        // Runs that end while no service listens (an engine killed between a run's end and
        // the outbox write, or runs marked interrupted at the next start).
        const QString runA = finishedRun(QStringLiteral("triage"), RunStatus::Interrupted, {});
        const QString runB = finishedRun(QStringLiteral("triage"), RunStatus::Succeeded,
                                         QJsonValue(QStringLiteral("text answer")));
        QVERIFY(!runA.isEmpty() && !runB.isEmpty());
        startService();
        QVERIFY(m_receiver.waitForCount(p, 2, 10000));
        QStringList runs;
        for (const QJsonValue& d : m_receiver.deliveriesTo(p))
            runs << QJsonDocument::fromJson(str(d, "body").toUtf8())
                        .object()
                        .value(QStringLiteral("data"))
                        .toObject()
                        .value(QStringLiteral("run_id"))
                        .toString();
        runs.sort();
        QStringList expected{runA, runB};
        expected.sort();
        QCOMPARE(runs, expected);
        // A second start queues nothing new.
        m_service.reset();
        startService();
        QTest::qWait(500);
        QCOMPARE(m_receiver.deliveriesTo(p).size(), 2);
        // A subscription made after a run ended never gets that run.
        auto late = m_service->create(m_receiver.url(path("late")));
        VERIFY_OK(late);
        m_service.reset();
        startService();
        QTest::qWait(500);
        QCOMPARE(m_receiver.deliveriesTo(path("late")).size(), 0);
    }

    void n8nCodeNodeVerifiesARealDelivery()
    {
        // The Code node of examples/n8n, run as n8n runs it, on bytes Vivarium really sent.
        const QString p = path("n8n");
        auto w = m_service->create(m_receiver.url(p));
        VERIFY_OK(w);
        auto rotated = m_service->rotate(w->webhook.id); // two signatures: either must do
        VERIFY_OK(rotated);
        auto q = m_service->sendTest(w->webhook.id);
        VERIFY_OK(q);
        QVERIFY(waitStatus(q->id, QStringLiteral("succeeded")));
        const QJsonObject got = m_receiver.deliveriesTo(p).at(0).toObject();
        auto check = [&](const QString& secret, const QString& body) {
            const QString file = m_tmp.filePath(QStringLiteral("delivery.json"));
            writeFile(file, QJsonDocument(QJsonObject{{QStringLiteral("headers"),
                                                       got.value(QStringLiteral("headers"))},
                                                      {QStringLiteral("body"), body}})
                                .toJson());
            QProcessEnvironment env;
            env.insert(QStringLiteral("VIVARIUM_WEBHOOK_SECRET"), secret);
            return runProcess(
                QStringLiteral("node"),
                {QDir(sourceDir())
                     .filePath(QStringLiteral("tests/support/webhooks/n8n_code_check.mjs")),
                 QDir(sourceDir()).filePath(QStringLiteral("examples/n8n/vivarium-workflow.json")),
                 file},
                {}, 30000, env);
        };
        const QString body = str(got, "body");
        for (const QString& secret : {w->secret, rotated->secret}) {
            const ProcessResult ok = check(secret, body);
            QVERIFY2(ok.exitCode == 0, qPrintable(ok.describe()));
            const QJsonObject item = QJsonDocument::fromJson(ok.out)
                                         .array()
                                         .at(0)
                                         .toObject()
                                         .value(QStringLiteral("json"))
                                         .toObject();
            QCOMPARE(item.value(QStringLiteral("type")).toString(), QStringLiteral("webhook.test"));
            QCOMPARE(item.value(QStringLiteral("message_id")).toString(), q->id);
            QCOMPARE(item.value(QStringLiteral("webhook_id")).toString(), w->webhook.id);
        }
        const ProcessResult wrong = check(webhooksign::newSecret(), body);
        QCOMPARE(wrong.exitCode, 1);
        QVERIFY2(wrong.err.contains("does not verify"), qPrintable(wrong.describe()));
        QString tampered = body;
        tampered.replace(QStringLiteral("webhook.test"), QStringLiteral("webhook.tesT"));
        const ProcessResult modified = check(w->secret, tampered);
        QCOMPARE(modified.exitCode, 1);
        QVERIFY2(modified.err.contains("does not verify"), qPrintable(modified.describe()));
    }

    void secretsStayOutOfTheStoreAndLogs()
    {
        // Every secret this test run minted or rotated lives in the vault only.
        auto keys = m_secrets->keys();
        VERIFY_OK(keys);
        QStringList values;
        for (const QString& k : *keys) {
            QVERIFY2(k.startsWith(QStringLiteral("webhook/")), qPrintable(k));
            values << QString::fromLatin1(*m_secrets->read(k));
        }
        QVERIFY(values.size() >= 5);
        m_service.reset();
        m_store.reset(); // flush the WAL into the file
        QByteArray db;
        for (const QString& f : QDir(m_tmp.path()).entryList(QDir::Files)) {
            QFile file(m_tmp.filePath(f));
            QVERIFY(file.open(QIODevice::ReadOnly));
            db += file.readAll();
        }
        QVERIFY(db.contains("webhook_deliveries"));
        QStringList log;
        {
            QMutexLocker lock(&g_logMutex);
            log = g_log;
        }
        const QString allLog = log.join(QLatin1Char('\n'));
        for (const QString& v : values) {
            const QByteArray b64 = v.mid(6).toLatin1();
            QVERIFY2(!db.contains(b64), "a webhook secret reached the store");
            QVERIFY2(!allLog.contains(QString::fromLatin1(b64)), "a webhook secret reached a log");
        }
        auto store = Store::open(dbPath());
        QVERIFY(bool(store));
        m_store = std::move(*store);
    }
};

QTEST_GUILESS_MAIN(TestWebhookDelivery)
#include "tst_WebhookDelivery.moc"
