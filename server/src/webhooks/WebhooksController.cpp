// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "WebhooksController.h"

#include "WebhookLogging.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/server/JsonFields.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace vivarium::server {

namespace {

QJsonValue timeJson(const QDateTime& t)
{
    return t.isValid() ? QJsonValue(t.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue();
}

QJsonValue textJson(const QString& s)
{
    return s.isEmpty() ? QJsonValue() : QJsonValue(s);
}

QJsonObject webhookJson(const WebhookRecord& w)
{
    const bool overlap = !w.previousSecretRef.isEmpty() && w.previousExpiresAt.isValid() &&
                         w.previousExpiresAt > QDateTime::currentDateTimeUtc();
    return QJsonObject{
        {QStringLiteral("id"), w.id},
        {QStringLiteral("url"), w.url},
        {QStringLiteral("events"),
         w.events ? QJsonValue(QJsonArray::fromStringList(*w.events)) : QJsonValue()},
        {QStringLiteral("description"), textJson(w.description)},
        {QStringLiteral("run_id"), textJson(w.runId)},
        {QStringLiteral("enabled"), w.enabled},
        {QStringLiteral("disabled_reason"), textJson(w.disabledReason)},
        {QStringLiteral("disabled_at"), timeJson(w.disabledAt)},
        {QStringLiteral("created_at"), timeJson(w.createdAt)},
        {QStringLiteral("updated_at"), timeJson(w.updatedAt)},
        {QStringLiteral("rotated_at"), timeJson(w.rotatedAt)},
        // Whether two signatures go out, and until when: receivers plan their switch by it.
        {QStringLiteral("previous_secret_expires_at"),
         overlap ? timeJson(w.previousExpiresAt) : QJsonValue()},
    };
}

QJsonObject withSecret(const WebhookWithSecret& created)
{
    QJsonObject o = webhookJson(created.webhook);
    o.insert(QStringLiteral("secret"), created.secret);
    return o;
}

QJsonObject attemptJson(const WebhookAttemptRecord& a)
{
    return QJsonObject{
        {QStringLiteral("attempt"), a.attempt},
        {QStringLiteral("started_at"), timeJson(a.startedAt)},
        {QStringLiteral("duration_ms"),
         a.durationMs < 0 ? QJsonValue() : QJsonValue(double(a.durationMs))},
        {QStringLiteral("status_code"), a.statusCode > 0 ? QJsonValue(a.statusCode) : QJsonValue()},
        {QStringLiteral("outcome"), a.outcome},
        {QStringLiteral("error"), textJson(a.error)},
        {QStringLiteral("next_attempt_at"), timeJson(a.nextAttemptAt)},
    };
}

QJsonObject deliveryJson(const WebhookDeliveryRecord& r, const QList<WebhookAttemptRecord>& log)
{
    QJsonArray attempts;
    for (const WebhookAttemptRecord& a : log)
        attempts.append(attemptJson(a));
    return QJsonObject{
        {QStringLiteral("id"), r.id},
        {QStringLiteral("webhook_id"), r.webhookId},
        {QStringLiteral("event_type"), r.eventType},
        {QStringLiteral("run_id"), textJson(r.runId)},
        {QStringLiteral("status"), r.status},
        {QStringLiteral("attempt_count"), r.attempts},
        {QStringLiteral("next_attempt_at"), timeJson(r.nextAttemptAt)},
        {QStringLiteral("last_status_code"),
         r.lastStatusCode > 0 ? QJsonValue(r.lastStatusCode) : QJsonValue()},
        {QStringLiteral("last_error"), textJson(r.lastError)},
        {QStringLiteral("created_at"), timeJson(r.createdAt)},
        {QStringLiteral("updated_at"), timeJson(r.updatedAt)},
        {QStringLiteral("finished_at"), timeJson(r.finishedAt)},
        {QStringLiteral("payload"), QJsonDocument::fromJson(r.payload).object()},
        {QStringLiteral("attempts"), attempts},
    };
}

/** `events` of a request body: absent or null = every type; else an array of names. */
std::optional<QStringList> readEvents(JsonFields& fields, bool& present)
{
    present = false;
    auto v = fields.value(QStringLiteral("events"));
    if (!v || v->isNull())
        return std::nullopt;
    present = true;
    if (!v->isArray()) {
        fields.addError(QStringLiteral("events"),
                        QStringLiteral("expected an array of event types or null, got %1")
                            .arg(JsonFields::describe(*v)));
        return std::nullopt;
    }
    QStringList out;
    const QJsonArray arr = v->toArray();
    for (qsizetype i = 0; i < arr.size(); ++i) {
        if (!arr.at(i).isString()) {
            fields.addError(QStringLiteral("events"), i,
                            QStringLiteral("expected a string, got %1")
                                .arg(JsonFields::describe(arr.at(i))));
            continue;
        }
        const QString type = arr.at(i).toString();
        if (!WebhookService::eventTypes().contains(type)) {
            fields.addError(
                QStringLiteral("events"), i,
                QStringLiteral("unknown event type \"%1\"; known: %2")
                    .arg(type.left(60), WebhookService::eventTypes().join(QStringLiteral(", "))));
            continue;
        }
        out << type;
    }
    if (arr.isEmpty()) {
        fields.addError(QStringLiteral("events"),
                        QStringLiteral("give at least one event type, or null for every type"));
    }
    return out;
}

/** A core Validation error about one field, as the API's 422 with a JSON pointer. */
ApiProblem fieldProblem(const Error& e, const QString& pointerPrefix)
{
    if (e.code != Error::Code::Validation)
        return ApiProblem::fromError(e);
    QStringList lines = e.details.isEmpty() ? QStringList{e.message} : e.details;
    for (QString& l : lines)
        l = pointerPrefix + l;
    return ApiProblem(ApiProblem::Kind::ValidationFailed, e.message, lines);
}

} // namespace

WebhooksController::WebhooksController(ApiContext& context)
    : ApiController(context)
{
    m_service = context.webhooks;
    if (!m_service && context.store && context.secrets) {
        m_own = std::make_unique<WebhookService>(context.store, context.secrets);
        if (context.supervisor) {
            QObject::connect(context.supervisor, &RunSupervisor::eventAppended, m_own.get(),
                             &WebhookService::onRunEvent);
            QObject::connect(context.supervisor, &RunSupervisor::runFinished, m_own.get(),
                             &WebhookService::onRunFinished);
        }
        if (auto ok = m_own->start(); !ok)
            qCWarning(lcServerWebhooks).noquote() << "webhook delivery:" << ok.error().message;
        m_service = m_own.get();
    }
    if (m_service)
        context.runWebhooks = this;
}

WebhooksController::~WebhooksController()
{
    if (context().runWebhooks == this)
        context().runWebhooks = nullptr;
}

void WebhooksController::registerRoutes(Router& router)
{
    const QString scope = Scopes::WebhooksWrite;
    auto bind = [this](void (WebhooksController::*fn)(ApiRequest&, ApiReply&)) {
        return [this, fn](ApiRequest& request, ApiReply& reply) {
            if (!m_service) {
                reply.problem(ApiProblem(ApiProblem::Kind::Unavailable,
                                         QStringLiteral("webhook delivery is not running")));
                return;
            }
            (this->*fn)(request, reply);
        };
    };
    router.add({"POST", QStringLiteral("/v1/webhooks"), scope, false,
                QStringLiteral("subscribe a URL to events (the secret is shown once)"),
                bind(&WebhooksController::create)});
    router.add({"GET", QStringLiteral("/v1/webhooks"), scope, false,
                QStringLiteral("list webhook subscriptions"), bind(&WebhooksController::list)});
    router.add({"GET", QStringLiteral("/v1/webhooks/{id}"), scope, false,
                QStringLiteral("show a webhook subscription"), bind(&WebhooksController::show)});
    router.add({"DELETE", QStringLiteral("/v1/webhooks/{id}"), scope, false,
                QStringLiteral("delete a webhook, its deliveries and its secrets"),
                bind(&WebhooksController::remove)});
    router.add({"POST", QStringLiteral("/v1/webhooks/{id}/rotate"), scope, false,
                QStringLiteral("new signing secret; the old one signs too for an overlap"),
                bind(&WebhooksController::rotate)});
    router.add({"POST", QStringLiteral("/v1/webhooks/{id}/test"), scope, false,
                QStringLiteral("send a webhook.test event"), bind(&WebhooksController::test)});
    router.add({"GET", QStringLiteral("/v1/webhooks/{id}/deliveries"), scope, false,
                QStringLiteral("deliveries of a webhook with their attempts"),
                bind(&WebhooksController::deliveries)});
    router.add({"GET", QStringLiteral("/v1/webhooks/{id}/deliveries/{delivery}"), scope, false,
                QStringLiteral("one delivery with its attempts"),
                bind(&WebhooksController::delivery)});
}

void WebhooksController::appendMetrics(MetricsWriter& out)
{
    if (!m_service)
        return;
    const WebhookMetrics m = m_service->metrics();
    out.family(QStringLiteral("vivarium_webhook_attempts_total"), QStringLiteral("counter"),
               QStringLiteral("Webhook delivery attempts since the engine started, by outcome."));
    const QList<std::pair<QString, qint64>> outcomes{
        {QStringLiteral("succeeded"), m.attemptsSucceeded},
        {QStringLiteral("retry"), m.attemptsRetried},
        {QStringLiteral("failed"), m.attemptsFailed},
        {QStringLiteral("dead"), m.attemptsDead},
        {QStringLiteral("interrupted"), m.attemptsInterrupted},
    };
    for (const auto& [name, n] : outcomes) {
        out.sample(QStringLiteral("vivarium_webhook_attempts_total"),
                   {{QStringLiteral("outcome"), name}}, double(n));
    }
    out.family(QStringLiteral("vivarium_webhook_deliveries_queued_total"),
               QStringLiteral("counter"),
               QStringLiteral("Webhook deliveries queued since the engine started."));
    out.sample(QStringLiteral("vivarium_webhook_deliveries_queued_total"),
               double(m.deliveriesEnqueued));
    out.family(QStringLiteral("vivarium_webhook_deliveries_pending"), QStringLiteral("gauge"),
               QStringLiteral("Webhook deliveries waiting for an attempt or in flight."));
    out.sample(QStringLiteral("vivarium_webhook_deliveries_pending"), double(m.pending));
    out.family(QStringLiteral("vivarium_webhook_attempts_in_flight"), QStringLiteral("gauge"),
               QStringLiteral("Webhook attempts in flight now."));
    out.sample(QStringLiteral("vivarium_webhook_attempts_in_flight"), double(m.inFlight));
    out.family(QStringLiteral("vivarium_webhook_disabled_total"), QStringLiteral("counter"),
               QStringLiteral("Webhooks disabled by a 410 Gone since the engine started."));
    out.sample(QStringLiteral("vivarium_webhook_disabled_total"), double(m.webhooksDisabled));
}

// --- POST /v1/runs {"webhook": ...} ------------------------------------------------------------

Status WebhooksController::validate(const QJsonValue& webhook) const
{
    QStringList errors;
    auto add = [&](const QString& field, const QString& message) {
        errors << QStringLiteral("/webhook%1: %2").arg(field, message);
    };
    QString url;
    if (webhook.isString()) {
        url = webhook.toString();
    } else if (webhook.isObject()) {
        const QJsonObject o = webhook.toObject();
        for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
            if (it.key() != QLatin1String("url") && it.key() != QLatin1String("secret"))
                add(QLatin1Char('/') + it.key(),
                    QStringLiteral("unknown field; allowed: url, secret"));
        }
        if (!o.contains(QStringLiteral("url")))
            add(QStringLiteral("/url"), QStringLiteral("required field is missing"));
        else if (!o.value(QStringLiteral("url")).isString())
            add(QStringLiteral("/url"),
                QStringLiteral("expected a string, got %1")
                    .arg(JsonFields::describe(o.value(QStringLiteral("url")))));
        else
            url = o.value(QStringLiteral("url")).toString();
        if (o.contains(QStringLiteral("secret"))) {
            const QJsonValue s = o.value(QStringLiteral("secret"));
            if (!s.isString()) {
                add(QStringLiteral("/secret"),
                    QStringLiteral("expected a whsec_ string, got %1")
                        .arg(s.isNull() ? QStringLiteral("null") : QStringLiteral("another type")));
            } else if (auto ok = WebhookService::validateSecret(s.toString()); !ok) {
                add(QStringLiteral("/secret"), ok.error().message.section(QStringLiteral(": "), 1));
            }
        }
    } else {
        add(QString(), QStringLiteral("expected a URL string or an object {url, secret?}, got %1")
                           .arg(JsonFields::describe(webhook)));
    }
    if (!url.isEmpty() || webhook.isString()) {
        if (auto ok = WebhookService::validateUrl(url); !ok)
            add(QStringLiteral("/url"), ok.error().message.section(QStringLiteral(": "), 1));
    }
    if (errors.isEmpty())
        return {};
    return fail(Error::Code::Validation,
                QStringLiteral("%1 problem(s) in webhook").arg(errors.size()), errors);
}

Result<QJsonObject> WebhooksController::attach(const QString& runId, const QJsonValue& webhook,
                                               const QString& actor)
{
    if (auto ok = validate(webhook); !ok)
        return std::unexpected(ok.error());
    const QString url = webhook.isString()
                            ? webhook.toString()
                            : webhook.toObject().value(QStringLiteral("url")).toString();
    const QString secret = webhook.isObject()
                               ? webhook.toObject().value(QStringLiteral("secret")).toString()
                               : QString();
    auto created = m_service->addRunWebhook(runId, url, secret);
    if (!created)
        return std::unexpected(created.error());
    qCInfo(lcServerWebhooks).noquote()
        << "run" << runId << "webhook" << created->webhook.id << "attached by" << actor;
    QJsonObject shown{{QStringLiteral("id"), created->webhook.id}, {QStringLiteral("url"), url}};
    // Without the secret nobody could verify the deliveries: show a generated one this once.
    if (secret.isEmpty())
        shown.insert(QStringLiteral("secret"), created->secret);
    return shown;
}

// --- /v1/webhooks --------------------------------------------------------------------------

void WebhooksController::create(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({}); !q)
        return reply.problem(q.error());
    auto body = request.jsonObject();
    if (!body)
        return reply.problem(body.error());
    JsonFields fields(*body);
    const auto url = fields.string(QStringLiteral("url"), true, 2048);
    bool hasEvents = false;
    const auto events = readEvents(fields, hasEvents);
    const auto description = fields.string(QStringLiteral("description"), false, 500);
    if (url) {
        if (auto ok = WebhookService::validateUrl(*url); !ok)
            fields.addError(QStringLiteral("url"),
                            ok.error().message.section(QStringLiteral(": "), 1));
    }
    if (auto problem = fields.finish(QStringLiteral("webhook")))
        return reply.problem(*problem);
    auto created =
        m_service->create(*url, hasEvents ? events : std::nullopt, description.value_or(QString()));
    if (!created)
        return reply.problem(fieldProblem(created.error(), QStringLiteral("/")));
    qCInfo(lcServerWebhooks).noquote()
        << "webhook" << created->webhook.id << "created by" << request.principal().actor();
    reply.json(201, withSecret(*created),
               {{QByteArrayLiteral("Location"),
                 QByteArrayLiteral("/v1/webhooks/") + created->webhook.id.toLatin1()}});
}

void WebhooksController::list(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({QStringLiteral("run_id")}); !q)
        return reply.problem(q.error());
    auto all = m_service->webhooks();
    if (!all)
        return reply.error(all.error());
    const QString runId = request.query(QStringLiteral("run_id"));
    QJsonArray data;
    for (const WebhookRecord& w : *all) {
        if (!runId.isEmpty() && w.runId != runId)
            continue;
        data.append(webhookJson(w));
    }
    reply.json(200, QJsonObject{{QStringLiteral("data"), data}});
}

void WebhooksController::show(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({}); !q)
        return reply.problem(q.error());
    auto w = m_service->webhook(request.param(QStringLiteral("id")));
    if (!w)
        return reply.error(w.error());
    reply.json(200, webhookJson(*w));
}

void WebhooksController::remove(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({}); !q)
        return reply.problem(q.error());
    const QString id = request.param(QStringLiteral("id"));
    if (auto ok = m_service->remove(id); !ok)
        return reply.error(ok.error());
    qCInfo(lcServerWebhooks).noquote()
        << "webhook" << id << "deleted by" << request.principal().actor();
    HttpResponse response;
    response.status = 204;
    reply.send(response);
}

void WebhooksController::rotate(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({}); !q)
        return reply.problem(q.error());
    auto body = request.jsonObject(true);
    if (!body)
        return reply.problem(body.error());
    JsonFields fields(*body);
    const auto overlap = fields.integer(QStringLiteral("overlap_s"), 0, 30 * 24 * 3600, false);
    if (auto problem = fields.finish(QStringLiteral("rotation")))
        return reply.problem(*problem);
    auto rotated = m_service->rotate(request.param(QStringLiteral("id")),
                                     overlap ? std::optional<int>(int(*overlap)) : std::nullopt);
    if (!rotated)
        return reply.problem(fieldProblem(rotated.error(), QStringLiteral("/")));
    qCInfo(lcServerWebhooks).noquote()
        << "webhook" << rotated->webhook.id << "secret rotated by" << request.principal().actor();
    reply.json(200, withSecret(*rotated));
}

void WebhooksController::test(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({}); !q)
        return reply.problem(q.error());
    auto queued = m_service->sendTest(request.param(QStringLiteral("id")));
    if (!queued)
        return reply.error(queued.error());
    reply.json(202, deliveryJson(*queued, {}));
}

void WebhooksController::deliveries(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({QStringLiteral("limit"), QStringLiteral("before")}); !q)
        return reply.problem(q.error());
    int limit = 20;
    if (request.hasQuery(QStringLiteral("limit"))) {
        bool ok = false;
        limit = request.query(QStringLiteral("limit")).toInt(&ok);
        if (!ok || limit < 1 || limit > 100) {
            return reply.problem(
                ApiProblem(ApiProblem::Kind::InvalidRequest,
                           QStringLiteral("?limit: expected an integer from 1 to 100"),
                           {QStringLiteral("?limit: expected an integer from 1 to 100, got \"%1\"")
                                .arg(request.query(QStringLiteral("limit")).left(20))}));
        }
    }
    const QString before = request.query(QStringLiteral("before"));
    auto rows = m_service->deliveries(request.param(QStringLiteral("id")), limit + 1, before);
    if (!rows)
        return reply.error(rows.error());
    const bool more = rows->size() > limit;
    if (more)
        rows->removeLast();
    QJsonArray data;
    for (const WebhookDeliveryRecord& r : *rows) {
        auto log = m_service->attempts(r.id);
        data.append(deliveryJson(r, log ? *log : QList<WebhookAttemptRecord>{}));
    }
    reply.json(200, QJsonObject{
                        {QStringLiteral("data"), data},
                        {QStringLiteral("next_before"),
                         more && !rows->isEmpty() ? QJsonValue(rows->last().id) : QJsonValue()},
                    });
}

void WebhooksController::delivery(ApiRequest& request, ApiReply& reply)
{
    if (auto q = request.onlyQuery({}); !q)
        return reply.problem(q.error());
    const QString webhookId = request.param(QStringLiteral("id"));
    const QString deliveryId = request.param(QStringLiteral("delivery"));
    auto r = m_service->delivery(deliveryId);
    if (!r || r->webhookId != webhookId) {
        return reply.error(
            r ? Error::make(
                    Error::Code::NotFound,
                    QStringLiteral("webhook '%1' has no delivery '%2'").arg(webhookId, deliveryId))
              : r.error());
    }
    auto log = m_service->attempts(deliveryId);
    if (!log)
        return reply.error(log.error());
    reply.json(200, deliveryJson(*r, *log));
}

} // namespace vivarium::server
