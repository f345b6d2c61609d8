// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Store.h"

#include "StoreMigrations.h"
#include "StorePrivate.h"
#include "vivarium/core/Logging.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>
#include <QVariant>

#include <atomic>

namespace vivarium {

namespace {

std::atomic<quint64> g_connectionCounter{0};

} // namespace

namespace {

RunRecord runFromRow(const QSqlQuery& q)
{
    RunRecord r;
    r.id = q.value(0).toString();
    r.agentId = q.value(1).toString();
    r.agentVersion = q.value(2).toInt();
    const QString status = q.value(3).toString();
    const auto parsed = runStatusFromString(status);
    if (!parsed)
        qCWarning(lcStore) << "run" << r.id << "has unknown status" << status;
    r.status = parsed.value_or(RunStatus::Failed);
    r.reason = q.value(4).toString();
    r.trigger = q.value(5).toString();
    r.input = jsonFromDb(q.value(6));
    r.output = jsonFromDb(q.value(7));
    r.createdAt = timeFromDb(q.value(8));
    r.startedAt = timeFromDb(q.value(9));
    r.finishedAt = timeFromDb(q.value(10));
    r.usage.steps = q.value(11).toInt();
    r.usage.inputTokens = q.value(12).toLongLong();
    r.usage.outputTokens = q.value(13).toLongLong();
    r.usage.unpriced = q.value(15).toBool();
    if (!q.value(14).isNull() && !r.usage.unpriced)
        r.usage.costUsd = q.value(14).toDouble();
    r.scheduledFor = timeFromDb(q.value(16));
    return r;
}

} // namespace

Status Store::Private::init()
{
    // Read before writing anything: a foreign or newer file must stay byte-for-byte untouched.
    // The header alone can look fine; parsing the schema catches most other damage.
    int schemaVersion = 0;
    for (const char* sql : {"PRAGMA user_version", "SELECT count(*) FROM sqlite_master"}) {
        QSqlQuery q(db);
        if (!q.exec(QString::fromLatin1(sql))) {
            const QSqlError e = q.lastError();
            const int code = sqliteCode(e);
            if (code != SqliteNotADb && code != SqliteCorrupt)
                return std::unexpected(sqlError(QStringLiteral("read schema"), e));
            const QString msg =
                QStringLiteral("store %1 is not a Vivarium database or is damaged: %2")
                    .arg(path, sqliteMessage(e));
            qCWarning(lcStore).noquote() << msg;
            return fail(Error::Code::Database, msg);
        }
        if (qstrcmp(sql, "PRAGMA user_version") == 0 && q.next())
            schemaVersion = q.value(0).toInt();
    }

    const int latest = Store::latestSchemaVersion();
    if (schemaVersion > latest) {
        return fail(Error::Code::Unsupported,
                    QStringLiteral("store %1 was written by a newer Vivarium (schema %2, this "
                                   "build knows up to %3)")
                        .arg(path)
                        .arg(schemaVersion)
                        .arg(latest));
    }
    if (options.readOnly) {
        if (schemaVersion < latest) {
            return fail(Error::Code::Unsupported,
                        QStringLiteral("store %1 has an older schema (%2, this build needs %3); "
                                       "open it read-write once to upgrade it")
                            .arg(path)
                            .arg(schemaVersion)
                            .arg(latest));
        }
        return execOnly(QStringLiteral("enable foreign keys"),
                        QStringLiteral("PRAGMA foreign_keys = ON"));
    }

    auto mode = exec(QStringLiteral("switch to WAL"), QStringLiteral("PRAGMA journal_mode = WAL"));
    if (!mode)
        return std::unexpected(mode.error());
    const QString modeName = mode->next() ? mode->value(0).toString() : QString();
    mode->finish();
    // Not fatal (some file systems cannot share memory maps); journalMode() lets doctor tell.
    if (modeName.compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0) {
        qCWarning(lcStore).noquote()
            << QStringLiteral("store %1: journal mode is '%2', not 'wal': concurrent readers "
                              "will block writers")
                   .arg(path, modeName);
    }
    for (const char* pragma : {"PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"}) {
        if (auto s = execOnly(QStringLiteral("configure connection"), QString::fromLatin1(pragma));
            !s) {
            return s;
        }
    }
    return migrate(schemaVersion, options.migrateTo.value_or(latest));
}

Status Store::Private::migrate(int current, int target)
{
    for (const Migration& m : storedetail::migrations()) {
        if (m.version <= current)
            continue;
        if (m.version > target)
            break;
        const QString what = QStringLiteral("migration %1 (%2)")
                                 .arg(m.version)
                                 .arg(QString::fromLatin1(m.description));
        Status s = inTransaction(what, [&]() -> Status {
            // Another process may have applied it while we waited for the write lock.
            auto now = userVersion();
            if (!now)
                return std::unexpected(now.error());
            if (*now >= m.version)
                return {};
            for (const char* sql : m.statements) {
                if (auto r = execOnly(what, QString::fromUtf8(sql)); !r)
                    return r;
            }
            // Inside the same transaction: the version moves only if every statement stuck.
            return execOnly(what, QStringLiteral("PRAGMA user_version = %1").arg(m.version));
        });
        if (!s) {
            return fail(s.error().code,
                        QStringLiteral("store %1: %2 failed, schema stays at version %3: %4")
                            .arg(path, what)
                            .arg(current)
                            .arg(s.error().message));
        }
        qCInfo(lcStore).noquote() << QStringLiteral("store %1: applied %2").arg(path, what);
        current = m.version;
    }
    return {};
}

Store::Store(std::unique_ptr<Private> dd)
    : d(std::move(dd))
{}

Store::~Store() = default;

int Store::latestSchemaVersion()
{
    return storedetail::migrations().back().version;
}

Result<std::unique_ptr<Store>> Store::open(const QString& path, const Options& options)
{
    const QFileInfo info(path);
    const QString absPath = info.absoluteFilePath();
    const QString dir = info.absolutePath();
    if (!QFileInfo(dir).isDir()) {
        return fail(
            Error::Code::Io,
            QStringLiteral("cannot open store %1: directory %2 does not exist").arg(absPath, dir));
    }
    if (info.exists() && !info.isFile()) {
        return fail(Error::Code::Io,
                    QStringLiteral("cannot open store %1: not a regular file").arg(absPath));
    }
    if (options.readOnly) {
        if (!info.exists()) {
            return fail(Error::Code::Io,
                        QStringLiteral("cannot open store %1 read-only: the file does not exist")
                            .arg(absPath));
        }
        if (!info.isReadable()) {
            return fail(Error::Code::Io,
                        QStringLiteral("cannot open store %1: not readable").arg(absPath));
        }
    } else {
        if (info.exists() && !info.isWritable()) {
            return fail(Error::Code::Io,
                        QStringLiteral("cannot open store %1: not writable").arg(absPath));
        }
        // WAL keeps two side files (-wal, -shm) next to the database.
        if (!QFileInfo(dir).isWritable()) {
            return fail(Error::Code::Io,
                        QStringLiteral("cannot open store %1: directory %2 is not writable")
                            .arg(absPath, dir));
        }
    }
    const int latest = latestSchemaVersion();
    if (options.migrateTo && (*options.migrateTo < 0 || *options.migrateTo > latest)) {
        return fail(Error::Code::Unsupported,
                    QStringLiteral("cannot migrate store %1 to schema %2: this build knows up "
                                   "to %3")
                        .arg(absPath)
                        .arg(*options.migrateTo)
                        .arg(latest));
    }

    auto d = std::make_unique<Private>();
    d->path = absPath;
    d->options = options;
    d->connectionName = QStringLiteral("vivarium-store-%1").arg(++g_connectionCounter);
    d->db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), d->connectionName);
    if (!d->db.isValid()) {
        return fail(Error::Code::Database,
                    QStringLiteral("cannot open store %1: the Qt SQLite driver (QSQLITE) is not "
                                   "available")
                        .arg(absPath));
    }
    d->db.setDatabaseName(absPath);
    QString connectOptions =
        QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(qMax(0, options.busyTimeoutMs));
    if (options.readOnly)
        connectOptions += QStringLiteral(";QSQLITE_OPEN_READONLY");
    d->db.setConnectOptions(connectOptions);
    if (!d->db.open()) {
        const QSqlError e = d->db.lastError();
        const QString msg =
            QStringLiteral("cannot open store %1: %2").arg(absPath, sqliteMessage(e));
        qCWarning(lcStore).noquote() << msg;
        return fail(sqliteCode(e) == SqliteCantOpen ? Error::Code::Io : Error::Code::Database, msg);
    }

    if (auto s = d->init(); !s)
        return std::unexpected(s.error());
    d->schema = d->userVersion().value_or(0);
    return std::unique_ptr<Store>(new Store(std::move(d)));
}

QString Store::path() const
{
    return d->path;
}

int Store::schemaVersion() const
{
    return d->userVersion().value_or(-1);
}

QString Store::journalMode() const
{
    auto q = d->exec(QStringLiteral("read journal mode"), QStringLiteral("PRAGMA journal_mode"));
    return q && q->next() ? q->value(0).toString().toLower() : QString();
}

QString Store::sqliteVersion() const
{
    auto q =
        d->exec(QStringLiteral("read SQLite version"), QStringLiteral("SELECT sqlite_version()"));
    return q && q->next() ? q->value(0).toString() : QString();
}

Result<bool> Store::integrityCheck() const
{
    auto q = d->exec(QStringLiteral("check integrity"), QStringLiteral("PRAGMA integrity_check"));
    if (!q)
        return std::unexpected(q.error());
    QStringList problems;
    while (q->next())
        problems << q->value(0).toString();
    if (problems == QStringList{QStringLiteral("ok")})
        return true;
    qCWarning(lcStore).noquote() << QStringLiteral("store %1: integrity check failed:\n%2")
                                        .arg(d->path, problems.join(QLatin1Char('\n')));
    return false;
}

Status Store::transaction(const std::function<Status()>& body)
{
    return d->inTransaction(QStringLiteral("run a transaction"), body);
}

// --- agents -------------------------------------------------------------------------------

Result<SaveResult> Store::saveAgent(const AgentDefinition& def, const QString& sourcePath)
{
    if (!AgentLoader::isValidId(def.id)) {
        return fail(Error::Code::Validation,
                    QStringLiteral("cannot save agent: invalid id '%1'").arg(def.id));
    }
    const QByteArray json = QJsonDocument(def.toJson()).toJson(QJsonDocument::Compact);
    // Never store what cannot be read back: one unreadable row would break agents() for all.
    if (auto check =
            AgentLoader::loadBytes(json, QStringLiteral("agent %1").arg(def.id), QString(), {});
        !check) {
        return fail(Error::Code::Validation,
                    QStringLiteral("cannot save agent '%1': %2").arg(def.id, check.error().message),
                    check.error().details);
    }
    const QString hash =
        QString::fromLatin1(QCryptographicHash::hash(json, QCryptographicHash::Sha256).toHex());
    const QString purpose = QStringLiteral("save agent '%1'").arg(def.id);

    SaveResult out;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        auto row = d->exec(purpose,
                           QStringLiteral("SELECT a.current_version, a.removed_at, v.content_hash "
                                          "FROM agents a LEFT JOIN agent_versions v "
                                          "ON v.agent_id = a.id AND v.version = a.current_version "
                                          "WHERE a.id = ?"),
                           {def.id});
        if (!row)
            return std::unexpected(row.error());
        const bool exists = row->next();
        const int current = exists ? row->value(0).toInt() : 0;
        const bool removed = exists && !row->value(1).isNull();
        const QString currentHash = exists ? row->value(2).toString() : QString();
        row->finish();

        if (exists && !removed && currentHash == hash) {
            out = SaveResult{current, false, false};
            return {};
        }
        const QString now = nowText();
        // Numbering continues after a removal so old runs keep pointing at the right version.
        const int version = current + 1;
        Status w;
        if (!exists) {
            w = d->execOnly(purpose,
                            QStringLiteral("INSERT INTO agents (id, created_at, removed_at, "
                                           "current_version) VALUES (?, ?, NULL, ?)"),
                            {def.id, now, version});
        } else {
            w = d->execOnly(purpose,
                            QStringLiteral("UPDATE agents SET current_version = ?, removed_at = "
                                           "NULL WHERE id = ?"),
                            {version, def.id});
        }
        if (!w)
            return w;
        w = d->execOnly(purpose,
                        QStringLiteral("INSERT INTO agent_versions (agent_id, version, definition, "
                                       "name, description, model_endpoint, model_name, "
                                       "content_hash, source_path, saved_at) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                        {def.id, version, QString::fromUtf8(json), textOrNull(def.name),
                         textOrNull(def.description), textOrNull(def.model.endpoint),
                         textOrNull(def.model.name), hash, textOrNull(sourcePath), now});
        if (!w)
            return w;
        if (w = d->syncAgentSchedules(def, now); !w)
            return w;
        out = SaveResult{version, true, !exists || removed};
        return {};
    });
    if (!s)
        return std::unexpected(s.error());
    return out;
}

Result<AgentRecord> Store::Private::agentFromRow(const QSqlQuery& q) const
{
    // Columns: id, created_at, current_version, version, definition, content_hash,
    // source_path, saved_at.
    AgentRecord r;
    r.id = q.value(0).toString();
    r.createdAt = timeFromDb(q.value(1));
    r.latestVersion = q.value(2).toInt();
    r.version = q.value(3).toInt();
    r.contentHash = q.value(5).toString();
    r.sourcePath = q.value(6).toString();
    r.savedAt = timeFromDb(q.value(7));
    auto loaded = AgentLoader::loadBytes(q.value(4).toString().toUtf8(),
                                         agentLabel(r.id, r.version), QString(), {});
    if (!loaded) {
        const QString msg = QStringLiteral("store %1: stored definition of agent '%2' v%3 no "
                                           "longer loads: %4")
                                .arg(path, r.id)
                                .arg(r.version)
                                .arg(loaded.error().toString());
        qCWarning(lcStore).noquote() << msg;
        return fail(Error::Code::Database, msg);
    }
    r.definition = std::move(loaded->definition);
    return r;
}

Result<AgentRecord> Store::agent(const QString& id, std::optional<int> version) const
{
    const QString purpose = QStringLiteral("read agent '%1'").arg(id);
    auto head = d->exec(
        purpose, QStringLiteral("SELECT current_version, removed_at FROM agents WHERE id = ?"),
        {id});
    if (!head)
        return std::unexpected(head.error());
    if (!head->next())
        return fail(Error::Code::NotFound, QStringLiteral("agent '%1' not found").arg(id));
    const int current = head->value(0).toInt();
    const QVariant removedAt = head->value(1);
    head->finish();
    // History stays readable by explicit version; only "the current one" stops existing.
    if (!version && !removedAt.isNull()) {
        return fail(Error::Code::NotFound,
                    QStringLiteral("agent '%1' was removed at %2").arg(id, removedAt.toString()));
    }
    auto q = d->exec(purpose,
                     QStringLiteral("SELECT a.id, a.created_at, a.current_version, v.version, "
                                    "v.definition, v.content_hash, v.source_path, v.saved_at "
                                    "FROM agents a JOIN agent_versions v ON v.agent_id = a.id "
                                    "WHERE a.id = ? AND v.version = ?"),
                     {id, version.value_or(current)});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next()) {
        return fail(
            Error::Code::NotFound,
            QStringLiteral("agent '%1' has no version %2").arg(id).arg(version.value_or(current)));
    }
    return d->agentFromRow(*q);
}

Result<QList<AgentRecord>> Store::agents() const
{
    auto q = d->exec(QStringLiteral("list agents"),
                     QStringLiteral("SELECT a.id, a.created_at, a.current_version, v.version, "
                                    "v.definition, v.content_hash, v.source_path, v.saved_at "
                                    "FROM agents a JOIN agent_versions v "
                                    "ON v.agent_id = a.id AND v.version = a.current_version "
                                    "WHERE a.removed_at IS NULL ORDER BY a.id"));
    if (!q)
        return std::unexpected(q.error());
    QList<AgentRecord> out;
    while (q->next()) {
        auto r = d->agentFromRow(*q);
        if (!r)
            return std::unexpected(r.error());
        out.append(std::move(*r));
    }
    return out;
}

Result<QList<AgentSummary>> Store::agentSummaries() const
{
    // SQLite's JSON functions read the few fields a listing needs straight from the stored
    // canonical JSON; parsing 1,000 definitions in Qt would cost most of the CLI's budget.
    auto q = d->exec(QStringLiteral("list agent summaries"),
                     QStringLiteral("SELECT a.id, v.version, v.name, v.description, "
                                    "v.model_endpoint, v.model_name, "
                                    "COALESCE(json_array_length(v.definition, '$.schedules'), 0), "
                                    "COALESCE(json_array_length(v.definition, '$.providers'), 0), "
                                    "COALESCE(json_extract(v.definition, '$.sandbox.tier'), ''), "
                                    "a.created_at, v.saved_at "
                                    "FROM agents a JOIN agent_versions v "
                                    "ON v.agent_id = a.id AND v.version = a.current_version "
                                    "WHERE a.removed_at IS NULL ORDER BY a.id"));
    if (!q)
        return std::unexpected(q.error());
    QList<AgentSummary> out;
    while (q->next()) {
        AgentSummary s;
        s.id = q->value(0).toString();
        s.version = q->value(1).toInt();
        s.name = q->value(2).toString();
        s.description = q->value(3).toString();
        s.modelEndpoint = q->value(4).toString();
        s.modelName = q->value(5).toString();
        s.scheduleCount = q->value(6).toInt();
        s.providerCount = q->value(7).toInt();
        s.sandboxTier = q->value(8).toString();
        s.createdAt = timeFromDb(q->value(9));
        s.savedAt = timeFromDb(q->value(10));
        out.append(std::move(s));
    }
    return out;
}

Result<QList<AgentVersionInfo>> Store::agentVersions(const QString& id) const
{
    const QString purpose = QStringLiteral("list versions of agent '%1'").arg(id);
    auto q = d->exec(purpose,
                     QStringLiteral("SELECT version, saved_at, source_path, content_hash "
                                    "FROM agent_versions WHERE agent_id = ? ORDER BY version DESC"),
                     {id});
    if (!q)
        return std::unexpected(q.error());
    QList<AgentVersionInfo> out;
    while (q->next()) {
        out.append(AgentVersionInfo{q->value(0).toInt(), timeFromDb(q->value(1)),
                                    q->value(2).toString(), q->value(3).toString()});
    }
    if (out.isEmpty())
        return fail(Error::Code::NotFound, QStringLiteral("agent '%1' not found").arg(id));
    return out;
}

Status Store::removeAgent(const QString& id)
{
    const QString purpose = QStringLiteral("remove agent '%1'").arg(id);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q =
            d->exec(purpose, QStringLiteral("SELECT removed_at FROM agents WHERE id = ?"), {id});
        if (!q)
            return std::unexpected(q.error());
        if (!q->next())
            return fail(Error::Code::NotFound, QStringLiteral("agent '%1' not found").arg(id));
        if (!q->value(0).isNull()) {
            return fail(Error::Code::NotFound,
                        QStringLiteral("agent '%1' was already removed at %2")
                            .arg(id, q->value(0).toString()));
        }
        q->finish();
        const QString now = nowText();
        if (auto w = d->execOnly(purpose,
                                 QStringLiteral("UPDATE agents SET removed_at = ? WHERE id = ?"),
                                 {now, id});
            !w) {
            return w;
        }
        if (d->schema < SchedulesSchema)
            return {};
        // Its own schedules go with the definition (re-adding the agent brings them back);
        // schedules added with the CLI stay, paused, so re-adding it lets the operator resume
        // them instead of losing them.
        if (auto w = d->execOnly(
                purpose,
                QStringLiteral("DELETE FROM schedules WHERE agent_id = ? AND source = 'agent'"),
                {id});
            !w) {
            return w;
        }
        if (auto w = d->execOnly(purpose,
                                 QStringLiteral("UPDATE schedules SET paused = 1, updated_at = ?, "
                                                "pending_fire_at = NULL "
                                                "WHERE agent_id = ? AND paused = 0"),
                                 {now, id});
            !w) {
            return w;
        }
        return d->bumpScheduleGeneration(purpose);
    });
}

// --- runs ---------------------------------------------------------------------------------

Result<RunRecord> Store::Private::runById(const QString& id) const
{
    auto q = exec(
        QStringLiteral("read run %1").arg(id),
        QStringLiteral("SELECT %1 FROM runs WHERE id = ?").arg(QLatin1String(RunSelectColumns)),
        {id});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound, QStringLiteral("run '%1' not found").arg(id));
    return runFromRow(*q);
}

Result<RunRecord> Store::createRun(const NewRun& run)
{
    const QString purpose = QStringLiteral("create run of agent '%1'").arg(run.agentId);
    RunRecord r;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        auto head = d->exec(
            purpose, QStringLiteral("SELECT current_version, removed_at FROM agents WHERE id = ?"),
            {run.agentId});
        if (!head)
            return std::unexpected(head.error());
        if (!head->next()) {
            return fail(Error::Code::NotFound,
                        QStringLiteral("agent '%1' not found").arg(run.agentId));
        }
        if (!head->value(1).isNull()) {
            return fail(Error::Code::NotFound, QStringLiteral("agent '%1' was removed at %2")
                                                   .arg(run.agentId, head->value(1).toString()));
        }
        const int version = run.agentVersion.value_or(head->value(0).toInt());
        head->finish();
        if (run.agentVersion) {
            auto v = d->exec(
                purpose,
                QStringLiteral("SELECT 1 FROM agent_versions WHERE agent_id = ? AND version = ?"),
                {run.agentId, version});
            if (!v)
                return std::unexpected(v.error());
            if (!v->next()) {
                return fail(
                    Error::Code::NotFound,
                    QStringLiteral("agent '%1' has no version %2").arg(run.agentId).arg(version));
            }
        }
        const QDateTime now = QDateTime::currentDateTimeUtc();
        r.id = newRunId();
        r.agentId = run.agentId;
        r.agentVersion = version;
        r.status = run.status;
        r.reason = run.reason;
        r.trigger = run.trigger;
        r.input = run.input;
        r.createdAt = now;
        if (run.status == RunStatus::Running || run.status == RunStatus::AwaitingApproval)
            r.startedAt = now;
        if (isTerminal(run.status))
            r.finishedAt = now;
        if (run.scheduledFor.isValid())
            r.scheduledFor = run.scheduledFor.toUTC();
        return d->execOnly(purpose,
                           QStringLiteral("INSERT INTO runs (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                          "?, ?, ?, ?)")
                               .arg(QLatin1String(RunColumns)),
                           {r.id, r.agentId, r.agentVersion, runStatusName(r.status),
                            textOrNull(r.reason), textOrNull(r.trigger), jsonToDb(r.input),
                            QVariant(), timeToDb(r.createdAt), timeToDb(r.startedAt),
                            timeToDb(r.finishedAt), timeToDb(r.scheduledFor)});
    });
    if (!s)
        return std::unexpected(s.error());
    if (r.input.isUndefined())
        r.input = QJsonValue();
    return r;
}

Result<RunRecord> Store::run(const QString& id) const
{
    return d->runById(id);
}

Result<QList<RunRecord>> Store::runs(const RunFilter& filter) const
{
    QString sql =
        QStringLiteral("SELECT %1 FROM runs WHERE 1 = 1").arg(QLatin1String(RunSelectColumns));
    QVariantList binds;
    if (!filter.agentId.isEmpty()) {
        sql += QStringLiteral(" AND agent_id = ?");
        binds << filter.agentId;
    }
    if (filter.status) {
        sql += QStringLiteral(" AND status = ?");
        binds << runStatusName(*filter.status);
    }
    if (!filter.beforeId.isEmpty()) {
        sql += QStringLiteral(" AND id < ?");
        binds << filter.beforeId;
    }
    // Ids are ULIDs: their order is creation order, and they make a stable cursor.
    sql += QStringLiteral(" ORDER BY id DESC");
    if (filter.limit > 0) {
        sql += QStringLiteral(" LIMIT ?");
        binds << filter.limit;
    }
    auto q = d->exec(QStringLiteral("list runs"), sql, binds);
    if (!q)
        return std::unexpected(q.error());
    QList<RunRecord> out;
    while (q->next())
        out.append(runFromRow(*q));
    return out;
}

Status Store::setRunStatus(const QString& id, RunStatus status, const QString& reason,
                           const QJsonValue& output)
{
    const QString purpose =
        QStringLiteral("set status of run %1 to %2").arg(id, runStatusName(status));
    return d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        const bool terminal = isTerminal(status);
        // One guarded UPDATE: a terminal state can never be overwritten, even by a racing
        // writer in another process.
        const QString sql = QStringLiteral("UPDATE runs SET status = ?, "
                                           "reason = COALESCE(?, reason), "
                                           "output = COALESCE(?, output), "
                                           "started_at = CASE WHEN ? AND started_at IS NULL THEN ? "
                                           "ELSE started_at END, "
                                           "finished_at = CASE WHEN ? THEN ? ELSE finished_at END "
                                           "WHERE id = ? AND status NOT IN %1")
                                .arg(QLatin1String(TerminalStatuses));
        auto q = d->exec(purpose, sql,
                         {runStatusName(status), textOrNull(reason), jsonToDb(output),
                          status == RunStatus::Running, now, terminal, now, id});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() == 1)
            return {};
        auto existing = d->runById(id);
        if (!existing)
            return std::unexpected(existing.error());
        return fail(Error::Code::Conflict,
                    QStringLiteral("run %1 already ended (%2); cannot set it to %3")
                        .arg(id, runStatusName(existing->status), runStatusName(status)));
    });
}

Result<int> Store::markLiveRunsInterrupted(const QString& reason)
{
    const QString purpose = QStringLiteral("mark live runs interrupted");
    int count = 0;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose,
                         QStringLiteral("UPDATE runs SET status = 'interrupted', reason = ?, "
                                        "finished_at = ? WHERE status IN %1")
                             .arg(QLatin1String(LiveStatuses)),
                         {textOrNull(reason), nowText()});
        if (!q)
            return std::unexpected(q.error());
        count = q->numRowsAffected();
        return {};
    });
    if (!s)
        return std::unexpected(s.error());
    if (count > 0)
        qCInfo(lcStore) << "marked" << count << "live runs interrupted:" << reason;
    return count;
}

// --- events -------------------------------------------------------------------------------

Status Store::appendEvents(const QString& runId, QList<RunEvent>& events)
{
    if (events.isEmpty())
        return {};
    const QString purpose =
        QStringLiteral("append %1 events to run %2").arg(events.size()).arg(runId);
    // Work on copies: the caller's list only changes once the transaction has committed.
    QList<qint64> seqs;
    QList<QDateTime> stamps;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose,
                         QStringLiteral("SELECT (SELECT 1 FROM runs WHERE id = ?), "
                                        "(SELECT COALESCE(MAX(seq), 0) FROM run_events "
                                        "WHERE run_id = ?)"),
                         {runId, runId});
        if (!q)
            return std::unexpected(q.error());
        if (!q->next() || q->value(0).isNull())
            return fail(Error::Code::NotFound, QStringLiteral("run '%1' not found").arg(runId));
        qint64 seq = q->value(1).toLongLong();
        q->finish();

        if (!d->insertEvent) {
            QSqlQuery insert(d->db);
            if (!insert.prepare(QStringLiteral(
                    "INSERT INTO run_events (run_id, seq, type, ts, data) VALUES (?, ?, ?, ?, ?)")))
                return std::unexpected(d->sqlError(purpose, insert.lastError()));
            d->insertEvent.emplace(std::move(insert));
        }
        QSqlQuery& insert = *d->insertEvent;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        seqs.reserve(events.size());
        stamps.reserve(events.size());
        for (const RunEvent& e : events) {
            ++seq;
            const QDateTime ts = e.ts.isValid() ? e.ts.toUTC() : now;
            insert.bindValue(0, runId);
            insert.bindValue(1, seq);
            insert.bindValue(2, e.type);
            insert.bindValue(3, ts.toString(Qt::ISODateWithMs));
            insert.bindValue(
                4, QString::fromUtf8(QJsonDocument(e.data).toJson(QJsonDocument::Compact)));
            if (!insert.exec()) {
                Error err = d->sqlError(purpose, insert.lastError());
                insert.finish();
                return std::unexpected(std::move(err));
            }
            seqs.append(seq);
            stamps.append(ts);
        }
        insert.finish();
        return {};
    });
    if (!s)
        return s;
    for (qsizetype i = 0; i < events.size(); ++i) {
        events[i].seq = seqs.at(i);
        events[i].ts = stamps.at(i);
    }
    return {};
}

Result<QList<RunEvent>> Store::events(const QString& runId, qint64 afterSeq, int limit) const
{
    const QString purpose = QStringLiteral("read events of run %1").arg(runId);
    QString sql = QStringLiteral(
        "SELECT seq, type, ts, data FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq");
    QVariantList binds{runId, afterSeq};
    if (limit > 0) {
        sql += QStringLiteral(" LIMIT ?");
        binds << limit;
    }
    auto q = d->exec(purpose, sql, binds);
    if (!q)
        return std::unexpected(q.error());
    QList<RunEvent> out;
    while (q->next()) {
        RunEvent e;
        e.seq = q->value(0).toLongLong();
        e.type = q->value(1).toString();
        e.ts = timeFromDb(q->value(2));
        e.data = QJsonDocument::fromJson(q->value(3).toString().toUtf8()).object();
        out.append(std::move(e));
    }
    q->finish();
    if (out.isEmpty()) {
        // Only an empty page needs telling "no events yet" from "no such run".
        auto r = d->runById(runId);
        if (!r)
            return std::unexpected(r.error());
    }
    return out;
}

// --- ids ----------------------------------------------------------------------------------

Status Store::setRunUsage(const QString& id, const RunUsage& usage)
{
    const QString purpose = QStringLiteral("record usage of run %1").arg(id);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose,
                         QStringLiteral("UPDATE runs SET steps = ?, input_tokens = ?, "
                                        "output_tokens = ?, cost_usd = ?, unpriced = ? "
                                        "WHERE id = ?"),
                         {usage.steps, usage.inputTokens, usage.outputTokens,
                          usage.costUsd && !usage.unpriced ? QVariant(*usage.costUsd) : QVariant(),
                          usage.unpriced ? 1 : 0, id});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, QStringLiteral("run '%1' not found").arg(id));
        return {};
    });
}

// --- model endpoints ----------------------------------------------------------------------

namespace {

constexpr auto EndpointColumns = "name, api, base_url, secret_key, input_price_per_mtok, "
                                 "output_price_per_mtok, created_at, updated_at";

ModelEndpointRecord endpointFromRow(const QSqlQuery& q)
{
    ModelEndpointRecord e;
    e.name = q.value(0).toString();
    e.api = q.value(1).toString();
    e.baseUrl = q.value(2).toString();
    e.secretKey = q.value(3).toString();
    if (!q.value(4).isNull())
        e.inputPricePerMTok = q.value(4).toDouble();
    if (!q.value(5).isNull())
        e.outputPricePerMTok = q.value(5).toDouble();
    e.createdAt = timeFromDb(q.value(6));
    e.updatedAt = timeFromDb(q.value(7));
    return e;
}

QVariant optionalToDb(const std::optional<double>& v)
{
    return v ? QVariant(*v) : QVariant();
}

} // namespace

Status Store::saveModelEndpoint(const ModelEndpointRecord& e)
{
    const QString purpose = QStringLiteral("save model endpoint '%1'").arg(e.name);
    return d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        // Upsert that keeps created_at of an existing row.
        return d->execOnly(
            purpose,
            QStringLiteral("INSERT INTO model_endpoints (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT(name) DO UPDATE SET api = excluded.api, "
                           "base_url = excluded.base_url, secret_key = excluded.secret_key, "
                           "input_price_per_mtok = excluded.input_price_per_mtok, "
                           "output_price_per_mtok = excluded.output_price_per_mtok, "
                           "updated_at = excluded.updated_at")
                .arg(QLatin1String(EndpointColumns)),
            {e.name, e.api, e.baseUrl, textOrNull(e.secretKey), optionalToDb(e.inputPricePerMTok),
             optionalToDb(e.outputPricePerMTok), now, now});
    });
}

Result<ModelEndpointRecord> Store::modelEndpoint(const QString& name) const
{
    auto q = d->exec(QStringLiteral("read model endpoint '%1'").arg(name),
                     QStringLiteral("SELECT %1 FROM model_endpoints WHERE name = ?")
                         .arg(QLatin1String(EndpointColumns)),
                     {name});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound,
                    QStringLiteral("model endpoint '%1' is not configured").arg(name));
    return endpointFromRow(*q);
}

Result<QList<ModelEndpointRecord>> Store::modelEndpoints() const
{
    auto q = d->exec(QStringLiteral("list model endpoints"),
                     QStringLiteral("SELECT %1 FROM model_endpoints ORDER BY name")
                         .arg(QLatin1String(EndpointColumns)));
    if (!q)
        return std::unexpected(q.error());
    QList<ModelEndpointRecord> out;
    while (q->next())
        out.append(endpointFromRow(*q));
    return out;
}

Status Store::removeModelEndpoint(const QString& name)
{
    const QString purpose = QStringLiteral("remove model endpoint '%1'").arg(name);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q =
            d->exec(purpose, QStringLiteral("DELETE FROM model_endpoints WHERE name = ?"), {name});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound,
                        QStringLiteral("model endpoint '%1' is not configured").arg(name));
        return {};
    });
}

// --- audit --------------------------------------------------------------------------------

namespace {

/**
 * The hash covers every field in a fixed, unambiguous encoding (a JSON array), chained to
 * the previous row's hash: changing, inserting or deleting any row breaks every later link.
 */
QString auditHash(const AuditRecord& r)
{
    const QJsonArray fields{
        double(r.id),
        r.ts.toUTC().toString(Qt::ISODateWithMs),
        r.actor,
        r.action,
        r.runId,
        r.agentId,
        QString::fromUtf8(QJsonDocument(r.details).toJson(QJsonDocument::Compact)),
        r.prevHash};
    return QString::fromLatin1(
        QCryptographicHash::hash(QJsonDocument(fields).toJson(QJsonDocument::Compact),
                                 QCryptographicHash::Sha256)
            .toHex());
}

constexpr auto AuditColumns = "id, ts, actor, action, run_id, agent_id, details, prev_hash, hash";

AuditRecord auditFromRow(const QSqlQuery& q)
{
    AuditRecord r;
    r.id = q.value(0).toLongLong();
    r.ts = timeFromDb(q.value(1));
    r.actor = q.value(2).toString();
    r.action = q.value(3).toString();
    r.runId = q.value(4).toString();
    r.agentId = q.value(5).toString();
    r.details = QJsonDocument::fromJson(q.value(6).toString().toUtf8()).object();
    r.prevHash = q.value(7).toString();
    r.hash = q.value(8).toString();
    return r;
}

} // namespace

Result<AuditRecord> Store::appendAudit(const AuditRecord& record)
{
    const QString purpose = QStringLiteral("append audit record %1").arg(record.action);
    AuditRecord r = record;
    Status s = d->inTransaction(purpose, [&]() -> Status {
        // Under BEGIN IMMEDIATE no other process can append between this read and the insert.
        auto last = d->exec(purpose, QStringLiteral("SELECT id, hash FROM audit ORDER BY id DESC "
                                                    "LIMIT 1"));
        if (!last)
            return std::unexpected(last.error());
        r.id = 1;
        // Empty, not null: Qt binds a null QString as SQL NULL.
        r.prevHash = QLatin1String("");
        if (last->next()) {
            r.id = last->value(0).toLongLong() + 1;
            r.prevHash = last->value(1).toString();
        }
        last->finish();
        if (!r.ts.isValid())
            r.ts = QDateTime::currentDateTimeUtc();
        // Millisecond precision is what the column keeps; hash what will be read back.
        r.ts = QDateTime::fromMSecsSinceEpoch(r.ts.toMSecsSinceEpoch(), Qt::UTC);
        r.hash = auditHash(r);
        return d->execOnly(
            purpose,
            QStringLiteral("INSERT INTO audit (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .arg(QLatin1String(AuditColumns)),
            {r.id, timeToDb(r.ts), r.actor, r.action, textOrNull(r.runId), textOrNull(r.agentId),
             QString::fromUtf8(QJsonDocument(r.details).toJson(QJsonDocument::Compact)), r.prevHash,
             r.hash});
    });
    if (!s)
        return std::unexpected(s.error());
    return r;
}

Result<QList<AuditRecord>> Store::auditRecords(const QString& runId, int limit) const
{
    QString sql = QStringLiteral("SELECT %1 FROM audit").arg(QLatin1String(AuditColumns));
    QVariantList binds;
    if (!runId.isEmpty()) {
        sql += QStringLiteral(" WHERE run_id = ?");
        binds << runId;
    }
    sql += QStringLiteral(" ORDER BY id DESC");
    if (limit > 0) {
        sql += QStringLiteral(" LIMIT ?");
        binds << limit;
    }
    auto q = d->exec(QStringLiteral("read audit"), sql, binds);
    if (!q)
        return std::unexpected(q.error());
    QList<AuditRecord> out;
    while (q->next())
        out.prepend(auditFromRow(*q));
    return out;
}

Result<AuditVerification> Store::verifyAudit() const
{
    auto q = d->exec(
        QStringLiteral("verify audit"),
        QStringLiteral("SELECT %1 FROM audit ORDER BY id").arg(QLatin1String(AuditColumns)));
    if (!q)
        return std::unexpected(q.error());
    AuditVerification v;
    QString prev;
    qint64 expectedId = 1;
    while (q->next()) {
        const AuditRecord r = auditFromRow(*q);
        ++v.checked;
        QString problem;
        if (r.id != expectedId)
            problem = QStringLiteral("row %1 follows row %2: rows were deleted or inserted")
                          .arg(r.id)
                          .arg(expectedId - 1);
        else if (r.prevHash != prev)
            problem = QStringLiteral("row %1 does not link to the hash of row %2")
                          .arg(r.id)
                          .arg(r.id - 1);
        else if (auditHash(r) != r.hash)
            problem = QStringLiteral("row %1 was modified: its content does not match its hash")
                          .arg(r.id);
        if (!problem.isEmpty()) {
            v.ok = false;
            v.firstBadId = r.id;
            v.problem = problem;
            return v;
        }
        prev = r.hash;
        expectedId = r.id + 1;
    }
    return v;
}

// --- schedules ----------------------------------------------------------------------------

namespace {

constexpr auto ScheduleColumns = "id, agent_id, source, cron, tz, overlap, misfire, "
                                 "misfire_max_age_s, jitter_s, input, paused, created_at, "
                                 "updated_at, last_fire_at, next_fire_at, pending_fire_at";

constexpr int DefaultMisfireMaxAgeS = 3600;
// The agent loader's bound for durations: one (leap) year.
constexpr int MaxScheduleDurationS = 366 * 24 * 3600;

ScheduleRecord scheduleFromRow(const QSqlQuery& q)
{
    ScheduleRecord s;
    s.id = q.value(0).toString();
    s.agentId = q.value(1).toString();
    s.source = q.value(2).toString();
    s.cron = q.value(3).toString();
    s.tz = q.value(4).toString();
    s.overlap = q.value(5).toString();
    s.misfire = q.value(6).toString();
    s.misfireMaxAgeS = q.value(7).toInt();
    s.jitterS = q.value(8).toInt();
    s.input = jsonFromDb(q.value(9));
    s.paused = q.value(10).toBool();
    s.createdAt = timeFromDb(q.value(11));
    s.updatedAt = timeFromDb(q.value(12));
    s.lastFireAt = timeFromDb(q.value(13));
    s.nextFireAt = timeFromDb(q.value(14));
    s.pendingFireAt = timeFromDb(q.value(15));
    return s;
}

/** The zone a schedule without one runs in, resolved once when it is saved. */
QString systemZoneId()
{
    const QByteArray id = QTimeZone::systemTimeZoneId();
    if (!id.isEmpty() && QTimeZone::isTimeZoneIdAvailable(id))
        return QString::fromUtf8(id);
    return QStringLiteral("UTC");
}

/** What the store can check without a cron parser (core does not link the scheduler). */
Status validateSchedule(const ScheduleRecord& s)
{
    QStringList problems;
    if (s.cron.trimmed().isEmpty())
        problems << QStringLiteral("cron: empty expression");
    if (!s.tz.isEmpty() && !QTimeZone::isTimeZoneIdAvailable(s.tz.toUtf8()))
        problems << QStringLiteral("tz: unknown time zone \"%1\"").arg(s.tz);
    static const QStringList overlaps{QStringLiteral("skip"), QStringLiteral("queue_one"),
                                      QStringLiteral("allow")};
    static const QStringList misfires{QStringLiteral("run_once"), QStringLiteral("skip")};
    if (!overlaps.contains(s.overlap))
        problems << QStringLiteral("overlap: \"%1\" is not one of skip, queue_one, allow")
                        .arg(s.overlap);
    if (!misfires.contains(s.misfire))
        problems << QStringLiteral("misfire: \"%1\" is not one of run_once, skip").arg(s.misfire);
    if (s.misfireMaxAgeS < 0 || s.misfireMaxAgeS > MaxScheduleDurationS)
        problems << QStringLiteral("misfire_max_age: %1 s is outside 0 to %2 s")
                        .arg(s.misfireMaxAgeS)
                        .arg(MaxScheduleDurationS);
    if (s.jitterS < 0 || s.jitterS > MaxScheduleDurationS)
        problems << QStringLiteral("jitter: %1 s is outside 0 to %2 s")
                        .arg(s.jitterS)
                        .arg(MaxScheduleDurationS);
    if (problems.isEmpty())
        return {};
    return fail(Error::Code::Validation, QStringLiteral("invalid schedule"), problems);
}

/** The row an agent definition's schedule becomes (id, timestamps left to the caller). */
ScheduleRecord scheduleFromSpec(const QString& agentId, const ScheduleSpec& spec)
{
    ScheduleRecord s;
    s.agentId = agentId;
    s.source = QStringLiteral("agent");
    s.cron = spec.cron.trimmed();
    s.tz = spec.tz.isEmpty() ? systemZoneId() : spec.tz;
    s.overlap = spec.overlap;
    s.misfire = spec.misfire;
    s.misfireMaxAgeS = spec.misfireMaxAgeS.value_or(DefaultMisfireMaxAgeS);
    s.jitterS = spec.jitterS.value_or(0);
    s.paused = !spec.enabled;
    return s;
}

/** Identity of a definition's schedule as saved: equal text = the row stays as it is. */
QString specText(const ScheduleRecord& s)
{
    const QJsonObject o{{QStringLiteral("cron"), s.cron},
                        {QStringLiteral("tz"), s.tz},
                        {QStringLiteral("overlap"), s.overlap},
                        {QStringLiteral("misfire"), s.misfire},
                        {QStringLiteral("misfire_max_age_s"), s.misfireMaxAgeS},
                        {QStringLiteral("jitter_s"), s.jitterS},
                        {QStringLiteral("enabled"), !s.paused}};
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString scheduleNotFound(const QString& id)
{
    return QStringLiteral("schedule '%1' not found").arg(id);
}

} // namespace

Status Store::Private::bumpScheduleGeneration(const QString& purpose)
{
    return execOnly(
        purpose, QStringLiteral("UPDATE schedule_generation SET value = value + 1 WHERE id = 1"));
}

Status Store::Private::syncAgentSchedules(const AgentDefinition& def, const QString& now)
{
    if (schema < SchedulesSchema)
        return {};
    const QString purpose = QStringLiteral("sync schedules of agent '%1'").arg(def.id);
    auto q = exec(purpose,
                  QStringLiteral("SELECT id, spec FROM schedules WHERE agent_id = ? AND "
                                 "source = 'agent'"),
                  {def.id});
    if (!q)
        return std::unexpected(q.error());
    QHash<QString, QString> existing; // id -> spec text
    while (q->next())
        existing.insert(q->value(0).toString(), q->value(1).toString());
    q->finish();

    bool changed = false;
    for (qsizetype i = 0; i < def.schedules.size(); ++i) {
        ScheduleRecord s = scheduleFromSpec(def.id, def.schedules.at(i));
        s.id = QStringLiteral("%1#%2").arg(def.id).arg(i + 1);
        const QString spec = specText(s);
        const auto found = existing.constFind(s.id);
        if (found != existing.cend() && found.value() == spec) {
            existing.remove(s.id);
            continue; // unchanged: keeps its fire history and a pause set from the CLI
        }
        if (auto v = validateSchedule(s); !v) {
            Error e = v.error();
            e.message = QStringLiteral("cannot save agent '%1': schedule %2 is invalid")
                            .arg(def.id)
                            .arg(i + 1);
            return std::unexpected(e);
        }
        // A changed entry is a new schedule under the same id: fires count from now, and a
        // fire queued under the old rules is dropped.
        const bool isNew = found == existing.cend();
        existing.remove(s.id);
        Status w = execOnly(
            purpose,
            QStringLiteral("INSERT INTO schedules (id, agent_id, source, cron, tz, overlap, "
                           "misfire, misfire_max_age_s, jitter_s, input, paused, spec, "
                           "created_at, updated_at) VALUES (?, ?, 'agent', ?, ?, ?, ?, ?, ?, "
                           "NULL, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                           "cron = excluded.cron, tz = excluded.tz, overlap = excluded.overlap, "
                           "misfire = excluded.misfire, "
                           "misfire_max_age_s = excluded.misfire_max_age_s, "
                           "jitter_s = excluded.jitter_s, paused = excluded.paused, "
                           "spec = excluded.spec, updated_at = excluded.updated_at, "
                           "next_fire_at = NULL, pending_fire_at = NULL"),
            {s.id, s.agentId, s.cron, s.tz, s.overlap, s.misfire, s.misfireMaxAgeS, s.jitterS,
             s.paused ? 1 : 0, spec, now, now});
        if (!w)
            return w;
        qCInfo(lcStore).noquote() << QStringLiteral("%1 schedule %2 (%3 in %4)")
                                         .arg(isNew ? QStringLiteral("added")
                                                    : QStringLiteral("replaced"),
                                              s.id, s.cron, s.tz);
        changed = true;
    }
    // Entries the new version no longer has.
    for (auto it = existing.cbegin(); it != existing.cend(); ++it) {
        if (auto w =
                execOnly(purpose, QStringLiteral("DELETE FROM schedules WHERE id = ?"), {it.key()});
            !w) {
            return w;
        }
        changed = true;
    }
    return changed ? bumpScheduleGeneration(purpose) : Status{};
}

Result<ScheduleRecord> Store::addSchedule(const ScheduleRecord& schedule)
{
    ScheduleRecord s = schedule;
    s.source = QStringLiteral("cli");
    s.cron = s.cron.trimmed();
    if (s.tz.isEmpty())
        s.tz = systemZoneId();
    if (auto v = validateSchedule(s); !v)
        return std::unexpected(v.error());
    const QString purpose = QStringLiteral("add a schedule to agent '%1'").arg(s.agentId);
    Status st = d->inTransaction(purpose, [&]() -> Status {
        auto head = d->exec(purpose, QStringLiteral("SELECT removed_at FROM agents WHERE id = ?"),
                            {s.agentId});
        if (!head)
            return std::unexpected(head.error());
        if (!head->next())
            return fail(Error::Code::NotFound,
                        QStringLiteral("agent '%1' not found").arg(s.agentId));
        if (!head->value(0).isNull()) {
            return fail(Error::Code::NotFound, QStringLiteral("agent '%1' was removed at %2")
                                                   .arg(s.agentId, head->value(0).toString()));
        }
        head->finish();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        s.createdAt = now;
        s.updatedAt = now;
        s.lastFireAt = QDateTime();
        s.nextFireAt = QDateTime();
        s.pendingFireAt = QDateTime();
        // 40 random bits: a clash is unlikely but cheap to rule out.
        for (int attempt = 0;; ++attempt) {
            if (schedule.id.isEmpty() || attempt > 0)
                s.id = newScheduleId();
            auto taken =
                d->exec(purpose, QStringLiteral("SELECT 1 FROM schedules WHERE id = ?"), {s.id});
            if (!taken)
                return std::unexpected(taken.error());
            if (!taken->next())
                break;
            if (!schedule.id.isEmpty() && attempt == 0)
                return fail(Error::Code::Conflict,
                            QStringLiteral("schedule '%1' already exists").arg(s.id));
            if (attempt > 8)
                return fail(Error::Code::Internal, QStringLiteral("cannot find a free id"));
        }
        if (auto w = d->execOnly(
                purpose,
                QStringLiteral("INSERT INTO schedules (%1) VALUES (?, ?, 'cli', ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?, NULL, NULL, NULL)")
                    .arg(QLatin1String(ScheduleColumns)),
                {s.id, s.agentId, s.cron, s.tz, s.overlap, s.misfire, s.misfireMaxAgeS, s.jitterS,
                 jsonToDb(s.input), s.paused ? 1 : 0, timeToDb(now), timeToDb(now)});
            !w) {
            return w;
        }
        return d->bumpScheduleGeneration(purpose);
    });
    if (!st)
        return std::unexpected(st.error());
    if (s.input.isUndefined())
        s.input = QJsonValue();
    return s;
}

Result<ScheduleRecord> Store::schedule(const QString& id) const
{
    auto q = d->exec(
        QStringLiteral("read schedule '%1'").arg(id),
        QStringLiteral("SELECT %1 FROM schedules WHERE id = ?").arg(QLatin1String(ScheduleColumns)),
        {id});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound, scheduleNotFound(id));
    return scheduleFromRow(*q);
}

Result<QList<ScheduleRecord>> Store::schedules(const QString& agentId) const
{
    QString sql = QStringLiteral("SELECT %1 FROM schedules").arg(QLatin1String(ScheduleColumns));
    QVariantList binds;
    if (!agentId.isEmpty()) {
        sql += QStringLiteral(" WHERE agent_id = ?");
        binds << agentId;
    }
    sql += QStringLiteral(" ORDER BY agent_id, id");
    auto q = d->exec(QStringLiteral("list schedules"), sql, binds);
    if (!q)
        return std::unexpected(q.error());
    QList<ScheduleRecord> out;
    while (q->next())
        out.append(scheduleFromRow(*q));
    return out;
}

Status Store::removeSchedule(const QString& id)
{
    const QString purpose = QStringLiteral("remove schedule '%1'").arg(id);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(
            purpose, QStringLiteral("SELECT source, agent_id FROM schedules WHERE id = ?"), {id});
        if (!q)
            return std::unexpected(q.error());
        if (!q->next())
            return fail(Error::Code::NotFound, scheduleNotFound(id));
        if (q->value(0).toString() == QLatin1String("agent")) {
            // Deleting it here would not last: the next save of the agent writes it back.
            return fail(Error::Code::Conflict,
                        QStringLiteral("schedule '%1' comes from the definition of agent '%2': "
                                       "edit the agent to remove it, or pause it")
                            .arg(id, q->value(1).toString()));
        }
        q->finish();
        if (auto w =
                d->execOnly(purpose, QStringLiteral("DELETE FROM schedules WHERE id = ?"), {id});
            !w) {
            return w;
        }
        return d->bumpScheduleGeneration(purpose);
    });
}

Result<bool> Store::setSchedulePaused(const QString& id, bool paused)
{
    const QString purpose =
        QStringLiteral("%1 schedule '%2'")
            .arg(paused ? QStringLiteral("pause") : QStringLiteral("resume"), id);
    bool changed = false;
    Status st = d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose,
                         QStringLiteral("SELECT s.paused, a.removed_at, s.agent_id FROM schedules "
                                        "s JOIN agents a ON a.id = s.agent_id WHERE s.id = ?"),
                         {id});
        if (!q)
            return std::unexpected(q.error());
        if (!q->next())
            return fail(Error::Code::NotFound, scheduleNotFound(id));
        const bool was = q->value(0).toBool();
        const bool agentRemoved = !q->value(1).isNull();
        const QString agentId = q->value(2).toString();
        q->finish();
        if (was == paused)
            return {};
        if (!paused && agentRemoved) {
            return fail(Error::Code::Conflict,
                        QStringLiteral("cannot resume schedule '%1': agent '%2' was removed "
                                       "(add it again first)")
                            .arg(id, agentId));
        }
        // updated_at = now on resume: fires count from here, nothing paused is "missed".
        // A queued queue_one fire does not survive a pause.
        if (auto w = d->execOnly(purpose,
                                 QStringLiteral("UPDATE schedules SET paused = ?, updated_at = ?, "
                                                "pending_fire_at = NULL WHERE id = ?"),
                                 {paused ? 1 : 0, nowText(), id});
            !w) {
            return w;
        }
        changed = true;
        return d->bumpScheduleGeneration(purpose);
    });
    if (!st)
        return std::unexpected(st.error());
    return changed;
}

Status Store::saveScheduleFireStates(const QList<ScheduleFireState>& states)
{
    if (states.isEmpty())
        return {};
    const QString purpose = QStringLiteral("record fires of %1 schedule(s)").arg(states.size());
    return d->inTransaction(purpose, [&]() -> Status {
        // One prepared statement for the whole batch: 1,000 schedules may fire in one second.
        QSqlQuery q(d->db);
        if (!q.prepare(QStringLiteral("UPDATE schedules SET last_fire_at = ?, next_fire_at = ?, "
                                      "pending_fire_at = ? WHERE id = ?")))
            return std::unexpected(d->sqlError(purpose, q.lastError()));
        for (const ScheduleFireState& s : states) {
            q.bindValue(0, timeToDb(s.lastFireAt));
            q.bindValue(1, timeToDb(s.nextFireAt));
            q.bindValue(2, timeToDb(s.pendingFireAt));
            q.bindValue(3, s.id);
            if (!q.exec()) {
                Error e = d->sqlError(purpose, q.lastError());
                q.finish();
                return std::unexpected(std::move(e));
            }
        }
        q.finish();
        return {};
    });
}

Result<qint64> Store::scheduleGeneration() const
{
    auto q = d->exec(QStringLiteral("read schedule generation"),
                     QStringLiteral("SELECT value FROM schedule_generation WHERE id = 1"));
    if (!q)
        return std::unexpected(q.error());
    return q->next() ? q->value(0).toLongLong() : 0;
}

Result<QList<RunRecord>> Store::Private::runsWhere(const QString& purpose, const QString& where,
                                                   const QVariantList& binds, int limit) const
{
    QString sql = QStringLiteral("SELECT %1 FROM runs WHERE %2 ORDER BY id DESC")
                      .arg(QLatin1String(RunSelectColumns), where);
    QVariantList all = binds;
    if (limit > 0) {
        sql += QStringLiteral(" LIMIT ?");
        all << limit;
    }
    auto q = exec(purpose, sql, all);
    if (!q)
        return std::unexpected(q.error());
    QList<RunRecord> out;
    while (q->next())
        out.append(runFromRow(*q));
    return out;
}

Result<QList<RunRecord>> Store::liveScheduleRuns() const
{
    return d->runsWhere(QStringLiteral("list live schedule runs"),
                        QStringLiteral("status IN %1 AND \"trigger\" LIKE 'schedule:%'")
                            .arg(QLatin1String(LiveStatuses)),
                        {}, 0);
}

Result<QList<RunRecord>> Store::scheduleRuns(const QString& scheduleId, int limit) const
{
    return d->runsWhere(QStringLiteral("list runs of schedule '%1'").arg(scheduleId),
                        QStringLiteral("\"trigger\" = ?"),
                        {QString(QStringLiteral("schedule:") + scheduleId)}, limit);
}

Status Store::setRunScheduledFor(const QString& runId, const QDateTime& scheduledFor)
{
    const QString purpose = QStringLiteral("record the scheduled instant of run %1").arg(runId);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose, QStringLiteral("UPDATE runs SET scheduled_for = ? WHERE id = ?"),
                         {timeToDb(scheduledFor), runId});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, QStringLiteral("run '%1' not found").arg(runId));
        return {};
    });
}

QString newScheduleId()
{
    static constexpr char Alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    QString id = QStringLiteral("sch_");
    quint64 bits = QRandomGenerator::system()->generate64();
    for (int i = 0; i < 8; ++i) {
        id += QLatin1Char(Alphabet[bits & 31]);
        bits >>= 5;
    }
    return id;
}

QString newRunId()
{
    static constexpr char Alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    // Monotonic within a process: ids minted in the same millisecond (or after the clock went
    // back) increment the random part, so sorting by id keeps creation order.
    static QMutex mutex;
    static quint64 lastMs = 0;
    static quint64 randHi = 0; // top 16 of the 80 random bits
    static quint64 randLo = 0; // low 64

    quint64 ms = 0;
    quint64 hi = 0;
    quint64 lo = 0;
    {
        QMutexLocker lock(&mutex);
        ms = quint64(QDateTime::currentMSecsSinceEpoch()) & 0xFFFFFFFFFFFFULL;
        if (ms <= lastMs) {
            ms = lastMs;
            if (++randLo == 0 && ++randHi > 0xFFFF) {
                // 2^80 ids in one millisecond: borrow the next one.
                ++ms;
                randHi = QRandomGenerator::system()->generate() & 0x7FFF;
                randLo = QRandomGenerator::system()->generate64();
            }
        } else {
            randHi = QRandomGenerator::system()->generate() & 0xFFFF;
            randLo = QRandomGenerator::system()->generate64();
        }
        lastMs = ms;
        hi = randHi;
        lo = randLo;
    }

    // 128 bits as two words: high = 48-bit time then 16 random bits, low = 64 random bits.
    const quint64 high = (ms << 16) | hi;
    const quint64 low = lo;
    QString id = QStringLiteral("run_");
    id.reserve(4 + 26);
    // 26 groups of 5 bits cover 130 bits; the first group carries the top 3 (two leading 0s).
    for (int shift = 125; shift >= 0; shift -= 5) {
        quint64 v = 0;
        if (shift >= 64)
            v = high >> (shift - 64);
        else if (shift + 5 <= 64)
            v = low >> shift;
        else
            v = (low >> shift) | (high << (64 - shift));
        id += QLatin1Char(Alphabet[v & 31]);
    }
    return id;
}

} // namespace vivarium
