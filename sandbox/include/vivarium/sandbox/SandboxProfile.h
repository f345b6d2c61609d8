// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/sandbox/Rlimits.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace vivarium {

/** Where things are inside the bwrap sandbox: fixed, so nothing of the host's layout shows. */
namespace SandboxPaths {
inline constexpr char Workspace[] = "/workspace";
inline constexpr char Memory[] = "/memory";
inline constexpr char Socket[] = "/run/vivarium/broker.sock";
/** The runner (or a command from outside /usr) and vivarium-sandbox-init, read-only. */
inline constexpr char BinDir[] = "/opt/vivarium/bin";
inline constexpr char InitName[] = "vivarium-sandbox-init";
} // namespace SandboxPaths

/** The uid/gid a run has inside the bwrap sandbox, whatever host uid it maps to. */
inline constexpr int SandboxInnerUid = 1000;
inline constexpr int SandboxInnerGid = 1000;

/**
 * One file of the sandbox's /etc: copied from `fd` into the sandbox's root (bwrap --file: no
 * mount, read-only once the root is remounted), or a symlink.
 */
struct EtcEntry
{
    QString path;          ///< "/etc/passwd"
    int fd = -1;           ///< the content, read once by bwrap
    QString symlinkTarget; ///< instead of a file
};

/** One top-level entry of the host's root that the sandbox mirrors (/bin, /lib64, ...). */
struct RootEntry
{
    QString name;           ///< "lib64"
    QString symlinkTarget;  ///< "usr/lib64" when the host has a symlink there
    bool directory = false; ///< a real directory (a system without merged /usr): bound read-only
};

/**
 * Everything the bwrap argument list is made of. Sources are host paths bwrap can reach as the
 * user it runs as; fds are inherited by bwrap and read by it once.
 */
struct BwrapLayout
{
    QString workspace; ///< bound read-write at /workspace
    QString memoryDir; ///< bound read-write at /memory; empty: none
    QString socket;    ///< the broker socket, bound at /run/vivarium/broker.sock; empty: none
    QString init;      ///< vivarium-sandbox-init, bound read-only into /opt/vivarium/bin
    /** The program's file when it lives outside /usr (bound read-only as BinDir/programName). */
    QString programSource;
    QString programName;
    /** What vivarium-sandbox-init executes (a path inside the sandbox, or a name to look up). */
    QString command;
    QStringList arguments;
    int seccompFd = -1;
    /** The curated /etc: generated and copied files, symlinks. */
    QList<EtcEntry> etc;
    /** vivarium-sandbox-init writes a byte here right before it executes the command. */
    int readyFd = -1;
    /** Read end of the engine's lifeline: the sandbox is killed when it hangs up. */
    int lifelineFd = -1;
    SandboxLimits limits;
    QList<RootEntry> rootEntries;
};

/** The environment a sandboxed process gets (and nothing else). */
QList<QPair<QString, QString>> sandboxEnvironment(const QString& home, const QString& tmpDir,
                                                  const QString& socket);

/**
 * Host /etc files whose content the sandbox gets a copy of, when they exist: what the dynamic
 * loader and libc's name service read. Never resolv.conf (there is no network), never the
 * host's users (passwd and group are generated).
 */
QStringList sandboxEtcCopies();
/** /etc directories bound read-only (one mount each): /etc/alternatives. */
QStringList sandboxEtcDirs();
/** Every host /etc path a sandbox may see (copies, directories, /etc/localtime). */
QStringList sandboxEtcFiles();

/** /bin, /sbin, /lib, /lib32, /lib64, /libx32 as this host has them. */
QList<RootEntry> hostRootEntries();

/** Generated /etc/passwd, /etc/group, /etc/hosts and /etc/nsswitch.conf. */
QByteArray sandboxPasswd();
QByteArray sandboxGroup();
QByteArray sandboxHosts();
QByteArray sandboxNsswitch();

/**
 * bwrap's arguments (without the bwrap path): every namespace unshared and no nested user
 * namespaces, a fresh session, dies with its parent, cleared environment, /usr read-only and a
 * curated /etc (copies, no mounts but /etc/alternatives), fresh /proc and /dev, a size-limited
 * /tmp, the workspace and memory as the only writable binds, the root remounted read-only, the
 * seccomp filter, and the command run through vivarium-sandbox-init (which sets RLIMIT_NPROC inside
 * the sandbox's user namespace).
 */
QStringList bwrapArguments(const BwrapLayout& layout);

} // namespace vivarium
