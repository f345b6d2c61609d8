// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The HTTP API under load, on loopback, against the real `vivarium serve --api`:
//  1. GET /v1/runs/{id} (authenticated, read from the store) with wrk: requests per second and
//     p99 latency, against GET /v1/health (no key, no store) in the same session as baseline;
//     medians of several rounds, the two interleaved.
//  2. 200 SSE clients following one live run: every client must get every event exactly once;
//     the server's memory per open stream (peak RSS over the baseline, divided by 200).
// Target: >= 5,000 req/s on GET /v1/runs/{id} with 2 cores (wrk takes one thread).
#include "ApiTestServer.h"
#include "SseClient.h"
#include "TestSupport.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace testsupport;

namespace {

struct WrkResult
{
    double rps = 0;
    double p50Ms = 0;
    double p99Ms = 0;
    qint64 non2xx = 0;
};

double toMs(const QString& value)
{
    static const QRegularExpression rx(QStringLiteral("([0-9.]+)(us|ms|s)"));
    const auto m = rx.match(value);
    if (!m.hasMatch())
        return -1;
    const double v = m.captured(1).toDouble();
    return m.captured(2) == QLatin1String("us")  ? v / 1000
           : m.captured(2) == QLatin1String("s") ? v * 1000
                                                 : v;
}

WrkResult wrk(const QString& url, const QByteArray& key, int seconds, int connections)
{
    QStringList args{QStringLiteral("-t1"), QStringLiteral("-c%1").arg(connections),
                     QStringLiteral("-d%1s").arg(seconds), QStringLiteral("--latency")};
    if (!key.isEmpty())
        args << QStringLiteral("-H")
             << QStringLiteral("Authorization: Bearer %1").arg(QString::fromLatin1(key));
    args << url;
    QProcess p;
    p.start(QStringLiteral("wrk"), args);
    p.waitForFinished(seconds * 1000 + 30000);
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    WrkResult r;
    if (const auto m = QRegularExpression(QStringLiteral("Requests/sec:\\s+([0-9.]+)")).match(out);
        m.hasMatch())
        r.rps = m.captured(1).toDouble();
    if (const auto m = QRegularExpression(QStringLiteral("\\n\\s+50%\\s+(\\S+)")).match(out);
        m.hasMatch())
        r.p50Ms = toMs(m.captured(1));
    if (const auto m = QRegularExpression(QStringLiteral("\\n\\s+99%\\s+(\\S+)")).match(out);
        m.hasMatch())
        r.p99Ms = toMs(m.captured(1));
    if (const auto m =
            QRegularExpression(QStringLiteral("Non-2xx or 3xx responses:\\s+(\\d+)")).match(out);
        m.hasMatch())
        r.non2xx = m.captured(1).toLongLong();
    return r;
}

double median(QList<double> v)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v.at(v.size() / 2) : (v.at(v.size() / 2 - 1) + v.at(v.size() / 2)) / 2;
}

qint64 rssKb(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

QByteArray chattyScript(int turns)
{
    QJsonArray all;
    for (int i = 0; i < turns; ++i)
        all << QJsonObject{
            {QStringLiteral("delay_ms"), 150},
            {QStringLiteral("tool_calls"),
             QJsonArray{QJsonObject{
                 {QStringLiteral("name"), QStringLiteral("file_write")},
                 {QStringLiteral("arguments"),
                  QJsonObject{{QStringLiteral("path"), QStringLiteral("n%1.txt").arg(i)},
                              {QStringLiteral("content"), QStringLiteral("note")}}}}}}};
    all << QJsonObject{{QStringLiteral("delay_ms"), 150},
                       {QStringLiteral("text"), QStringLiteral("done")}};
    return QJsonDocument(all).toJson();
}

void fail(const char* what)
{
    std::fprintf(stderr, "vivarium-bench-api: %s\n", what);
    std::exit(1);
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const int rounds = qEnvironmentVariableIntValue("VIVARIUM_BENCH_ROUNDS") > 0
                           ? qEnvironmentVariableIntValue("VIVARIUM_BENCH_ROUNDS")
                           : 5;
    const int seconds = 4;
    const int connections = 32;
    const int sseClients = 200;
    if (QStandardPaths::findExecutable(QStringLiteral("wrk")).isEmpty())
        fail("wrk is not installed (scripts/install-deps.sh installs it)");

    QTemporaryDir tmp;
    ApiTestServer api(tmp.filePath(QStringLiteral("data")));
    const QString script = tmp.filePath(QStringLiteral("chatty.json"));
    writeFile(script, chattyScript(12));
    const quint16 model = api.startFakeModel(script);
    if (!model)
        fail("the fake model server did not start");
    const auto add = runCli(api.dataDir(), {QStringLiteral("model"), QStringLiteral("add"),
                                            QStringLiteral("fake"), QStringLiteral("--api"),
                                            QStringLiteral("openai"), QStringLiteral("--base-url"),
                                            QStringLiteral("http://127.0.0.1:%1/v1").arg(model)});
    if (add.exitCode != 0)
        fail("model add failed");
    for (const auto& [id, endpoint] :
         {qMakePair(QStringLiteral("chatty"), QStringLiteral("fake")),
          qMakePair(QStringLiteral("nomodel"), QStringLiteral("missing"))}) {
        const QString file = tmp.filePath(id + QStringLiteral(".json"));
        writeFile(
            file,
            QJsonDocument(
                QJsonObject{{QStringLiteral("id"), id},
                            {QStringLiteral("name"), id},
                            {QStringLiteral("prompt"), QStringLiteral("p")},
                            {QStringLiteral("model"),
                             QJsonObject{{QStringLiteral("endpoint"), endpoint},
                                         {QStringLiteral("name"), QStringLiteral("m")}}},
                            {QStringLiteral("sandbox"),
                             QJsonObject{{QStringLiteral("tier"), QStringLiteral("none")},
                                         {QStringLiteral("min_tier"), QStringLiteral("none")}}}})
                .toJson());
        if (runCli(api.dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), file})
                .exitCode != 0)
            fail("agent add failed");
    }
    const QByteArray key = api.createKey(QStringLiteral("bench"), {QStringLiteral("admin")});
    if (key.isEmpty() || !api.startServe())
        fail("serve --api did not start");
    // A store with some history, and the run the benchmark reads.
    QString runId;
    for (int i = 0; i < 200; ++i)
        runId = api.call("POST", "/v1/runs", key,
                         QJsonObject{{QStringLiteral("agent"), QStringLiteral("nomodel")}})
                    .json()
                    .object()
                    .value(QStringLiteral("id"))
                    .toString();
    if (runId.isEmpty())
        fail("could not create a run");
    api.waitForRun(key, runId);

    std::printf("HTTP API (loopback, wrk -t1 -c%d, %d s x %d rounds, medians)\n", connections,
                seconds, rounds);
    const QString base = QStringLiteral("http://127.0.0.1:%1").arg(api.port());
    QList<double> hRps, hP99, rRps, rP99, rP50;
    qint64 errors = 0;
    wrk(base + QStringLiteral("/v1/health"), {}, 1, connections); // warm-up
    for (int i = 0; i < rounds; ++i) {
        const WrkResult h = wrk(base + QStringLiteral("/v1/health"), {}, seconds, connections);
        const WrkResult r =
            wrk(base + QStringLiteral("/v1/runs/") + runId, key, seconds, connections);
        hRps << h.rps;
        hP99 << h.p99Ms;
        rRps << r.rps;
        rP99 << r.p99Ms;
        rP50 << r.p50Ms;
        errors += h.non2xx + r.non2xx;
    }
    std::printf("  GET /v1/health (baseline)     %8.0f req/s   p99 %6.2f ms\n", median(hRps),
                median(hP99));
    std::printf("  GET /v1/runs/{id} (key+store) %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   "
                "(target >= 5000 req/s)%s\n",
                median(rRps), median(rP50), median(rP99),
                median(rRps) >= 5000 ? "" : "   BELOW TARGET");
    std::printf("  non-2xx answers: %lld\n", static_cast<long long>(errors));

    // SSE: 200 clients on one live run.
    std::printf("SSE: %d clients following one live run (%d rounds, medians)\n", sseClients,
                qMin(rounds, 3));
    QList<double> perClient, complete, lag;
    for (int round = 0; round < qMin(rounds, 3); ++round) {
        QTest::qWait(500);
        const qint64 before = rssKb(api.servePid());
        const QString run =
            api.call("POST", "/v1/runs", key,
                     QJsonObject{{QStringLiteral("agent"), QStringLiteral("chatty")}})
                .json()
                .object()
                .value(QStringLiteral("id"))
                .toString();
        std::vector<std::unique_ptr<SseClient>> clients;
        for (int i = 0; i < sseClients; ++i)
            clients.push_back(std::make_unique<SseClient>(
                api.port(), "/v1/runs/" + run.toLatin1() + "/events",
                QList<QPair<QByteArray, QByteArray>>{{"Authorization", "Bearer " + key}}));
        qint64 peak = before;
        QElapsedTimer t;
        t.start();
        qint64 firstEnd = -1;
        qint64 lastEnd = -1;
        while (t.elapsed() < 120000) {
            QTest::qWait(20);
            peak = qMax(peak, rssKb(api.servePid()));
            const auto ended = std::count_if(clients.begin(), clients.end(),
                                             [](const auto& c) { return c->ended(); });
            if (ended > 0 && firstEnd < 0)
                firstEnd = t.elapsed();
            if (ended == qsizetype(clients.size())) {
                lastEnd = t.elapsed();
                break;
            }
        }
        const QJsonArray stored =
            api.call("GET", "/v1/runs/" + run.toLatin1() + "/events?limit=1000", key,
                     QJsonValue::Undefined, {{"Accept", "application/json"}})
                .json()
                .object()
                .value(QStringLiteral("events"))
                .toArray();
        int full = 0;
        for (const auto& c : clients) {
            bool ok = c->events().size() == stored.size();
            for (qsizetype i = 0; ok && i < c->events().size(); ++i)
                ok = c->events().at(i).id.toLongLong() == i + 1;
            full += ok;
        }
        perClient << double(peak - before) / sseClients;
        complete << full;
        lag << double(lastEnd - firstEnd);
        std::printf(
            "  round %d: %lld events, %d/%d clients got every event once, RSS %lld -> %lld kB\n",
            round + 1, static_cast<long long>(stored.size()), full, sseClients,
            static_cast<long long>(before), static_cast<long long>(peak));
    }
    std::printf("  clients with every event exactly once: %.0f/%d\n", median(complete), sseClients);
    std::printf("  server memory per open stream: %.1f kB (peak RSS over the idle baseline / %d)\n",
                median(perClient), sseClients);
    std::printf("  first to last client end: %.0f ms (20 ms resolution)\n", median(lag));
    api.stopServe();
    return 0;
}
