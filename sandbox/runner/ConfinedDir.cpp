// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ConfinedDir.h"

#include <QDir>
#include <QFile>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define VIVARIUM_HAVE_OPENAT2 1
#endif

namespace vivarium::runner {

namespace {

constexpr int MaxListDepth = 16;

/** Closes an fd when it goes out of scope. */
class Fd
{
public:
    explicit Fd(int fd)
        : m_fd(fd)
    {}
    ~Fd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

std::unexpected<QString> fail(const QString& message)
{
    return std::unexpected(message);
}

int retryOpenat(int dirfd, const char* path, int flags, unsigned mode)
{
    int fd;
    do {
        fd = ::openat(dirfd, path, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

#ifdef VIVARIUM_HAVE_OPENAT2
int retryOpenat2(int dirfd, const char* path, int flags, unsigned mode)
{
    open_how how{};
    how.flags = unsigned(flags);
    // The kernel refuses a mode without O_CREAT/O_TMPFILE.
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
        fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return fd < 0 ? -errno : int(fd);
}
#endif

} // namespace

ConfinedDir::~ConfinedDir()
{
    if (m_rootFd >= 0)
        ::close(m_rootFd);
}

std::expected<void, QString> ConfinedDir::open(const QString& path, const QString& label,
                                               bool forceFallback)
{
    m_label = label;
    const QByteArray p = QFile::encodeName(path);
    const int fd = retryOpenat(AT_FDCWD, p.constData(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return fail(QStringLiteral("cannot open the %1 %2: %3")
                        .arg(label, path, QString::fromLocal8Bit(std::strerror(-fd))));
    char real[PATH_MAX];
    if (!::realpath(p.constData(), real)) {
        const int err = errno;
        ::close(fd);
        return fail(QStringLiteral("cannot resolve the %1 %2: %3")
                        .arg(label, path, QString::fromLocal8Bit(std::strerror(err))));
    }
    if (m_rootFd >= 0)
        ::close(m_rootFd);
    m_rootFd = fd;
    m_rootReal = real;
#ifdef VIVARIUM_HAVE_OPENAT2
    m_openat2 = !forceFallback;
    if (m_openat2) {
        // Probe once: a seccomp filter or an old kernel answers ENOSYS (some filters EPERM).
        const int probe = retryOpenat2(m_rootFd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (probe >= 0)
            ::close(probe);
        else
            m_openat2 = false;
    }
#else
    Q_UNUSED(forceFallback);
    m_openat2 = false;
#endif
    return {};
}

std::expected<QString, QString> ConfinedDir::cleanPath(const QString& path) const
{
    if (path.isEmpty())
        return fail(QStringLiteral("the path is empty"));
    if (path.contains(QChar(0)))
        return fail(QStringLiteral("the path contains a NUL byte"));
    if (path.startsWith(QLatin1Char('/')))
        return fail(QStringLiteral("absolute paths are not allowed, use a path relative to the "
                                   "%1: %2")
                        .arg(m_label, path));
    const QString clean = QDir::cleanPath(path);
    if (clean == QLatin1String("..") || clean.startsWith(QLatin1String("../")))
        return fail(QStringLiteral("the path leads outside the %1: %2").arg(m_label, path));
    return clean;
}

int ConfinedDir::openBeneath(const QByteArray& rel, int flags, unsigned mode) const
{
#ifdef VIVARIUM_HAVE_OPENAT2
    if (m_openat2)
        return retryOpenat2(m_rootFd, rel.constData(), flags, mode);
#endif
    return openFallback(rel, flags, mode);
}

int ConfinedDir::openFallback(const QByteArray& rel, int flags, unsigned mode) const
{
    if (rel == ".")
        return retryOpenat(m_rootFd, ".", flags, mode);
    // Canonicalize the parent (following symlinks) and require it to stay under the root;
    // the last component is opened with O_NOFOLLOW so it cannot be a way out either.
    const qsizetype slash = rel.lastIndexOf('/');
    const QByteArray parent = slash < 0 ? QByteArray(".") : rel.left(slash);
    const QByteArray name = slash < 0 ? rel : rel.mid(slash + 1);
    const QByteArray full = QByteArray(m_rootReal + '/' + parent);
    char real[PATH_MAX];
    if (!::realpath(full.constData(), real))
        return -errno;
    const QByteArray realParent(real);
    const bool inside = m_rootReal == "/" || realParent == m_rootReal ||
                        realParent.startsWith(QByteArray(m_rootReal + '/'));
    if (!inside)
        return -EXDEV;
    const Fd dir(retryOpenat(AT_FDCWD, real, O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
    if (dir.get() < 0)
        return dir.get();
    return retryOpenat(dir.get(), name.constData(), flags | O_NOFOLLOW, mode);
}

int ConfinedDir::makeParents(const QByteArray& dir) const
{
    if (dir.isEmpty() || dir == ".")
        return 0;
    const QList<QByteArray> parts = dir.split('/');
    QByteArray prefix;
    for (const QByteArray& part : parts) {
        // Create each level inside an fd opened beneath the root: mkdirat never follows a
        // final symlink, and the open refuses one that leads out.
        const Fd parent(prefix.isEmpty() ? ::dup(m_rootFd)
                                         : openBeneath(prefix, O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (parent.get() < 0)
            return parent.get();
        if (::mkdirat(parent.get(), part.constData(), 0755) < 0 && errno != EEXIST)
            return -errno;
        prefix = prefix.isEmpty() ? part : QByteArray(prefix + '/' + part);
    }
    return 0;
}

QString ConfinedDir::describeErrno(int err, const QString& path, const char* what) const
{
    switch (err) {
    case ENOENT:
        return QStringLiteral("%1 not found: %2").arg(QLatin1String(what), path);
    case EXDEV:
        return QStringLiteral("the path leads outside the %1 (through a symbolic link): %2")
            .arg(m_label, path);
    case ELOOP:
        return m_openat2 ? QStringLiteral("too many levels of symbolic links: %1").arg(path)
                         : QStringLiteral("symbolic links are not followed here: %1").arg(path);
    case EISDIR:
        return QStringLiteral("is a directory, not a file: %1").arg(path);
    case ENOTDIR:
        return QStringLiteral("not a directory (a part of the path is a file): %1").arg(path);
    case EACCES:
    case EPERM:
        return QStringLiteral("permission denied: %1").arg(path);
    case ENAMETOOLONG:
        return QStringLiteral("the path or one of its names is too long: %1").arg(path);
    case ENOSPC:
        return QStringLiteral("no space left on the device writing %1").arg(path);
    case EDQUOT:
        return QStringLiteral("disk quota exceeded writing %1").arg(path);
    case EFBIG:
        return QStringLiteral("file too large: %1").arg(path);
    case EROFS:
        return QStringLiteral("the %1 is read-only: %2").arg(m_label, path);
    case EEXIST:
        return QStringLiteral("already exists: %1").arg(path);
    default:
        return QStringLiteral("%1: %2").arg(QString::fromLocal8Bit(std::strerror(err)), path);
    }
}

std::expected<ConfinedDir::Chunk, QString> ConfinedDir::read(const QString& path, qint64 offset,
                                                             qint64 maxBytes)
{
    const auto clean = cleanPath(path);
    if (!clean)
        return fail(clean.error());
    // O_NONBLOCK so a FIFO cannot hang the run; it is refused below as not a regular file.
    const Fd fd(
        openBeneath(QFile::encodeName(*clean), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.get() < 0)
        return fail(describeErrno(-fd.get(), path, "file"));
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) < 0)
        return fail(describeErrno(errno, path, "file"));
    if (S_ISDIR(st.st_mode))
        return fail(describeErrno(EISDIR, path, "file"));
    if (!S_ISREG(st.st_mode))
        return fail(QStringLiteral("not a regular file: %1").arg(path));
    Chunk chunk;
    chunk.fileSize = st.st_size;
    if (offset > st.st_size)
        return fail(QStringLiteral("offset %1 is past the end of %2 (%3 bytes)")
                        .arg(offset)
                        .arg(path)
                        .arg(st.st_size));
    const qint64 want = std::min<qint64>(maxBytes, st.st_size - offset);
    chunk.data.resize(want);
    qint64 got = 0;
    while (got < want) {
        const ssize_t n =
            ::pread(fd.get(), chunk.data.data() + got, size_t(want - got), off_t(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(describeErrno(errno, path, "file"));
        if (n == 0)
            break; // shrank while we read
        got += n;
    }
    chunk.data.truncate(got);
    return chunk;
}

std::expected<qint64, QString> ConfinedDir::write(const QString& path, const QByteArray& data,
                                                  bool append)
{
    const auto clean = cleanPath(path);
    if (!clean)
        return fail(clean.error());
    if (*clean == QLatin1String("."))
        return fail(describeErrno(EISDIR, path, "file"));
    const QByteArray rel = QFile::encodeName(*clean);
    const qsizetype slash = rel.lastIndexOf('/');
    if (slash > 0) {
        if (const int err = makeParents(rel.left(slash)); err < 0)
            return fail(describeErrno(-err, path, "directory"));
    }
    const Fd fd(openBeneath(
        rel, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (append ? O_APPEND : 0),
        0644));
    if (fd.get() < 0)
        return fail(describeErrno(-fd.get(), path, "file"));
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) < 0)
        return fail(describeErrno(errno, path, "file"));
    // Truncate only after checking what we opened: a FIFO or device is left alone.
    if (!S_ISREG(st.st_mode))
        return fail(QStringLiteral("not a regular file: %1").arg(path));
    if (!append && ::ftruncate(fd.get(), 0) < 0)
        return fail(describeErrno(errno, path, "file"));
    qsizetype done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd.get(), data.constData() + done, size_t(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(describeErrno(errno, path, "file"));
        done += n;
    }
    if (::fstat(fd.get(), &st) < 0)
        return fail(describeErrno(errno, path, "file"));
    return qint64(st.st_size);
}

std::expected<QList<ConfinedDir::Entry>, QString>
ConfinedDir::list(const QString& path, bool recursive, int maxEntries, bool* truncated)
{
    *truncated = false;
    const auto clean = cleanPath(path);
    if (!clean)
        return fail(clean.error());
    const int top = openBeneath(QFile::encodeName(*clean), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (top < 0)
        return fail(describeErrno(-top, path, "directory"));

    QList<Entry> entries;
    // Depth-first over fds: subdirectories are entered with O_NOFOLLOW from their parent's
    // fd, never by path, so a symlink swapped in meanwhile cannot redirect the walk.
    struct Pending
    {
        int fd;
        QString prefix;
        int depth;
    };
    QList<Pending> stack{{top, QString(), 0}};
    while (!stack.isEmpty()) {
        const Pending cur = stack.takeLast();
        DIR* dir = ::fdopendir(cur.fd);
        if (!dir) {
            ::close(cur.fd);
            continue;
        }
        while (const dirent* e = ::readdir(dir)) {
            if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, ".."))
                continue;
            if (entries.size() >= maxEntries) {
                *truncated = true;
                break;
            }
            struct stat st
            {
            };
            if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            Entry entry;
            entry.path = cur.prefix + QFile::decodeName(e->d_name);
            entry.size = st.st_size;
            if (S_ISREG(st.st_mode))
                entry.kind = Entry::Kind::File;
            else if (S_ISDIR(st.st_mode))
                entry.kind = Entry::Kind::Directory;
            else if (S_ISLNK(st.st_mode))
                entry.kind = Entry::Kind::Symlink;
            else
                entry.kind = Entry::Kind::Other;
            if (recursive && entry.kind == Entry::Kind::Directory && cur.depth < MaxListDepth) {
                const int sub = retryOpenat(::dirfd(dir), e->d_name,
                                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
                if (sub >= 0)
                    stack.append({sub, entry.path + QLatin1Char('/'), cur.depth + 1});
            }
            entries.append(entry);
        }
        ::closedir(dir);
        if (*truncated)
            break;
    }
    for (const Pending& p : std::as_const(stack))
        ::close(p.fd);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
    return entries;
}

} // namespace vivarium::runner
