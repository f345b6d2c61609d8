// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentsController.h"

#include "Representations.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/MachineReferences.h"
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace vivarium::server {

namespace {

const QString BodyLabel = QStringLiteral("body");

/** "body: /limits/max_steps: ..." -> "/limits/max_steps: ...": the body has no file name. */
QStringList withoutLabel(const QStringList& lines)
{
    QStringList out;
    const QString prefix = BodyLabel + QStringLiteral(": ");
    for (const QString& l : lines)
        out << (l.startsWith(prefix) ? l.mid(prefix.size()) : l);
    return out;
}

QJsonObject summaryJson(const AgentSummary& a)
{
    return QJsonObject{
        {QStringLiteral("id"), a.id},
        {QStringLiteral("name"), a.name},
        {QStringLiteral("description"), a.description},
        {QStringLiteral("version"), a.version},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("endpoint"), a.modelEndpoint},
                                              {QStringLiteral("name"), a.modelName}}},
        {QStringLiteral("schedules"), a.scheduleCount},
        {QStringLiteral("providers"), a.providerCount},
        {QStringLiteral("sandbox_tier"), a.sandboxTier},
        {QStringLiteral("created_at"), repr::time(a.createdAt)},
        {QStringLiteral("saved_at"), repr::time(a.savedAt)},
        {QStringLiteral("links"),
         QJsonObject{{QStringLiteral("self"), QString(QStringLiteral("/v1/agents/") + a.id)},
                     {QStringLiteral("runs"),
                      QString(QStringLiteral("/v1/agents/") + a.id + QStringLiteral("/runs"))}}},
    };
}

QJsonObject recordJson(const AgentRecord& r)
{
    return QJsonObject{{QStringLiteral("id"), r.id},
                       {QStringLiteral("version"), r.version},
                       {QStringLiteral("latest_version"), r.latestVersion},
                       {QStringLiteral("content_hash"), r.contentHash},
                       {QStringLiteral("created_at"), repr::time(r.createdAt)},
                       {QStringLiteral("saved_at"), repr::time(r.savedAt)},
                       {QStringLiteral("definition"), r.definition.toJson()}};
}

ApiProblem noSuchAgent(const QString& id)
{
    return ApiProblem(ApiProblem::Kind::NotFound,
                      QStringLiteral("no agent \"%1\"").arg(id.left(80)));
}

} // namespace

void AgentsController::registerRoutes(Router& router)
{
    router.add({"GET", QStringLiteral("/v1/agents"), Scopes::AgentsRead, false,
                QStringLiteral("list agents"), [this](ApiRequest& rq, ApiReply& rp) {
                    if (auto ok = rq.onlyQuery({}); !ok)
                        return rp.problem(ok.error());
                    auto list = context().store->agentSummaries();
                    if (!list)
                        return rp.error(list.error());
                    QJsonArray arr;
                    for (const AgentSummary& a : std::as_const(*list))
                        arr << summaryJson(a);
                    rp.json(200, QJsonObject{{QStringLiteral("agents"), arr}});
                }});
    router.add({"POST", QStringLiteral("/v1/agents"), Scopes::AgentsWrite, false,
                QStringLiteral("add an agent or save a new version"),
                [this](ApiRequest& rq, ApiReply& rp) { save(rq, rp, {}); }});
    router.add(
        {"PUT", QStringLiteral("/v1/agents/{id}"), Scopes::AgentsWrite, false,
         QStringLiteral("save a new version of this agent"),
         [this](ApiRequest& rq, ApiReply& rp) { save(rq, rp, rq.param(QStringLiteral("id"))); }});
    router.add({"GET", QStringLiteral("/v1/agents/{id}"), Scopes::AgentsRead, false,
                QStringLiteral("an agent's definition (?version=N for an older one)"),
                [this](ApiRequest& rq, ApiReply& rp) {
                    if (auto ok = rq.onlyQuery({QStringLiteral("version")}); !ok)
                        return rp.problem(ok.error());
                    const QString id = rq.param(QStringLiteral("id"));
                    if (!AgentLoader::isValidId(id))
                        return rp.problem(noSuchAgent(id));
                    std::optional<int> version;
                    if (rq.hasQuery(QStringLiteral("version"))) {
                        bool ok = false;
                        version = rq.query(QStringLiteral("version")).toInt(&ok);
                        if (!ok || *version < 1)
                            return rp.problem(ApiProblem(ApiProblem::Kind::InvalidRequest,
                                                         QStringLiteral("version must be a "
                                                                        "positive integer")));
                    }
                    auto rec = context().store->agent(id, version);
                    if (!rec)
                        return rp.error(rec.error());
                    rp.json(200, recordJson(*rec));
                }});
    router.add({"GET", QStringLiteral("/v1/agents/{id}/versions"), Scopes::AgentsRead, false,
                QStringLiteral("an agent's saved versions, newest first"),
                [this](ApiRequest& rq, ApiReply& rp) {
                    if (auto ok = rq.onlyQuery({}); !ok)
                        return rp.problem(ok.error());
                    const QString id = rq.param(QStringLiteral("id"));
                    if (!AgentLoader::isValidId(id))
                        return rp.problem(noSuchAgent(id));
                    auto list = context().store->agentVersions(id);
                    if (!list)
                        return rp.error(list.error());
                    QJsonArray arr;
                    for (const AgentVersionInfo& v : std::as_const(*list))
                        arr << QJsonObject{{QStringLiteral("version"), v.version},
                                           {QStringLiteral("saved_at"), repr::time(v.savedAt)},
                                           {QStringLiteral("content_hash"), v.contentHash}};
                    rp.json(200, QJsonObject{{QStringLiteral("id"), id},
                                             {QStringLiteral("versions"), arr}});
                }});
    router.add({"DELETE", QStringLiteral("/v1/agents/{id}"), Scopes::AgentsWrite, false,
                QStringLiteral("remove an agent (its versions and runs stay readable)"),
                [this](ApiRequest& rq, ApiReply& rp) {
                    if (auto ok = rq.onlyQuery({}); !ok)
                        return rp.problem(ok.error());
                    const QString id = rq.param(QStringLiteral("id"));
                    if (!AgentLoader::isValidId(id))
                        return rp.problem(noSuchAgent(id));
                    if (auto ok = context().store->removeAgent(id); !ok)
                        return rp.error(ok.error());
                    HttpResponse r;
                    r.status = 204;
                    rp.send(r);
                }});
}

void AgentsController::save(ApiRequest& request, ApiReply& reply, const QString& pathId)
{
    if (auto ok = request.onlyQuery({}); !ok)
        return reply.problem(ok.error());
    // jsonObject() checks the media type and syntax; the loader then reads the same bytes, so
    // its messages (with JSON pointers) are exactly those of `vivarium agent add`.
    auto body = request.jsonObject();
    if (!body)
        return reply.problem(body.error());
    Store* store = context().store;
    auto loaded = AgentLoader::loadBytes(request.http().body, BodyLabel, QString(),
                                         machineReferences(*store, context().dataDir));
    QStringList problems;
    if (!loaded) {
        Error e = loaded.error();
        e.details = withoutLabel(e.details);
        if (e.details.isEmpty() && e.code == Error::Code::Validation)
            e.details << e.message;
        if (e.code == Error::Code::Io) // too large and the like: the body is what is wrong
            e.code = Error::Code::Validation;
        return reply.error(e);
    }
    const AgentDefinition& def = loaded->definition;
    if (!pathId.isEmpty() && def.id != pathId)
        problems << QStringLiteral("/id: \"%1\" does not match the agent in the path, \"%2\"")
                        .arg(def.id, pathId.left(80));
    for (qsizetype i = 0; i < def.schedules.size(); ++i) {
        const ScheduleSpec& spec = def.schedules.at(i);
        ScheduleRecord check;
        check.cron = spec.cron;
        check.tz = spec.tz;
        check.overlap = spec.overlap;
        check.misfire = spec.misfire;
        if (auto ok = ScheduleRules::validate(check); !ok)
            for (const QString& d : ok.error().details)
                problems << QStringLiteral("/schedules/%1/%2").arg(i).arg(d);
    }
    if (!problems.isEmpty())
        return reply.problem(
            ApiProblem(ApiProblem::Kind::ValidationFailed,
                       QStringLiteral("%1 problem(s) in the agent definition").arg(problems.size()),
                       problems));
    auto saved = store->saveAgent(def, QStringLiteral("api:") + request.principal().keyName);
    if (!saved)
        return reply.error(saved.error());
    QJsonArray warnings;
    for (const Diagnostic& w : loaded->warnings)
        warnings << withoutLabel({w.toString()}).constFirst();
    auto rec = store->agent(def.id);
    if (!rec)
        return reply.error(rec.error());
    QJsonObject out = recordJson(*rec);
    out.insert(QStringLiteral("created"), saved->created);
    out.insert(QStringLiteral("new_agent"), saved->newAgent);
    out.insert(QStringLiteral("warnings"), warnings);
    reply.json(saved->newAgent ? 201 : 200, out, {{"Location", "/v1/agents/" + def.id.toLatin1()}});
}

} // namespace vivarium::server
