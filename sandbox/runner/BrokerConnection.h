// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/protocol/BrokerProtocol.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace vivarium::runner {

/**
 * The runner's end of the broker socket (protocol in BrokerProtocol.h). Blocking POSIX I/O:
 * the runner does one thing at a time, so it needs no event loop and stays small.
 *
 * Any failure (socket closed, I/O error, a line that is not JSON, a result for another id,
 * a message the protocol does not have) breaks the connection for good: every later call
 * fails fast and error() keeps the first reason.
 */
class BrokerConnection
{
public:
    BrokerConnection() = default;
    ~BrokerConnection();
    BrokerConnection(const BrokerConnection&) = delete;
    BrokerConnection& operator=(const BrokerConnection&) = delete;

    bool connectTo(const QString& socketPath);
    /** Send `message` with a fresh `id` and wait for its result. nullopt: broken. */
    std::optional<QJsonObject> request(QJsonObject message);
    /**
     * Like request(), with `items` (each one encoded JSON value) spliced into the empty array
     * `marker` (e.g. `"messages":[]`) of the encoded message. The line is sent in pieces, so a
     * long conversation is never copied into one more buffer.
     */
    std::optional<QJsonObject> request(QJsonObject message, const QByteArray& marker,
                                       const QList<QByteArray>& items);
    /** Send a run event (`{"type":"event","event":{"type","data"}}`); no answer comes. */
    bool sendEvent(const QString& type, const QJsonObject& data);
    QString error() const { return m_error; }

private:
    bool send(const QJsonObject& message);
    bool sendBytes(const char* data, qsizetype size, bool more);
    std::optional<QJsonObject> awaitResult(int id);
    std::optional<QJsonObject> receive();
    bool fail(const QString& why);

    int m_fd = -1;
    int m_nextId = 1;
    protocol::LineReader m_reader;
    QString m_error;
};

} // namespace vivarium::runner
