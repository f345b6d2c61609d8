// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Scheduler benchmarks: 10,000 schedules (a mix of realistic expressions and zones): time to
// compute every next fire, the service's start (load + plan) and its memory; with the real
// clock, the lateness of fires in bursts of 200 a second (p50/p99, target p99 < 50 ms); the
// idle CPU of a service with 10,000 schedules none due for an hour (target < 0.5% of a core).
// Medians of several runs, each beside a baseline measured in the same run.
#include "vivarium/core/Store.h"
#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleLauncher.h"
#include "vivarium/scheduler/Scheduler.h"
#include "vivarium/scheduler/SystemClock.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QTimer>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace vivarium;

namespace {

constexpr int kSchedules = 10'000;

const char* const kExpressions[] = {
    "*/5 * * * *",    "0 * * * *",      "0 9 * * 1-5",        "30 8 * * *",   "0 0 * * *",
    "15 14 1 * *",    "0 22 * * 1-5",   "*/15 9-17 * * 1-5",  "0 0 1 1 *",    "@hourly",
    "@daily",         "@weekly",        "0 12 * * sun",       "5 4 * * sun",  "0 0,12 1 */2 *",
    "0 9 15 * *",     "*/10 * * * * *", "0 30 9 * * mon-fri", "0 0 29 2 *",   "30 2 * * *",
    "0 8-18/2 * * *", "45 23 * * 5",    "0 6 1-7 * mon",      "20 3 */3 * *",
};
const char* const kZones[] = {
    "UTC",          "Europe/Paris",     "America/New_York",    "Asia/Tokyo",
    "Asia/Kolkata", "Europe/London",    "America/Los_Angeles", "Australia/Lord_Howe",
    "Pacific/Apia", "America/Sao_Paulo"};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
    return v[i];
}

qint64 rssBytes()
{
    QFile f(QStringLiteral("/proc/self/statm"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> parts = f.readAll().split(' ');
    return parts.size() > 1 ? parts.at(1).toLongLong() * sysconf(_SC_PAGESIZE) : 0;
}

/** Bytes the allocator has handed out: unlike RSS, not blurred by memory freed earlier. */
double heapBytes()
{
    return double(mallinfo2().uordblks) + double(mallinfo2().hblkhd);
}

double cpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void spin(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit);
    loop.exec();
}

/** Wall time in ms with microsecond resolution (QDateTime stops at the millisecond). */
double nowMs()
{
    return double(std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()) /
           1000.0;
}

/** Records when each fire reached it; its runs end at once (no overlap). */
class TimingLauncher final : public ScheduleLauncher
{
public:
    Result<QString> launch(const ScheduleRecord& s, const QDateTime& scheduledFor) override
    {
        lateMs.push_back(nowMs() - double(scheduledFor.toMSecsSinceEpoch()));
        return QStringLiteral("run_") + s.id;
    }
    bool isLive(const QString&) override { return false; }
    std::vector<double> lateMs;
};

std::unique_ptr<Store> makeStore(const QString& dir)
{
    auto s = Store::open(dir + QStringLiteral("/vivarium.db"));
    if (!s) {
        std::fprintf(stderr, "store: %s\n", qPrintable(s.error().message));
        std::exit(1);
    }
    AgentDefinition d;
    d.id = QStringLiteral("bench");
    d.name = d.id;
    d.prompt = QStringLiteral("x");
    d.model.endpoint = QStringLiteral("e");
    d.model.name = QStringLiteral("m");
    if (!(*s)->saveAgent(d)) {
        std::fprintf(stderr, "cannot save the agent\n");
        std::exit(1);
    }
    return std::move(*s);
}

void addSchedules(Store& store, const QList<QPair<QString, QString>>& specs)
{
    const auto ok = store.transaction([&]() -> Status {
        for (const auto& [cron, tz] : specs) {
            ScheduleRecord r;
            r.agentId = QStringLiteral("bench");
            r.cron = cron;
            r.tz = tz;
            if (auto a = store.addSchedule(r); !a)
                return std::unexpected(a.error());
        }
        return {};
    });
    if (!ok) {
        std::fprintf(stderr, "cannot add schedules: %s\n", qPrintable(ok.error().message));
        std::exit(1);
    }
}

QList<QPair<QString, QString>> mix(int n)
{
    QList<QPair<QString, QString>> out;
    const int ne = int(std::size(kExpressions));
    const int nz = int(std::size(kZones));
    for (int i = 0; i < n; ++i)
        out.append({QString::fromLatin1(kExpressions[i % ne]),
                    QString::fromLatin1(kZones[(i / ne) % nz])});
    return out;
}

void benchNextFire()
{
    std::printf("== next fire of %d schedules (%d expressions x %d zones) ==\n", kSchedules,
                int(std::size(kExpressions)), int(std::size(kZones)));
    const auto specs = mix(kSchedules);
    std::vector<CronExpression> exprs;
    std::vector<QTimeZone> zones;
    exprs.reserve(kSchedules);
    zones.reserve(kSchedules);
    std::vector<double> parseMs;
    std::vector<double> zoneMs;
    for (int run = 0; run < 5; ++run) {
        exprs.clear();
        zones.clear();
        QElapsedTimer t;
        t.start();
        for (const auto& spec : specs)
            exprs.push_back(*CronExpression::parse(spec.first));
        parseMs.push_back(double(t.nsecsElapsed()) / 1e6);
        t.restart();
        for (const auto& spec : specs)
            zones.emplace_back(spec.second.toUtf8());
        zoneMs.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    std::vector<double> nextMs;
    std::vector<double> baseMs;
    qint64 sink = 0;
    for (int run = 0; run < 7; ++run) {
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < kSchedules; ++i) {
            if (const auto n = exprs[size_t(i)].next(now, zones[size_t(i)]))
                sink += n->toMSecsSinceEpoch() & 1;
        }
        nextMs.push_back(double(t.nsecsElapsed()) / 1e6);
        // Baseline: what one conversion of "now" into each schedule's zone costs.
        t.restart();
        for (int i = 0; i < kSchedules; ++i)
            sink += now.toTimeZone(zones[size_t(i)]).time().second() & 1;
        baseMs.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::printf("  parse, all:                    %8.1f ms  (%.2f us per schedule)\n",
                median(parseMs), median(parseMs) * 1000.0 / kSchedules);
    std::printf("  QTimeZone(id), all:            %8.1f ms  (%.2f us per schedule)\n",
                median(zoneMs), median(zoneMs) * 1000.0 / kSchedules);
    std::printf("  next fire, all:                %8.1f ms  (%.2f us per schedule)\n",
                median(nextMs), median(nextMs) * 1000.0 / kSchedules);
    std::printf("  baseline: now.toTimeZone(), all: %6.1f ms  (%.2f us per schedule)\n",
                median(baseMs), median(baseMs) * 1000.0 / kSchedules);
    if (sink == -1)
        std::printf("%lld\n", static_cast<long long>(sink));
}

void benchServiceStart()
{
    std::printf("\n== scheduler service start with %d schedules in the store ==\n", kSchedules);
    QTemporaryDir dir;
    auto store = makeStore(dir.path());
    addSchedules(*store, mix(kSchedules));
    SystemClock clock;
    TimingLauncher launcher;
    std::vector<double> startMs;
    std::vector<double> loadMs;
    std::vector<double> heapDelta;
    std::vector<double> heapBase;
    double rssFirst = 0;
    for (int run = 0; run < 5; ++run) {
        // Baseline: only reading the rows (what any listing costs), kept alive to be weighed.
        double h0 = heapBytes();
        QElapsedTimer t;
        t.start();
        auto rows = store->schedules();
        loadMs.push_back(double(t.nsecsElapsed()) / 1e6);
        heapBase.push_back((heapBytes() - h0) / 1024.0 / 1024.0);
        rows = QList<ScheduleRecord>();

        SchedulerOptions o;
        o.timers = false;
        const qint64 rss0 = rssBytes();
        h0 = heapBytes();
        t.restart();
        auto s = std::make_unique<Scheduler>(store.get(), &launcher, &clock, o);
        if (auto ok = s->start(); !ok) {
            std::fprintf(stderr, "start: %s\n", qPrintable(ok.error().message));
            std::exit(1);
        }
        startMs.push_back(double(t.nsecsElapsed()) / 1e6);
        heapDelta.push_back((heapBytes() - h0) / 1024.0 / 1024.0);
        if (run == 0)
            rssFirst = double(rssBytes() - rss0) / 1024.0 / 1024.0;
    }
    std::printf("  Scheduler::start (load, parse, plan all): %7.1f ms  (%.2f us per schedule)\n",
                median(startMs), median(startMs) * 1000.0 / kSchedules);
    std::printf("  baseline: Store::schedules() alone:      %7.1f ms\n", median(loadMs));
    std::printf("  heap of a started service:               %7.2f MiB (%.0f bytes per schedule); "
                "RSS delta of the first start %.1f MiB\n",
                median(heapDelta), median(heapDelta) * 1024 * 1024 / kSchedules, rssFirst);
    std::printf("  baseline: heap of the rows alone:        %7.2f MiB (%.0f bytes per schedule)\n",
                median(heapBase), median(heapBase) * 1024 * 1024 / kSchedules);
}

/** Lateness of fires with the real clock: `count` schedules firing every second. */
std::vector<double> serviceLateness(int count, int seconds)
{
    QTemporaryDir dir;
    auto store = makeStore(dir.path());
    QList<QPair<QString, QString>> specs;
    for (int i = 0; i < count; ++i)
        specs.append({QStringLiteral("* * * * * *"),
                      QString::fromLatin1(kZones[i % int(std::size(kZones))])});
    addSchedules(*store, specs);
    SystemClock clock;
    TimingLauncher launcher;
    Scheduler s(store.get(), &launcher, &clock);
    if (!s.start())
        std::exit(1);
    spin(seconds * 1000);
    s.stop();
    // The first second may hold fires planned before start() returned.
    return launcher.lateMs;
}

/** Baseline: a bare precise QTimer to each second boundary, then `count` callbacks. */
std::vector<double> timerLateness(int count, int seconds)
{
    std::vector<double> late;
    QTimer timer;
    timer.setSingleShot(true);
    timer.setTimerType(Qt::PreciseTimer);
    qint64 target = 0;
    auto arm = [&]() {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        target = (now / 1000 + 1) * 1000;
        timer.start(int(target - now));
    };
    QObject::connect(&timer, &QTimer::timeout, &timer, [&]() {
        for (int i = 0; i < count; ++i)
            late.push_back(nowMs() - double(target));
        arm();
    });
    arm();
    spin(seconds * 1000);
    return late;
}

void benchLateness()
{
    constexpr int kPerSecond = 200;
    constexpr int kSeconds = 10;
    std::printf("\n== lateness, real clock: %d schedules '* * * * * *' (%d fires/s), %d s ==\n",
                kPerSecond, kPerSecond, kSeconds);
    std::vector<double> p50;
    std::vector<double> p99;
    std::vector<double> max;
    std::vector<double> b50;
    std::vector<double> b99;
    size_t fires = 0;
    for (int run = 0; run < 3; ++run) {
        const auto late = serviceLateness(kPerSecond, kSeconds);
        fires += late.size();
        p50.push_back(percentile(late, 0.50));
        p99.push_back(percentile(late, 0.99));
        max.push_back(percentile(late, 1.0));
        const auto base = timerLateness(kPerSecond, kSeconds / 2);
        b50.push_back(percentile(base, 0.50));
        b99.push_back(percentile(base, 0.99));
    }
    std::printf("  fires observed: %zu in 3 runs\n", fires);
    std::printf("  scheduler: p50 %5.1f ms  p99 %5.1f ms  max %5.1f ms  (target p99 < 50 ms)\n",
                median(p50), median(p99), median(max));
    std::printf("  baseline: bare QTimer to the second, p50 %5.1f ms  p99 %5.1f ms\n", median(b50),
                median(b99));
}

void benchIdleCpu()
{
    std::printf("\n== idle CPU: %d schedules, none due for an hour, 5 s ==\n", kSchedules);
    QTemporaryDir dir;
    auto store = makeStore(dir.path());
    // The mix, minus anything that fires within 65 minutes (replaced by a yearly one).
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<QPair<QString, QString>> specs = mix(kSchedules);
    for (auto& [cron, tz] : specs) {
        const auto next = CronExpression::parse(cron)->next(now, QTimeZone(tz.toUtf8()));
        if (!next || *next < now.addSecs(65 * 60))
            cron = QStringLiteral("0 0 1 1 *");
    }
    addSchedules(*store, specs);
    SystemClock clock;
    TimingLauncher launcher;
    std::vector<double> withPct;
    std::vector<double> basePct;
    for (int run = 0; run < 3; ++run) {
        // Baseline: the same event loop with no scheduler.
        double c0 = cpuSeconds();
        QElapsedTimer t;
        t.start();
        spin(5000);
        basePct.push_back((cpuSeconds() - c0) / (double(t.nsecsElapsed()) / 1e9) * 100.0);

        Scheduler s(store.get(), &launcher, &clock);
        if (!s.start())
            std::exit(1);
        c0 = cpuSeconds();
        t.restart();
        spin(5000);
        withPct.push_back((cpuSeconds() - c0) / (double(t.nsecsElapsed()) / 1e9) * 100.0);
        s.stop();
    }
    std::printf("  service idle:  %6.3f %% of a core  (target < 0.5 %%); fires: %zu\n",
                median(withPct), launcher.lateMs.size());
    std::printf("  baseline: idle event loop, no service: %6.3f %%\n", median(basePct));
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    const QString part = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QString();
    if (part.isEmpty() || part == QLatin1String("next")) {
        benchNextFire();
        benchServiceStart();
    }
    if (part.isEmpty() || part == QLatin1String("lateness"))
        benchLateness();
    if (part.isEmpty() || part == QLatin1String("idle"))
        benchIdleCpu();
    return 0;
}
