// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium sandbox run [--tier T] [--agent ID] -- CMD [ARGS]: an arbitrary command in exactly
// the sandbox a run of that agent gets (tier policy, workspace, memory, broker socket, seccomp,
// rlimits), so users and tests can see what a run can and cannot do.
#include "Cli.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/sandbox/SandboxLauncher.h"
#include "vivarium/sandbox/TierSelection.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTimer>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace vivarium::cli {

namespace {

/** Our own failures (bad tier, no bwrap...): like env(1) and timeout(1), not the command's. */
constexpr int ExitSandboxFailed = 125;
/** The wall clock killed the command (timeout(1)'s convention). */
constexpr int ExitTimedOut = 124;

int sandboxError(const QString& message)
{
    printErr(QStringLiteral("vivarium sandbox run: ") + message);
    return ExitSandboxFailed;
}

QString shellQuote(const QString& s)
{
    if (!s.isEmpty() && !s.contains(QRegularExpression(QStringLiteral("[^A-Za-z0-9_./=:,+-]"))))
        return s;
    QString q = s;
    q.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + q + QLatin1Char('\'');
}

/** A socket path that fits sun_path: in the sandbox dir if short enough, else under /tmp. */
QString socketPathFor(const QString& dir, const QString& id)
{
    const QString inDir = dir + QStringLiteral("/broker.sock");
    if (QFile::encodeName(inDir).size() < qsizetype(sizeof(sockaddr_un::sun_path)))
        return inDir;
    const QString tmp = QDir::tempPath() + QStringLiteral("/vivarium-%1").arg(::getuid());
    const QByteArray native = QFile::encodeName(tmp);
    if (::mkdir(native.constData(), 0700) != 0 && errno != EEXIST)
        return {};
    struct stat st
    {
    };
    if (::lstat(native.constData(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid())
        return {};
    return tmp + QLatin1Char('/') + id.right(16) + QStringLiteral(".sock");
}

} // namespace

int cmdSandboxRun(Invocation& inv)
{
    QCommandLineParser p;
    // Everything from the command on is the command's: `vivarium sandbox run ls -la` works,
    // and `--` makes it explicit.
    p.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
    const QCommandLineOption tierOpt(
        QStringLiteral("tier"),
        QStringLiteral("Use exactly this tier (none, landlock, bwrap, container); default: the "
                       "agent's tier with the run policy (docs/sandbox.md)."),
        QStringLiteral("T"));
    const QCommandLineOption agentOpt(
        QStringLiteral("agent"),
        QStringLiteral("The sandbox of this agent's runs (its tier, min_tier, memory); default: "
                       "an agent with no providers."),
        QStringLiteral("ID"));
    const QCommandLineOption timeoutOpt(
        QStringLiteral("timeout"),
        QStringLiteral("Wall clock in seconds, then the sandbox is killed (exit 124); default: "
                       "the agent's limits.timeout_s."),
        QStringLiteral("S"));
    const QCommandLineOption workspaceOpt(
        QStringLiteral("workspace"),
        QStringLiteral("Use this existing directory as the workspace (it becomes the sandbox "
                       "user's when running as root); default: a fresh one, removed afterwards."),
        QStringLiteral("DIR"));
    const QCommandLineOption keepOpt(QStringLiteral("keep"),
                                     QStringLiteral("Keep the fresh workspace and say where."));
    const QCommandLineOption dryRunOpt(
        QStringLiteral("dry-run"),
        QStringLiteral("Print the program and arguments that would be started, run nothing."));
    p.addOptions({tierOpt, agentOpt, timeoutOpt, workspaceOpt, keepOpt, dryRunOpt});
    p.addPositionalArgument(QStringLiteral("command"),
                            QStringLiteral("The command and its "
                                           "arguments, after --."),
                            QStringLiteral("-- CMD [ARGS...]"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Run a command in the sandbox a run of the agent "
                                             "would get. Exit code: the command's; 124 timed "
                                             "out; 125 the sandbox could not be set up."),
                              1, -1))
        return *stop;
    const QStringList command = p.positionalArguments();

    // The agent whose sandbox this is.
    AgentDefinition def;
    def.id = QStringLiteral("sandbox");
    const Paths paths = inv.paths();
    if (p.isSet(agentOpt)) {
        auto store = inv.openStore();
        if (!store)
            return reportError(store.error());
        auto agent = (*store)->agent(p.value(agentOpt));
        if (!agent)
            return reportError(agent.error(), QStringLiteral("sandbox run"));
        def = agent->definition;
    } else if (auto ok = Paths::ensurePrivateDir(paths.dataDir()); !ok) {
        return reportError(ok.error());
    }

    // The tier: exactly --tier (still never below the agent's min_tier), or the run policy.
    const auto agentTier = parseSandboxTier(def.sandbox.tier).value_or(SandboxTier::Bwrap);
    const auto agentMin = parseSandboxTier(def.sandbox.minTier).value_or(SandboxTier::Bwrap);
    TierDecision decision;
    if (p.isSet(tierOpt)) {
        const auto wanted = parseSandboxTier(p.value(tierOpt));
        if (!wanted)
            return usageError(inv.commandName(),
                              QStringLiteral("unknown tier \"%1\" (none, landlock, bwrap, "
                                             "container)")
                                  .arg(p.value(tierOpt)));
        if (p.isSet(agentOpt) && int(*wanted) < int(agentMin))
            return sandboxError(QStringLiteral("tier \"%1\" is below agent \"%2\"'s min_tier "
                                               "\"%3\"")
                                    .arg(p.value(tierOpt), def.id, def.sandbox.minTier));
        // Exactly this tier, without probing the others first: a tier that cannot start says
        // so itself (prepare() below, or bwrap's own message and exit 125).
        decision = TierDecision{true, *wanted, {}, {}};
    } else {
        decision = chooseSandboxTier(agentTier, agentMin, cachedTierSupport());
    }
    if (!decision.ok)
        return sandboxError(decision.error);
    if (!decision.notice.isEmpty())
        printErr(QStringLiteral("vivarium sandbox run: ") + decision.notice);
    if (decision.tier == SandboxTier::None)
        printErr(QStringLiteral("vivarium sandbox run: tier \"none\": UNSANDBOXED, the command "
                                "runs as a plain subprocess"));

    int timeoutS = def.limits.timeoutS;
    if (p.isSet(timeoutOpt)) {
        bool ok = false;
        timeoutS = p.value(timeoutOpt).toInt(&ok);
        if (!ok || timeoutS <= 0)
            return usageError(inv.commandName(),
                              QStringLiteral("--timeout wants a positive number of seconds"));
    }

    // The run's places: a fresh workspace (or the given one), the agent's memory, a socket.
    const QString id = QStringLiteral("sbx_") + newRunId().mid(4);
    const QString runDir = paths.dataDir() + QStringLiteral("/sandbox/") + id;
    for (const QString& dir : {QString(paths.dataDir() + QStringLiteral("/sandbox")), runDir}) {
        if (auto ok = Paths::ensurePrivateDir(dir); !ok)
            return reportError(ok.error());
    }
    auto cleanup = qScopeGuard([&]() {
        if (!p.isSet(keepOpt))
            QDir(runDir).removeRecursively();
    });
    QString workspace = runDir + QStringLiteral("/workspace");
    if (p.isSet(workspaceOpt)) {
        workspace = QFileInfo(p.value(workspaceOpt)).absoluteFilePath();
        if (!QFileInfo(workspace).isDir())
            return sandboxError(QStringLiteral("--workspace %1 is not a directory").arg(workspace));
    } else if (auto ok = Paths::ensurePrivateDir(workspace); !ok) {
        return reportError(ok.error());
    }
    QString memory;
    if (def.tools.memory) {
        // A real agent's notes persist across runs; the default agent's are thrown away.
        memory = p.isSet(agentOpt) ? QString(paths.memoryDir() + QLatin1Char('/') + def.id)
                                   : QString(runDir + QStringLiteral("/memory"));
        for (const QString& dir : {QFileInfo(memory).absolutePath(), memory}) {
            if (auto ok = Paths::ensurePrivateDir(dir); !ok)
                return reportError(ok.error());
        }
    }
    const QString socketPath = socketPathFor(runDir, id);
    if (socketPath.isEmpty())
        return sandboxError(QStringLiteral("no place for the broker socket"));
    QLocalServer::removeServer(socketPath);
    QLocalServer broker;
    // The socket is there as in a run, but nobody serves it here: connections are closed.
    QObject::connect(&broker, &QLocalServer::newConnection, &broker, [&broker]() {
        while (QLocalSocket* s = broker.nextPendingConnection()) {
            s->abort();
            s->deleteLater();
        }
    });
    if (!broker.listen(socketPath))
        return sandboxError(QStringLiteral("could not open the broker socket %1: %2")
                                .arg(socketPath, broker.errorString()));
    auto removeSocket = qScopeGuard([&]() { QFile::remove(socketPath); });

    SandboxRequest request;
    request.tier = decision.tier;
    request.program = command.first();
    request.arguments = command.mid(1);
    request.workspace = workspace;
    request.memoryDir = memory;
    request.brokerSocket = socketPath;
    // A terminal's reader must stay in the terminal's foreground group (none tier only).
    request.newProcessGroup = !::isatty(STDIN_FILENO);
    auto launch = SandboxLaunch::prepare(request);
    if (!launch)
        return sandboxError(launch.error().message);

    if (p.isSet(dryRunOpt)) {
        QStringList line{shellQuote((*launch)->program())};
        for (const QString& a : (*launch)->arguments())
            line << shellQuote(a);
        printOut(line.join(QLatin1Char(' ')));
        return ExitOk;
    }

    QProcess process;
    process.setProcessChannelMode(QProcess::ForwardedChannels);
    process.setInputChannelMode(QProcess::ForwardedInputChannel);
    (*launch)->configure(process);
    process.start();
    const bool started = process.waitForStarted(30000);
    (*launch)->closeInheritedFds();
    if (!started)
        return sandboxError(QStringLiteral("%1 could not be started: %2")
                                .arg(process.program(), process.errorString()));
    const pid_t pid = pid_t(process.processId());

    QEventLoop loop;
    bool timedOut = false;
    QTimer wallClock;
    wallClock.setSingleShot(true);
    wallClock.setTimerType(Qt::PreciseTimer);
    QObject::connect(&wallClock, &QTimer::timeout, &loop, [&]() {
        timedOut = true;
        // Its group: bwrap (whose pid namespace dies with it) or the plain process and its
        // children.
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
    });
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    wallClock.start(int(qMin<qint64>(qint64(timeoutS) * 1000, INT_MAX)));
    if (process.state() != QProcess::NotRunning)
        loop.exec();
    wallClock.stop();
    // Strays of the group (a none-tier command's background children) go with it.
    ::kill(-pid, SIGKILL);

    if (p.isSet(keepOpt))
        printErr(QStringLiteral("vivarium sandbox run: workspace kept at %1").arg(workspace));
    if (timedOut) {
        printErr(QStringLiteral("vivarium sandbox run: wall clock limit of %1 s reached; "
                                "killed")
                     .arg(timeoutS));
        return ExitTimedOut;
    }
    if (process.exitStatus() == QProcess::CrashExit)
        return 128 + process.exitCode(); // killed by a signal, as a shell reports it
    if (!(*launch)->commandStarted())
        return sandboxError(QStringLiteral("the %1 sandbox could not be set up (its message is "
                                           "above)")
                                .arg(sandboxTierName(decision.tier)));
    return process.exitCode();
}

} // namespace vivarium::cli
