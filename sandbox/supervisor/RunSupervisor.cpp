// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/RunSupervisor.h"

#include "EventJournal.h"
#include "RunSession.h"
#include "SupervisorContext.h"
#include "SupervisorLogging.h"

#include "vivarium/core/Store.h"
#include "vivarium/sandbox/SandboxLauncher.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QHash>
#include <QList>
#include <QPointer>
#include <QSet>
#include <QThreadPool>
#include <QTimer>

namespace vivarium {

namespace {
constexpr auto ShutdownText = "engine shutting down";
} // namespace

struct RunSupervisor::Private
{
    Private(RunSupervisor* owner, Store* store, SecretStore* secrets, Paths paths,
            SupervisorOptions options);

    /** Record run.queued and its audit row, then wait for a slot. */
    void queue(const RunRecord& run, bool announce);
    void scheduleSoon();
    void schedule();
    void startRun(const QString& runId);
    void onSessionFinished(const QString& runId, RunStatus status, const QString& reason);
    /** End a run that never left the queue. */
    void finishQueued(const QString& runId, RunStatus status, const QString& reason);
    void adoptForeign();

    RunSupervisor* q;
    SupervisorContext ctx;
    EventJournal journal;
    QThreadPool pool;
    QList<QString> waiting;           ///< FIFO of queued runs
    QHash<QString, RunSession*> live; ///< starting or running here
    QSet<QString> known;              ///< waiting + live
    QTimer adoptTimer;
    bool stopping = false;
    bool scheduleQueued = false;
    QEventLoop* drain = nullptr; ///< set while shutdown() waits for live runs
};

RunSupervisor::Private::Private(RunSupervisor* owner, Store* store, SecretStore* secrets,
                                Paths paths, SupervisorOptions options)
    : q(owner)
    , ctx{store, secrets, std::move(paths), std::move(options), nullptr, nullptr, owner}
    , journal(store, ctx.options.eventFlushMs)
{
    if (ctx.options.runnerPath.isEmpty()) {
        // The build tree has it beside this executable, a package in ../libexec/vivarium.
        // Not found: keep the sibling path so the run's failure names where it looked first.
        ctx.options.runnerPath = SandboxLaunch::findHelper(QStringLiteral("vivarium-runner"));
        if (ctx.options.runnerPath.isEmpty())
            ctx.options.runnerPath =
                QCoreApplication::applicationDirPath() + QStringLiteral("/vivarium-runner");
    }
    ctx.options.maxConcurrentRuns = qMax(1, ctx.options.maxConcurrentRuns);
    ctx.options.killGraceMs = qMax(0, ctx.options.killGraceMs);
    ctx.options.connectTimeoutMs = qMax(1, ctx.options.connectTimeoutMs);
    ctx.journal = &journal;
    ctx.pool = &pool;
    // Each live run has at most one model call in flight: one thread per slot never queues
    // (plus a little slack for cancelled calls still winding down).
    pool.setMaxThreadCount(ctx.options.maxConcurrentRuns + 2);
}

void RunSupervisor::Private::queue(const RunRecord& run, bool announce)
{
    if (announce) {
        ctx.journal->record(
            run.id, QStringLiteral("run.queued"),
            {{QStringLiteral("agent"), run.agentId},
             {QStringLiteral("agent_version"), run.agentVersion},
             {QStringLiteral("trigger"), run.trigger},
             {QStringLiteral("input"), run.input.isUndefined() ? QJsonValue() : run.input}});
        // seq 1 is taken now, before anything else of the run can happen.
        ctx.journal->flush(run.id);
        ctx.audit(run.trigger.isEmpty() ? QStringLiteral("engine") : run.trigger,
                  QStringLiteral("run.queued"), run.id, run.agentId,
                  {{QStringLiteral("agent_version"), run.agentVersion},
                   {QStringLiteral("trigger"), run.trigger}});
    }
    waiting.append(run.id);
    known.insert(run.id);
    scheduleSoon();
}

void RunSupervisor::Private::scheduleSoon()
{
    // Never from inside the caller's call: enqueue() returns before the run can end, so a
    // caller can always connect to runFinished first.
    if (scheduleQueued)
        return;
    scheduleQueued = true;
    QMetaObject::invokeMethod(
        q,
        [this]() {
            scheduleQueued = false;
            schedule();
        },
        Qt::QueuedConnection);
}

void RunSupervisor::Private::schedule()
{
    while (!stopping && live.size() < ctx.options.maxConcurrentRuns && !waiting.isEmpty())
        startRun(waiting.takeFirst());
}

void RunSupervisor::Private::startRun(const QString& runId)
{
    auto run = ctx.store->run(runId);
    if (!run) {
        qCWarning(lcSupervisor).noquote()
            << "cannot start" << runId << ":" << run.error().toString();
        known.remove(runId);
        return;
    }
    if (run->status != RunStatus::Queued) {
        // Ended elsewhere while it waited (cancelled from the CLI).
        qCInfo(lcSupervisor) << "run" << runId << "is" << runStatusName(run->status)
                             << "- not starting it";
        known.remove(runId);
        return;
    }
    auto* session = new RunSession(ctx, *run, q);
    live.insert(runId, session);
    QObject::connect(session, &RunSession::finished, q,
                     [this](const QString& id, RunStatus status, const QString& reason) {
                         onSessionFinished(id, status, reason);
                     });
    session->start();
}

void RunSupervisor::Private::onSessionFinished(const QString& runId, RunStatus status,
                                               const QString& reason)
{
    if (RunSession* session = live.take(runId))
        session->deleteLater();
    known.remove(runId);
    emit q->runFinished(runId, status, reason);
    if (drain && live.isEmpty())
        drain->quit();
    scheduleSoon();
}

void RunSupervisor::Private::finishQueued(const QString& runId, RunStatus status,
                                          const QString& reason)
{
    auto run = ctx.store->run(runId);
    const QString agentId = run ? run->agentId : QString();
    RunUsage usage;
    usage.costUsd = 0.0; // it never called a model
    const TerminalOutcome outcome = ctx.writeTerminal(runId, agentId, status, reason, {}, usage, 0);
    emit q->runFinished(runId, outcome.status, outcome.reason);
}

void RunSupervisor::Private::adoptForeign()
{
    if (stopping)
        return;
    RunFilter filter;
    filter.status = RunStatus::Queued;
    filter.limit = 0;
    auto runs = ctx.store->runs(filter);
    if (!runs) {
        qCWarning(lcSupervisor).noquote()
            << "cannot look for queued runs:" << runs.error().toString();
        return;
    }
    // Newest first from the store; adopt oldest first to keep the queue fair.
    // Live runs whose state another process made terminal (a CLI cancel) are stopped here.
    // A copy: a session that ends here leaves `live` (it is deleted later, not now).
    const QList<RunSession*> sessions = live.values();
    for (RunSession* session : sessions)
        session->checkStore();
    for (auto it = runs->crbegin(); it != runs->crend(); ++it) {
        if (known.contains(it->id))
            continue;
        if (auto s = q->adopt(it->id); !s) {
            qCWarning(lcSupervisor).noquote()
                << "cannot adopt" << it->id << ":" << s.error().toString();
        }
    }
}

// --- RunSupervisor ------------------------------------------------------------------------

RunSupervisor::RunSupervisor(Store* store, SecretStore* secrets, Paths paths,
                             SupervisorOptions options, QObject* parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this, store, secrets, std::move(paths), std::move(options)))
{
    connect(
        &d->journal, &EventJournal::committed, this,
        [this](const QString& runId, const RunEvent& event) { emit eventAppended(runId, event); });
    if (d->ctx.options.adoptForeignRuns) {
        connect(&d->adoptTimer, &QTimer::timeout, this, [this]() { d->adoptForeign(); });
        d->adoptTimer.start(qMax(10, d->ctx.options.adoptPollMs));
    }
}

RunSupervisor::~RunSupervisor()
{
    shutdown(0);
    // Cancelled model calls return within ~100 ms; their results must not outlive this.
    d->pool.waitForDone();
    d->journal.flushAll();
    // Whatever the journal still holds (a write that keeps failing) is written, or given up,
    // when it is destroyed after this object stopped being a RunSupervisor: no signal then.
    QObject::disconnect(&d->journal, nullptr, this, nullptr);
    // Finished sessions still waiting for deleteLater: they refer to the context.
    const QList<RunSession*> sessions = findChildren<RunSession*>(Qt::FindDirectChildrenOnly);
    qDeleteAll(sessions);
}

Result<RunRecord> RunSupervisor::enqueue(const QString& agentId, const QJsonValue& input,
                                         const QString& trigger)
{
    if (d->stopping)
        return fail(Error::Code::Conflict, QStringLiteral("the engine is shutting down"));
    NewRun n;
    n.agentId = agentId;
    n.trigger = trigger;
    n.input = input;
    auto run = d->ctx.store->createRun(n);
    if (!run)
        return std::unexpected(run.error());
    d->queue(*run, true);
    return run;
}

Status RunSupervisor::adopt(const QString& runId)
{
    if (d->stopping)
        return fail(Error::Code::Conflict, QStringLiteral("the engine is shutting down"));
    if (d->known.contains(runId))
        return {}; // already ours
    auto run = d->ctx.store->run(runId);
    if (!run)
        return std::unexpected(run.error());
    if (run->status != RunStatus::Queued) {
        return fail(
            Error::Code::Conflict,
            QStringLiteral("run %1 is %2, not queued").arg(runId, runStatusName(run->status)));
    }
    auto first = d->ctx.store->events(runId, 0, 1);
    if (!first)
        return std::unexpected(first.error());
    // The process that queued it may have announced it already.
    d->queue(*run, first->isEmpty());
    return {};
}

Status RunSupervisor::cancel(const QString& runId, const QString& reason)
{
    if (d->waiting.removeOne(runId)) {
        d->known.remove(runId);
        d->finishQueued(runId, RunStatus::Cancelled, reason);
        return {};
    }
    if (RunSession* session = d->live.value(runId)) {
        if (!session->cancel(reason)) {
            return fail(Error::Code::Conflict,
                        QStringLiteral("run %1 is already ending").arg(runId));
        }
        return {};
    }
    auto run = d->ctx.store->run(runId);
    if (!run)
        return std::unexpected(run.error());
    if (isTerminal(run->status)) {
        return fail(
            Error::Code::Conflict,
            QStringLiteral("run %1 already ended (%2)").arg(runId, runStatusName(run->status)));
    }
    if (run->status == RunStatus::Queued) {
        // Queued by another process and not adopted yet: nothing runs, end it here.
        d->finishQueued(runId, RunStatus::Cancelled, reason);
        return {};
    }
    return fail(
        Error::Code::Conflict,
        QStringLiteral("run %1 is %2 in another process").arg(runId, runStatusName(run->status)));
}

int RunSupervisor::activeRuns() const
{
    return int(d->waiting.size() + d->live.size());
}

void RunSupervisor::endGrace()
{
    if (d->drain)
        d->drain->quit();
}

void RunSupervisor::shutdown(int graceMs)
{
    d->stopping = true;
    d->adoptTimer.stop();
    while (!d->waiting.isEmpty()) {
        const QString runId = d->waiting.takeFirst();
        d->known.remove(runId);
        d->finishQueued(runId, RunStatus::Interrupted, QString::fromLatin1(ShutdownText));
    }
    if (graceMs > 0 && !d->live.isEmpty()) {
        // Live runs may still finish on their own: serve them (sockets, model calls) until
        // they do or the grace is over.
        QEventLoop loop;
        d->drain = &loop;
        QTimer::singleShot(graceMs, Qt::PreciseTimer, &loop, &QEventLoop::quit);
        loop.exec();
        d->drain = nullptr;
    }
    QList<QPointer<RunSession>> rest;
    for (RunSession* s : std::as_const(d->live))
        rest.append(s);
    for (const QPointer<RunSession>& s : std::as_const(rest)) {
        if (s)
            s->interrupt(QString::fromLatin1(ShutdownText), 5000);
    }
    d->journal.flushAll();
}

} // namespace vivarium
