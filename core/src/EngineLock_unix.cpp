// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/EngineLock.h"

#include "vivarium/core/Logging.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace vivarium {

namespace {

std::optional<qint64> readPid(int fd)
{
    char buf[32] = {};
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return std::nullopt;
    bool ok = false;
    const qint64 pid = QByteArray(buf, int(n)).trimmed().toLongLong(&ok);
    return ok && pid > 0 ? std::optional<qint64>(pid) : std::nullopt;
}

} // namespace

Result<std::unique_ptr<EngineLock>> EngineLock::acquire(const QString& lockFile)
{
    const QByteArray path = QFile::encodeName(lockFile);
    // O_CLOEXEC: runner subprocesses must not inherit (and so keep alive) the engine's lock.
    const int fd = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(Error::Code::Io, QStringLiteral("cannot open lock file %1: %2")
                                         .arg(lockFile, QString::fromLocal8Bit(strerror(errno))));
    int rc = ::flock(fd, LOCK_EX | LOCK_NB);
    if (rc != 0 && errno == EWOULDBLOCK) {
        // holder() takes a brief shared lock to probe; give such a reader a moment to let go.
        ::usleep(100 * 1000);
        rc = ::flock(fd, LOCK_EX | LOCK_NB);
    }
    if (rc != 0) {
        const int err = errno;
        const auto pid = readPid(fd);
        ::close(fd);
        if (err == EWOULDBLOCK) {
            const QString who =
                pid ? QStringLiteral("pid %1").arg(*pid) : QStringLiteral("pid unknown");
            return fail(Error::Code::Locked,
                        QStringLiteral("data directory is in use by another engine (%1, lock %2)")
                            .arg(who, lockFile));
        }
        return fail(Error::Code::Io, QStringLiteral("cannot lock %1: %2")
                                         .arg(lockFile, QString::fromLocal8Bit(strerror(err))));
    }
    const QByteArray pid = QByteArray::number(qint64(::getpid())) + '\n';
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.constData(), size_t(pid.size()), 0) < 0)
        qCWarning(lcEngine) << "could not record pid in" << lockFile << strerror(errno);
    return std::unique_ptr<EngineLock>(new EngineLock(fd, lockFile));
}

std::optional<qint64> EngineLock::holder(const QString& lockFile)
{
    const QByteArray path = QFile::encodeName(lockFile);
    const int fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::optional<qint64> result;
    // A shared lock succeeds only if no engine holds the exclusive one.
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0)
        ::flock(fd, LOCK_UN);
    else
        result = readPid(fd).value_or(-1);
    ::close(fd);
    return result;
}

EngineLock::EngineLock(int fd, QString path)
    : m_fd(fd)
    , m_path(std::move(path))
{}

EngineLock::~EngineLock()
{
    if (m_fd >= 0) {
        // Clear the pid first so a reader never sees a stale holder after we let go.
        if (::ftruncate(m_fd, 0) != 0)
            qCDebug(lcEngine) << "could not clear" << m_path;
        ::flock(m_fd, LOCK_UN);
        ::close(m_fd);
    }
}

} // namespace vivarium
