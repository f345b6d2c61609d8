// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QString>

#include <sys/types.h>

namespace vivarium {

/**
 * One vivarium-runner process: started with a cleared environment, in a process group of its
 * own that dies with the engine, and killed as a group (tools may start children; none may
 * outlive the run). Keeps the tail of stderr for the failure reason; stdout is discarded.
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
     * Start `program` in `workspace` with only PATH, LANG, HOME=TMPDIR=workspace and the
     * broker socket in its environment. False with errorString() if it could not be started.
     */
    bool start(const QString& program, const QString& workspace, const QString& socketPath);
    QString errorString() const { return m_process.errorString(); }

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
    void readStderr();

    QProcess m_process;
    pid_t m_pid = 0;
    QByteArray m_stderr;
};

} // namespace vivarium
