// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The sandbox as data: the bwrap argument list, the seccomp deny-list, the rlimits, the tier
// policy. What actually happens inside is tst_sandboxattacks' job.
#include "vivarium/sandbox/Rlimits.h"
#include "vivarium/sandbox/SandboxProfile.h"
#include "vivarium/sandbox/SeccompFilter.h"
#include "vivarium/sandbox/TierSelection.h"

#include <QTest>

#include <cerrno>
#include <linux/filter.h>
#include <sys/resource.h>

using namespace vivarium;

namespace {

BwrapLayout sampleLayout()
{
    BwrapLayout l;
    l.workspace = QStringLiteral("/data/runs/run_1/workspace");
    l.memoryDir = QStringLiteral("/data/memory/agent");
    l.socket = QStringLiteral("/data/runs/run_1/broker.sock");
    l.init = QStringLiteral("/opt/build/bin/vivarium-sandbox-init");
    l.programSource = QStringLiteral("/opt/build/bin/vivarium-runner");
    l.programName = QStringLiteral("vivarium-runner");
    l.command = QStringLiteral("/opt/vivarium/bin/vivarium-runner");
    l.arguments = {QStringLiteral("--flag")};
    l.seccompFd = 11;
    l.etc = {{QStringLiteral("/etc/passwd"), 12, {}},
             {QStringLiteral("/etc/group"), 13, {}},
             {QStringLiteral("/etc/localtime"), -1, QStringLiteral("/usr/share/zoneinfo/UTC")}};
    l.rootEntries = {{QStringLiteral("bin"), QStringLiteral("usr/bin"), false},
                     {QStringLiteral("lib"), {}, true}};
    return l;
}

/** Index of the first occurrence of `seq` as consecutive elements, or -1. */
qsizetype indexOf(const QStringList& args, const QStringList& seq)
{
    for (qsizetype i = 0; i + seq.size() <= args.size(); ++i) {
        if (args.mid(i, seq.size()) == seq)
            return i;
    }
    return -1;
}

QList<TierSupport> support(bool landlock, bool bwrap)
{
    return {{SandboxTier::None, true, QStringLiteral("plain")},
            {SandboxTier::Landlock, landlock, QStringLiteral("no landlock here")},
            {SandboxTier::Bwrap, bwrap, QStringLiteral("no user namespaces")},
            {SandboxTier::Container, false, QStringLiteral("not implemented")}};
}

} // namespace

class TestSandboxProfile : public QObject
{
    Q_OBJECT
private slots:
    void tierNames()
    {
        for (SandboxTier t : allSandboxTiers())
            QCOMPARE(parseSandboxTier(sandboxTierName(t)), std::optional<SandboxTier>(t));
        QCOMPARE(parseSandboxTier(QStringLiteral("chroot")), std::nullopt);
        QVERIFY(int(SandboxTier::None) < int(SandboxTier::Landlock));
        QVERIFY(int(SandboxTier::Landlock) < int(SandboxTier::Bwrap));
        QVERIFY(int(SandboxTier::Bwrap) < int(SandboxTier::Container));
    }

    void bwrapNamespacesSessionAndEnvironment()
    {
        const QStringList a = bwrapArguments(sampleLayout());
        for (const QStringList& seq : {QStringList{QStringLiteral("--unshare-all")},
                                       {QStringLiteral("--unshare-user")},
                                       {QStringLiteral("--disable-userns")},
                                       {QStringLiteral("--die-with-parent")},
                                       {QStringLiteral("--new-session")},
                                       {QStringLiteral("--clearenv")},
                                       {QStringLiteral("--uid"), QStringLiteral("1000")},
                                       {QStringLiteral("--hostname"), QStringLiteral("vivarium")}})
            QVERIFY2(indexOf(a, seq) >= 0, qPrintable(seq.join(QLatin1Char(' '))));
        // Never re-share anything.
        for (const QString& bad : {QStringLiteral("--share-net"), QStringLiteral("--dev-bind"),
                                   QStringLiteral("--cap-add"), QStringLiteral("--userns")})
            QVERIFY2(!a.contains(bad), qPrintable(bad));
        // The environment, exactly: everything else was cleared before.
        QStringList env;
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (a.at(i) == QLatin1String("--setenv"))
                env << a.at(i + 1) + QLatin1Char('=') + a.at(i + 2);
        }
        QCOMPARE(env,
                 QStringList({QStringLiteral("PATH=/usr/bin:/bin"), QStringLiteral("LANG=C.UTF-8"),
                              QStringLiteral("HOME=/workspace"), QStringLiteral("TMPDIR=/tmp"),
                              QStringLiteral("VIVARIUM_BROKER_SOCKET=/run/vivarium/broker.sock")}));
        QVERIFY(indexOf(a, {QStringLiteral("--clearenv")}) <
                indexOf(a, {QStringLiteral("--setenv")}));
    }

    void bwrapFilesystemView()
    {
        const BwrapLayout l = sampleLayout();
        const QStringList a = bwrapArguments(l);
        QVERIFY(indexOf(a, {QStringLiteral("--ro-bind"), QStringLiteral("/usr"),
                            QStringLiteral("/usr")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--symlink"), QStringLiteral("usr/bin"),
                            QStringLiteral("/bin")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--ro-bind"), QStringLiteral("/lib"),
                            QStringLiteral("/lib")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--proc"), QStringLiteral("/proc")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--dev"), QStringLiteral("/dev")}) >= 0);
        // /tmp: a tmpfs with a size, the size given right before it.
        const qsizetype tmp = indexOf(a, {QStringLiteral("--tmpfs"), QStringLiteral("/tmp")});
        QVERIFY(tmp >= 2);
        QCOMPARE(a.at(tmp - 2), QStringLiteral("--size"));
        QCOMPARE(a.at(tmp - 1), QString::number(l.limits.tmpBytes));
        // The only writable binds: the workspace and the memory, at fixed places.
        QStringList writable;
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (a.at(i) == QLatin1String("--bind"))
                writable << a.at(i + 2);
        }
        QCOMPARE(writable, QStringList({QStringLiteral("/workspace"), QStringLiteral("/memory"),
                                        QStringLiteral("/run/vivarium/broker.sock")}));
        QVERIFY(indexOf(a, {QStringLiteral("--bind"), l.workspace, QStringLiteral("/workspace")}) >=
                0);
        QVERIFY(indexOf(a, {QStringLiteral("--ro-bind"), l.programSource,
                            QStringLiteral("/opt/vivarium/bin/vivarium-runner")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--ro-bind"), l.init,
                            QStringLiteral("/opt/vivarium/bin/vivarium-sandbox-init")}) >= 0);
        // A curated /etc: copies (no mount) and links; no resolver, no shadow, no host users.
        QVERIFY(
            indexOf(a, {QStringLiteral("--perms"), QStringLiteral("0644"), QStringLiteral("--file"),
                        QStringLiteral("12"), QStringLiteral("/etc/passwd")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--file"), QStringLiteral("13"),
                            QStringLiteral("/etc/group")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--symlink"), QStringLiteral("/usr/share/zoneinfo/UTC"),
                            QStringLiteral("/etc/localtime")}) >= 0);
        QVERIFY(indexOf(a, {QStringLiteral("--ro-bind-try"), QStringLiteral("/etc/alternatives"),
                            QStringLiteral("/etc/alternatives")}) >= 0);
        // Mounts bwrap makes for the view (besides /proc, /dev, /tmp): /usr, /etc/alternatives,
        // the writable binds, init, the program.
        int mounts = 0;
        for (const QString& arg : a) {
            if (arg == QLatin1String("--bind") || arg == QLatin1String("--ro-bind") ||
                arg == QLatin1String("--ro-bind-try") || arg == QLatin1String("--ro-bind-data"))
                ++mounts;
        }
        QCOMPARE(mounts, 1 + 1 + 1 + 3 + 1 + 1); // /usr, /lib (unmerged here), alternatives, ...
        for (const QString& arg : a) {
            for (const char* forbidden :
                 {"resolv.conf", "shadow", "/home", "/root", "/var", "dbus", "X11", "/sys"})
                QVERIFY2(!arg.contains(QLatin1String(forbidden)), qPrintable(arg));
        }
        // The root tmpfs read-only, after everything was placed on it.
        const qsizetype ro = indexOf(a, {QStringLiteral("--remount-ro"), QStringLiteral("/")});
        QVERIFY(ro >
                indexOf(a, {QStringLiteral("--bind"), l.workspace, QStringLiteral("/workspace")}));
        QVERIFY(indexOf(a, {QStringLiteral("--chdir"), QStringLiteral("/workspace")}) > 0);
    }

    void bwrapCommandRunsThroughInitWithSeccomp()
    {
        BwrapLayout l = sampleLayout();
        QStringList a = bwrapArguments(l);
        QVERIFY(indexOf(a, {QStringLiteral("--seccomp"), QStringLiteral("11")}) >= 0);
        const qsizetype sep = a.indexOf(QStringLiteral("--"));
        QVERIFY(sep > 0);
        QCOMPARE(
            a.mid(sep + 1),
            QStringList({QStringLiteral("/opt/vivarium/bin/vivarium-sandbox-init"),
                         QStringLiteral("--nproc"), QStringLiteral("256"), QStringLiteral("--"),
                         QStringLiteral("/opt/vivarium/bin/vivarium-runner"),
                         QStringLiteral("--flag")}));
        // No memory tool, no socket: no bind, no variable.
        l.memoryDir.clear();
        l.socket.clear();
        a = bwrapArguments(l);
        QVERIFY(!a.contains(QStringLiteral("/memory")));
        QVERIFY(!a.contains(QStringLiteral("VIVARIUM_BROKER_SOCKET")));
    }

    void generatedEtcFiles()
    {
        QVERIFY(sandboxPasswd().startsWith("agent:x:1000:1000:"));
        QVERIFY(!sandboxPasswd().contains("root"));
        QVERIFY(sandboxGroup().startsWith("agent:x:1000:"));
        QVERIFY(sandboxHosts().contains("127.0.0.1\tlocalhost"));
        QVERIFY(sandboxNsswitch().contains("hosts: files\n"));
        QVERIFY(!sandboxNsswitch().contains("dns"));
        for (const char* never :
             {"/etc/resolv.conf", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/nsswitch.conf"})
            QVERIFY2(!sandboxEtcFiles().contains(QLatin1String(never)), never);
    }

    void seccompDenyList()
    {
        const QList<SeccompRule> rules = SeccompFilter::rules();
        QHash<QString, int> always;
        QStringList conditional;
        for (const SeccompRule& r : rules) {
            if (r.condition.isEmpty())
                always.insert(r.syscall, r.errnoValue);
            else
                conditional << r.syscall + QLatin1Char(' ') + r.condition;
        }
        for (const char* name : {"ptrace",
                                 "process_vm_readv",
                                 "process_vm_writev",
                                 "bpf",
                                 "perf_event_open",
                                 "userfaultfd",
                                 "keyctl",
                                 "add_key",
                                 "request_key",
                                 "mount",
                                 "umount2",
                                 "pivot_root",
                                 "move_mount",
                                 "open_tree",
                                 "fsopen",
                                 "fsmount",
                                 "unshare",
                                 "setns",
                                 "kexec_load",
                                 "init_module",
                                 "finit_module",
                                 "delete_module",
                                 "reboot",
                                 "swapon",
                                 "swapoff",
                                 "acct",
                                 "quotactl",
                                 "iopl",
                                 "ioperm",
                                 "io_uring_setup",
                                 "io_uring_enter",
                                 "io_uring_register"})
            QVERIFY2(always.contains(QLatin1String(name)), name);
        QCOMPARE(always.value(QStringLiteral("ptrace")), EPERM);
        QCOMPARE(always.value(QStringLiteral("io_uring_setup")), ENOSYS);
        // clone3's flags are out of seccomp's reach: ENOSYS, so libc falls back to clone.
        QCOMPARE(always.value(QStringLiteral("clone3")), ENOSYS);
        for (const char* flag : {"CLONE_NEWNS", "CLONE_NEWCGROUP", "CLONE_NEWUTS", "CLONE_NEWIPC",
                                 "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWTIME"})
            QVERIFY2(conditional.contains(QStringLiteral("clone arg0 & ") + QLatin1String(flag)),
                     flag);
        QVERIFY(conditional.contains(QStringLiteral("ioctl arg1 == TIOCSTI")));
        QVERIFY(conditional.contains(QStringLiteral("ioctl arg1 == TIOCLINUX")));
        QVERIFY(conditional.contains(QStringLiteral("socket arg0 > AF_INET6")));
        QVERIFY(conditional.contains(QStringLiteral("socket arg0 == AF_UNSPEC")));
        QVERIFY(!conditional.contains(QStringLiteral("socket arg0 == AF_INET")));
        QVERIFY(conditional.contains(QStringLiteral("mknod (arg1 & S_IFMT) == S_IFCHR")));
        QVERIFY(conditional.contains(QStringLiteral("personality arg0 & ADDR_NO_RANDOMIZE")));
        // Every rule names a syscall this host's libseccomp knows (x86_64 and aarch64 CI).
        for (const SeccompRule& r : rules) {
            QVERIFY2(!r.why.isEmpty(), qPrintable(r.syscall));
            QVERIFY(r.errnoValue > 0);
        }
    }

    void seccompWithoutInetForLandlock()
    {
        QStringList conditional;
        for (const SeccompRule& r : SeccompFilter::rules({true}))
            conditional << r.syscall + QLatin1Char(' ') + r.condition;
        QVERIFY(conditional.contains(QStringLiteral("socket arg0 == AF_INET")));
        QVERIFY(conditional.contains(QStringLiteral("socket arg0 == AF_INET6")));
    }

    void seccompProgramBuilds()
    {
        for (bool denyInet : {false, true}) {
            auto bpf = SeccompFilter::program({denyInet});
            QVERIFY2(bpf.has_value(), qPrintable(bpf ? QString() : bpf.error().message));
            QVERIFY(bpf->size() > 0);
            QCOMPARE(bpf->size() % qsizetype(sizeof(sock_filter)), 0);
            QVERIFY(bpf->size() / qsizetype(sizeof(sock_filter)) < 4096); // BPF_MAXINSNS
            // Cached: the same bytes every time.
            QCOMPARE(*SeccompFilter::program({denyInet}), *bpf);
        }
        QVERIFY(*SeccompFilter::program({false}) != *SeccompFilter::program({true}));
        auto pfc = SeccompFilter::pseudoCode();
        QVERIFY(pfc.has_value());
        QVERIFY(pfc->contains("ptrace"));
        QVERIFY(pfc->contains("KILL")); // the other architectures' entry points
    }

    void rlimits()
    {
        const SandboxLimits l;
        QHash<QString, rlim_t> outer;
        for (const RlimitSetting& s : outerRlimits(l, false))
            outer.insert(s.name, s.value);
        QCOMPARE(outer.value(QStringLiteral("RLIMIT_AS")), l.addressSpaceBytes);
        QCOMPARE(outer.value(QStringLiteral("RLIMIT_FSIZE")), l.fileSizeBytes);
        QCOMPARE(outer.value(QStringLiteral("RLIMIT_NOFILE")), l.openFiles);
        QVERIFY(outer.contains(QStringLiteral("RLIMIT_CORE")));
        QCOMPARE(outer.value(QStringLiteral("RLIMIT_CORE")), rlim_t(0));
        // NPROC only where there is no namespace of its own to set it in.
        QVERIFY(!outer.contains(QStringLiteral("RLIMIT_NPROC")));
        bool withNproc = false;
        for (const RlimitSetting& s : outerRlimits(l, true))
            withNproc = withNproc || (s.resource == RLIMIT_NPROC && s.value == l.maxProcesses);
        QVERIFY(withNproc);
    }

    void tierPolicy_data()
    {
        QTest::addColumn<QString>("requested");
        QTest::addColumn<QString>("minimum");
        QTest::addColumn<bool>("landlock");
        QTest::addColumn<bool>("bwrap");
        QTest::addColumn<QString>("expected"); // tier, or "error"
        QTest::addColumn<bool>("announced");
        // requested  min  landlock? bwrap? -> tier, with a notice?
        QTest::newRow("bwrap here") << "bwrap"
                                    << "landlock" << true << true << "bwrap" << false;
        QTest::newRow("bwrap missing, landlock allowed")
            << "bwrap"
            << "landlock" << true << false << "landlock" << true;
        QTest::newRow("bwrap missing, min bwrap") << "bwrap"
                                                  << "bwrap" << true << false << "error" << false;
        QTest::newRow("nothing but none, min landlock")
            << "bwrap"
            << "landlock" << false << false << "error" << false;
        QTest::newRow("nothing but none, min none") << "bwrap"
                                                    << "none" << false << false << "none" << true;
        QTest::newRow("none asked") << "none"
                                    << "none" << false << false << "none" << false;
        QTest::newRow("landlock asked, bwrap available: no upgrade")
            << "landlock"
            << "landlock" << false << true << "error" << false;
        QTest::newRow("container asked, bwrap allowed")
            << "container"
            << "bwrap" << true << true << "bwrap" << true;
        QTest::newRow("container asked and required")
            << "container"
            << "container" << true << true << "error" << false;
        QTest::newRow("below its own minimum") << "none"
                                               << "landlock" << true << true << "error" << false;
    }
    void tierPolicy()
    {
        QFETCH(QString, requested);
        QFETCH(QString, minimum);
        QFETCH(bool, landlock);
        QFETCH(bool, bwrap);
        QFETCH(QString, expected);
        QFETCH(bool, announced);
        const TierDecision d = chooseSandboxTier(
            *parseSandboxTier(requested), *parseSandboxTier(minimum), support(landlock, bwrap));
        if (expected == QLatin1String("error")) {
            QVERIFY(!d.ok);
            QVERIFY(!d.error.isEmpty());
            return;
        }
        QVERIFY2(d.ok, qPrintable(d.error));
        QCOMPARE(sandboxTierName(d.tier), expected);
        QCOMPARE(!d.notice.isEmpty(), announced);
    }

    void refusalSaysWhyAndWhatIsRequired()
    {
        const TierDecision d =
            chooseSandboxTier(SandboxTier::Bwrap, SandboxTier::Landlock, support(false, false));
        QVERIFY(!d.ok);
        QVERIFY2(d.error.startsWith(QStringLiteral(
                     "sandbox tier \"bwrap\" is not available on this host (no user namespaces) "
                     "and the agent requires at least \"landlock\"")),
                 qPrintable(d.error));
        QVERIFY(d.error.contains(QStringLiteral("no landlock here")));
        const TierDecision fallback =
            chooseSandboxTier(SandboxTier::Bwrap, SandboxTier::Landlock, support(true, false));
        QVERIFY(fallback.notice.contains(QStringLiteral("no user namespaces")));
        QVERIFY(fallback.notice.contains(QStringLiteral("using \"landlock\"")));
    }
};

QTEST_GUILESS_MAIN(TestSandboxProfile)
#include "tst_SandboxProfile.moc"
