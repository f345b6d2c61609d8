// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The HTTP API's tables: API keys (hashed) and Idempotency-Key records, plus the run queries
// and aggregates only the API needs.
#include "StorePrivate.h"

#include <QCryptographicHash>
#include <QRegularExpression>

#include <sodium.h>

namespace vivarium {

namespace {

constexpr int IdempotencyTtlHours = 24;
constexpr auto ApiKeyColumns = "id, prefix, name, scopes, created_at, last_used_at, revoked_at";

Store::ApiKeyRecord apiKeyFromRow(const QSqlQuery& q)
{
    Store::ApiKeyRecord r;
    r.id = q.value(0).toString();
    r.prefix = q.value(1).toString();
    r.name = q.value(2).toString();
    for (const QJsonValue& v : QJsonDocument::fromJson(q.value(3).toString().toUtf8()).array())
        r.scopes << v.toString();
    r.createdAt = timeFromDb(q.value(4));
    r.lastUsedAt = timeFromDb(q.value(5));
    r.revokedAt = timeFromDb(q.value(6));
    return r;
}

QByteArray sha256(const QString& secret)
{
    return QCryptographicHash::hash(secret.toUtf8(), QCryptographicHash::Sha256);
}

} // namespace

QStringList Store::apiScopes()
{
    return {QStringLiteral("agents:read"),    QStringLiteral("agents:write"),
            QStringLiteral("runs:read"),      QStringLiteral("runs:write"),
            QStringLiteral("webhooks:write"), QStringLiteral("admin")};
}

Result<Store::NewApiKey> Store::createApiKey(const QString& name, const QStringList& scopes)
{
    static const QRegularExpression nameRx(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"));
    QStringList problems;
    if (!nameRx.match(name).hasMatch())
        problems << QStringLiteral("name: \"%1\" must be 1 to 64 characters: letters, digits, "
                                   "space, '.', '_' or '-', starting with a letter or digit")
                        .arg(name);
    if (scopes.isEmpty())
        problems << QStringLiteral("scopes: at least one scope is needed; known: %1")
                        .arg(apiScopes().join(QStringLiteral(", ")));
    for (const QString& s : scopes)
        if (!apiScopes().contains(s))
            problems << QStringLiteral("scopes: unknown scope \"%1\"; known: %2")
                            .arg(s, apiScopes().join(QStringLiteral(", ")));
    if (!problems.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("invalid API key"), problems);
    QStringList uniqueScopes;
    for (const QString& s : apiScopes())
        if (scopes.contains(s))
            uniqueScopes << s;

    if (sodium_init() < 0)
        return fail(Error::Code::Internal, QStringLiteral("libsodium failed to initialise"));
    const QString purpose = QStringLiteral("create API key '%1'").arg(name);
    NewApiKey out;
    Status st = d->inTransaction(purpose, [&]() -> Status {
        auto live = d->exec(purpose,
                            QStringLiteral("SELECT id FROM api_keys WHERE name = ? AND "
                                           "revoked_at IS NULL"),
                            {name});
        if (!live)
            return std::unexpected(live.error());
        if (live->next())
            return fail(Error::Code::Conflict,
                        QStringLiteral("an API key named '%1' already exists (%2); revoke it "
                                       "first or pick another name")
                            .arg(name, live->value(0).toString()));
        // 48-bit prefixes rarely collide; when one does, draw again.
        for (int attempt = 0; attempt < 8; ++attempt) {
            unsigned char raw[32];
            randombytes_buf(raw, sizeof raw);
            const QByteArray bytes(reinterpret_cast<const char*>(raw), sizeof raw);
            sodium_memzero(raw, sizeof raw);
            const QString body = QString::fromLatin1(
                bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
            const QString secret = QStringLiteral("viv_") + body;
            const QString prefix = body.left(8);
            const QString id = QStringLiteral("key_") + prefix;
            const QString now = nowText();
            auto ins = d->exec(
                purpose,
                QStringLiteral("INSERT INTO api_keys (id, prefix, name, hash, scopes, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
                {id, prefix, name, sha256(secret),
                 QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(uniqueScopes))
                                       .toJson(QJsonDocument::Compact)),
                 now});
            if (!ins)
                return std::unexpected(ins.error());
            if (ins->numRowsAffected() != 1)
                continue;
            out.secret = secret;
            out.record.id = id;
            out.record.prefix = prefix;
            out.record.name = name;
            out.record.scopes = uniqueScopes;
            out.record.createdAt = timeFromDb(now);
            return {};
        }
        return fail(Error::Code::Internal, QStringLiteral("could not draw a unique key prefix"));
    });
    if (!st)
        return std::unexpected(st.error());
    return out;
}

Result<QList<Store::ApiKeyRecord>> Store::apiKeys() const
{
    auto q = d->exec(QStringLiteral("list API keys"),
                     QStringLiteral("SELECT %1 FROM api_keys ORDER BY created_at, id")
                         .arg(QLatin1String(ApiKeyColumns)));
    if (!q)
        return std::unexpected(q.error());
    QList<ApiKeyRecord> out;
    while (q->next())
        out << apiKeyFromRow(*q);
    return out;
}

Result<Store::ApiKeyRecord> Store::apiKey(const QString& idOrName) const
{
    auto q = d->exec(QStringLiteral("read API key '%1'").arg(idOrName),
                     QStringLiteral("SELECT %1 FROM api_keys WHERE id = ? OR (name = ? AND "
                                    "revoked_at IS NULL) ORDER BY id = ? DESC LIMIT 1")
                         .arg(QLatin1String(ApiKeyColumns)),
                     {idOrName, idOrName, idOrName});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound,
                    QStringLiteral("no API key '%1' (give its id key_... or the name of a live "
                                   "key; see api-key list)")
                        .arg(idOrName));
    return apiKeyFromRow(*q);
}

Result<Store::ApiKeyRecord> Store::revokeApiKey(const QString& idOrName)
{
    const QString purpose = QStringLiteral("revoke API key '%1'").arg(idOrName);
    ApiKeyRecord out;
    Status st = d->inTransaction(purpose, [&]() -> Status {
        auto key = apiKey(idOrName);
        if (!key)
            return std::unexpected(key.error());
        if (key->isRevoked())
            return fail(Error::Code::Conflict,
                        QStringLiteral("API key %1 (%2) was already revoked at %3")
                            .arg(key->id, key->name, key->revokedAt.toString(Qt::ISODateWithMs)));
        const QString now = nowText();
        if (auto ok = d->execOnly(purpose,
                                  QStringLiteral("UPDATE api_keys SET revoked_at = ? WHERE id = ?"),
                                  {now, key->id});
            !ok)
            return ok;
        out = *key;
        out.revokedAt = timeFromDb(now);
        return {};
    });
    if (!st)
        return std::unexpected(st.error());
    return out;
}

Result<std::optional<Store::ApiKeyRecord>> Store::findApiKey(const QString& secret) const
{
    // "viv_" + 43 base64url characters; anything else cannot be a key.
    static const QRegularExpression shape(QStringLiteral("^viv_[A-Za-z0-9_-]{43}$"));
    if (!shape.match(secret).hasMatch())
        return std::optional<ApiKeyRecord>();
    auto q = d->exec(QStringLiteral("look up API key"),
                     QStringLiteral("SELECT %1, hash FROM api_keys WHERE prefix = ?")
                         .arg(QLatin1String(ApiKeyColumns)),
                     {secret.mid(4, 8)});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return std::optional<ApiKeyRecord>();
    const QByteArray stored = q->value(7).toByteArray();
    const QByteArray presented = sha256(secret);
    if (stored.size() != presented.size() ||
        sodium_memcmp(stored.constData(), presented.constData(), size_t(stored.size())) != 0)
        return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(apiKeyFromRow(*q));
}

Status Store::touchApiKey(const QString& id, const QDateTime& when)
{
    return d->execOnly(QStringLiteral("record use of API key %1").arg(id),
                       QStringLiteral("UPDATE api_keys SET last_used_at = ? WHERE id = ?"),
                       {timeToDb(when), id});
}

Result<std::optional<Store::IdempotencyRecord>> Store::idempotencyRecord(const QString& apiKeyId,
                                                                         const QString& key) const
{
    const QDateTime oldest = QDateTime::currentDateTimeUtc().addSecs(-IdempotencyTtlHours * 3600);
    auto q = d->exec(QStringLiteral("read idempotency key"),
                     QStringLiteral("SELECT request_hash, result_id, created_at FROM "
                                    "idempotency_keys WHERE api_key_id = ? AND key = ? AND "
                                    "created_at >= ?"),
                     {apiKeyId, key, timeToDb(oldest)});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return std::optional<IdempotencyRecord>();
    IdempotencyRecord r;
    r.apiKeyId = apiKeyId;
    r.key = key;
    r.requestHash = q->value(0).toString();
    r.resultId = q->value(1).toString();
    r.createdAt = timeFromDb(q->value(2));
    return std::optional<IdempotencyRecord>(r);
}

Status Store::saveIdempotencyRecord(const IdempotencyRecord& record)
{
    const QString purpose = QStringLiteral("save idempotency key");
    return d->inTransaction(purpose, [&]() -> Status {
        const QDateTime oldest =
            QDateTime::currentDateTimeUtc().addSecs(-IdempotencyTtlHours * 3600);
        if (auto ok = d->execOnly(purpose,
                                  QStringLiteral("DELETE FROM idempotency_keys WHERE "
                                                 "created_at < ?"),
                                  {timeToDb(oldest)});
            !ok)
            return ok;
        auto q = d->exec(
            purpose,
            QStringLiteral("INSERT INTO idempotency_keys (api_key_id, key, "
                           "request_hash, result_id, created_at) VALUES (?, ?, ?, "
                           "?, ?) ON CONFLICT DO NOTHING"),
            {record.apiKeyId, record.key, record.requestHash, record.resultId,
             record.createdAt.isValid() ? timeToDb(record.createdAt) : QVariant(nowText())});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::Conflict,
                        QStringLiteral("Idempotency-Key '%1' is already recorded").arg(record.key));
        return {};
    });
}

Result<Store::RunMetrics> Store::runMetrics() const
{
    RunMetrics m;
    auto byStatus = d->exec(QStringLiteral("count runs by status"),
                            QStringLiteral("SELECT status, COUNT(*) FROM runs GROUP BY status "
                                           "ORDER BY status"));
    if (!byStatus)
        return std::unexpected(byStatus.error());
    while (byStatus->next())
        m.byStatus.append({byStatus->value(0).toString(), byStatus->value(1).toLongLong()});

    auto usage = d->exec(QStringLiteral("sum run usage"),
                         QStringLiteral("SELECT COALESCE(SUM(input_tokens), 0), "
                                        "COALESCE(SUM(output_tokens), 0), "
                                        "COALESCE(SUM(cost_usd), 0), "
                                        "COALESCE(SUM(unpriced != 0), 0) FROM runs"));
    if (!usage)
        return std::unexpected(usage.error());
    if (usage->next()) {
        m.inputTokens = usage->value(0).toLongLong();
        m.outputTokens = usage->value(1).toLongLong();
        m.costUsd = usage->value(2).toDouble();
        m.unpricedRuns = usage->value(3).toLongLong();
    }

    // Durations in seconds from the stored ISO times; julianday keeps millisecond precision.
    m.durationBuckets = {1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600};
    QString sql = QStringLiteral("SELECT COUNT(*), COALESCE(SUM(d), 0)");
    for (double b : std::as_const(m.durationBuckets))
        sql += QStringLiteral(", COALESCE(SUM(d <= %1), 0)").arg(b);
    sql += QStringLiteral(" FROM (SELECT (julianday(finished_at) - julianday(started_at)) * "
                          "86400.0 AS d FROM runs WHERE started_at IS NOT NULL AND finished_at "
                          "IS NOT NULL)");
    auto dur = d->exec(QStringLiteral("run duration histogram"), sql);
    if (!dur)
        return std::unexpected(dur.error());
    if (dur->next()) {
        m.durationCount = dur->value(0).toLongLong();
        m.durationSum = dur->value(1).toDouble();
        for (int i = 0; i < m.durationBuckets.size(); ++i)
            m.durationCounts << dur->value(2 + i).toLongLong();
    }
    return m;
}

Result<QList<RunRecord>> Store::queryRuns(const RunQuery& query) const
{
    QStringList where{QStringLiteral("1 = 1")};
    QVariantList binds;
    if (!query.agentId.isEmpty()) {
        where << QStringLiteral("agent_id = ?");
        binds << query.agentId;
    }
    if (query.status) {
        where << QStringLiteral("status = ?");
        binds << runStatusName(*query.status);
    }
    if (!query.trigger.isEmpty()) {
        if (query.trigger.contains(QLatin1Char(':'))) {
            where << QStringLiteral("\"trigger\" = ?");
            binds << query.trigger;
        } else {
            // The kind: "schedule" matches "schedule:<id>". Range, not LIKE: no wildcards to
            // escape.
            where << QStringLiteral("\"trigger\" >= ? AND \"trigger\" < ?");
            binds << QString(query.trigger + QLatin1Char(':'))
                  << QString(query.trigger + QLatin1Char(';'));
        }
    }
    if (query.since.isValid()) {
        where << QStringLiteral("created_at >= ?");
        binds << timeToDb(query.since);
    }
    if (!query.beforeId.isEmpty()) {
        where << QStringLiteral("id < ?");
        binds << query.beforeId;
    }
    return d->runsWhere(QStringLiteral("query runs"), where.join(QStringLiteral(" AND ")), binds,
                        query.limit);
}

} // namespace vivarium
