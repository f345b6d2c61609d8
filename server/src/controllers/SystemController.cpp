// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SystemController.h"

#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"
#include "vivarium/server/ApiServer.h"

#include <QJsonDocument>

namespace vivarium::server {

void SystemController::registerRoutes(Router& router)
{
    router.add({"GET",
                QStringLiteral("/v1/health"),
                {},
                true,
                QStringLiteral("liveness; the only route without a key"),
                [this](ApiRequest&, ApiReply& reply) {
                    reply.json(200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")},
                                                {QStringLiteral("version"), context().version},
                                                {QStringLiteral("api"), QStringLiteral("v1")}});
                }});
    router.add({"GET", QStringLiteral("/metrics"), Scopes::RunsRead, false,
                QStringLiteral("Prometheus metrics"), [this](ApiRequest&, ApiReply& reply) {
                    HttpResponse r;
                    r.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                    r.body = m_server->metricsText();
                    reply.send(std::move(r));
                }});
    router.add(
        {"GET",
         QStringLiteral("/openapi.json"),
         {},
         false,
         QStringLiteral("this API's OpenAPI 3.1 document"),
         [](ApiRequest&, ApiReply& reply) { reply.json(200, ApiServer::openApiDocument()); }});
}

void SystemController::appendMetrics(MetricsWriter& out)
{
    Store* store = context().store;
    auto m = store->runMetrics();
    if (!m)
        return;
    out.family(QStringLiteral("vivarium_runs"), QStringLiteral("gauge"),
               QStringLiteral("runs in the store by state"));
    for (const QString& s :
         {QStringLiteral("queued"), QStringLiteral("starting"), QStringLiteral("running"),
          QStringLiteral("awaiting_approval"), QStringLiteral("succeeded"),
          QStringLiteral("failed"), QStringLiteral("timed_out"), QStringLiteral("cancelled"),
          QStringLiteral("interrupted"), QStringLiteral("skipped"), QStringLiteral("missed")}) {
        qint64 n = 0;
        for (const auto& [status, count] : std::as_const(m->byStatus))
            if (status == s)
                n = count;
        out.sample(QStringLiteral("vivarium_runs"), {{QStringLiteral("state"), s}}, double(n));
    }
    out.family(QStringLiteral("vivarium_run_duration_seconds"), QStringLiteral("histogram"),
               QStringLiteral("wall time from start to end of finished runs"));
    for (int i = 0; i < m->durationBuckets.size(); ++i)
        out.sample(QStringLiteral("vivarium_run_duration_seconds_bucket"),
                   {{QStringLiteral("le"), QString::number(m->durationBuckets.at(i))}},
                   double(m->durationCounts.value(i)));
    out.sample(QStringLiteral("vivarium_run_duration_seconds_bucket"),
               {{QStringLiteral("le"), QStringLiteral("+Inf")}}, double(m->durationCount));
    out.sample(QStringLiteral("vivarium_run_duration_seconds_sum"), m->durationSum);
    out.sample(QStringLiteral("vivarium_run_duration_seconds_count"), double(m->durationCount));
    out.family(QStringLiteral("vivarium_tokens_total"), QStringLiteral("counter"),
               QStringLiteral("model tokens used by all runs"));
    out.sample(QStringLiteral("vivarium_tokens_total"),
               {{QStringLiteral("direction"), QStringLiteral("input")}}, double(m->inputTokens));
    out.sample(QStringLiteral("vivarium_tokens_total"),
               {{QStringLiteral("direction"), QStringLiteral("output")}}, double(m->outputTokens));
    out.family(QStringLiteral("vivarium_cost_usd_total"), QStringLiteral("counter"),
               QStringLiteral("model cost of all priced runs, US dollars"));
    out.sample(QStringLiteral("vivarium_cost_usd_total"), m->costUsd);
    out.family(QStringLiteral("vivarium_unpriced_runs_total"), QStringLiteral("counter"),
               QStringLiteral("runs with at least one model call of unknown price"));
    out.sample(QStringLiteral("vivarium_unpriced_runs_total"), double(m->unpricedRuns));
    if (RunSupervisor* sup = context().supervisor) {
        out.family(QStringLiteral("vivarium_active_runs"), QStringLiteral("gauge"),
                   QStringLiteral("runs queued, starting or running in this engine"));
        out.sample(QStringLiteral("vivarium_active_runs"), sup->activeRuns());
    }
    // Webhook attempts: the webhooks controller adds vivarium_webhook_* families from its own
    // appendMetrics() once it is registered in ApiServer.
}

} // namespace vivarium::server
