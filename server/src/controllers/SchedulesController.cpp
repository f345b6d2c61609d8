// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SchedulesController.h"

#include "Representations.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"
#include "vivarium/server/JsonFields.h"

#include <QJsonArray>
#include <QRegularExpression>

namespace vivarium::server {

namespace {

QJsonObject scheduleJson(const ScheduleRecord& s)
{
    const QTimeZone zone = ScheduleRules::zoneOf(s);
    QString state = s.paused ? QStringLiteral("paused") : QStringLiteral("active");
    QString problem;
    QString explain;
    QString next;
    auto cron = CronExpression::parse(s.cron);
    if (!cron) {
        state = QStringLiteral("invalid");
        problem = QStringLiteral("cron: ") + cron.error().message;
    } else if (!zone.isValid()) {
        state = QStringLiteral("invalid");
        problem = QStringLiteral("tz: unknown time zone \"%1\"").arg(s.tz);
    } else {
        explain = cron->explain();
        if (!s.paused && !cron->isReboot()) {
            QDateTime from = QDateTime::currentDateTimeUtc();
            for (const QDateTime& t : {s.lastFireAt, s.updatedAt})
                if (t.isValid() && t > from)
                    from = t;
            if (const auto n = cron->next(from, zone))
                next = ScheduleRules::formatInstant(*n, zone);
        }
    }
    return QJsonObject{
        {QStringLiteral("id"), s.id},
        {QStringLiteral("agent"), s.agentId},
        {QStringLiteral("source"), s.source},
        {QStringLiteral("cron"), s.cron},
        {QStringLiteral("tz"), s.tz.isEmpty() ? ScheduleRules::systemZoneId() : s.tz},
        {QStringLiteral("overlap"), s.overlap},
        {QStringLiteral("misfire"), s.misfire},
        {QStringLiteral("misfire_max_age_s"), s.misfireMaxAgeS},
        {QStringLiteral("jitter_s"), s.jitterS},
        {QStringLiteral("input"), s.input.isUndefined() ? QJsonValue::Null : s.input},
        {QStringLiteral("paused"), s.paused},
        {QStringLiteral("state"), state},
        {QStringLiteral("problem"), repr::textOrNull(problem)},
        {QStringLiteral("explain"), repr::textOrNull(explain)},
        {QStringLiteral("next_fire"), repr::textOrNull(next)},
        {QStringLiteral("last_fire"), repr::time(s.lastFireAt)},
        {QStringLiteral("created_at"), repr::time(s.createdAt)},
        {QStringLiteral("updated_at"), repr::time(s.updatedAt)},
    };
}

bool plausibleScheduleId(const QString& id)
{
    static const QRegularExpression rx(
        QStringLiteral("^(sch_[0-9a-z]{8}|[a-z0-9][a-z0-9_-]{0,63}#[0-9]{1,4})$"));
    return rx.match(id).hasMatch();
}

ApiProblem noSuchSchedule(const QString& id)
{
    return ApiProblem(ApiProblem::Kind::NotFound,
                      QStringLiteral("no schedule \"%1\"").arg(id.left(80)));
}

/** A duration field: seconds (integer) or text such as "15m", "1h30m". */
std::optional<int> duration(JsonFields& f, const QString& name)
{
    const auto v = f.value(name);
    if (!v)
        return std::nullopt;
    std::optional<qint64> seconds;
    if (v->isDouble() && v->toDouble() >= 0 && v->toDouble() == double(qint64(v->toDouble())))
        seconds = qint64(v->toDouble());
    else if (v->isString())
        seconds = ScheduleRules::parseDuration(v->toString());
    if (!seconds || *seconds > ScheduleRules::MaxDurationS) {
        f.addError(name, QStringLiteral("expected seconds or a duration such as 90s, 15m or "
                                        "1h30m (at most %1), got %2")
                             .arg(ScheduleRules::formatDuration(ScheduleRules::MaxDurationS),
                                  JsonFields::describe(*v)));
        return std::nullopt;
    }
    return int(*seconds);
}

} // namespace

void SchedulesController::registerRoutes(Router& router)
{
    router.add({"GET", QStringLiteral("/v1/schedules"), Scopes::AgentsRead, false,
                QStringLiteral("list schedules (?agent= for one agent's)"),
                [this](ApiRequest& rq, ApiReply& rp) {
                    if (auto ok = rq.onlyQuery({QStringLiteral("agent")}); !ok)
                        return rp.problem(ok.error());
                    auto list = context().store->schedules(rq.query(QStringLiteral("agent")));
                    if (!list)
                        return rp.error(list.error());
                    QJsonArray arr;
                    for (const ScheduleRecord& s : std::as_const(*list))
                        arr << scheduleJson(s);
                    rp.json(200, QJsonObject{{QStringLiteral("schedules"), arr}});
                }});
    router.add({"POST", QStringLiteral("/v1/schedules"), Scopes::AgentsWrite, false,
                QStringLiteral("add a schedule"),
                [this](ApiRequest& rq, ApiReply& rp) { create(rq, rp); }});
    router.add({"GET", QStringLiteral("/v1/schedules/{id}"), Scopes::AgentsRead, false,
                QStringLiteral("one schedule with its next fire time"),
                [this](ApiRequest& rq, ApiReply& rp) {
                    const QString id = rq.param(QStringLiteral("id"));
                    if (!plausibleScheduleId(id))
                        return rp.problem(noSuchSchedule(id));
                    auto s = context().store->schedule(id);
                    if (!s)
                        return rp.error(s.error());
                    rp.json(200, scheduleJson(*s));
                }});
    router.add({"DELETE", QStringLiteral("/v1/schedules/{id}"), Scopes::AgentsWrite, false,
                QStringLiteral("remove a schedule added with the CLI or the API"),
                [this](ApiRequest& rq, ApiReply& rp) {
                    const QString id = rq.param(QStringLiteral("id"));
                    if (!plausibleScheduleId(id))
                        return rp.problem(noSuchSchedule(id));
                    if (auto ok = context().store->removeSchedule(id); !ok)
                        return rp.error(ok.error());
                    HttpResponse r;
                    r.status = 204;
                    rp.send(r);
                }});
    for (const bool pause : {true, false}) {
        router.add(
            {"POST",
             pause ? QStringLiteral("/v1/schedules/{id}/pause")
                   : QStringLiteral("/v1/schedules/{id}/resume"),
             Scopes::AgentsWrite, false,
             pause ? QStringLiteral("pause a schedule") : QStringLiteral("resume a schedule"),
             [this, pause](ApiRequest& rq, ApiReply& rp) {
                 const QString id = rq.param(QStringLiteral("id"));
                 if (!plausibleScheduleId(id))
                     return rp.problem(noSuchSchedule(id));
                 auto changed = context().store->setSchedulePaused(id, pause);
                 if (!changed)
                     return rp.error(changed.error());
                 auto s = context().store->schedule(id);
                 if (!s)
                     return rp.error(s.error());
                 rp.json(200, scheduleJson(*s));
             }});
    }
}

void SchedulesController::create(ApiRequest& request, ApiReply& reply)
{
    auto body = request.jsonObject();
    if (!body)
        return reply.problem(body.error());
    JsonFields f(*body);
    ScheduleRecord s;
    s.agentId = f.string(QStringLiteral("agent"), true, 64).value_or(QString());
    s.cron = f.string(QStringLiteral("cron"), true, 200).value_or(QString());
    s.tz = f.string(QStringLiteral("tz"), false, 100).value_or(QString());
    s.overlap = f.string(QStringLiteral("overlap"), false, 20).value_or(s.overlap);
    s.misfire = f.string(QStringLiteral("misfire"), false, 20).value_or(s.misfire);
    s.misfireMaxAgeS = duration(f, QStringLiteral("misfire_max_age")).value_or(s.misfireMaxAgeS);
    s.jitterS = duration(f, QStringLiteral("jitter")).value_or(0);
    s.input = f.value(QStringLiteral("input")).value_or(QJsonValue());
    s.paused = f.boolean(QStringLiteral("paused")).value_or(false);
    if (!s.agentId.isEmpty()) {
        if (!AgentLoader::isValidId(s.agentId))
            f.addError(QStringLiteral("agent"),
                       QStringLiteral("\"%1\" is not an agent id").arg(s.agentId));
        else if (auto a = context().store->agent(s.agentId); !a)
            f.addError(QStringLiteral("agent"), QStringLiteral("no agent \"%1\"").arg(s.agentId));
    }
    if (!s.cron.isEmpty()) {
        // The scheduler's own rules: cron syntax, zone, policy names (details name the field).
        if (auto ok = ScheduleRules::validate(s); !ok)
            for (const QString& d : ok.error().details) {
                const qsizetype colon = d.indexOf(QStringLiteral(": "));
                if (colon > 0)
                    f.addError(d.left(colon), d.mid(colon + 2));
                else
                    f.addError(QStringLiteral("cron"), d);
            }
    }
    if (auto problem = f.finish(QStringLiteral("the schedule")))
        return reply.problem(*problem);
    auto added = context().store->addSchedule(s);
    if (!added)
        return reply.error(added.error());
    reply.json(201, scheduleJson(*added),
               {{"Location", "/v1/schedules/" + QUrl::toPercentEncoding(added->id)}});
}

void ConnectionsController::registerRoutes(Router& router)
{
    auto json = [](const ConnectionRecord& c) {
        return QJsonObject{{QStringLiteral("name"), c.name},
                           {QStringLiteral("provider"), c.provider},
                           {QStringLiteral("auth"), c.auth},
                           {QStringLiteral("account"), repr::textOrNull(c.account)},
                           {QStringLiteral("scopes"), QJsonArray::fromStringList(c.scopes)},
                           {QStringLiteral("status"), c.status},
                           {QStringLiteral("status_reason"), repr::textOrNull(c.statusReason)},
                           {QStringLiteral("expires_at"), repr::time(c.expiresAt)},
                           {QStringLiteral("checked_at"), repr::time(c.checkedAt)},
                           {QStringLiteral("created_at"), repr::time(c.createdAt)},
                           {QStringLiteral("updated_at"), repr::time(c.updatedAt)}};
    };
    router.add({"GET", QStringLiteral("/v1/connections"), Scopes::AgentsRead, false,
                QStringLiteral("provider connections: metadata and health"),
                [this, json](ApiRequest& rq, ApiReply& rp) {
                    if (auto ok = rq.onlyQuery({QStringLiteral("provider")}); !ok)
                        return rp.problem(ok.error());
                    auto list = context().store->connections(rq.query(QStringLiteral("provider")));
                    if (!list)
                        return rp.error(list.error());
                    QJsonArray arr;
                    for (const ConnectionRecord& c : std::as_const(*list))
                        arr << json(c);
                    rp.json(200, QJsonObject{{QStringLiteral("connections"), arr}});
                }});
    router.add({"GET", QStringLiteral("/v1/connections/{name}"), Scopes::AgentsRead, false,
                QStringLiteral("one connection: metadata and health"),
                [this, json](ApiRequest& rq, ApiReply& rp) {
                    auto c = context().store->connection(rq.param(QStringLiteral("name")));
                    if (!c)
                        return rp.error(c.error());
                    rp.json(200, json(*c));
                }});
}

void ApiKeysController::registerRoutes(Router& router)
{
    router.add({"GET", QStringLiteral("/v1/api-keys"), Scopes::Admin, false,
                QStringLiteral("list API keys (never their secrets)"),
                [this](ApiRequest&, ApiReply& rp) {
                    auto list = context().store->apiKeys();
                    if (!list)
                        return rp.error(list.error());
                    QJsonArray arr;
                    for (const Store::ApiKeyRecord& k : std::as_const(*list))
                        arr << repr::apiKey(k);
                    rp.json(200, QJsonObject{{QStringLiteral("api_keys"), arr}});
                }});
    router.add(
        {"POST", QStringLiteral("/v1/api-keys"), Scopes::Admin, false,
         QStringLiteral("create an API key; the answer holds its secret, once"),
         [this](ApiRequest& rq, ApiReply& rp) {
             auto body = rq.jsonObject();
             if (!body)
                 return rp.problem(body.error());
             JsonFields f(*body);
             const QString name = f.string(QStringLiteral("name"), true, 64).value_or(QString());
             const QStringList scopes =
                 f.stringList(QStringLiteral("scopes"), true).value_or(QStringList());
             if (auto problem = f.finish(QStringLiteral("the API key")))
                 return rp.problem(*problem);
             auto created = context().store->createApiKey(name, scopes);
             if (!created)
                 return rp.error(created.error());
             QJsonObject out = repr::apiKey(created->record);
             out.insert(QStringLiteral("key"), created->secret);
             rp.json(201, out, {{"Location", "/v1/api-keys/" + created->record.id.toLatin1()}});
         }});
    router.add({"GET", QStringLiteral("/v1/api-keys/{id}"), Scopes::Admin, false,
                QStringLiteral("one API key"), [this](ApiRequest& rq, ApiReply& rp) {
                    auto k = context().store->apiKey(rq.param(QStringLiteral("id")));
                    if (!k)
                        return rp.error(k.error());
                    rp.json(200, repr::apiKey(*k));
                }});
    router.add({"DELETE", QStringLiteral("/v1/api-keys/{id}"), Scopes::Admin, false,
                QStringLiteral("revoke an API key"), [this](ApiRequest& rq, ApiReply& rp) {
                    auto k = context().store->revokeApiKey(rq.param(QStringLiteral("id")));
                    if (!k)
                        return rp.error(k.error());
                    rp.json(200, repr::apiKey(*k));
                }});
}

} // namespace vivarium::server
