// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Paths.h"

#include "vivarium/core/Logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

namespace vivarium {

QString Paths::resolveDataDir(const QString& explicitDir)
{
    QString dir = explicitDir;
    if (dir.isEmpty())
        dir = qEnvironmentVariable(DataDirEnv);
    if (dir.isEmpty())
        dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
}

Status Paths::ensurePrivateDir(const QString& dir)
{
    QFileInfo info(dir);
    if (info.exists() && !info.isDir())
        return fail(Error::Code::Io, QStringLiteral("%1 exists and is not a directory").arg(dir));
    if (!info.exists()) {
        if (!QDir().mkpath(dir))
            return fail(Error::Code::Io, QStringLiteral("cannot create directory %1").arg(dir));
        // Owner only: the directory holds the store, run workspaces and agent memory.
        QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        qCDebug(lcPaths) << "created" << dir;
    }
    return {};
}

Paths::Paths(QString dataDir)
    : m_dataDir(std::move(dataDir))
{}

QString Paths::storeFile() const
{
    return m_dataDir + QStringLiteral("/vivarium.db");
}
QString Paths::lockFile() const
{
    return m_dataDir + QStringLiteral("/engine.lock");
}
QString Paths::runsDir() const
{
    return m_dataDir + QStringLiteral("/runs");
}
QString Paths::memoryDir() const
{
    return m_dataDir + QStringLiteral("/memory");
}

} // namespace vivarium
