// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/HostProbe.h"

#include "vivarium/sandbox/SandboxLauncher.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <cerrno>
#include <cstring>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vivarium {

namespace {

QString readTrimmed(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll()).trimmed();
}

struct Ran
{
    bool started = false;
    int exitCode = -1;
    QString out;
    QString err;
};

Ran runQuick(const QString& program, const QStringList& args, int timeoutMs = 5000)
{
    QProcess p;
    p.start(program, args);
    Ran r;
    if (!p.waitForStarted(timeoutMs))
        return r;
    r.started = true;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(1000);
        r.err = QStringLiteral("timed out after %1 ms").arg(timeoutMs);
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
    return r;
}

/** Start /usr/bin/true through `tier`; empty on success, else the reason it failed. */
QString tryTier(SandboxTier tier, QString* stderrText)
{
    QTemporaryDir workspace;
    if (!workspace.isValid())
        return QStringLiteral("no temporary directory for the probe: %1")
            .arg(workspace.errorString());
    SandboxRequest request;
    request.tier = tier;
    request.program = QStringLiteral("/usr/bin/true");
    request.workspace = workspace.path();
    auto launch = SandboxLaunch::prepare(request);
    if (!launch)
        return launch.error().message;
    QProcess p;
    p.setStandardInputFile(QProcess::nullDevice());
    (*launch)->configure(p);
    p.start();
    const bool started = p.waitForStarted(5000);
    (*launch)->closeInheritedFds();
    if (!started)
        return QStringLiteral("%1 could not be started: %2").arg(p.program(), p.errorString());
    if (!p.waitForFinished(5000)) {
        p.kill();
        p.waitForFinished(1000);
        return QStringLiteral("timed out after 5 s");
    }
    *stderrText = QString::fromUtf8(p.readAllStandardError()).trimmed();
    if (p.exitStatus() != QProcess::NormalExit)
        return QStringLiteral("killed by signal %1%2")
            .arg(p.exitCode())
            .arg(stderrText->isEmpty() ? QString() : QStringLiteral(": ") + *stderrText);
    if (p.exitCode() != 0)
        return stderrText->isEmpty()
                   ? QStringLiteral("exited with status %1 without a message").arg(p.exitCode())
                   : *stderrText;
    return {};
}

QString asUid()
{
    return ::geteuid() == 0 ? QStringLiteral(", as uid %1").arg(SandboxLaunch::credentials().uid)
                            : QString();
}

} // namespace

QList<TierSupport> HostProbe::probeTiers()
{
    QList<TierSupport> out;
    out.append({SandboxTier::None, true,
                QStringLiteral("plain subprocess, UNSANDBOXED (development only)")});

    TierSupport landlock{SandboxTier::Landlock, false, {}};
    const HostFeature ll = probeLandlock();
    if (!ll.available) {
        landlock.detail = ll.detail;
    } else {
        QString err;
        const QString why = tryTier(SandboxTier::Landlock, &err);
        landlock.available = why.isEmpty();
        landlock.detail =
            why.isEmpty()
                ? QStringLiteral("%1, seccomp, rlimits; no namespaces%2").arg(ll.detail, asUid())
                : QStringLiteral("%1 present, but a sandboxed start failed: %2")
                      .arg(ll.detail, why);
    }
    out.append(landlock);

    TierSupport bwrap{SandboxTier::Bwrap, false, {}};
    const QString exe = SandboxLaunch::bwrapPath();
    if (exe.isEmpty()) {
        bwrap.detail = QStringLiteral("bwrap not found in PATH (install the bubblewrap package)");
    } else {
        const Ran version = runQuick(exe, {QStringLiteral("--version")});
        QString err;
        const QString why = tryTier(SandboxTier::Bwrap, &err);
        bwrap.available = why.isEmpty();
        bwrap.detail =
            why.isEmpty()
                ? QStringLiteral("%1 (%2): all namespaces, empty network, --disable-userns, "
                                 "seccomp, rlimits%3")
                      .arg(version.out.isEmpty() ? QStringLiteral("bubblewrap") : version.out, exe,
                           asUid())
                : (err.isEmpty() ? why : explainBwrapFailure(err));
    }
    out.append(bwrap);

    // Only the clients are looked for: asking an engine (`podman info`) can take seconds, and
    // the tier is refused either way until it is implemented.
    QStringList clients;
    for (const QString& name : {QStringLiteral("podman"), QStringLiteral("docker")}) {
        if (!QStandardPaths::findExecutable(name).isEmpty())
            clients << name;
    }
    out.append({SandboxTier::Container, false,
                QStringLiteral("not implemented in this build (%1)")
                    .arg(clients.isEmpty()
                             ? QStringLiteral("neither podman nor docker is installed")
                             : clients.join(QStringLiteral(", ")) + QStringLiteral(" found"))});
    return out;
}

QList<HostFeature> HostProbe::probe()
{
    return {probeBwrap(), probeUserNamespaces(), probeLandlock(), probeSeccomp(), probeContainer()};
}

QString HostProbe::explainBwrapFailure(const QString& err)
{
    if (err.contains(QLatin1String("No permissions to create new namespace")) ||
        err.contains(QLatin1String("Creating new namespace failed")))
        return QStringLiteral("the kernel refuses new user namespaces "
                              "(check user.max_user_namespaces, "
                              "kernel.apparmor_restrict_unprivileged_userns): ") +
               err;
    if (err.contains(QLatin1String("setting up uid map")))
        return QStringLiteral("user namespace uid mapping denied: ") + err;
    if (err.contains(QLatin1String("Operation not permitted")))
        return QStringLiteral("not permitted (seccomp or a container without CAP_SYS_ADMIN?): ") +
               err;
    return err.isEmpty() ? QStringLiteral("bwrap failed without a message") : err;
}

HostFeature HostProbe::probeBwrap()
{
    HostFeature f{QStringLiteral("bwrap"), false, {}};
    const QString exe = QStandardPaths::findExecutable(QStringLiteral("bwrap"));
    if (exe.isEmpty()) {
        f.detail = QStringLiteral("bwrap not found in PATH (install the bubblewrap package)");
        return f;
    }
    const Ran version = runQuick(exe, {QStringLiteral("--version")});
    // The real test: the namespaces a run needs, an empty network, a read-only root.
    const Ran r = runQuick(
        exe, {QStringLiteral("--unshare-all"), QStringLiteral("--die-with-parent"),
              QStringLiteral("--ro-bind"), QStringLiteral("/usr"), QStringLiteral("/usr"),
              QStringLiteral("--symlink"), QStringLiteral("usr/bin"), QStringLiteral("/bin"),
              QStringLiteral("--symlink"), QStringLiteral("usr/lib"), QStringLiteral("/lib"),
              QStringLiteral("--symlink"), QStringLiteral("usr/lib64"), QStringLiteral("/lib64"),
              QStringLiteral("--proc"), QStringLiteral("/proc"), QStringLiteral("--dev"),
              QStringLiteral("/dev"), QStringLiteral("/usr/bin/true")});
    if (!r.started) {
        f.detail = QStringLiteral("%1 could not be started").arg(exe);
    } else if (r.exitCode != 0) {
        f.detail = explainBwrapFailure(r.err);
    } else {
        f.available = true;
        f.detail =
            QStringLiteral("%1 (%2): namespaces, empty network and read-only /usr work")
                .arg(version.out.isEmpty() ? QStringLiteral("bubblewrap") : version.out, exe);
    }
    return f;
}

HostFeature HostProbe::probeUserNamespaces()
{
    HostFeature f{QStringLiteral("user namespaces"), false, {}};
    const QString debianKnob =
        readTrimmed(QStringLiteral("/proc/sys/kernel/unprivileged_userns_clone"));
    const QString maxNs = readTrimmed(QStringLiteral("/proc/sys/user/max_user_namespaces"));
    if (debianKnob == QLatin1String("0")) {
        f.detail = QStringLiteral("disabled by kernel.unprivileged_userns_clone=0");
    } else if (maxNs == QLatin1String("0")) {
        f.detail = QStringLiteral("disabled by user.max_user_namespaces=0");
    } else {
        f.available = true;
        f.detail = maxNs.isEmpty() ? QStringLiteral("no limit knob found")
                                   : QStringLiteral("user.max_user_namespaces=%1").arg(maxNs);
    }
    return f;
}

HostFeature HostProbe::probeLandlock()
{
    HostFeature f{QStringLiteral("landlock"), false, {}};
    // Asking for the ABI version is the documented, side-effect-free probe.
    const long abi =
        ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi >= 1) {
        f.available = true;
        f.detail = QStringLiteral("Landlock ABI %1").arg(abi);
    } else if (errno == EOPNOTSUPP) {
        f.detail = QStringLiteral("built into the kernel but disabled at boot (lsm= list)");
    } else if (errno == ENOSYS) {
        f.detail = QStringLiteral("the kernel has no Landlock support");
    } else {
        f.detail = QStringLiteral("landlock_create_ruleset failed: %1")
                       .arg(QString::fromLocal8Bit(strerror(errno)));
    }
    return f;
}

HostFeature HostProbe::probeSeccomp()
{
    HostFeature f{QStringLiteral("seccomp"), false, {}};
    const int mode = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode < 0) {
        f.detail = QStringLiteral("prctl(PR_GET_SECCOMP) failed: %1")
                       .arg(QString::fromLocal8Bit(strerror(errno)));
    } else {
        f.available = true;
        f.detail = mode == 0 ? QStringLiteral("filters can be installed")
                             : QStringLiteral("this process is already filtered (mode %1); "
                                              "stacked filters still apply")
                                   .arg(mode);
    }
    return f;
}

HostFeature HostProbe::probeContainer()
{
    HostFeature f{QStringLiteral("container"), false, {}};
    for (const QString& name : {QStringLiteral("podman"), QStringLiteral("docker")}) {
        const QString exe = QStandardPaths::findExecutable(name);
        if (exe.isEmpty())
            continue;
        const Ran r = runQuick(exe,
                               {QStringLiteral("info"), QStringLiteral("--format"),
                                QStringLiteral("{{.ServerVersion}}")},
                               4000);
        if (r.started && r.exitCode == 0) {
            f.available = true;
            f.detail = QStringLiteral("%1 engine %2 answers (the container tier arrives later)")
                           .arg(name, r.out);
            return f;
        }
        f.detail = QStringLiteral("%1 client found but no engine answers").arg(name);
    }
    if (f.detail.isEmpty())
        f.detail = QStringLiteral("neither podman nor docker is installed");
    return f;
}

} // namespace vivarium
