// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "LandlockRules.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vivarium {

namespace {

// Newer than the kernel headers Debian 12 ships (6.1): values are stable kernel ABI.
constexpr std::uint64_t FsTruncate = 1ULL << 14;       // ABI 3
constexpr std::uint64_t FsIoctlDev = 1ULL << 15;       // ABI 5
constexpr std::uint64_t NetBindTcp = 1ULL << 0;        // ABI 4
constexpr std::uint64_t NetConnectTcp = 1ULL << 1;     // ABI 4
constexpr std::uint64_t ScopeAbstractUnix = 1ULL << 0; // ABI 6
constexpr std::uint64_t ScopeSignal = 1ULL << 1;       // ABI 6

constexpr std::uint64_t FsRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t FsExec = LANDLOCK_ACCESS_FS_EXECUTE;
/** The rights that apply to a file (not a directory). */
constexpr std::uint64_t FileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                     LANDLOCK_ACCESS_FS_READ_FILE | FsTruncate | FsIoctlDev;

std::uint64_t allFsRights(int abi)
{
    std::uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; // ABI 1: bits 0..12
    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= FsTruncate;
    if (abi >= 5)
        all |= FsIoctlDev;
    return all;
}

/** The kernel's struct landlock_ruleset_attr as of ABI 6; shorter sizes for older ABIs. */
struct RulesetAttr
{
    std::uint64_t handledAccessFs;
    std::uint64_t handledAccessNet;
    std::uint64_t scoped;
};

} // namespace

int landlockAbi()
{
    const long abi =
        ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi > 0 ? int(abi) : 0;
}

QString landlockUnavailableReason()
{
    const long abi =
        ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi > 0)
        return {};
    if (errno == EOPNOTSUPP)
        return QStringLiteral("Landlock is built into the kernel but disabled at boot (lsm= list)");
    if (errno == ENOSYS)
        return QStringLiteral("the kernel has no Landlock support");
    return QStringLiteral("landlock_create_ruleset failed: %1")
        .arg(QString::fromLocal8Bit(strerror(errno)));
}

LandlockPlan landlockPlan(int abi, const QString& workspace, const QString& memoryDir,
                          const QString& program, const QList<RootEntry>& rootEntries)
{
    LandlockPlan plan;
    plan.abi = abi;
    plan.handledFs = allFsRights(abi);
    if (abi >= 4)
        plan.handledNet = NetBindTcp | NetConnectTcp; // no rule grants any: all TCP denied
    if (abi >= 6)
        plan.scoped = ScopeAbstractUnix | ScopeSignal;
    auto add = [&plan](const QString& path, std::uint64_t access) {
        if (!path.isEmpty())
            plan.rules.push_back({QFile::encodeName(path).toStdString(), access});
    };
    add(QStringLiteral("/usr"), FsRead | FsExec);
    for (const RootEntry& e : rootEntries) {
        if (e.directory)
            add(QLatin1Char('/') + e.name, FsRead | FsExec);
    }
    // The host's own files (no generated copies without a mount namespace); passwd, group and
    // nsswitch.conf stay unreadable, so libc falls back to its built-in defaults.
    for (const QString& f : sandboxEtcFiles())
        add(f, FsRead);
    for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
        add(QLatin1String(dev), LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE);
    // Its own /proc entry only (opened in the child, so "self" is the run's pid): libraries
    // read /proc/self/*, while other processes' entries stay out of reach without a pid
    // namespace.
    add(QStringLiteral("/proc/self"), FsRead);
    add(workspace, plan.handledFs);
    add(memoryDir, plan.handledFs);
    add(program, LANDLOCK_ACCESS_FS_READ_FILE | FsExec);
    return plan;
}

int applyLandlock(const LandlockPlan& plan, const char** failed) noexcept
{
    *failed = "";
    const RulesetAttr attr{plan.handledFs, plan.handledNet, plan.scoped};
    const size_t size = plan.abi >= 6   ? sizeof(RulesetAttr)
                        : plan.abi >= 4 ? 2 * sizeof(std::uint64_t)
                                        : sizeof(std::uint64_t);
    const int ruleset = int(::syscall(SYS_landlock_create_ruleset, &attr, size, 0U));
    if (ruleset < 0) {
        *failed = "landlock_create_ruleset";
        return errno;
    }
    for (const LandlockRule& r : plan.rules) {
        const int fd = ::open(r.path.c_str(), O_PATH | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                continue; // an optional /etc file this host does not have
            *failed = r.path.c_str();
            const int err = errno;
            ::close(ruleset);
            return err;
        }
        struct stat st
        {
        };
        std::uint64_t access = r.access & plan.handledFs;
        if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
            access &= FileRights;
        landlock_path_beneath_attr beneath{};
        beneath.allowed_access = access;
        beneath.parent_fd = fd;
        const long rc =
            ::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0U);
        const int err = errno;
        ::close(fd);
        if (rc != 0) {
            *failed = r.path.c_str();
            ::close(ruleset);
            return err;
        }
    }
    if (::syscall(SYS_landlock_restrict_self, ruleset, 0U) != 0) {
        *failed = "landlock_restrict_self";
        const int err = errno;
        ::close(ruleset);
        return err;
    }
    ::close(ruleset);
    return 0;
}

} // namespace vivarium
