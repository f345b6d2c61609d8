// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiController.h"
#include "vivarium/server/WebhookService.h"

#include <memory>

namespace vivarium::server {

/**
 * /v1/webhooks: subscriptions, rotation, test events, deliveries and their attempts (thin
 * handlers over WebhookService), the `webhook` field of POST /v1/runs (RunWebhooks), and the
 * webhook families of /metrics. Every route needs the `webhooks:write` scope, reads included:
 * webhook URLs are often capability URLs (n8n) and deliveries carry run outputs.
 *
 * Uses the engine's WebhookService (ApiContext::webhooks); when the context has none (an API
 * server built without an engine, in tests) it runs one of its own over the context's store.
 */
class WebhooksController final : public ApiController, public RunWebhooks
{
public:
    explicit WebhooksController(ApiContext& context);
    ~WebhooksController() override;

    void registerRoutes(Router& router) override;
    void appendMetrics(MetricsWriter& out) override;

    Status validate(const QJsonValue& webhook) const override;
    Result<QJsonObject> attach(const QString& runId, const QJsonValue& webhook,
                               const QString& actor) override;

private:
    WebhookService* service() const { return m_service; }

    void create(ApiRequest& request, ApiReply& reply);
    void list(ApiRequest& request, ApiReply& reply);
    void show(ApiRequest& request, ApiReply& reply);
    void remove(ApiRequest& request, ApiReply& reply);
    void rotate(ApiRequest& request, ApiReply& reply);
    void test(ApiRequest& request, ApiReply& reply);
    void deliveries(ApiRequest& request, ApiReply& reply);
    void delivery(ApiRequest& request, ApiReply& reply);

    std::unique_ptr<WebhookService> m_own; ///< only without an engine-provided service
    WebhookService* m_service = nullptr;
};

} // namespace vivarium::server
