// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Webhook delivery latency (docs/webhooks.md): from a run's run.finished (the supervisor's
// signal) to the whole signed POST at a receiver on 127.0.0.1: fan-out to the outbox (store
// reads, payload, insert), dispatch (attempt row, secrets read from the encrypted vault,
// HMAC), a worker thread and libcurl. Against a direct libcurl POST of the same body to the
// same receiver, interleaved. Then the drain rate of a backlog of 500 deliveries.
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/server/WebhookService.h"

#include <curl/curl.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace vivarium;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int Warmup = 5;
constexpr int Rounds = 50;
constexpr int Backlog = 500;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[size_t(p * double(v.size() - 1))];
}

/**
 * A minimal HTTP/1.1 receiver on its own thread: reads each request to the end of its body,
 * notes when it was complete, answers 200 and closes. Independent of the Qt event loop the
 * service runs on, so the figure is the service's, not the receiver's.
 */
class Receiver
{
public:
    bool start()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(m_fd, 128) != 0 ||
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            return false;
        m_port = ntohs(a.sin_port);
        m_thread = std::thread([this] { loop(); });
        return true;
    }
    void stop()
    {
        m_stop = true;
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        if (m_thread.joinable())
            m_thread.join();
    }
    int port() const { return m_port; }
    long count() const { return m_count.load(); }
    Clock::time_point last() const { return Clock::time_point(Clock::duration(m_last.load())); }

private:
    void loop()
    {
        while (!m_stop) {
            const int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            QByteArray in;
            char buf[8192];
            qsizetype need = -1;
            while (true) {
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0)
                    break;
                in.append(buf, n);
                const qsizetype end = in.indexOf("\r\n\r\n");
                if (end >= 0 && need < 0) {
                    const QByteArray head = in.left(end).toLower();
                    const qsizetype at = head.indexOf("content-length:");
                    const qsizetype eol = head.indexOf("\r\n", at);
                    need = end + 4 + head.mid(at + 15, eol - at - 15).trimmed().toLongLong();
                }
                if (need >= 0 && in.size() >= need)
                    break;
            }
            m_last.store(Clock::now().time_since_epoch().count());
            m_count.fetch_add(1);
            static const char ok[] =
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)!::write(c, ok, sizeof ok - 1);
            ::close(c);
        }
    }

    int m_fd = -1;
    int m_port = 0;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<long> m_count{0};
    std::atomic<Clock::rep> m_last{0};
};

size_t discard(char*, size_t size, size_t count, void*)
{
    return size * count;
}

/** The baseline: the POST alone, one fresh handle as the service uses. */
void directPost(const QByteArray& url, const QByteArray& body)
{
    CURL* e = curl_easy_init();
    curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url.constData());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.constData());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "127.0.0.1");
    const CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        std::fprintf(stderr, "direct POST failed: %s\n", curl_easy_strerror(rc));
        std::exit(1);
    }
}

/** Turn the event loop until `done` or 10 s. */
bool spin(const std::function<bool()>& done)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > 10'000)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 1);
    }
    return true;
}

double ms(Clock::duration d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    QTemporaryDir tmp;
    auto store = Store::open(tmp.filePath(QStringLiteral("vivarium.db")));
    auto vault = FileVault::open(tmp.filePath(QStringLiteral("vault.bin")),
                                 tmp.filePath(QStringLiteral("vault.key")), true);
    if (!store || !vault) {
        std::fprintf(stderr, "setup failed\n");
        return 1;
    }
    AgentDefinition def;
    def.id = QStringLiteral("bench");
    def.name = QStringLiteral("Bench");
    def.prompt = QStringLiteral("x");
    def.model.endpoint = QStringLiteral("local");
    def.model.name = QStringLiteral("m");
    (void)(*store)->saveAgent(def);

    Receiver receiver;
    if (!receiver.start()) {
        std::fprintf(stderr, "cannot listen on 127.0.0.1\n");
        return 1;
    }
    const QString url = QStringLiteral("http://127.0.0.1:%1/hook").arg(receiver.port());

    WebhookServiceOptions options;
    options.readSettings = false;
    WebhookService service(store->get(), vault->get(), options);
    if (!service.start() || !service.create(url, QStringList{QStringLiteral("run.finished")})) {
        std::fprintf(stderr, "webhook setup failed\n");
        return 1;
    }

    auto finishedRun = [&]() {
        NewRun n;
        n.agentId = QStringLiteral("bench");
        n.trigger = QStringLiteral("bench");
        n.input = QJsonObject{{QStringLiteral("n"), 1}};
        auto run = (*store)->createRun(n);
        (void)(*store)->setRunStatus(run->id, RunStatus::Running);
        (void)(*store)->setRunStatus(run->id, RunStatus::Succeeded, {},
                                     QJsonObject{{QStringLiteral("answer"), QStringLiteral("ok")}});
        return run->id;
    };
    const QByteArray sampleBody =
        R"({"type":"run.finished","timestamp":"2026-01-01T00:00:00.000Z","data":{"run_id":"run_x","status":"succeeded","output":{"answer":"ok"}}})";

    std::vector<double> viaService, direct, stored;
    int failed = 0;
    for (int i = 0; i < Warmup + Rounds; ++i) {
        const QString runId = finishedRun();
        const long before = receiver.count();
        QString deliveredStatus;
        const auto conn =
            QObject::connect(&service, &WebhookService::deliveryFinished, &app,
                             [&](const QString&, const QString& s) { deliveredStatus = s; });
        const Clock::time_point t0 = Clock::now();
        service.onRunFinished(runId, RunStatus::Succeeded, QString());
        const bool arrived = spin([&] { return receiver.count() > before; });
        const Clock::time_point at = receiver.last();
        const bool recorded = spin([&] { return !deliveredStatus.isEmpty(); });
        const Clock::time_point t1 = Clock::now();
        QObject::disconnect(conn);
        if (!arrived || !recorded || deliveredStatus != QLatin1String("succeeded"))
            ++failed;

        const long before2 = receiver.count();
        const Clock::time_point d0 = Clock::now();
        directPost(url.toUtf8(), sampleBody);
        spin([&] { return receiver.count() > before2; });
        const Clock::time_point d1 = receiver.last();
        if (i >= Warmup) {
            viaService.push_back(ms(at - t0));
            stored.push_back(ms(t1 - t0));
            direct.push_back(ms(d1 - d0));
        }
    }

    // A backlog: 500 deliveries queued at once, drained by the default 4 workers.
    const long beforeBacklog = receiver.count();
    std::vector<QString> runs;
    for (int i = 0; i < Backlog; ++i)
        runs.push_back(finishedRun());
    const Clock::time_point b0 = Clock::now();
    for (const QString& id : runs)
        service.onRunFinished(id, RunStatus::Succeeded, QString());
    const bool drained = spin([&] { return receiver.count() >= beforeBacklog + Backlog; });
    const double drainMs = ms(Clock::now() - b0);

    std::printf(
        "webhooks: run.finished -> signed POST received on 127.0.0.1 (%d rounds, file vault)\n",
        Rounds);
    std::printf("  via WebhookService      median %7.2f ms   p90 %7.2f ms\n", median(viaService),
                percentile(viaService, 0.9));
    std::printf("  direct libcurl POST     median %7.2f ms   p90 %7.2f ms   (baseline)\n",
                median(direct), percentile(direct, 0.9));
    std::printf("  added by the service    median %7.2f ms\n", median(viaService) - median(direct));
    std::printf("  until recorded succeeded median %6.2f ms\n", median(stored));
    std::printf("  backlog of %d           %s in %.0f ms = %.0f deliveries/s (4 workers)\n",
                Backlog, drained ? "drained" : "NOT drained", drainMs,
                Backlog / (drainMs / 1000.0));
    if (failed)
        std::printf("  %d round(s) failed\n", failed);
    service.stop();
    receiver.stop();
    return failed || !drained ? 1 : 0;
}
