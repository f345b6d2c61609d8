// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "ProviderCallPolicy.h"
#include "ProviderCaller.h"
#include "supervisor/SecretRedactor.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>

#include <expected>
#include <functional>
#include <memory>

class QThreadPool;

namespace vivarium {

class CancelToken;
class SecretStore;
class Store;

/**
 * The broker side of `provider` messages for one run (docs/broker.md). Rules a) and b) and
 * the credential lookup run here, on the supervisor's thread; c) to f) on a worker; the
 * answer and the audit row (g) come back here. One call at a time per run, in arrival order
 * (the runner waits for each anyway); every request gets an answer and an audit row.
 *
 * A manifest operation arrives as `{"call": {"provider", "connection"?, "operation", "args"}}`:
 * the grant must list the operation (else `operation.not_granted`), the arguments must match
 * its schema, and the request rendered from the manifest then takes exactly the same path from
 * check() on, against the grant's authorized URIs or, when the grant lists none, the
 * manifest's (docs/providers.md).
 */
class ProviderBroker : public QObject
{
    Q_OBJECT
public:
    /** More waiting calls than this from one run are refused: a runner cannot queue a flood. */
    static constexpr int MaxQueued = 16;

    struct Setup
    {
        QString runId;
        QString agentId;
        QList<ProviderGrant> grants;
        ProviderCallOptions options;
        SecretStore* secrets = nullptr; ///< for the default CredentialSource; may be null
        /** Connection records: the default CredentialSource and operations' base URLs. */
        Store* store = nullptr;
        /** Null: the built-in manifests only. */
        std::shared_ptr<const ProviderCatalog> catalog;
        SecretRedactor modelRedactor; ///< the run's model key
        std::shared_ptr<CancelToken> cancel;
        /** Writes the `provider.call` audit row (details only). */
        std::function<void(const QJsonObject& details)> audit;
        /** Sends a message to the runner. */
        std::function<void(const QJsonObject& message)> send;
    };

    explicit ProviderBroker(Setup setup, QObject* parent = nullptr);
    ~ProviderBroker() override;

    /** A `provider` message (its id already checked). It is always answered. */
    void submit(const QJsonValue& id, const QJsonObject& message);
    /** A call is running or waiting. */
    bool busy() const { return m_inFlight || !m_queue.isEmpty(); }

    /** Provider calls run on this pool, apart from model calls, so neither starves the other. */
    static QThreadPool* pool();

signals:
    /** The answer went to the runner and the audit row was written. */
    void callFinished(const QJsonObject& answer, const QJsonObject& audit);

private:
    struct Pending
    {
        QJsonValue id;
        std::expected<ProviderCallRequest, QString> request;
        QElapsedTimer received;
    };

    void startNext();
    /** An operation call as a raw request, and the grant (with its effective URIs) it uses. */
    std::expected<std::pair<ProviderCallRequest, ProviderGrant>, ProviderCallError>
    resolveOperation(const ProviderCallRequest& request) const;
    /** false: refused (answered and audited). */
    bool dispatch(Pending& pending);
    void onDone(const Pending& pending, const CheckedCall& call, const QString& credentialState,
                const ProviderCallOutcome& outcome);
    void refuse(const Pending& pending, const ProviderCallError& error, const QJsonObject& context);
    void finish(const QJsonObject& answer, const QJsonObject& audit);
    /** provider, connection, method, url: what the audit row says about the request. */
    QJsonObject requestContext(const Pending& pending) const;
    static QJsonObject callContext(const CheckedCall& call, const QString& operation);

    Setup m_setup;
    ProviderCallPolicy m_policy;
    std::shared_ptr<const ProviderCatalog> m_catalog;
    std::shared_ptr<CredentialSource> m_credentials;
    std::shared_ptr<const HostResolver> m_resolver;
    QSet<QString> m_localEndpoints;  ///< normalized host:port
    ResponseScrubber m_textScrubber; ///< the model key: for what the audit row quotes back
    QList<Pending> m_queue;
    bool m_inFlight = false;
};

} // namespace vivarium
