// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/SeccompFilter.h"

#include <QMutex>
#include <QMutexLocker>

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/sched.h>
#include <memory>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

// TIOCSTI / TIOCLINUX: from the kernel's ioctl numbers, stable ABI.
#ifndef TIOCSTI
#define TIOCSTI 0x5412
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace vivarium {

namespace {

/** One rule of the table: up to two argument comparisons, ANDed. */
struct RuleSpec
{
    const char* syscall;
    int err;
    const char* condition;
    const char* why;
    std::vector<scmp_arg_cmp> args;
};

/** ioctl's request and socket's family are C ints: compare the low 32 bits only. */
constexpr scmp_datum_t Low32 = 0xffffffffULL;

std::vector<RuleSpec> ruleTable(const SeccompOptions& options)
{
    std::vector<RuleSpec> t;
    auto always = [&t](const char* name, int err, const char* why) {
        t.push_back({name, err, "", why, {}});
    };
    // Looking into or steering other processes.
    for (const char* name :
         {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp"})
        always(name, EPERM, "reads or steers another process");
    // Large kernel attack surfaces a run has no use for.
    for (const char* name : {"bpf", "perf_event_open", "userfaultfd"})
        always(name, EPERM, "kernel attack surface");
    // io_uring performs I/O that seccomp never sees; ENOSYS makes libraries fall back.
    for (const char* name : {"io_uring_setup", "io_uring_enter", "io_uring_register"})
        always(name, ENOSYS, "I/O outside seccomp's view");
    // Keyrings are not namespaced: a run could read or fill the engine user's keys.
    for (const char* name : {"keyctl", "add_key", "request_key"})
        always(name, EPERM, "kernel keyrings are not namespaced");
    // The filesystem view is fixed when the sandbox starts.
    for (const char* name : {"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
                             "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"})
        always(name, EPERM, "the filesystem view is fixed");
    for (const char* name : {"name_to_handle_at", "open_by_handle_at"})
        always(name, EPERM, "file handles bypass the mount view");
    // No new namespaces: they re-open kernel surface that unprivileged users do not otherwise
    // reach (and bwrap --disable-userns already stops nested user namespaces).
    always("unshare", EPERM, "no new namespaces");
    always("setns", EPERM, "no joining namespaces");
    const std::array<std::pair<scmp_datum_t, const char*>, 8> nsFlags{{
        {CLONE_NEWNS, "arg0 & CLONE_NEWNS"},
        {CLONE_NEWCGROUP, "arg0 & CLONE_NEWCGROUP"},
        {CLONE_NEWUTS, "arg0 & CLONE_NEWUTS"},
        {CLONE_NEWIPC, "arg0 & CLONE_NEWIPC"},
        {CLONE_NEWUSER, "arg0 & CLONE_NEWUSER"},
        {CLONE_NEWPID, "arg0 & CLONE_NEWPID"},
        {CLONE_NEWNET, "arg0 & CLONE_NEWNET"},
        {CLONE_NEWTIME, "arg0 & CLONE_NEWTIME"},
    }};
    for (const auto& [flag, text] : nsFlags)
        t.push_back(
            {"clone", EPERM, text, "no new namespaces", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}});
    // clone3 takes its flags in a struct seccomp cannot read: ENOSYS makes libc use clone.
    always("clone3", ENOSYS, "flags unreadable by seccomp; libc falls back to clone");
    // Typing into the controlling terminal of whoever started the run.
    t.push_back({"ioctl",
                 EPERM,
                 "arg1 == TIOCSTI",
                 "injects terminal input",
                 {SCMP_A1(SCMP_CMP_MASKED_EQ, Low32, TIOCSTI)}});
    t.push_back({"ioctl",
                 EPERM,
                 "arg1 == TIOCLINUX",
                 "injects console input",
                 {SCMP_A1(SCMP_CMP_MASKED_EQ, Low32, TIOCLINUX)}});
    // Socket families: unix, inet and inet6 only (netlink, packet, bluetooth, vsock, ... not).
    t.push_back({"socket",
                 EAFNOSUPPORT,
                 "arg0 == AF_UNSPEC",
                 "only unix/inet/inet6 sockets",
                 {SCMP_A0(SCMP_CMP_EQ, AF_UNSPEC)}});
    for (int family = AF_INET + 1; family < AF_INET6; ++family) {
        static const char* const Names[] = {"",
                                            "",
                                            "",
                                            "arg0 == AF_AX25",
                                            "arg0 == AF_IPX",
                                            "arg0 == AF_APPLETALK",
                                            "arg0 == AF_NETROM",
                                            "arg0 == AF_BRIDGE",
                                            "arg0 == AF_ATMPVC",
                                            "arg0 == AF_X25"};
        t.push_back({"socket",
                     EAFNOSUPPORT,
                     Names[family],
                     "only unix/inet/inet6 sockets",
                     {SCMP_A0(SCMP_CMP_EQ, scmp_datum_t(family))}});
    }
    // Everything above AF_INET6 (netlink 16, packet 17, ...), and any value with high bits set.
    t.push_back({"socket",
                 EAFNOSUPPORT,
                 "arg0 > AF_INET6",
                 "only unix/inet/inet6 sockets",
                 {SCMP_A0(SCMP_CMP_GT, AF_INET6)}});
    if (options.denyInet) {
        t.push_back({"socket",
                     EACCES,
                     "arg0 == AF_INET",
                     "no network in this tier",
                     {SCMP_A0(SCMP_CMP_EQ, AF_INET)}});
        t.push_back({"socket",
                     EACCES,
                     "arg0 == AF_INET6",
                     "no network in this tier",
                     {SCMP_A0(SCMP_CMP_EQ, AF_INET6)}});
    }
    // Device nodes (a run has no business with them; without CAP_MKNOD they fail anyway).
    t.push_back({"mknod",
                 EPERM,
                 "(arg1 & S_IFMT) == S_IFCHR",
                 "no device nodes",
                 {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR)}});
    t.push_back({"mknod",
                 EPERM,
                 "(arg1 & S_IFMT) == S_IFBLK",
                 "no device nodes",
                 {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)}});
    t.push_back({"mknodat",
                 EPERM,
                 "(arg2 & S_IFMT) == S_IFCHR",
                 "no device nodes",
                 {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR)}});
    t.push_back({"mknodat",
                 EPERM,
                 "(arg2 & S_IFMT) == S_IFBLK",
                 "no device nodes",
                 {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)}});
    // The machine itself.
    for (const char* name : {"kexec_load", "kexec_file_load", "init_module", "finit_module",
                             "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl",
                             "quotactl_fd", "syslog", "lookup_dcookie", "uselib", "nfsservctl"})
        always(name, EPERM, "administers the machine");
    for (const char* name : {"iopl", "ioperm", "modify_ldt"})
        always(name, EPERM, "x86 port I/O and descriptor tables");
    // Personality flags that weaken ASLR or W^X (the query value 0xffffffff stays allowed).
    const std::array<std::pair<scmp_datum_t, const char*>, 3> persona{{
        {0x0040000, "arg0 & ADDR_NO_RANDOMIZE"},
        {0x0100000, "arg0 & MMAP_PAGE_ZERO"},
        {0x0400000, "arg0 & READ_IMPLIES_EXEC"},
    }};
    // libseccomp allows one comparison per argument in a rule, so "flag set and not the query"
    // is spelled with bit 31 (set in the query, in no real persona): the flag with bit 31
    // clear, plus any value with bit 31 set that is not all ones in the low 32 bits.
    constexpr scmp_datum_t Bit31 = 0x80000000ULL;
    for (const auto& [flag, text] : persona)
        t.push_back({"personality",
                     EPERM,
                     text,
                     "weakens ASLR or W^X",
                     {SCMP_A0(SCMP_CMP_MASKED_EQ, flag | Bit31, flag)}});
    for (int bit = 0; bit < 31; ++bit)
        t.push_back({"personality",
                     EPERM,
                     "arg0 & (1 << 31), arg0 != 0xffffffff",
                     "not a persona",
                     {SCMP_A0(SCMP_CMP_MASKED_EQ, Bit31 | (1ULL << bit), Bit31)}});
    return t;
}

struct CtxDeleter
{
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Result<Ctx> buildContext(const SeccompOptions& options)
{
    Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx)
        return fail(Error::Code::Internal, QStringLiteral("seccomp_init failed"));
    // Other architectures' entry points (int 0x80 on x86_64) would bypass every rule below:
    // kill instead. (x32 calls are refused by libseccomp's x86_64 filter the same way.)
    if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        rc != 0)
        return fail(Error::Code::Internal,
                    QStringLiteral("seccomp bad-arch action: %1").arg(strerror(-rc)));
    for (const RuleSpec& r : ruleTable(options)) {
        const int nr = seccomp_syscall_resolve_name(r.syscall);
        if (nr == __NR_SCMP_ERROR)
            continue; // not on this architecture (iopl on aarch64, ...)
        const int rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ERRNO(uint32_t(r.err)), nr,
                                              unsigned(r.args.size()),
                                              r.args.empty() ? nullptr : r.args.data());
        if (rc != 0)
            return fail(Error::Code::Internal,
                        QStringLiteral("seccomp rule for %1 (%2): %3")
                            .arg(QLatin1String(r.syscall), QLatin1String(r.condition),
                                 QString::fromLocal8Bit(strerror(-rc))));
    }
    return ctx;
}

/** What libseccomp writes to a file descriptor, read back from a memfd. */
Result<QByteArray> exportTo(const SeccompOptions& options, bool pfc)
{
    auto ctx = buildContext(options);
    if (!ctx)
        return std::unexpected(ctx.error());
    const int fd = ::memfd_create("vivarium-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return fail(
            Error::Code::Io,
            QStringLiteral("memfd_create: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    const int rc = pfc ? seccomp_export_pfc(ctx->get(), fd) : seccomp_export_bpf(ctx->get(), fd);
    QByteArray out;
    if (rc == 0 && ::lseek(fd, 0, SEEK_SET) == 0) {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            out.append(buf, n);
        }
    }
    ::close(fd);
    if (rc != 0)
        return fail(
            Error::Code::Internal,
            QStringLiteral("seccomp export: %1").arg(QString::fromLocal8Bit(strerror(-rc))));
    if (out.isEmpty())
        return fail(Error::Code::Io, QStringLiteral("seccomp export produced nothing"));
    return out;
}

} // namespace

QList<SeccompRule> SeccompFilter::rules(const SeccompOptions& options)
{
    QList<SeccompRule> out;
    for (const RuleSpec& r : ruleTable(options)) {
        out.append({QLatin1String(r.syscall), r.err, QLatin1String(r.condition),
                    QLatin1String(r.why),
                    seccomp_syscall_resolve_name(r.syscall) != __NR_SCMP_ERROR});
    }
    return out;
}

Result<QByteArray> SeccompFilter::program(const SeccompOptions& options)
{
    // Building takes a few milliseconds; every run start needs it.
    static QMutex mutex;
    static QByteArray cache[2];
    QMutexLocker lock(&mutex);
    QByteArray& slot = cache[options.denyInet ? 1 : 0];
    if (slot.isEmpty()) {
        auto built = exportTo(options, false);
        if (!built)
            return built;
        slot = *built;
    }
    return slot;
}

Result<QByteArray> SeccompFilter::pseudoCode(const SeccompOptions& options)
{
    return exportTo(options, true);
}

} // namespace vivarium
