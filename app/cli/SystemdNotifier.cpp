// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SystemdNotifier.h"

#include <QFile>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace vivarium::cli {

namespace {

/** STATUS= is one line: newlines would start new (unintended) assignments. */
QByteArray oneLine(const QString& text)
{
    QByteArray s = text.toUtf8();
    s.replace('\n', ' ');
    return s;
}

} // namespace

SystemdNotifier::SystemdNotifier()
    : m_address(qEnvironmentVariable("NOTIFY_SOCKET"))
{
    ::unsetenv("NOTIFY_SOCKET");
}

SystemdNotifier::SystemdNotifier(QString address)
    : m_address(std::move(address))
{}

bool SystemdNotifier::notify(const QByteArray& message)
{
    if (m_address.isEmpty()) {
        m_error = QStringLiteral("$NOTIFY_SOCKET is not set");
        return false;
    }
    // Only paths and abstract names: systemd also knows vsock:, which a local service never
    // gets.
    const QByteArray name =
        m_address.startsWith(QLatin1Char('@')) ? m_address.toUtf8() : QFile::encodeName(m_address);
    sockaddr_un sa = {};
    sa.sun_family = AF_UNIX;
    if (!(name.startsWith('/') || name.startsWith('@')) || name.size() < 2 ||
        std::size_t(name.size()) > sizeof(sa.sun_path) - 1) {
        m_error = QStringLiteral("NOTIFY_SOCKET \"%1\" is neither an absolute path nor an "
                                 "abstract name (@...) that fits a socket address")
                      .arg(m_address);
        return false;
    }
    std::memcpy(sa.sun_path, name.constData(), std::size_t(name.size()));
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + std::size_t(name.size()));
    if (name.startsWith('@'))
        sa.sun_path[0] = '\0'; // abstract: the length counts the name, no terminating NUL
    else
        len += 1;

    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        m_error = QStringLiteral("socket: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    ssize_t sent = -1;
    do {
        sent = ::sendto(fd, message.constData(), std::size_t(message.size()), MSG_NOSIGNAL,
                        reinterpret_cast<const sockaddr*>(&sa), len);
    } while (sent < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (sent != ssize_t(message.size())) {
        m_error = QStringLiteral("cannot notify %1: %2")
                      .arg(m_address, sent < 0 ? QString::fromLocal8Bit(std::strerror(err))
                                               : QStringLiteral("short write"));
        return false;
    }
    m_error.clear();
    return true;
}

bool SystemdNotifier::ready(const QString& status)
{
    return notify("READY=1\nSTATUS=" + oneLine(status) + '\n');
}

bool SystemdNotifier::stopping(const QString& status, int extendTimeoutSeconds)
{
    QByteArray m = "STOPPING=1\nSTATUS=" + oneLine(status) + '\n';
    // Lets the grace setting exceed the unit's TimeoutStopSec (systemd >= 236 honours it).
    if (extendTimeoutSeconds > 0)
        m += "EXTEND_TIMEOUT_USEC=" + QByteArray::number(qint64(extendTimeoutSeconds) * 1000000) +
             '\n';
    return notify(m);
}

bool SystemdNotifier::status(const QString& status)
{
    return notify("STATUS=" + oneLine(status) + '\n');
}

} // namespace vivarium::cli
