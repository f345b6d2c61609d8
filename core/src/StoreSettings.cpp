// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The settings table of migration 5: plain key/value text; Settings.h gives it types.
#include "StorePrivate.h"

namespace vivarium {

Result<QString> Store::setting(const QString& key) const
{
    auto q = d->exec(QStringLiteral("read setting '%1'").arg(key),
                     QStringLiteral("SELECT value FROM settings WHERE key = ?"), {key});
    if (!q)
        return std::unexpected(q.error());
    if (!q->next())
        return fail(Error::Code::NotFound, QStringLiteral("setting '%1' is not set").arg(key));
    return q->value(0).toString();
}

Status Store::setSetting(const QString& key, const QString& value)
{
    const QString purpose = QStringLiteral("save setting '%1'").arg(key);
    return d->inTransaction(purpose, [&]() -> Status {
        return d->execOnly(
            purpose,
            QStringLiteral("INSERT INTO settings (key, value, updated_at) "
                           "VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                           "value = excluded.value, updated_at = excluded.updated_at"),
            {key, value, nowText()});
    });
}

Status Store::removeSetting(const QString& key)
{
    const QString purpose = QStringLiteral("remove setting '%1'").arg(key);
    return d->inTransaction(purpose, [&]() -> Status {
        auto q = d->exec(purpose, QStringLiteral("DELETE FROM settings WHERE key = ?"), {key});
        if (!q)
            return std::unexpected(q.error());
        if (q->numRowsAffected() != 1)
            return fail(Error::Code::NotFound, QStringLiteral("setting '%1' is not set").arg(key));
        return {};
    });
}

} // namespace vivarium
