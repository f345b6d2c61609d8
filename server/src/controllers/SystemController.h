// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiController.h"

namespace vivarium::server {

class ApiServer;

/** GET /v1/health (no key), GET /metrics (Prometheus), GET /openapi.json. */
class SystemController final : public ApiController
{
public:
    SystemController(ApiContext& context, ApiServer* server)
        : ApiController(context)
        , m_server(server)
    {}
    void registerRoutes(Router& router) override;
    void appendMetrics(MetricsWriter& out) override;

private:
    ApiServer* m_server;
};

} // namespace vivarium::server
