// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium-gui: the desktop app. Embeds the engine (DESIGN section 1) and shows the main window
// and the tray; the engine stops when the app quits, not when the window closes.
#include "LocalApi.h"

#include "vivarium/engine/Engine.h"
#include "vivarium/ui/MainWindow.h"
#include "vivarium/ui/TrayController.h"
#include "vivarium/ui/UiServices.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <functional>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int g_signalFd[2] = {-1, -1};

void onSignal(int sig)
{
    const char c = char(sig);
    // write(2) is async-signal-safe; Qt is reached through the socket.
    [[maybe_unused]] const ssize_t n = ::write(g_signalFd[0], &c, 1);
}

/** SIGTERM/SIGINT/SIGHUP (logout, `kill`) end the app cleanly: runs are recorded, not lost. */
void watchSignals(QObject* context, const std::function<void()>& quit)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalFd) != 0)
        return;
    auto* notifier = new QSocketNotifier(g_signalFd[1], QSocketNotifier::Read, context);
    QObject::connect(notifier, &QSocketNotifier::activated, context, [quit] {
        char c = 0;
        [[maybe_unused]] const ssize_t n = ::read(g_signalFd[1], &c, 1);
        quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
}

/** Prints "ready <ms>" once the window has painted: what bench/vivarium_bench_gui measures. */
class ReadyProbe : public QObject
{
public:
    explicit ReadyProbe(const QElapsedTimer& clock)
        : m_clock(clock)
    {}
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::Paint && !m_done) {
            m_done = true;
            // After this paint the event loop is idle and input is handled: interactive.
            QTimer::singleShot(0, this, [this] {
                std::printf("ready %lld\n", static_cast<long long>(m_clock.elapsed()));
                std::fflush(stdout);
            });
        }
        return QObject::eventFilter(watched, event);
    }

private:
    const QElapsedTimer& m_clock;
    bool m_done = false;
};

} // namespace

int main(int argc, char** argv)
{
    QElapsedTimer clock;
    clock.start();
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("vivarium"));
    QApplication::setApplicationDisplayName(QStringLiteral("Vivarium"));
    QApplication::setApplicationVersion(QStringLiteral(VIVARIUM_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("vivarium"));
    // The tray keeps the app (and the engine) alive with no window; quitting is explicit.
    QApplication::setQuitOnLastWindowClosed(false);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Vivarium desktop app"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Data directory."),
                                     QStringLiteral("DIR"));
    const QCommandLineOption minimized(QStringLiteral("minimized"),
                                       QStringLiteral("Start in the system tray (autostart)."));
    QCommandLineOption printReady(QStringLiteral("print-ready"),
                                  QStringLiteral("Print \"ready MS\" once the window is "
                                                 "interactive (benchmarks)."));
    printReady.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(dataDir);
    parser.addOption(minimized);
    parser.addOption(printReady);
    parser.process(app);

    vivarium::Engine engine(
        vivarium::Paths(vivarium::Paths::resolveDataDir(parser.value(dataDir))));
    if (auto ok = engine.start(); !ok) {
        QString text = ok.error().toString();
        if (ok.error().code == vivarium::Error::Code::Locked)
            text += QObject::tr("\n\nAnother Vivarium (the desktop app or `vivarium serve`) "
                                "already runs on this data directory. Use that one, or stop it "
                                "first.");
        QMessageBox::critical(nullptr, QObject::tr("Vivarium cannot start"), text);
        return 1;
    }

    vivarium::LocalApi api(engine);
    api.apply();

    vivarium::UiServices services;
    services.store = engine.store();
    services.supervisor = engine.supervisor();
    services.secrets = engine.secrets();
    services.dataDir = engine.paths().dataDir();
    services.secretBackend = engine.secretBackend();
    services.secretBackendReason = engine.secretBackendReason();
    services.apiStatus = [&api] { return api.status(); };

    vivarium::MainWindow window(services);
    vivarium::TrayController tray(&window);
    QObject::connect(&window, &vivarium::MainWindow::quitRequested, &app, &QApplication::quit);
    QObject::connect(&window, &vivarium::MainWindow::settingChanged, &app,
                     [&api](const QString& key) {
                         if (key.startsWith(QLatin1String("api.")))
                             api.apply();
                     });
    watchSignals(&app, [] { QApplication::quit(); });

    ReadyProbe ready(clock);
    if (parser.isSet(printReady))
        window.installEventFilter(&ready);
    if (!(parser.isSet(minimized) && tray.isAvailable()))
        window.show();

    const int code = QApplication::exec();
    window.hide();
    api.stop();
    // Live runs get a short grace, then are recorded as interrupted; the next start says so.
    engine.stop(3000);
    return code;
}
