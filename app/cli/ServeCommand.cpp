// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium serve: the headless engine, and with --api (or the api.enabled setting) the
// localhost HTTP API on the same thread, over the same store.
#include "Cli.h"
#include "SignalWatcher.h"
#include "SystemdNotifier.h"

#include "vivarium/core/Settings.h"
#include "vivarium/engine/Engine.h"
#include "vivarium/server/ApiServer.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace vivarium::cli {

namespace {

/** "127.0.0.1:8765", "[::1]:8765", "localhost:8765", "0.0.0.0:443"; port 0 = any free one. */
Result<QPair<QHostAddress, quint16>> parseListen(const QString& text)
{
    static const QRegularExpression rx(
        QStringLiteral("^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]]+):([0-9]{1,5})$"));
    const auto m = rx.match(text.trimmed());
    bool ok = false;
    const uint port = m.hasMatch() ? m.captured(2).toUInt(&ok) : 0;
    if (!m.hasMatch() || !ok || port > 65535)
        return fail(Error::Code::Validation,
                    QStringLiteral("--listen: \"%1\" is not HOST:PORT (e.g. 127.0.0.1:8765 or "
                                   "[::1]:8765)")
                        .arg(text));
    QString host = m.captured(1);
    if (host.startsWith(QLatin1Char('[')))
        host = host.mid(1, host.size() - 2);
    QHostAddress address;
    if (host == QLatin1String("localhost"))
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(host))
        return fail(Error::Code::Validation,
                    QStringLiteral("--listen: \"%1\" is not an IP address (names other than "
                                   "localhost are not resolved)")
                        .arg(host));
    return qMakePair(address, quint16(port));
}

} // namespace

int cmdServe(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption api(QStringLiteral("api"),
                                 QStringLiteral("Serve the HTTP API (also: setting api.enabled)."));
    const QCommandLineOption listen(QStringLiteral("listen"),
                                    QStringLiteral("API address HOST:PORT (default: setting "
                                                   "api.listen, 127.0.0.1:8765; port 0 picks a "
                                                   "free one)."),
                                    QStringLiteral("HOST:PORT"));
    const QCommandLineOption allowRemote(QStringLiteral("allow-remote"),
                                         QStringLiteral("Allow a non-loopback --listen address "
                                                        "(needs --tls-cert and --tls-key)."));
    const QCommandLineOption tlsCert(QStringLiteral("tls-cert"),
                                     QStringLiteral("PEM certificate (chain) for HTTPS."),
                                     QStringLiteral("FILE"));
    const QCommandLineOption tlsKey(QStringLiteral("tls-key"),
                                    QStringLiteral("PEM private key (RSA or EC, unencrypted)."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption hostName(QStringLiteral("host-name"),
                                      QStringLiteral("Another name clients use in the Host "
                                                     "header (repeatable; loopback names are "
                                                     "always accepted)."),
                                      QStringLiteral("NAME"));
    const QCommandLineOption rateLimit(QStringLiteral("rate-limit"),
                                       QStringLiteral("Requests per second per API key, burst "
                                                      "twice that; 0 = unlimited (default 50)."),
                                       QStringLiteral("N"));
    const QCommandLineOption heartbeat(QStringLiteral("sse-heartbeat"),
                                       QStringLiteral("Seconds between SSE heartbeat comments "
                                                      "(default 15)."),
                                       QStringLiteral("SECONDS"));
    p.addOptions({api, listen, allowRemote, tlsCert, tlsKey, hostName, rateLimit, heartbeat});
    if (auto stop = inv.parse(p,
                              QStringLiteral("Run the engine on the data directory until SIGINT "
                                             "or SIGTERM. Exactly one engine may own a data "
                                             "directory; a second one exits naming the first's "
                                             "pid. With --api it also serves the HTTP API. "
                                             "On SIGTERM no new run starts and live runs get "
                                             "runs.shutdown_grace_seconds (default 30) to "
                                             "finish before they are interrupted; a second "
                                             "signal interrupts them at once. Under systemd "
                                             "(Type=notify) it reports readiness and stopping "
                                             "to $NOTIFY_SOCKET."),
                              0, 0))
        return *stop;

    server::ApiServerOptions options;
    if (p.isSet(rateLimit)) {
        bool ok = false;
        options.keyRatePerSecond = p.value(rateLimit).toDouble(&ok);
        if (!ok || options.keyRatePerSecond < 0)
            return usageError(inv.commandName(),
                              QStringLiteral("--rate-limit needs a number >= 0, got \"%1\"")
                                  .arg(p.value(rateLimit)));
    }
    if (p.isSet(heartbeat)) {
        bool ok = false;
        const double s = p.value(heartbeat).toDouble(&ok);
        if (!ok || s < 0.05 || s > 3600)
            return usageError(inv.commandName(),
                              QStringLiteral("--sse-heartbeat needs seconds from 0.05 to 3600, "
                                             "got \"%1\"")
                                  .arg(p.value(heartbeat)));
        options.sseHeartbeatMs = int(s * 1000);
    }
    options.allowRemote = p.isSet(allowRemote);
    options.tlsCertFile = p.value(tlsCert);
    options.tlsKeyFile = p.value(tlsKey);
    options.hostNames = p.values(hostName);

    if (qEnvironmentVariableIsEmpty("QT_MESSAGE_PATTERN"))
        qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-warning}warning "
                                          "%{endif}%{if-critical}error %{endif}%{category}: "
                                          "%{message}"));
    // Taken (and unset) before anything starts a process that could inherit it.
    SystemdNotifier notifier;
    Engine engine(inv.paths());
    if (auto ok = engine.start(); !ok)
        return reportError(ok.error());

    // The API: --api, or the api.enabled setting; the address from --listen or api.listen.
    Settings settings(*engine.store());
    std::unique_ptr<server::ApiServer> apiServer;
    if (p.isSet(api) || settings.apiEnabled() || p.isSet(listen)) {
        auto where = parseListen(p.isSet(listen) ? p.value(listen) : settings.apiListen());
        if (!where) {
            engine.stop();
            return reportError(where.error());
        }
        options.address = where->first;
        options.port = where->second;
        server::ApiContext context;
        context.store = engine.store();
        context.supervisor = engine.supervisor();
        context.scheduler = engine.scheduler();
        context.secrets = engine.secrets();
        context.webhooks = engine.webhooks();
        context.dataDir = engine.paths().dataDir();
        context.version = QCoreApplication::applicationVersion();
        apiServer = std::make_unique<server::ApiServer>(context, options);
        if (auto ok = apiServer->start(); !ok) {
            apiServer.reset();
            engine.stop();
            return reportError(ok.error(), QStringLiteral("HTTP API"));
        }
        engine.webhooks()->setPublicBaseUrl(apiServer->baseUrl()); // absolute payload links
    }

    // Seconds live runs get when the engine is asked to stop (setting; checked when saved).
    const int graceSeconds = settings.value(QStringLiteral("runs.shutdown_grace_seconds"))
                                 .value_or(QStringLiteral("30"))
                                 .toInt();

    int signal = 0;
    bool draining = false;
    SignalWatcher watcher;
    if (!watcher.isActive())
        printErr(QStringLiteral("vivarium: warning: cannot watch for SIGTERM; stop with SIGKILL"));
    QObject::connect(&watcher, &SignalWatcher::received, &watcher,
                     [&signal, &draining, &engine](int sig) {
                         if (!draining) {
                             signal = sig;
                             QCoreApplication::quit();
                             return;
                         }
                         // A second signal while runs finish: do not wait any longer.
                         printErr(QStringLiteral("vivarium: signal %1 again: interrupting live "
                                                 "runs now")
                                      .arg(sig));
                         engine.endGrace();
                     });

    printErr(QStringLiteral("vivarium: engine ready (data directory %1, store schema %2, pid %3)")
                 .arg(engine.paths().dataDir())
                 .arg(engine.store()->schemaVersion())
                 .arg(QCoreApplication::applicationPid()));
    if (apiServer)
        printErr(QStringLiteral("vivarium: HTTP API on %1 (keys: vivarium api-key create NAME)")
                     .arg(apiServer->baseUrl()));
    if (engine.recoveredRuns() > 0)
        printErr(QStringLiteral("vivarium: %1 run(s) left live by the previous engine were marked "
                                "interrupted")
                     .arg(engine.recoveredRuns()));

    // Type=notify units: ready once the engine and the API (when enabled) are up.
    if (notifier.isActive() &&
        !notifier.ready(
            apiServer ? QStringLiteral("engine ready, HTTP API on %1").arg(apiServer->baseUrl())
                      : QStringLiteral("engine ready")))
        printErr(QStringLiteral("vivarium: warning: %1").arg(notifier.errorString()));

    QCoreApplication::exec();

    // Graceful stop: nothing new starts (the scheduler stops, the supervisor and therefore the
    // API refuse new runs with 503), live runs get the grace period while the event loop keeps
    // serving them and the API (streams follow them to the end), then what still runs is
    // interrupted. A second signal ends the grace at once.
    draining = true;
    const int live = engine.supervisor()->activeRuns();
    const QString stopText = live > 0
                                 ? QStringLiteral("stopping: %1 run(s) live, up to %2 s to finish "
                                                  "(runs.shutdown_grace_seconds)")
                                       .arg(live)
                                       .arg(graceSeconds)
                                 : QStringLiteral("stopping");
    printErr(QStringLiteral("vivarium: %1").arg(stopText));
    if (notifier.isActive())
        notifier.stopping(stopText, live > 0 ? graceSeconds + 15 : 0);
    engine.drain(graceSeconds * 1000);
    // Streams and long-polls end now (clients resume from Last-Event-ID against the next
    // engine), before the store they read goes.
    if (apiServer)
        apiServer->stop();
    apiServer.reset();
    engine.stop();
    printErr(QStringLiteral("vivarium: engine stopped%1")
                 .arg(signal ? QStringLiteral(" (signal %1)").arg(signal) : QString()));
    return ExitOk;
}

} // namespace vivarium::cli
