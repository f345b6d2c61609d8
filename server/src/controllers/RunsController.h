// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiController.h"
#include "vivarium/server/ApiServer.h"

namespace vivarium::server {

/**
 * Runs: start (POST /v1/runs, POST /v1/agents/{id}/runs, with Idempotency-Key), read with
 * long-poll, list with filters and cursors, cancel, and the event journal as SSE or JSON.
 */
class RunsController final : public ApiController
{
public:
    RunsController(ApiContext& context, const ApiServerOptions& options)
        : ApiController(context)
        , m_options(options)
    {}
    void registerRoutes(Router& router) override;

private:
    void create(ApiRequest& request, ApiReply& reply, const QString& pathAgent);
    void get(ApiRequest& request, ApiReply& reply);
    void list(ApiRequest& request, ApiReply& reply);
    void cancel(ApiRequest& request, ApiReply& reply);
    void events(ApiRequest& request, ApiReply& reply);

    const ApiServerOptions& m_options;
};

} // namespace vivarium::server
