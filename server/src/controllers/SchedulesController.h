// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiController.h"

namespace vivarium::server {

/** Schedules: list, create (cron checked by the scheduler's rules), delete, pause, resume. */
class SchedulesController final : public ApiController
{
public:
    using ApiController::ApiController;
    void registerRoutes(Router& router) override;

private:
    void create(ApiRequest& request, ApiReply& reply);
};

/** Connections: metadata and health only (never a secret). */
class ConnectionsController final : public ApiController
{
public:
    using ApiController::ApiController;
    void registerRoutes(Router& router) override;
};

/** API keys (admin scope): list, create (the secret is shown once), read, revoke. */
class ApiKeysController final : public ApiController
{
public:
    using ApiController::ApiController;
    void registerRoutes(Router& router) override;
};

} // namespace vivarium::server
