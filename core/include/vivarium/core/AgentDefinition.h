// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

#include <optional>

namespace vivarium {

/** Which model an agent talks to: a named endpoint profile plus the model and its parameters. */
struct ModelSpec
{
    QString endpoint; ///< name of a model endpoint (`vivarium model add`)
    QString name;     ///< model name as the endpoint knows it
    std::optional<double> temperature;
    std::optional<double> topP;
    std::optional<int> maxTokens; ///< per model call
};

/** The in-sandbox tools an agent may use. */
struct ToolsSpec
{
    bool memory = true;
    bool files = true;
    bool shell = false;
};

/** One provider an agent may use, through which connection, and with what reach. */
struct ProviderGrant
{
    QString provider;   ///< provider manifest id, e.g. "gmail"
    QString connection; ///< connection name; empty means "the provider's only connection"
    QStringList operations;
    QStringList authorizedUris; ///< `[METHOD ]scheme://host[:port]/path-glob`, `!` prefix denies
};

/** Limits that end a run. */
struct LimitsSpec
{
    int maxSteps = 25;
    int timeoutS = 900;
    std::optional<qint64> maxTokens;
    std::optional<double> maxCostUsd;
};

/** A schedule attached to an agent definition (semantics: DESIGN section 6). */
struct ScheduleSpec
{
    QString cron;
    QString tz;                                   ///< IANA zone; empty = system zone
    QString overlap = QStringLiteral("skip");     ///< skip | queue_one | allow
    QString misfire = QStringLiteral("run_once"); ///< run_once | skip
    std::optional<int> misfireMaxAgeS;
    std::optional<int> jitterS;
    bool enabled = true;
};

/** Isolation tier wanted and the floor the engine must never go below. */
struct SandboxSpec
{
    QString tier = QStringLiteral("bwrap"); ///< none | landlock | bwrap | container
    QString minTier = QStringLiteral("landlock");
};

/** Which actions need a human's approval before they run. */
struct ApprovalSpec
{
    QString mode = QStringLiteral("never"); ///< never | writes | always
};

/**
 * A validated agent definition, prompt resolved inline. Produced by AgentLoader; stored as
 * canonical JSON (toJson) in each agent version.
 */
struct AgentDefinition
{
    QString id;
    QString name;
    QString description;
    QString version; ///< optional semver of the package, informative
    QString prompt;  ///< always resolved: inline text or the content of prompt_file
    ModelSpec model;
    ToolsSpec tools;
    QList<ProviderGrant> providers;
    LimitsSpec limits;
    QJsonValue outputSchema{QJsonValue::Undefined}; ///< Undefined when absent
    QList<ScheduleSpec> schedules;
    SandboxSpec sandbox;
    ApprovalSpec approval;

    /** Canonical JSON with the prompt inline; fed back through AgentLoader it yields *this. */
    QJsonObject toJson() const;
};

/** One problem found in an agent file: which file, where (JSON pointer), what was expected. */
struct Diagnostic
{
    QString file;    ///< path or label of the file, e.g. "agents/triage/agent.json"
    QString pointer; ///< RFC 6901 JSON pointer, "" for the document itself
    QString message; ///< e.g. "expected a string, got number 3"

    /** `file: /pointer: message` (or `file: message` for the whole document). */
    QString toString() const;
};

/** Names that exist on this machine, to warn about dangling references. nullopt = unknown. */
struct KnownReferences
{
    std::optional<QSet<QString>> endpoints;
    std::optional<QSet<QString>> providers;
    std::optional<QSet<QString>> connections;
};

/** A definition that passed validation, with the warnings that did not block it. */
struct LoadedAgent
{
    AgentDefinition definition;
    QList<Diagnostic> warnings;
};

/** Reads and validates agent definitions (DESIGN section 3). Stateless, thread-safe. */
class AgentLoader
{
public:
    /** Largest agent.json or prompt file accepted, in bytes. */
    static constexpr qint64 MaxFileBytes = 1024 * 1024;

    /**
     * Load from a path: a JSON file, or a directory holding `agent.json`.
     * Errors: Io (unreadable, too large), Parse (bad JSON, with line and column),
     * Validation (details: one Diagnostic::toString() per problem; all problems reported).
     */
    static Result<LoadedAgent> loadPath(const QString& path, const KnownReferences& refs = {});

    /**
     * Validate bytes already in memory. `fileLabel` names the source in messages; `baseDir`
     * resolves `prompt_file` (empty: prompt_file is an error).
     */
    static Result<LoadedAgent> loadBytes(const QByteArray& bytes, const QString& fileLabel,
                                         const QString& baseDir, const KnownReferences& refs = {});

    /** True if `id` is a valid agent id: [a-z0-9][a-z0-9_-]{0,63}. */
    static bool isValidId(const QString& id);
};

/**
 * Write an agent as a portable package: if `path` ends in `.json`, one file with the prompt
 * inline; otherwise a directory with `agent.json` (prompt_file: prompt.md) and `prompt.md`.
 * Refuses to overwrite an existing file unless `overwrite`.
 */
Status exportAgent(const AgentDefinition& def, const QString& path, bool overwrite = false);

} // namespace vivarium
