// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/WebhookService.h"

#include "WebhookHttp.h"
#include "WebhookLogging.h"
#include "vivarium/core/CurlEasy.h"
#include "vivarium/core/SecretStore.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QThreadPool>
#include <QTimer>
#include <QUrl>

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

namespace vivarium {

namespace {

constexpr auto RunFinished = "run.finished";
constexpr auto RunStarted = "run.started";
constexpr auto ApprovalRequested = "approval.requested";
constexpr auto WebhookTest = "webhook.test";

// Payloads stay small (the spec suggests < 20 kB): a larger run output is left out and the
// receiver follows the link instead.
constexpr qsizetype MaxInlineOutputBytes = 16 * 1024;
constexpr int MaxUrlLength = 2048;
// Even with nothing due, look at the outbox this often (clock jumps, rows other processes
// wrote).
constexpr int MaxIdleWaitMs = 60'000;

QString secretKeyName(const QString& webhookId)
{
    return QStringLiteral("webhook/%1/secret").arg(webhookId);
}

QString previousKeyName(const QString& webhookId)
{
    return QStringLiteral("webhook/%1/previous").arg(webhookId);
}

QString rfc3339(const QDateTime& t)
{
    return (t.isValid() ? t : QDateTime::currentDateTimeUtc()).toUTC().toString(Qt::ISODateWithMs);
}

QJsonValue timeOrNull(const QDateTime& t)
{
    return t.isValid() ? QJsonValue(rfc3339(t)) : QJsonValue();
}

QByteArray compact(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

void wipe(QByteArray& bytes)
{
    if (!bytes.isEmpty())
        sodium_memzero(bytes.data(), size_t(bytes.size()));
    bytes.clear();
}

/** Retry-After as delay-seconds (fractions tolerated) or an HTTP date; nullopt if neither. */
std::optional<qint64> retryAfterMs(const QByteArray& value, const QDateTime& now)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return std::nullopt;
    bool ok = false;
    const double seconds = v.toDouble(&ok);
    if (ok && std::isfinite(seconds))
        return seconds <= 0 ? 0 : qint64(seconds * 1000.0);
    const QDateTime at = QDateTime::fromString(QString::fromLatin1(v), Qt::RFC2822Date);
    if (!at.isValid())
        return std::nullopt;
    return qMax<qint64>(0, now.msecsTo(at));
}

QString printable(const QByteArray& bytes, int max)
{
    QString s = QString::fromUtf8(bytes.left(max)).simplified();
    for (QChar& c : s) {
        if (!c.isPrint())
            c = QLatin1Char('?');
    }
    return s;
}

} // namespace

// --- private state ---------------------------------------------------------------------------

struct WebhookService::Private
{
    WebhookService* q = nullptr;
    Store* store = nullptr;
    SecretStore* secrets = nullptr;
    WebhookServiceOptions options;
    bool running = false;
    /** Bumped by stop(): answers of attempts from before it are ignored. */
    quint64 generation = 0;
    QThreadPool pool;
    QTimer timer;
    /** Deliveries in flight: their cancel flag, and per webhook how many. */
    QHash<QString, std::shared_ptr<std::atomic<bool>>> inFlight;
    QHash<QString, QString> inFlightWebhook; ///< delivery -> webhook
    QHash<QString, int> perWebhook;
    WebhookMetrics metrics;
    bool pumping = false;

    int perWebhookLimit() const { return qMax(1, (options.maxConcurrentDeliveries + 1) / 2); }

    void readSettings();
    Status validateEvents(const std::optional<QStringList>& events,
                          std::optional<QStringList>& normalized) const;
    Result<WebhookWithSecret> createWebhook(const QString& url,
                                            const std::optional<QStringList>& events,
                                            const QString& description, const QString& runId,
                                            const QString& givenSecret = {});
    QJsonObject runLinks(const QString& runId) const;
    Result<QJsonObject> runFinishedData(const QString& runId) const;
    /** Queue `type` for every subscription that takes it (and a run's own one). */
    int fanOut(const QString& type, const QString& eventKey, const QString& runId,
               const QDateTime& occurredAt, const QJsonObject& data);
    int fanOutRunFinished(const QString& runId);
    void schedulePump(int delayMs);
    void pump();
    bool dispatch(const WebhookDeliveryRecord& delivery);
    /** The signature header value; empty with `error` set when no secret can be read. */
    QString signatures(const WebhookRecord& webhook, const QString& msgId, qint64 timestamp,
                       const QByteArray& body, QString& error, bool& permanent);
    void finished(const QString& deliveryId, const WebhookAttemptRecord& begun,
                  const webhookhttp::Response& response, quint64 gen);
    void record(WebhookAttemptRecord attempt, const QString& webhookId);
    qint64 backoffMs(int failedAttempt) const;
    void dropExpiredPreviousSecret(WebhookRecord& webhook);
};

void WebhookService::Private::readSettings()
{
    auto intSetting = [this](const char* key, int min, int max, int& target) {
        auto v = store->setting(QString::fromLatin1(key));
        if (!v)
            return; // unset (NotFound) or unreadable: keep the default
        bool ok = false;
        const int n = v->trimmed().toInt(&ok);
        if (!ok || n < min || n > max) {
            qCWarning(lcServerWebhooks).noquote()
                << QStringLiteral("setting %1: '%2' is not an integer from %3 to %4; using %5")
                       .arg(QLatin1String(key), *v)
                       .arg(min)
                       .arg(max)
                       .arg(target);
            return;
        }
        target = n;
    };
    intSetting("webhooks.max_attempts", 1, 100, options.maxAttempts);
    intSetting("webhooks.retry_base_ms", 10, 3'600'000, options.retryBaseMs);
    int timeoutS = options.requestTimeoutMs / 1000;
    intSetting("webhooks.timeout_s", 1, 300, timeoutS);
    options.requestTimeoutMs = timeoutS * 1000;
    intSetting("webhooks.max_concurrent", 1, 64, options.maxConcurrentDeliveries);
}

Status WebhookService::Private::validateEvents(const std::optional<QStringList>& events,
                                               std::optional<QStringList>& normalized) const
{
    normalized.reset();
    if (!events)
        return {};
    if (events->isEmpty()) {
        return fail(Error::Code::Validation,
                    QStringLiteral("events: give at least one event type, or leave it out for "
                                   "every type (%1)")
                        .arg(eventTypes().join(QStringLiteral(", "))));
    }
    QStringList out;
    QStringList problems;
    for (const QString& e : *events) {
        if (!eventTypes().contains(e)) {
            problems << QStringLiteral("events: unknown event type '%1' (known: %2)")
                            .arg(e, eventTypes().join(QStringLiteral(", ")));
        } else if (!out.contains(e)) {
            out << e;
        }
    }
    if (!problems.isEmpty())
        return fail(Error::Code::Validation, problems.first(), problems);
    normalized = out;
    return {};
}

Result<WebhookWithSecret>
WebhookService::Private::createWebhook(const QString& url, const std::optional<QStringList>& events,
                                       const QString& description, const QString& runId,
                                       const QString& givenSecret)
{
    if (auto ok = validateUrl(url); !ok)
        return std::unexpected(ok.error());
    std::optional<QStringList> normalized;
    if (auto ok = validateEvents(events, normalized); !ok)
        return std::unexpected(ok.error());
    if (description.size() > 500) {
        return fail(
            Error::Code::Validation,
            QStringLiteral("description: at most 500 characters, got %1").arg(description.size()));
    }
    WebhookRecord w;
    w.id = QStringLiteral("wh_") + newRunId().mid(4);
    w.url = url;
    w.events = normalized;
    w.description = description;
    w.runId = runId;
    w.secretRef = secretKeyName(w.id);
    const QString secret = givenSecret.isEmpty() ? webhooksign::newSecret() : givenSecret;
    // The vault first: a row must never name a secret that does not exist.
    if (auto ok = secrets->write(w.secretRef, secret.toLatin1()); !ok)
        return std::unexpected(ok.error());
    if (auto ok = store->insertWebhook(w); !ok) {
        (void)secrets->remove(w.secretRef);
        return std::unexpected(ok.error());
    }
    auto stored = store->webhook(w.id);
    if (!stored)
        return std::unexpected(stored.error());
    qCInfo(lcServerWebhooks).noquote()
        << "webhook" << w.id << "created for" << QUrl(url).host()
        << (runId.isEmpty() ? QString() : QStringLiteral("(run %1 only)").arg(runId));
    return WebhookWithSecret{*stored, secret};
}

QJsonObject WebhookService::Private::runLinks(const QString& runId) const
{
    const QString base = options.publicBaseUrl.endsWith(QLatin1Char('/'))
                             ? options.publicBaseUrl.chopped(1)
                             : options.publicBaseUrl;
    return QJsonObject{
        {QStringLiteral("run"), QString(base + QStringLiteral("/v1/runs/") + runId)},
        {QStringLiteral("events"), QString(base + QStringLiteral("/v1/runs/%1/events").arg(runId))},
    };
}

Result<QJsonObject> WebhookService::Private::runFinishedData(const QString& runId) const
{
    auto run = store->run(runId);
    if (!run)
        return std::unexpected(run.error());
    QJsonObject usage{
        {QStringLiteral("steps"), run->usage.steps},
        {QStringLiteral("input_tokens"), double(run->usage.inputTokens)},
        {QStringLiteral("output_tokens"), double(run->usage.outputTokens)},
        {QStringLiteral("cost_usd"),
         run->usage.costUsd ? QJsonValue(*run->usage.costUsd) : QJsonValue()},
        {QStringLiteral("unpriced"), run->usage.unpriced},
    };
    QJsonObject data{
        {QStringLiteral("run_id"), run->id},
        {QStringLiteral("agent_id"), run->agentId},
        {QStringLiteral("agent_version"), run->agentVersion},
        {QStringLiteral("status"), runStatusName(run->status)},
        {QStringLiteral("reason"), run->reason.isEmpty() ? QJsonValue() : QJsonValue(run->reason)},
        {QStringLiteral("trigger"), run->trigger},
        {QStringLiteral("usage"), usage},
        {QStringLiteral("created_at"), timeOrNull(run->createdAt)},
        {QStringLiteral("started_at"), timeOrNull(run->startedAt)},
        {QStringLiteral("finished_at"), timeOrNull(run->finishedAt)},
        {QStringLiteral("links"), runLinks(run->id)},
    };
    const QJsonValue output = run->output.isUndefined() ? QJsonValue() : run->output;
    const QByteArray outputText = QJsonDocument(QJsonArray{output}).toJson(QJsonDocument::Compact);
    if (outputText.size() > MaxInlineOutputBytes + 2) {
        data.insert(QStringLiteral("output"), QJsonValue());
        data.insert(QStringLiteral("output_truncated"), true);
    } else {
        data.insert(QStringLiteral("output"), output);
    }
    return data;
}

int WebhookService::Private::fanOut(const QString& type, const QString& eventKey,
                                    const QString& runId, const QDateTime& occurredAt,
                                    const QJsonObject& data)
{
    auto all = store->webhooks();
    if (!all) {
        qCWarning(lcServerWebhooks).noquote()
            << "cannot queue" << type << "for" << eventKey << ":" << all.error().message;
        return 0;
    }
    const QByteArray payload = compact(QJsonObject{
        {QStringLiteral("type"), type},
        {QStringLiteral("timestamp"), rfc3339(occurredAt)},
        {QStringLiteral("data"), data},
    });
    QList<WebhookDeliveryRecord> queue;
    for (const WebhookRecord& w : *all) {
        if (!w.enabled)
            continue;
        bool wants = false;
        if (!w.runId.isEmpty())
            wants = w.runId == runId && type == QLatin1String(RunFinished);
        else
            wants = !w.events || w.events->contains(type);
        if (!wants)
            continue;
        WebhookDeliveryRecord r;
        r.webhookId = w.id;
        r.eventType = type;
        r.eventKey = eventKey;
        r.runId = runId;
        r.payload = payload;
        queue.append(r);
    }
    if (queue.isEmpty())
        return 0;
    if (auto ok = store->enqueueWebhookDeliveries(queue); !ok) {
        qCWarning(lcServerWebhooks).noquote()
            << "cannot queue" << type << "for" << eventKey << ":" << ok.error().message;
        return 0;
    }
    metrics.deliveriesEnqueued += queue.size();
    if (!queue.isEmpty())
        schedulePump(0);
    return int(queue.size());
}

int WebhookService::Private::fanOutRunFinished(const QString& runId)
{
    auto data = runFinishedData(runId);
    if (!data) {
        qCWarning(lcServerWebhooks).noquote()
            << "cannot build run.finished for" << runId << ":" << data.error().message;
        return 0;
    }
    auto run = store->run(runId);
    const QDateTime at = run ? run->finishedAt : QDateTime::currentDateTimeUtc();
    return fanOut(QLatin1String(RunFinished), QLatin1String(RunFinished) + QLatin1Char(':') + runId,
                  runId, at, *data);
}

void WebhookService::Private::schedulePump(int delayMs)
{
    if (!running)
        return;
    const int ms = qBound(0, delayMs, MaxIdleWaitMs);
    if (timer.isActive() && timer.remainingTime() <= ms)
        return;
    timer.start(ms);
}

void WebhookService::Private::pump()
{
    if (!running || pumping)
        return;
    pumping = true;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    int free = options.maxConcurrentDeliveries - int(inFlight.size());
    if (free > 0) {
        auto due = store->dueWebhookDeliveries(now, free * 4);
        if (!due) {
            qCWarning(lcServerWebhooks).noquote() << "outbox:" << due.error().message;
        } else {
            for (const WebhookDeliveryRecord& r : *due) {
                if (free <= 0)
                    break;
                if (inFlight.contains(r.id) || perWebhook.value(r.webhookId) >= perWebhookLimit())
                    continue;
                if (dispatch(r))
                    --free;
            }
        }
    }
    pumping = false;
    if (free <= 0)
        return; // a finishing attempt pumps again
    auto next = store->nextWebhookDeliveryDue();
    if (next && next->isValid()) {
        const qint64 wait = QDateTime::currentDateTimeUtc().msecsTo(*next);
        // Due but held back by the per-webhook limit: a finishing attempt pumps again.
        schedulePump(int(std::clamp<qint64>(wait <= 0 ? 250 : wait, 0, MaxIdleWaitMs)));
    } else {
        schedulePump(MaxIdleWaitMs);
    }
}

void WebhookService::Private::dropExpiredPreviousSecret(WebhookRecord& webhook)
{
    if (webhook.previousSecretRef.isEmpty())
        return;
    if (webhook.previousExpiresAt.isValid() &&
        webhook.previousExpiresAt > QDateTime::currentDateTimeUtc())
        return;
    if (auto ok = store->setWebhookSecrets(webhook.id, webhook.secretRef, QString(), QDateTime());
        !ok) {
        qCWarning(lcServerWebhooks).noquote() << ok.error().message;
        return;
    }
    if (auto ok = secrets->remove(webhook.previousSecretRef);
        !ok && ok.error().code != Error::Code::NotFound) {
        qCWarning(lcServerWebhooks).noquote()
            << "webhook" << webhook.id
            << ": cannot remove the expired previous secret:" << ok.error().message;
    }
    webhook.previousSecretRef.clear();
    webhook.previousExpiresAt = QDateTime();
    qCInfo(lcServerWebhooks).noquote() << "webhook" << webhook.id << ": rotation overlap ended";
}

QString WebhookService::Private::signatures(const WebhookRecord& webhook, const QString& msgId,
                                            qint64 timestamp, const QByteArray& body,
                                            QString& error, bool& permanent)
{
    QStringList out;
    QStringList refs{webhook.secretRef};
    if (!webhook.previousSecretRef.isEmpty())
        refs << webhook.previousSecretRef;
    for (const QString& ref : refs) {
        auto secret = secrets->read(ref);
        if (!secret) {
            // The current secret must be there; a missing previous one only loses the overlap.
            if (ref != webhook.secretRef)
                continue;
            permanent = secret.error().code == Error::Code::NotFound;
            error = QStringLiteral("signing secret unavailable: %1").arg(secret.error().message);
            return {};
        }
        QByteArray key = webhooksign::secretKey(QString::fromLatin1(*secret));
        wipe(*secret);
        if (key.isEmpty()) {
            if (ref != webhook.secretRef)
                continue;
            permanent = true;
            error = QStringLiteral("signing secret in the vault is not a whsec_ secret");
            return {};
        }
        out << webhooksign::sign(key, msgId, timestamp, body);
        wipe(key);
    }
    return out.join(QLatin1Char(' '));
}

bool WebhookService::Private::dispatch(const WebhookDeliveryRecord& delivery)
{
    auto webhook = store->webhook(delivery.webhookId);
    if (!webhook)
        return false;
    dropExpiredPreviousSecret(*webhook);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    auto begun = store->beginWebhookAttempt(delivery.id, now);
    if (!begun) {
        qCWarning(lcServerWebhooks).noquote() << begun.error().message;
        return false;
    }
    const qint64 timestamp = now.toSecsSinceEpoch();
    QString error;
    bool permanent = false;
    const QString signature =
        signatures(*webhook, delivery.id, timestamp, delivery.payload, error, permanent);
    if (signature.isEmpty()) {
        // Nothing was sent, but the attempt counts: a vault that stays broken ends in `dead`.
        WebhookAttemptRecord a = *begun;
        a.durationMs = 0;
        a.error = error;
        if (permanent || a.attempt >= options.maxAttempts) {
            a.outcome = permanent ? QStringLiteral("failed") : QStringLiteral("dead");
        } else {
            a.outcome = QStringLiteral("retry");
            a.nextAttemptAt = now.addMSecs(backoffMs(a.attempt));
        }
        record(a, delivery.webhookId);
        return false;
    }

    webhookhttp::Request request;
    request.url = webhook->url;
    request.body = delivery.payload;
    request.connectTimeoutMs = options.connectTimeoutMs;
    request.totalTimeoutMs = options.requestTimeoutMs;
    request.headers = {
        QByteArrayLiteral("Content-Type: application/json"),
        QByteArrayLiteral("User-Agent: Vivarium-Webhooks/" VIVARIUM_VERSION),
        "webhook-id: " + delivery.id.toLatin1(),
        "webhook-timestamp: " + QByteArray::number(timestamp),
        "webhook-signature: " + signature.toLatin1(),
        // No 100-continue round trip: receivers answer the whole request at once.
        QByteArrayLiteral("Expect:"),
    };
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    inFlight.insert(delivery.id, cancel);
    inFlightWebhook.insert(delivery.id, delivery.webhookId);
    perWebhook[delivery.webhookId] += 1;
    const quint64 gen = generation;
    const WebhookAttemptRecord attempt = *begun;
    const QString deliveryId = delivery.id;
    WebhookService* service = q;
    pool.start([service, request, cancel, attempt, deliveryId, gen]() {
        const webhookhttp::Response response = webhookhttp::post(request, *cancel);
        // The service outlives its workers (stop() waits for them), so posting to it is safe.
        QMetaObject::invokeMethod(
            service,
            [service, deliveryId, attempt, response, gen]() {
                service->d->finished(deliveryId, attempt, response, gen);
            },
            Qt::QueuedConnection);
    });
    return true;
}

qint64 WebhookService::Private::backoffMs(int failedAttempt) const
{
    // Full jitter: uniform in [0, min(cap, base * 2^(n-1))].
    const double ceiling =
        qMin(double(options.retryCapMs),
             double(options.retryBaseMs) * std::pow(2.0, double(qMax(0, failedAttempt - 1))));
    return qint64(QRandomGenerator::global()->generateDouble() * ceiling);
}

void WebhookService::Private::finished(const QString& deliveryId, const WebhookAttemptRecord& begun,
                                       const webhookhttp::Response& response, quint64 gen)
{
    if (gen != generation)
        return; // from before stop(): recovered as interrupted
    const QString webhookId = inFlightWebhook.take(deliveryId);
    inFlight.remove(deliveryId);
    if (--perWebhook[webhookId] <= 0)
        perWebhook.remove(webhookId);

    WebhookAttemptRecord a = begun;
    a.durationMs = response.durationMs;
    a.statusCode = response.status;
    const int s = response.status;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    bool retryable = false;
    bool gone = false;
    if (s == 0) {
        a.error = response.error;
        retryable = true;
    } else if (s >= 200 && s < 300) {
        a.outcome = QStringLiteral("succeeded");
    } else if (s == 410) {
        a.error = QStringLiteral("HTTP 410 Gone: the receiver asked to stop; webhook disabled");
        gone = true;
    } else if (s >= 300 && s < 400) {
        a.error = QStringLiteral("HTTP %1: redirect to '%2' not followed; update the webhook URL")
                      .arg(s)
                      .arg(printable(response.location, 200));
    } else if (s == 408 || s == 429 || s >= 500 || s < 200) {
        retryable = true;
        a.error = QStringLiteral("HTTP %1").arg(s);
    } else {
        a.error = QStringLiteral("HTTP %1: not retried (client error)").arg(s);
    }
    if (!response.bodyExcerpt.isEmpty() && !(s >= 200 && s < 300) && s != 0)
        a.error += QStringLiteral(": ") + printable(response.bodyExcerpt, 200);

    if (a.outcome != QLatin1String("succeeded")) {
        if (gone || !retryable) {
            a.outcome = QStringLiteral("failed");
        } else if (a.attempt >= options.maxAttempts) {
            a.outcome = QStringLiteral("dead");
            a.error += QStringLiteral(" (attempt %1 of %1: giving up)").arg(options.maxAttempts);
        } else {
            a.outcome = QStringLiteral("retry");
            qint64 wait = backoffMs(a.attempt);
            if (auto server = retryAfterMs(response.retryAfter, now))
                wait = qMin<qint64>(*server, options.maxRetryAfterMs);
            a.nextAttemptAt = now.addMSecs(wait);
        }
    }
    record(a, webhookId);
    if (gone) {
        auto changed = store->disableWebhook(
            webhookId, QStringLiteral("the receiver answered 410 Gone at %1").arg(rfc3339(now)));
        if (changed && *changed) {
            ++metrics.webhooksDisabled;
            qCWarning(lcServerWebhooks).noquote() << "webhook" << webhookId << "disabled: 410 Gone";
        }
    }
    schedulePump(0);
}

void WebhookService::Private::record(WebhookAttemptRecord a, const QString& webhookId)
{
    if (a.outcome == QLatin1String("succeeded"))
        ++metrics.attemptsSucceeded;
    else if (a.outcome == QLatin1String("retry"))
        ++metrics.attemptsRetried;
    else if (a.outcome == QLatin1String("dead"))
        ++metrics.attemptsDead;
    else
        ++metrics.attemptsFailed;
    qCDebug(lcServerWebhooks).noquote()
        << "delivery" << a.deliveryId << "attempt" << a.attempt << a.outcome << a.statusCode
        << a.durationMs << "ms" << a.error;
    if (a.outcome != QLatin1String("succeeded") && a.outcome != QLatin1String("retry")) {
        qCWarning(lcServerWebhooks).noquote() << "delivery" << a.deliveryId << "of webhook"
                                              << webhookId << a.outcome << ":" << a.error;
    }
    if (auto ok = store->finishWebhookAttempt(a); !ok) {
        if (ok.error().code != Error::Code::NotFound)
            qCWarning(lcServerWebhooks).noquote() << ok.error().message;
        return;
    }
    if (a.outcome != QLatin1String("retry"))
        emit q->deliveryFinished(a.deliveryId, a.outcome);
}

// --- public ----------------------------------------------------------------------------------

WebhookService::WebhookService(Store* store, SecretStore* secrets, WebhookServiceOptions options,
                               QObject* parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    d->secrets = secrets;
    d->options = std::move(options);
    d->timer.setSingleShot(true);
    connect(&d->timer, &QTimer::timeout, this, [this] { d->pump(); });
    curl::globalInit();
}

WebhookService::~WebhookService()
{
    stop();
}

Status WebhookService::start()
{
    if (d->running)
        return {};
    if (d->options.readSettings)
        d->readSettings();
    d->options.maxConcurrentDeliveries = qMax(1, d->options.maxConcurrentDeliveries);
    d->options.maxAttempts = qMax(1, d->options.maxAttempts);
    d->pool.setMaxThreadCount(d->options.maxConcurrentDeliveries);
    auto recovered = d->store->recoverWebhookAttempts(
        QStringLiteral("the engine stopped during the attempt; sent again"));
    if (!recovered)
        return std::unexpected(recovered.error());
    d->metrics.attemptsInterrupted += *recovered;
    if (*recovered > 0) {
        qCWarning(lcServerWebhooks) << *recovered
                                    << "webhook attempt(s) were in flight when the engine "
                                       "stopped; they are sent again with the same webhook-id";
    }
    d->running = true;
    // What a crash between a run's end and the outbox write (or the interrupted runs the
    // engine just recorded) left out.
    auto missing = d->store->runsMissingRunFinished(
        QDateTime::currentDateTimeUtc().addSecs(-qint64(d->options.catchUpWindowS)));
    if (!missing) {
        qCWarning(lcServerWebhooks).noquote() << missing.error().message;
    } else {
        int queued = 0;
        for (const QString& runId : *missing)
            queued += d->fanOutRunFinished(runId);
        if (queued > 0)
            qCInfo(lcServerWebhooks)
                << "queued" << queued << "run.finished delivery(ies) that no engine had queued";
    }
    d->schedulePump(0);
    qCInfo(lcServerWebhooks) << "webhook delivery started:" << d->options.maxConcurrentDeliveries
                             << "at once, up to" << d->options.maxAttempts << "attempts";
    return {};
}

void WebhookService::stop()
{
    if (!d->running)
        return;
    d->running = false;
    d->timer.stop();
    ++d->generation;
    for (const auto& cancel : std::as_const(d->inFlight))
        cancel->store(true);
    d->pool.waitForDone();
    const int interrupted = int(d->inFlight.size());
    d->inFlight.clear();
    d->inFlightWebhook.clear();
    d->perWebhook.clear();
    if (interrupted > 0) {
        auto ok = d->store->recoverWebhookAttempts(
            QStringLiteral("the engine stopped during the attempt; sent again"));
        if (ok)
            d->metrics.attemptsInterrupted += *ok;
    }
}

QStringList WebhookService::eventTypes()
{
    return {QLatin1String(RunStarted), QLatin1String(RunFinished), QLatin1String(ApprovalRequested),
            QLatin1String(WebhookTest)};
}

Status WebhookService::validateUrl(const QString& text)
{
    auto bad = [&](const QString& why) {
        return fail(Error::Code::Validation, QStringLiteral("url: %1").arg(why));
    };
    if (text.isEmpty())
        return bad(QStringLiteral("required: an absolute http:// or https:// URL"));
    if (text.size() > MaxUrlLength)
        return bad(
            QStringLiteral("at most %1 characters, got %2").arg(MaxUrlLength).arg(text.size()));
    for (const QChar c : text) {
        if (c.unicode() < 0x21 || c.unicode() == 0x7f)
            return bad(QStringLiteral("contains a space or control character"));
    }
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid())
        return bad(QStringLiteral("'%1' is not a valid URL: %2").arg(text, url.errorString()));
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return bad(QStringLiteral("'%1': the scheme must be http or https").arg(text));
    if (url.host().isEmpty())
        return bad(QStringLiteral("'%1' has no host").arg(text));
    if (!url.userInfo().isEmpty())
        return bad(QStringLiteral("user info in the URL is not allowed (it would be logged and "
                                  "stored); authenticate with the signature instead"));
    if (url.hasFragment())
        return bad(QStringLiteral("'%1' has a fragment (#...), which is never sent").arg(text));
    return {};
}

Status WebhookService::validateSecret(const QString& secret)
{
    if (!secret.startsWith(QLatin1String("whsec_")))
        return fail(Error::Code::Validation, QStringLiteral("secret: must start with whsec_"));
    QByteArray key = webhooksign::secretKey(secret);
    const qsizetype n = key.size();
    wipe(key);
    if (n == 0) {
        return fail(Error::Code::Validation,
                    QStringLiteral("secret: the part after whsec_ must be standard base64"));
    }
    if (n < 24 || n > 64) {
        return fail(Error::Code::Validation,
                    QStringLiteral("secret: must encode 24 to 64 bytes, got %1").arg(n));
    }
    return {};
}

Result<WebhookWithSecret> WebhookService::create(const QString& url,
                                                 const std::optional<QStringList>& events,
                                                 const QString& description)
{
    return d->createWebhook(url, events, description, QString());
}

Result<WebhookWithSecret> WebhookService::addRunWebhook(const QString& runId, const QString& url,
                                                        const QString& secret)
{
    if (!secret.isEmpty()) {
        if (auto ok = validateSecret(secret); !ok)
            return std::unexpected(ok.error());
    }
    auto run = d->store->run(runId);
    if (!run)
        return std::unexpected(run.error());
    auto created = d->createWebhook(url, QStringList{QLatin1String(RunFinished)},
                                    QStringLiteral("run %1").arg(runId), runId, secret);
    if (!created)
        return created;
    // The run may have ended before the subscription existed (or between the two calls).
    auto now = d->store->run(runId);
    if (now && isTerminal(now->status) && d->running)
        d->fanOutRunFinished(runId);
    return created;
}

Result<WebhookRecord> WebhookService::webhook(const QString& id) const
{
    return d->store->webhook(id);
}

Result<QList<WebhookRecord>> WebhookService::webhooks() const
{
    return d->store->webhooks();
}

Status WebhookService::remove(const QString& id)
{
    auto w = d->store->webhook(id);
    if (!w)
        return std::unexpected(w.error());
    if (auto ok = d->store->removeWebhook(id); !ok)
        return ok;
    for (const QString& ref : {w->secretRef, w->previousSecretRef, previousKeyName(id)}) {
        if (ref.isEmpty())
            continue;
        if (auto ok = d->secrets->remove(ref); !ok && ok.error().code != Error::Code::NotFound)
            qCWarning(lcServerWebhooks).noquote() << "webhook" << id << ":" << ok.error().message;
    }
    qCInfo(lcServerWebhooks).noquote() << "webhook" << id << "deleted";
    return {};
}

Result<WebhookWithSecret> WebhookService::rotate(const QString& id, std::optional<int> overlapS)
{
    const int overlap = overlapS.value_or(d->options.rotationOverlapS);
    if (overlap < 0 || overlap > 30 * 24 * 3600) {
        return fail(
            Error::Code::Validation,
            QStringLiteral("overlap: seconds from 0 to 2592000 (30 days), got %1").arg(overlap));
    }
    auto w = d->store->webhook(id);
    if (!w)
        return std::unexpected(w.error());
    auto current = d->secrets->read(w->secretRef);
    if (!current) {
        return fail(current.error().code,
                    QStringLiteral("webhook %1: cannot read the current secret to keep it for the "
                                   "overlap: %2")
                        .arg(id, current.error().message));
    }
    const QString previousRef = previousKeyName(id);
    QString previousOut;
    QDateTime expires;
    if (overlap > 0) {
        if (auto ok = d->secrets->write(previousRef, *current); !ok) {
            wipe(*current);
            return std::unexpected(ok.error());
        }
        previousOut = previousRef;
        expires = QDateTime::currentDateTimeUtc().addSecs(overlap);
    } else {
        (void)d->secrets->remove(previousRef);
    }
    wipe(*current);
    const QString secret = webhooksign::newSecret();
    if (auto ok = d->secrets->write(w->secretRef, secret.toLatin1()); !ok)
        return std::unexpected(ok.error());
    if (auto ok = d->store->setWebhookSecrets(id, w->secretRef, previousOut, expires); !ok)
        return std::unexpected(ok.error());
    auto stored = d->store->webhook(id);
    if (!stored)
        return std::unexpected(stored.error());
    qCInfo(lcServerWebhooks).noquote()
        << "webhook" << id << "secret rotated; the previous one signs for" << overlap << "s more";
    return WebhookWithSecret{*stored, secret};
}

Result<WebhookDeliveryRecord> WebhookService::sendTest(const QString& id)
{
    auto w = d->store->webhook(id);
    if (!w)
        return std::unexpected(w.error());
    if (!w->enabled) {
        return fail(Error::Code::Conflict,
                    QStringLiteral("webhook %1 is disabled (%2); create a new one")
                        .arg(id, w->disabledReason));
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    WebhookDeliveryRecord r;
    r.id = QStringLiteral("msg_") + newRunId().mid(4);
    r.webhookId = id;
    r.eventType = QLatin1String(WebhookTest);
    r.eventKey = QLatin1String(WebhookTest) + QLatin1Char(':') + r.id;
    r.payload = compact(QJsonObject{
        {QStringLiteral("type"), QLatin1String(WebhookTest)},
        {QStringLiteral("timestamp"), rfc3339(now)},
        {QStringLiteral("data"),
         QJsonObject{{QStringLiteral("webhook_id"), id},
                     {QStringLiteral("message"),
                      QStringLiteral("A test event from Vivarium: the signature verifies with "
                                     "this webhook's secret.")}}},
    });
    QList<WebhookDeliveryRecord> queue{r};
    if (auto ok = d->store->enqueueWebhookDeliveries(queue); !ok)
        return std::unexpected(ok.error());
    ++d->metrics.deliveriesEnqueued;
    d->schedulePump(0);
    return d->store->webhookDelivery(r.id);
}

Result<QList<WebhookDeliveryRecord>> WebhookService::deliveries(const QString& webhookId, int limit,
                                                                const QString& beforeId) const
{
    if (limit < 1 || limit > 500) {
        return fail(Error::Code::Validation,
                    QStringLiteral("limit: an integer from 1 to 500, got %1").arg(limit));
    }
    if (auto w = d->store->webhook(webhookId); !w)
        return std::unexpected(w.error());
    return d->store->webhookDeliveries(webhookId, limit, beforeId);
}

Result<WebhookDeliveryRecord> WebhookService::delivery(const QString& deliveryId) const
{
    return d->store->webhookDelivery(deliveryId);
}

Result<QList<WebhookAttemptRecord>> WebhookService::attempts(const QString& deliveryId) const
{
    if (auto r = d->store->webhookDelivery(deliveryId); !r)
        return std::unexpected(r.error());
    return d->store->webhookAttempts(deliveryId);
}

WebhookMetrics WebhookService::metrics() const
{
    WebhookMetrics m = d->metrics;
    m.inFlight = int(d->inFlight.size());
    auto pending = d->store->pendingWebhookDeliveryCount();
    m.pending = pending ? *pending : 0;
    return m;
}

QString WebhookService::prometheusText() const
{
    const WebhookMetrics m = metrics();
    QString out;
    out += QStringLiteral("# HELP vivarium_webhook_attempts_total Webhook delivery attempts "
                          "since the engine started, by outcome.\n"
                          "# TYPE vivarium_webhook_attempts_total counter\n");
    const QList<std::pair<const char*, qint64>> outcomes{
        {"succeeded", m.attemptsSucceeded},     {"retry", m.attemptsRetried},
        {"failed", m.attemptsFailed},           {"dead", m.attemptsDead},
        {"interrupted", m.attemptsInterrupted},
    };
    for (const auto& [name, n] : outcomes) {
        out += QStringLiteral("vivarium_webhook_attempts_total{outcome=\"%1\"} %2\n")
                   .arg(QLatin1String(name))
                   .arg(n);
    }
    out += QStringLiteral("# HELP vivarium_webhook_deliveries_queued_total Webhook deliveries "
                          "queued since the engine started.\n"
                          "# TYPE vivarium_webhook_deliveries_queued_total counter\n"
                          "vivarium_webhook_deliveries_queued_total %1\n"
                          "# HELP vivarium_webhook_deliveries_pending Webhook deliveries waiting "
                          "for an attempt or in flight.\n"
                          "# TYPE vivarium_webhook_deliveries_pending gauge\n"
                          "vivarium_webhook_deliveries_pending %2\n"
                          "# HELP vivarium_webhook_attempts_in_flight Webhook attempts in "
                          "flight now.\n"
                          "# TYPE vivarium_webhook_attempts_in_flight gauge\n"
                          "vivarium_webhook_attempts_in_flight %3\n"
                          "# HELP vivarium_webhook_disabled_total Webhooks disabled by a 410 "
                          "Gone since the engine started.\n"
                          "# TYPE vivarium_webhook_disabled_total counter\n"
                          "vivarium_webhook_disabled_total %4\n")
               .arg(m.deliveriesEnqueued)
               .arg(m.pending)
               .arg(m.inFlight)
               .arg(m.webhooksDisabled);
    return out;
}

const WebhookServiceOptions& WebhookService::options() const
{
    return d->options;
}

void WebhookService::setPublicBaseUrl(const QString& baseUrl)
{
    d->options.publicBaseUrl = baseUrl;
}

void WebhookService::onRunEvent(const QString& runId, const RunEvent& event)
{
    if (!d->running)
        return;
    if (event.type == QLatin1String(RunStarted)) {
        auto run = d->store->run(runId);
        if (!run)
            return;
        d->fanOut(event.type, event.type + QLatin1Char(':') + runId, runId, event.ts,
                  QJsonObject{
                      {QStringLiteral("run_id"), runId},
                      {QStringLiteral("agent_id"), run->agentId},
                      {QStringLiteral("agent_version"), run->agentVersion},
                      {QStringLiteral("trigger"), run->trigger},
                      {QStringLiteral("started_at"), timeOrNull(run->startedAt)},
                      {QStringLiteral("links"), d->runLinks(runId)},
                  });
    } else if (event.type == QLatin1String(ApprovalRequested)) {
        auto run = d->store->run(runId);
        if (!run)
            return;
        d->fanOut(event.type, QStringLiteral("%1:%2:%3").arg(event.type, runId).arg(event.seq),
                  runId, event.ts,
                  QJsonObject{
                      {QStringLiteral("run_id"), runId},
                      {QStringLiteral("agent_id"), run->agentId},
                      {QStringLiteral("approval"), event.data},
                      {QStringLiteral("links"), d->runLinks(runId)},
                  });
    }
}

void WebhookService::onRunFinished(const QString& runId, RunStatus status, const QString& reason)
{
    Q_UNUSED(reason);
    if (!d->running || status == RunStatus::Skipped || status == RunStatus::Missed)
        return;
    d->fanOutRunFinished(runId);
}

} // namespace vivarium

// The header lives in include/, outside the sources AUTOMOC scans for this target.
#include "vivarium/server/moc_WebhookService.cpp"
