// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Error.h"
#include "vivarium/core/Run.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace vivarium {

/** One stored version of an agent. */
struct AgentRecord
{
    QString id;
    int version = 0;       ///< this record's version
    int latestVersion = 0; ///< the agent's current version
    AgentDefinition definition;
    QString sourcePath;  ///< where it was loaded from, informative
    QString contentHash; ///< SHA-256 of the canonical JSON
    QDateTime createdAt; ///< when the agent was first added
    QDateTime savedAt;   ///< when this version was saved
};

/** What a listing shows of an agent, read without parsing its whole definition. */
struct AgentSummary
{
    QString id;
    int version = 0;
    QString name;
    QString description;
    QString modelEndpoint;
    QString modelName;
    int scheduleCount = 0;
    int providerCount = 0;
    QString sandboxTier;
    QDateTime createdAt;
    QDateTime savedAt;
};

/** Version list entry. */
struct AgentVersionInfo
{
    int version = 0;
    QDateTime savedAt;
    QString sourcePath;
    QString contentHash;
};

/** A model endpoint profile (`vivarium model add`). Metadata only: the key is in the vault. */
struct ModelEndpointRecord
{
    QString name;
    QString api;       ///< "openai" | "anthropic"
    QString baseUrl;   ///< as the vendors' SDKs take it (OpenAI-compatible ones include /v1)
    QString secretKey; ///< vault key holding the API key; empty = no key (local servers)
    std::optional<double> inputPricePerMTok; ///< overrides the built-in price table
    std::optional<double> outputPricePerMTok;
    QDateTime createdAt;
    QDateTime updatedAt;
};

/** One row of the append-only, hash-chained audit trail. */
struct AuditRecord
{
    qint64 id = 0;
    QDateTime ts;
    QString actor;  ///< "cli:<user>", "schedule:<id>", "api:<key name>", "engine"
    QString action; ///< run.queued, run.started, run.finished, llm.call, agent.saved, ...
    QString runId;
    QString agentId;
    QJsonObject details; ///< never a secret value
    QString prevHash;    ///< hex SHA-256 of the previous row ("" for the first)
    QString hash;        ///< hex SHA-256 over prevHash and this row's fields
};

/** Outcome of checking the audit chain. */
struct AuditVerification
{
    bool ok = true;
    qint64 checked = 0;
    qint64 firstBadId = 0; ///< the first row whose hash or link does not match
    QString problem;
};

/**
 * A connection to a provider (`vivarium connect`): metadata and health only. Its secrets
 * (access/refresh token, API key) live in the SecretStore under
 * `connection/<provider>/<name>/...`, never here.
 */
struct ConnectionRecord
{
    QString name;     ///< unique across providers; agents' grants name it
    QString provider; ///< manifest id
    QString auth;     ///< "oauth2" | "api_key" | "basic" | "none"
    QString account;  ///< who it is, when the provider says (email, workspace); may be empty
    QStringList scopes; ///< granted (OAuth), else empty
    /** "ok" | "needs_reconnect" | "error" | "untested". */
    QString status = QStringLiteral("untested");
    QString statusReason;   ///< a sentence for a human when not ok
    QDateTime expiresAt;    ///< the access token's expiry (OAuth), else invalid
    QDateTime checkedAt;    ///< last `connections test` or refresh
    QJsonObject meta;       ///< non-secret details (token_type, client_id, ...)
    QDateTime createdAt;
    QDateTime updatedAt;
};

/** Outcome of saving a definition. */
struct SaveResult
{
    int version = 0;
    bool created = false;  ///< false: identical to the current version, nothing written
    bool newAgent = false; ///< true: first version of this id (or re-added after rm)
};

/**
 * A schedule (DESIGN section 6): when to start runs of an agent. Metadata only: every fire is
 * a run with trigger "schedule:<id>", skipped and missed fires included (status skipped or
 * missed, with a reason and scheduledFor).
 */
struct ScheduleRecord
{
    /**
     * "<agent>#<n>" for the n-th (1-based) schedule of an agent's definition, stable across
     * saves of the agent; "sch_" + 8 random base32 characters for one added with the CLI.
     */
    QString id;
    QString agentId;
    QString source = QStringLiteral("cli"); ///< "agent" (its definition) | "cli"
    QString cron;
    /** IANA id. Saves resolve an empty one to the system zone, so every process agrees. */
    QString tz;
    QString overlap = QStringLiteral("skip");     ///< skip | queue_one | allow
    QString misfire = QStringLiteral("run_once"); ///< run_once | skip
    int misfireMaxAgeS = 3600;
    int jitterS = 0;
    QJsonValue input; ///< the runs' input; null for none
    bool paused = false;
    QDateTime createdAt;
    /** Last change of what or whether it fires: fires are due from max(this, lastFireAt). */
    QDateTime updatedAt;
    QDateTime lastFireAt;    ///< scheduled instant of the last fire handled (UTC)
    QDateTime nextFireAt;    ///< as the engine last planned it; informative
    QDateTime pendingFireAt; ///< queue_one: a fire waiting for the live run to end
};

/** The scheduler's bookkeeping for one schedule; writing it never moves updatedAt. */
struct ScheduleFireState
{
    QString id;
    QDateTime lastFireAt;
    QDateTime nextFireAt;
    QDateTime pendingFireAt;
};

/**
 * The engine's only state: one SQLite database (WAL, foreign keys, ordered migrations).
 *
 * Threading: a Store owns one named Qt Sql connection and must be used from the thread that
 * opened it. Several processes may open the same file at once (the CLI beside a running
 * engine); writers wait up to the busy timeout, then get Error::Code::Locked.
 */
class Store
{
public:
    struct Options
    {
        /** Apply migrations up to this version only (tests of upgrades). Default: latest. */
        std::optional<int> migrateTo;
        /** Milliseconds a writer waits for another process's write lock. */
        int busyTimeoutMs = 5000;
        /** Open read-only: no migrations; fails with Unsupported if the schema is older. */
        bool readOnly = false;
    };

    /**
     * Open (creating if needed) the database at `path` and migrate it to the latest schema in
     * one transaction per migration. Errors: Io (directory not writable), Database (not a
     * SQLite file, corrupt, migration failed: nothing of that migration is kept),
     * Unsupported (written by a newer Vivarium: schema version above latestSchemaVersion()).
     */
    static Result<std::unique_ptr<Store>> open(const QString& path, const Options& options);
    static Result<std::unique_ptr<Store>> open(const QString& path)
    {
        return open(path, Options{});
    }

    /** Highest schema version this build knows. */
    static int latestSchemaVersion();

    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    QString path() const;
    int schemaVersion() const;
    /** "wal" when all is well. */
    QString journalMode() const;
    /** SQLite library version string. */
    QString sqliteVersion() const;
    /** PRAGMA integrity_check == "ok". */
    Result<bool> integrityCheck() const;

    // --- agents ---------------------------------------------------------------------------

    /** Save a definition as a new version unless identical (by content hash) to the current. */
    Result<SaveResult> saveAgent(const AgentDefinition& def, const QString& sourcePath = {});
    /** Current (or given) version of an agent. NotFound names the id (and version). */
    Result<AgentRecord> agent(const QString& id, std::optional<int> version = {}) const;
    /** Current version of every agent that is not removed, ordered by id. */
    Result<QList<AgentRecord>> agents() const;
    /**
     * The listing view of every agent not removed, ordered by id. Cheap (one query, no
     * definition parsing): what `agent list` and the GUI show for 1,000 agents.
     */
    Result<QList<AgentSummary>> agentSummaries() const;
    /** All versions, newest first. */
    Result<QList<AgentVersionInfo>> agentVersions(const QString& id) const;
    /** Remove an agent: it disappears from listings; its versions and runs stay readable. */
    Status removeAgent(const QString& id);

    // --- model endpoints ------------------------------------------------------------------

    /** Insert or replace by name (createdAt kept on replace). */
    Status saveModelEndpoint(const ModelEndpointRecord& endpoint);
    Result<ModelEndpointRecord> modelEndpoint(const QString& name) const;
    /** Ordered by name. */
    Result<QList<ModelEndpointRecord>> modelEndpoints() const;
    /** NotFound if absent. */
    Status removeModelEndpoint(const QString& name);

    // --- audit ----------------------------------------------------------------------------

    /**
     * Append a row: id, ts (if invalid), prevHash and hash are filled in, inside one
     * transaction so concurrent writers (several processes) still form one chain.
     */
    Result<AuditRecord> appendAudit(const AuditRecord& record);
    /** Rows in id order; only those of `runId` if given; the last `limit` if > 0. */
    Result<QList<AuditRecord>> auditRecords(const QString& runId = {}, int limit = 0) const;
    /** Recompute the whole chain; the first row that does not match is reported. */
    Result<AuditVerification> verifyAudit() const;

    // --- runs -----------------------------------------------------------------------------

    /** Create a run (NotFound if the agent or version does not exist). */
    Result<RunRecord> createRun(const NewRun& run);
    Result<RunRecord> run(const QString& id) const;
    Result<QList<RunRecord>> runs(const RunFilter& filter = {}) const;
    /**
     * Move a run to `status`. Terminal states are written exactly once: a second terminal
     * write fails with Conflict and changes nothing. Sets started_at/finished_at.
     */
    Status setRunStatus(const QString& id, RunStatus status, const QString& reason = {},
                        const QJsonValue& output = {});
    /** Record what a run consumed so far. */
    Status setRunUsage(const QString& id, const RunUsage& usage);
    /** Mark every non-terminal run `interrupted` (engine start). Returns how many. */
    Result<int> markLiveRunsInterrupted(const QString& reason);

    /**
     * Append events in one transaction; assigns consecutive seq values (written back into
     * `events`) and fills missing timestamps. All or nothing.
     */
    Status appendEvents(const QString& runId, QList<RunEvent>& events);
    /** Events with seq > afterSeq, ascending, at most `limit` (0 = all). */
    Result<QList<RunEvent>> events(const QString& runId, qint64 afterSeq = 0, int limit = 0) const;

    // --- schedules ------------------------------------------------------------------------
    //
    // An agent's own schedules follow its definition: saveAgent() writes one row per entry of
    // `schedules` ("<agent>#<n>"; an unchanged entry keeps its row, and with it its fire
    // history and a CLI pause; a changed one is rewritten and counts fires from the save; extra
    // rows are deleted) and removeAgent() deletes them and pauses the agent's CLI schedules.
    // Both in the same transaction as the agent change.

    /**
     * Add a CLI schedule (source and timestamps assigned, an id from newScheduleId() unless
     * one is given; an empty tz becomes the system zone). NotFound if the agent does not exist
     * or was removed; Conflict if a given id is taken; Validation for a policy name, zone or
     * number out of range (the caller checks the cron text: the store does not parse cron).
     */
    Result<ScheduleRecord> addSchedule(const ScheduleRecord& schedule);
    Result<ScheduleRecord> schedule(const QString& id) const;
    /** Ordered by agent, then id; only the agent's when given. */
    Result<QList<ScheduleRecord>> schedules(const QString& agentId = {}) const;
    /** NotFound; Conflict for an agent's own schedule (edit the agent, or pause it). */
    Status removeSchedule(const QString& id);
    /**
     * Pause or resume. Resuming counts fires from now: nothing paused is reported missed.
     * NotFound; Conflict when resuming a schedule of a removed agent. False: already so.
     */
    Result<bool> setSchedulePaused(const QString& id, bool paused);
    /** The scheduler service's bookkeeping, all rows in one transaction. Unknown ids skipped. */
    Status saveScheduleFireStates(const QList<ScheduleFireState>& states);
    /**
     * Moves on every change of what fires (add, rm, pause, resume, agent save or removal):
     * a running engine polls it to pick up changes other processes made.
     */
    Result<qint64> scheduleGeneration() const;
    /** Runs with a "schedule:" trigger that are not terminal. */
    Result<QList<RunRecord>> liveScheduleRuns() const;
    /** Runs of one schedule (trigger "schedule:<id>"), newest first, at most `limit` (0 = all). */
    Result<QList<RunRecord>> scheduleRuns(const QString& scheduleId, int limit = 0) const;
    /** Record the instant a run was started for (runs created through RunSupervisor). */
    Status setRunScheduledFor(const QString& runId, const QDateTime& scheduledFor);

    // --- settings (typed access: vivarium/core/Settings.h) --------------------------------

    /** A setting's stored text; NotFound when never set. */
    Result<QString> setting(const QString& key) const;
    Status setSetting(const QString& key, const QString& value);
    /** NotFound if absent. */
    Status removeSetting(const QString& key);

    // --- connections (StoreConnections.cpp) -----------------------------------------------

    /** Insert or replace by name (createdAt kept on replace; updatedAt set). */
    Status saveConnection(const ConnectionRecord& connection);
    /** NotFound names the connection. */
    Result<ConnectionRecord> connection(const QString& name) const;
    /** Ordered by name; only the provider's when given. */
    Result<QList<ConnectionRecord>> connections(const QString& provider = {}) const;
    /** NotFound if absent. */
    Status removeConnection(const QString& name);
    /** Health only: status, reason, checkedAt = now (and expiresAt when valid). */
    Status setConnectionStatus(const QString& name, const QString& status,
                               const QString& reason = {}, const QDateTime& expiresAt = {});

    // --- API keys, idempotency (StoreApi.cpp, the HTTP API issue) --------------------------

    /** An API key as stored: never its secret, only a SHA-256 of it and a lookup prefix. */
    struct ApiKeyRecord
    {
        QString id;     ///< "key_" + prefix: what listings and `api-key revoke` name
        QString prefix; ///< the 8 characters after "viv_" (48 of the 256 random bits; not secret)
        QString name;
        QStringList scopes;
        QDateTime createdAt;
        QDateTime lastUsedAt; ///< updated at most about once a minute
        QDateTime revokedAt;  ///< invalid while the key is live
        bool isRevoked() const { return revokedAt.isValid(); }
    };
    /** A key just created: its secret exists here and nowhere else (it is not stored). */
    struct NewApiKey
    {
        ApiKeyRecord record;
        QString secret; ///< "viv_" + 43 base64url characters (32 random bytes)
    };
    /** The first answer to an Idempotency-Key, replayed for a retry of the same request. */
    struct IdempotencyRecord
    {
        QString apiKeyId;
        QString key;         ///< the client's Idempotency-Key
        QString requestHash; ///< hex SHA-256 of method, path and canonical body
        QString resultId;    ///< what the request created (a run id)
        QDateTime createdAt;
    };
    /** Aggregates for GET /metrics, one query each. */
    struct RunMetrics
    {
        QList<QPair<QString, qint64>> byStatus; ///< every status with at least one run
        QList<double> durationBuckets;          ///< upper bounds, seconds
        QList<qint64> durationCounts;           ///< cumulative count per bucket (le)
        qint64 durationCount = 0;               ///< finished runs with a start and an end
        double durationSum = 0;                 ///< seconds
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        double costUsd = 0;
        qint64 unpricedRuns = 0;
    };
    /** GET /v1/runs: newest first. */
    struct RunQuery
    {
        QString agentId;
        std::optional<RunStatus> status;
        /** Exact trigger ("api:ci"), or its kind before the colon ("schedule", "api", "cli"). */
        QString trigger;
        QDateTime since;  ///< created at or after
        QString beforeId; ///< cursor: runs older than this id
        int limit = 50;
    };

    /** Scopes a key may hold, in documentation order. */
    static QStringList apiScopes();
    /**
     * Create a key: "viv_" + 32 random bytes in base64url. Only SHA-256 of it is stored (a
     * fast hash is right for 256 random bits: there is nothing to guess, so nothing for a
     * slow hash to slow down), plus the non-secret prefix for lookup.
     * Validation: name empty, too long (64) or not [A-Za-z0-9 ._-]; no scope; unknown scope.
     * Conflict: a live key already has the name.
     */
    Result<NewApiKey> createApiKey(const QString& name, const QStringList& scopes);
    /** Every key, revoked ones too, oldest first. */
    Result<QList<ApiKeyRecord>> apiKeys() const;
    /** By id ("key_...") or by the name of a live key. NotFound names what was asked. */
    Result<ApiKeyRecord> apiKey(const QString& idOrName) const;
    /** Revoke now; Conflict if already revoked. Returns the revoked record. */
    Result<ApiKeyRecord> revokeApiKey(const QString& idOrName);
    /**
     * The key a presented secret belongs to (hashes compared in constant time), revoked keys
     * included (check isRevoked()); nullopt when no key matches. Never logs the secret.
     */
    Result<std::optional<ApiKeyRecord>> findApiKey(const QString& secret) const;
    /** Record that a key was used at `when`. */
    Status touchApiKey(const QString& id, const QDateTime& when);

    /** The record of (API key, Idempotency-Key), if any younger than 24 hours. */
    Result<std::optional<IdempotencyRecord>> idempotencyRecord(const QString& apiKeyId,
                                                               const QString& key) const;
    /** Insert (records older than 24 hours are purged first); Conflict if it exists. */
    Status saveIdempotencyRecord(const IdempotencyRecord& record);

    Result<RunMetrics> runMetrics() const;
    Result<QList<RunRecord>> queryRuns(const RunQuery& query) const;

    // --- webhooks and deliveries (StoreWebhooks.cpp, the HTTP API issue) -------------------
    //
    // The rows behind WebhookService (server/): subscriptions, the delivery outbox and the
    // attempt log. Signing secrets live in the SecretStore; rows only name their vault keys.

    /** A webhook subscription. */
    struct WebhookRecord
    {
        QString id;  ///< "wh_" + ULID
        QString url; ///< absolute http(s)
        /** Event types it wants; nullopt: every type. */
        std::optional<QStringList> events;
        QString description;
        QString runId;     ///< set: a one-off subscription to this run's run.finished only
        QString secretRef; ///< vault key of the current signing secret
        /** Vault key of the previous secret while it still signs (rotation overlap), else "". */
        QString previousSecretRef;
        QDateTime previousExpiresAt; ///< end of the overlap
        bool enabled = true;
        QString disabledReason; ///< why it stopped (e.g. the receiver answered 410 Gone)
        QDateTime disabledAt;
        QDateTime createdAt;
        QDateTime updatedAt;
        QDateTime rotatedAt; ///< last rotation; invalid if never
    };

    /** One event to one subscription: a row of the outbox. */
    struct WebhookDeliveryRecord
    {
        QString id; ///< "msg_" + ULID: the `webhook-id` header, the same on every attempt
        QString webhookId;
        QString eventType;
        /** What the event is about ("run.finished:<run>"): one delivery per key and webhook. */
        QString eventKey;
        QString runId;
        QByteArray payload; ///< the exact body, as sent on every attempt
        /** pending | delivering | succeeded | failed | dead */
        QString status = QStringLiteral("pending");
        int attempts = 0;
        QDateTime nextAttemptAt; ///< pending: when it is due
        int lastStatusCode = 0;  ///< 0: no HTTP answer
        QString lastError;
        QDateTime createdAt;
        QDateTime updatedAt;
        QDateTime finishedAt; ///< succeeded, failed or dead
    };

    /** One HTTP attempt of a delivery. */
    struct WebhookAttemptRecord
    {
        QString deliveryId;
        int attempt = 0; ///< 1-based
        QDateTime startedAt;
        qint64 durationMs = -1; ///< -1: no outcome (in flight, interrupted)
        int statusCode = 0;     ///< 0: no HTTP answer
        QString error;          ///< transport error or a short reason; never a secret
        /** in_flight | succeeded | retry | failed | dead | interrupted */
        QString outcome = QStringLiteral("in_flight");
        QDateTime nextAttemptAt; ///< retry: when the next attempt is due
    };

    /** Insert a subscription (timestamps filled when invalid). Conflict if the id exists. */
    Status insertWebhook(const WebhookRecord& webhook);
    /** NotFound names the id. */
    Result<WebhookRecord> webhook(const QString& id) const;
    /** Every subscription, newest first. */
    Result<QList<WebhookRecord>> webhooks() const;
    /** Delete a subscription with its deliveries and attempts. NotFound. */
    Status removeWebhook(const QString& id);
    /** Rotation: the new secret's vault key, the previous one's and when it stops signing. */
    Status setWebhookSecrets(const QString& id, const QString& secretRef,
                             const QString& previousSecretRef, const QDateTime& previousExpiresAt);
    /**
     * Disable a subscription with a reason; its pending deliveries fail with that reason (one
     * transaction). NotFound. False: it was already disabled.
     */
    Result<bool> disableWebhook(const QString& id, const QString& reason);
    /**
     * Queue deliveries in one transaction (ids, status pending and timestamps filled; a
     * delivery whose (webhookId, eventKey) exists already is skipped). The inserted ones are
     * written back into `deliveries` (others removed from it).
     */
    Status enqueueWebhookDeliveries(QList<WebhookDeliveryRecord>& deliveries);
    /** Pending deliveries of enabled subscriptions due by `now`, earliest first. */
    Result<QList<WebhookDeliveryRecord>> dueWebhookDeliveries(const QDateTime& now,
                                                              int limit) const;
    /** When the next pending delivery of an enabled subscription falls due; invalid if none. */
    Result<QDateTime> nextWebhookDeliveryDue() const;
    /** Deliveries waiting for an attempt (pending or delivering). */
    Result<int> pendingWebhookDeliveryCount() const;
    /**
     * Start an attempt: the delivery becomes `delivering`, its attempt count grows by one, and
     * an `in_flight` attempt row is written (one transaction). NotFound; Conflict if the
     * delivery is not pending.
     */
    Result<WebhookAttemptRecord> beginWebhookAttempt(const QString& deliveryId,
                                                     const QDateTime& startedAt);
    /**
     * Record an attempt's outcome and move its delivery: retry -> pending at
     * attempt.nextAttemptAt; succeeded/failed/dead -> that final state. NotFound when the
     * delivery is gone (its subscription was deleted meanwhile).
     */
    Status finishWebhookAttempt(const WebhookAttemptRecord& attempt);
    /**
     * Engine start: attempts still `in_flight` become `interrupted` with `reason`, their
     * deliveries `pending` and due now (same id). Returns how many.
     */
    Result<int> recoverWebhookAttempts(const QString& reason);
    /** One delivery; NotFound. */
    Result<WebhookDeliveryRecord> webhookDelivery(const QString& id) const;
    /** A subscription's deliveries, newest first, older than `beforeId` when given. */
    Result<QList<WebhookDeliveryRecord>> webhookDeliveries(const QString& webhookId, int limit,
                                                           const QString& beforeId = {}) const;
    /** A delivery's attempts in order. */
    Result<QList<WebhookAttemptRecord>> webhookAttempts(const QString& deliveryId) const;
    /**
     * Runs that ended (any terminal state but skipped/missed) at or after `since` and that
     * some enabled subscription should have got a run.finished for (one created before the
     * run ended whose filter takes run.finished, or the run's own one-off subscription) but
     * has no delivery of: what a crash between the run's end and the outbox write left out.
     */
    Result<QStringList> runsMissingRunFinished(const QDateTime& since) const;

    // --- transactions ---------------------------------------------------------------------

    /**
     * Run `body` in one write transaction (BEGIN IMMEDIATE ... COMMIT): every Store call made
     * inside it commits together or not at all. Rolled back if `body` returns an error (which
     * is returned) or the commit fails. May nest: an inner call (or any Store method) uses a
     * savepoint, so a failing inner step is undone on its own and the outer body may go on.
     * Other processes' writers wait (busy timeout) while it is open: keep it short. Every write
     * (and this) fails with Unsupported on a store opened read-only.
     */
    Status transaction(const std::function<Status()>& body);

private:
    struct Private;
    explicit Store(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

/** A new CLI schedule id: "sch_" + 8 random lower-case Crockford base32 characters. */
QString newScheduleId();

/** A new run id: "run_" + ULID (48-bit ms timestamp, 80 random bits, Crockford base32). */
QString newRunId();

} // namespace vivarium
