// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "StoreMigrations.h"

#include <array>

namespace vivarium::storedetail {

namespace {

// Timestamps are ISO 8601 UTC with milliseconds (text sorts in time order). JSON columns hold
// compact JSON text.

constexpr std::array<const char*, 3> V1{
    R"sql(CREATE TABLE agents (
        id TEXT PRIMARY KEY NOT NULL,
        created_at TEXT NOT NULL,
        removed_at TEXT NULL,
        current_version INTEGER NOT NULL
    ))sql",
    R"sql(CREATE TABLE agent_versions (
        agent_id TEXT NOT NULL REFERENCES agents(id),
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        name TEXT,
        description TEXT,
        model_endpoint TEXT,
        model_name TEXT,
        content_hash TEXT NOT NULL,
        source_path TEXT,
        saved_at TEXT NOT NULL,
        PRIMARY KEY (agent_id, version)
    ))sql",
    // Listing skips removed agents; a partial index keeps agents() one cheap scan.
    R"sql(CREATE INDEX agents_live ON agents(id) WHERE removed_at IS NULL)sql",
};

constexpr std::array<const char*, 4> V2{
    R"sql(CREATE TABLE runs (
        id TEXT PRIMARY KEY NOT NULL,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        agent_version INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'starting', 'running',
            'awaiting_approval', 'succeeded', 'failed', 'timed_out', 'cancelled',
            'interrupted', 'skipped', 'missed')),
        reason TEXT,
        "trigger" TEXT,
        input TEXT,
        output TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        FOREIGN KEY (agent_id, agent_version) REFERENCES agent_versions(agent_id, version)
    ))sql",
    R"sql(CREATE INDEX runs_agent ON runs(agent_id, id))sql",
    R"sql(CREATE INDEX runs_status ON runs(status))sql",
    // Append-only journal; (run_id, seq) is the only access path, so no rowid is needed.
    R"sql(CREATE TABLE run_events (
        run_id TEXT NOT NULL REFERENCES runs(id),
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID)sql",
};

constexpr std::array<const char*, 8> V3{
    // Metadata only: the API key lives in the vault under secret_key.
    R"sql(CREATE TABLE model_endpoints (
        name TEXT PRIMARY KEY NOT NULL,
        api TEXT NOT NULL CHECK (api IN ('openai', 'anthropic')),
        base_url TEXT NOT NULL,
        secret_key TEXT,
        input_price_per_mtok REAL,
        output_price_per_mtok REAL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ))sql",
    // Append-only and hash-chained: each row carries the hash of the previous one.
    R"sql(CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        run_id TEXT,
        agent_id TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    ))sql",
    R"sql(CREATE INDEX audit_run ON audit(run_id) WHERE run_id IS NOT NULL)sql",
    // What a run consumed, kept current while it runs (cost NULL = unpriced).
    R"sql(ALTER TABLE runs ADD COLUMN steps INTEGER NOT NULL DEFAULT 0)sql",
    R"sql(ALTER TABLE runs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0)sql",
    R"sql(ALTER TABLE runs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0)sql",
    R"sql(ALTER TABLE runs ADD COLUMN cost_usd REAL)sql",
    R"sql(ALTER TABLE runs ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0)sql",
};

constexpr std::array<const char*, 6> V4{
    // Metadata only: what fires is recorded as runs (trigger "schedule:<id>"), skipped and
    // missed fires included. tz is always an explicit IANA id (the system zone is resolved
    // when a schedule is saved) except for rows backfilled below, where '' = system zone.
    // updated_at moves on every change of what or whether it fires (spec, pause, resume):
    // fires count from max(last_fire_at, updated_at), so nothing is "missed" while paused.
    R"sql(CREATE TABLE schedules (
        id TEXT PRIMARY KEY NOT NULL,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        source TEXT NOT NULL CHECK (source IN ('agent', 'cli')),
        cron TEXT NOT NULL,
        tz TEXT NOT NULL,
        overlap TEXT NOT NULL CHECK (overlap IN ('skip', 'queue_one', 'allow')),
        misfire TEXT NOT NULL CHECK (misfire IN ('run_once', 'skip')),
        misfire_max_age_s INTEGER NOT NULL CHECK (misfire_max_age_s >= 0),
        jitter_s INTEGER NOT NULL DEFAULT 0 CHECK (jitter_s >= 0),
        input TEXT,
        paused INTEGER NOT NULL DEFAULT 0,
        spec TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_fire_at TEXT,
        next_fire_at TEXT,
        pending_fire_at TEXT
    ))sql",
    R"sql(CREATE INDEX schedules_agent ON schedules(agent_id))sql",
    // One counter bumped by every change of what fires, so a running engine notices changes
    // made by other processes (the CLI) with one cheap read instead of diffing every row.
    R"sql(CREATE TABLE schedule_generation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    ))sql",
    R"sql(INSERT INTO schedule_generation (id, value) VALUES (1, 1))sql",
    // Agents saved before this version keep their schedules: one row per entry of the
    // current definition, ids "<agent>#<n>" as Store::saveAgent assigns them. spec stays NULL
    // so the next save of the agent replaces them with fully resolved rows.
    R"sql(INSERT INTO schedules (id, agent_id, source, cron, tz, overlap, misfire,
            misfire_max_age_s, jitter_s, input, paused, spec, created_at, updated_at)
        SELECT a.id || '#' || (s.key + 1), a.id, 'agent',
            json_extract(s.value, '$.cron'), COALESCE(json_extract(s.value, '$.tz'), ''),
            COALESCE(json_extract(s.value, '$.overlap'), 'skip'),
            COALESCE(json_extract(s.value, '$.misfire'), 'run_once'),
            COALESCE(json_extract(s.value, '$.misfire_max_age'), 3600),
            COALESCE(json_extract(s.value, '$.jitter'), 0), NULL,
            CASE WHEN json_extract(s.value, '$.enabled') = 0 THEN 1 ELSE 0 END, NULL,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        FROM agents a JOIN agent_versions v
            ON v.agent_id = a.id AND v.version = a.current_version,
            json_each(v.definition, '$.schedules') s
        WHERE a.removed_at IS NULL)sql",
    // The instant a schedule fired for: what `runs list` shows beside skipped/missed entries.
    R"sql(ALTER TABLE runs ADD COLUMN scheduled_for TEXT)sql",
};

// Typed settings (core/Settings.h).
constexpr const char* V5[] = {
    R"sql(CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ))sql",
};

// Provider connections: metadata only, secrets stay in the SecretStore.
constexpr const char* V6[] = {
    R"sql(CREATE TABLE connections (
        name TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        auth TEXT NOT NULL CHECK (auth IN ('oauth2', 'api_key', 'basic', 'none')),
        account TEXT,
        scopes TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'untested'
            CHECK (status IN ('ok', 'needs_reconnect', 'error', 'untested')),
        status_reason TEXT,
        expires_at TEXT,
        checked_at TEXT,
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ))sql",
    R"sql(CREATE INDEX connections_provider ON connections(provider))sql",
};

// HTTP API: API keys (hashed) and Idempotency-Key records. Owned by StoreApi.cpp.
// A key's secret is never stored: only its SHA-256 and the non-secret lookup prefix.
constexpr const char* V7[] = {
    R"sql(CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        prefix TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        hash BLOB NOT NULL CHECK (length(hash) = 32),
        scopes TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    ))sql",
    R"sql(CREATE UNIQUE INDEX api_keys_live_name ON api_keys(name) WHERE revoked_at IS NULL)sql",
    R"sql(CREATE TABLE idempotency_keys (
        api_key_id TEXT NOT NULL REFERENCES api_keys(id),
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        result_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (api_key_id, key)
    ))sql",
    R"sql(CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at))sql",
    R"sql(CREATE INDEX runs_trigger ON runs("trigger"))sql",
};

// Webhook subscriptions, the delivery outbox and its attempt log. Owned by StoreWebhooks.cpp.
// Signing secrets live in the SecretStore; rows only name their vault keys.
constexpr const char* V8[] = {
    R"sql(CREATE TABLE webhooks (
        id TEXT PRIMARY KEY NOT NULL,
        url TEXT NOT NULL,
        events TEXT NULL,
        description TEXT,
        run_id TEXT NULL REFERENCES runs(id) ON DELETE CASCADE,
        secret_ref TEXT NOT NULL,
        previous_secret_ref TEXT NULL,
        previous_expires_at TEXT NULL,
        enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        disabled_reason TEXT,
        disabled_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        rotated_at TEXT NULL
    ))sql",
    R"sql(CREATE INDEX webhooks_run ON webhooks(run_id) WHERE run_id IS NOT NULL)sql",
    R"sql(CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY NOT NULL,
        webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_type TEXT NOT NULL,
        event_key TEXT NOT NULL,
        run_id TEXT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NULL,
        last_status_code INTEGER NULL,
        last_error TEXT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT NULL
    ))sql",
    // One delivery per event and subscription, however often the event is reported.
    R"sql(CREATE UNIQUE INDEX webhook_deliveries_event
        ON webhook_deliveries(webhook_id, event_key))sql",
    // The dispatcher's question: what is due next.
    R"sql(CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
        WHERE status = 'pending')sql",
    R"sql(CREATE TABLE webhook_attempts (
        delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        duration_ms INTEGER NULL,
        status_code INTEGER NULL,
        error TEXT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN
            ('in_flight', 'succeeded', 'retry', 'failed', 'dead', 'interrupted')),
        next_attempt_at TEXT NULL,
        PRIMARY KEY (delivery_id, attempt)
    ))sql",
    R"sql(CREATE INDEX webhook_attempts_in_flight ON webhook_attempts(delivery_id)
        WHERE outcome = 'in_flight')sql",
};

constexpr std::array<Migration, 8> All{{
    {1, "agents and agent versions", V1},
    {2, "runs and run events", V2},
    {3, "model endpoints, audit trail, run usage", V3},
    {4, "schedules, scheduled_for of runs", V4},
    {5, "settings", V5},
    {6, "provider connections", V6},
    {7, "API keys, idempotency keys", V7},
    {8, "webhooks and their delivery outbox", V8},
}};

} // namespace

std::span<const Migration> migrations()
{
    return All;
}

} // namespace vivarium::storedetail
