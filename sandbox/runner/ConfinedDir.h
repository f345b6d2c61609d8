// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <expected>

namespace vivarium::runner {

/**
 * A directory the model's tools may touch, and nothing outside it: the run's workspace or the
 * agent's memory directory. Paths are relative; absolute paths, NUL bytes and `..` that climbs
 * out are refused up front, and every open resolves beneath the root with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so a symlink pointing out is never followed.
 * Where openat2 is missing (old kernel, seccomp), the parent directory is canonicalized and
 * checked against the root and the last component is opened with O_NOFOLLOW.
 *
 * Errors are readable sentences naming the path as the caller gave it, e.g.
 * `file not found: notes/x.txt`. The sandbox already confines the runner; this keeps a model
 * from reaching what the sandbox happens to expose (its own binary, /proc, other mounts).
 */
class ConfinedDir
{
public:
    /** One directory entry. `path` is relative to the listed directory. */
    struct Entry
    {
        enum class Kind { File, Directory, Symlink, Other };
        QString path;
        Kind kind = Kind::File;
        qint64 size = 0;
    };

    /** Part of a file. */
    struct Chunk
    {
        QByteArray data;
        qint64 fileSize = 0;
    };

    ConfinedDir() = default;
    ~ConfinedDir();
    ConfinedDir(const ConfinedDir&) = delete;
    ConfinedDir& operator=(const ConfinedDir&) = delete;

    /**
     * Open `path` as the root. `label` names it in messages ("workspace", "memory directory").
     * `forceFallback` skips openat2 (tests exercise the fallback with it).
     */
    std::expected<void, QString> open(const QString& path, const QString& label,
                                      bool forceFallback = false);
    bool isOpen() const { return m_rootFd >= 0; }
    QString label() const { return m_label; }
    bool usesOpenat2() const { return m_openat2; }

    /** Up to `maxBytes` from `offset` of a regular file. */
    std::expected<Chunk, QString> read(const QString& path, qint64 offset, qint64 maxBytes);
    /** Replace (or append to) a file, creating missing parent directories. Returns the new size. */
    std::expected<qint64, QString> write(const QString& path, const QByteArray& data, bool append);
    /**
     * Entries of a directory, sorted by path; with `recursive`, those of its subdirectories too
     * (symlinked directories are listed, not entered). At most `maxEntries`; `truncated` says
     * whether more existed.
     */
    std::expected<QList<Entry>, QString> list(const QString& path, bool recursive, int maxEntries,
                                              bool* truncated);

    /**
     * `path` lexically cleaned ("a/./b/../c" -> "a/c"), or the reason it is refused: empty,
     * absolute, containing NUL, or leading outside the root.
     */
    std::expected<QString, QString> cleanPath(const QString& path) const;

private:
    /** An fd for `rel` (already clean) opened beneath the root, or -errno. */
    int openBeneath(const QByteArray& rel, int flags, unsigned mode = 0) const;
    int openFallback(const QByteArray& rel, int flags, unsigned mode) const;
    /** mkdir -p of `dir` (clean, relative) beneath the root; 0 or -errno. */
    int makeParents(const QByteArray& dir) const;
    QString describeErrno(int err, const QString& path, const char* what) const;

    int m_rootFd = -1;
    QByteArray m_rootReal; ///< canonical root, for the fallback's prefix check
    QString m_label;
    bool m_openat2 = true;
};

} // namespace vivarium::runner
