// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Manifest operations through the broker (docs/providers.md): the operation rendered from the
// manifest, authorized against the grant or the manifest, the credential taken from the
// connection record and the vault, the audit row naming the operation; refusals (operation not
// granted, bad arguments, path injection, needs_reconnect, ambiguous connection); an API key in
// the query redacted from everything recorded; the synchronous connection test; and a run of
// the real runner whose model calls an operation tool. Real HTTP on 127.0.0.1 (FakeUpstream)
// behind a test resolver; the real DNS and network are never used.
#include "broker/OperationTools.h"
#include "broker/ProviderBroker.h"
#include "broker/ProviderCallPolicy.h"

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

using namespace vivarium;
using testsupport::FakeUpstream;

namespace {

/** The connection's key: only the upstream may see it. */
const QByteArray Canary = "vvm-op-canary-5e1d9a7c3b";
/** The password of a basic-auth connection. */
const QByteArray Password = "vvm-op-password-8c2f6e";
const QByteArray ModelKey = "sk-model-canary-27182818284";

QByteArray json(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QString leaked(const QByteArray& bytes)
{
    for (const QByteArray& s : {Canary, Password, ModelKey}) {
        for (const QByteArray& f : {s, s.toBase64(), s.toPercentEncoding()}) {
            if (bytes.contains(f))
                return QString::fromLatin1(f);
        }
    }
    return {};
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

/** An echoing API: what it was sent comes back, the credential included. */
FakeUpstream::Response echo(const FakeUpstream::Request& r)
{
    QJsonObject seen{
        {QStringLiteral("method"), QString::fromLatin1(r.method)},
        {QStringLiteral("target"), QString::fromLatin1(r.target)},
        {QStringLiteral("key"), QString::fromLatin1(r.header("x-api-key"))},
        {QStringLiteral("authorization"), QString::fromLatin1(r.header("authorization"))},
        {QStringLiteral("body"), QString::fromUtf8(r.body)}};
    return respond(200, json(seen),
                   {{"Content-Type", "application/json"}, {"X-Echo-Target", r.target}});
}

/**
 * A test provider on the upstream: `auth` is the manifest's auth object. Base URL and
 * authorized URIs point at http://localhost:<port>/v1 (loopback http is allowed in manifests,
 * for tests).
 */
QJsonObject manifest(const QString& id, quint16 port, const QJsonObject& auth)
{
    const QString base = QStringLiteral("http://localhost:%1/v1").arg(port);
    auto op = [](const char* name, const char* method, const char* path, bool writes,
                 QJsonObject props, QJsonArray required) {
        return QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                           {QStringLiteral("description"), QStringLiteral("Test operation.")},
                           {QStringLiteral("method"), QLatin1String(method)},
                           {QStringLiteral("path"), QLatin1String(path)},
                           {QStringLiteral("writes"), writes},
                           {QStringLiteral("parameters"),
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                                        {QStringLiteral("properties"), props},
                                        {QStringLiteral("required"), required},
                                        {QStringLiteral("additionalProperties"), false}}}};
    };
    const QJsonObject str{{QStringLiteral("type"), QStringLiteral("string")}};
    return {{QStringLiteral("id"), id},
            {QStringLiteral("name"), QStringLiteral("Acme")},
            {QStringLiteral("base_url"), base},
            {QStringLiteral("auth"), auth},
            {QStringLiteral("headers"),
             QJsonObject{{QStringLiteral("Accept"), QStringLiteral("application/json")}}},
            {QStringLiteral("authorized_uris"), QJsonArray{QString(base + QStringLiteral("/**"))}},
            {QStringLiteral("test_operation"), QStringLiteral("whoami")},
            {QStringLiteral("operations"),
             QJsonArray{op("whoami", "GET", "/me", false, {}, {}),
                        op("get_item", "GET", "/items/{id}", false,
                           {{QStringLiteral("id"), str}, {QStringLiteral("q"), str}},
                           {QStringLiteral("id")}),
                        op("create_item", "POST", "/items", true,
                           {{QStringLiteral("title"), str},
                            {QStringLiteral("tags"),
                             QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                         {QStringLiteral("items"), str}}}},
                           {QStringLiteral("title")}),
                        op("delete_item", "DELETE", "/items/{id}", true,
                           {{QStringLiteral("id"), str}}, {QStringLiteral("id")})}}};
}

QJsonObject apiKeyHeader()
{
    return {{QStringLiteral("type"), QStringLiteral("api_key")},
            {QStringLiteral("name"), QStringLiteral("X-Api-Key")}};
}

QString errorRule(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("error"))
        .toObject()
        .value(QStringLiteral("rule"))
        .toString();
}

QString errorMessage(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("error"))
        .toObject()
        .value(QStringLiteral("message"))
        .toString();
}

QJsonObject response(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("response")).toObject();
}

/** A data directory with the test providers, a store with connections, a vault, a broker. */
class Harness
{
    QTemporaryDir m_dir; ///< first: it outlives the store in it

public:
    Harness()
    {
        if (auto s = Store::open(Paths(m_dir.path()).storeFile()))
            store = std::move(*s);
        upstream.setHandler(echo);
        upstream.start();
        dns = std::make_shared<StaticResolver>();
        dns->add(QStringLiteral("localhost"), QHostAddress(QHostAddress::LocalHost));
        options.resolver = dns;
        options.localEndpoints = {QStringLiteral("localhost:%1").arg(upstream.port())};
        options.totalTimeoutMs = 10'000;
        QDir().mkpath(ProviderCatalog::userDirectory(m_dir.path()));
        writeManifest(manifest(QStringLiteral("acme"), upstream.port(), apiKeyHeader()));
        writeManifest(manifest(QStringLiteral("acmeq"), upstream.port(),
                               {{QStringLiteral("type"), QStringLiteral("api_key")},
                                {QStringLiteral("in"), QStringLiteral("query")},
                                {QStringLiteral("name"), QStringLiteral("api_key")}}));
        writeManifest(manifest(QStringLiteral("acmeb"), upstream.port(),
                               {{QStringLiteral("type"), QStringLiteral("basic")}}));
        addConnection(QStringLiteral("acme-main"), QStringLiteral("acme"), Canary);
    }

    bool ok() const
    {
        return store && upstream.port() != 0 && catalog()->find(QStringLiteral("acme"));
    }
    QString dataDir() const { return m_dir.path(); }
    QString base() const { return QStringLiteral("http://localhost:%1/v1").arg(upstream.port()); }
    /** `prefix` + base() + `path`, as a QString (a QStringBuilder does not brace-initialize). */
    QString url(const QString& path, const QString& prefix = {}) const
    {
        return prefix + base() + path;
    }

    void writeManifest(const QJsonObject& m)
    {
        QFile f(ProviderCatalog::userDirectory(m_dir.path()) + QLatin1Char('/') +
                m.value(QStringLiteral("id")).toString() + QStringLiteral(".json"));
        if (f.open(QIODevice::WriteOnly))
            f.write(json(m));
        m_catalog.reset();
    }

    std::shared_ptr<const ProviderCatalog> catalog() const
    {
        if (!m_catalog)
            m_catalog = std::make_shared<const ProviderCatalog>(
                ProviderCatalog::load(ProviderCatalog::userDirectory(m_dir.path())));
        return m_catalog;
    }

    bool addConnection(const QString& name, const QString& provider, const QByteArray& secret,
                       const QString& auth = QStringLiteral("api_key"))
    {
        ConnectionRecord r;
        r.name = name;
        r.provider = provider;
        r.auth = auth;
        r.status = QStringLiteral("ok");
        return store->saveConnection(r).has_value() &&
               secrets.write(VaultCredentialSource::tokenKey(provider, name), secret).has_value();
    }

    static ProviderGrant grant(const QString& provider, const QStringList& operations,
                               const QString& connection = {}, const QStringList& uris = {})
    {
        ProviderGrant g;
        g.provider = provider;
        g.connection = connection;
        g.operations = operations;
        g.authorizedUris = uris;
        return g;
    }

    void open(const QList<ProviderGrant>& grants)
    {
        ProviderBroker::Setup setup;
        setup.runId = QStringLiteral("run_ops");
        setup.agentId = QStringLiteral("agent");
        setup.grants = grants;
        setup.options = options; // credentials left null: the engine's default
        setup.secrets = &secrets;
        setup.store = store.get();
        setup.catalog = catalog();
        SecretRedactor model;
        model.addSecret(ModelKey);
        setup.modelRedactor = model;
        setup.audit = [this](const QJsonObject& details) {
            AuditRecord r;
            r.actor = QStringLiteral("engine");
            r.action = QStringLiteral("provider.call");
            r.runId = QStringLiteral("run_ops");
            r.agentId = QStringLiteral("agent");
            r.details = details;
            store->appendAudit(r);
        };
        broker = std::make_unique<ProviderBroker>(std::move(setup));
    }

    QJsonObject call(const QJsonObject& call)
    {
        QSignalSpy spy(broker.get(), &ProviderBroker::callFinished);
        const int id = nextId++;
        broker->submit(id, {{QStringLiteral("type"), QStringLiteral("provider")},
                            {QStringLiteral("id"), id},
                            {QStringLiteral("call"), call}});
        if (spy.isEmpty())
            spy.wait(15000);
        if (spy.isEmpty())
            return {};
        lastAudit = spy.first().at(1).toJsonObject();
        return spy.first().at(0).toJsonObject();
    }

    QJsonObject operation(const QString& provider, const QString& op, const QJsonObject& args,
                          const QString& connection = {})
    {
        QJsonObject c{{QStringLiteral("provider"), provider},
                      {QStringLiteral("operation"), op},
                      {QStringLiteral("args"), args}};
        if (!connection.isEmpty())
            c.insert(QStringLiteral("connection"), connection);
        return call(c);
    }

    /** Every byte of the data directory and every audit row: no canary anywhere. */
    QString leakInRecords() const
    {
        QByteArray all;
        QDirIterator it(m_dir.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            if (f.open(QIODevice::ReadOnly))
                all += f.readAll();
        }
        for (const AuditRecord& r :
             store->auditRecords(QStringLiteral("run_ops")).value_or(QList<AuditRecord>{}))
            all += json(r.details);
        return leaked(all);
    }

    std::unique_ptr<Store> store;
    MemorySecretStore secrets;
    FakeUpstream upstream;
    std::shared_ptr<StaticResolver> dns;
    ProviderCallOptions options;
    std::unique_ptr<ProviderBroker> broker;
    QJsonObject lastAudit;
    int nextId = 1;

private:
    mutable std::shared_ptr<const ProviderCatalog> m_catalog;
};

} // namespace

class TestProviderOperations : public QObject
{
    Q_OBJECT

private slots:
    void operationWithTheConnectionsCredential()
    {
        Harness h;
        QVERIFY(h.ok());
        // No URIs in the grant: the manifest's authorized URIs apply.
        h.open({Harness::grant(QStringLiteral("acme"),
                               {QStringLiteral("get_item"), QStringLiteral("create_item")})});
        const QJsonObject answer = h.operation(QStringLiteral("acme"), QStringLiteral("get_item"),
                                               {{QStringLiteral("id"), QStringLiteral("42")},
                                                {QStringLiteral("q"), QStringLiteral("a b&c=d")}});
        QVERIFY2(answer.value(QStringLiteral("ok")).toBool(), json(answer).constData());
        QCOMPARE(response(answer).value(QStringLiteral("status")).toInt(), 200);
        QCOMPARE(response(answer).value(QStringLiteral("credential")).toString(),
                 QStringLiteral("injected"));

        QCOMPARE(h.upstream.requestCount(), 1);
        const FakeUpstream::Request seen = h.upstream.requests().first();
        QCOMPARE(seen.method, QByteArray("GET"));
        QCOMPARE(seen.target, QByteArray("/v1/items/42?q=a%20b%26c%3Dd"));
        QCOMPARE(seen.header("x-api-key"), Canary);
        QCOMPARE(seen.header("accept"), QByteArray("application/json"));
        QVERIFY(!seen.hasHeader("authorization"));
        // The echo of the key is redacted.
        const QString body = response(answer).value(QStringLiteral("body")).toString();
        QVERIFY2(body.contains(QStringLiteral("\"key\":\"[REDACTED]\"")), qPrintable(body));

        // The audit row names the operation; no query, no key.
        QCOMPARE(h.lastAudit.value(QStringLiteral("operation")).toString(),
                 QStringLiteral("get_item"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("decision")).toString(), QStringLiteral("allow"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("url")).toString(),
                 QStringLiteral("http://localhost:%1/v1/items/42").arg(h.upstream.port()));
        QCOMPARE(h.lastAudit.value(QStringLiteral("has_query")).toBool(), true);
        QCOMPARE(h.lastAudit.value(QStringLiteral("pattern")).toString(),
                 h.url(QStringLiteral("/**")));
        QCOMPARE(h.lastAudit.value(QStringLiteral("credential")).toString(),
                 QStringLiteral("injected"));

        // A write: JSON body from the arguments.
        const QJsonObject created = h.operation(
            QStringLiteral("acme"), QStringLiteral("create_item"),
            {{QStringLiteral("title"), QStringLiteral("Hello")},
             {QStringLiteral("tags"), QJsonArray{QStringLiteral("a"), QStringLiteral("b")}}});
        QVERIFY(created.value(QStringLiteral("ok")).toBool());
        const FakeUpstream::Request post = h.upstream.requests().last();
        QCOMPARE(post.method, QByteArray("POST"));
        QCOMPARE(post.target, QByteArray("/v1/items"));
        QCOMPARE(post.header("content-type"), QByteArray("application/json"));
        QCOMPARE(QJsonDocument::fromJson(post.body).object(),
                 (QJsonObject{{QStringLiteral("title"), QStringLiteral("Hello")},
                              {QStringLiteral("tags"),
                               QJsonArray{QStringLiteral("a"), QStringLiteral("b")}}}));
        QVERIFY2(h.leakInRecords().isEmpty(), qPrintable(h.leakInRecords()));
    }

    void refusals_data()
    {
        QTest::addColumn<QString>("operation");
        QTest::addColumn<QJsonObject>("args");
        QTest::addColumn<QString>("rule");
        QTest::addColumn<QString>("message");
        QTest::newRow("not granted")
            << "delete_item" << QJsonObject{{QStringLiteral("id"), QStringLiteral("1")}}
            << "operation.not_granted"
            << "operation \"delete_item\" of acme is not granted to this agent (granted: get_item)";
        QTest::newRow("unknown operation")
            << "drop_tables" << QJsonObject{} << "operation.not_granted"
            << "operation \"drop_tables\" of acme is not granted";
        QTest::newRow("missing argument")
            << "get_item" << QJsonObject{} << "operation.args"
            << "the arguments of acme_get_item do not match its schema: /: missing required "
               "property \"id\"";
        QTest::newRow("extra argument")
            << "get_item"
            << QJsonObject{{QStringLiteral("id"), QStringLiteral("1")},
                           {QStringLiteral("url"), QStringLiteral("http://169.254.169.254/")}}
            << "operation.args"
            << "/url: property not allowed";
        QTest::newRow("wrong type")
            << "get_item" << QJsonObject{{QStringLiteral("id"), 5}} << "operation.args"
            << "/id: expected a string";
        QTest::newRow("dot dot") << "get_item"
                                 << QJsonObject{{QStringLiteral("id"), QStringLiteral("..")}}
                                 << "operation.render"
                                 << "path parameter \"id\" may not be \".\" or \"..\"";
        // A slash is encoded (%2F), and the broker refuses encoded slashes in paths outright.
        QTest::newRow("walk the path")
            << "get_item" << QJsonObject{{QStringLiteral("id"), QStringLiteral("../../admin")}}
            << "request.url"
            << "encoded slash";
        QTest::newRow("smuggle") << "get_item"
                                 << QJsonObject{{QStringLiteral("id"), QStringLiteral("1\r\nX: y")}}
                                 << "request.smuggling"
                                 << "encoded CR, LF or NUL";
    }
    void refusals()
    {
        QFETCH(QString, operation);
        QFETCH(QJsonObject, args);
        QFETCH(QString, rule);
        QFETCH(QString, message);
        Harness h;
        QVERIFY(h.ok());
        h.open({Harness::grant(QStringLiteral("acme"), {QStringLiteral("get_item")})});
        const QJsonObject answer = h.operation(QStringLiteral("acme"), operation, args);
        QVERIFY(!answer.isEmpty());
        QCOMPARE(answer.value(QStringLiteral("ok")).toBool(), false);
        QCOMPARE(errorRule(answer), rule);
        QVERIFY2(errorMessage(answer).contains(message), qPrintable(errorMessage(answer)));
        QCOMPARE(h.upstream.connectionCount(), 0);
        QCOMPARE(h.lastAudit.value(QStringLiteral("decision")).toString(), QStringLiteral("deny"));
        QCOMPARE(h.lastAudit.value(QStringLiteral("rule")).toString(), rule);
        QCOMPARE(h.lastAudit.value(QStringLiteral("operation")).toString(), operation);
        QCOMPARE(h.lastAudit.value(QStringLiteral("sent")).toBool(), false);
    }

    void providerNotGranted()
    {
        Harness h;
        QVERIFY(h.ok());
        h.open({Harness::grant(QStringLiteral("acmeq"), {QStringLiteral("get_item")})});
        const QJsonObject answer = h.operation(QStringLiteral("acme"), QStringLiteral("get_item"),
                                               {{QStringLiteral("id"), QStringLiteral("1")}});
        QCOMPARE(errorRule(answer), QStringLiteral("request.grant"));
        QCOMPARE(h.upstream.connectionCount(), 0);
        // An operation call carries no raw request parts.
        const QJsonObject mixed =
            h.call({{QStringLiteral("provider"), QStringLiteral("acmeq")},
                    {QStringLiteral("operation"), QStringLiteral("get_item")},
                    {QStringLiteral("url"), QStringLiteral("http://169.254.169.254/")}});
        QCOMPARE(errorRule(mixed), QStringLiteral("request.malformed"));
    }

    /** The grant's URIs replace the manifest's; deny still wins. */
    void grantUrisApply()
    {
        Harness h;
        QVERIFY(h.ok());
        h.open({Harness::grant(QStringLiteral("acme"),
                               {QStringLiteral("get_item"), QStringLiteral("create_item")}, {},
                               {h.url(QStringLiteral("/items/secret"), QStringLiteral("!")),
                                h.url(QStringLiteral("/items"), QStringLiteral("POST "))})});
        const QJsonObject denied = h.operation(QStringLiteral("acme"), QStringLiteral("get_item"),
                                               {{QStringLiteral("id"), QStringLiteral("secret")}});
        QCOMPARE(errorRule(denied), QStringLiteral("uri.deny"));
        const QJsonObject other = h.operation(QStringLiteral("acme"), QStringLiteral("get_item"),
                                              {{QStringLiteral("id"), QStringLiteral("x")}});
        QCOMPARE(errorRule(other), QStringLiteral("uri.no_match"));
        const QJsonObject allowed =
            h.operation(QStringLiteral("acme"), QStringLiteral("create_item"),
                        {{QStringLiteral("title"), QStringLiteral("t")}});
        QVERIFY(allowed.value(QStringLiteral("ok")).toBool());
        QCOMPARE(h.upstream.requestCount(), 1);
    }

    /** An API key in the query: sent only there, redacted from the answer and every record. */
    void queryKeyIsRedacted()
    {
        Harness h;
        QVERIFY(h.ok());
        QVERIFY(h.addConnection(QStringLiteral("q-main"), QStringLiteral("acmeq"), Canary));
        ProviderGrant g = Harness::grant(QStringLiteral("acmeq"), {QStringLiteral("get_item")});
        g.authorizedUris = {h.url(QStringLiteral("/**"))};
        h.open({g});
        const QJsonObject answer = h.operation(QStringLiteral("acmeq"), QStringLiteral("get_item"),
                                               {{QStringLiteral("id"), QStringLiteral("7")},
                                                {QStringLiteral("q"), QStringLiteral("x")}});
        QVERIFY2(answer.value(QStringLiteral("ok")).toBool(), json(answer).constData());
        QCOMPARE(h.upstream.requestCount(), 1);
        QCOMPARE(h.upstream.requests().first().target,
                 QByteArray("/v1/items/7?q=x&api_key=" + Canary.toPercentEncoding()));
        for (const auto& [name, value] : h.upstream.requests().first().headers)
            QVERIFY2(!value.contains(Canary) && !name.contains(Canary),
                     "the key in the query goes nowhere else");
        QCOMPARE(response(answer).value(QStringLiteral("credential")).toString(),
                 QStringLiteral("injected"));
        // The echo of the target (body and header) came back redacted.
        const QByteArray shown = json(answer);
        QVERIFY2(leaked(shown).isEmpty(), shown.constData());
        QVERIFY2(shown.contains("api_key=[REDACTED]"), shown.constData());
        QCOMPARE(h.lastAudit.value(QStringLiteral("url")).toString(),
                 QStringLiteral("http://localhost:%1/v1/items/7").arg(h.upstream.port()));
        QVERIFY2(h.leakInRecords().isEmpty(), qPrintable(h.leakInRecords()));

        // Without a query of its own the key starts one.
        h.call({{QStringLiteral("provider"), QStringLiteral("acmeq")},
                {QStringLiteral("method"), QStringLiteral("GET")},
                {QStringLiteral("url"), h.url(QStringLiteral("/me"))}});
        QCOMPARE(h.upstream.requests().last().target,
                 QByteArray("/v1/me?api_key=" + Canary.toPercentEncoding()));
        // The runner may not set the key's parameter itself.
        const QJsonObject own =
            h.call({{QStringLiteral("provider"), QStringLiteral("acmeq")},
                    {QStringLiteral("method"), QStringLiteral("GET")},
                    {QStringLiteral("url"), h.url(QStringLiteral("/me?api_key=mine"))}});
        QCOMPARE(errorRule(own), QStringLiteral("request.credential_query"));
        QCOMPARE(h.upstream.requestCount(), 2);
        QVERIFY2(h.leakInRecords().isEmpty(), qPrintable(h.leakInRecords()));
    }

    void basicAuth()
    {
        Harness h;
        QVERIFY(h.ok());
        QVERIFY(h.addConnection(QStringLiteral("b-main"), QStringLiteral("acmeb"),
                                QByteArray("alice:" + Password), QStringLiteral("basic")));
        h.upstream.setHandler([](const FakeUpstream::Request& r) {
            const QByteArray pair = QByteArray::fromBase64(r.header("authorization").mid(6));
            return respond(200, "{\"user\":\"" + pair + "\",\"password\":\"" +
                                    pair.mid(pair.indexOf(':') + 1) + "\"}");
        });
        h.open({Harness::grant(QStringLiteral("acmeb"), {QStringLiteral("whoami")})});
        const QJsonObject answer =
            h.operation(QStringLiteral("acmeb"), QStringLiteral("whoami"), {});
        QVERIFY(answer.value(QStringLiteral("ok")).toBool());
        QCOMPARE(h.upstream.requests().first().header("authorization"),
                 QByteArray("Basic " + QByteArray("alice:" + Password).toBase64()));
        const QString body = response(answer).value(QStringLiteral("body")).toString();
        QCOMPARE(body, QStringLiteral("{\"user\":\"[REDACTED]\",\"password\":\"[REDACTED]\"}"));
        QVERIFY2(h.leakInRecords().isEmpty(), qPrintable(h.leakInRecords()));
    }

    void connectionState()
    {
        Harness h;
        QVERIFY(h.ok());
        h.open({Harness::grant(QStringLiteral("acme"), {QStringLiteral("whoami")})});
        QVERIFY(h.store->setConnectionStatus(QStringLiteral("acme-main"),
                                             QStringLiteral("needs_reconnect"),
                                             QStringLiteral("the refresh token was revoked")));
        const QJsonObject reconnect =
            h.operation(QStringLiteral("acme"), QStringLiteral("whoami"), {});
        QCOMPARE(answerKind(reconnect), QStringLiteral("config"));
        QCOMPARE(errorRule(reconnect), QStringLiteral("connection.needs_reconnect"));
        QVERIFY2(errorMessage(reconnect).contains(QStringLiteral("vivarium connect acme --name "
                                                                 "acme-main` again")) &&
                     errorMessage(reconnect).contains(QStringLiteral("revoked")),
                 qPrintable(errorMessage(reconnect)));
        QCOMPARE(h.upstream.connectionCount(), 0);

        // Two connections and a grant that names none: which one is ambiguous.
        QVERIFY(h.store->setConnectionStatus(QStringLiteral("acme-main"), QStringLiteral("ok")));
        QVERIFY(h.addConnection(QStringLiteral("acme-other"), QStringLiteral("acme"), "other-key"));
        const QJsonObject ambiguous =
            h.operation(QStringLiteral("acme"), QStringLiteral("whoami"), {});
        QCOMPARE(errorRule(ambiguous), QStringLiteral("credential.unreadable"));
        QVERIFY2(errorMessage(ambiguous).contains(QStringLiteral("has 2 connections (acme-main, "
                                                                 "acme-other): name one")),
                 qPrintable(errorMessage(ambiguous)));
        QCOMPARE(h.upstream.connectionCount(), 0);

        // Named, it works; the other connection's key is redacted too.
        h.upstream.setHandler(
            [](const FakeUpstream::Request&) { return respond(200, "leak: other-key"); });
        h.open({Harness::grant(QStringLiteral("acme"), {QStringLiteral("whoami")},
                               QStringLiteral("acme-main")),
                Harness::grant(QStringLiteral("acme"), {}, QStringLiteral("acme-other"))});
        const QJsonObject named = h.operation(QStringLiteral("acme"), QStringLiteral("whoami"), {});
        QVERIFY2(named.value(QStringLiteral("ok")).toBool(), json(named).constData());
        QCOMPARE(h.upstream.requests().first().header("x-api-key"), Canary);
        QCOMPARE(response(named).value(QStringLiteral("body")).toString(),
                 QStringLiteral("leak: [REDACTED]"));

        // A connection whose secret is gone refuses rather than calling unauthenticated.
        QVERIFY(h.secrets.remove(
            VaultCredentialSource::tokenKey(QStringLiteral("acme"), QStringLiteral("acme-main"))));
        const QJsonObject gone = h.operation(QStringLiteral("acme"), QStringLiteral("whoami"), {},
                                             QStringLiteral("acme-main"));
        QCOMPARE(errorRule(gone), QStringLiteral("connection.needs_reconnect"));
        QCOMPARE(h.upstream.requestCount(), 1);
    }

    /** The generic provider: base URL and key header from the connection. */
    void genericApiKeyProvider()
    {
        Harness h;
        QVERIFY(h.ok());
        ConnectionRecord r;
        r.name = QStringLiteral("custom");
        r.provider = QStringLiteral("http_api_key");
        r.auth = QStringLiteral("api_key");
        r.status = QStringLiteral("ok");
        r.meta = {{QStringLiteral("base_url"), h.base()},
                  {QStringLiteral("api_key_name"), QStringLiteral("X-Token")},
                  {QStringLiteral("api_key_prefix"), QStringLiteral("")}};
        QVERIFY(h.store->saveConnection(r));
        QVERIFY(h.secrets.write(VaultCredentialSource::tokenKey(r.provider, r.name), Canary));
        h.dns->add(QStringLiteral("elsewhere.test"), QHostAddress(QHostAddress::LocalHost));
        h.options.localEndpoints.append(QStringLiteral("elsewhere.test:%1").arg(h.upstream.port()));
        h.open({Harness::grant(
            QStringLiteral("http_api_key"), {}, {},
            {h.url(QStringLiteral("/**")),
             QStringLiteral("http://elsewhere.test:%1/**").arg(h.upstream.port())})});
        const QJsonObject answer = h.call({{QStringLiteral("method"), QStringLiteral("GET")},
                                           {QStringLiteral("url"), h.url(QStringLiteral("/x"))}});
        QVERIFY2(answer.value(QStringLiteral("ok")).toBool(), json(answer).constData());
        QCOMPARE(h.upstream.requests().first().header("x-token"), Canary);
        const QJsonObject other =
            h.call({{QStringLiteral("method"), QStringLiteral("GET")},
                    {QStringLiteral("url"),
                     QStringLiteral("http://elsewhere.test:%1/x").arg(h.upstream.port())}});
        QCOMPARE(response(other).value(QStringLiteral("credential")).toString(),
                 QStringLiteral("not_bound_host"));
        QVERIFY(!h.upstream.requests().last().hasHeader("x-token"));
    }

    void connectionTest()
    {
        Harness h;
        QVERIFY(h.ok());
        const auto m = h.catalog()->find(QStringLiteral("acme"));
        QVERIFY(m);
        auto record = h.store->connection(QStringLiteral("acme-main"));
        QVERIFY(record);
        auto result = testConnection(*m, *record, h.secrets, h.options);
        QVERIFY2(result, result ? "" : qPrintable(result.error().toString()));
        QVERIFY(result->ok);
        QCOMPARE(result->status, 200);
        QCOMPARE(result->operation, QStringLiteral("whoami"));
        QCOMPARE(result->credential, QStringLiteral("injected"));
        QCOMPARE(result->url, QStringLiteral("http://localhost:%1/v1/me").arg(h.upstream.port()));
        QVERIFY(result->latencyMs >= 0 && result->latencyMs < 10000);
        QCOMPARE(result->body.value(QStringLiteral("key")).toString(),
                 QStringLiteral("[REDACTED]"));
        QVERIFY(result->message.startsWith(QStringLiteral("HTTP 200 from GET http://localhost:")));
        QCOMPARE(h.upstream.requests().first().header("x-api-key"), Canary);

        h.upstream.setHandler(
            [](const FakeUpstream::Request&) { return respond(401, "{\"error\":\"bad key\"}"); });
        auto rejected = testConnection(*m, *record, h.secrets, h.options);
        QVERIFY(rejected);
        QVERIFY(!rejected->ok);
        QCOMPARE(rejected->status, 401);
        QVERIFY2(rejected->message.contains(QStringLiteral("vivarium connect acme --name "
                                                           "acme-main")),
                 qPrintable(rejected->message));

        // Not explicitly local: the key is not sent over http, nothing is sent at all.
        ProviderCallOptions strict = h.options;
        strict.localEndpoints.clear();
        const int before = h.upstream.connectionCount();
        auto refused = testConnection(*m, *record, h.secrets, strict);
        QVERIFY(!refused);
        QVERIFY2(refused.error().message.contains(QStringLiteral("credential.cleartext")),
                 qPrintable(refused.error().message));
        QCOMPARE(h.upstream.connectionCount(), before);

        // No test operation.
        const auto generic = h.catalog()->find(QStringLiteral("http_api_key"));
        QVERIFY(generic);
        ConnectionRecord g;
        g.name = QStringLiteral("g");
        g.provider = QStringLiteral("http_api_key");
        auto none = testConnection(*generic, g, h.secrets, h.options);
        QVERIFY(!none);
        QCOMPARE(none.error().code, Error::Code::Unsupported);
    }

    /** What the runner is told: one tool per granted operation, shared across connections. */
    void operationToolSpecs()
    {
        Harness h;
        QVERIFY(h.ok());
        const OperationTools tools = operationTools(
            {Harness::grant(QStringLiteral("acme"),
                            {QStringLiteral("get_item"), QStringLiteral("create_item")},
                            QStringLiteral("one")),
             Harness::grant(QStringLiteral("acme"), {QStringLiteral("get_item")},
                            QStringLiteral("two")),
             Harness::grant(QStringLiteral("acme"), {QStringLiteral("nope")}),
             Harness::grant(QStringLiteral("ghost"), {QStringLiteral("x")})},
            *h.catalog());
        QCOMPARE(tools.tools.size(), 2);
        const QJsonObject get = tools.tools.at(0).toObject();
        QCOMPARE(get.value(QStringLiteral("name")).toString(), QStringLiteral("acme_get_item"));
        QCOMPARE(get.value(QStringLiteral("connections")).toArray(),
                 (QJsonArray{QStringLiteral("one"), QStringLiteral("two")}));
        QCOMPARE(get.value(QStringLiteral("writes")).toBool(), false);
        QVERIFY(!json(get.value(QStringLiteral("parameters")).toObject()).contains("x-"));
        const QJsonObject create = tools.tools.at(1).toObject();
        QCOMPARE(create.value(QStringLiteral("writes")).toBool(), true);
        QVERIFY(create.value(QStringLiteral("description"))
                    .toString()
                    .contains(QStringLiteral("changes data")));
        QCOMPARE(tools.warnings.size(), 2);
        QVERIFY2(tools.warnings.at(0).contains(QStringLiteral("no operation \"nope\"")),
                 qPrintable(tools.warnings.at(0)));
        QVERIFY2(tools.warnings.at(1).contains(QStringLiteral("\"ghost\" is not in the catalog")),
                 qPrintable(tools.warnings.at(1)));
    }

    /** The shipped manifests' URIs read the same to the broker, and allow their operations. */
    void shippedManifestsAgreeWithTheBroker()
    {
        const ProviderCatalog catalog = ProviderCatalog::load({});
        const QJsonObject meta{{QStringLiteral("cloud_id"), QStringLiteral("abc")},
                               {QStringLiteral("base_url"), QStringLiteral("https://a.example")}};
        for (const ProviderManifest& m : catalog.manifests()) {
            for (const QString& uri : m.authorizedUris)
                QVERIFY2(ProviderCallPolicy::patternProblem(uri).isEmpty(),
                         qPrintable(m.id + QStringLiteral(": ") + uri));
            for (const ProviderOperation& op : m.operations) {
                QJsonObject args;
                const QJsonObject props =
                    op.parameters.value(QStringLiteral("properties")).toObject();
                for (const QJsonValue& r :
                     op.parameters.value(QStringLiteral("required")).toArray()) {
                    const QString type = props.value(r.toString())
                                             .toObject()
                                             .value(QStringLiteral("type"))
                                             .toString();
                    args.insert(r.toString(), type == QLatin1String("integer") ? QJsonValue(1)
                                              : type == QLatin1String("object")
                                                  ? QJsonValue(QJsonObject())
                                                  : QJsonValue(QStringLiteral("x")));
                }
                auto rendered = ProviderCatalog::render(m, op.name, args, meta);
                QVERIFY2(rendered, qPrintable(m.id + QLatin1Char('.') + op.name));
                ProviderCallRequest request;
                request.provider = m.id;
                request.method = rendered->method;
                request.url = rendered->url;
                for (const auto& [n, v] : std::as_const(rendered->headers))
                    request.headers.append({QString::fromLatin1(n), QString::fromUtf8(v)});
                request.body = rendered->body;
                ProviderGrant g;
                g.provider = m.id;
                g.authorizedUris = m.authorizedUris;
                auto checked = ProviderCallPolicy({g}).check(request);
                QVERIFY2(checked,
                         qPrintable(m.id + QLatin1Char('.') + op.name + QStringLiteral(": ") +
                                    (checked ? QString() : checked.error().message)));
                QCOMPARE(checked->url.host, m.credentialHost);
            }
        }
    }

    /** A run of the real runner: the model calls the operation tool, the broker does the rest. */
    void runCallsAnOperationTool()
    {
        QTemporaryDir dir;
        auto opened = Store::open(Paths(dir.path()).storeFile());
        QVERIFY(opened);
        std::unique_ptr<Store> store = std::move(*opened);
        MemorySecretStore secrets;
        FakeUpstream upstream;
        upstream.setHandler(echo);
        QVERIFY(upstream.start());
        testsupport::FakeModelServer model;
        QVERIFY(model.start());
        // The manifest lives in the data directory: the run loads it when it starts.
        QVERIFY(QDir().mkpath(ProviderCatalog::userDirectory(dir.path())));
        {
            QFile f(ProviderCatalog::userDirectory(dir.path()) + QStringLiteral("/acme.json"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(json(manifest(QStringLiteral("acme"), upstream.port(), apiKeyHeader())));
        }
        ConnectionRecord conn;
        conn.name = QStringLiteral("main");
        conn.provider = QStringLiteral("acme");
        conn.auth = QStringLiteral("api_key");
        conn.status = QStringLiteral("ok");
        QVERIFY(store->saveConnection(conn));
        QVERIFY(secrets.write(
            VaultCredentialSource::tokenKey(QStringLiteral("acme"), QStringLiteral("main")),
            Canary));
        ModelEndpointRecord endpoint;
        endpoint.name = QStringLiteral("fake");
        endpoint.api = QStringLiteral("openai");
        endpoint.baseUrl = model.openAiBaseUrl().toString();
        endpoint.secretKey = QStringLiteral("model-endpoint/fake/api-key");
        QVERIFY(store->saveModelEndpoint(endpoint));
        QVERIFY(secrets.write(endpoint.secretKey, ModelKey));

        auto toolCall = [](const QString& id, const QString& name, const QJsonObject& args) {
            return QJsonObject{{QStringLiteral("id"), id},
                               {QStringLiteral("name"), name},
                               {QStringLiteral("arguments"), args}};
        };
        model.setScript(QJsonArray{
            QJsonObject{
                {QStringLiteral("tool_calls"),
                 QJsonArray{toolCall(QStringLiteral("c1"), QStringLiteral("acme_get_item"),
                                     {{QStringLiteral("id"), QStringLiteral("7")}}),
                            toolCall(QStringLiteral("c2"), QStringLiteral("acme_get_item"),
                                     {{QStringLiteral("id"), 7}}),
                            toolCall(QStringLiteral("c3"), QStringLiteral("acme_delete_item"),
                                     {{QStringLiteral("id"), QStringLiteral("7")}})}}},
            QJsonObject{{QStringLiteral("text"), QStringLiteral("done")}}});

        AgentDefinition def;
        def.id = QStringLiteral("operator");
        def.name = QStringLiteral("Operator");
        def.prompt = QStringLiteral("Fetch item 7.");
        def.model.endpoint = QStringLiteral("fake");
        def.model.name = QStringLiteral("test-model");
        def.tools.memory = false;
        def.limits.timeoutS = 60;
        ProviderGrant g;
        g.provider = QStringLiteral("acme");
        g.operations = {QStringLiteral("get_item")};
        def.providers = {g};
        QVERIFY(store->saveAgent(def));

        SupervisorOptions o;
        o.runnerPath = testsupport::bin(QStringLiteral("vivarium-runner"));
        auto dns = std::make_shared<StaticResolver>();
        dns->add(QStringLiteral("localhost"), QHostAddress(QHostAddress::LocalHost));
        o.providerCalls.resolver = dns;
        o.providerCalls.localEndpoints = {QStringLiteral("localhost:%1").arg(upstream.port())};
        auto sup = std::make_unique<RunSupervisor>(store.get(), &secrets, Paths(dir.path()), o);
        QHash<QString, RunStatus> finished;
        QObject::connect(sup.get(), &RunSupervisor::runFinished, sup.get(),
                         [&finished](const QString& id, RunStatus status, const QString&) {
                             finished.insert(id, status);
                         });
        auto queued =
            sup->enqueue(QStringLiteral("operator"), QJsonObject(), QStringLiteral("test"));
        QVERIFY(queued);
        QTRY_VERIFY_WITH_TIMEOUT(finished.contains(queued->id), 30000);
        sup->shutdown(1000);
        auto run = store->run(queued->id);
        QVERIFY(run);
        QVERIFY2(run->status == RunStatus::Succeeded, qPrintable(run->reason));

        // The model was offered the operation as a tool, its schema without x- keywords.
        const auto requests = model.requests();
        QCOMPARE(requests.size(), 2);
        bool offered = false;
        for (const QJsonValue& t : requests.first().json.value(QStringLiteral("tools")).toArray()) {
            const QJsonObject fn = t.toObject().value(QStringLiteral("function")).toObject();
            if (fn.value(QStringLiteral("name")).toString() != QLatin1String("acme_get_item"))
                continue;
            offered = true;
            QVERIFY(!json(fn).contains("\"x-"));
            QCOMPARE(fn.value(QStringLiteral("parameters"))
                         .toObject()
                         .value(QStringLiteral("required"))
                         .toArray(),
                     QJsonArray{QStringLiteral("id")});
        }
        QVERIFY(offered);

        // One call reached the upstream with the connection's key; the bad one was stopped by
        // the runner's schema check, the ungranted one is no tool at all.
        QCOMPARE(upstream.requestCount(), 1);
        QCOMPARE(upstream.requests().first().target, QByteArray("/v1/items/7"));
        QCOMPARE(upstream.requests().first().header("x-api-key"), Canary);
        QStringList results;
        for (const QJsonValue& m :
             requests.last().json.value(QStringLiteral("messages")).toArray()) {
            if (m.toObject().value(QStringLiteral("role")).toString() == QLatin1String("tool"))
                results.append(m.toObject().value(QStringLiteral("content")).toString());
        }
        QCOMPARE(results.size(), 3);
        QVERIFY2(results.at(0).startsWith(QStringLiteral("HTTP 200")) &&
                     results.at(0).contains(QStringLiteral("[REDACTED]")),
                 qPrintable(results.at(0)));
        QVERIFY2(results.at(1).contains(QStringLiteral("/id")), qPrintable(results.at(1)));
        QVERIFY2(results.at(2).contains(QStringLiteral("acme_delete_item")),
                 qPrintable(results.at(2)));

        QStringList rows;
        for (const AuditRecord& r :
             store->auditRecords(queued->id).value_or(QList<AuditRecord>{})) {
            if (r.action == QLatin1String("provider.call"))
                rows.append(r.details.value(QStringLiteral("operation")).toString() +
                            QLatin1Char(':') +
                            r.details.value(QStringLiteral("decision")).toString());
        }
        QCOMPARE(rows, QStringList{QStringLiteral("get_item:allow")});

        for (const auto& r : requests)
            QVERIFY2(leaked(r.body).isEmpty(), qPrintable(leaked(r.body)));
        QByteArray all;
        QDirIterator it(dir.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            QFile f(it.next());
            if (f.open(QIODevice::ReadOnly))
                all += f.readAll();
        }
        QVERIFY2(leaked(all).isEmpty(), qPrintable(leaked(all)));
    }

private:
    static QString answerKind(const QJsonObject& answer)
    {
        return answer.value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("kind"))
            .toString();
    }
};

QTEST_GUILESS_MAIN(TestProviderOperations)
#include "tst_ProviderOperations.moc"
