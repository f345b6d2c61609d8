// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunnerProcess.h"

#include "SupervisorLogging.h"

#include "vivarium/protocol/BrokerProtocol.h"

#include <QProcessEnvironment>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vivarium {

namespace {

// Runs in the forked child before exec: async-signal-safe calls only.
void prepareChild(pid_t engine)
{
    // A group of its own: the runner and everything it starts are killed together, and a
    // Ctrl-C on the engine's terminal does not reach them.
    ::setpgid(0, 0);
    // Die with the engine even if it is SIGKILLed; if it already died, do not linger.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != engine)
        ::_exit(127);
    // Nothing the engine has open (database, lock, other runs' sockets) may leak into a run.
    // CLOEXEC rather than close: QProcess's own exec-status pipe must survive until exec.
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        struct rlimit lim
        {
        };
        rlim_t top = 4096;
        if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < top)
            top = lim.rlim_cur;
        for (int fd = 3; fd < int(top); ++fd)
            ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
}

} // namespace

RunnerProcess::RunnerProcess(QObject* parent)
    : QObject(parent)
{
    m_process.setStandardInputFile(QProcess::nullDevice());
    // The runner speaks on the socket; stdout is noise nobody reads, so it never fills a pipe.
    m_process.setStandardOutputFile(QProcess::nullDevice());
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    connect(&m_process, &QProcess::readyReadStandardError, this, &RunnerProcess::readStderr);
    connect(&m_process, &QProcess::finished, this,
            [this](int exitCode, QProcess::ExitStatus status) {
                readStderr();
                // Strays of the group (a tool's background child) go with the runner.
                killGroup();
                emit exited(status == QProcess::CrashExit, exitCode);
            });
}

RunnerProcess::~RunnerProcess()
{
    if (isRunning()) {
        killGroup();
        m_process.waitForFinished(5000);
    }
}

bool RunnerProcess::start(const QString& program, const QString& workspace,
                          const QString& socketPath)
{
    QProcessEnvironment env; // empty: nothing of the engine's environment reaches the run
    env.insert(QStringLiteral("PATH"), QStringLiteral("/usr/bin:/bin"));
    env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
    env.insert(QStringLiteral("HOME"), workspace);
    env.insert(QStringLiteral("TMPDIR"), workspace);
    env.insert(QString::fromLatin1(protocol::SocketEnv), socketPath);
    m_process.setProcessEnvironment(env);
    m_process.setWorkingDirectory(workspace);
    m_process.setProgram(program);
    m_process.setArguments({});
    const pid_t engine = ::getpid();
    m_process.setChildProcessModifier([engine]() { prepareChild(engine); });
    m_process.start();
    if (!m_process.waitForStarted(30000)) {
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
    if (::kill(-m_pid, sig) != 0 && errno != ESRCH)
        qCWarning(lcSupervisor) << "kill(-" << m_pid << "," << sig << ") failed:" << errno;
    if (isRunning())
        ::kill(m_pid, sig);
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
