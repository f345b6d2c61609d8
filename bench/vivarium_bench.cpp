// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Foundation benchmarks: CLI latency and peak RSS, idle engine RSS, run-event insert rate.
// Each figure is the median of several runs, printed beside a baseline measured in this run.
#include "vivarium/core/Store.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <spawn.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

using namespace vivarium;

namespace {

struct Sample
{
    double ms = 0;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/** posix_spawn + waitpid: wall time, output discarded. */
Sample spawnOnce(const QStringList& argv)
{
    std::vector<QByteArray> storage;
    std::vector<char*> args;
    for (const QString& a : argv)
        storage.push_back(a.toLocal8Bit());
    for (QByteArray& b : storage)
        args.push_back(b.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    QElapsedTimer t;
    t.start();
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
        std::fprintf(stderr, "cannot spawn %s\n", args[0]);
        std::exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Sample s;
    s.ms = double(t.nsecsElapsed()) / 1e6;
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "%s exited with status %d\n", args[0], status);
        std::exit(1);
    }
    return s;
}

/**
 * Peak RSS of a child measured the only exact way: stop it at exit (PTRACE_O_TRACEEXIT) while
 * its memory map still exists and read VmHWM. wait4's ru_maxrss cannot be used: at exec the
 * kernel folds the spawning process's own high-water mark into the child's.
 */
long peakRssKb(const QStringList& argv)
{
    std::vector<QByteArray> storage;
    std::vector<char*> args;
    for (const QString& a : argv)
        storage.push_back(a.toLocal8Bit());
    for (QByteArray& b : storage)
        args.push_back(b.data());
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        raise(SIGSTOP);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0); // the SIGSTOP
    ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, pid, nullptr, nullptr);
    long hwm = -1;
    while (waitpid(pid, &status, 0) == pid) {
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        int forward = 0;
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
            QFile f(QStringLiteral("/proc/%1/status").arg(pid));
            if (f.open(QIODevice::ReadOnly))
                for (const QByteArray& line : f.readAll().split('\n'))
                    if (line.startsWith("VmHWM:"))
                        hwm = line.mid(6).trimmed().split(' ').first().toLong();
        } else if (WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP) {
            forward = WSTOPSIG(status);
        }
        ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(intptr_t(forward)));
    }
    return hwm;
}

struct Figure
{
    double medianMs;
    double medianRssMb;
};

Figure measure(const QStringList& argv, int runs)
{
    spawnOnce(argv); // warm the page cache
    std::vector<double> ms, rss;
    for (int i = 0; i < runs; ++i) {
        ms.push_back(spawnOnce(argv).ms);
        rss.push_back(double(peakRssKb(argv)) / 1024.0);
    }
    return {median(ms), median(rss)};
}

long readStatusKb(qint64 pid, const char* key)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(int(qstrlen(key))).trimmed().split(' ').first().toLong();
    return -1;
}

double cpuSeconds(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray s = f.readAll();
    const QList<QByteArray> fields = s.mid(s.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat; here offset by the 2 already cut.
    return double(fields.at(11).toLongLong() + fields.at(12).toLongLong()) /
           double(sysconf(_SC_CLK_TCK));
}

const char* verdict(bool ok)
{
    return ok ? "ok" : "MISSED";
}

AgentDefinition agent(int i)
{
    AgentDefinition d;
    d.id = QStringLiteral("agent-%1").arg(i, 4, 10, QLatin1Char('0'));
    d.name = QStringLiteral("Benchmark agent %1").arg(i);
    d.prompt = QStringLiteral("You triage the inbox. ").repeated(20);
    d.model.endpoint = QStringLiteral("local");
    d.model.name = QStringLiteral("llama3.1");
    ScheduleSpec s;
    s.cron = QStringLiteral("*/15 8-18 * * 1-5");
    s.tz = QStringLiteral("Europe/Paris");
    d.schedules << s;
    return d;
}

double insertRate(const QString& dbPath, int batch, int total)
{
    QFile::remove(dbPath);
    QFile::remove(dbPath + QStringLiteral("-wal"));
    QFile::remove(dbPath + QStringLiteral("-shm"));
    auto store = Store::open(dbPath);
    if (!store || !(*store)->saveAgent(agent(0))) {
        std::fprintf(stderr, "cannot prepare store\n");
        std::exit(1);
    }
    NewRun nr;
    nr.agentId = QStringLiteral("agent-0000");
    const int runs = 10;
    QStringList ids;
    for (int r = 0; r < runs; ++r)
        ids << (*store)->createRun(nr)->id;
    QElapsedTimer t;
    t.start();
    int written = 0;
    while (written < total) {
        QList<RunEvent> events;
        for (int i = 0; i < batch; ++i) {
            RunEvent e;
            e.type = QStringLiteral("tool.result");
            e.data = QJsonObject{{QStringLiteral("tool"), QStringLiteral("file_read")},
                                 {QStringLiteral("is_error"), false},
                                 {QStringLiteral("content"), QStringLiteral("x").repeated(200)}};
            events << e;
        }
        if (!(*store)->appendEvents(ids.at(written / batch % runs), events)) {
            std::fprintf(stderr, "appendEvents failed\n");
            std::exit(1);
        }
        written += batch;
    }
    return double(written) / (double(t.nsecsElapsed()) / 1e9);
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    // The store's info lines would drown the figures.
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    const QString vivarium = QCoreApplication::applicationDirPath() + QStringLiteral("/vivarium");
    const int runs = 11;
    QTemporaryDir tmp;
    const QString data = tmp.filePath(QStringLiteral("data"));
    QDir().mkpath(data);

    std::printf("Vivarium %s foundation benchmark (medians of %d runs)\n\n", VIVARIUM_VERSION,
                runs);

    // 1,000 agents in the store.
    {
        auto store = Store::open(data + QStringLiteral("/vivarium.db"));
        if (!store) {
            std::fprintf(stderr, "%s\n", qPrintable(store.error().message));
            return 1;
        }
        for (int i = 0; i < 1000; ++i)
            if (!(*store)->saveAgent(agent(i))) {
                std::fprintf(stderr, "saveAgent failed\n");
                return 1;
            }
    }

    const Figure base = measure({QStringLiteral("/bin/true")}, runs);
    const Figure version = measure({vivarium, QStringLiteral("--version")}, runs);
    const Figure list = measure({vivarium, QStringLiteral("agent"), QStringLiteral("list"),
                                 QStringLiteral("--data-dir"), data},
                                runs);
    const Figure listJson = measure({vivarium, QStringLiteral("agent"), QStringLiteral("list"),
                                     QStringLiteral("--json"), QStringLiteral("--data-dir"), data},
                                    runs);
    std::printf("CLI (target < 50 ms)                  wall ms   x /bin/true   peak RSS MB\n");
    std::printf("  /bin/true (baseline)               %7.2f   %11s   %11.1f\n", base.medianMs,
                "1.0", base.medianRssMb);
    auto row = [&](const char* name, const Figure& f) {
        std::printf("  %-34s %7.2f   %11.1f   %11.1f   %s\n", name, f.medianMs,
                    f.medianMs / base.medianMs, f.medianRssMb, verdict(f.medianMs < 50));
    };
    row("vivarium --version", version);
    row("vivarium agent list (1,000 agents)", list);
    row("vivarium agent list --json", listJson);

    // Idle engine.
    std::vector<double> rss, cpu;
    for (int i = 0; i < 3; ++i) {
        QProcess serve;
        serve.start(vivarium, {QStringLiteral("serve"), QStringLiteral("--data-dir"), data});
        serve.waitForStarted();
        QByteArray log;
        while (!log.contains("engine ready") && serve.waitForReadyRead(10000))
            log += serve.readAllStandardError();
        const double cpu0 = cpuSeconds(serve.processId());
        QThread::sleep(2);
        rss.push_back(double(readStatusKb(serve.processId(), "VmRSS:")) / 1024.0);
        cpu.push_back((cpuSeconds(serve.processId()) - cpu0) / 2.0 * 100.0);
        serve.terminate();
        serve.waitForFinished();
    }
    std::printf("\nIdle engine (vivarium serve, 1,000 agents, target < 30 MB RSS)\n");
    std::printf("  RSS after 2 s idle                 %7.1f MB                 %s\n", median(rss),
                verdict(median(rss) < 30));
    std::printf("  CPU while idle                     %7.2f %% of a core\n", median(cpu));

    // Run-event inserts.
    const QString db = tmp.filePath(QStringLiteral("events.db"));
    std::vector<double> single, batched;
    for (int i = 0; i < 5; ++i) {
        single.push_back(insertRate(db, 1, 2000));
        batched.push_back(insertRate(db, 100, 50000));
    }
    std::printf("\nRun-event inserts (target >= 20,000 events/s batched)\n");
    std::printf("  one transaction per event (baseline) %9.0f events/s\n", median(single));
    std::printf("  batches of 100 per transaction       %9.0f events/s   x%.1f   %s\n",
                median(batched), median(batched) / median(single),
                verdict(median(batched) >= 20000));
    return 0;
}
