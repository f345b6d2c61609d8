// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The broker's provider calls against real HTTP upstreams on 127.0.0.1 (docs/broker.md), with
// a test-only resolver: the real DNS and network are never used. Each case asserts what the
// upstream saw (often: nothing at all), what the runner got back, and the audit row; canary
// secrets are grepped in every answer, audit row and store file. The last case runs the real
// runner end to end, its model asking for the calls.
#include "broker/ProviderBroker.h"

#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/LlmClient.h"
#include "vivarium/sandbox/ProviderCalls.h"
#include "vivarium/sandbox/RunSupervisor.h"

#include "FakeModelServer.h"
#include "FakeUpstream.h"
#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace vivarium;
using testsupport::FakeUpstream;

namespace {

/** The connection's token: the upstream may see it, nothing else may. */
const QByteArray Canary = "vvm-canary-7f3a9c2e51b84d06";
/** Another connection of the same run: only redacted. */
const QByteArray OtherCanary = "vvm-other-canary-0d9e8f7a6b5c";
/** The run's model key. */
const QByteArray ModelKey = "sk-model-canary-31415926535";

const QString ApiHost = QStringLiteral("api.example.test");

/** Every form of every canary the tests look for. */
QList<QByteArray> canaryForms()
{
    QList<QByteArray> forms;
    for (const QByteArray& s : {Canary, OtherCanary, ModelKey}) {
        forms << s << s.toBase64() << s.toBase64(QByteArray::Base64UrlEncoding)
              << s.toPercentEncoding();
    }
    return forms;
}

QString leaked(const QByteArray& bytes)
{
    for (const QByteArray& f : canaryForms()) {
        if (bytes.contains(f))
            return QString::fromLatin1(f);
    }
    return {};
}

QByteArray json(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

FakeUpstream::Response respond(int status, const QByteArray& body,
                               const QList<QPair<QByteArray, QByteArray>>& headers = {})
{
    FakeUpstream::Response r;
    r.status = status;
    r.body = body;
    r.headers = headers;
    return r;
}

/** One broker as a run would have it, over a real store, with two upstreams. */
class Harness
{
    QTemporaryDir m_dir; ///< first: it outlives the store in it

public:
    Harness()
    {
        auto s = Store::open(Paths(m_dir.path()).storeFile());
        if (s)
            store = std::move(*s);
        upstream.start();
        other.start();
        dns = std::make_shared<StaticResolver>();
        dns->add(ApiHost, QHostAddress(QHostAddress::LocalHost));
        dns->add(QStringLiteral("other.example.test"), QHostAddress(QHostAddress::LocalHost));
        secrets.write(VaultCredentialSource::tokenKey(QStringLiteral("acme"), {}), Canary);
        secrets.write(VaultCredentialSource::metaKey(QStringLiteral("acme"), {}),
                      R"({"bound_host":"api.example.test"})");
        secrets.write(VaultCredentialSource::tokenKey(QStringLiteral("acme"), QStringLiteral("b")),
                      OtherCanary);
        options.localEndpoints = {endpoint(upstream), otherEndpoint()};
        options.totalTimeoutMs = 10'000;
        // These cases bind credentials through vault metadata, without connection records.
        options.credentials = std::make_shared<VaultCredentialSource>(&secrets);
    }

    bool ok() const { return store && upstream.port() != 0 && other.port() != 0; }
    QString dataDir() const { return m_dir.path(); }

    QString endpoint(const FakeUpstream& u) const
    {
        return ApiHost + QLatin1Char(':') + QString::number(u.port());
    }
    QString otherEndpoint() const
    {
        return QStringLiteral("other.example.test:%1").arg(other.port());
    }
    QString apiUrl(const QString& path) const
    {
        return QStringLiteral("http://%1%2").arg(endpoint(upstream), path);
    }

    /** The default grant: everything on the API upstream. */
    QList<ProviderGrant> defaultGrants() const
    {
        ProviderGrant acme;
        acme.provider = QStringLiteral("acme");
        acme.authorizedUris = {QStringLiteral("http://%1/**").arg(endpoint(upstream))};
        ProviderGrant second;
        second.provider = QStringLiteral("acme");
        second.connection = QStringLiteral("b");
        second.authorizedUris = {QStringLiteral("http://never.example.test/**")};
        return {acme, second};
    }

    void open(QList<ProviderGrant> grants = {})
    {
        if (grants.isEmpty())
            grants = defaultGrants();
        ProviderBroker::Setup setup;
        setup.runId = QStringLiteral("run_test");
        setup.agentId = QStringLiteral("agent");
        setup.grants = grants;
        options.resolver = dns;
        setup.options = options;
        setup.secrets = &secrets;
        SecretRedactor model;
        model.addSecret(ModelKey);
        setup.modelRedactor = model;
        setup.cancel = cancel;
        setup.audit = [this](const QJsonObject& details) {
            AuditRecord r;
            r.actor = QStringLiteral("engine");
            r.action = QStringLiteral("provider.call");
            r.runId = QStringLiteral("run_test");
            r.agentId = QStringLiteral("agent");
            r.details = details;
            store->appendAudit(r);
        };
        setup.send = [this](const QJsonObject& message) { sent.append(message); };
        broker = std::make_unique<ProviderBroker>(std::move(setup));
    }

    /** Submit one call and wait for its answer. */
    QJsonObject call(const QJsonObject& call, int timeoutMs = 15000)
    {
        if (!broker)
            open();
        QSignalSpy spy(broker.get(), &ProviderBroker::callFinished);
        const int id = nextId++;
        broker->submit(id, {{QStringLiteral("type"), QStringLiteral("provider")},
                            {QStringLiteral("id"), id},
                            {QStringLiteral("call"), call}});
        if (spy.isEmpty())
            spy.wait(timeoutMs);
        if (spy.isEmpty())
            return {};
        ++calls;
        const QJsonObject answer = spy.first().at(0).toJsonObject();
        lastAudit = spy.first().at(1).toJsonObject();
        return answer;
    }

    QJsonObject get(const QString& url, const QJsonObject& headers = {})
    {
        QJsonObject c{{QStringLiteral("method"), QStringLiteral("GET")},
                      {QStringLiteral("url"), url}};
        if (!headers.isEmpty())
            c.insert(QStringLiteral("headers"), headers);
        return call(c);
    }

    QList<AuditRecord> auditRows() const
    {
        auto rows = store->auditRecords(QStringLiteral("run_test"));
        return rows ? *rows : QList<AuditRecord>{};
    }

    /** Every byte the data directory holds (store, WAL). */
    QByteArray allFiles() const
    {
        QByteArray all;
        QDirIterator it(m_dir.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            if (f.open(QIODevice::ReadOnly))
                all += f.readAll();
        }
        return all;
    }

    std::unique_ptr<Store> store;
    MemorySecretStore secrets;
    std::shared_ptr<StaticResolver> dns;
    ProviderCallOptions options;
    std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
    FakeUpstream upstream;
    FakeUpstream other;
    std::unique_ptr<ProviderBroker> broker;
    QList<QJsonObject> sent;
    QJsonObject lastAudit;
    int nextId = 1;
    int calls = 0;
};

QString errorRule(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("error"))
        .toObject()
        .value(QStringLiteral("rule"))
        .toString();
}

QString errorKind(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("error"))
        .toObject()
        .value(QStringLiteral("kind"))
        .toString();
}

QJsonObject response(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("response")).toObject();
}

/**
 * A data directory, store, vault, fake model and echoing upstream, and a supervisor running
 * the real vivarium-runner: an agent "caller" with one grant (acme) on everything under the
 * upstream's /v1.
 */
class EndToEnd
{
    QTemporaryDir m_dir; ///< first: it outlives everything in it

public:
    bool setUp()
    {
        auto opened = Store::open(Paths(m_dir.path()).storeFile());
        if (!opened || !upstream.start() || !model.start())
            return false;
        store = std::move(*opened);
        upstream.setHandler([](const FakeUpstream::Request& r) {
            // An echoing API: the credential comes back in three forms.
            const QByteArray token = r.header("authorization").mid(7);
            const QByteArray body = "{\"seen\":\"" + token + "\",\"b64\":\"" + token.toBase64() +
                                    "\",\"pct\":\"" + token.toPercentEncoding() + "\"}";
            return respond(200, body, {{"Content-Type", "application/json"}});
        });
        dns = std::make_shared<StaticResolver>();
        dns->add(ApiHost, QHostAddress(QHostAddress::LocalHost));

        ModelEndpointRecord endpoint;
        endpoint.name = QStringLiteral("fake");
        endpoint.api = QStringLiteral("openai");
        endpoint.baseUrl = model.openAiBaseUrl().toString();
        endpoint.secretKey = QStringLiteral("model-endpoint/fake/api-key");
        return store->saveModelEndpoint(endpoint).has_value() &&
               secrets.write(endpoint.secretKey, ModelKey).has_value() &&
               secrets.write(VaultCredentialSource::tokenKey(QStringLiteral("acme"), {}), Canary)
                   .has_value() &&
               secrets
                   .write(VaultCredentialSource::metaKey(QStringLiteral("acme"), {}),
                          R"({"bound_host":"api.example.test"})")
                   .has_value();
    }

    QString api() const
    {
        return QStringLiteral("http://api.example.test:%1").arg(upstream.port());
    }

    static QJsonObject call(const QString& id, const QString& method, const QString& url)
    {
        return {{QStringLiteral("id"), id},
                {QStringLiteral("name"), QStringLiteral("http_request")},
                {QStringLiteral("arguments"),
                 QJsonObject{{QStringLiteral("method"), method}, {QStringLiteral("url"), url}}}};
    }
    static QJsonObject turn(const QJsonArray& calls)
    {
        return {{QStringLiteral("tool_calls"), calls}};
    }

    /** Run the agent with this model script to its end. */
    RunRecord run(const QJsonArray& script)
    {
        model.setScript(script);
        AgentDefinition def;
        def.id = QStringLiteral("caller");
        def.name = QStringLiteral("Caller");
        def.prompt = QStringLiteral("Call the API.");
        def.model.endpoint = QStringLiteral("fake");
        def.model.name = QStringLiteral("test-model");
        def.tools.memory = false;
        def.limits.timeoutS = 60;
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        g.authorizedUris = QStringList{QStringLiteral("GET ") + api() + QStringLiteral("/v1/**"),
                                       QStringLiteral("GET http://169.254.169.254/**")} +
                           extraUris;
        def.providers = {g};
        if (!store->saveAgent(def))
            return {};
        SupervisorOptions o;
        o.runnerPath = testsupport::bin(QStringLiteral("vivarium-runner"));
        o.providerCalls.resolver = dns;
        o.providerCalls.credentials = std::make_shared<VaultCredentialSource>(&secrets);
        o.providerCalls.localEndpoints = {
            QStringLiteral("api.example.test:%1").arg(upstream.port())};
        sup = std::make_unique<RunSupervisor>(store.get(), &secrets, Paths(m_dir.path()), o);
        QHash<QString, RunStatus> finished;
        QObject::connect(sup.get(), &RunSupervisor::runFinished, sup.get(),
                         [&finished](const QString& id, RunStatus status, const QString&) {
                             finished.insert(id, status);
                         });
        auto queued = sup->enqueue(QStringLiteral("caller"), QJsonObject(), QStringLiteral("test"));
        if (!queued)
            return {};
        QElapsedTimer timer;
        timer.start();
        while (!finished.contains(queued->id) && timer.elapsed() < 30000)
            QTest::qWait(20);
        sup->shutdown(1000);
        // Which sandbox the runner had: the default tier on hosts that have it.
        for (const RunEvent& e : store->events(queued->id).value_or(QList<RunEvent>{})) {
            if (e.type == QLatin1String("run.started"))
                qInfo().noquote() << "runner tier:"
                                  << e.data.value(QStringLiteral("tier"))
                                         .toString(QStringLiteral("(not reported)"));
        }
        auto stored = store->run(queued->id);
        return stored ? *stored : RunRecord{};
    }

    /** The tool results in the model's last request, in order. */
    QStringList toolResults() const
    {
        QStringList out;
        const auto requests = model.requests();
        if (requests.isEmpty())
            return out;
        for (const QJsonValue& m :
             requests.last().json.value(QStringLiteral("messages")).toArray()) {
            if (m.toObject().value(QStringLiteral("role")).toString() == QLatin1String("tool"))
                out.append(m.toObject().value(QStringLiteral("content")).toString());
        }
        return out;
    }

    QList<bool> toolErrors(const QString& runId) const
    {
        QList<bool> out;
        for (const RunEvent& e : store->events(runId).value_or(QList<RunEvent>{})) {
            if (e.type == QLatin1String("tool.result"))
                out.append(e.data.value(QStringLiteral("is_error")).toBool());
        }
        return out;
    }

    /** decision:rule of each provider.call audit row. */
    QStringList decisions(const QString& runId) const
    {
        QStringList out;
        for (const AuditRecord& r : store->auditRecords(runId).value_or(QList<AuditRecord>{})) {
            if (r.action == QLatin1String("provider.call"))
                out.append(r.details.value(QStringLiteral("decision")).toString() +
                           QLatin1Char(':') + r.details.value(QStringLiteral("rule")).toString());
        }
        return out;
    }

    /** No canary in what the model saw nor anywhere in the data directory. */
    void checkNoLeak() const
    {
        for (const auto& r : model.requests()) {
            const QString leak = leaked(r.body);
            QVERIFY2(leak.isEmpty(), qPrintable(QStringLiteral("the model saw ") + leak));
        }
        QByteArray all;
        QDirIterator it(m_dir.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            if (f.open(QIODevice::ReadOnly))
                all += f.readAll();
        }
        const QString leak = leaked(all);
        QVERIFY2(leak.isEmpty(), qPrintable(QStringLiteral("the data directory holds ") + leak));
    }

    std::unique_ptr<Store> store;
    MemorySecretStore secrets;
    FakeUpstream upstream;
    testsupport::FakeModelServer model;
    std::shared_ptr<StaticResolver> dns;
    QStringList extraUris;
    std::unique_ptr<RunSupervisor> sup;
};

} // namespace

class TestProviderCalls : public QObject
{
    Q_OBJECT

    /**
     * After every case: one audit row per call, each with a decision and a rule, none holding
     * a secret in any form; nothing in the store's files either; and every answer the runner
     * got is free of secrets.
     */
    void checkAudit(Harness& h)
    {
        const QList<AuditRecord> rows = h.auditRows();
        QCOMPARE(rows.size(), h.calls);
        for (const AuditRecord& r : rows) {
            QCOMPARE(r.action, QStringLiteral("provider.call"));
            const QString decision = r.details.value(QStringLiteral("decision")).toString();
            QVERIFY2(decision == QLatin1String("allow") || decision == QLatin1String("deny"),
                     json(r.details).constData());
            QVERIFY(!r.details.value(QStringLiteral("rule")).toString().isEmpty());
            QVERIFY(r.details.contains(QStringLiteral("duration_ms")));
            QVERIFY(r.details.contains(QStringLiteral("bytes")));
            QVERIFY(!r.details.value(QStringLiteral("url")).toString().contains(QLatin1Char('?')));
            const QString leak = leaked(json(r.details));
            QVERIFY2(leak.isEmpty(), qPrintable(leak));
        }
        for (const QJsonObject& answer : std::as_const(h.sent)) {
            const QString leak = leaked(json(answer));
            QVERIFY2(leak.isEmpty(),
                     qPrintable(leak + QStringLiteral(" in ") + QString::fromUtf8(json(answer))));
        }
        h.store->verifyAudit();
        const QString leak = leaked(h.allFiles());
        QVERIFY2(leak.isEmpty(), qPrintable(QStringLiteral("store files hold ") + leak));
    }

private slots:
    void allowedGetInjectsTheCredential()
    {
        Harness h;
        QVERIFY(h.ok());
        h.upstream.setHandler([](const FakeUpstream::Request&) {
            return respond(200, R"({"items":[1,2]})", {{"Content-Type", "application/json"}});
        });
        const QJsonObject a =
            h.get(h.apiUrl(QStringLiteral("/v1/items?page=2")),
                  {{QStringLiteral("Accept"), QStringLiteral("application/json")}});
        QVERIFY2(a.value(QStringLiteral("ok")).toBool(), json(a).constData());
        const QJsonObject r = response(a);
        QCOMPARE(r.value(QStringLiteral("status")).toInt(), 200);
        QCOMPARE(r.value(QStringLiteral("body")).toString(), QStringLiteral(R"({"items":[1,2]})"));
        QCOMPARE(r.value(QStringLiteral("credential")).toString(), QStringLiteral("injected"));
        QCOMPARE(
            r.value(QStringLiteral("headers")).toObject().value(QStringLiteral("content-type")),
            QStringLiteral("application/json"));
        QCOMPARE(h.upstream.requestCount(), 1);
        const FakeUpstream::Request seen = h.upstream.requests().first();
        QCOMPARE(seen.method, QByteArray("GET"));
        QCOMPARE(seen.target, QByteArray("/v1/items?page=2"));
        QCOMPARE(seen.header("authorization"), QByteArray("Bearer " + Canary));
        QCOMPARE(seen.header("accept"), QByteArray("application/json"));
        QCOMPARE(seen.header("host"),
                 QByteArray("api.example.test:") + QByteArray::number(h.upstream.port()));
        QVERIFY(seen.header("user-agent").startsWith("vivarium/"));

        QCOMPARE(h.lastAudit.value(QStringLiteral("decision")).toString(), QStringLiteral("allow"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("status")).toInt(), 200);
        QCOMPARE(h.lastAudit.value(QStringLiteral("credential")).toString(),
                 QStringLiteral("injected"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("address")).toString(),
                 QStringLiteral("127.0.0.1"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("url")).toString(),
                 h.apiUrl(QStringLiteral("/v1/items")));
        QVERIFY(h.lastAudit.value(QStringLiteral("has_query")).toBool());
        checkAudit(h);
    }

    void postWithBody()
    {
        Harness h;
        QVERIFY(h.ok());
        const QJsonObject a = h.call(
            {{QStringLiteral("method"), QStringLiteral("POST")},
             {QStringLiteral("url"), h.apiUrl(QStringLiteral("/v1/x"))},
             {QStringLiteral("headers"),
              QJsonObject{{QStringLiteral("Content-Type"), QStringLiteral("application/json")}}},
             {QStringLiteral("body"), QStringLiteral(R"({"a":"é"})")}});
        QVERIFY2(a.value(QStringLiteral("ok")).toBool(), json(a).constData());
        const FakeUpstream::Request seen = h.upstream.requests().value(0);
        QCOMPARE(seen.method, QByteArray("POST"));
        QCOMPARE(seen.body, QStringLiteral(R"({"a":"é"})").toUtf8());
        QCOMPARE(seen.header("content-type"), QByteArray("application/json"));
        QVERIFY(!seen.hasHeader("expect"));
        checkAudit(h);
    }

    void hostNotAllowed()
    {
        Harness h;
        QVERIFY(h.ok());
        const QJsonObject a =
            h.get(QStringLiteral("http://other.example.test:%1/").arg(h.upstream.port()));
        QVERIFY(!a.value(QStringLiteral("ok")).toBool());
        QCOMPARE(errorKind(a), QStringLiteral("policy"));
        QCOMPARE(errorRule(a), QStringLiteral("uri.no_match"));
        QCOMPARE(h.upstream.connectionCount(), 0);
        QCOMPARE(h.other.connectionCount(), 0);
        QCOMPARE(h.lastAudit.value(QStringLiteral("decision")).toString(), QStringLiteral("deny"));
        checkAudit(h);
    }

    void emptyAllowList()
    {
        Harness h;
        QVERIFY(h.ok());
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        h.open({g});
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/")));
        QCOMPARE(errorRule(a), QStringLiteral("uri.empty"));
        QCOMPARE(h.upstream.connectionCount(), 0);
        checkAudit(h);
    }

    void denyWins()
    {
        Harness h;
        QVERIFY(h.ok());
        ProviderGrant g = h.defaultGrants().first();
        g.authorizedUris.append(QStringLiteral("!http://%1/admin/**").arg(h.endpoint(h.upstream)));
        h.open({g});
        QCOMPARE(errorRule(h.get(h.apiUrl(QStringLiteral("/admin/users")))),
                 QStringLiteral("uri.deny"));
        QCOMPARE(h.upstream.connectionCount(), 0);
        QVERIFY(h.get(h.apiUrl(QStringLiteral("/users"))).value(QStringLiteral("ok")).toBool());
        QCOMPARE(h.upstream.requestCount(), 1);
        checkAudit(h);
    }

    /** An allowed name that resolves somewhere it must not go: refused before connecting. */
    void allowedNameResolvesPrivate_data()
    {
        QTest::addColumn<QStringList>("addresses");
        QTest::addColumn<QString>("rule");
        QTest::newRow("loopback") << QStringList{"127.0.0.1"} << "address.loopback";
        QTest::newRow("loopback 127.1.2.3") << QStringList{"127.1.2.3"} << "address.loopback";
        QTest::newRow("metadata") << QStringList{"169.254.169.254"} << "address.link-local";
        QTest::newRow("10/8") << QStringList{"10.0.0.1"} << "address.private";
        QTest::newRow("172.16/12") << QStringList{"172.16.5.4"} << "address.private";
        QTest::newRow("192.168/16") << QStringList{"192.168.0.1"} << "address.private";
        QTest::newRow("cgnat") << QStringList{"100.64.0.1"} << "address.shared";
        QTest::newRow("unspecified") << QStringList{"0.0.0.0"} << "address.unspecified";
        QTest::newRow("IPv6 loopback") << QStringList{"::1"} << "address.loopback";
        QTest::newRow("mapped loopback") << QStringList{"::ffff:127.0.0.1"} << "address.loopback";
        QTest::newRow("ULA") << QStringList{"fd00::1"} << "address.private";
        QTest::newRow("link-local v6") << QStringList{"fe80::1"} << "address.link-local";
        QTest::newRow("NAT64 of metadata")
            << QStringList{"64:ff9b::a9fe:a9fe"} << "address.link-local";
        QTest::newRow("public and loopback (rebinding)")
            << QStringList{"93.184.216.34", "127.0.0.1"} << "address.loopback";
    }

    void allowedNameResolvesPrivate()
    {
        QFETCH(QStringList, addresses);
        QFETCH(QString, rule);
        Harness h;
        QVERIFY(h.ok());
        for (const QString& a : addresses)
            h.dns->add(QStringLiteral("evil.example.test"), QHostAddress(a));
        ProviderGrant g = h.defaultGrants().first();
        g.authorizedUris.append(
            QStringLiteral("http://evil.example.test:%1/**").arg(h.upstream.port()));
        h.open({g});
        const QJsonObject a =
            h.get(QStringLiteral("http://evil.example.test:%1/x").arg(h.upstream.port()));
        QVERIFY(!a.value(QStringLiteral("ok")).toBool());
        QCOMPARE(errorKind(a), QStringLiteral("policy"));
        QCOMPARE(errorRule(a), rule);
        QCOMPARE(h.upstream.connectionCount(), 0);
        QCOMPARE(h.lastAudit.value(QStringLiteral("sent")).toBool(), false);
        checkAudit(h);
    }

    void localNeverReachesMetadata()
    {
        Harness h;
        QVERIFY(h.ok());
        h.dns->add(QStringLiteral("meta.example.test"),
                   QHostAddress(QStringLiteral("169.254.169.254")));
        h.options.localEndpoints.append(QStringLiteral("meta.example.test:80"));
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        g.authorizedUris = {QStringLiteral("http://meta.example.test/**")};
        h.open({g});
        QCOMPARE(errorRule(h.get(QStringLiteral("http://meta.example.test/latest/meta-data/"))),
                 QStringLiteral("address.link-local"));
        checkAudit(h);
    }

    void unknownName()
    {
        Harness h;
        QVERIFY(h.ok());
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        g.authorizedUris = {QStringLiteral("https://nowhere.example.test/**")};
        h.open({g});
        const QJsonObject a = h.get(QStringLiteral("https://nowhere.example.test/"));
        QCOMPARE(errorKind(a), QStringLiteral("dns"));
        checkAudit(h);
    }

    /** IP literals in odd encodings, even when a pattern names the literal: refused. */
    void ipLiterals_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("rule");
        QTest::newRow("decimal") << "2130706433"
                                 << "address.loopback";
        QTest::newRow("hex") << "0x7f000001"
                             << "address.loopback";
        QTest::newRow("octal") << "0177.0.0.1"
                               << "address.loopback";
        QTest::newRow("short") << "127.1"
                               << "address.loopback";
        QTest::newRow("plain") << "127.0.0.1"
                               << "address.loopback";
        QTest::newRow("trailing dot") << "127.0.0.1."
                                      << "address.loopback";
        QTest::newRow("mapped IPv6") << "[::ffff:127.0.0.1]"
                                     << "address.loopback";
        QTest::newRow("mapped IPv6 hex") << "[::ffff:7f00:1]"
                                         << "address.loopback";
        QTest::newRow("user@host") << "user@127.0.0.1"
                                   << "request.url";
        QTest::newRow("allowed name as user info") << "api.example.test@127.0.0.1"
                                                   << "request.url";
    }

    void ipLiterals()
    {
        QFETCH(QString, host);
        QFETCH(QString, rule);
        Harness h;
        QVERIFY(h.ok());
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        g.authorizedUris = {QStringLiteral("http://127.0.0.1:%1/**").arg(h.upstream.port()),
                            QStringLiteral("http://api.example.test:%1/**").arg(h.upstream.port())};
        h.open({g});
        const QJsonObject a =
            h.get(QStringLiteral("http://%1:%2/").arg(host).arg(h.upstream.port()));
        QVERIFY(!a.value(QStringLiteral("ok")).toBool());
        QCOMPARE(errorRule(a), rule);
        QCOMPARE(h.upstream.connectionCount(), 0);
        checkAudit(h);
    }

    void ipLiteralsNotAuthorized()
    {
        Harness h;
        QVERIFY(h.ok());
        for (const char* host : {"2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "127.1"}) {
            const QJsonObject a = h.get(
                QStringLiteral("http://%1:%2/").arg(QLatin1String(host)).arg(h.upstream.port()));
            QCOMPARE(errorRule(a), QStringLiteral("uri.no_match"));
        }
        QCOMPARE(h.upstream.connectionCount(), 0);
        checkAudit(h);
    }

    /** Request smuggling and credential headers: refused before anything is sent. */
    void smuggling_data()
    {
        QTest::addColumn<QByteArray>("call"); ///< JSON, %URL% replaced by the upstream's /x
        QTest::addColumn<QString>("rule");
        auto row = [](const char* name, const char* call, const char* rule) {
            QTest::newRow(name) << QByteArray(call) << QString::fromLatin1(rule);
        };
        row("CRLF in header value",
            R"({"method":"GET","url":"%URL%","headers":{"X-A":"1\r\nX-Evil: 1"}})",
            "request.smuggling");
        row("LF in header name", R"({"method":"GET","url":"%URL%","headers":{"X\nY":"1"}})",
            "request.smuggling");
        row("NUL in header", R"({"method":"GET","url":"%URL%","headers":{"X":"a\u0000b"}})",
            "request.smuggling");
        row("duplicate Content-Length",
            R"({"method":"POST","url":"%URL%","body":"abc", "headers":[["Content-Length","3"],["Content-Length","30"]]})",
            "request.smuggling");
        row("Transfer-Encoding",
            R"({"method":"POST","url":"%URL%","body":"0\r\n\r\n", "headers":{"Transfer-Encoding":"chunked"}})",
            "request.smuggling");
        row("CRLF in path", R"({"method":"GET","url":"%URL%%0d%0aHost:%20evil"})",
            "request.smuggling");
        row("raw CRLF in URL", R"({"method":"GET","url":"%URL%\r\nX-Evil: 1"})",
            "request.smuggling");
        row("CRLF in query", R"({"method":"GET","url":"%URL%?a=%0D%0AX:1"})", "request.smuggling");
        row("CRLF in method", R"({"method":"GET /admin HTTP/1.1\r\nX:","url":"%URL%"})",
            "request.smuggling");
        row("TRACE", R"({"method":"TRACE","url":"%URL%"})", "request.method");
        row("Host", R"({"method":"GET","url":"%URL%","headers":{"Host":"evil.example"}})",
            "request.header");
        row("Authorization",
            R"({"method":"GET","url":"%URL%","headers":{"Authorization":"Bearer mine"}})",
            "request.credential_header");
        row("Cookie", R"({"method":"GET","url":"%URL%","headers":{"cookie":"s=1"}})",
            "request.credential_header");
        row("Proxy-Authorization",
            R"({"method":"GET","url":"%URL%","headers":{"Proxy-Authorization":"x"}})",
            "request.credential_header");
        row("Connection", R"({"method":"GET","url":"%URL%","headers":{"Connection":"close"}})",
            "request.header");
        row("Accept-Encoding",
            R"({"method":"GET","url":"%URL%","headers":{"Accept-Encoding":"gzip"}})",
            "request.header");
        row("duplicate header",
            R"({"method":"GET","url":"%URL%","headers":[["X-A","1"],["x-a","2"]]})",
            "request.header");
        row("dot segment", R"({"method":"GET","url":"%URL%/%2e%2e/admin"})", "request.url");
        row("encoded slash", R"({"method":"GET","url":"%URL%%2f..%2fadmin"})", "request.url");
        row("fragment", "{\"method\":\"GET\",\"url\":\"%URL%#x\"}", "request.url");
        row("HEAD with body", R"({"method":"HEAD","url":"%URL%","body":"x"})", "request.body");
        row("no url", R"({"method":"GET"})", "request.malformed");
    }

    void smuggling()
    {
        QFETCH(QByteArray, call);
        QFETCH(QString, rule);
        Harness h;
        QVERIFY(h.ok());
        call.replace("%URL%", h.apiUrl(QStringLiteral("/x")).toUtf8());
        QJsonParseError error{};
        const QJsonObject c = QJsonDocument::fromJson(call, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
        const QJsonObject a = h.call(c);
        QVERIFY(!a.value(QStringLiteral("ok")).toBool());
        QCOMPARE(errorRule(a), rule);
        QCOMPARE(h.upstream.connectionCount(), 0);
        checkAudit(h);
    }

    void credentialHeaderOfTheConnection()
    {
        Harness h;
        QVERIFY(h.ok());
        h.secrets.write(VaultCredentialSource::metaKey(QStringLiteral("acme"), {}),
                        R"({"bound_host":"api.example.test","header":"X-Api-Key","prefix":""})");
        h.open();
        const QJsonObject refused = h.get(h.apiUrl(QStringLiteral("/")),
                                          {{QStringLiteral("x-api-key"), QStringLiteral("mine")}});
        QCOMPARE(errorRule(refused), QStringLiteral("request.credential_header"));
        QCOMPARE(h.upstream.connectionCount(), 0);
        QVERIFY(h.get(h.apiUrl(QStringLiteral("/"))).value(QStringLiteral("ok")).toBool());
        QCOMPARE(h.upstream.requests().value(0).header("x-api-key"), Canary);
        QVERIFY(!h.upstream.requests().value(0).hasHeader("authorization"));
        checkAudit(h);
    }

    void credentialNeverInClearText()
    {
        Harness h;
        QVERIFY(h.ok());
        // The bound host over plain http and not explicitly local: refused, nothing sent.
        h.options.localEndpoints.clear();
        h.open();
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/")));
        QCOMPARE(errorRule(a), QStringLiteral("credential.cleartext"));
        QCOMPARE(h.upstream.connectionCount(), 0);
        checkAudit(h);
    }

    void unboundCredentialIsNotSent()
    {
        Harness h;
        QVERIFY(h.ok());
        QVERIFY(h.secrets.remove(VaultCredentialSource::metaKey(QStringLiteral("acme"), {})));
        h.open();
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/")));
        QVERIFY(a.value(QStringLiteral("ok")).toBool());
        QCOMPARE(response(a).value(QStringLiteral("credential")).toString(),
                 QStringLiteral("unbound"));
        QVERIFY(!h.upstream.requests().value(0).hasHeader("authorization"));
        checkAudit(h);
    }

    /** The upstream echoes what it got in every form: the runner sees none of it. */
    void echoedCredentialIsRedacted()
    {
        Harness h;
        QVERIFY(h.ok());
        h.upstream.setHandler([](const FakeUpstream::Request& r) {
            const QByteArray token = r.header("authorization").mid(7);
            QByteArray body =
                "raw=" + r.header("authorization") + "\nb64=" + token.toBase64() +
                "\nb64url=" + token.toBase64(QByteArray::Base64UrlEncoding) + "\nb64nopad=" +
                token.toBase64(QByteArray::Base64Encoding | QByteArray::OmitTrailingEquals) +
                "\nbasic=" + QByteArray("user:" + token).toBase64() +
                "\npct=" + token.toPercentEncoding() + "\nother=" + OtherCanary +
                "\nmodel=" + ModelKey + "\nmodelb64=" + ModelKey.toBase64() + "\n";
            return respond(401, body,
                           {{"WWW-Authenticate", "Bearer realm=\"" + token + "\""},
                            {"X-Echo-" + token.left(12), "1"},
                            {"Set-Cookie", "a=" + token.toBase64()},
                            {"Set-Cookie", "b=2"}});
        });
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/echo")));
        QVERIFY(a.value(QStringLiteral("ok")).toBool());
        const QJsonObject r = response(a);
        QCOMPARE(r.value(QStringLiteral("status")).toInt(), 401);
        const QString body = r.value(QStringLiteral("body")).toString();
        QVERIFY2(body.count(QStringLiteral("[REDACTED]")) >= 9, qPrintable(body));
        QVERIFY2(leaked(json(a)).isEmpty(), json(a).constData());
        const QJsonObject headers = r.value(QStringLiteral("headers")).toObject();
        QVERIFY(headers.value(QStringLiteral("www-authenticate"))
                    .toString()
                    .contains(QStringLiteral("[REDACTED]")));
        QCOMPARE(headers.value(QStringLiteral("set-cookie")).toString(),
                 QStringLiteral("a=[REDACTED], b=2"));
        checkAudit(h);
    }

    /** A redirect comes back as a response; the credential never reaches the other host. */
    void redirectToAnotherHost()
    {
        Harness h;
        QVERIFY(h.ok());
        const QByteArray location =
            QStringLiteral("http://%1/steal").arg(h.otherEndpoint()).toUtf8();
        h.upstream.setHandler([location](const FakeUpstream::Request&) {
            return respond(302, "", {{"Location", location}});
        });
        ProviderGrant g = h.defaultGrants().first();
        g.authorizedUris.append(QStringLiteral("http://%1/**").arg(h.otherEndpoint()));
        h.open({g, h.defaultGrants().last()});
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/start")));
        QVERIFY(a.value(QStringLiteral("ok")).toBool());
        QCOMPARE(response(a).value(QStringLiteral("status")).toInt(), 302);
        QCOMPARE(response(a)
                     .value(QStringLiteral("headers"))
                     .toObject()
                     .value(QStringLiteral("location")),
                 QString::fromUtf8(location));
        QTest::qWait(200);
        QCOMPARE(h.other.connectionCount(), 0); // not followed

        // The model follows it itself: allowed, but the credential is bound elsewhere.
        const QJsonObject followed = h.get(QString::fromUtf8(location));
        QVERIFY(followed.value(QStringLiteral("ok")).toBool());
        QCOMPARE(response(followed).value(QStringLiteral("credential")).toString(),
                 QStringLiteral("not_bound_host"));
        QCOMPARE(h.other.requestCount(), 1);
        QVERIFY(!h.other.requests().first().hasHeader("authorization"));
        checkAudit(h);
    }

    /** A token the upstream mints cannot be known: it passes (documented limitation). */
    void newTokenPassesThrough()
    {
        Harness h;
        QVERIFY(h.ok());
        h.upstream.setHandler([](const FakeUpstream::Request&) {
            return respond(200, R"({"access_token":"fresh-upstream-token-998877"})");
        });
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/token")));
        QVERIFY(response(a)
                    .value(QStringLiteral("body"))
                    .toString()
                    .contains(QStringLiteral("fresh-upstream-token-998877")));
        checkAudit(h);
    }

    void oversizedResponseIsTruncated()
    {
        Harness h;
        QVERIFY(h.ok());
        h.options.maxResponseBytes = 1024 * 1024;
        QByteArray big(int(h.options.maxResponseBytes) - 10, 'a');
        big += Canary; // straddles the cut
        big += QByteArray(2 * 1024 * 1024, 'b');
        h.upstream.setHandler([big](const FakeUpstream::Request&) { return respond(200, big); });
        h.open();
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/big")));
        QVERIFY(a.value(QStringLiteral("ok")).toBool());
        const QJsonObject r = response(a);
        QVERIFY(r.value(QStringLiteral("truncated")).toBool());
        const QString body = r.value(QStringLiteral("body")).toString();
        QVERIFY(body.size() <= h.options.maxResponseBytes + 16);
        QVERIFY(body.endsWith(QStringLiteral("[REDACTED]")));
        QVERIFY(!body.contains(QString::fromLatin1(Canary.left(8))));
        QCOMPARE(h.lastAudit.value(QStringLiteral("truncated")).toBool(), true);
        checkAudit(h);
    }

    void slowResponseTimesOut()
    {
        Harness h;
        QVERIFY(h.ok());
        h.options.totalTimeoutMs = 700;
        h.upstream.setHandler([](const FakeUpstream::Request&) {
            FakeUpstream::Response r = respond(200, QByteArray(100, 'x'));
            r.trickleBytes = 40;
            r.trickleMs = 300;
            return r;
        });
        h.open();
        QElapsedTimer timer;
        timer.start();
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/slow")));
        QCOMPARE(errorKind(a), QStringLiteral("timeout"));
        QVERIFY(timer.elapsed() < 5000);
        QCOMPARE(h.lastAudit.value(QStringLiteral("decision")).toString(), QStringLiteral("allow"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("error_kind")).toString(),
                 QStringLiteral("timeout"));
        checkAudit(h);
    }

    void binaryBodyIsScrubbedAsBytes()
    {
        Harness h;
        QVERIFY(h.ok());
        QByteArray payload("\xff\xfe\x00\x01", 4);
        payload += OtherCanary;
        payload += QByteArray("\x80\x81", 2);
        h.upstream.setHandler(
            [payload](const FakeUpstream::Request&) { return respond(200, payload); });
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/bin")));
        const QJsonObject r = response(a);
        QCOMPARE(r.value(QStringLiteral("body_encoding")).toString(), QStringLiteral("base64"));
        const QByteArray body =
            QByteArray::fromBase64(r.value(QStringLiteral("body")).toString().toLatin1());
        QVERIFY(body.startsWith(QByteArray("\xff\xfe\x00\x01", 4)));
        QVERIFY(body.contains("[REDACTED]"));
        QVERIFY(!body.contains(OtherCanary));
        checkAudit(h);
    }

    void compressedBodyIsDecodedThenScrubbed()
    {
        Harness h;
        QVERIFY(h.ok());
        const QByteArray plain = "token=" + Canary + "\n";
        const QByteArray deflated = qCompress(plain).mid(4); // zlib stream, as HTTP deflate
        h.upstream.setHandler([deflated](const FakeUpstream::Request&) {
            return respond(200, deflated, {{"Content-Encoding", "deflate"}});
        });
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/z")));
        QVERIFY2(a.value(QStringLiteral("ok")).toBool(), json(a).constData());
        QCOMPARE(response(a).value(QStringLiteral("body")).toString(),
                 QStringLiteral("token=[REDACTED]\n"));
        // An encoding the broker cannot decode is not passed on undecoded.
        h.upstream.setHandler([plain](const FakeUpstream::Request&) {
            return respond(200, plain, {{"Content-Encoding", "x-custom"}});
        });
        const QJsonObject b = h.get(h.apiUrl(QStringLiteral("/z")));
        QVERIFY(!b.value(QStringLiteral("ok")).toBool());
        QCOMPARE(errorKind(b), QStringLiteral("http"));
        checkAudit(h);
    }

    void tlsIsRequiredForHttps()
    {
        Harness h;
        QVERIFY(h.ok());
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        g.authorizedUris = {QStringLiteral("https://%1/**").arg(h.endpoint(h.upstream))};
        h.options.totalTimeoutMs = 3000;
        h.open({g});
        // A plain-HTTP server behind an https URL: the handshake fails; no request is read.
        const QJsonObject a = h.get(QStringLiteral("https://%1/").arg(h.endpoint(h.upstream)));
        QVERIFY(!a.value(QStringLiteral("ok")).toBool());
        QVERIFY2(errorKind(a) == QLatin1String("connection") ||
                     errorKind(a) == QLatin1String("timeout"),
                 json(a).constData());
        QCOMPARE(h.upstream.requestCount(), 0);
        checkAudit(h);
    }

    void cancelStopsACall()
    {
        Harness h;
        QVERIFY(h.ok());
        h.upstream.setHandler([](const FakeUpstream::Request&) {
            FakeUpstream::Response r;
            r.hang = true;
            return r;
        });
        h.open();
        QTimer::singleShot(300, h.broker.get(), [&h] { h.cancel->cancel(); });
        QElapsedTimer timer;
        timer.start();
        const QJsonObject a = h.get(h.apiUrl(QStringLiteral("/hang")));
        QCOMPARE(errorKind(a), QStringLiteral("cancelled"));
        QVERIFY(timer.elapsed() < 3000);
        checkAudit(h);
    }

    void callsAreAnsweredInOrderAndTheQueueIsBounded()
    {
        Harness h;
        QVERIFY(h.ok());
        h.upstream.setHandler([](const FakeUpstream::Request& r) {
            FakeUpstream::Response resp = respond(200, r.path);
            resp.delayMs = r.path == "/slow" ? 300 : 0;
            return resp;
        });
        h.open();
        QSignalSpy spy(h.broker.get(), &ProviderBroker::callFinished);
        const int total = ProviderBroker::MaxQueued + 4;
        for (int i = 0; i < total; ++i) {
            const QJsonObject c{
                {QStringLiteral("method"), QStringLiteral("GET")},
                {QStringLiteral("url"),
                 h.apiUrl(i == 0 ? QStringLiteral("/slow") : QStringLiteral("/%1").arg(i))}};
            h.broker->submit(i + 1, {{QStringLiteral("type"), QStringLiteral("provider")},
                                     {QStringLiteral("call"), c}});
        }
        // One in flight, MaxQueued waiting: the rest refused at once.
        QCOMPARE(spy.size(), total - 1 - ProviderBroker::MaxQueued);
        QTRY_COMPARE_WITH_TIMEOUT(spy.size(), total, 20000);
        h.calls = total;
        QList<int> answered;
        for (const QJsonObject& m : std::as_const(h.sent)) {
            if (m.value(QStringLiteral("ok")).toBool())
                answered.append(m.value(QStringLiteral("id")).toInt());
        }
        QCOMPARE(answered.size(), ProviderBroker::MaxQueued + 1);
        for (int i = 0; i < answered.size(); ++i)
            QCOMPARE(answered.at(i), i + 1);
        checkAudit(h);
    }

    // --- end to end: the real runner's http_request through the supervisor -----------------

    void realRunnerEndToEnd()
    {
        EndToEnd e;
        QVERIFY(e.setUp());
        const QString api = e.api();
        const RunRecord run = e.run(QJsonArray{
            EndToEnd::turn({EndToEnd::call(QStringLiteral("c1"), QStringLiteral("GET"),
                                           api + QStringLiteral("/v1/me"))}),
            EndToEnd::turn({EndToEnd::call(QStringLiteral("c2"), QStringLiteral("DELETE"),
                                           api + QStringLiteral("/v1/me"))}),
            EndToEnd::turn({EndToEnd::call(QStringLiteral("c3"), QStringLiteral("GET"),
                                           QStringLiteral("http://169.254.169.254/latest/"))}),
            QJsonObject{{QStringLiteral("text"), QStringLiteral("done")}}});
        QVERIFY2(run.status == RunStatus::Succeeded, qPrintable(run.reason));

        // The upstream got the credential once: the other two calls were refused.
        QCOMPARE(e.upstream.requestCount(), 1);
        QCOMPARE(e.upstream.requests().first().header("authorization"),
                 QByteArray("Bearer " + Canary));

        // What the model saw: the echo redacted, the refusals with their rules.
        QCOMPARE(e.model.requests().size(), 4);
        const QStringList results = e.toolResults();
        QCOMPARE(results.size(), 3);
        QVERIFY2(results.at(0).startsWith(QStringLiteral("HTTP 200")), qPrintable(results.at(0)));
        QCOMPARE(results.at(0).count(QStringLiteral("[REDACTED]")), 3);
        QVERIFY2(results.at(1).contains(QStringLiteral("refused")) &&
                     results.at(1).contains(QStringLiteral("uri.no_match")),
                 qPrintable(results.at(1)));
        QVERIFY2(results.at(2).contains(QStringLiteral("address.link-local")),
                 qPrintable(results.at(2)));
        QCOMPARE(e.toolErrors(run.id), (QList<bool>{false, true, true}));
        QCOMPARE(e.decisions(run.id), (QStringList{QStringLiteral("allow:uri.allow"),
                                                   QStringLiteral("deny:uri.no_match"),
                                                   QStringLiteral("deny:address.link-local")}));
        e.checkNoLeak();
    }

    /**
     * The adversarial cases of the sandbox suite that go through the broker, asked for by the
     * model of a real run in one turn: none reaches the upstream, each comes back as an error
     * result with its rule, nothing of a secret shows anywhere.
     */
    void adversarialCallsThroughTheRealRunner()
    {
        EndToEnd e;
        QVERIFY(e.setUp());
        const QString port = QString::number(e.upstream.port());
        const QString api = e.api();
        struct Case
        {
            QString method;
            QString url;
            QJsonObject headers;
            QString rule;
        };
        const QList<Case> cases{
            {QStringLiteral("GET"),
             QStringLiteral("http://other.example.test:%1/").arg(port),
             {},
             QStringLiteral("uri.no_match")},
            {QStringLiteral("GET"),
             QStringLiteral("http://evil.example.test:%1/v1/").arg(port),
             {},
             QStringLiteral("address.loopback")},
            {QStringLiteral("GET"),
             QStringLiteral("http://meta.example.test/v1/"),
             {},
             QStringLiteral("address.link-local")},
            {QStringLiteral("GET"),
             QStringLiteral("http://ten.example.test/v1/"),
             {},
             QStringLiteral("address.private")},
            {QStringLiteral("GET"),
             QStringLiteral("http://2130706433:%1/v1/").arg(port),
             {},
             QStringLiteral("address.loopback")},
            {QStringLiteral("GET"),
             QStringLiteral("http://0x7f000001:%1/v1/").arg(port),
             {},
             QStringLiteral("address.loopback")},
            {QStringLiteral("GET"),
             QStringLiteral("http://[::ffff:127.0.0.1]:%1/v1/").arg(port),
             {},
             QStringLiteral("address.loopback")},
            {QStringLiteral("GET"),
             QStringLiteral("http://127.0.0.1.:%1/v1/").arg(port),
             {},
             QStringLiteral("address.loopback")},
            {QStringLiteral("GET"),
             QStringLiteral("http://api.example.test:%1@127.0.0.1:%1/v1/").arg(port),
             {},
             QStringLiteral("request.url")},
            {QStringLiteral("GET"),
             api + QStringLiteral("/v1/x"),
             {{QStringLiteral("X-A"), QStringLiteral("1\r\nAuthorization: Bearer x")}},
             QStringLiteral("request.smuggling")},
            {QStringLiteral("GET"),
             api + QStringLiteral("/v1/x%0d%0aX:1"),
             {},
             QStringLiteral("request.smuggling")},
            {QStringLiteral("GET"),
             api + QStringLiteral("/v1/x"),
             {{QStringLiteral("Authorization"), QStringLiteral("Bearer stolen")}},
             QStringLiteral("request.credential_header")},
            {QStringLiteral("GET"),
             api + QStringLiteral("/v1/%2e%2e/admin"),
             {},
             QStringLiteral("request.url")},
            {QStringLiteral("GET"),
             api + QStringLiteral("/admin"),
             {},
             QStringLiteral("uri.no_match")},
        };
        e.dns->add(QStringLiteral("evil.example.test"), QHostAddress(QHostAddress::LocalHost));
        e.dns->add(QStringLiteral("meta.example.test"),
                   QHostAddress(QStringLiteral("169.254.169.254")));
        e.dns->add(QStringLiteral("ten.example.test"), QHostAddress(QStringLiteral("10.0.0.1")));
        e.extraUris = {QStringLiteral("GET http://evil.example.test:%1/**").arg(port),
                       QStringLiteral("GET http://meta.example.test/**"),
                       QStringLiteral("GET http://ten.example.test/**"),
                       QStringLiteral("GET http://127.0.0.1:%1/**").arg(port)};
        QJsonArray calls;
        for (qsizetype i = 0; i < cases.size(); ++i) {
            QJsonObject c =
                EndToEnd::call(QStringLiteral("a%1").arg(i), cases.at(i).method, cases.at(i).url);
            if (!cases.at(i).headers.isEmpty()) {
                QJsonObject args = c.value(QStringLiteral("arguments")).toObject();
                args.insert(QStringLiteral("headers"), cases.at(i).headers);
                c.insert(QStringLiteral("arguments"), args);
            }
            calls.append(c);
        }
        const RunRecord run =
            e.run(QJsonArray{QJsonObject{{QStringLiteral("tool_calls"), calls}},
                             QJsonObject{{QStringLiteral("text"), QStringLiteral("done")}}});
        QVERIFY2(run.status == RunStatus::Succeeded, qPrintable(run.reason));
        QCOMPARE(e.upstream.connectionCount(), 0);

        const QStringList results = e.toolResults();
        QCOMPARE(results.size(), cases.size());
        QStringList expected;
        for (qsizetype i = 0; i < cases.size(); ++i) {
            QVERIFY2(results.at(i).contains(cases.at(i).rule),
                     qPrintable(cases.at(i).url + QStringLiteral(": ") + results.at(i)));
            expected.append(QStringLiteral("deny:") + cases.at(i).rule);
        }
        QCOMPARE(e.toolErrors(run.id), QList<bool>(cases.size(), true));
        QCOMPARE(e.decisions(run.id), expected);
        e.checkNoLeak();
    }
};

QTEST_GUILESS_MAIN(TestProviderCalls)
#include "tst_ProviderCalls.moc"
