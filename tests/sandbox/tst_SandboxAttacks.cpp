// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The adversarial suite (issue 5 item 6): every case runs inside the real sandbox through
// `vivarium sandbox run --tier bwrap -- sandbox_probe ATTACK` and asserts the secret or effect is
// not reached. Every target is a fixture in a temp dir (fake ~/.ssh, the data dir's store and
// vault, a listener standing for the engine's API port, a socket standing for D-Bus), never a
// real host file; the empty network namespace guarantees nothing is sent off the host. Ends
// with a real run of the real runner under bwrap against the fake model server.
//
// REQUIRE_SANDBOX=1 (CI): a host where the bwrap tier does not work fails instead of skipping.
#include "FakeModelServer.h"
#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace testsupport;

namespace {

/** True once no process (zombies included) of the shared sandbox uid 65534 remains. */
bool waitForNoSandboxUidProcesses(int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    for (;;) {
        bool any = false;
        const QStringList pids =
            QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString& pid : pids) {
            bool ok = false;
            pid.toLongLong(&ok);
            if (!ok)
                continue;
            QFile status(QStringLiteral("/proc/%1/status").arg(pid));
            if (!status.open(QIODevice::ReadOnly))
                continue;
            for (const QByteArray& line : status.readAll().split('\n')) {
                if (line.startsWith("Uid:")) {
                    any = any || line.simplified().split(' ').value(1) == "65534";
                    break;
                }
            }
        }
        if (!any)
            return true;
        if (t.elapsed() > timeoutMs)
            return false;
        QTest::qWait(100);
    }
}

const QByteArray SshCanary = "CANARY-SSH-KEY-3c1f0a9e";
const QByteArray EnvCanary = "CANARY-ENV-5b77e2d1";
const QByteArray OtherRunCanary = "CANARY-OTHER-RUN-92d4";
const QByteArray ModelKeyCanary = "sk-CANARY-MODEL-KEY-61af";

constexpr int ExitTimedOut = 124;
constexpr int Escaped = 10;

struct Sandboxed
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    qint64 ms = 0;
    QString describe() const
    {
        return QStringLiteral("exit %1 after %2 ms\nstdout: %3\nstderr: %4")
            .arg(exitCode)
            .arg(ms)
            .arg(QString::fromUtf8(out), QString::fromUtf8(err));
    }
};

/** Processes whose command line contains `marker` (the sandbox's, seen from the host). */
QList<pid_t> processesWith(const QByteArray& marker)
{
    QList<pid_t> pids;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString& e : entries) {
        bool ok = false;
        const pid_t pid = pid_t(e.toInt(&ok));
        if (!ok || pid == ::getpid())
            continue;
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(marker))
            pids << pid;
    }
    return pids;
}

/** The real uid of a host process, -1 if gone. */
int hostUidOf(pid_t pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (line.startsWith("Uid:"))
            return line.mid(4).simplified().split(' ').value(0).toInt();
    }
    return -1;
}

/** The number after "after " in a probe's line ("blocked fork refused after 254 children"). */
int countAfter(const QByteArray& out)
{
    return QString::fromUtf8(out)
        .section(QLatin1String("after "), 1)
        .section(QLatin1Char(' '), 0, 0)
        .toInt();
}

/** "pid:[inode]" of a process's pid namespace (a magic link: readlink, not QFileInfo). */
QByteArray pidNamespaceOf(const QString& pid)
{
    char buf[64] = {};
    const QByteArray link = QFile::encodeName(QStringLiteral("/proc/%1/ns/pid").arg(pid));
    const ssize_t n = ::readlink(link.constData(), buf, sizeof buf - 1);
    return n > 0 ? QByteArray(buf, n) : QByteArray();
}

bool waitFor(const std::function<bool()>& cond, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (cond())
            return true;
        QTest::qWait(20);
    }
    return cond();
}

QJsonObject call(const QString& name, const QJsonObject& args)
{
    return {{QStringLiteral("name"), name},
            {QStringLiteral("arguments"),
             QString::fromUtf8(QJsonDocument(args).toJson(QJsonDocument::Compact))}};
}

} // namespace

class TestSandboxAttacks : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_probe;
    QByteArrayList m_outputs; ///< everything the sandbox printed, grepped for canaries at the end
    QStringList m_secrets;    ///< host paths of fixture secrets
    bool m_landlock = false;

    QString data() const { return m_tmp.filePath(QStringLiteral("data")); }
    QString home() const { return m_tmp.filePath(QStringLiteral("home")); }

    /** `vivarium sandbox run --tier T [extra] -- sandbox_probe ARGS` */
    Sandboxed sandbox(const QStringList& probeArgs, const QStringList& extra = {},
                      const QString& tier = QStringLiteral("bwrap"), int timeoutMs = 60000)
    {
        QStringList args{QStringLiteral("sandbox"),    QStringLiteral("run"),
                         QStringLiteral("--data-dir"), data(),
                         QStringLiteral("--tier"),     tier};
        args << extra << QStringLiteral("--") << m_probe << probeArgs;
        return command(args, timeoutMs);
    }

    Sandboxed command(const QStringList& args, int timeoutMs = 60000)
    {
        QProcessEnvironment env;
        // What the engine has in its environment must not reach the run.
        env.insert(QStringLiteral("VIVARIUM_TEST_CANARY"), QString::fromLatin1(EnvCanary));
        env.insert(QStringLiteral("HOME"), home());
        QElapsedTimer clock;
        clock.start();
        const ProcessResult r =
            runProcess(bin(QStringLiteral("vivarium")), args, {}, timeoutMs, env);
        Sandboxed s{r.timedOut ? -2 : (r.crashed ? -3 : r.exitCode), r.out, r.err, clock.elapsed()};
        m_outputs << r.out << r.err;
        return s;
    }

    /** The probe ran, reported the attack as blocked, and exited 0. */
    void expectBlocked(const QStringList& probeArgs, const QString& tier = QStringLiteral("bwrap"))
    {
        const Sandboxed r = sandbox(probeArgs, {}, tier);
        QVERIFY2(
            r.exitCode == 0 && r.out.startsWith("blocked "),
            qPrintable(probeArgs.join(QLatin1Char(' ')) + QStringLiteral(": ") + r.describe()));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_probe = bin(QStringLiteral("sandbox_probe"));
        QVERIFY2(QFileInfo(m_probe).isExecutable(), qPrintable(m_probe));

        // Is the bwrap tier usable here? doctor tries it for real.
        const Sandboxed doctor = command({QStringLiteral("doctor"), QStringLiteral("--json"),
                                          QStringLiteral("--data-dir"), data()});
        const QJsonArray tiers = QJsonDocument::fromJson(doctor.out)
                                     .object()
                                     .value(QStringLiteral("sandbox_tiers"))
                                     .toArray();
        QString bwrapDetail = QStringLiteral("doctor did not report tiers: ") + doctor.describe();
        bool bwrap = false;
        for (const QJsonValue& t : tiers) {
            const QString name = t[QStringLiteral("tier")].toString();
            if (name == QLatin1String("bwrap")) {
                bwrap = t[QStringLiteral("available")].toBool();
                bwrapDetail = t[QStringLiteral("detail")].toString();
            } else if (name == QLatin1String("landlock")) {
                m_landlock = t[QStringLiteral("available")].toBool();
            }
        }
        if (!bwrap) {
            if (qEnvironmentVariable("REQUIRE_SANDBOX") == QLatin1String("1"))
                QFAIL(qPrintable(QStringLiteral("REQUIRE_SANDBOX=1 but the bwrap tier does not "
                                                "work: ") +
                                 bwrapDetail));
            QSKIP(qPrintable(QStringLiteral("bwrap tier unavailable: ") + bwrapDetail));
        }

        // Fixtures: a fake home with an SSH key; a data dir with a store and a vault holding a
        // model key; another run's workspace.
        QVERIFY(writeFile(home() + QStringLiteral("/.ssh/id_rsa"), SshCanary + "\n"));
        m_secrets << home() + QStringLiteral("/.ssh/id_rsa");
        // A model key in the vault (--key-stdin).
        const ProcessResult added =
            runProcess(bin(QStringLiteral("vivarium")),
                       {QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("vendor"),
                        QStringLiteral("--api"), QStringLiteral("openai"),
                        QStringLiteral("--base-url"), QStringLiteral("http://127.0.0.1:9/v1"),
                        QStringLiteral("--key-stdin"), QStringLiteral("--data-dir"), data()},
                       ModelKeyCanary + "\n");
        QVERIFY2(added.exitCode == 0, qPrintable(added.describe()));
        const QString other = data() + QStringLiteral("/runs/run_OTHER/workspace");
        QVERIFY(writeFile(other + QStringLiteral("/secret.txt"), OtherRunCanary));
        m_secrets << other + QStringLiteral("/secret.txt");
        QDirIterator it(data(), QDir::Files | QDir::Hidden | QDir::System,
                        QDirIterator::Subdirectories);
        while (it.hasNext())
            m_secrets << it.next();
        QVERIFY2(m_secrets.size() >= 4, qPrintable(m_secrets.join(QLatin1Char(' '))));
    }

    void cleanupTestCase()
    {
        if (m_probe.isEmpty())
            return;
        // The canaries surface nowhere the sandbox could write to.
        for (const QByteArray& out : std::as_const(m_outputs)) {
            for (const QByteArray& canary : {SshCanary, EnvCanary, OtherRunCanary, ModelKeyCanary})
                QVERIFY2(!out.contains(canary), out.constData());
        }
    }

    // --- what the process is -----------------------------------------------------------------

    void identityAndConfinement()
    {
        const Sandboxed r = sandbox({QStringLiteral("whoami")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains("uid 1000 euid 1000 gid 1000 egid 1000 host vivarium"),
                 r.out.constData());
        QVERIFY(r.out.contains("NoNewPrivs 1 Seccomp 2"));
        QVERIFY(r.out.contains("cwd /workspace"));
        QVERIFY(r.out.contains("limit nproc 256 256"));
        QVERIFY(r.out.contains("limit nofile 512 512"));
        QVERIFY(r.out.contains("limit core 0 0"));
        QVERIFY(r.out.contains("limit fsize 268435456 268435456"));
    }

    void notRootOnTheHost()
    {
        // Seen from outside while it runs: never uid 0, whoever started the engine.
        const QByteArray marker = "marker-notroot-" + QByteArray::number(::getpid());
        QProcess p;
        p.start(bin(QStringLiteral("vivarium")),
                {QStringLiteral("sandbox"), QStringLiteral("run"), QStringLiteral("--data-dir"),
                 data(), QStringLiteral("--tier"), QStringLiteral("bwrap"),
                 QStringLiteral("--timeout"), QStringLiteral("20"), QStringLiteral("--"), m_probe,
                 QStringLiteral("spin"), QString::fromLatin1(marker)});
        QVERIFY(p.waitForStarted());
        QList<pid_t> pids;
        QVERIFY(waitFor(
            [&]() {
                pids = processesWith(marker);
                // The CLI, bwrap and the probe carry the marker; wait for the probe.
                return pids.size() >= 3;
            },
            10000));
        for (pid_t pid : std::as_const(pids)) {
            if (pid == pid_t(p.processId()))
                continue; // the CLI itself: the engine side, which may well be root
            const int uid = hostUidOf(pid);
            if (uid < 0)
                continue;
            QVERIFY2(uid != 0, qPrintable(QStringLiteral("pid %1 runs as host root").arg(pid)));
            if (::geteuid() != 0)
                QCOMPARE(uid, int(::getuid()));
        }
        p.kill();
        p.waitForFinished();
        QVERIFY2(waitFor([&]() { return processesWith(marker).isEmpty(); }, 5000),
                 "the sandbox outlived the killed CLI");
    }

    void engineKilledDuringStartLeavesNothing()
    {
        // bwrap arms its pid 1's parent-death signal only after its mount setup; the lifeline
        // held by the engine covers that window. Kill the CLI at many points of the start.
        const QByteArray marker = "marker-startkill-" + QByteArray::number(::getpid());
        for (int delayMs = 0; delayMs <= 40; delayMs += 2) {
            QProcess p;
            p.start(bin(QStringLiteral("vivarium")),
                    {QStringLiteral("sandbox"), QStringLiteral("run"), QStringLiteral("--data-dir"),
                     data(), QStringLiteral("--tier"), QStringLiteral("bwrap"),
                     QStringLiteral("--timeout"), QStringLiteral("60"), QStringLiteral("--"),
                     m_probe, QStringLiteral("spin"), QString::fromLatin1(marker)});
            QVERIFY(p.waitForStarted());
            if (delayMs > 0)
                ::usleep(useconds_t(delayMs) * 1000);
            ::kill(pid_t(p.processId()), SIGKILL);
            p.waitForFinished();
        }
        QVERIFY2(waitFor([&]() { return processesWith(marker).isEmpty(); }, 5000),
                 qPrintable(QStringLiteral("%1 processes of killed starts are still running")
                                .arg(processesWith(marker).size())));
    }

    void environmentIsClearedAndExplicit()
    {
        const Sandboxed r = sandbox({QStringLiteral("env")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QStringList lines = QString::fromUtf8(r.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        lines.sort();
        // bwrap's --chdir adds PWD; nothing else beyond the explicit five.
        QCOMPARE(lines,
                 QStringList({QStringLiteral("HOME=/workspace"), QStringLiteral("LANG=C.UTF-8"),
                              QStringLiteral("PATH=/usr/bin:/bin"),
                              QStringLiteral("PWD=/workspace"), QStringLiteral("TMPDIR=/tmp"),
                              QStringLiteral("VIVARIUM_BROKER_SOCKET=/run/vivarium/broker.sock")}));
        expectBlocked({QStringLiteral("env"), QStringLiteral("VIVARIUM_TEST_CANARY")});
    }

    // --- files -------------------------------------------------------------------------------

    void hostSecretsAreNotThere()
    {
        for (const QString& secret : std::as_const(m_secrets))
            expectBlocked({QStringLiteral("read"), secret});
        for (const char* path : {"/etc/shadow", "/root/.bashrc", "/etc/ssh/sshd_config",
                                 "/sys/kernel/notes", "/proc/1/root/etc/shadow"})
            expectBlocked({QStringLiteral("read"), QLatin1String(path)});
        // Pid 1 is the sandbox's own init: what it holds is what the run was given.
        const Sandboxed init = sandbox({QStringLiteral("read"), QStringLiteral("/proc/1/environ")});
        QVERIFY(!init.out.contains(EnvCanary));
        QVERIFY(!init.out.contains(home().toUtf8()));
        // The root holds only the sandbox's own pieces.
        const Sandboxed r = sandbox({QStringLiteral("ls"), QStringLiteral("/")});
        QStringList names = QString::fromUtf8(r.out.trimmed()).split(QLatin1Char(' '));
        names.removeFirst(); // "entries"
        for (const QString& n : std::as_const(names)) {
            static const QStringList Allowed{
                QStringLiteral("bin"),    QStringLiteral("sbin"),  QStringLiteral("lib"),
                QStringLiteral("lib32"),  QStringLiteral("lib64"), QStringLiteral("libx32"),
                QStringLiteral("usr"),    QStringLiteral("etc"),   QStringLiteral("proc"),
                QStringLiteral("dev"),    QStringLiteral("tmp"),   QStringLiteral("workspace"),
                QStringLiteral("memory"), QStringLiteral("run"),   QStringLiteral("opt")};
            QVERIFY2(Allowed.contains(n), qPrintable(n));
        }
        for (const char* dir : {"/home", "/root", "/var", "/sys", "/mnt", "/media"})
            expectBlocked({QStringLiteral("ls"), QLatin1String(dir)});
        const Sandboxed run = sandbox({QStringLiteral("ls"), QStringLiteral("/run")});
        QCOMPARE(run.out.trimmed(), QByteArray("entries vivarium"));
        const Sandboxed etc = sandbox({QStringLiteral("read"), QStringLiteral("/etc/passwd")});
        QVERIFY(etc.out.contains("agent:x:1000"));
        QVERIFY(!etc.out.contains("root:"));
    }

    void writesOutsideTheWorkspaceFail()
    {
        const QString name = QStringLiteral("vivarium-escape-%1").arg(::getpid());
        for (const QString& path : QStringList{
                 QStringLiteral("/usr/") + name, QStringLiteral("/etc/") + name,
                 QStringLiteral("/") + name, QStringLiteral("/opt/vivarium/bin/") + name,
                 QStringLiteral("/run/") + name, QStringLiteral("/proc/") + name,
                 QStringLiteral("/opt/vivarium/bin/vivarium-sandbox-init"),
                 QStringLiteral("/etc/passwd"), QStringLiteral("/etc/hosts"), m_tmp.filePath(name),
                 home() + QLatin1Char('/') + name, data() + QLatin1Char('/') + name})
            expectBlocked({QStringLiteral("write"), path});
        // /tmp is the sandbox's own: writable, and nothing lands in the host's /tmp.
        const Sandboxed tmp = sandbox({QStringLiteral("write"), QStringLiteral("/tmp/") + name});
        QCOMPARE(tmp.exitCode, Escaped);
        QVERIFY(!QFileInfo::exists(QStringLiteral("/tmp/") + name));
        const QStringList hostTmp =
            QDir(QStringLiteral("/tmp")).entryList({name + QLatin1Char('*')});
        QVERIFY(hostTmp.isEmpty());
        // The workspace is writable, and that write is the one that shows on the host.
        const QString ws = m_tmp.filePath(QStringLiteral("ws-write"));
        QVERIFY(QDir().mkpath(ws));
        const Sandboxed ok = sandbox({QStringLiteral("write"), QStringLiteral("/workspace/ok")},
                                     {QStringLiteral("--workspace"), ws});
        QCOMPARE(ok.exitCode, Escaped);
        QVERIFY(QFileInfo::exists(ws + QStringLiteral("/ok")));
        for (const QString& n : {QStringLiteral("/usr/"), QStringLiteral("/etc/")})
            QVERIFY(!QFileInfo::exists(n + name));
    }

    void anotherRunsWorkspaceIsInvisible()
    {
        expectBlocked({QStringLiteral("read"),
                       data() + QStringLiteral("/runs/run_OTHER/workspace/secret.txt")});
        expectBlocked({QStringLiteral("ls"), data() + QStringLiteral("/runs")});
        // A second sandbox with its own workspace sees only its own files.
        const QString mine = m_tmp.filePath(QStringLiteral("ws-mine"));
        QVERIFY(writeFile(mine + QStringLiteral("/mine.txt"), "mine"));
        const Sandboxed r = sandbox({QStringLiteral("ls"), QStringLiteral("/workspace")},
                                    {QStringLiteral("--workspace"), mine});
        QCOMPARE(r.out.trimmed(), QByteArray("entries mine.txt"));
    }

    void symlinkHardlinkAndDotDotTricks()
    {
        const QString secret = home() + QStringLiteral("/.ssh/id_rsa");
        const QString ws = m_tmp.filePath(QStringLiteral("ws-links"));
        QVERIFY(QDir().mkpath(ws));
        // Links planted in the workspace (by an earlier run, or a tool) that point out of it.
        QVERIFY(QFile::link(secret, ws + QStringLiteral("/abs")));
        QString up;
        for (int i = 0; i < 12; ++i)
            up += QStringLiteral("../");
        QVERIFY(QFile::link(up + secret.mid(1), ws + QStringLiteral("/rel")));
        const QStringList extra{QStringLiteral("--workspace"), ws};
        for (const QString& path :
             QStringList{QStringLiteral("/workspace/abs"), QStringLiteral("/workspace/rel"),
                         QStringLiteral("/workspace/") + up + secret.mid(1),
                         QStringLiteral("/workspace/../../..") + secret}) {
            const Sandboxed r = sandbox({QStringLiteral("read"), path}, extra);
            QVERIFY2(r.exitCode == 0 && r.out.startsWith("blocked"),
                     qPrintable(path + QStringLiteral(": ") + r.describe()));
        }
        // Made from inside: a symlink or a hard link to a host path, or to the system view.
        for (const QStringList& attack :
             {QStringList{QStringLiteral("symlink-read"), secret, QStringLiteral("/workspace/s")},
              {QStringLiteral("link"), secret, QStringLiteral("/workspace/h1")},
              {QStringLiteral("link"), QStringLiteral("/etc/passwd"),
               QStringLiteral("/workspace/h2")},
              {QStringLiteral("link"), QStringLiteral("/usr/bin/true"),
               QStringLiteral("/workspace/h3")}}) {
            const Sandboxed r = sandbox(attack, extra);
            QVERIFY2(
                r.exitCode == 0 && r.out.startsWith("blocked"),
                qPrintable(attack.join(QLatin1Char(' ')) + QStringLiteral(": ") + r.describe()));
        }
    }

    // --- network -----------------------------------------------------------------------------

    void loopbackListenersAreUnreachable()
    {
        // Stand-ins for the engine's API port on both loopbacks.
        QTcpServer v4;
        QTcpServer v6;
        QVERIFY(v4.listen(QHostAddress::LocalHost));
        const bool haveV6 = v6.listen(QHostAddress::LocalHostIPv6);
        expectBlocked({QStringLiteral("connect4"), QStringLiteral("127.0.0.1"),
                       QString::number(v4.serverPort())});
        if (haveV6)
            expectBlocked({QStringLiteral("connect6"), QStringLiteral("::1"),
                           QString::number(v6.serverPort())});
        QTest::qWait(50);
        QVERIFY(!v4.hasPendingConnections());
        QVERIFY(!v6.hasPendingConnections());
    }

    void noExternalOrUdpTraffic()
    {
        // Unroutable test address; the empty network namespace refuses at once, nothing leaves.
        const Sandboxed tcp = sandbox(
            {QStringLiteral("connect4"), QStringLiteral("10.255.255.1"), QStringLiteral("80")});
        QVERIFY2(tcp.out.startsWith("blocked connect: Network is unreachable"),
                 qPrintable(tcp.describe()));
        const int ms = QString::fromUtf8(tcp.out)
                           .section(QLatin1String(" after "), 1)
                           .section(QLatin1Char(' '), 0, 0)
                           .toInt();
        QVERIFY2(ms < 500, qPrintable(tcp.describe()));
        expectBlocked(
            {QStringLiteral("connect6"), QStringLiteral("2001:db8::1"), QStringLiteral("80")});
        // 127.0.0.1 inside is the sandbox's own loopback: a datagram may be "sent" there, but
        // the host's listener never sees it.
        QUdpSocket udp;
        QVERIFY(udp.bind(QHostAddress::LocalHost, 0));
        const Sandboxed local = sandbox(
            {QStringLiteral("udp"), QStringLiteral("127.0.0.1"), QString::number(udp.localPort())});
        QVERIFY2(local.exitCode == 0 || local.exitCode == Escaped, qPrintable(local.describe()));
        expectBlocked(
            {QStringLiteral("udp"), QStringLiteral("10.255.255.1"), QStringLiteral("53")});
        QTest::qWait(200);
        QVERIFY(!udp.hasPendingDatagrams());
    }

    void dnsLookupsFail()
    {
        expectBlocked({QStringLiteral("dns"), QStringLiteral("example.com")});
        expectBlocked({QStringLiteral("dns"), QStringLiteral("vivarium-test.invalid")});
        expectBlocked({QStringLiteral("read"), QStringLiteral("/etc/resolv.conf")});
    }

    void hostUnixSocketsAreUnreachable()
    {
        // Stand-ins for D-Bus and the engine's control socket, on the filesystem and abstract.
        QLocalServer fake;
        const QString path = m_tmp.filePath(QStringLiteral("fake-dbus.sock"));
        QVERIFY(fake.listen(path));
        expectBlocked({QStringLiteral("unixconnect"), path});
        for (const char* p : {"/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket",
                              "/tmp/.X11-unix/X0", "/run/systemd/private"})
            expectBlocked({QStringLiteral("unixconnect"), QLatin1String(p)});
        const QByteArray abstractName = "vivarium-test-" + QByteArray::number(::getpid());
        const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        QVERIFY(s >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path + 1, abstractName.constData(), size_t(abstractName.size()));
        const auto len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + abstractName.size());
        QCOMPARE(::bind(s, reinterpret_cast<sockaddr*>(&a), len), 0);
        QCOMPARE(::listen(s, 4), 0);
        expectBlocked(
            {QStringLiteral("unixconnect"), QLatin1Char('@') + QString::fromLatin1(abstractName)});
        ::close(s);
        QTest::qWait(20);
        QVERIFY(!fake.hasPendingConnections());
    }

    // --- processes and the kernel ------------------------------------------------------------

    void otherProcessesAreInvisible()
    {
        const Sandboxed r = sandbox({QStringLiteral("ps")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(!r.out.contains("tst_sandboxattacks"), r.out.constData());
        QVERIFY2(!r.out.contains("vivarium sandbox"), r.out.constData());
        const int count = QString::fromUtf8(r.out).section(QLatin1String("count "), 1).toInt();
        // bwrap's init and the probe.
        QVERIFY2(count >= 1 && count <= 3, r.out.constData());
    }

    void kernelSurfaceIsClosed_data()
    {
        QTest::addColumn<QStringList>("attack");
        QTest::newRow("ptrace") << QStringList{QStringLiteral("ptrace")};
        QTest::newRow("io_uring") << QStringList{QStringLiteral("io_uring")};
        QTest::newRow("unshare") << QStringList{QStringLiteral("unshare")};
        QTest::newRow("mount") << QStringList{QStringLiteral("mount")};
        QTest::newRow("netlink") << QStringList{QStringLiteral("netlink")};
        QTest::newRow("tiocsti") << QStringList{QStringLiteral("tiocsti")};
        QTest::newRow("mknod") << QStringList{QStringLiteral("mknod"),
                                              QStringLiteral("/workspace/null")};
        QTest::newRow("setuid binary") << QStringList{QStringLiteral("setuid")};
    }
    void kernelSurfaceIsClosed()
    {
        QFETCH(QStringList, attack);
        expectBlocked(attack);
    }

    void seccompAnswersWithItsErrno()
    {
        // The filter, not just a missing capability, is what refuses.
        Sandboxed r = sandbox({QStringLiteral("io_uring")});
        QVERIFY2(r.out.contains("(errno 38)"), r.out.constData()); // ENOSYS
        r = sandbox({QStringLiteral("ptrace")});
        QVERIFY2(r.out.contains("PTRACE_ATTACH: Operation not permitted"), r.out.constData());
        r = sandbox({QStringLiteral("netlink")});
        QVERIFY2(r.out.contains("AF_NETLINK: Address family not supported"), r.out.constData());
    }

    // --- resources ---------------------------------------------------------------------------

    void forkBombIsBoundedAndKilled()
    {
        const Sandboxed counted = sandbox({QStringLiteral("forkcount")});
        QVERIFY2(counted.out.startsWith("blocked fork refused after"),
                 qPrintable(counted.describe()));
        const int children = countAfter(counted.out);
        QVERIFY2(children > 0 && children < 256, counted.out.constData());

        const QByteArray marker = "marker-forkbomb-" + QByteArray::number(::getpid());
        QProcess p;
        p.start(bin(QStringLiteral("vivarium")),
                {QStringLiteral("sandbox"), QStringLiteral("run"), QStringLiteral("--data-dir"),
                 data(), QStringLiteral("--tier"), QStringLiteral("bwrap"),
                 QStringLiteral("--timeout"), QStringLiteral("3"), QStringLiteral("--"), m_probe,
                 QStringLiteral("forkbomb"), QString::fromLatin1(marker)});
        QVERIFY(p.waitForStarted());
        int most = 0;
        QElapsedTimer t;
        t.start();
        while (p.state() != QProcess::NotRunning && t.elapsed() < 20000) {
            most = qMax(most, int(processesWith(marker).size()));
            p.waitForFinished(100);
        }
        QVERIFY(p.state() == QProcess::NotRunning || p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), ExitTimedOut);
        QVERIFY2(most <= 256 + 4, qPrintable(QStringLiteral("%1 processes").arg(most)));
        QVERIFY2(waitFor([&]() { return processesWith(marker).isEmpty(); }, 5000),
                 "fork bomb processes survived the kill");
    }

    void memoryBombIsBounded()
    {
        const Sandboxed r = sandbox({QStringLiteral("membomb")});
        QVERIFY2(r.out.startsWith("blocked mmap refused after"), qPrintable(r.describe()));
        const int mib = countAfter(r.out);
        QVERIFY2(mib <= 4096, r.out.constData());
    }

    void diskFillIsBounded()
    {
        const QString ws = m_tmp.filePath(QStringLiteral("ws-fill"));
        QVERIFY(QDir().mkpath(ws));
        const Sandboxed r = sandbox({QStringLiteral("fill"), QStringLiteral("/workspace/big")},
                                    {QStringLiteral("--workspace"), ws});
        QVERIFY2(r.out.startsWith("blocked write refused after") &&
                     r.out.contains("File too large"),
                 qPrintable(r.describe()));
        QVERIFY(QFileInfo(ws + QStringLiteral("/big")).size() <= 256LL * 1024 * 1024);
        QFile::remove(ws + QStringLiteral("/big"));
    }

    void tmpFillIsBounded()
    {
        const Sandboxed r = sandbox({QStringLiteral("fill"), QStringLiteral("/tmp/big")});
        QVERIFY2(r.out.startsWith("blocked write refused after") &&
                     r.out.contains("No space left on device"),
                 qPrintable(r.describe()));
        const int mib = countAfter(r.out);
        QVERIFY2(mib <= 64, r.out.constData());
    }

    void fdExhaustionIsBounded()
    {
        const Sandboxed r = sandbox({QStringLiteral("fds")});
        QVERIFY2(r.out.startsWith("blocked open refused after") &&
                     r.out.contains("Too many open files"),
                 qPrintable(r.describe()));
        const int fds = countAfter(r.out);
        QVERIFY(fds < 512);
    }

    void busyLoopPastTheTimeoutIsKilled()
    {
        const QByteArray marker = "marker-spin-" + QByteArray::number(::getpid());
        QElapsedTimer t;
        t.start();
        const Sandboxed r = sandbox(
            {QStringLiteral("spin"), QStringLiteral("--child"), QString::fromLatin1(marker)},
            {QStringLiteral("--timeout"), QStringLiteral("2")});
        QCOMPARE(r.exitCode, ExitTimedOut);
        QVERIFY2(r.err.contains("wall clock limit of 2 s reached"), r.err.constData());
        QVERIFY(t.elapsed() < 10000);
        QVERIFY2(waitFor([&]() { return processesWith(marker).isEmpty(); }, 5000),
                 "a process of the sandbox survived the kill");
    }

    // --- the command line --------------------------------------------------------------------

    void exitCodeAndOutputPassThrough()
    {
        Sandboxed r = sandbox({QStringLiteral("exit"), QStringLiteral("42")});
        QCOMPARE(r.exitCode, 42);
        QStringList args{
            QStringLiteral("sandbox"),    QStringLiteral("run"),
            QStringLiteral("--data-dir"), data(),
            QStringLiteral("--"),         QStringLiteral("sh"),
            QStringLiteral("-c"),         QStringLiteral("echo out; echo err >&2; exit 3")};
        r = command(args);
        QCOMPARE(r.exitCode, 3);
        QCOMPARE(r.out, QByteArray("out\n"));
        QCOMPARE(r.err, QByteArray("err\n"));
        // A signal is reported as a shell would.
        args = {QStringLiteral("sandbox"),    QStringLiteral("run"),
                QStringLiteral("--data-dir"), data(),
                QStringLiteral("--"),         QStringLiteral("sh"),
                QStringLiteral("-c"),         QStringLiteral("kill -9 $$")};
        QCOMPARE(command(args).exitCode, 128 + 9);
        // Not found inside: 127, like a shell.
        args = {QStringLiteral("sandbox"),    QStringLiteral("run"),
                QStringLiteral("--data-dir"), data(),
                QStringLiteral("--"),         QStringLiteral("no-such-command-here")};
        QCOMPARE(command(args).exitCode, 127);
    }

    void tierBelowMinimumIsRefused()
    {
        const QString file = m_tmp.filePath(QStringLiteral("strict.json"));
        QVERIFY(writeFile(
            file, QJsonDocument(
                      QJsonObject{
                          {QStringLiteral("id"), QStringLiteral("strict")},
                          {QStringLiteral("name"), QStringLiteral("Strict")},
                          {QStringLiteral("prompt"), QStringLiteral("x")},
                          {QStringLiteral("model"),
                           QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("vendor")},
                                       {QStringLiteral("name"), QStringLiteral("m")}}},
                          {QStringLiteral("sandbox"),
                           QJsonObject{{QStringLiteral("tier"), QStringLiteral("container")},
                                       {QStringLiteral("min_tier"), QStringLiteral("container")}}}})
                      .toJson()));
        Sandboxed r = command({QStringLiteral("agent"), QStringLiteral("add"), file,
                               QStringLiteral("--data-dir"), data()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        // Through sandbox run: no silent step down to bwrap.
        r = command({QStringLiteral("sandbox"), QStringLiteral("run"), QStringLiteral("--data-dir"),
                     data(), QStringLiteral("--agent"), QStringLiteral("strict"),
                     QStringLiteral("--"), QStringLiteral("true")});
        QCOMPARE(r.exitCode, 125);
        QVERIFY2(r.err.contains("sandbox tier \"container\" is not available on this host (not "
                                "implemented in this build"),
                 r.err.constData());
        QVERIFY(r.err.contains("the agent requires at least \"container\""));
        r = command({QStringLiteral("sandbox"), QStringLiteral("run"), QStringLiteral("--data-dir"),
                     data(), QStringLiteral("--agent"), QStringLiteral("strict"),
                     QStringLiteral("--tier"), QStringLiteral("bwrap"), QStringLiteral("--"),
                     QStringLiteral("true")});
        QCOMPARE(r.exitCode, 125);
        QVERIFY2(r.err.contains("below agent \"strict\"'s min_tier \"container\""),
                 r.err.constData());
        // Through a real run: it fails at once with the reason.
        r = command({QStringLiteral("run"), QStringLiteral("strict"), QStringLiteral("--json"),
                     QStringLiteral("--data-dir"), data()});
        QCOMPARE(r.exitCode, 1);
        const QJsonObject run = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
        QVERIFY2(run.value(QStringLiteral("reason"))
                     .toString()
                     .startsWith(QStringLiteral(
                         "sandbox tier \"container\" is not available on this host")),
                 r.out.constData());
    }

    void landlockTierConfinesToo()
    {
        if (!m_landlock)
            QSKIP("the landlock tier is not available here");
        // As root the landlock tier runs as the shared sandbox uid under RLIMIT_NPROC, which
        // the kernel counts host-wide per uid: the fork bomb's orphans (zombies until this
        // VM's PID 1 reaps them) would make execve fail with EAGAIN. Wait for them first.
        if (::geteuid() == 0)
            QVERIFY2(waitForNoSandboxUidProcesses(30000), "sandbox-uid processes never went away");
        const QString tier = QStringLiteral("landlock");
        expectBlocked({QStringLiteral("env"), QStringLiteral("VIVARIUM_TEST_CANARY")}, tier);
        for (const QString& secret : std::as_const(m_secrets))
            expectBlocked({QStringLiteral("read"), secret}, tier);
        expectBlocked({QStringLiteral("read"), QStringLiteral("/etc/shadow")}, tier);
        expectBlocked({QStringLiteral("write"), QStringLiteral("/tmp/vivarium-landlock-escape")},
                      tier);
        QTcpServer v4;
        QVERIFY(v4.listen(QHostAddress::LocalHost));
        expectBlocked({QStringLiteral("connect4"), QStringLiteral("127.0.0.1"),
                       QString::number(v4.serverPort())},
                      tier);
        expectBlocked({QStringLiteral("dns"), QStringLiteral("example.com")}, tier);
        expectBlocked({QStringLiteral("ptrace")}, tier);
        expectBlocked({QStringLiteral("unshare")}, tier);
        expectBlocked({QStringLiteral("netlink")}, tier);
        expectBlocked({QStringLiteral("fds")}, tier);
        const Sandboxed r = sandbox({QStringLiteral("whoami")}, {}, tier);
        QVERIFY2(r.out.contains("NoNewPrivs 1 Seccomp 2"), r.out.constData());
        if (::geteuid() == 0)
            QVERIFY2(!r.out.contains("uid 0 "), r.out.constData());
    }

    // --- a real run ---------------------------------------------------------------------------

    /** Point model endpoint "fake" at `server` and add agent `id` with `tier` (as min too). */
    void addBoxedAgent(const FakeModelServer& server, const QString& id, const QString& tier,
                       int timeoutS = 60)
    {
        const ProcessResult model =
            runProcess(bin(QStringLiteral("vivarium")),
                       {QStringLiteral("model"), QStringLiteral("add"), QStringLiteral("fake"),
                        QStringLiteral("--api"), QStringLiteral("openai"),
                        QStringLiteral("--base-url"), server.openAiBaseUrl().toString(),
                        QStringLiteral("--key-stdin"), QStringLiteral("--data-dir"), data()},
                       ModelKeyCanary + "\n");
        QVERIFY2(model.exitCode == 0, qPrintable(model.describe()));
        const QString file = m_tmp.filePath(id + QStringLiteral(".json"));
        const QJsonObject def{
            {QStringLiteral("id"), id},
            {QStringLiteral("name"), id},
            {QStringLiteral("prompt"), QStringLiteral("Keep notes.")},
            {QStringLiteral("model"),
             QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("fake")},
                         {QStringLiteral("name"), QStringLiteral("gpt-4o-mini")}}},
            {QStringLiteral("limits"), QJsonObject{{QStringLiteral("timeout_s"), timeoutS}}},
            {QStringLiteral("sandbox"),
             QJsonObject{{QStringLiteral("tier"), tier}, {QStringLiteral("min_tier"), tier}}}};
        QVERIFY(writeFile(file, QJsonDocument(def).toJson()));
        const Sandboxed r = command({QStringLiteral("agent"), QStringLiteral("add"), file,
                                     QStringLiteral("--data-dir"), data()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    }

    QJsonObject lastRunOf(const QString& agent)
    {
        const QJsonArray runs =
            QJsonDocument::fromJson(
                command({QStringLiteral("runs"), QStringLiteral("list"), QStringLiteral("--agent"),
                         agent, QStringLiteral("--json"), QStringLiteral("--data-dir"), data()})
                    .out)
                .array();
        if (runs.isEmpty())
            return {};
        return QJsonDocument::fromJson(
                   command({QStringLiteral("runs"), QStringLiteral("show"),
                            runs.first()[QStringLiteral("id")].toString(),
                            QStringLiteral("--events"), QStringLiteral("--json"),
                            QStringLiteral("--data-dir"), data()})
                       .out)
            .object();
    }

    static QJsonObject eventOf(const QJsonObject& run, const QString& type)
    {
        for (const QJsonValue& e : run[QStringLiteral("events")].toArray()) {
            if (e[QStringLiteral("type")].toString() == type)
                return e[QStringLiteral("data")].toObject();
        }
        return {};
    }

    void realRunInTheSandbox_data()
    {
        QTest::addColumn<QString>("tier");
        QTest::newRow("bwrap") << "bwrap";
        QTest::newRow("landlock") << "landlock";
    }
    void realRunInTheSandbox()
    {
        QFETCH(QString, tier);
        if (tier == QLatin1String("landlock") && !m_landlock)
            QSKIP("the landlock tier is not available here");
        FakeModelServer server;
        QVERIFY(server.start());
        const QString agent = QStringLiteral("boxed-") + tier;
        addBoxedAgent(server, agent, tier);
        if (QTest::currentTestFailed())
            return;
        const QString secret = home() + QStringLiteral("/.ssh/id_rsa");
        server.setScript(QJsonArray{
            QJsonObject{{QStringLiteral("tool_calls"),
                         QJsonArray{call(QStringLiteral("file_write"),
                                         {{QStringLiteral("path"), QStringLiteral("notes.txt")},
                                          {QStringLiteral("content"), QStringLiteral("hello")}})}}},
            QJsonObject{
                {QStringLiteral("tool_calls"),
                 QJsonArray{call(QStringLiteral("file_read"),
                                 {{QStringLiteral("path"), QStringLiteral("notes.txt")}})}}},
            // The model asks for an escape: the tool refuses, the run goes on.
            QJsonObject{
                {QStringLiteral("tool_calls"),
                 QJsonArray{call(QStringLiteral("file_read"),
                                 {{QStringLiteral("path"),
                                   QString(QStringLiteral("../../../../../../..") + secret)}})}}},
            QJsonObject{{QStringLiteral("text"), QStringLiteral("All done.")}}});
        const Sandboxed r = command({QStringLiteral("run"), agent, QStringLiteral("--follow"),
                                     QStringLiteral("--data-dir"), data()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains(QByteArray("sandbox " + tier.toUtf8())), r.out.constData());
        QVERIFY(!r.out.contains("UNSANDBOXED"));
        QVERIFY(r.out.contains("All done."));
        const QJsonObject run = lastRunOf(agent);
        const QString runId = run[QStringLiteral("id")].toString();
        QCOMPARE(eventOf(run, QStringLiteral("run.started"))[QStringLiteral("tier")].toString(),
                 tier);
        // The file tool wrote into the real workspace, through the sandbox's path for it.
        QFile note(data() + QStringLiteral("/runs/") + runId +
                   QStringLiteral("/workspace/notes.txt"));
        QVERIFY(note.open(QIODevice::ReadOnly));
        QCOMPARE(note.readAll(), QByteArray("hello"));
        // What the model got back for the escape attempt: an error, not the key.
        const auto requests = server.requests();
        QVERIFY(requests.size() >= 4);
        for (const auto& request : requests)
            QVERIFY(!request.body.contains(SshCanary));
        // The audit row names the tier.
        const Sandboxed audit =
            command({QStringLiteral("audit"), QStringLiteral("--run"), runId,
                     QStringLiteral("--json"), QStringLiteral("--data-dir"), data()});
        QVERIFY2(audit.out.contains(QByteArray("\"tier\": \"" + tier.toUtf8() + "\"")),
                 audit.out.constData());
    }

    void wallClockKillLeavesNothingOfARun()
    {
        FakeModelServer server;
        QVERIFY(server.start());
        addBoxedAgent(server, QStringLiteral("sleepy"), QStringLiteral("bwrap"), 3);
        if (QTest::currentTestFailed())
            return;
        server.setScript(QJsonArray{QJsonObject{{QStringLiteral("hang"), true}}});
        QProcess engine;
        engine.start(bin(QStringLiteral("vivarium")),
                     {QStringLiteral("run"), QStringLiteral("sleepy"), QStringLiteral("--data-dir"),
                      data()});
        QVERIFY(engine.waitForStarted());
        // While it hangs on the model: the runner's host pid (bwrap's guard) and the pid
        // namespace the run lives in.
        qint64 runnerPid = 0;
        QVERIFY(waitFor(
            [&]() {
                const QJsonObject run = lastRunOf(QStringLiteral("sleepy"));
                runnerPid =
                    qint64(eventOf(run, QStringLiteral("run.started"))[QStringLiteral("runner_pid")]
                               .toDouble());
                return runnerPid > 0 && server.requestCount() > 0;
            },
            20000));
        // Down the tree (vivarium-sandbox-init --guard, bwrap, bwrap's child) to the first
        // process in a pid namespace of its own: the sandbox's pid 1.
        const QByteArray hostNs = pidNamespaceOf(QStringLiteral("self"));
        QByteArray ns;
        qint64 pid = runnerPid;
        for (int depth = 0; depth < 4 && ns.isEmpty(); ++depth) {
            QFile children(QStringLiteral("/proc/%1/task/%1/children").arg(pid));
            QVERIFY(children.open(QIODevice::ReadOnly));
            pid = children.readAll().trimmed().split(' ').value(0).toLongLong();
            QVERIFY(pid > 0);
            const QByteArray its = pidNamespaceOf(QString::number(pid));
            if (its != hostNs)
                ns = its;
        }
        QVERIFY2(ns.startsWith("pid:["), ns.constData());
        auto inNamespace = [&ns]() {
            int n = 0;
            for (const QString& e : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
                if (e.toInt() > 0 && pidNamespaceOf(e) == ns)
                    ++n;
            }
            return n;
        };
        QVERIFY2(inNamespace() >= 2, "expected bwrap's init and the runner"); // init + runner
        QVERIFY(engine.waitForFinished(30000));
        QCOMPARE(engine.exitCode(), 3); // timed out
        QVERIFY2(waitFor([&]() { return inNamespace() == 0; }, 5000),
                 "a process of the run survived the wall clock");
        QVERIFY(::kill(pid_t(runnerPid), 0) != 0);
    }
};

QTEST_GUILESS_MAIN(TestSandboxAttacks)
#include "tst_SandboxAttacks.moc"
