// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Webhooks of migration 7: subscriptions, the delivery outbox and the attempt log (the service
// that drives them is server/src/webhooks/WebhookService.cpp). No secret value is stored here.
#include "StorePrivate.h"

namespace vivarium {

namespace {

constexpr auto WebhookColumns =
    "id, url, events, description, run_id, secret_ref, previous_secret_ref, "
    "previous_expires_at, enabled, disabled_reason, disabled_at, created_at, updated_at, "
    "rotated_at";
constexpr auto DeliveryColumns =
    "id, webhook_id, event_type, event_key, run_id, payload, status, attempts, next_attempt_at, "
    "last_status_code, last_error, created_at, updated_at, finished_at";
constexpr auto AttemptColumns = "delivery_id, attempt, started_at, duration_ms, status_code, "
                                "error, outcome, next_attempt_at";

QVariant eventsToDb(const std::optional<QStringList>& events)
{
    if (!events)
        return QVariant();
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(*events)).toJson(QJsonDocument::Compact));
}

std::optional<QStringList> eventsFromDb(const QVariant& v)
{
    if (v.isNull())
        return std::nullopt;
    QStringList out;
    for (const QJsonValue& e : QJsonDocument::fromJson(v.toString().toUtf8()).array())
        out << e.toString();
    return out;
}

Store::WebhookRecord webhookFromRow(const QSqlQuery& q)
{
    Store::WebhookRecord w;
    w.id = q.value(0).toString();
    w.url = q.value(1).toString();
    w.events = eventsFromDb(q.value(2));
    w.description = q.value(3).toString();
    w.runId = q.value(4).toString();
    w.secretRef = q.value(5).toString();
    w.previousSecretRef = q.value(6).toString();
    w.previousExpiresAt = timeFromDb(q.value(7));
    w.enabled = q.value(8).toInt() != 0;
    w.disabledReason = q.value(9).toString();
    w.disabledAt = timeFromDb(q.value(10));
    w.createdAt = timeFromDb(q.value(11));
    w.updatedAt = timeFromDb(q.value(12));
    w.rotatedAt = timeFromDb(q.value(13));
    return w;
}

Store::WebhookDeliveryRecord deliveryFromRow(const QSqlQuery& q)
{
    Store::WebhookDeliveryRecord r;
    r.id = q.value(0).toString();
    r.webhookId = q.value(1).toString();
    r.eventType = q.value(2).toString();
    r.eventKey = q.value(3).toString();
    r.runId = q.value(4).toString();
    r.payload = q.value(5).toString().toUtf8();
    r.status = q.value(6).toString();
    r.attempts = q.value(7).toInt();
    r.nextAttemptAt = timeFromDb(q.value(8));
    r.lastStatusCode = q.value(9).toInt();
    r.lastError = q.value(10).toString();
    r.createdAt = timeFromDb(q.value(11));
    r.updatedAt = timeFromDb(q.value(12));
    r.finishedAt = timeFromDb(q.value(13));
    return r;
}

Store::WebhookAttemptRecord attemptFromRow(const QSqlQuery& q)
{
    Store::WebhookAttemptRecord a;
    a.deliveryId = q.value(0).toString();
    a.attempt = q.value(1).toInt();
    a.startedAt = timeFromDb(q.value(2));
    a.durationMs = q.value(3).isNull() ? -1 : q.value(3).toLongLong();
    a.statusCode = q.value(4).toInt();
    a.error = q.value(5).toString();
    a.outcome = q.value(6).toString();
    a.nextAttemptAt = timeFromDb(q.value(7));
    return a;
}

// The ULID part of a fresh run id: time-sortable, so ids double as cursors.
QString newUlidId(const char* prefix)
{
    return QLatin1String(prefix) + newRunId().mid(4);
}

bool isFinalDeliveryStatus(const QString& s)
{
    return s == QLatin1String("succeeded") || s == QLatin1String("failed") ||
           s == QLatin1String("dead");
}

} // namespace

Status Store::insertWebhook(const WebhookRecord& webhook)
{
    const QString purpose = QStringLiteral("add webhook %1").arg(webhook.id);
    return d->inTransaction(purpose, [&]() -> Status {
        auto exists =
            d->exec(purpose, QStringLiteral("SELECT 1 FROM webhooks WHERE id = ?"), {webhook.id});
        if (!exists)
            return std::unexpected(exists.error());
        if (exists->next()) {
            return fail(Error::Code::Conflict,
                        QStringLiteral("webhook '%1' exists already").arg(webhook.id));
        }
        exists->finish();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QDateTime created = webhook.createdAt.isValid() ? webhook.createdAt : now;
        const QDateTime updated = webhook.updatedAt.isValid() ? webhook.updatedAt : created;
        return d->execOnly(
            purpose,
            QStringLiteral("INSERT INTO webhooks (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                           "?, ?)")
                .arg(QLatin1String(WebhookColumns)),
            {webhook.id, webhook.url, eventsToDb(webhook.events), textOrNull(webhook.description),
             textOrNull(webhook.runId), webhook.secretRef, textOrNull(webhook.previousSecretRef),
             timeToDb(webhook.previousExpiresAt), webhook.enabled ? 1 : 0,
             textOrNull(webhook.disabledReason), timeToDb(webhook.disabledAt), timeToDb(created),
             timeToDb(updated), timeToDb(webhook.rotatedAt)});
    });
}

Result<Store::WebhookRecord> Store::webhook(const QString& id) const
{
    auto q = d->exec(
        QStringLiteral("read webhook %1").arg(id),
        QStringLiteral("SELECT %1 FROM webhooks WHERE id = ?").arg(QLatin1String(WebhookColumns)),
        {id});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound, QStringLiteral("webhook '%1' not found").arg(id));
    return webhookFromRow(*q);
}

Result<QList<Store::WebhookRecord>> Store::webhooks() const
{
    auto q = d->exec(QStringLiteral("list webhooks"),
                     QStringLiteral("SELECT %1 FROM webhooks ORDER BY id DESC")
                         .arg(QLatin1String(WebhookColumns)));
    if (!q)
        return std::unexpected(q.error());
    QList<WebhookRecord> out;
    while (q->next())
        out.append(webhookFromRow(*q));
    return out;
}

Status Store::removeWebhook(const QString& id)
{
    const QString purpose = QStringLiteral("remove webhook %1").arg(id);
    return d->inTransaction(purpose, [&]() -> Status {
        // The foreign keys cascade to the deliveries and their attempts.
        auto q = d->exec(purpose, QStringLiteral("DELETE FROM webhooks WHERE id = ?"), {id});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, QStringLiteral("webhook '%1' not found").arg(id));
        return {};
    });
}

Status Store::setWebhookSecrets(const QString& id, const QString& secretRef,
                                const QString& previousSecretRef,
                                const QDateTime& previousExpiresAt)
{
    const QString purpose = QStringLiteral("rotate the secret of webhook %1").arg(id);
    return d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        auto q = d->exec(
            purpose,
            QStringLiteral("UPDATE webhooks SET secret_ref = ?, previous_secret_ref = "
                           "?, previous_expires_at = ?, rotated_at = ?, updated_at = "
                           "? WHERE id = ?"),
            {secretRef, textOrNull(previousSecretRef), timeToDb(previousExpiresAt), now, now, id});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, QStringLiteral("webhook '%1' not found").arg(id));
        return {};
    });
}

Result<bool> Store::disableWebhook(const QString& id, const QString& reason)
{
    const QString purpose = QStringLiteral("disable webhook %1").arg(id);
    bool changed = false;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        auto q = d->exec(purpose,
                         QStringLiteral("UPDATE webhooks SET enabled = 0, disabled_reason = ?, "
                                        "disabled_at = ?, updated_at = ? WHERE id = ? AND "
                                        "enabled = 1"),
                         {reason, now, now, id});
        if (!q)
            return std::unexpected(q.error());
        changed = q->numRowsAffected() == 1;
        if (!changed) {
            auto w = webhook(id);
            if (!w)
                return std::unexpected(w.error());
            return {};
        }
        // A delivery in flight is left to finish; only the waiting ones fail here.
        return d->execOnly(purpose,
                           QStringLiteral("UPDATE webhook_deliveries SET status = 'failed', "
                                          "last_error = ?, next_attempt_at = NULL, finished_at = "
                                          "?, updated_at = ? WHERE webhook_id = ? AND status = "
                                          "'pending'"),
                           {QStringLiteral("webhook disabled: %1").arg(reason), now, now, id});
    });
    if (!s)
        return std::unexpected(s.error());
    return changed;
}

Status Store::enqueueWebhookDeliveries(QList<WebhookDeliveryRecord>& deliveries)
{
    const QString purpose = QStringLiteral("queue %1 webhook deliveries").arg(deliveries.size());
    QList<WebhookDeliveryRecord> inserted;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        inserted.clear();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (WebhookDeliveryRecord r : deliveries) {
            if (r.id.isEmpty())
                r.id = newUlidId("msg_");
            r.status = QStringLiteral("pending");
            r.attempts = 0;
            if (!r.createdAt.isValid())
                r.createdAt = now;
            r.updatedAt = r.createdAt;
            if (!r.nextAttemptAt.isValid())
                r.nextAttemptAt = r.createdAt;
            if (r.eventKey.isEmpty())
                r.eventKey = r.id;
            auto q = d->exec(
                purpose,
                QStringLiteral("INSERT OR IGNORE INTO webhook_deliveries (%1) VALUES (?, ?, ?, ?, "
                               "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                    .arg(QLatin1String(DeliveryColumns)),
                {r.id, r.webhookId, r.eventType, r.eventKey, textOrNull(r.runId),
                 QString::fromUtf8(r.payload), r.status, 0, timeToDb(r.nextAttemptAt), QVariant(),
                 QVariant(), timeToDb(r.createdAt), timeToDb(r.updatedAt), QVariant()});
            if (!q)
                return std::unexpected(q.error());
            if (q->numRowsAffected() == 1)
                inserted.append(r);
        }
        return {};
    });
    if (!s)
        return s;
    deliveries = inserted;
    return {};
}

Result<QList<Store::WebhookDeliveryRecord>> Store::dueWebhookDeliveries(const QDateTime& now,
                                                                        int limit) const
{
    auto q = d->exec(QStringLiteral("read due webhook deliveries"),
                     QStringLiteral("SELECT d.%1 FROM webhook_deliveries d JOIN webhooks w ON "
                                    "w.id = d.webhook_id WHERE d.status = 'pending' AND "
                                    "d.next_attempt_at <= ? AND w.enabled = 1 ORDER BY "
                                    "d.next_attempt_at, d.id LIMIT ?")
                         .arg(QString::fromLatin1(DeliveryColumns)
                                  .replace(QLatin1String(", "), QLatin1String(", d."))),
                     {timeToDb(now), qMax(1, limit)});
    if (!q)
        return std::unexpected(q.error());
    QList<WebhookDeliveryRecord> out;
    while (q->next())
        out.append(deliveryFromRow(*q));
    return out;
}

Result<QDateTime> Store::nextWebhookDeliveryDue() const
{
    auto q = d->exec(QStringLiteral("read the next webhook delivery"),
                     QStringLiteral("SELECT min(d.next_attempt_at) FROM webhook_deliveries d JOIN "
                                    "webhooks w ON w.id = d.webhook_id WHERE d.status = "
                                    "'pending' AND w.enabled = 1"));
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return QDateTime();
    return timeFromDb(q->value(0));
}

Result<int> Store::pendingWebhookDeliveryCount() const
{
    auto q = d->exec(QStringLiteral("count pending webhook deliveries"),
                     QStringLiteral("SELECT count(*) FROM webhook_deliveries WHERE status IN "
                                    "('pending', 'delivering')"));
    if (!q)
        return std::unexpected(q.error());
    return q->next() ? q->value(0).toInt() : 0;
}

Result<Store::WebhookAttemptRecord> Store::beginWebhookAttempt(const QString& deliveryId,
                                                               const QDateTime& startedAt)
{
    const QString purpose =
        QStringLiteral("start an attempt of webhook delivery %1").arg(deliveryId);
    WebhookAttemptRecord a;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose,
                         QStringLiteral("UPDATE webhook_deliveries SET status = 'delivering', "
                                        "attempts = attempts + 1, next_attempt_at = NULL, "
                                        "updated_at = ? WHERE id = ? AND status = 'pending' "
                                        "RETURNING attempts"),
                         {timeToDb(startedAt), deliveryId});
        if (!q)
            return std::unexpected(q.error());
        if (!q->next()) {
            q->finish();
            auto existing = webhookDelivery(deliveryId);
            if (!existing)
                return std::unexpected(existing.error());
            return fail(Error::Code::Conflict,
                        QStringLiteral("webhook delivery %1 is %2, not pending")
                            .arg(deliveryId, existing->status));
        }
        a.deliveryId = deliveryId;
        a.attempt = q->value(0).toInt();
        a.startedAt = startedAt.toUTC();
        a.outcome = QStringLiteral("in_flight");
        q->finish();
        return d->execOnly(purpose,
                           QStringLiteral("INSERT INTO webhook_attempts (%1) VALUES (?, ?, ?, "
                                          "NULL, NULL, NULL, 'in_flight', NULL)")
                               .arg(QLatin1String(AttemptColumns)),
                           {a.deliveryId, a.attempt, timeToDb(a.startedAt)});
    });
    if (!s)
        return std::unexpected(s.error());
    return a;
}

Status Store::finishWebhookAttempt(const WebhookAttemptRecord& attempt)
{
    const QString purpose = QStringLiteral("record attempt %1 of webhook delivery %2")
                                .arg(attempt.attempt)
                                .arg(attempt.deliveryId);
    const bool retry = attempt.outcome == QLatin1String("retry");
    if (!retry && !isFinalDeliveryStatus(attempt.outcome)) {
        return fail(Error::Code::Internal,
                    QStringLiteral("%1: outcome '%2' does not end an attempt")
                        .arg(purpose, attempt.outcome));
    }
    return d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        auto a = d->exec(purpose,
                         QStringLiteral("UPDATE webhook_attempts SET duration_ms = ?, status_code "
                                        "= ?, error = ?, outcome = ?, next_attempt_at = ? WHERE "
                                        "delivery_id = ? AND attempt = ?"),
                         {attempt.durationMs < 0 ? QVariant() : QVariant(attempt.durationMs),
                          attempt.statusCode > 0 ? QVariant(attempt.statusCode) : QVariant(),
                          textOrNull(attempt.error), attempt.outcome,
                          retry ? timeToDb(attempt.nextAttemptAt) : QVariant(), attempt.deliveryId,
                          attempt.attempt});
        if (!a)
            return std::unexpected(a.error());
        if (a->numRowsAffected() != 1) {
            return fail(Error::Code::NotFound,
                        QStringLiteral("webhook delivery %1 has no attempt %2 (deleted?)")
                            .arg(attempt.deliveryId)
                            .arg(attempt.attempt));
        }
        const QString status = retry ? QStringLiteral("pending") : attempt.outcome;
        return d->execOnly(
            purpose,
            QStringLiteral("UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, "
                           "last_status_code = ?, last_error = ?, updated_at = ?, finished_at = ? "
                           "WHERE id = ?"),
            {status, retry ? timeToDb(attempt.nextAttemptAt) : QVariant(),
             attempt.statusCode > 0 ? QVariant(attempt.statusCode) : QVariant(),
             textOrNull(attempt.error), now, retry ? QVariant() : QVariant(now),
             attempt.deliveryId});
    });
}

Result<int> Store::recoverWebhookAttempts(const QString& reason)
{
    const QString purpose = QStringLiteral("recover webhook attempts left in flight");
    int count = 0;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        auto a = d->exec(purpose,
                         QStringLiteral("UPDATE webhook_attempts SET outcome = 'interrupted', "
                                        "error = ? WHERE outcome = 'in_flight'"),
                         {reason});
        if (!a)
            return std::unexpected(a.error());
        count = a->numRowsAffected();
        // The same row, so the same webhook-id, is sent again.
        return d->execOnly(purpose,
                           QStringLiteral("UPDATE webhook_deliveries SET status = 'pending', "
                                          "next_attempt_at = ?, last_error = ?, updated_at = ? "
                                          "WHERE status = 'delivering'"),
                           {now, reason, now});
    });
    if (!s)
        return std::unexpected(s.error());
    return count;
}

Result<Store::WebhookDeliveryRecord> Store::webhookDelivery(const QString& id) const
{
    auto q = d->exec(QStringLiteral("read webhook delivery %1").arg(id),
                     QStringLiteral("SELECT %1 FROM webhook_deliveries WHERE id = ?")
                         .arg(QLatin1String(DeliveryColumns)),
                     {id});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next()) {
        return fail(Error::Code::NotFound,
                    QStringLiteral("webhook delivery '%1' not found").arg(id));
    }
    return deliveryFromRow(*q);
}

Result<QList<Store::WebhookDeliveryRecord>>
Store::webhookDeliveries(const QString& webhookId, int limit, const QString& beforeId) const
{
    QString sql = QStringLiteral("SELECT %1 FROM webhook_deliveries WHERE webhook_id = ?")
                      .arg(QLatin1String(DeliveryColumns));
    QVariantList binds{webhookId};
    if (!beforeId.isEmpty()) {
        sql += QStringLiteral(" AND id < ?");
        binds << beforeId;
    }
    sql += QStringLiteral(" ORDER BY id DESC LIMIT ?");
    binds << qMax(1, limit);
    auto q = d->exec(QStringLiteral("list deliveries of webhook %1").arg(webhookId), sql, binds);
    if (!q)
        return std::unexpected(q.error());
    QList<WebhookDeliveryRecord> out;
    while (q->next())
        out.append(deliveryFromRow(*q));
    return out;
}

Result<QList<Store::WebhookAttemptRecord>> Store::webhookAttempts(const QString& deliveryId) const
{
    auto q = d->exec(QStringLiteral("list attempts of webhook delivery %1").arg(deliveryId),
                     QStringLiteral("SELECT %1 FROM webhook_attempts WHERE delivery_id = ? ORDER "
                                    "BY attempt")
                         .arg(QLatin1String(AttemptColumns)),
                     {deliveryId});
    if (!q)
        return std::unexpected(q.error());
    QList<WebhookAttemptRecord> out;
    while (q->next())
        out.append(attemptFromRow(*q));
    return out;
}

Result<QStringList> Store::runsMissingRunFinished(const QDateTime& since) const
{
    // Event types are validated names without quotes, so a quoted instr() on the JSON array
    // is an exact membership test.
    auto q = d->exec(
        QStringLiteral("find runs without their run.finished webhook"),
        QStringLiteral(
            "SELECT r.id FROM runs r WHERE r.finished_at >= ? AND r.status IN %1 "
            "AND r.status NOT IN ('skipped', 'missed') AND EXISTS (SELECT 1 FROM webhooks w "
            "WHERE w.enabled = 1 AND (w.run_id = r.id OR (w.run_id IS NULL AND w.created_at <= "
            "r.finished_at AND (w.events IS NULL OR instr(w.events, '\"run.finished\"') > 0))) "
            "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND "
            "d.event_key = 'run.finished:' || r.id)) ORDER BY r.finished_at, r.id")
            .arg(QLatin1String(TerminalStatuses)),
        {timeToDb(since)});
    if (!q)
        return std::unexpected(q.error());
    QStringList out;
    while (q->next())
        out << q->value(0).toString();
    return out;
}

} // namespace vivarium
