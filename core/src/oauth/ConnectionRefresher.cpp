// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/ConnectionRefresher.h"

#include "OAuthLogging.h"

#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/Store.h"

#include <QDeadlineTimer>
#include <QObject>
#include <QThread>
#include <QTimer>

#include <atomic>

namespace vivarium {

namespace {

/** One refresh's HTTP half, shared by the worker thread and the owner. */
struct Job
{
    RefreshTicket ticket;
    std::optional<OAuthResult<TokenSet>> result;
};

} // namespace

struct ConnectionRefresher::Private
{
    Store* store = nullptr;
    SecretStore* secrets = nullptr;
    QString dataDir;
    Options options;
    Listener listener;
    QObject context; ///< owns the timer; every lambda connection hangs off it
    QTimer timer;
    bool running = false;
    // In flight: the worker and its job (the job holds the refresh lock).
    QThread* worker = nullptr;
    std::shared_ptr<Job> job;
    std::atomic<bool> cancel{false};
    struct Backoff
    {
        QDateTime next;
        int delayMs = 0;
    };
    QHash<QString, Backoff> backoff;

    void tick();
    void schedule(qint64 ms);
    void finish();
    void report(const QString& name, const RefreshOutcome& outcome)
    {
        if (outcome.kind == RefreshOutcome::Kind::Failed ||
            outcome.kind == RefreshOutcome::Kind::Busy) {
            Backoff& b = backoff[name];
            b.delayMs =
                b.delayMs == 0 ? options.minRetryMs : std::min(b.delayMs * 2, options.maxRetryMs);
            if (outcome.kind == RefreshOutcome::Kind::Busy)
                b.delayMs = 2'000; // someone else is on it: look again soon
            b.next = QDateTime::currentDateTimeUtc().addMSecs(b.delayMs);
        } else {
            backoff.remove(name);
        }
        if (listener)
            listener(name, outcome);
    }
};

ConnectionRefresher::ConnectionRefresher(Store* store, SecretStore* secrets, QString dataDir,
                                         Options options)
    : d(std::make_unique<Private>())
{
    d->store = store;
    d->secrets = secrets;
    d->dataDir = std::move(dataDir);
    d->options = options;
    d->timer.setSingleShot(true);
    QObject::connect(&d->timer, &QTimer::timeout, &d->context, [p = d.get()] { p->tick(); });
}

ConnectionRefresher::~ConnectionRefresher()
{
    stop();
}

void ConnectionRefresher::setListener(Listener listener)
{
    d->listener = std::move(listener);
}

void ConnectionRefresher::start()
{
    d->running = true;
    d->cancel = false;
    d->schedule(0);
}

void ConnectionRefresher::stop()
{
    d->running = false;
    d->timer.stop();
    if (d->worker) {
        // The provider may already have rotated the refresh token: let the exchange finish
        // (its answer is stored below) and cancel only one that hangs.
        if (!d->worker->wait(QDeadlineTimer(10'000))) {
            d->cancel = true;
            d->worker->wait();
        }
        d->finish();
    }
}

void ConnectionRefresher::Private::schedule(qint64 ms)
{
    if (!running)
        return;
    timer.start(int(std::clamp<qint64>(ms, 0, options.maxSleepMs)));
}

void ConnectionRefresher::Private::tick()
{
    if (!running || worker)
        return;
    auto list = store->connections();
    if (!list) {
        qCWarning(lcOAuth).noquote() << list.error().message;
        schedule(options.maxSleepMs);
        return;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    qint64 sleepMs = options.maxSleepMs;
    std::optional<ProviderCatalog> catalog;
    for (const ConnectionRecord& c : *list) {
        if (c.auth != QLatin1String("oauth2") || c.status == QLatin1String("needs_reconnect"))
            continue;
        QDateTime due = ConnectionTokens::dueAt(c, options.aheadS);
        if (!due.isValid())
            continue;
        if (const auto b = backoff.constFind(c.name); b != backoff.cend() && b->next > due)
            due = b->next;
        if (due > now) {
            sleepMs = std::min(sleepMs, now.msecsTo(due));
            continue;
        }
        if (!catalog)
            catalog = ProviderCatalog::load(dataDir + QStringLiteral("/providers"));
        auto manifest = catalog->find(c.provider);
        if (!manifest) {
            RefreshOutcome out;
            out.kind = RefreshOutcome::Kind::Failed;
            out.message = QStringLiteral("refresh failed: %1").arg(manifest.error().message);
            (void)store->setConnectionStatus(c.name, QStringLiteral("error"), out.message);
            report(c.name, out);
            continue;
        }
        ConnectionTokens tokens(*store, *secrets, dataDir);
        ConnectionTokens::RefreshOptions how;
        how.lockWaitMs = 0; // never block the engine's thread: a busy lock is retried soon
        how.aheadS = options.aheadS;
        how.cancel = &cancel;
        RefreshOutcome out;
        auto ticket = tokens.prepareRefresh(*manifest, c.name, how, &out);
        if (!ticket || !ticket->has_value()) {
            if (!ticket && out.kind == RefreshOutcome::Kind::NotDue) {
                out.kind = RefreshOutcome::Kind::Failed;
                out.message = ticket.error().message;
            }
            if (out.kind != RefreshOutcome::Kind::NotDue)
                report(c.name, out);
            continue;
        }
        // The exchange leaves this thread; the Store and the vault stay here.
        job = std::make_shared<Job>();
        job->ticket = std::move(**ticket);
        break;
    }
    if (!job) {
        schedule(std::max<qint64>(sleepMs, 1'000));
        return;
    }
    std::shared_ptr<Job> j = job;
    worker = QThread::create([j] {
        j->result = j->ticket.client->refresh(j->ticket.refreshToken, j->ticket.record.scopes);
    });
    QObject::connect(worker, &QThread::finished, &context, [this] {
        finish();
        schedule(0); // the next due connection, if any
    });
    worker->start();
}

void ConnectionRefresher::Private::finish()
{
    std::shared_ptr<Job> done = std::move(job);
    job.reset();
    if (worker) {
        worker->wait(); // finished() comes just before the thread really ends
        delete worker;
        worker = nullptr;
    }
    if (!done)
        return;
    if (!done->result ||
        (!*done->result && done->result->error().kind == OAuthError::Kind::Cancelled)) {
        // Shutting down: nothing was learnt about the grant, so its status stays.
        done->ticket.refreshToken.fill('\0');
        return;
    }
    const QString name = done->ticket.record.name;
    ConnectionTokens tokens(*store, *secrets, dataDir);
    report(name, tokens.completeRefresh(done->ticket, std::move(*done->result)));
}

} // namespace vivarium
