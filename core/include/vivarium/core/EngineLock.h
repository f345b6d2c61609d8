// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QString>

#include <memory>
#include <optional>

namespace vivarium {

/**
 * The exclusive claim of one engine on a data directory. Backed by an OS file lock that the
 * kernel drops when the holder dies, so a crash never leaves a stale lock behind; the file
 * also records the holder's pid for the message a second engine prints.
 */
class EngineLock
{
public:
    /**
     * Take the lock at `lockFile` without waiting. Locked error: "... in use by another
     * engine (pid N)"; Io error if the file cannot be opened.
     */
    static Result<std::unique_ptr<EngineLock>> acquire(const QString& lockFile);

    /** Pid of the process holding the lock, or nullopt if nobody holds it. */
    static std::optional<qint64> holder(const QString& lockFile);

    ~EngineLock(); ///< releases the lock
    EngineLock(const EngineLock&) = delete;
    EngineLock& operator=(const EngineLock&) = delete;

private:
    EngineLock(int fd, QString path);
    int m_fd = -1;
    QString m_path;
};

} // namespace vivarium
