// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Sandbox start-up overhead (issue 5 item 7): the same program started as a plain subprocess
// (tier none) and through the bwrap (and landlock) tier, exactly as the supervisor starts a
// runner (SandboxLaunch: workspace, memory, broker socket, seccomp, rlimits, uid drop as root),
// and through `vivarium sandbox run`. Median of several starts each; target: under 30 ms added.
#include "vivarium/sandbox/SandboxLauncher.h"
#include "vivarium/sandbox/TierSelection.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLocalServer>
#include <QLoggingCategory>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

using namespace vivarium;

namespace {

constexpr int Warmup = 5;
constexpr int Samples = 40;
constexpr int CliSamples = 20;
constexpr double TargetAddedMs = 30.0;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

struct Place
{
    QTemporaryDir dir;
    QString workspace;
    QString memory;
    QString socket;
    QLocalServer server;

    Place()
    {
        workspace = dir.filePath(QStringLiteral("workspace"));
        memory = dir.filePath(QStringLiteral("memory"));
        socket = dir.filePath(QStringLiteral("broker.sock"));
        QDir().mkpath(workspace);
        QDir().mkpath(memory);
        server.listen(socket);
    }
};

/** One start to exit through the launcher, in ms; nullopt if it failed. */
std::optional<double> launchOnce(SandboxTier tier, const QString& program, const QStringList& args,
                                 Place& place)
{
    QElapsedTimer t;
    t.start();
    SandboxRequest r;
    r.tier = tier;
    r.program = program;
    r.arguments = args;
    r.workspace = place.workspace;
    r.memoryDir = place.memory;
    r.brokerSocket = place.socket;
    auto launch = SandboxLaunch::prepare(r);
    if (!launch) {
        std::fprintf(stderr, "  %s: %s\n", qPrintable(sandboxTierName(tier)),
                     qPrintable(launch.error().message));
        return std::nullopt;
    }
    QProcess p;
    p.setStandardInputFile(QProcess::nullDevice());
    p.setStandardOutputFile(QProcess::nullDevice());
    (*launch)->configure(p);
    p.start();
    const bool started = p.waitForStarted(10000);
    (*launch)->closeInheritedFds();
    if (!started || !p.waitForFinished(10000) || p.exitStatus() != QProcess::NormalExit ||
        p.exitCode() != 0) {
        std::fprintf(stderr, "  %s: %s exited %d: %s\n", qPrintable(sandboxTierName(tier)),
                     qPrintable(program), p.exitCode(), p.readAllStandardError().constData());
        return std::nullopt;
    }
    return double(t.nsecsElapsed()) / 1e6;
}

std::optional<double> medianOf(int samples, const std::function<std::optional<double>()>& once)
{
    std::vector<double> v;
    for (int i = 0; i < Warmup + samples; ++i) {
        const std::optional<double> ms = once();
        if (!ms)
            return std::nullopt;
        if (i >= Warmup)
            v.push_back(*ms);
    }
    return median(v);
}

void row(const char* what, std::optional<double> base, std::optional<double> boxed)
{
    if (!base || !boxed) {
        std::printf("  %-44s %9s %9s   (failed, see above)\n", what, "-", "-");
        return;
    }
    const double added = *boxed - *base;
    std::printf("  %-44s %7.2f   %7.2f   %+7.2f   %5.1fx   %s\n", what, *base, *boxed, added,
                *boxed / *base, added < TargetAddedMs ? "ok" : "OVER TARGET");
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("*.debug=false\n*.info=false"));
    const QString bin = QCoreApplication::applicationDirPath();
    const QString vivarium = bin + QStringLiteral("/vivarium");
    const QString runner = bin + QStringLiteral("/vivarium-runner");
    const QString truePath = QStringLiteral("/usr/bin/true");

    std::printf("Sandbox start-up overhead: median of %d starts (after %d warm-up), ms\n", Samples,
                Warmup);
    for (const TierSupport& t : cachedTierSupport())
        std::printf("  tier %-10s %s: %s\n", qPrintable(sandboxTierName(t.tier)),
                    t.available ? "yes" : "no ", qPrintable(t.detail));
    const bool haveBwrap = cachedTierSupport().at(int(SandboxTier::Bwrap)).available;
    const bool haveLandlock = cachedTierSupport().at(int(SandboxTier::Landlock)).available;
    if (!haveBwrap) {
        std::printf("bwrap tier unavailable: nothing to measure\n");
        return 1;
    }

    Place place;
    std::printf("\n  %-44s %9s %9s %9s %8s   target: < %.0f ms added\n",
                "as the supervisor starts a runner (launcher)", "none", "sandbox", "added", "ratio",
                TargetAddedMs);
    struct Program
    {
        const char* label;
        QString path;
        QStringList args;
    };
    const Program programs[] = {
        {"/usr/bin/true", truePath, {}},
        {"vivarium-runner --version", runner, {QStringLiteral("--version")}}};
    for (const Program& prog : programs) {
        const auto none = medianOf(
            Samples, [&]() { return launchOnce(SandboxTier::None, prog.path, prog.args, place); });
        const auto bwrap = medianOf(
            Samples, [&]() { return launchOnce(SandboxTier::Bwrap, prog.path, prog.args, place); });
        row(qPrintable(QStringLiteral("bwrap: %1").arg(QLatin1String(prog.label))), none, bwrap);
        if (haveLandlock) {
            const auto landlock = medianOf(Samples, [&]() {
                return launchOnce(SandboxTier::Landlock, prog.path, prog.args, place);
            });
            row(qPrintable(QStringLiteral("landlock: %1").arg(QLatin1String(prog.label))), none,
                landlock);
        }
    }

    // The whole command line: process start of `vivarium` included on both sides.
    QTemporaryDir data;
    auto cli = [&](const QString& tier, const QString& program, const QStringList& args) {
        return medianOf(CliSamples, [&]() -> std::optional<double> {
            QElapsedTimer t;
            t.start();
            QProcess p;
            QStringList all{QStringLiteral("sandbox"),    QStringLiteral("run"),
                            QStringLiteral("--data-dir"), data.path(),
                            QStringLiteral("--tier"),     tier,
                            QStringLiteral("--"),         program};
            all << args;
            p.setStandardOutputFile(QProcess::nullDevice());
            p.setStandardErrorFile(QProcess::nullDevice());
            p.start(vivarium, all);
            if (!p.waitForFinished(20000) || p.exitCode() != 0) {
                std::fprintf(stderr, "  vivarium sandbox run --tier %s failed\n", qPrintable(tier));
                return std::nullopt;
            }
            return double(t.nsecsElapsed()) / 1e6;
        });
    };
    std::printf("\n  %-44s %9s %9s %9s %8s\n", "vivarium sandbox run --tier none|bwrap --", "none",
                "bwrap", "added", "ratio");
    for (const Program& prog : programs) {
        row(prog.label, cli(QStringLiteral("none"), prog.path, prog.args),
            cli(QStringLiteral("bwrap"), prog.path, prog.args));
    }
    return 0;
}
