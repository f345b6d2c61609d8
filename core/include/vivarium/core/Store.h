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
