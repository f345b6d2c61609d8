// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "SecretRedactor.h"
#include "SupervisorContext.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/Run.h"
#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/sandbox/LlmClient.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <expected>
#include <memory>
#include <optional>

class QLocalServer;
class QLocalSocket;

namespace vivarium {

class ProviderBroker;
class RunnerProcess;

/**
 * One live run: resolves what it needs (agent version, model endpoint, key), prepares the
 * workspace and the broker socket, spawns the runner and serves it (hello, model calls,
 * events, finish). Every way a run can end funnels through one place that writes the terminal
 * state once, then makes sure nothing of the runner is left before `finished` is emitted.
 */
class RunSession : public QObject
{
    Q_OBJECT
public:
    RunSession(const SupervisorContext& ctx, RunRecord run, QObject* parent = nullptr);
    ~RunSession() override;

    QString runId() const { return m_run.id; }
    /** True once the outcome is decided (the run may still be tearing down). */
    bool isEnding() const { return m_outcome.has_value(); }

    /** Resolve, prepare, spawn. A failure ends the run at once (`finished` may come from here). */
    void start();
    /**
     * If another process wrote a terminal state for this run (`vivarium runs cancel` beside
     * the engine), stop the runner and end the session with that state.
     */
    void checkStore();
    /** End as `cancelled`: SIGTERM, SIGKILL after the grace. False if it is already ending. */
    bool cancel(const QString& reason);
    /**
     * End as `interrupted` now (engine shutdown): SIGKILL, then wait up to `waitMs` for the
     * reap so `finished` is emitted before this returns.
     */
    void interrupt(const QString& reason, int waitMs);

    /** A model call's result, delivered on the supervisor's thread. */
    void onModelResult(const QJsonValue& requestId, int step,
                       const std::expected<LlmResponse, LlmError>& result);

signals:
    /** Terminal state written and no process of the run left. Emitted once. */
    void finished(const QString& runId, vivarium::RunStatus status, const QString& reason);

private:
    /** How to get rid of the runner once the outcome is decided. */
    enum class Stop {
        AwaitExit, ///< it said finish: give it the grace to exit, then SIGKILL
        Terminate, ///< SIGTERM now, SIGKILL after the grace
        KillNow,   ///< SIGKILL now (garbage on the socket, shutdown)
    };

    bool resolve();
    bool prepareDirectories();
    bool openSocket();
    QString shortSocketPath(QString* error) const;

    void onNewConnection();
    void onReadyRead();
    void onDisconnected();
    void onRunnerExited(bool crashed, int code);

    void handleMessage(const QJsonObject& msg);
    void handleHello(const QJsonObject& msg, const QJsonValue& id);
    void handleLlm(const QJsonObject& msg, const QJsonValue& id);
    /** Provider calls go to the broker (docs/broker.md), created at the first one. */
    void handleProvider(const QJsonObject& msg, const QJsonValue& id);
    void handleEvent(const QJsonObject& msg);
    void handleFinish(const QJsonObject& msg, const QJsonValue& id);
    void startNextModelCall();
    void send(const QJsonObject& msg);
    void sendError(const QJsonValue& id, const QString& kind, const QString& message,
                   int httpStatus, bool retryable);

    void failAtOnce(const QString& reason);
    void failProtocol(const QString& detail);
    void conclude(RunStatus status, const QString& reason, const QJsonValue& output, Stop stop);
    /** Another process ended the run in the store: its state stands; stop ours. */
    void endedElsewhere();
    void stopRunner(Stop stop);
    /** Emit `finished` once the runner is gone (`force`: do not wait for the reap). */
    void finalize(bool force = false);

    struct PendingCall
    {
        QJsonValue id;
        LlmRequest request;
    };

    const SupervisorContext& m_ctx;
    RunRecord m_run;
    AgentDefinition m_def;
    EndpointConfig m_endpoint; ///< name and prices; the key lives only in the client
    std::shared_ptr<LlmClient> m_client;
    std::shared_ptr<CancelToken> m_cancel;
    SecretRedactor m_redactor;

    QString m_workspace;
    QString m_memoryDir; ///< empty when the agent has no memory tool
    QString m_socketPath;
    QLocalServer* m_server = nullptr;
    QLocalSocket* m_socket = nullptr;
    protocol::LineReader m_reader;
    RunnerProcess* m_process = nullptr;
    ProviderBroker* m_providers = nullptr; ///< child; null until the first provider call
    /** The provider manifests as they were when the run started; null without providers. */
    std::shared_ptr<const ProviderCatalog> m_catalog;

    QTimer m_wallClock;
    QTimer m_connectTimer;
    QTimer m_disconnectTimer;
    QTimer m_killTimer;
    QElapsedTimer m_clock; ///< from `starting`

    bool m_helloDone = false;
    QList<PendingCall> m_calls; ///< waiting: one model call at a time per run
    bool m_callInFlight = false;
    int m_steps = 0; ///< model calls started
    RunUsage m_usage;

    std::optional<TerminalOutcome> m_outcome;
    bool m_finalized = false;
};

} // namespace vivarium
