// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Broker overhead per provider call (docs/broker.md): a GET through the broker (policy, the
// credential lookup, a worker thread, resolve + address check, pinned libcurl, redaction, the
// answer as JSON, the audit row) against a direct libcurl GET of the same loopback upstream,
// interleaved so both see the same machine. Median added milliseconds; target under 1 ms.
#include "FakeUpstream.h"

#include "broker/ProviderBroker.h"

#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/sandbox/LlmClient.h"

#include <curl/curl.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace vivarium;
using testsupport::FakeUpstream;

namespace {

constexpr int Warmup = 20;
constexpr int Rounds = 300;
const QByteArray Token = "bench-token-0123456789abcdef";

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

size_t discard(char*, size_t size, size_t count, void*)
{
    return size * count;
}

/** The baseline: what a caller without a broker would do, one fresh handle per request. */
double directGet(const QByteArray& url)
{
    QElapsedTimer t;
    t.start();
    CURL* e = curl_easy_init();
    curl_slist* headers =
        curl_slist_append(nullptr, QByteArray("Authorization: Bearer " + Token).constData());
    curl_easy_setopt(e, CURLOPT_URL, url.constData());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    const CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(headers);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        std::fprintf(stderr, "direct request failed: %s\n", curl_easy_strerror(rc));
        std::exit(1);
    }
    return double(t.nsecsElapsed()) / 1e6;
}

double brokerGet(ProviderBroker& broker, const QString& url, int id)
{
    QEventLoop loop;
    bool ok = false;
    bool done = false;
    const auto c = QObject::connect(&broker, &ProviderBroker::callFinished, &loop,
                                    [&](const QJsonObject& answer, const QJsonObject&) {
                                        ok = answer.value(QStringLiteral("ok")).toBool();
                                        done = true;
                                        loop.quit();
                                    });
    QElapsedTimer t;
    t.start();
    broker.submit(
        id, {{QStringLiteral("type"), QStringLiteral("provider")},
             {QStringLiteral("call"), QJsonObject{{QStringLiteral("method"), QStringLiteral("GET")},
                                                  {QStringLiteral("url"), url}}}});
    if (!done)
        loop.exec();
    const double ms = double(t.nsecsElapsed()) / 1e6;
    QObject::disconnect(c);
    if (!ok) {
        std::fprintf(stderr, "broker call failed\n");
        std::exit(1);
    }
    return ms;
}

struct Figures
{
    double direct = 0;
    double broker = 0;
    double addedMedian = 0;
    double addedP90 = 0;
};

Figures measure(ProviderBroker& broker, const QByteArray& directUrl, const QString& brokerUrl)
{
    std::vector<double> direct;
    std::vector<double> viaBroker;
    std::vector<double> added;
    int id = 1;
    for (int i = 0; i < Warmup + Rounds; ++i) {
        const double d = directGet(directUrl);
        const double b = brokerGet(broker, brokerUrl, id++);
        if (i < Warmup)
            continue;
        direct.push_back(d);
        viaBroker.push_back(b);
        added.push_back(b - d);
    }
    return {median(direct), median(viaBroker), median(added), percentile(added, 0.9)};
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    curl_global_init(CURL_GLOBAL_DEFAULT);

    FakeUpstream upstream;
    if (!upstream.start()) {
        std::fprintf(stderr, "could not start the upstream\n");
        return 1;
    }
    upstream.setHandler([](const FakeUpstream::Request&) {
        FakeUpstream::Response r;
        r.headers = {{"Content-Type", "application/json"}};
        r.body = R"({"items":[{"id":1,"name":"one"},{"id":2,"name":"two"}]})";
        return r;
    });
    const QString endpoint = QStringLiteral("api.example.test:%1").arg(upstream.port());

    QTemporaryDir dir;
    auto store = Store::open(Paths(dir.path()).storeFile());
    if (!store) {
        std::fprintf(stderr, "%s\n", qPrintable(store.error().toString()));
        return 1;
    }
    MemorySecretStore secrets;
    secrets.write(VaultCredentialSource::tokenKey(QStringLiteral("acme"), {}), Token);
    secrets.write(VaultCredentialSource::metaKey(QStringLiteral("acme"), {}),
                  R"({"bound_host":"api.example.test"})");

    auto dns = std::make_shared<StaticResolver>();
    dns->add(QStringLiteral("api.example.test"), QHostAddress(QHostAddress::LocalHost));
    ProviderGrant grant;
    grant.provider = QStringLiteral("acme");
    grant.authorizedUris = {QStringLiteral("GET http://%1/v1/**").arg(endpoint),
                            QStringLiteral("!http://%1/v1/admin/**").arg(endpoint)};

    auto makeBroker = [&](bool audit) {
        ProviderBroker::Setup setup;
        setup.runId = QStringLiteral("run_bench");
        setup.agentId = QStringLiteral("bench");
        setup.grants = {grant};
        setup.options.resolver = dns;
        setup.options.localEndpoints = {endpoint};
        setup.options.credentials = std::make_shared<VaultCredentialSource>(&secrets);
        setup.secrets = &secrets;
        SecretRedactor model;
        model.addSecret("sk-bench-model-key-000");
        setup.modelRedactor = model;
        if (audit) {
            setup.audit = [&store](const QJsonObject& details) {
                AuditRecord r;
                r.actor = QStringLiteral("engine");
                r.action = QStringLiteral("provider.call");
                r.runId = QStringLiteral("run_bench");
                r.details = details;
                (*store)->appendAudit(r);
            };
        }
        // As the session does: the answer is encoded as a protocol line.
        setup.send = [](const QJsonObject& message) { (void)protocol::encode(message); };
        return std::make_unique<ProviderBroker>(std::move(setup));
    };

    const QByteArray directUrl =
        QStringLiteral("http://127.0.0.1:%1/v1/items?page=1").arg(upstream.port()).toUtf8();
    const QString brokerUrl = QStringLiteral("http://%1/v1/items?page=1").arg(endpoint);

    std::printf("broker: provider call overhead, %d interleaved GETs to a loopback upstream\n",
                Rounds);
    auto withAudit = makeBroker(true);
    const Figures a = measure(*withAudit, directUrl, brokerUrl);
    std::printf("  direct libcurl GET                 median %7.3f ms\n", a.direct);
    std::printf("  through the broker (audit row)     median %7.3f ms\n", a.broker);
    std::printf("  added by the broker                median %7.3f ms  p90 %7.3f ms  "
                "(target < 1 ms: %s)\n",
                a.addedMedian, a.addedP90, a.addedMedian < 1.0 ? "met" : "NOT MET");
    auto noAudit = makeBroker(false);
    const Figures b = measure(*noAudit, directUrl, brokerUrl);
    std::printf("  added without the audit write      median %7.3f ms  p90 %7.3f ms\n",
                b.addedMedian, b.addedP90);
    return 0;
}
