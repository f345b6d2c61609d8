// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium serve: the headless engine.
#include "Cli.h"
#include "SignalWatcher.h"

#include "vivarium/engine/Engine.h"

#include <QCoreApplication>

namespace vivarium::cli {

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
    SignalWatcher watcher;
    if (!watcher.isActive())
        printErr(QStringLiteral("vivarium: warning: cannot watch for SIGTERM; stop with SIGKILL"));
    QObject::connect(&watcher, &SignalWatcher::received, &watcher, [&signal](int sig) {
        signal = sig;
        QCoreApplication::quit();
    });

    printErr(QStringLiteral("vivarium: engine ready (data directory %1, store schema %2, pid %3)")
                 .arg(engine.paths().dataDir())
                 .arg(engine.store()->schemaVersion())
                 .arg(QCoreApplication::applicationPid()));
    if (engine.recoveredRuns() > 0)
        printErr(QStringLiteral("vivarium: %1 run(s) left live by the previous engine were marked "
                                "interrupted")
                     .arg(engine.recoveredRuns()));

    QCoreApplication::exec();
    // Runs still live get a grace period, then are recorded as interrupted.
    engine.stop(10'000);
    printErr(QStringLiteral("vivarium: engine stopped%1")
                 .arg(signal ? QStringLiteral(" (signal %1)").arg(signal) : QString()));
    return ExitOk;
}

} // namespace vivarium::cli
