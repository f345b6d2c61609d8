// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/sandbox/SandboxTier.h"

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QString>

#include <memory>
#include <sys/types.h>

namespace vivarium {

class SandboxLaunch;

/**
 * One vivarium-runner process, started through a sandbox tier (SandboxLaunch: bwrap, Landlock,
 * or `none`): a cleared environment, a process group (or session) of its own that dies with
 * the engine, killed as a group (tools may start children; none may outlive the run; under
 * bwrap the pid namespace dies with bwrap). Keeps the tail of stderr for the failure reason;
 * stdout is discarded.
 */
class RunnerProcess : public QObject
{
    Q_OBJECT
public:
    /** Most stderr kept (the tail: the last lines explain a failure). */
    static constexpr qsizetype StderrCapBytes = 64 * 1024;

    explicit RunnerProcess(QObject* parent = nullptr);
    ~RunnerProcess() override; ///< kills the group and reaps it

    /**
     * Start `program` through `tier` with the workspace (and memory directory, if any) as its
     * only writable places and only PATH, LANG, HOME, TMPDIR and the broker socket in its
     * environment. False with errorString() if it could not be started.
     */
    bool start(SandboxTier tier, const QString& program, const QString& workspace,
               const QString& memoryDir, const QString& socketPath);
    QString errorString() const;

    SandboxTier tier() const { return m_tier; }
    /** Where the runner sees its workspace, memory and socket (the sandbox's paths). */
    QString innerWorkspace() const { return m_innerWorkspace; }
    QString innerMemoryDir() const { return m_innerMemoryDir; }
    QString innerSocket() const { return m_innerSocket; }

    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    pid_t pid() const { return m_pid; }

    /** SIGTERM to the whole group. */
    void terminateGroup();
    /** SIGKILL to the whole group; harmless once it is gone. */
    void killGroup();
    /** Block up to `ms` for the runner to be reaped (finished() is emitted from here). */
    bool waitForExit(int ms);

    /** The last non-empty stderr line, trimmed and capped for a reason string. */
    QString lastStderrLine() const;

signals:
    /** The runner was reaped. `crashed`: killed by signal `code`; else exited with `code`. */
    void exited(bool crashed, int code);

private:
    void signalGroup(int sig);
    /** After the leader was reaped: wait (briefly, bounded) until no member of its group is left.
     */
    void awaitEmptyGroup();
    void readStderr();

    QProcess m_process;
    std::unique_ptr<SandboxLaunch> m_launch;
    SandboxTier m_tier = SandboxTier::None;
    QString m_launchError;
    QString m_innerWorkspace;
    QString m_innerMemoryDir;
    QString m_innerSocket;
    pid_t m_pid = 0;
    QByteArray m_stderr;
};

} // namespace vivarium
