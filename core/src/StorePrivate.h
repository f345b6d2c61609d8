// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Store internals shared by the translation units that implement Store (Store.cpp is the
// core; StoreConnections.cpp and StoreApi.cpp add the tables of later issues).
#pragma once

#include "vivarium/core/Logging.h"
#include "vivarium/core/Store.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <functional>
#include <optional>

namespace vivarium {

namespace storedetail {

// Primary SQLite result codes; the driver may report extended codes, so compare the low byte.
constexpr int SqliteBusy = 5;
constexpr int SqliteLocked = 6;
constexpr int SqliteCorrupt = 11;
constexpr int SqliteCantOpen = 14;
constexpr int SqliteNotADb = 26;

// The schema that brought the schedules table; agent saves on older test stores skip the sync.
constexpr int SchedulesSchema = 4;

constexpr auto LiveStatuses = "('queued', 'starting', 'running', 'awaiting_approval')";
constexpr auto TerminalStatuses =
    "('succeeded', 'failed', 'timed_out', 'cancelled', 'interrupted', 'skipped', 'missed')";
constexpr auto RunColumns = "id, agent_id, agent_version, status, reason, \"trigger\", input, "
                            "output, created_at, started_at, finished_at, scheduled_for";
// What reads select: the usage columns of migration 3, then scheduled_for of migration 4.
constexpr auto RunSelectColumns = "id, agent_id, agent_version, status, reason, \"trigger\", "
                                  "input, output, created_at, started_at, finished_at, steps, "
                                  "input_tokens, output_tokens, cost_usd, unpriced, "
                                  "scheduled_for";

inline int sqliteCode(const QSqlError& e)
{
    bool ok = false;
    const int code = e.nativeErrorCode().toInt(&ok);
    return ok ? (code & 0xff) : -1;
}

inline QString sqliteMessage(const QSqlError& e)
{
    const QString db = e.databaseText();
    return db.isEmpty() ? e.driverText() : db;
}

inline QString nowText()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

inline QVariant timeToDb(const QDateTime& t)
{
    if (!t.isValid())
        return QVariant();
    return t.toUTC().toString(Qt::ISODateWithMs);
}

inline QDateTime timeFromDb(const QVariant& v)
{
    const QString s = v.toString();
    if (s.isEmpty())
        return QDateTime();
    return QDateTime::fromString(s, Qt::ISODateWithMs).toUTC();
}

inline QVariant textOrNull(const QString& s)
{
    return s.isEmpty() ? QVariant() : QVariant(s);
}

// QJsonDocument only serialises objects and arrays; wrapping in an array covers scalars too.
inline QVariant jsonToDb(const QJsonValue& v)
{
    if (v.isUndefined() || v.isNull())
        return QVariant();
    const QByteArray wrapped = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}

inline QJsonValue jsonFromDb(const QVariant& v)
{
    if (v.isNull())
        return QJsonValue();
    const QByteArray wrapped = '[' + v.toString().toUtf8() + ']';
    return QJsonDocument::fromJson(wrapped).array().at(0);
}

inline QString agentLabel(const QString& id, int version)
{
    return QStringLiteral("store:agent %1 v%2").arg(id).arg(version);
}

} // namespace storedetail

using namespace storedetail;

struct Store::Private
{
    QString path;
    QString connectionName;
    Options options;
    QSqlDatabase db;
    int txDepth = 0;
    int schema = 0; ///< version after open (tests may stop migrations early)
    // Prepared once per connection: the hot path of the event journal.
    std::optional<QSqlQuery> insertEvent;

    ~Private()
    {
        insertEvent.reset();
        if (db.isValid())
            db.close();
        db = QSqlDatabase();
        // Only after every handle on the connection is gone, or Qt warns it is still in use.
        if (!connectionName.isEmpty())
            QSqlDatabase::removeDatabase(connectionName);
    }

    Error sqlError(const QString& purpose, const QSqlError& e) const
    {
        const int code = sqliteCode(e);
        const Error::Code c = (code == SqliteBusy || code == SqliteLocked) ? Error::Code::Locked
                                                                           : Error::Code::Database;
        const QString msg =
            QStringLiteral("store %1: %2 failed: %3").arg(path, purpose, sqliteMessage(e));
        qCWarning(lcStore).noquote() << msg;
        return Error::make(c, msg);
    }

    Result<QSqlQuery> exec(const QString& purpose, const QString& sql,
                           const QVariantList& binds = {}) const
    {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (!q.prepare(sql))
            return std::unexpected(sqlError(purpose, q.lastError()));
        for (const QVariant& b : binds)
            q.addBindValue(b);
        if (!q.exec())
            return std::unexpected(sqlError(purpose, q.lastError()));
        return q;
    }

    Status execOnly(const QString& purpose, const QString& sql, const QVariantList& binds = {})
    {
        auto q = exec(purpose, sql, binds);
        if (!q)
            return std::unexpected(q.error());
        return {};
    }

    Result<int> userVersion() const
    {
        auto q = exec(QStringLiteral("read schema version"), QStringLiteral("PRAGMA user_version"));
        if (!q)
            return std::unexpected(q.error());
        return q->next() ? q->value(0).toInt() : 0;
    }

    /**
     * Outermost: BEGIN IMMEDIATE (take the write lock up front so a reader never has to be
     * upgraded mid-transaction, which SQLite answers with an unrecoverable BUSY). Nested: a
     * savepoint, so the inner step stays all-or-nothing inside the caller's transaction.
     */
    Status inTransaction(const QString& purpose, const std::function<Status()>& body)
    {
        if (options.readOnly) {
            return fail(Error::Code::Unsupported,
                        QStringLiteral("store %1: cannot %2: the store is open read-only")
                            .arg(path, purpose));
        }
        const bool outer = txDepth == 0;
        const QString savepoint = QStringLiteral("vivarium_sp%1").arg(txDepth);
        if (auto s = execOnly(purpose + QStringLiteral(" (begin)"),
                              outer ? QStringLiteral("BEGIN IMMEDIATE")
                                    : QStringLiteral("SAVEPOINT ") + savepoint);
            !s) {
            return s;
        }
        ++txDepth;
        Status result = body();
        --txDepth;
        if (result) {
            result =
                execOnly(purpose + QStringLiteral(" (commit)"),
                         outer ? QStringLiteral("COMMIT") : QStringLiteral("RELEASE ") + savepoint);
            if (result)
                return result;
        }
        // Some errors (I/O, full disk) make SQLite roll back by itself; then these fail quietly.
        const QStringList undo = outer ? QStringList{QStringLiteral("ROLLBACK")}
                                       : QStringList{QStringLiteral("ROLLBACK TO ") + savepoint,
                                                     QStringLiteral("RELEASE ") + savepoint};
        for (const QString& sql : undo) {
            QSqlQuery q(db);
            if (!q.exec(sql))
                qCDebug(lcStore) << "rollback:" << sql << q.lastError().text();
        }
        return result;
    }

    Status init();
    Status migrate(int current, int target);
    Result<AgentRecord> agentFromRow(const QSqlQuery& q) const;
    Result<RunRecord> runById(const QString& id) const;
    Result<QList<RunRecord>> runsWhere(const QString& purpose, const QString& where,
                                       const QVariantList& binds, int limit) const;
    Status bumpScheduleGeneration(const QString& purpose);
    /** Make the agent's own schedules match its definition (inside saveAgent's transaction). */
    Status syncAgentSchedules(const AgentDefinition& def, const QString& now);
};

} // namespace vivarium
