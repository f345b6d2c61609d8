// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunsController.h"

#include "../RunEventHub.h"
#include "../ServerLogging.h"
#include "Representations.h"
#include "RunEventStream.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/server/JsonFields.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QRegularExpression>
#include <QTimer>
#include <QUrl>

namespace vivarium::server {

namespace {

bool looksLikeRunId(const QString& id)
{
    static const QRegularExpression rx(QStringLiteral("^run_[0-9A-HJKMNP-TV-Z]{26}$"));
    return rx.match(id).hasMatch();
}

ApiProblem noSuchRun(const QString& id)
{
    return ApiProblem(ApiProblem::Kind::NotFound,
                      looksLikeRunId(id) ? QStringLiteral("no run %1").arg(id)
                                         : QStringLiteral("no run \"%1\": run ids look like "
                                                          "run_01J9Z3K4M5N6P7Q8R9S0T1V2W3")
                                               .arg(id.left(80)));
}

/** Cursor for GET /v1/runs: opaque to clients, "r1:" + the last run id of the page. */
QString encodeCursor(const QString& lastId)
{
    return QString::fromLatin1(
        QByteArray(QByteArrayLiteral("r1:") + lastId.toLatin1())
            .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

std::optional<QString> decodeCursor(const QString& cursor)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        cursor.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || !decoded.decoded.startsWith("r1:"))
        return std::nullopt;
    const QString id = QString::fromLatin1(decoded.decoded.mid(3));
    if (!looksLikeRunId(id))
        return std::nullopt;
    return id;
}

} // namespace

void RunsController::registerRoutes(Router& router)
{
    router.add({"POST", QStringLiteral("/v1/runs"), Scopes::RunsWrite, false,
                QStringLiteral("start a run"),
                [this](ApiRequest& rq, ApiReply& rp) { create(rq, rp, {}); }});
    router.add({"POST", QStringLiteral("/v1/agents/{id}/runs"), Scopes::RunsWrite, false,
                QStringLiteral("start a run of this agent"), [this](ApiRequest& rq, ApiReply& rp) {
                    create(rq, rp, rq.param(QStringLiteral("id")));
                }});
    router.add({"GET", QStringLiteral("/v1/runs"), Scopes::RunsRead, false,
                QStringLiteral("list runs, newest first"),
                [this](ApiRequest& rq, ApiReply& rp) { list(rq, rp); }});
    router.add({"GET", QStringLiteral("/v1/runs/{id}"), Scopes::RunsRead, false,
                QStringLiteral("one run; ?wait= long-polls until it ends"),
                [this](ApiRequest& rq, ApiReply& rp) { get(rq, rp); }});
    router.add({"POST", QStringLiteral("/v1/runs/{id}/cancel"), Scopes::RunsWrite, false,
                QStringLiteral("cancel a queued or running run"),
                [this](ApiRequest& rq, ApiReply& rp) { cancel(rq, rp); }});
    router.add({"GET", QStringLiteral("/v1/runs/{id}/events"), Scopes::RunsRead, false,
                QStringLiteral("the run's events: SSE, or a JSON page"),
                [this](ApiRequest& rq, ApiReply& rp) { events(rq, rp); }});
}

void RunsController::create(ApiRequest& request, ApiReply& reply, const QString& pathAgent)
{
    Store* store = context().store;
    if (auto ok = request.onlyQuery({}); !ok)
        return reply.problem(ok.error());
    auto body = request.jsonObject(!pathAgent.isEmpty());
    if (!body)
        return reply.problem(body.error());

    // Idempotency-Key: the same key and body answer with the same run; another body is an error.
    const QByteArray idemHeader = request.http().header("idempotency-key");
    const bool hasIdem = request.http().hasHeader("idempotency-key");
    static const QRegularExpression idemRx(QStringLiteral("^[\\x21-\\x7e]{1,255}$"));
    const QString idemKey = QString::fromLatin1(idemHeader);
    if (hasIdem && !idemRx.match(idemKey).hasMatch())
        return reply.problem(ApiProblem(ApiProblem::Kind::InvalidRequest,
                                        QStringLiteral("Idempotency-Key must be 1 to 255 visible "
                                                       "ASCII characters")));
    const QString requestHash =
        QString::fromLatin1(QCryptographicHash::hash(QByteArray(request.http().method + ' ' +
                                                                request.http().path.toUtf8() +
                                                                '\n' + repr::compact(*body)),
                                                     QCryptographicHash::Sha256)
                                .toHex());
    const QString keyId = request.principal().keyId;
    if (hasIdem) {
        auto previous = store->idempotencyRecord(keyId, idemKey);
        if (!previous)
            return reply.error(previous.error());
        if (*previous) {
            if ((*previous)->requestHash != requestHash)
                return reply.problem(ApiProblem(
                    ApiProblem::Kind::IdempotencyKeyReused,
                    QStringLiteral("Idempotency-Key \"%1\" was used with a different request "
                                   "(run %2); use a new key for a new run")
                        .arg(idemKey, (*previous)->resultId)));
            auto run = store->run((*previous)->resultId);
            if (!run)
                return reply.error(run.error());
            return reply.json(
                202, repr::run(*run),
                {{"Location", "/v1/runs/" + run->id.toLatin1()}, {"Idempotent-Replayed", "true"}});
        }
    }

    JsonFields f(*body);
    QString agentId = pathAgent;
    if (pathAgent.isEmpty())
        agentId = f.string(QStringLiteral("agent"), true, 64).value_or(QString());
    const QJsonValue input = f.value(QStringLiteral("input")).value_or(QJsonValue());
    const std::optional<QJsonValue> webhook = f.value(QStringLiteral("webhook"));
    if (!pathAgent.isEmpty() && !AgentLoader::isValidId(pathAgent))
        return reply.problem(ApiProblem(ApiProblem::Kind::NotFound,
                                        QStringLiteral("no agent \"%1\"").arg(pathAgent.left(80))));
    if (pathAgent.isEmpty() && !agentId.isEmpty()) {
        if (!AgentLoader::isValidId(agentId)) {
            f.addError(QStringLiteral("agent"),
                       QStringLiteral("\"%1\" is not an agent id ([a-z0-9][a-z0-9_-]{0,63})")
                           .arg(agentId));
        } else if (auto a = store->agent(agentId); !a) {
            if (a.error().code != Error::Code::NotFound)
                return reply.error(a.error());
            f.addError(QStringLiteral("agent"), QStringLiteral("no agent \"%1\"").arg(agentId));
        }
    }
    // A webhook makes the engine POST to a URL the caller picks: that is webhooks:write's
    // power, so runs:write alone does not give it (docs/webhooks.md, SSRF stance).
    if (webhook && !webhook->isNull() && !request.principal().hasScope(Scopes::WebhooksWrite))
        return reply.problem(ApiProblem(
            ApiProblem::Kind::InsufficientScope,
            QStringLiteral("a run's webhook needs scope %1 as well; key %2 has %3")
                .arg(Scopes::WebhooksWrite, request.principal().keyName,
                     request.principal().scopes.join(QStringLiteral(", ")))));
    if (webhook && !webhook->isNull()) {
        if (!context().runWebhooks) {
            f.addError(QStringLiteral("webhook"),
                       QStringLiteral("webhook delivery is not available in this engine"));
        } else if (auto ok = context().runWebhooks->validate(*webhook); !ok) {
            for (const QString& d : ok.error().details) {
                if (d.startsWith(QStringLiteral("/webhook")))
                    f.addLine(d);
                else
                    f.addError(QStringLiteral("webhook"), d);
            }
            if (ok.error().details.isEmpty())
                f.addError(QStringLiteral("webhook"), ok.error().message);
        }
    }
    if (auto problem = f.finish(QStringLiteral("the run request")))
        return reply.problem(*problem);
    if (!pathAgent.isEmpty()) {
        auto a = store->agent(agentId);
        if (!a)
            return reply.error(a.error());
    }

    auto run = context().supervisor->enqueue(agentId, input, request.principal().actor());
    if (!run) {
        if (run.error().code == Error::Code::Conflict) // shutting down
            return reply.problem(ApiProblem(ApiProblem::Kind::Unavailable, run.error().message));
        return reply.error(run.error());
    }
    QJsonObject shownWebhook;
    if (webhook && !webhook->isNull() && context().runWebhooks) {
        auto attached =
            context().runWebhooks->attach(run->id, *webhook, request.principal().actor());
        if (!attached) {
            // A run whose promised webhook cannot be stored must not go on silently.
            context().supervisor->cancel(run->id, QStringLiteral("webhook could not be stored"));
            return reply.error(attached.error());
        }
        shownWebhook = *attached;
    }
    if (hasIdem) {
        Store::IdempotencyRecord rec{keyId, idemKey, requestHash, run->id, {}};
        if (auto ok = store->saveIdempotencyRecord(rec); !ok)
            qCWarning(lcServerApi).noquote() << "idempotency record:" << ok.error().message;
    }
    QJsonObject body202 = repr::run(*run);
    if (!shownWebhook.isEmpty())
        body202.insert(QStringLiteral("webhook"), shownWebhook);
    reply.json(202, body202, {{"Location", "/v1/runs/" + run->id.toLatin1()}});
}

void RunsController::get(ApiRequest& request, ApiReply& reply)
{
    if (auto ok = request.onlyQuery({QStringLiteral("wait")}); !ok)
        return reply.problem(ok.error());
    const QString id = request.param(QStringLiteral("id"));
    if (!looksLikeRunId(id))
        return reply.problem(noSuchRun(id));
    int waitS = 0;
    if (request.hasQuery(QStringLiteral("wait"))) {
        bool ok = false;
        waitS = request.query(QStringLiteral("wait")).toInt(&ok);
        if (!ok || waitS < 0 || waitS > m_options.maxWaitSeconds)
            return reply.problem(
                ApiProblem(ApiProblem::Kind::InvalidRequest,
                           QStringLiteral("wait must be whole seconds from 0 to %1, got \"%2\"")
                               .arg(m_options.maxWaitSeconds)
                               .arg(request.query(QStringLiteral("wait")).left(40))));
    }
    Store* store = context().store;
    auto run = store->run(id);
    if (!run)
        return run.error().code == Error::Code::NotFound ? reply.problem(noSuchRun(id))
                                                         : reply.error(run.error());
    if (waitS == 0 || isTerminal(run->status))
        return reply.json(200, repr::run(*run));

    // Long-poll: answer when the run ends or the wait is over, whichever comes first.
    reply.defer();
    struct Wait
    {
        ApiReply reply;
        int sub = 0;
        std::unique_ptr<QTimer> timer;
        bool answered = false;
    };
    auto w = std::make_shared<Wait>(Wait{reply, 0, std::make_unique<QTimer>(), false});
    RunEventHub* hub = context().events;
    auto answer = [w, store, hub, id] {
        if (w->answered)
            return;
        w->answered = true;
        w->timer->stop();
        if (w->sub)
            hub->unsubscribe(std::exchange(w->sub, 0));
        auto now = store->run(id);
        if (!now)
            return w->reply.error(now.error());
        w->reply.json(200, repr::run(*now));
    };
    w->sub = hub->subscribe(id, -1, nullptr, [answer](RunStatus) { answer(); });
    w->timer->setSingleShot(true);
    QObject::connect(w->timer.get(), &QTimer::timeout, w->timer.get(), answer);
    w->timer->start(waitS * 1000);
    reply.onFinished([w, hub] {
        // Client gone (or answered): stop waiting.
        w->answered = true;
        w->timer->stop();
        if (w->sub)
            hub->unsubscribe(std::exchange(w->sub, 0));
        QTimer* t = w->timer.release();
        t->deleteLater();
    });
}

void RunsController::list(ApiRequest& request, ApiReply& reply)
{
    const QStringList allowed{QStringLiteral("agent"),   QStringLiteral("status"),
                              QStringLiteral("trigger"), QStringLiteral("since"),
                              QStringLiteral("limit"),   QStringLiteral("cursor")};
    if (auto ok = request.onlyQuery(allowed); !ok)
        return reply.problem(ok.error());
    Store::RunQuery q;
    QStringList errors;
    q.agentId = request.query(QStringLiteral("agent"));
    if (!q.agentId.isEmpty() && !AgentLoader::isValidId(q.agentId))
        errors << QStringLiteral("?agent: \"%1\" is not an agent id").arg(q.agentId.left(80));
    if (request.hasQuery(QStringLiteral("status"))) {
        q.status = runStatusFromString(request.query(QStringLiteral("status")));
        if (!q.status)
            errors << QStringLiteral("?status: \"%1\" is not a run status; one of queued, "
                                     "starting, running, awaiting_approval, succeeded, failed, "
                                     "timed_out, cancelled, interrupted, skipped, missed")
                          .arg(request.query(QStringLiteral("status")).left(40));
    }
    q.trigger = request.query(QStringLiteral("trigger")).left(300);
    if (request.hasQuery(QStringLiteral("since"))) {
        const QString s = request.query(QStringLiteral("since"));
        q.since = QDateTime::fromString(s, Qt::ISODateWithMs);
        if (!q.since.isValid())
            q.since = QDateTime::fromString(s, Qt::ISODate);
        if (!q.since.isValid())
            errors << QStringLiteral("?since: \"%1\" is not an ISO 8601 date-time such as "
                                     "2026-01-31T08:00:00Z")
                          .arg(s.left(40));
    }
    if (request.hasQuery(QStringLiteral("limit"))) {
        bool ok = false;
        q.limit = request.query(QStringLiteral("limit")).toInt(&ok);
        if (!ok || q.limit < 1 || q.limit > 200)
            errors << QStringLiteral("?limit: expected an integer from 1 to 200");
    }
    if (request.hasQuery(QStringLiteral("cursor"))) {
        const auto before = decodeCursor(request.query(QStringLiteral("cursor")));
        if (!before)
            errors << QStringLiteral("?cursor: not a cursor this API returned (use next_cursor "
                                     "from the previous page)");
        else
            q.beforeId = *before;
    }
    if (!errors.isEmpty())
        return reply.problem(ApiProblem(ApiProblem::Kind::InvalidRequest,
                                        QStringLiteral("invalid query parameters"), errors));
    const int pageSize = q.limit;
    q.limit = pageSize + 1;
    auto runs = context().store->queryRuns(q);
    if (!runs)
        return reply.error(runs.error());
    const bool more = runs->size() > pageSize;
    if (more)
        runs->removeLast();
    QJsonArray arr;
    for (const RunRecord& r : std::as_const(*runs))
        arr << repr::run(r);
    QJsonObject out{{QStringLiteral("runs"), arr}};
    if (more) {
        const QString cursor = encodeCursor(runs->last().id);
        QUrlQuery next = request.http().query;
        next.removeAllQueryItems(QStringLiteral("cursor"));
        next.addQueryItem(QStringLiteral("cursor"), cursor);
        out.insert(QStringLiteral("next_cursor"), cursor);
        out.insert(QStringLiteral("links"),
                   QJsonObject{
                       {QStringLiteral("next"),
                        QString(QStringLiteral("/v1/runs?") + next.toString(QUrl::FullyEncoded))}});
    } else {
        out.insert(QStringLiteral("next_cursor"), QJsonValue::Null);
    }
    reply.json(200, out);
}

void RunsController::cancel(ApiRequest& request, ApiReply& reply)
{
    if (auto ok = request.onlyQuery({}); !ok)
        return reply.problem(ok.error());
    const QString id = request.param(QStringLiteral("id"));
    if (!looksLikeRunId(id))
        return reply.problem(noSuchRun(id));
    auto before = context().store->run(id);
    if (!before)
        return before.error().code == Error::Code::NotFound ? reply.problem(noSuchRun(id))
                                                            : reply.error(before.error());
    if (auto ok = context().supervisor->cancel(
            id, QStringLiteral("cancelled by %1").arg(request.principal().actor()));
        !ok)
        return reply.error(ok.error());
    auto run = context().store->run(id);
    if (!run)
        return reply.error(run.error());
    reply.json(202, repr::run(*run));
}

void RunsController::events(ApiRequest& request, ApiReply& reply)
{
    if (auto ok = request.onlyQuery({QStringLiteral("after"), QStringLiteral("limit")}); !ok)
        return reply.problem(ok.error());
    const QString id = request.param(QStringLiteral("id"));
    if (!looksLikeRunId(id))
        return reply.problem(noSuchRun(id));
    Store* store = context().store;
    auto run = store->run(id);
    if (!run)
        return run.error().code == Error::Code::NotFound ? reply.problem(noSuchRun(id))
                                                         : reply.error(run.error());

    // Where to resume: Last-Event-ID (what EventSource sends on reconnect), else ?after=.
    qint64 after = 0;
    const QByteArray lastId = request.http().header("last-event-id").trimmed();
    const QString afterText =
        lastId.isEmpty() ? request.query(QStringLiteral("after")) : QString::fromLatin1(lastId);
    if (!afterText.isEmpty()) {
        bool ok = false;
        after = afterText.toLongLong(&ok);
        if (!ok || after < 0)
            return reply.problem(ApiProblem(
                ApiProblem::Kind::InvalidRequest,
                QStringLiteral("%1 must be an event seq (a whole number >= 0), got \"%2\"")
                    .arg(lastId.isEmpty() ? QStringLiteral("after")
                                          : QStringLiteral("Last-Event-ID"),
                         afterText.left(40))));
    }

    const QByteArray accept = request.http().header("accept");
    const bool wantsJson =
        accept.contains("application/json") && !accept.contains("text/event-stream");
    if (!wantsJson && !request.acceptsEventStream())
        return reply.problem(ApiProblem(ApiProblem::Kind::NotAcceptable,
                                        QStringLiteral("events come as text/event-stream or "
                                                       "application/json")));
    if (wantsJson) {
        int limit = 100;
        if (request.hasQuery(QStringLiteral("limit"))) {
            bool ok = false;
            limit = request.query(QStringLiteral("limit")).toInt(&ok);
            if (!ok || limit < 1 || limit > 1000)
                return reply.problem(ApiProblem(ApiProblem::Kind::InvalidRequest,
                                                QStringLiteral("limit: expected an integer "
                                                               "from 1 to 1000")));
        }
        auto events = store->events(id, after, limit + 1);
        if (!events)
            return reply.error(events.error());
        const bool more = events->size() > limit;
        if (more)
            events->removeLast();
        QJsonArray arr;
        for (const RunEvent& e : std::as_const(*events))
            arr << repr::event(e);
        const qint64 next = events->isEmpty() ? after : events->last().seq;
        return reply.json(
            200, QJsonObject{{QStringLiteral("run_id"), id},
                             {QStringLiteral("status"), runStatusName(run->status)},
                             {QStringLiteral("events"), arr},
                             {QStringLiteral("next_after"), double(next)},
                             {QStringLiteral("has_more"), more},
                             {QStringLiteral("finished"), isTerminal(run->status) && !more}});
    }

    if (isTerminal(run->status)) {
        auto rest = store->events(id, after, 1);
        if (!rest)
            return reply.error(rest.error());
        // Nothing left to send for an ended run: 204 tells EventSource to stop reconnecting.
        if (rest->isEmpty()) {
            HttpResponse r;
            r.status = 204;
            return reply.send(r);
        }
    }
    auto stream = std::make_shared<RunEventStream>(reply, store, context().events, id, after,
                                                   m_options.sseHeartbeatMs, m_options.sseRetryMs);
    stream->start();
}

} // namespace vivarium::server
