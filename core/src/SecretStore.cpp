// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/SecretStore.h"

#include "vivarium/core/Paths.h"

#include <QDir>

namespace vivarium {

Result<QByteArray> MemorySecretStore::read(const QString& key)
{
    const auto it = m_values.constFind(key);
    if (it == m_values.constEnd())
        return fail(Error::Code::NotFound, QStringLiteral("no secret named '%1'").arg(key));
    return *it;
}

Status MemorySecretStore::write(const QString& key, const QByteArray& value)
{
    m_values.insert(key, value);
    return {};
}

Status MemorySecretStore::remove(const QString& key)
{
    if (m_values.remove(key) == 0)
        return fail(Error::Code::NotFound, QStringLiteral("no secret named '%1'").arg(key));
    return {};
}

Result<QStringList> MemorySecretStore::keys()
{
    QStringList k = m_values.keys();
    k.sort();
    return k;
}

Result<std::unique_ptr<SecretStore>> SecretStore::openDefault(const Paths& paths)
{
    const QString vault = paths.dataDir() + QStringLiteral("/vault.bin");
    QString keyFile = qEnvironmentVariable("VIVARIUM_VAULT_KEY_FILE");
    bool create = false;
    if (keyFile.isEmpty()) {
        const QString credDir = qEnvironmentVariable("CREDENTIALS_DIRECTORY");
        if (!credDir.isEmpty() && QFile::exists(credDir + QStringLiteral("/vivarium-vault-key")))
            keyFile = credDir + QStringLiteral("/vivarium-vault-key");
    }
    if (keyFile.isEmpty()) {
        keyFile = paths.dataDir() + QStringLiteral("/vault.key");
        create = true;
    }
    auto v = FileVault::open(vault, keyFile, create);
    if (!v)
        return std::unexpected(v.error());
    return std::unique_ptr<SecretStore>(std::move(*v));
}

} // namespace vivarium
