// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiContext.h"
#include "vivarium/server/MetricsWriter.h"
#include "vivarium/server/Router.h"

namespace vivarium::server {

/**
 * One area of the API (runs, agents, schedules, webhooks, ...): thin handlers over core
 * services. A controller adds its routes once at startup and may add lines to GET /metrics.
 * Adding an area is one line in ApiServer's constructor:
 * `addController(std::make_unique<WebhooksController>(m_context));`
 * and its routes in resources/openapi.json (tst_apiopenapi compares the two).
 */
class ApiController
{
public:
    explicit ApiController(ApiContext& context)
        : m_context(context)
    {}
    virtual ~ApiController() = default;
    ApiController(const ApiController&) = delete;
    ApiController& operator=(const ApiController&) = delete;

    virtual void registerRoutes(Router& router) = 0;
    /** Prometheus families of this area (called on every scrape; keep it cheap). */
    virtual void appendMetrics(MetricsWriter& out) { Q_UNUSED(out); }

protected:
    ApiContext& context() const { return m_context; }

private:
    ApiContext& m_context;
};

} // namespace vivarium::server
