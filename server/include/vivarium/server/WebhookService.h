// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Run.h"
#include "vivarium/core/Store.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace vivarium {

class SecretStore;

using WebhookRecord = Store::WebhookRecord;
using WebhookDeliveryRecord = Store::WebhookDeliveryRecord;
using WebhookAttemptRecord = Store::WebhookAttemptRecord;

/** Tunables of webhook delivery; the defaults follow the Standard Webhooks recommendations. */
struct WebhookServiceOptions
{
    /** Deliveries in flight at once (each on its own worker thread). */
    int maxConcurrentDeliveries = 4;
    /** Attempts per delivery, the first included; then the delivery is `dead`. */
    int maxAttempts = 15;
    /**
     * Backoff before attempt n+1: a uniform pick in [0, min(cap, base * 2^(n-1))] (full
     * jitter). With the defaults the 15 attempts span about half a day on average.
     */
    int retryBaseMs = 5000;
    int retryCapMs = 6 * 3600 * 1000;
    /** A receiver's Retry-After is honoured up to this (a hostile one cannot park the queue). */
    int maxRetryAfterMs = 6 * 3600 * 1000;
    int connectTimeoutMs = 5000;
    /** Whole attempt, connect to last byte of the answer (the spec suggests 15-30 s). */
    int requestTimeoutMs = 15'000;
    /** How long the previous secret keeps signing after a rotation (default 24 h). */
    int rotationOverlapS = 24 * 3600;
    /**
     * Prefix for the links in payloads ("http://127.0.0.1:8765"); empty: links are absolute
     * paths ("/v1/runs/<id>").
     */
    QString publicBaseUrl;
    /** On start, runs that ended up to this long ago without their run.finished get it. */
    int catchUpWindowS = 24 * 3600;
    /** Reads `webhooks.*` settings over these defaults (start() does it when true). */
    bool readSettings = true;
};

/** Counters for /metrics, since the service started (process lifetime). */
struct WebhookMetrics
{
    qint64 attemptsSucceeded = 0;   ///< 2xx
    qint64 attemptsRetried = 0;     ///< failed, another attempt is scheduled
    qint64 attemptsFailed = 0;      ///< failed for good: 4xx other than 408/429, or 410
    qint64 attemptsDead = 0;        ///< the last allowed attempt failed
    qint64 attemptsInterrupted = 0; ///< found in flight after an engine restart
    qint64 deliveriesEnqueued = 0;
    qint64 webhooksDisabled = 0; ///< by a 410 Gone
    int inFlight = 0;            ///< now
    int pending = 0;             ///< now: deliveries waiting for an attempt (store)
};

/** What creating or rotating a webhook hands back: the record and, exactly once, its secret. */
struct WebhookWithSecret
{
    WebhookRecord webhook;
    /** "whsec_" + base64 of 32 random bytes. Shown once; only the vault keeps it after. */
    QString secret;
};

/**
 * Webhooks per the Standard Webhooks specification (DESIGN section 7, docs/webhooks.md):
 * subscriptions (a URL, an optional event-type filter, a signing secret kept in the
 * SecretStore under `webhook/<id>/secret`), a persistent outbox in the store (one delivery per
 * event and subscription, its id is the `webhook-id` header and never changes across retries
 * or restarts), delivery by HTTP POST with `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` (two signatures while a
 * rotated secret is in its overlap), retries with exponential backoff and full jitter for
 * network errors, timeouts, 408, 429 (Retry-After honoured) and 5xx, `dead` after the last
 * attempt, a subscription disabled by 410 Gone, other answers failing at once. Every attempt
 * is recorded (status code, latency, error). Redirects are never followed.
 *
 * Event types: `run.started`, `run.finished`, `approval.requested` (from the run supervisor's
 * signals: connect them to onRunEvent / onRunFinished) and `webhook.test`.
 *
 * Threading: lives on the engine thread and uses the engine's Store and SecretStore from
 * there only; HTTP attempts run on the service's own worker threads (at most
 * maxConcurrentDeliveries). Secret values never reach a log, the store or an event.
 */
class WebhookService : public QObject
{
    Q_OBJECT
public:
    /** `store` and `secrets` must outlive the service. */
    WebhookService(Store* store, SecretStore* secrets, WebhookServiceOptions options = {},
                   QObject* parent = nullptr);
    ~WebhookService() override; ///< stop()

    /**
     * Resume the outbox: attempts left in flight by a dead engine are recorded as interrupted
     * and their deliveries retried with the same webhook-id; runs that ended without their
     * run.finished being queued (engine killed in between, runs marked interrupted at start)
     * get it now. Then deliveries are sent as they fall due.
     */
    Status start();
    /** Abort attempts in flight (they are retried on the next start) and stop. Idempotent. */
    void stop();

    /** Event types a subscription may name. */
    static QStringList eventTypes();

    /**
     * Check a webhook URL: absolute http or https, a host, no user info, no fragment, at most
     * 2048 characters. Loopback and private addresses are allowed: webhook targets are
     * configured by the operator through the authenticated API, never by a model (see the
     * SSRF stance in docs/webhooks.md). Validation error naming what is wrong.
     */
    static Status validateUrl(const QString& url);

    /**
     * Subscribe `url` to `events` (nullopt: every type; else a non-empty list of
     * eventTypes(), duplicates removed). Validation (URL, unknown type), Io/Database.
     */
    Result<WebhookWithSecret> create(const QString& url,
                                     const std::optional<QStringList>& events = {},
                                     const QString& description = {});
    /**
     * A one-off subscription for POST /v1/runs {"webhook": ...}: gets `run.finished` of that
     * run only, signed with `secret` when the caller gives one (a "whsec_" secret it already
     * holds, e.g. an n8n credential) or else with a fresh secret (returned here once). If the
     * run has already ended, its run.finished is queued at once. NotFound (run), Validation
     * (URL, secret).
     */
    Result<WebhookWithSecret> addRunWebhook(const QString& runId, const QString& url,
                                            const QString& secret = {});
    /**
     * A caller-supplied secret: "whsec_" + standard base64 of 24 to 64 bytes (the spec's
     * bounds). Validation naming what is wrong, never echoing the value.
     */
    static Status validateSecret(const QString& secret);
    /** NotFound names the id. */
    Result<WebhookRecord> webhook(const QString& id) const;
    /** Every subscription (per-run ones included: `runId` set), newest first. */
    Result<QList<WebhookRecord>> webhooks() const;
    /** Delete a subscription, its deliveries and its secrets. NotFound. */
    Status remove(const QString& id);
    /**
     * New secret (returned once). The previous one keeps signing too until now + overlap
     * (default options.rotationOverlapS), so receivers can switch without a gap. A rotation
     * during an overlap drops the oldest secret. NotFound; Validation for a negative overlap.
     */
    Result<WebhookWithSecret> rotate(const QString& id, std::optional<int> overlapS = {});
    /**
     * Queue a `webhook.test` event for this subscription only (whatever its filter) and send
     * it like any other. NotFound; Conflict when the subscription is disabled.
     */
    Result<WebhookDeliveryRecord> sendTest(const QString& id);
    /** Newest first; `beforeId` is a cursor (a delivery id); limit 1..500. NotFound (webhook). */
    Result<QList<WebhookDeliveryRecord>> deliveries(const QString& webhookId, int limit = 50,
                                                    const QString& beforeId = {}) const;
    /** One delivery; NotFound. */
    Result<WebhookDeliveryRecord> delivery(const QString& deliveryId) const;
    /** Every attempt of a delivery in order. NotFound (delivery). */
    Result<QList<WebhookAttemptRecord>> attempts(const QString& deliveryId) const;

    WebhookMetrics metrics() const;
    /** The counters as Prometheus text exposition lines (`vivarium_webhook_...`). */
    QString prometheusText() const;

    const WebhookServiceOptions& options() const;
    /** Where the API answers ("http://127.0.0.1:8765"): payload links become absolute. */
    void setPublicBaseUrl(const QString& baseUrl);

public slots:
    /** Connect to RunSupervisor::eventAppended: run.started and approval.requested. */
    void onRunEvent(const QString& runId, const vivarium::RunEvent& event);
    /** Connect to RunSupervisor::runFinished: run.finished. */
    void onRunFinished(const QString& runId, vivarium::RunStatus status, const QString& reason);

signals:
    /** A delivery reached a final state (succeeded, failed, dead); tests and benchmarks. */
    void deliveryFinished(const QString& deliveryId, const QString& status);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

/**
 * The Standard Webhooks signature scheme, on its own so it can be checked against the
 * specification's published test vector.
 */
namespace webhooksign {

/** "whsec_" + standard base64 of 32 bytes from libsodium's randombytes. */
QString newSecret();
/** The key bytes of a "whsec_..." secret (the prefix is optional); empty if not base64. */
QByteArray secretKey(const QString& secret);
/** "v1," + base64(HMAC-SHA256(key, msgId + "." + timestamp + "." + body)). */
QString sign(const QByteArray& key, const QString& msgId, qint64 timestamp, const QByteArray& body);

} // namespace webhooksign

} // namespace vivarium
