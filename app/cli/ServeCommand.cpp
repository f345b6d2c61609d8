// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium serve: the headless engine.
#include "Cli.h"

#include "vivarium/engine/Engine.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace vivarium::cli {

namespace {

int g_signalFds[2] = {-1, -1};

extern "C" void onTerminationSignal(int sig)
{
    // Only async-signal-safe work here: hand the signal number to the event loop.
    const char c = char(sig);
    [[maybe_unused]] const ssize_t n = ::write(g_signalFds[0], &c, 1);
}

/** Turns SIGINT/SIGTERM/SIGHUP into a clean QCoreApplication::quit(). */
bool installSignalHandlers(QObject* context, int* received)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalFds) != 0)
        return false;
    auto* notifier = new QSocketNotifier(g_signalFds[1], QSocketNotifier::Read, context);
    QObject::connect(notifier, &QSocketNotifier::activated, context, [received] {
        char c = 0;
        if (::read(g_signalFds[1], &c, 1) == 1)
            *received = int(c);
        QCoreApplication::quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onTerminationSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
    return true;
}

} // namespace

int cmdServe(Invocation& inv)
{
    QCommandLineParser p;
    if (auto stop = inv.parse(p,
                              QStringLiteral("Run the engine on the data directory until SIGINT "
                                             "or SIGTERM. Exactly one engine may own a data "
                                             "directory; a second one exits naming the first's "
                                             "pid."),
                              0, 0))
        return *stop;

    if (qEnvironmentVariableIsEmpty("QT_MESSAGE_PATTERN"))
        qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-warning}warning "
                                          "%{endif}%{if-critical}error %{endif}%{category}: "
                                          "%{message}"));
    Engine engine(inv.paths());
    if (auto ok = engine.start(); !ok)
        return reportError(ok.error());

    int signal = 0;
    QObject context;
    if (!installSignalHandlers(&context, &signal))
        printErr(QStringLiteral("vivarium: warning: cannot watch for SIGTERM; stop with SIGKILL"));

    printErr(QStringLiteral("vivarium: engine ready (data directory %1, store schema %2, pid %3)")
                 .arg(engine.paths().dataDir())
                 .arg(engine.store()->schemaVersion())
                 .arg(QCoreApplication::applicationPid()));
    if (engine.recoveredRuns() > 0)
        printErr(QStringLiteral("vivarium: %1 run(s) left live by the previous engine were marked "
                                "interrupted")
                     .arg(engine.recoveredRuns()));

    QCoreApplication::exec();
    engine.stop();
    printErr(QStringLiteral("vivarium: engine stopped%1")
                 .arg(signal ? QStringLiteral(" (signal %1)").arg(signal) : QString()));
    return ExitOk;
}

} // namespace vivarium::cli
