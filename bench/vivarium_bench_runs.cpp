// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Run benchmarks against a zero-latency fake model on 127.0.0.1: time from `vivarium run` to
// the first model request, loop overhead per step, runner peak RSS, and 50 concurrent runs of
// 10 steps each. Medians of several runs, each beside a baseline measured in the same run.
#include "FakeModelServer.h"

#include "vivarium/core/Store.h"
#include "vivarium/engine/Engine.h"
#include "vivarium/sandbox/LlmClient.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace vivarium;
using testsupport::FakeModelServer;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

QJsonArray stepsScript(int toolSteps)
{
    QJsonArray turns;
    for (int i = 0; i < toolSteps; ++i) {
        const QJsonObject args{{QStringLiteral("path"), QStringLiteral("f%1.txt").arg(i)},
                               {QStringLiteral("content"), QStringLiteral("step %1").arg(i)}};
        turns << QJsonObject{
            {QStringLiteral("tool_calls"),
             QJsonArray{QJsonObject{
                 {QStringLiteral("name"), QStringLiteral("file_write")},
                 {QStringLiteral("arguments"),
                  QString::fromUtf8(QJsonDocument(args).toJson(QJsonDocument::Compact))}}}}};
    }
    turns << QJsonObject{{QStringLiteral("text"), QStringLiteral("done")}};
    return turns;
}

AgentDefinition agent(const QString& id)
{
    AgentDefinition d;
    d.id = id;
    d.name = id;
    d.prompt = QStringLiteral("Write the files you are asked for.");
    d.model.endpoint = QStringLiteral("fake");
    d.model.name = QStringLiteral("gpt-4o-mini");
    d.limits.maxSteps = 100;
    d.tools.memory = false;
    return d;
}

double runCli(const QString& vivarium, const QString& data, const QString& agentId)
{
    QElapsedTimer t;
    t.start();
    QProcess p;
    p.start(vivarium, {QStringLiteral("run"), agentId, QStringLiteral("--data-dir"), data});
    p.waitForFinished(120000);
    if (p.exitCode() != 0) {
        std::fprintf(stderr, "run failed: %s\n", p.readAllStandardError().constData());
        std::exit(1);
    }
    return double(t.nsecsElapsed()) / 1e6;
}

long vmHwmKb(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLong();
    return -1;
}

/** Parent pid from /proc/PID/stat (the field after the parenthesised command name). */
qint64 parentOf(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray s = f.readAll();
    return s.mid(s.lastIndexOf(')') + 2).split(' ').value(1).toLongLong();
}

/**
 * Peak RSS of the vivarium-runner process below `top` (the sandbox wrapper the supervisor
 * started): under bwrap the runner is a grandchild, not the process the event names.
 */
long runnerHwmKb(qint64 top)
{
    long best = -1;
    const QStringList pids =
        QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& name : pids) {
        bool ok = false;
        const qint64 pid = name.toLongLong(&ok);
        if (!ok)
            continue;
        QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
        if (!comm.open(QIODevice::ReadOnly) || comm.readAll().trimmed() != "vivarium-runner")
            continue;
        for (qint64 p = pid; p > 1; p = parentOf(p)) {
            if (p == top) {
                best = std::max(best, vmHwmKb(pid));
                break;
            }
        }
    }
    return best;
}

const char* verdict(bool ok)
{
    return ok ? "ok" : "MISSED";
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("vivarium"));
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    const QString bin = QCoreApplication::applicationDirPath();
    const QString vivarium = bin + QStringLiteral("/vivarium");
    const int reps = 7;

    FakeModelServer server;
    server.setTurnByStep(true);
    if (!server.start()) {
        std::fprintf(stderr, "cannot start the fake model server\n");
        return 1;
    }
    QTemporaryDir tmp;
    const QString data = tmp.filePath(QStringLiteral("data"));
    QDir().mkpath(data);
    {
        auto store = Store::open(data + QStringLiteral("/vivarium.db"));
        ModelEndpointRecord e;
        e.name = QStringLiteral("fake");
        e.api = QStringLiteral("openai");
        e.baseUrl = server.openAiBaseUrl().toString();
        if (!store || !(*store)->saveModelEndpoint(e) ||
            !(*store)->saveAgent(agent(QStringLiteral("one"))) ||
            !(*store)->saveAgent(agent(QStringLiteral("twenty")))) {
            std::fprintf(stderr, "cannot prepare the store\n");
            return 1;
        }
    }
    std::printf(
        "Vivarium %s run benchmark (zero-latency fake model on 127.0.0.1, medians of %d)\n\n",
        VIVARIUM_VERSION, reps);

    // 1. From `vivarium run` to the first model request.
    server.setScript(stepsScript(0));
    std::vector<double> first, version;
    for (int i = 0; i < reps; ++i) {
        QElapsedTimer t;
        t.start();
        QProcess v;
        v.start(vivarium, {QStringLiteral("--version")});
        v.waitForFinished();
        version.push_back(double(t.nsecsElapsed()) / 1e6);

        server.clearRequests();
        QProcess p;
        t.restart();
        p.start(vivarium,
                {QStringLiteral("run"), QStringLiteral("one"), QStringLiteral("--data-dir"), data});
        server.waitForRequests(1, 10000);
        first.push_back(double(t.nsecsElapsed()) / 1e6);
        p.waitForFinished(30000);
    }
    std::printf("Start-up (target < 100 ms)                         ms\n");
    std::printf("  vivarium --version (process baseline)     %8.1f\n", median(version));
    std::printf("  vivarium run -> first model request        %8.1f   x%.1f   %s\n", median(first),
                median(first) / median(version), verdict(median(first) < 100));

    // 2. Loop overhead per step: a 20-tool-step run minus a 0-step run, minus the model's own
    // round trip measured with the same client straight against the same server.
    std::vector<double> one, twenty, direct;
    EndpointConfig cfg;
    cfg.name = QStringLiteral("fake");
    cfg.baseUrl = server.openAiBaseUrl();
    auto client = LlmClient::create(cfg);
    for (int i = 0; i < reps; ++i) {
        server.setScript(stepsScript(0));
        one.push_back(runCli(vivarium, data, QStringLiteral("one")));
        server.setScript(stepsScript(20));
        twenty.push_back(runCli(vivarium, data, QStringLiteral("twenty")));
        server.setTurnByStep(false);
        server.setScript(QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("x")}}});
        server.setRepeat(true);
        LlmRequest req;
        req.model = QStringLiteral("gpt-4o-mini");
        req.messages << ChatMessage{ChatMessage::Role::User, QStringLiteral("hi"), {}, {}, false};
        CancelToken never;
        QElapsedTimer t;
        t.start();
        for (int k = 0; k < 20; ++k)
            (void)client->complete(req, never);
        direct.push_back(double(t.nsecsElapsed()) / 1e6 / 20.0);
        server.setRepeat(false);
        server.setTurnByStep(true);
    }
    const double perStep = (median(twenty) - median(one)) / 20.0;
    const double overhead = perStep - median(direct);
    std::printf("\nAgent loop (target < 2 ms overhead per step)      ms\n");
    std::printf("  run with 0 tool steps                      %8.1f\n", median(one));
    std::printf("  run with 20 tool steps                     %8.1f\n", median(twenty));
    std::printf("  per step                                   %8.2f\n", perStep);
    std::printf("  model round trip, direct client (baseline) %8.2f\n", median(direct));
    std::printf("  loop overhead per step                     %8.2f          %s\n", overhead,
                verdict(overhead < 2.0));

    // 3 and 4 in-process: one engine, many runs.
    SupervisorOptions opts;
    opts.maxConcurrentRuns = 50;
    opts.adoptForeignRuns = false;
    Engine engine(Paths(data), opts);
    if (auto ok = engine.start(); !ok) {
        std::fprintf(stderr, "%s\n", qPrintable(ok.error().message));
        return 1;
    }
    RunSupervisor* sup = engine.supervisor();

    // 3. Runner peak RSS, read just before the last model turn of a 20-step run.
    std::vector<double> rss;
    for (int i = 0; i < 3; ++i) {
        server.setScript(stepsScript(20));
        qint64 runnerPid = 0;
        long hwm = -1;
        QString runId;
        QObject ctx;
        QObject::connect(sup, &RunSupervisor::eventAppended, &ctx,
                         [&](const QString& id, const RunEvent& e) {
                             if (id != runId)
                                 return;
                             if (e.type == QLatin1String("run.started"))
                                 runnerPid = e.data.value(QStringLiteral("runner_pid")).toInteger();
                             if (e.type == QLatin1String("tool.result") && runnerPid > 0)
                                 hwm = std::max(hwm, runnerHwmKb(runnerPid));
                         });
        QObject::connect(sup, &RunSupervisor::runFinished, &ctx, [&](const QString& id) {
            if (id == runId)
                QCoreApplication::quit();
        });
        runId = sup->enqueue(QStringLiteral("twenty"), QJsonValue(), QStringLiteral("bench"))->id;
        QCoreApplication::exec();
        rss.push_back(double(hwm) / 1024.0);
    }
    std::printf("\nRunner (target < 15 MB)\n");
    std::printf("  peak RSS over a 20-step run                %8.1f MB       %s\n", median(rss),
                verdict(median(rss) < 15));

    // 4. 50 concurrent runs of 10 steps each.
    server.setScript(stepsScript(9));
    QStringList ids;
    int finished = 0;
    QObject ctx;
    QObject::connect(sup, &RunSupervisor::runFinished, &ctx, [&](const QString&) {
        if (++finished == 50)
            QCoreApplication::quit();
    });
    QElapsedTimer wall;
    wall.start();
    for (int i = 0; i < 50; ++i)
        ids << sup->enqueue(QStringLiteral("twenty"), QJsonValue(), QStringLiteral("bench"))->id;
    QCoreApplication::exec();
    const double secs = double(wall.nsecsElapsed()) / 1e9;
    int ok = 0;
    int lost = 0;
    for (const QString& id : ids) {
        auto r = engine.store()->run(id);
        auto ev = engine.store()->events(id);
        if (!r || !ev) {
            ++lost;
            continue;
        }
        bool contiguous = true;
        for (int k = 0; k < ev->size(); ++k)
            contiguous = contiguous && ev->at(k).seq == k + 1;
        if (r->status == RunStatus::Succeeded && r->usage.steps == 10 && contiguous &&
            ev->last().type == QLatin1String("run.finished"))
            ++ok;
        else
            ++lost;
    }
    std::printf("\n50 concurrent runs x 10 steps\n");
    std::printf("  wall time                                  %8.2f s\n", secs);
    std::printf("  throughput                                 %8.1f steps/s\n", 500.0 / secs);
    std::printf("  succeeded with 10 steps and a whole journal %6d / 50    %s\n", ok,
                verdict(ok == 50 && lost == 0));
    engine.stop();
    return 0;
}
