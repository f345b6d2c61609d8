// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QJsonValue>
#include <QString>

namespace vivarium {
class RunSupervisor;
class WebhookService;
class Scheduler;
class SecretStore;
class Store;
} // namespace vivarium

namespace vivarium::server {

class RunEventHub;

/**
 * The `webhook` field of POST /v1/runs, implemented by webhook delivery
 * (server/src/webhooks/). The runs controller validates before it creates the run, then
 * attaches it to the new run.
 */
class RunWebhooks
{
public:
    virtual ~RunWebhooks() = default;
    /** Validation error whose details name each bad field as "/webhook/...: ...". */
    virtual Status validate(const QJsonValue& webhook) const = 0;
    /**
     * Store the subscription for this run; its terminal event is delivered to it. Returns what
     * the 202 answer shows of it: {id, url} plus `secret` only when the engine generated one
     * (shown this once; a secret the caller gave is never echoed).
     */
    virtual Result<QJsonObject> attach(const QString& runId, const QJsonValue& webhook,
                                       const QString& actor) = 0;
};

/** What controllers work with: the engine's parts. All on the engine thread. */
struct ApiContext
{
    Store* store = nullptr;
    RunSupervisor* supervisor = nullptr;
    Scheduler* scheduler = nullptr; ///< null when the engine does not schedule
    SecretStore* secrets = nullptr;
    QString dataDir;
    RunEventHub* events = nullptr;      ///< live run events (set by ApiServer)
    RunWebhooks* runWebhooks = nullptr; ///< null until webhook delivery registers itself
    WebhookService* webhooks = nullptr; ///< the engine's webhook delivery (server/src/webhooks)
    QString version;                    ///< product version for /v1/health
};

} // namespace vivarium::server
