// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/SandboxLauncher.h"

#include "LandlockRules.h"

#include "vivarium/sandbox/SandboxProfile.h"
#include "vivarium/sandbox/SeccompFilter.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace vivarium {

namespace {

/** Most bind mounts staged for a root engine: workspace, memory, socket, init, program. */
constexpr int MaxStaged = 8;

struct StagedBind
{
    std::string source; ///< host path, opened as root inside the private mount namespace
    std::string target; ///< under the stage directory
    bool directory = false;
    bool readOnly = false;
};

struct RawLimit
{
    int resource = 0;
    rlim_t value = 0;
};

// --- async-signal-safe helpers for the child ------------------------------------------------

void writeAll(const char* s) noexcept
{
    size_t n = std::strlen(s);
    while (n > 0) {
        const ssize_t w = ::write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= size_t(w);
    }
}

[[noreturn]] void childFail(const char* what, const char* detail, int err) noexcept
{
    // One line: the supervisor keeps the last stderr line as the reason a run broke.
    writeAll("vivarium-sandbox: ");
    writeAll(what);
    if (detail && *detail) {
        writeAll(" ");
        writeAll(detail);
    }
    if (err != 0) {
        writeAll(": ");
        const char* text = ::strerrordesc_np(err);
        writeAll(text ? text : "unknown error");
    }
    writeAll("\n");
    ::_exit(126);
}

/** "/proc/self/fd/N" into `buf` without snprintf (not async-signal-safe). */
void procFdPath(int fd, char (&buf)[40]) noexcept
{
    static const char prefix[] = "/proc/self/fd/";
    std::memcpy(buf, prefix, sizeof prefix);
    char digits[16];
    int n = 0;
    unsigned v = unsigned(fd);
    do {
        digits[n++] = char('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < 15);
    char* out = buf + sizeof prefix - 1;
    while (n > 0)
        *out++ = digits[--n];
    *out = '\0';
}

void markInheritedCloseOnExec() noexcept
{
    // Nothing the engine has open (database, lock, other runs' sockets) may leak into a run.
    // CLOEXEC rather than close: QProcess's own exec-status pipe must survive until exec.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    struct rlimit lim
    {
    };
    rlim_t top = 4096;
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < top)
        top = lim.rlim_cur;
    for (int fd = 3; fd < int(top); ++fd)
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// --- host-side helpers ------------------------------------------------------------------------

int makeMemfd(const char* name, const QByteArray& content, QString* error)
{
    const int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        *error = QStringLiteral("memfd_create: %1").arg(QString::fromLocal8Bit(strerror(errno)));
        return -1;
    }
    qsizetype done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.constData() + done, size_t(content.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = QStringLiteral("writing %1: %2")
                         .arg(QLatin1String(name), QString::fromLocal8Bit(strerror(errno)));
            ::close(fd);
            return -1;
        }
        done += n;
    }
    ::lseek(fd, 0, SEEK_SET);
    return fd;
}

/**
 * Give a tree to the sandbox uid, walking by descriptor (openat with O_NOFOLLOW) so a symlink
 * planted by a run cannot redirect the chown to a host file. Entries with more than one hard
 * link are left alone for the same reason.
 */
void chownTreeAt(int dirFd, uid_t uid, gid_t gid, int depth)
{
    if (depth > 64)
        return;
    const int dupFd = ::dup(dirFd);
    if (dupFd < 0)
        return;
    DIR* dir = ::fdopendir(dupFd);
    if (!dir) {
        ::close(dupFd);
        return;
    }
    while (const dirent* e = ::readdir(dir)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st
        {
        };
        if (::fstatat(dirFd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            const int sub =
                ::openat(dirFd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                if (::fchown(sub, uid, gid) == 0)
                    chownTreeAt(sub, uid, gid, depth + 1);
                ::close(sub);
            }
        } else if (S_ISLNK(st.st_mode) || st.st_nlink == 1) {
            if (st.st_uid != uid || st.st_gid != gid)
                ::fchownat(dirFd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW);
        }
    }
    ::closedir(dir);
}

bool chownTree(const QString& path, uid_t uid, gid_t gid, QString* error)
{
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || ::fchown(fd, uid, gid) != 0) {
        *error = QStringLiteral("cannot hand %1 to uid %2: %3")
                     .arg(path)
                     .arg(uid)
                     .arg(QString::fromLocal8Bit(strerror(errno)));
        if (fd >= 0)
            ::close(fd);
        return false;
    }
    chownTreeAt(fd, uid, gid, 0);
    ::close(fd);
    return true;
}

QString findInit(const SandboxRequest& r)
{
    if (!r.initPath.isEmpty())
        return r.initPath;
    return SandboxLaunch::findHelper(QLatin1String(SandboxPaths::InitName),
                                     QFileInfo(r.program).isAbsolute() ? r.program : QString());
}

} // namespace

struct SandboxLaunch::Private
{
    SandboxTier tier = SandboxTier::None;
    QString program;
    QStringList arguments;
    QProcessEnvironment environment;
    QString workingDirectory;
    QString innerWorkspace;
    QString innerMemoryDir;
    QString innerSocket;
    uid_t hostUid = 0;

    // What the child does, prepared here so the child only makes system calls.
    bool ownSession = false;
    bool ownGroup = false;
    std::vector<int> inheritedFds; ///< bwrap reads these; closed here after the start
    bool stage = false;
    std::string stageRoot;
    std::string stageOptions;
    std::string stageDir;
    std::string stageBinDir;
    std::vector<StagedBind> staged;
    std::vector<RawLimit> limits;
    bool dropUid = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string chdirTo;
    bool noNewPrivs = false;
    LandlockPlan landlock;
    QByteArray seccomp; ///< loaded by the child itself (landlock tier); bwrap loads its own
    int readyRead = -1; ///< bwrap tier: vivarium-sandbox-init's "started" byte arrives here
    /**
     * bwrap tier: the only write end of the sandbox's lifeline, held (close-on-exec) for as
     * long as this object lives; when this process dies, the sandbox kills itself.
     */
    int lifelineWrite = -1;

    ~Private()
    {
        for (int fd : inheritedFds)
            ::close(fd);
        for (int fd : {readyRead, lifelineWrite}) {
            if (fd >= 0)
                ::close(fd);
        }
    }
};

SandboxLaunch::SandboxLaunch()
    : d(std::make_unique<Private>())
{}

SandboxLaunch::~SandboxLaunch() = default;

QString SandboxLaunch::findHelper(const QString& name, const QString& nextTo)
{
    QStringList candidates;
    if (!nextTo.isEmpty()) {
        candidates << QFileInfo(nextTo).absolutePath() + QLatin1Char('/') + name;
        const QString canonical = QFileInfo(nextTo).canonicalFilePath();
        if (!canonical.isEmpty())
            candidates << QFileInfo(canonical).absolutePath() + QLatin1Char('/') + name;
    }
    const QString appDir = QCoreApplication::applicationDirPath();
    if (!appDir.isEmpty()) {
        candidates << appDir + QLatin1Char('/') + name;
        candidates << appDir + QStringLiteral("/../libexec/vivarium/") + name;
    }
#ifdef VIVARIUM_LIBEXEC_DIR
    candidates << QStringLiteral(VIVARIUM_LIBEXEC_DIR "/vivarium/") + name;
#endif
    for (const QString& c : std::as_const(candidates)) {
        const QFileInfo info(c);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return {};
}

QString SandboxLaunch::bwrapPath()
{
    static const QString path = QStandardPaths::findExecutable(QStringLiteral("bwrap"));
    return path;
}

SandboxCredentials SandboxLaunch::credentials()
{
    static const SandboxCredentials creds = []() {
        SandboxCredentials c;
        bool ok = false;
        const uint uid = qEnvironmentVariable("VIVARIUM_SANDBOX_UID").toUInt(&ok);
        if (ok && uid != 0)
            c.uid = uid_t(uid);
        const uint gid = qEnvironmentVariable("VIVARIUM_SANDBOX_GID").toUInt(&ok);
        if (ok && gid != 0)
            c.gid = gid_t(gid);
        return c;
    }();
    return creds;
}

Result<std::unique_ptr<SandboxLaunch>> SandboxLaunch::prepare(const SandboxRequest& r)
{
    std::unique_ptr<SandboxLaunch> launch(new SandboxLaunch);
    Private& p = *launch->d;
    p.tier = r.tier;

    if (r.tier == SandboxTier::Container)
        return fail(Error::Code::Unsupported,
                    QStringLiteral("the container tier is not implemented in this build"));
    if (r.program.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("no program to run"));
    if (!QFileInfo(r.workspace).isDir())
        return fail(Error::Code::NotFound,
                    QStringLiteral("workspace %1 is not a directory").arg(r.workspace));
    if (!r.memoryDir.isEmpty() && !QFileInfo(r.memoryDir).isDir())
        return fail(Error::Code::NotFound,
                    QStringLiteral("memory directory %1 is not a directory").arg(r.memoryDir));

    if (r.tier == SandboxTier::None) {
        // Today's plain subprocess: dev only, labelled UNSANDBOXED wherever it shows.
        p.program = r.program;
        p.arguments = r.arguments;
        for (const auto& [k, v] : sandboxEnvironment(r.workspace, r.workspace, r.brokerSocket))
            p.environment.insert(k, v);
        p.workingDirectory = r.workspace;
        p.innerWorkspace = r.workspace;
        p.innerMemoryDir = r.memoryDir;
        p.innerSocket = r.brokerSocket;
        p.ownGroup = r.newProcessGroup;
        p.hostUid = ::geteuid();
        return launch;
    }

    // The program, resolved on the host.
    QString programPath = r.program;
    const bool bareName = !r.program.contains(QLatin1Char('/'));
    if (bareName && r.tier == SandboxTier::Landlock) {
        programPath = QStandardPaths::findExecutable(
            r.program, {QStringLiteral("/usr/bin"), QStringLiteral("/bin")});
        if (programPath.isEmpty())
            return fail(Error::Code::NotFound,
                        QStringLiteral("%1: not found in /usr/bin:/bin").arg(r.program));
    }
    QFileInfo programInfo(programPath);
    if (!bareName || r.tier == SandboxTier::Landlock) {
        programPath = programInfo.absoluteFilePath();
        if (!programInfo.exists())
            return fail(Error::Code::NotFound, QStringLiteral("%1: no such file").arg(programPath));
        if (!programInfo.isFile() || !programInfo.isExecutable())
            return fail(Error::Code::Validation,
                        QStringLiteral("%1: not an executable file").arg(programPath));
    }
    const bool programInUsr = !bareName && programPath.startsWith(QLatin1String("/usr/")) &&
                              programInfo.canonicalFilePath().startsWith(QLatin1String("/usr/"));
    const QString programName = programInfo.fileName();

    QString initPath;
    if (r.tier == SandboxTier::Bwrap) {
        if (bwrapPath().isEmpty())
            return fail(Error::Code::Unsupported,
                        QStringLiteral("bwrap not found in PATH (install the bubblewrap package)"));
        initPath = findInit(r);
        if (initPath.isEmpty())
            return fail(Error::Code::NotFound,
                        QStringLiteral("%1 not found beside %2 or this executable")
                            .arg(QLatin1String(SandboxPaths::InitName), r.program));
    }

    // As root: the sandboxed process becomes the sandbox uid before anything else runs, and
    // what it must write becomes that uid's.
    const bool root = ::geteuid() == 0;
    p.hostUid = ::geteuid();
    if (root) {
        const SandboxCredentials c = credentials();
        p.dropUid = true;
        p.uid = c.uid;
        p.gid = c.gid;
        p.hostUid = c.uid;
        QString error;
        if (!chownTree(r.workspace, c.uid, c.gid, &error) ||
            (!r.memoryDir.isEmpty() && !chownTree(r.memoryDir, c.uid, c.gid, &error)))
            return fail(Error::Code::Io, error);
        if (!r.brokerSocket.isEmpty() &&
            ::lchown(QFile::encodeName(r.brokerSocket).constData(), c.uid, c.gid) != 0)
            return fail(Error::Code::Io, QStringLiteral("cannot hand the broker socket %1 to uid "
                                                        "%2: %3")
                                             .arg(r.brokerSocket)
                                             .arg(c.uid)
                                             .arg(QString::fromLocal8Bit(strerror(errno))));
        // The data directory stays 0700 root: its pieces are bind-mounted, in a private mount
        // namespace of the child, onto a tmpfs the sandbox uid can traverse.
        p.stage = true;
        const bool haveRun = QFileInfo(QStringLiteral("/run")).isDir();
        p.stageRoot = haveRun ? "/run" : "/tmp";
        p.stageOptions = haveRun ? "mode=0755,size=64k" : "mode=1777,size=64k";
        p.stageDir = p.stageRoot + "/vivarium";
        p.stageBinDir = p.stageDir + "/bin";
    }
    auto stagePath = [&p](const QString& host, const char* name, bool directory, bool readOnly) {
        if (!p.stage || host.isEmpty())
            return host;
        const std::string target = (readOnly ? p.stageBinDir : p.stageDir) + '/' + name;
        p.staged.push_back({QFile::encodeName(host).toStdString(), target, directory, readOnly});
        return QString::fromStdString(target);
    };
    const QString ws = stagePath(r.workspace, "workspace", true, false);
    const QString mem = stagePath(r.memoryDir, "memory", true, false);
    const QString sock = stagePath(r.brokerSocket, "broker.sock", false, false);
    QString programSource;
    if (!bareName && !programInUsr) {
        const QByteArray name = QFile::encodeName(programName);
        programSource = stagePath(programInfo.canonicalFilePath(), name.constData(), false, true);
    }
    if (static_cast<int>(p.staged.size()) > MaxStaged - 1)
        return fail(Error::Code::Internal, QStringLiteral("too many staged binds"));

    if (r.tier == SandboxTier::Bwrap) {
        const QString init = stagePath(initPath, SandboxPaths::InitName, false, true);
        QString error;
        auto seccomp = SeccompFilter::program({});
        if (!seccomp)
            return std::unexpected(seccomp.error());
        BwrapLayout l;
        l.workspace = ws;
        l.memoryDir = mem;
        l.socket = sock;
        l.init = init;
        l.programSource = programSource;
        l.programName = programName;
        l.command = bareName ? r.program
                    : programInUsr
                        ? programPath
                        : QLatin1String(SandboxPaths::BinDir) + QLatin1Char('/') + programName;
        l.arguments = r.arguments;
        l.limits = r.limits;
        l.rootEntries = hostRootEntries();
        l.seccompFd = makeMemfd("vivarium-seccomp", *seccomp, &error);
        if (l.seccompFd < 0)
            return fail(Error::Code::Io, error);
        p.inheritedFds.push_back(l.seccompFd);
        // /etc: generated files, copies of a few host files, /etc/localtime as a link into
        // /usr when it is one. Copies rather than bind mounts: each mount costs bwrap a pass
        // over mountinfo, a copy costs nothing measurable.
        QList<std::pair<QString, QByteArray>> files{
            {QStringLiteral("/etc/passwd"), sandboxPasswd()},
            {QStringLiteral("/etc/group"), sandboxGroup()},
            {QStringLiteral("/etc/hosts"), sandboxHosts()},
            {QStringLiteral("/etc/nsswitch.conf"), sandboxNsswitch()}};
        for (const QString& path : sandboxEtcCopies()) {
            QFile f(path);
            if (f.open(QIODevice::ReadOnly))
                files.append({path, f.read(4 * 1024 * 1024)});
        }
        const QString localtime = QFile::symLinkTarget(QStringLiteral("/etc/localtime"));
        if (localtime.startsWith(QLatin1String("/usr/"))) {
            l.etc.append({QStringLiteral("/etc/localtime"), -1, localtime});
        } else {
            QFile f(QStringLiteral("/etc/localtime"));
            if (f.open(QIODevice::ReadOnly))
                files.append({QStringLiteral("/etc/localtime"), f.read(1024 * 1024)});
        }
        for (const auto& [path, content] : std::as_const(files)) {
            const int fd = makeMemfd("vivarium-etc", content, &error);
            if (fd < 0)
                return fail(Error::Code::Io, error);
            p.inheritedFds.push_back(fd);
            l.etc.append({path, fd, {}});
        }
        int ready[2];
        if (::pipe2(ready, O_CLOEXEC) != 0)
            return fail(Error::Code::Io,
                        QStringLiteral("pipe: %1").arg(QString::fromLocal8Bit(strerror(errno))));
        ::fcntl(ready[0], F_SETFL, O_NONBLOCK);
        p.readyRead = ready[0];
        p.inheritedFds.push_back(ready[1]);
        l.readyFd = ready[1];
        int lifeline[2];
        if (::pipe2(lifeline, O_CLOEXEC) != 0)
            return fail(Error::Code::Io,
                        QStringLiteral("pipe: %1").arg(QString::fromLocal8Bit(strerror(errno))));
        p.lifelineWrite = lifeline[1];
        p.inheritedFds.push_back(lifeline[0]);
        l.lifelineFd = lifeline[0];
        // Started through vivarium-sandbox-init --guard, which reaps what bwrap may leave
        // behind if the engine dies in the middle of bwrap's start (see sandbox_init.cpp).
        p.program = init;
        p.arguments = QStringList{QStringLiteral("--guard"), QString::number(l.lifelineFd),
                                  QStringLiteral("--"), bwrapPath()} +
                      bwrapArguments(l);
        p.innerWorkspace = QLatin1String(SandboxPaths::Workspace);
        p.innerMemoryDir = mem.isEmpty() ? QString() : QLatin1String(SandboxPaths::Memory);
        p.innerSocket = sock.isEmpty() ? QString() : QLatin1String(SandboxPaths::Socket);
        // bwrap sets up the sandbox's own user namespace: RLIMIT_NPROC is set in there.
        for (const RlimitSetting& s : outerRlimits(r.limits, false))
            p.limits.push_back({s.resource, s.value});
        p.ownGroup = true;
        p.workingDirectory = QStringLiteral("/");
    } else {
        // Landlock: no namespaces of its own; the filesystem is fenced by the ruleset, the
        // network by the seccomp filter (no inet sockets at all).
        const int abi = landlockAbi();
        if (abi < 1)
            return fail(Error::Code::Unsupported, landlockUnavailableReason());
        auto seccomp = SeccompFilter::program({true});
        if (!seccomp)
            return std::unexpected(seccomp.error());
        p.seccomp = *seccomp;
        p.landlock = landlockPlan(abi, ws, mem, programSource.isEmpty() ? QString() : programSource,
                                  hostRootEntries());
        p.program = programSource.isEmpty() ? programPath : programSource;
        p.arguments = r.arguments;
        p.innerWorkspace = ws;
        p.innerMemoryDir = mem;
        p.innerSocket = sock;
        // Without a user namespace of its own, RLIMIT_NPROC counts every process of the uid:
        // only meaningful for the dedicated sandbox uid.
        for (const RlimitSetting& s : outerRlimits(r.limits, p.dropUid))
            p.limits.push_back({s.resource, s.value});
        p.chdirTo = QFile::encodeName(ws).toStdString();
        p.ownSession = true;
        p.noNewPrivs = true;
        p.workingDirectory = QStringLiteral("/");
    }
    for (const auto& [k, v] : sandboxEnvironment(
             p.innerWorkspace,
             r.tier == SandboxTier::Bwrap ? QStringLiteral("/tmp") : p.innerWorkspace,
             p.innerSocket))
        p.environment.insert(k, v);
    if (r.tier == SandboxTier::Bwrap)
        p.noNewPrivs = true;
    return launch;
}

SandboxTier SandboxLaunch::tier() const
{
    return d->tier;
}
QString SandboxLaunch::program() const
{
    return d->program;
}
QStringList SandboxLaunch::arguments() const
{
    return d->arguments;
}
QProcessEnvironment SandboxLaunch::environment() const
{
    return d->environment;
}
QString SandboxLaunch::workingDirectory() const
{
    return d->workingDirectory;
}
QString SandboxLaunch::innerWorkspace() const
{
    return d->innerWorkspace;
}
QString SandboxLaunch::innerMemoryDir() const
{
    return d->innerMemoryDir;
}
QString SandboxLaunch::innerSocket() const
{
    return d->innerSocket;
}
uid_t SandboxLaunch::hostUid() const
{
    return d->hostUid;
}

void SandboxLaunch::configure(QProcess& process) const
{
    process.setProgram(d->program);
    process.setArguments(d->arguments);
    process.setProcessEnvironment(d->environment);
    process.setWorkingDirectory(d->workingDirectory);
    const pid_t parent = ::getpid();
    process.setChildProcessModifier([this, parent]() { applyInChild(parent); });
}

void SandboxLaunch::closeInheritedFds()
{
    for (int fd : d->inheritedFds)
        ::close(fd);
    d->inheritedFds.clear();
}

bool SandboxLaunch::commandStarted() const
{
    if (d->readyRead < 0)
        return true;
    char byte = 0;
    for (;;) {
        // Non-blocking: the byte is there if the command started; nothing else will come.
        const ssize_t n = ::read(d->readyRead, &byte, 1);
        if (n < 0 && errno == EINTR)
            continue;
        return n == 1;
    }
}

void SandboxLaunch::applyInChild(pid_t parent) const noexcept
{
    const Private& p = *d;
    // A session (no controlling terminal: nothing to type into) or at least a process group of
    // its own: the whole tree is killed together, and the engine's Ctrl-C does not reach it.
    if (p.ownSession) {
        if (::setsid() < 0)
            childFail("setsid", nullptr, errno);
    } else if (p.ownGroup) {
        ::setpgid(0, 0);
    }
    markInheritedCloseOnExec();
    for (int fd : p.inheritedFds) {
        if (::fcntl(fd, F_SETFD, 0) != 0)
            childFail("keeping descriptor for bwrap", nullptr, errno);
    }

    if (p.stage) {
        if (::unshare(CLONE_NEWNS) != 0)
            childFail("unshare(CLONE_NEWNS) to stage the sandbox's mounts", nullptr, errno);
        // Nothing done here may reach the host's mount table.
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            childFail("making the mount namespace private", nullptr, errno);
        // Open every source before the stage covers anything (it may live under /run).
        std::array<int, MaxStaged> fds{};
        const size_t count = p.staged.size() < fds.size() ? p.staged.size() : fds.size();
        for (size_t i = 0; i < count; ++i) {
            fds[i] = ::open(p.staged[i].source.c_str(), O_PATH | O_CLOEXEC);
            if (fds[i] < 0)
                childFail("opening", p.staged[i].source.c_str(), errno);
        }
        if (::mount("vivarium-stage", p.stageRoot.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                    p.stageOptions.c_str()) != 0)
            childFail("mounting the stage tmpfs on", p.stageRoot.c_str(), errno);
        if (::mkdir(p.stageDir.c_str(), 0755) != 0 || ::mkdir(p.stageBinDir.c_str(), 0755) != 0)
            childFail("creating", p.stageDir.c_str(), errno);
        for (size_t i = 0; i < count; ++i) {
            const StagedBind& b = p.staged[i];
            if (b.directory) {
                if (::mkdir(b.target.c_str(), 0755) != 0)
                    childFail("creating", b.target.c_str(), errno);
            } else {
                const int placeholder =
                    ::open(b.target.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
                if (placeholder < 0)
                    childFail("creating", b.target.c_str(), errno);
                ::close(placeholder);
            }
            char source[40];
            procFdPath(fds[i], source);
            if (::mount(source, b.target.c_str(), nullptr, MS_BIND, nullptr) != 0)
                childFail("bind-mounting", b.source.c_str(), errno);
            if (b.readOnly &&
                ::mount(nullptr, b.target.c_str(), nullptr,
                        MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
                childFail("making read-only", b.target.c_str(), errno);
            ::close(fds[i]);
        }
    }

    for (const RawLimit& l : p.limits) {
        const rlimit lim{l.value, l.value};
        if (::setrlimit(static_cast<__rlimit_resource_t>(l.resource), &lim) != 0)
            childFail("setrlimit", nullptr, errno);
    }

    if (p.dropUid) {
        // Raw system calls: this forked child has one thread, and libc's set*id would try to
        // synchronise threads that only exist in the parent.
        if (::syscall(SYS_setgroups, 0, nullptr) != 0)
            childFail("setgroups", nullptr, errno);
        if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0)
            childFail("setresgid to the sandbox gid", nullptr, errno);
        if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0)
            childFail("setresuid to the sandbox uid", nullptr, errno);
        if (::getuid() != p.uid || ::geteuid() != p.uid || ::getgid() != p.gid)
            childFail("the uid drop did not take", nullptr, 0);
    }
    if (!p.chdirTo.empty() && ::chdir(p.chdirTo.c_str()) != 0)
        childFail("chdir", p.chdirTo.c_str(), errno);
    if (p.noNewPrivs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        childFail("PR_SET_NO_NEW_PRIVS", nullptr, errno);
    if (p.landlock.abi > 0) {
        const char* failed = nullptr;
        const int err = applyLandlock(p.landlock, &failed);
        if (err != 0)
            childFail("landlock", failed, err);
    }
    if (!p.seccomp.isEmpty()) {
        sock_fprog prog{};
        prog.len = static_cast<unsigned short>(size_t(p.seccomp.size()) / sizeof(sock_filter));
        prog.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(p.seccomp.constData()));
        if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
            childFail("loading the seccomp filter", nullptr, errno);
    }
    // bwrap's guard must outlive the engine long enough to kill bwrap's whole group: it watches
    // the lifeline instead (which hangs up however the engine dies).
    if (p.lifelineWrite >= 0)
        return;
    // Last: a uid change clears the parent-death signal. If the engine already died, go.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
        ::_exit(127);
}

} // namespace vivarium
