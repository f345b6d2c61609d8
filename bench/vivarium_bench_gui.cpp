// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The desktop app: start to an interactive main window (the window has painted and the event
// loop is idle: `vivarium-gui --print-ready`) and resident memory once idle, with 200 agents
// and 10,000 runs in the store, against an empty store measured in the same run. Medians of
// several starts; the platform is offscreen unless QT_QPA_PLATFORM says otherwise.
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace vivarium;

namespace {

constexpr int Agents = 200;
constexpr int Runs = 10'000;
constexpr int Repeats = 5;
constexpr int IdleMs = 1500;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0);
}

/** VmRSS of a live process in MiB. */
double rssMiB(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    return 0;
}

/** A data directory with `agents` agents (a schedule on every 4th) and `runs` finished runs. */
bool populate(const QString& dataDir, int agents, int runs)
{
    QDir().mkpath(dataDir);
    auto store = Store::open(dataDir + QStringLiteral("/vivarium.db"));
    if (!store) {
        std::fprintf(stderr, "store: %s\n", qPrintable(store.error().toString()));
        return false;
    }
    Store& s = **store;
    // The vault: a benchmark must not wait on (or write to) a desktop keychain.
    (void)Settings(s).set(QStringLiteral("secrets.backend"), QStringLiteral("vault"));
    auto ok = s.transaction([&]() -> Status {
        for (int i = 0; i < agents; ++i) {
            AgentDefinition d;
            d.id = QStringLiteral("agent-%1").arg(i, 3, 10, QLatin1Char('0'));
            d.name = QStringLiteral("Agent number %1").arg(i);
            d.description = QStringLiteral("A benchmark agent that does little.");
            d.prompt = QStringLiteral("Summarize the day.");
            d.model.endpoint = QStringLiteral("local");
            d.model.name = QStringLiteral("llama3.1");
            if (i % 4 == 0) {
                ScheduleSpec every;
                every.cron = QStringLiteral("*/15 8-18 * * 1-5");
                every.tz = QStringLiteral("UTC");
                d.schedules = {every};
            }
            if (auto saved = s.saveAgent(d); !saved)
                return std::unexpected(saved.error());
        }
        for (int r = 0; r < runs; ++r) {
            NewRun nr;
            nr.agentId = QStringLiteral("agent-%1").arg(r % agents, 3, 10, QLatin1Char('0'));
            nr.trigger = QStringLiteral("cli:bench");
            auto run = s.createRun(nr);
            if (!run)
                return std::unexpected(run.error());
            if (auto st = s.setRunStatus(run->id, RunStatus::Running); !st)
                return st;
            if (auto st =
                    s.setRunStatus(run->id, r % 17 == 0 ? RunStatus::Failed : RunStatus::Succeeded,
                                   r % 17 == 0 ? QStringLiteral("max_steps") : QString());
                !st)
                return st;
        }
        return {};
    });
    if (!ok) {
        std::fprintf(stderr, "populate: %s\n", qPrintable(ok.error().toString()));
        return false;
    }
    return true;
}

struct Start
{
    double readyMs = -1; ///< spawn to "ready", measured here
    double rss = 0;      ///< MiB after IdleMs of idling
};

Start startOnce(const QString& gui, const QString& dataDir)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!env.contains(QStringLiteral("QT_QPA_PLATFORM")))
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.setStandardErrorFile(QProcess::nullDevice());
    Start out;
    QElapsedTimer t;
    t.start();
    p.start(gui, {QStringLiteral("--data-dir"), dataDir, QStringLiteral("--print-ready")});
    if (!p.waitForStarted(10'000))
        return out;
    QByteArray seen;
    while (t.elapsed() < 30'000) {
        if (!p.waitForReadyRead(100) && p.state() != QProcess::Running)
            break;
        seen += p.readAllStandardOutput();
        if (seen.contains("ready ")) {
            out.readyMs = double(t.nsecsElapsed()) / 1e6;
            break;
        }
    }
    if (out.readyMs >= 0) {
        QThread::msleep(IdleMs);
        out.rss = rssMiB(p.processId());
    }
    p.terminate(); // SIGTERM: the app stops its engine cleanly
    if (!p.waitForFinished(15'000)) {
        p.kill();
        p.waitForFinished(5000);
    }
    return out;
}

void report(const char* what, const std::vector<Start>& base, const std::vector<Start>& full)
{
    std::vector<double> b, f, br, fr;
    for (const Start& s : base) {
        b.push_back(s.readyMs);
        br.push_back(s.rss);
    }
    for (const Start& s : full) {
        f.push_back(s.readyMs);
        fr.push_back(s.rss);
    }
    if (*what)
        std::printf("%s\n", what);
    std::printf("  start to interactive window  %8.1f ms   (empty store: %6.1f ms)   target < 1000 "
                "ms: %s\n",
                median(f), median(b), median(f) < 1000 ? "met" : "MISSED");
    std::printf("  resident memory when idle    %8.1f MiB  (empty store: %6.1f MiB)\n", median(fr),
                median(br));
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QString gui = QCoreApplication::applicationDirPath() + QStringLiteral("/vivarium-gui");
    if (!QFile::exists(gui)) {
        std::fprintf(stderr, "vivarium-bench-gui: %s not built\n", qPrintable(gui));
        return 1;
    }
    QTemporaryDir tmp;
    const QString empty = tmp.filePath(QStringLiteral("empty"));
    const QString full = tmp.filePath(QStringLiteral("full"));
    QElapsedTimer fill;
    fill.start();
    if (!populate(empty, 0, 0) || !populate(full, Agents, Runs))
        return 1;
    std::printf("Desktop app (vivarium-gui, %s), %d agents and %d runs (filled in %.1f s), median "
                "of %d starts\n",
                qPrintable(qEnvironmentVariable("QT_QPA_PLATFORM", QStringLiteral("offscreen"))),
                Agents, Runs, double(fill.elapsed()) / 1000.0, Repeats);
    std::vector<Start> base, loaded;
    (void)startOnce(gui, empty); // warm the page cache for both: "cold" is a new process
    (void)startOnce(gui, full);
    for (int i = 0; i < Repeats; ++i) {
        base.push_back(startOnce(gui, empty));
        loaded.push_back(startOnce(gui, full));
    }
    for (const Start& s : loaded)
        if (s.readyMs < 0) {
            std::fprintf(stderr, "vivarium-bench-gui: the app never said ready\n");
            return 1;
        }
    report("", base, loaded);
    return 0;
}
