// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunnerProcess.h"

#include "SupervisorLogging.h"

#include "vivarium/sandbox/SandboxLauncher.h"

#include <QElapsedTimer>

#include <cerrno>
#include <csignal>
#include <unistd.h>

namespace vivarium {

RunnerProcess::RunnerProcess(QObject* parent)
    : QObject(parent)
{
    m_process.setStandardInputFile(QProcess::nullDevice());
    // The runner speaks on the socket; stdout is noise nobody reads, so it never fills a pipe.
    m_process.setStandardOutputFile(QProcess::nullDevice());
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    connect(&m_process, &QProcess::readyReadStandardError, this, &RunnerProcess::readStderr);
    connect(
        &m_process, &QProcess::finished, this, [this](int exitCode, QProcess::ExitStatus status) {
            readStderr();
            // Strays of the group (a tool's background child) go with the runner.
            killGroup();
            awaitEmptyGroup();
            bool crashed = status == QProcess::CrashExit;
            // bwrap reports a command killed by signal N as exit status 128 + N.
            if (!crashed && m_tier == SandboxTier::Bwrap && exitCode > 128 && exitCode < 128 + 65) {
                crashed = true;
                exitCode -= 128;
            }
            emit exited(crashed, exitCode);
        });
}

RunnerProcess::~RunnerProcess()
{
    if (isRunning()) {
        killGroup();
        m_process.waitForFinished(5000);
    }
}

bool RunnerProcess::start(SandboxTier tier, const QString& program, const QString& workspace,
                          const QString& memoryDir, const QString& socketPath)
{
    m_tier = tier;
    SandboxRequest request;
    request.tier = tier;
    request.program = program;
    request.workspace = workspace;
    request.memoryDir = memoryDir;
    request.brokerSocket = socketPath;
    auto launch = SandboxLaunch::prepare(request);
    if (!launch) {
        m_launchError = launch.error().message;
        return false;
    }
    m_launch = std::move(*launch);
    m_innerWorkspace = m_launch->innerWorkspace();
    m_innerMemoryDir = m_launch->innerMemoryDir();
    m_innerSocket = m_launch->innerSocket();
    // Program, arguments, the run's environment (nothing of the engine's), and the child's
    // steps before exec: its own group or session, close-on-exec for everything the engine has
    // open, rlimits, the uid drop when root, PR_SET_PDEATHSIG.
    m_launch->configure(m_process);
    m_process.start();
    const bool started = m_process.waitForStarted(30000);
    m_launch->closeInheritedFds();
    if (!started) {
        m_process.kill();
        m_process.waitForFinished(5000);
        return false;
    }
    m_pid = pid_t(m_process.processId());
    // Also from this side, so a kill sent before the child got to run setpgid still finds
    // the group (fails harmlessly with EACCES once the child has exec'd).
    ::setpgid(m_pid, m_pid);
    return true;
}

QString RunnerProcess::errorString() const
{
    return m_launchError.isEmpty() ? m_process.errorString() : m_launchError;
}

void RunnerProcess::terminateGroup()
{
    signalGroup(SIGTERM);
}

void RunnerProcess::killGroup()
{
    signalGroup(SIGKILL);
}

void RunnerProcess::signalGroup(int sig)
{
    if (m_pid <= 0)
        return;
    // The group outlives its leader while members remain, and its id cannot be reused by
    // anyone else until the last member is gone.
    if (::kill(-m_pid, sig) == 0)
        return;
    if (errno != ESRCH)
        qCWarning(lcSupervisor) << "kill(-" << m_pid << "," << sig << ") failed:" << errno;
    // No such group (yet: the child may not have run setpgid; or any more: bwrap's guard, which
    // leaves the group it made, is finishing): the process itself. Not while the group lives:
    // bwrap's guard must survive a kill of its group to reap bwrap.
    if (isRunning())
        ::kill(m_pid, sig);
}

void RunnerProcess::awaitEmptyGroup()
{
    if (m_pid <= 0)
        return;
    // Killed members that were not our children (bwrap under its guard, bwrap's first sandbox
    // process) are reaped by pid 1, usually within a millisecond; until then they still
    // count as the group. "Exited" means nothing of the run is left, so give them that moment.
    QElapsedTimer clock;
    clock.start();
    while (::kill(-m_pid, 0) == 0 && clock.elapsed() < 500)
        ::usleep(500);
}

bool RunnerProcess::waitForExit(int ms)
{
    if (!isRunning())
        return true;
    return m_process.waitForFinished(ms);
}

void RunnerProcess::readStderr()
{
    m_stderr.append(m_process.readAllStandardError());
    if (m_stderr.size() > StderrCapBytes)
        m_stderr.remove(0, m_stderr.size() - StderrCapBytes);
}

QString RunnerProcess::lastStderrLine() const
{
    const QList<QByteArray> lines = m_stderr.split('\n');
    for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
        const QByteArray line = it->trimmed();
        if (!line.isEmpty()) {
            QString text = QString::fromUtf8(line);
            if (text.size() > 500)
                text = text.left(500) + QStringLiteral("...");
            return text;
        }
    }
    return {};
}

} // namespace vivarium
