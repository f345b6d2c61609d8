// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QString>

namespace vivarium::cli {

/**
 * The sender side of systemd's notification protocol (sd_notify(3)) without libsystemd: one
 * AF_UNIX datagram of newline-separated `KEY=VALUE` lines to the socket named by
 * `$NOTIFY_SOCKET`, a path or, when it starts with '@', an abstract socket name. Services of
 * `Type=notify` say READY=1 once they serve and STOPPING=1 when they begin to stop; STATUS=
 * is the line `systemctl status` shows. Without `$NOTIFY_SOCKET` (a terminal, a test, a user
 * who runs `vivarium serve` by hand) every call is a silent no-op.
 */
class SystemdNotifier
{
public:
    /**
     * Reads `$NOTIFY_SOCKET` and unsets it, so processes this one starts (runners, browsers)
     * can never pose as the service (systemd's own sd_notify does the same when asked).
     */
    SystemdNotifier();
    /** A given socket address (same syntax as `$NOTIFY_SOCKET`); empty = inactive. */
    explicit SystemdNotifier(QString address);

    /** Whether there is a socket to notify. */
    bool isActive() const { return !m_address.isEmpty(); }
    QString address() const { return m_address; }

    /**
     * Send one message (`READY=1\nSTATUS=...`). False when inactive or when sending failed;
     * errorString() says why. Never blocks: the datagram is sent non-blocking.
     */
    bool notify(const QByteArray& message);
    bool ready(const QString& status);
    bool stopping(const QString& status, int extendTimeoutSeconds = 0);
    bool status(const QString& status);

    QString errorString() const { return m_error; }

private:
    QString m_address;
    QString m_error;
};

} // namespace vivarium::cli
