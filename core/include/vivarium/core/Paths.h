// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QString>

namespace vivarium {

/** Where a data directory keeps its parts (DESIGN section 8). */
class Paths
{
public:
    /** Environment variable naming the data directory when --data-dir is not given. */
    static constexpr const char* DataDirEnv = "VIVARIUM_DATA_DIR";

    /**
     * The data directory: `explicitDir` (from --data-dir) if non-empty, else $VIVARIUM_DATA_DIR
     * if set and non-empty, else QStandardPaths::AppDataLocation. Always absolute and clean.
     */
    static QString resolveDataDir(const QString& explicitDir = {});

    /** Create `dir` (and parents) with mode 0700 if missing. Io error names the path. */
    static Status ensurePrivateDir(const QString& dir);

    explicit Paths(QString dataDir);
    QString dataDir() const { return m_dataDir; }
    QString storeFile() const; ///< vivarium.db
    QString lockFile() const;  ///< engine.lock
    QString runsDir() const;   ///< per-run workspaces
    QString memoryDir() const; ///< per-agent memory directories

private:
    QString m_dataDir;
};

} // namespace vivarium
