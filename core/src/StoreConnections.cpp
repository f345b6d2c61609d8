// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Connections of migration 5: metadata and health, never a secret.
#include "StorePrivate.h"

#include "vivarium/core/AgentDefinition.h"

#include <QRegularExpression>

namespace vivarium {

namespace {

constexpr auto ConnectionColumns = "name, provider, auth, account, scopes, status, status_reason, "
                                   "expires_at, checked_at, meta, created_at, updated_at";

const QStringList& authKinds()
{
    static const QStringList kinds{QStringLiteral("oauth2"), QStringLiteral("api_key"),
                                   QStringLiteral("basic"), QStringLiteral("none")};
    return kinds;
}

const QStringList& statuses()
{
    static const QStringList all{QStringLiteral("ok"), QStringLiteral("needs_reconnect"),
                                 QStringLiteral("error"), QStringLiteral("untested")};
    return all;
}

QString notFound(const QString& name)
{
    return QStringLiteral("connection '%1' does not exist (see `vivarium connections list`)")
        .arg(name);
}

/** Every problem of a record at once, each naming the field (the table's CHECKs are the net). */
Status validate(const ConnectionRecord& c)
{
    static const QRegularExpression providerId(QStringLiteral("^[a-z][a-z0-9_-]*$"));
    QStringList problems;
    if (!AgentLoader::isValidId(c.name))
        problems << QStringLiteral("name: '%1' must match [a-z0-9][a-z0-9_-]{0,63}").arg(c.name);
    if (!providerId.match(c.provider).hasMatch())
        problems << QStringLiteral("provider: '%1' is not a provider id").arg(c.provider);
    if (!authKinds().contains(c.auth))
        problems << QStringLiteral("auth: '%1' is not one of %2")
                        .arg(c.auth, authKinds().join(QStringLiteral(", ")));
    if (!statuses().contains(c.status))
        problems << QStringLiteral("status: '%1' is not one of %2")
                        .arg(c.status, statuses().join(QStringLiteral(", ")));
    if (problems.isEmpty())
        return {};
    return fail(Error::Code::Validation, QStringLiteral("connection '%1' is not valid").arg(c.name),
                problems);
}

QVariant scopesToDb(const QStringList& scopes)
{
    return jsonToDb(QJsonArray::fromStringList(scopes));
}

QStringList scopesFromDb(const QVariant& v)
{
    QStringList out;
    for (const QJsonValue& s : jsonFromDb(v).toArray())
        out << s.toString();
    return out;
}

ConnectionRecord connectionFromRow(const QSqlQuery& q)
{
    ConnectionRecord c;
    c.name = q.value(0).toString();
    c.provider = q.value(1).toString();
    c.auth = q.value(2).toString();
    c.account = q.value(3).toString();
    c.scopes = scopesFromDb(q.value(4));
    c.status = q.value(5).toString();
    c.statusReason = q.value(6).toString();
    c.expiresAt = timeFromDb(q.value(7));
    c.checkedAt = timeFromDb(q.value(8));
    c.meta = jsonFromDb(q.value(9)).toObject();
    c.createdAt = timeFromDb(q.value(10));
    c.updatedAt = timeFromDb(q.value(11));
    return c;
}

} // namespace

Status Store::saveConnection(const ConnectionRecord& c)
{
    if (auto ok = validate(c); !ok)
        return ok;
    const QString purpose = QStringLiteral("save connection '%1'").arg(c.name);
    return d->inTransaction(purpose, [&]() -> Status {
        // Names are unique across providers: replacing one provider's connection with another's
        // would orphan the first one's secrets in the vault, so that is refused.
        auto existing = d->exec(purpose,
                                QStringLiteral("SELECT provider FROM connections WHERE "
                                               "name = ?"),
                                {c.name});
        if (!existing)
            return std::unexpected(existing.error());
        if (existing->next() && existing->value(0).toString() != c.provider) {
            return fail(Error::Code::Conflict,
                        QStringLiteral("connection '%1' already exists for provider '%2'; remove "
                                       "it first or choose another --name")
                            .arg(c.name, existing->value(0).toString()));
        }
        const QString now = nowText();
        return d->execOnly(
            purpose,
            QStringLiteral("INSERT INTO connections (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                           "?) ON CONFLICT(name) DO UPDATE SET auth = excluded.auth, "
                           "account = excluded.account, scopes = excluded.scopes, "
                           "status = excluded.status, status_reason = excluded.status_reason, "
                           "expires_at = excluded.expires_at, checked_at = excluded.checked_at, "
                           "meta = excluded.meta, updated_at = excluded.updated_at")
                .arg(QLatin1String(ConnectionColumns)),
            {c.name, c.provider, c.auth, textOrNull(c.account), scopesToDb(c.scopes), c.status,
             textOrNull(c.statusReason), timeToDb(c.expiresAt), timeToDb(c.checkedAt),
             jsonToDb(c.meta.isEmpty() ? QJsonObject() : c.meta), now, now});
    });
}

Result<ConnectionRecord> Store::connection(const QString& name) const
{
    auto q = d->exec(QStringLiteral("read connection '%1'").arg(name),
                     QStringLiteral("SELECT %1 FROM connections WHERE name = ?")
                         .arg(QLatin1String(ConnectionColumns)),
                     {name});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound, notFound(name));
    return connectionFromRow(*q);
}

Result<QList<ConnectionRecord>> Store::connections(const QString& provider) const
{
    const QString where = provider.isEmpty() ? QString() : QStringLiteral(" WHERE provider = ?");
    const QVariantList binds = provider.isEmpty() ? QVariantList() : QVariantList{provider};
    auto q = d->exec(QStringLiteral("list connections"),
                     QStringLiteral("SELECT %1 FROM connections%2 ORDER BY name")
                         .arg(QLatin1String(ConnectionColumns), where),
                     binds);
    if (!q)
        return std::unexpected(q.error());
    QList<ConnectionRecord> out;
    while (q->next())
        out.append(connectionFromRow(*q));
    return out;
}

Status Store::removeConnection(const QString& name)
{
    const QString purpose = QStringLiteral("remove connection '%1'").arg(name);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose, QStringLiteral("DELETE FROM connections WHERE name = ?"), {name});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, notFound(name));
        return {};
    });
}

Status Store::setConnectionStatus(const QString& name, const QString& status, const QString& reason,
                                  const QDateTime& expiresAt)
{
    if (!statuses().contains(status)) {
        return fail(Error::Code::Validation,
                    QStringLiteral("connection '%1': status '%2' is not one of %3")
                        .arg(name, status, statuses().join(QStringLiteral(", "))));
    }
    const QString purpose = QStringLiteral("set status of connection '%1'").arg(name);
    return d->inTransaction(purpose, [&]() -> Status {
        const QString now = nowText();
        // An invalid expiresAt keeps the stored one: a failed check says nothing about expiry.
        auto q = d->exec(purpose,
                         QStringLiteral("UPDATE connections SET status = ?, status_reason = ?, "
                                        "checked_at = ?, expires_at = COALESCE(?, expires_at), "
                                        "updated_at = ? WHERE name = ?"),
                         {status, textOrNull(reason), now, timeToDb(expiresAt), now, name});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, notFound(name));
        return {};
    });
}

} // namespace vivarium
