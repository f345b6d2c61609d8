// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiController.h"
#include "vivarium/server/ApiServer.h"

namespace vivarium::server {

/**
 * Agents CRUD. Definitions are validated exactly as `vivarium agent add` does (AgentLoader,
 * then every schedule with ScheduleRules) and every problem is listed in one 422.
 */
class AgentsController final : public ApiController
{
public:
    AgentsController(ApiContext& context, const ApiServerOptions&)
        : ApiController(context)
    {}
    void registerRoutes(Router& router) override;

private:
    void save(ApiRequest& request, ApiReply& reply, const QString& pathId);
};

} // namespace vivarium::server
