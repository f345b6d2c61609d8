// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "BrokerConnection.h"

#include <QFile>

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace vivarium::runner {

namespace {

QString errnoText(int err)
{
    return QString::fromLocal8Bit(std::strerror(err));
}

} // namespace

BrokerConnection::~BrokerConnection()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

bool BrokerConnection::fail(const QString& why)
{
    if (m_error.isEmpty())
        m_error = why;
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    return false;
}

bool BrokerConnection::connectTo(const QString& socketPath)
{
    const QByteArray path = QFile::encodeName(socketPath);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.isEmpty() || size_t(path.size()) >= sizeof addr.sun_path)
        return fail(QStringLiteral("broker socket path is empty or too long: %1").arg(socketPath));
    std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return fail(QStringLiteral("cannot create a socket: %1").arg(errnoText(errno)));
    int rc;
    do {
        rc = ::connect(m_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return fail(QStringLiteral("cannot connect to the broker at %1: %2")
                        .arg(socketPath, errnoText(errno)));
    return true;
}

bool BrokerConnection::sendBytes(const char* data, qsizetype size, bool more)
{
    if (m_fd < 0)
        return fail(QStringLiteral("not connected to the broker"));
    qsizetype done = 0;
    while (done < size) {
        // MSG_NOSIGNAL: a broker that went away is an error to report, not a SIGPIPE death.
        const ssize_t n =
            ::send(m_fd, data + done, size_t(size - done), MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(QStringLiteral("lost the broker connection while sending: %1")
                            .arg(errnoText(errno)));
        done += n;
    }
    return true;
}

bool BrokerConnection::send(const QJsonObject& message)
{
    const QByteArray line = protocol::encode(message);
    return sendBytes(line.constData(), line.size(), false);
}

std::optional<QJsonObject> BrokerConnection::receive()
{
    char buffer[64 * 1024];
    for (;;) {
        if (auto message = m_reader.next())
            return message;
        if (m_reader.hasError()) {
            fail(QStringLiteral("the broker sent an invalid message: %1").arg(m_reader.error()));
            return std::nullopt;
        }
        if (m_fd < 0) {
            fail(QStringLiteral("not connected to the broker"));
            return std::nullopt;
        }
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail(QStringLiteral("lost the broker connection: %1").arg(errnoText(errno)));
            return std::nullopt;
        }
        if (n == 0) {
            fail(QStringLiteral("the broker closed the connection"));
            return std::nullopt;
        }
        m_reader.feed(QByteArray(buffer, n));
    }
}

std::optional<QJsonObject> BrokerConnection::request(QJsonObject message)
{
    const int id = m_nextId++;
    message.insert(QStringLiteral("id"), id);
    if (!send(message))
        return std::nullopt;
    return awaitResult(id);
}

std::optional<QJsonObject> BrokerConnection::request(QJsonObject message, const QByteArray& marker,
                                                     const QList<QByteArray>& items)
{
    const int id = m_nextId++;
    message.insert(QStringLiteral("id"), id);
    const QByteArray line = protocol::encode(message);
    // Quotes inside JSON strings are escaped, so an unescaped `"key":[]` is that key itself.
    const qsizetype at = line.indexOf(marker);
    if (at < 0 || !marker.endsWith("[]")) {
        fail(QStringLiteral("internal error: %1 not found in the request")
                 .arg(QString::fromUtf8(marker)));
        return std::nullopt;
    }
    const qsizetype open = at + marker.size() - 1; // just past '['
    if (!sendBytes(line.constData(), open, true))
        return std::nullopt;
    for (qsizetype i = 0; i < items.size(); ++i) {
        if (i > 0 && !sendBytes(",", 1, true))
            return std::nullopt;
        if (!sendBytes(items.at(i).constData(), items.at(i).size(), true))
            return std::nullopt;
    }
    if (!sendBytes(line.constData() + open, line.size() - open, false))
        return std::nullopt;
    return awaitResult(id);
}

std::optional<QJsonObject> BrokerConnection::awaitResult(int id)
{
    const auto answer = receive();
    if (!answer)
        return std::nullopt;
    // The runner has one request in flight at a time, so anything but its result is garbage.
    if (answer->value(QStringLiteral("type")).toString() != QLatin1String("result") ||
        answer->value(QStringLiteral("id")).toInt(-1) != id ||
        !answer->value(QStringLiteral("ok")).isBool()) {
        QString shown = QString::fromUtf8(protocol::encode(*answer)).trimmed();
        if (shown.size() > 200)
            shown = shown.left(200) + QStringLiteral("...");
        fail(QStringLiteral("unexpected message from the broker (waiting for the result of "
                            "request %1): %2")
                 .arg(id)
                 .arg(shown));
        return std::nullopt;
    }
    return answer;
}

bool BrokerConnection::sendEvent(const QString& type, const QJsonObject& data)
{
    return send({{QStringLiteral("type"), QStringLiteral("event")},
                 {QStringLiteral("event"),
                  QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("data"), data}}}});
}

} // namespace vivarium::runner
