// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/sandbox/Rlimits.h"
#include "vivarium/sandbox/SandboxTier.h"

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <memory>
#include <sys/types.h>

class QProcess;

namespace vivarium {

/** What to run, and the run's places on the host. */
struct SandboxRequest
{
    SandboxTier tier = SandboxTier::Bwrap;
    /**
     * Absolute host path of the executable (bound read-only into the sandbox when it lives
     * outside /usr), or a bare name looked up in the sandbox's PATH (/usr/bin:/bin).
     */
    QString program;
    QStringList arguments;
    QString workspace;    ///< host directory; must exist
    QString memoryDir;    ///< host directory, or empty for none
    QString brokerSocket; ///< host path of the broker's listening socket, or empty
    SandboxLimits limits = SandboxLimits::defaults();
    /** vivarium-sandbox-init; empty: beside the program, this executable, or in libexec. */
    QString initPath;
    /**
     * `none` tier only: put the process in a process group of its own (so the group can be
     * killed). The other tiers always get a session of their own.
     */
    bool newProcessGroup = true;
};

/** The host credentials a sandboxed process gets when the engine runs as root. */
struct SandboxCredentials
{
    uid_t uid = 65534; ///< nobody; $VIVARIUM_SANDBOX_UID overrides
    gid_t gid = 65534; ///< nogroup; $VIVARIUM_SANDBOX_GID overrides
};

/**
 * A prepared start of one sandboxed process (DESIGN section 5). prepare() does the host-side
 * work (seccomp program and generated /etc files in memfds, ownership of the workspace and
 * memory for the sandbox uid when the engine is root); configure() hands a QProcess the program,
 * arguments, environment and the child-side steps that run between fork and exec:
 *
 *  - its own session or process group; every inherited descriptor close-on-exec except the ones
 *    bwrap reads;
 *  - as root: a private mount namespace in which the workspace, memory, socket and binaries are
 *    bind-mounted onto a small tmpfs at /run/vivarium, so the unprivileged sandbox uid can reach
 *    them without opening up the data directory's permissions;
 *  - rlimits; as root, the drop to the sandbox uid (setgroups, setresgid, setresuid);
 *  - `landlock` tier: no_new_privs, the Landlock ruleset, the seccomp filter;
 *  - PR_SET_PDEATHSIG (after the uid change, which clears it); bwrap tier: a lifeline pipe
 *    instead, whose only writer is this object: vivarium-sandbox-init --guard (bwrap's parent,
 *    group leader) and vivarium-sandbox-init inside the sandbox kill everything when it hangs
 *    up, which closes the windows in which bwrap's own --die-with-parent is not armed yet.
 *
 * The object must outlive QProcess::start(); closeInheritedFds() afterwards.
 */
class SandboxLaunch
{
public:
    static Result<std::unique_ptr<SandboxLaunch>> prepare(const SandboxRequest& request);
    ~SandboxLaunch();
    SandboxLaunch(const SandboxLaunch&) = delete;
    SandboxLaunch& operator=(const SandboxLaunch&) = delete;

    SandboxTier tier() const;
    /** What QProcess starts: vivarium-sandbox-init --guard ... bwrap, or the program itself. */
    QString program() const;
    QStringList arguments() const;
    QProcessEnvironment environment() const;
    QString workingDirectory() const;

    /** The places as the sandboxed process sees them (what the runner must be told). */
    QString innerWorkspace() const;
    QString innerMemoryDir() const;
    QString innerSocket() const;
    /** The host uid the sandboxed process runs as. */
    uid_t hostUid() const;

    /**
     * Set program, arguments, environment, working directory and the child modifier. The
     * modifier calls applyInChild(getpid() of this process).
     */
    void configure(QProcess& process) const;
    /** The child-side steps (see the class comment). Async-signal-safe; _exit(126) on failure. */
    void applyInChild(pid_t parent) const noexcept;
    /** The memfds bwrap inherits are not needed here once the child has started. */
    void closeInheritedFds();
    /**
     * After the process ended: did the command itself start? False for bwrap when the sandbox
     * could not be set up (its own message is on stderr); true for the other tiers, whose
     * setup failures end in the child before exec.
     */
    bool commandStarted() const;

    /** bwrap's path (found once in PATH), empty when it is not installed. */
    static QString bwrapPath();
    /** The credentials used when the engine runs as root. */
    static SandboxCredentials credentials();
    /**
     * Where a Vivarium helper program (`vivarium-runner`, `vivarium-sandbox-init`) is: beside
     * `nextTo` (a program path, may be empty), beside this executable (the build tree), in
     * `<this executable>/../libexec/vivarium/` (an installed or extracted package under any
     * prefix), then in the configured libexec directory. The first executable file wins
     * (canonical path); empty when none is.
     */
    static QString findHelper(const QString& name, const QString& nextTo = {});

private:
    SandboxLaunch();
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
