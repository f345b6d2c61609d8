// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium run AGENT: start a run here (this process becomes the engine) or, when `serve` owns
// the data directory, queue it in the store for that engine and follow it from the journal.
#include "Cli.h"
#include "EventFormatter.h"
#include "SignalWatcher.h"

#include "vivarium/core/EngineLock.h"
#include "vivarium/engine/Engine.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <pwd.h>
#include <unistd.h>

namespace vivarium::cli {

namespace {

QString cliTrigger()
{
    const passwd* pw = ::getpwuid(::getuid());
    return QStringLiteral("cli:%1").arg(pw ? QString::fromLocal8Bit(pw->pw_name)
                                           : QString::number(::getuid()));
}

int exitCodeForStatus(RunStatus s)
{
    switch (s) {
    case RunStatus::Succeeded:
        return ExitOk;
    case RunStatus::Failed:
        return ExitFailure;
    default:
        return ExitRunDidNotFinish;
    }
}

/** Parse --input: literal JSON or @file. */
std::expected<QJsonValue, QString> parseInput(const QString& text)
{
    if (text.isEmpty())
        return QJsonValue();
    QByteArray bytes;
    QString where = QStringLiteral("--input");
    if (text.startsWith(QLatin1Char('@'))) {
        QFile f(text.mid(1));
        if (!f.open(QIODevice::ReadOnly))
            return std::unexpected(
                QStringLiteral("--input: cannot read %1: %2").arg(text.mid(1), f.errorString()));
        if (f.size() > 8 * 1024 * 1024)
            return std::unexpected(
                QStringLiteral("--input: %1 is larger than 8 MiB").arg(text.mid(1)));
        bytes = f.readAll();
        where = text.mid(1);
    } else {
        bytes = text.toUtf8();
    }
    // Wrap so scalars ("hello", 42) parse too: QJsonDocument only takes arrays and objects.
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + bytes + "\n]", &err);
    if (err.error != QJsonParseError::NoError || doc.array().size() != 1)
        return std::unexpected(QStringLiteral("%1: not valid JSON (%2 at byte %3); quote text as "
                                              "a JSON string, e.g. --input '\"hello\"'")
                                   .arg(where, err.error != QJsonParseError::NoError
                                                   ? err.errorString()
                                                   : QStringLiteral("expected one value"))
                                   .arg(qMax(0, err.offset - 1)));
    return doc.array().first();
}

QJsonObject runJson(const RunRecord& r)
{
    QJsonObject usage{{QStringLiteral("steps"), r.usage.steps},
                      {QStringLiteral("input_tokens"), double(r.usage.inputTokens)},
                      {QStringLiteral("output_tokens"), double(r.usage.outputTokens)},
                      {QStringLiteral("cost_usd"), r.usage.costUsd && !r.usage.unpriced
                                                       ? QJsonValue(*r.usage.costUsd)
                                                       : QJsonValue()},
                      {QStringLiteral("unpriced"), r.usage.unpriced}};
    return QJsonObject{
        {QStringLiteral("id"), r.id},
        {QStringLiteral("agent"), r.agentId},
        {QStringLiteral("agent_version"), r.agentVersion},
        {QStringLiteral("status"), runStatusName(r.status)},
        {QStringLiteral("reason"), r.reason.isEmpty() ? QJsonValue() : QJsonValue(r.reason)},
        {QStringLiteral("output"), r.output.isUndefined() ? QJsonValue() : r.output},
        {QStringLiteral("usage"), usage},
        {QStringLiteral("created_at"), jsonTime(r.createdAt)},
        {QStringLiteral("finished_at"), jsonTime(r.finishedAt)}};
}

/** The end of a run as a script wants it: output on stdout, a summary on stderr. */
int finish(const RunRecord& r, bool json)
{
    if (json) {
        printJson(runJson(r));
    } else {
        if (r.status == RunStatus::Succeeded && !r.output.isUndefined() && !r.output.isNull()) {
            if (r.output.isString())
                printOut(r.output.toString());
            else
                printJson(r.output);
        }
        QString line = QStringLiteral("vivarium: run %1 %2").arg(r.id, runStatusName(r.status));
        if (!r.reason.isEmpty())
            line += QStringLiteral(": ") + r.reason;
        line += QStringLiteral(" (%1 steps, %2 tokens, %3)")
                    .arg(r.usage.steps)
                    .arg(r.usage.inputTokens + r.usage.outputTokens)
                    .arg(EventFormatter::cost(r.usage.costUsd, r.usage.unpriced));
        printErr(line);
    }
    return exitCodeForStatus(r.status);
}

/** Queue a run for the engine that owns the data directory: row, first event, audit. */
Result<RunRecord> queueForEngine(Store& store, const QString& agentId, const QJsonValue& input,
                                 const QString& trigger)
{
    RunRecord created;
    Status s = store.transaction([&]() -> Status {
        NewRun nr;
        nr.agentId = agentId;
        nr.input = input;
        nr.trigger = trigger;
        auto run = store.createRun(nr);
        if (!run)
            return std::unexpected(run.error());
        created = *run;
        QList<RunEvent> events{RunEvent{
            0,
            QStringLiteral("run.queued"),
            {},
            QJsonObject{{QStringLiteral("agent"), agentId},
                        {QStringLiteral("agent_version"), run->agentVersion},
                        {QStringLiteral("trigger"), trigger},
                        {QStringLiteral("input"), input.isUndefined() ? QJsonValue() : input}}}};
        if (auto e = store.appendEvents(run->id, events); !e)
            return e;
        AuditRecord a;
        a.actor = trigger;
        a.action = QStringLiteral("run.queued");
        a.runId = run->id;
        a.agentId = agentId;
        a.details = QJsonObject{{QStringLiteral("agent_version"), run->agentVersion}};
        if (auto r = store.appendAudit(a); !r)
            return std::unexpected(r.error());
        return {};
    });
    if (!s)
        return std::unexpected(s.error());
    return created;
}

/** Follow a run another process executes, from the journal. */
int followFromStore(Invocation& inv, Store& store, const QString& runId, bool follow, bool json)
{
    EventFormatter fmt;
    qint64 last = 0;
    int ticks = 0;
    bool interrupted = false;
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::received, &watcher,
                     [&interrupted](int) { interrupted = true; });
    for (;;) {
        auto events = store.events(runId, last);
        if (!events)
            return reportError(events.error());
        bool finished = false;
        for (const RunEvent& e : *events) {
            last = e.seq;
            if (follow && !json) {
                const QString line = fmt.format(e);
                if (!line.isEmpty())
                    printOut(line);
            }
            finished = finished || e.type == QLatin1String("run.finished");
        }
        auto run = store.run(runId);
        if (!run)
            return reportError(run.error());
        if (finished || isTerminal(run->status))
            return finish(*run, json);
        if (++ticks % 10 == 0 && !EngineLock::holder(inv.paths().lockFile())) {
            printErr(QStringLiteral("vivarium: the engine stopped; run %1 is left %2")
                         .arg(runId, runStatusName(run->status)));
            return ExitRunDidNotFinish;
        }
        if (interrupted) {
            printErr(QStringLiteral("vivarium: stopped following; run %1 goes on (cancel it with: "
                                    "vivarium runs cancel %1)")
                         .arg(runId));
            return ExitRunDidNotFinish;
        }
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QThread::msleep(100);
    }
}

} // namespace

int cmdRun(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("AGENT"), QStringLiteral("agent id"));
    const QCommandLineOption input(QStringLiteral("input"),
                                   QStringLiteral("Run input: JSON, or @FILE holding JSON."),
                                   QStringLiteral("JSON|@FILE"));
    const QCommandLineOption follow(QStringLiteral("follow"),
                                    QStringLiteral("Print a live timeline of the run."));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Print the finished run as JSON."));
    p.addOption(input);
    p.addOption(follow);
    p.addOption(json);
    if (auto stop = inv.parse(p,
                              QStringLiteral("Run an agent and wait for it to end. Exit status: 0 "
                                             "succeeded, 1 failed, 3 timed out, cancelled or "
                                             "interrupted."),
                              1, 1))
        return *stop;
    const auto in = parseInput(p.value(input));
    if (!in)
        return usageError(inv.commandName(), in.error());
    const QString agentId = p.positionalArguments().first();
    const QString trigger = cliTrigger();
    const Paths paths = inv.paths();
    if (auto ok = Paths::ensurePrivateDir(paths.dataDir()); !ok)
        return reportError(ok.error());

    // An engine owns the directory: hand it the run through the store.
    auto viaEngine = [&](qint64 pid) -> int {
        auto store = inv.openStore();
        if (!store)
            return reportError(store.error());
        auto run = queueForEngine(**store, agentId, *in, trigger);
        if (!run)
            return reportError(run.error());
        printErr(QStringLiteral("vivarium: queued run %1 on the running engine (pid %2)")
                     .arg(run->id)
                     .arg(pid));
        return followFromStore(inv, **store, run->id, p.isSet(follow), p.isSet(json));
    };
    if (const auto holder = EngineLock::holder(paths.lockFile()))
        return viaEngine(*holder);

    Engine engine(paths);
    // Engine for this one run only: schedules are `serve`'s (or the GUI's) to fire.
    engine.setSchedulingEnabled(false);
    if (auto ok = engine.start(); !ok) {
        if (ok.error().code == Error::Code::Locked) // lost a race with a starting `serve`
            return viaEngine(EngineLock::holder(paths.lockFile()).value_or(-1));
        return reportError(ok.error());
    }
    auto run = engine.supervisor()->enqueue(agentId, *in, trigger);
    if (!run)
        return reportError(run.error());
    const QString runId = run->id;
    printErr(QStringLiteral("vivarium: run %1 of %2").arg(runId, agentId));

    EventFormatter fmt;
    const bool live = p.isSet(follow) && !p.isSet(json);
    qint64 printed = 0;
    auto show = [&](const RunEvent& e) {
        if (!live || e.seq <= printed)
            return;
        printed = e.seq;
        const QString line = fmt.format(e);
        if (!line.isEmpty())
            printOut(line);
    };
    QObject::connect(engine.supervisor(), &RunSupervisor::eventAppended, &engine,
                     [&](const QString& id, const RunEvent& e) {
                         if (id == runId)
                             show(e);
                     });
    // Events committed before we listened (enqueue writes run.queued at once).
    if (auto early = engine.store()->events(runId))
        for (const RunEvent& e : *early)
            show(e);
    QObject::connect(engine.supervisor(), &RunSupervisor::runFinished, &engine,
                     [&](const QString& id) {
                         if (id == runId)
                             QCoreApplication::quit();
                     });
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::received, &watcher, [&](int sig) {
        (void)engine.supervisor()->cancel(runId, QStringLiteral("cancelled by signal %1").arg(sig));
    });
    // The run may already be over (an agent whose endpoint is missing fails at once).
    if (auto now = engine.store()->run(runId); !now || !isTerminal(now->status))
        QCoreApplication::exec();
    auto final = engine.store()->run(runId);
    engine.stop();
    if (!final)
        return reportError(final.error());
    return finish(*final, p.isSet(json));
}

} // namespace vivarium::cli
