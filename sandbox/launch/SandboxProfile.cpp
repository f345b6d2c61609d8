// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/SandboxProfile.h"

#include <QFile>
#include <QFileInfo>

namespace vivarium {

QList<QPair<QString, QString>> sandboxEnvironment(const QString& home, const QString& tmpDir,
                                                  const QString& socket)
{
    QList<QPair<QString, QString>> env{
        {QStringLiteral("PATH"), QStringLiteral("/usr/bin:/bin")},
        {QStringLiteral("LANG"), QStringLiteral("C.UTF-8")},
        {QStringLiteral("HOME"), home},
        {QStringLiteral("TMPDIR"), tmpDir},
    };
    if (!socket.isEmpty())
        env.append({QStringLiteral("VIVARIUM_BROKER_SOCKET"), socket});
    return env;
}

QStringList sandboxEtcCopies()
{
    return {QStringLiteral("/etc/ld.so.cache"), QStringLiteral("/etc/timezone"),
            QStringLiteral("/etc/protocols"), QStringLiteral("/etc/services")};
}

QStringList sandboxEtcDirs()
{
    // Debian's /usr/bin/awk, which, editor... are links through here.
    return {QStringLiteral("/etc/alternatives")};
}

QStringList sandboxEtcFiles()
{
    return sandboxEtcCopies() + sandboxEtcDirs() + QStringList{QStringLiteral("/etc/localtime")};
}

QList<RootEntry> hostRootEntries()
{
    QList<RootEntry> out;
    for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
        const QString path = QLatin1Char('/') + QLatin1String(name);
        const QFileInfo info(path);
        if (info.isSymLink()) {
            // Mirror the link as written (usually relative, "usr/lib64"), so it resolves
            // inside the sandbox's own /usr.
            const QString target = QFile::symLinkTarget(path);
            QString raw = target;
            if (raw.startsWith(QLatin1Char('/')))
                raw = raw.mid(1);
            if (raw.startsWith(QLatin1String("usr/")))
                out.append({QLatin1String(name), raw, false});
        } else if (info.isDir()) {
            out.append({QLatin1String(name), {}, true});
        }
    }
    return out;
}

QByteArray sandboxPasswd()
{
    return QByteArrayLiteral("agent:x:1000:1000:Vivarium run:/workspace:/usr/sbin/nologin\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
}

QByteArray sandboxGroup()
{
    return QByteArrayLiteral("agent:x:1000:\nnogroup:x:65534:\n");
}

QByteArray sandboxHosts()
{
    return QByteArrayLiteral("127.0.0.1\tlocalhost\n127.0.1.1\tvivarium\n"
                             "::1\tlocalhost ip6-localhost ip6-loopback\n");
}

QByteArray sandboxNsswitch()
{
    // Files only: no systemd, sss or DNS modules reaching out of the sandbox.
    return QByteArrayLiteral("passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
                             "networks: files\nprotocols: files\nservices: files\n");
}

QStringList bwrapArguments(const BwrapLayout& l)
{
    const QString bin = QLatin1String(SandboxPaths::BinDir);
    const QString home = QLatin1String(SandboxPaths::Workspace);
    const QString socket = l.socket.isEmpty() ? QString() : QLatin1String(SandboxPaths::Socket);
    QStringList a;
    // Namespaces: user (explicit, as --disable-userns requires it), ipc, pid, net, uts, cgroup.
    a << QStringLiteral("--unshare-all") << QStringLiteral("--unshare-user")
      << QStringLiteral("--disable-userns");
    a << QStringLiteral("--uid") << QString::number(SandboxInnerUid) << QStringLiteral("--gid")
      << QString::number(SandboxInnerGid) << QStringLiteral("--hostname")
      << QStringLiteral("vivarium");
    // A session of its own (no TIOCSTI into the caller's terminal); gone when bwrap's parent
    // (the engine) or bwrap itself goes.
    a << QStringLiteral("--die-with-parent") << QStringLiteral("--new-session");
    a << QStringLiteral("--clearenv");
    for (const auto& [key, value] : sandboxEnvironment(home, QStringLiteral("/tmp"), socket))
        a << QStringLiteral("--setenv") << key << value;

    a << QStringLiteral("--ro-bind") << QStringLiteral("/usr") << QStringLiteral("/usr");
    for (const RootEntry& e : l.rootEntries) {
        const QString dest = QLatin1Char('/') + e.name;
        if (e.directory)
            a << QStringLiteral("--ro-bind") << dest << dest;
        else
            a << QStringLiteral("--symlink") << e.symlinkTarget << dest;
    }
    // /etc: copies and symlinks in the root tmpfs (no mount each, read-only with the root).
    a << QStringLiteral("--perms") << QStringLiteral("0755") << QStringLiteral("--dir")
      << QStringLiteral("/etc");
    for (const QString& dir : sandboxEtcDirs())
        a << QStringLiteral("--ro-bind-try") << dir << dir;
    for (const EtcEntry& e : l.etc) {
        if (!e.symlinkTarget.isEmpty())
            a << QStringLiteral("--symlink") << e.symlinkTarget << e.path;
        else if (e.fd >= 0)
            a << QStringLiteral("--perms") << QStringLiteral("0644") << QStringLiteral("--file")
              << QString::number(e.fd) << e.path;
    }

    a << QStringLiteral("--proc") << QStringLiteral("/proc") << QStringLiteral("--dev")
      << QStringLiteral("/dev");
    // Memory-backed: the size is what bounds a /tmp fill.
    a << QStringLiteral("--perms") << QStringLiteral("1777");
    if (l.limits.tmpBytes > 0)
        a << QStringLiteral("--size") << QString::number(l.limits.tmpBytes);
    a << QStringLiteral("--tmpfs") << QStringLiteral("/tmp");

    // The only writable places.
    a << QStringLiteral("--bind") << l.workspace << home;
    if (!l.memoryDir.isEmpty())
        a << QStringLiteral("--bind") << l.memoryDir << QLatin1String(SandboxPaths::Memory);
    if (!l.socket.isEmpty())
        a << QStringLiteral("--bind") << l.socket << socket;
    const QString init = bin + QLatin1Char('/') + QLatin1String(SandboxPaths::InitName);
    a << QStringLiteral("--ro-bind") << l.init << init;
    if (!l.programSource.isEmpty())
        a << QStringLiteral("--ro-bind") << l.programSource
          << bin + QLatin1Char('/') + l.programName;
    // bwrap's root is a tmpfs the run could otherwise write to.
    a << QStringLiteral("--remount-ro") << QStringLiteral("/");
    a << QStringLiteral("--chdir") << home;
    if (l.seccompFd >= 0)
        a << QStringLiteral("--seccomp") << QString::number(l.seccompFd);
    a << QStringLiteral("--") << init;
    if (l.limits.maxProcesses > 0)
        a << QStringLiteral("--nproc") << QString::number(l.limits.maxProcesses);
    if (l.readyFd >= 0)
        a << QStringLiteral("--ready-fd") << QString::number(l.readyFd);
    if (l.lifelineFd >= 0)
        a << QStringLiteral("--lifeline") << QString::number(l.lifelineFd);
    a << QStringLiteral("--") << l.command << l.arguments;
    return a;
}

} // namespace vivarium
