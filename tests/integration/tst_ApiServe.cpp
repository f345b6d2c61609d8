// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The HTTP API end to end: the real `vivarium serve --api` on 127.0.0.1, called as a script
// would (raw HTTP/1.1, responses parsed by http-parser): serving flags, auth and scopes, every
// kind of bad request with its status and problem type, size and rate limits, idempotency,
// long-poll, pagination, the CRUD areas, metrics, OpenAPI, and a canary secret that must
// appear in no response.
#include "ApiTestServer.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace testsupport;

namespace {

const QByteArray Canary = "sk-canary-api-5d1e0c7b9a2f4e88";
using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray agentJson(const QString& id, const QString& endpoint)
{
    return QJsonDocument(
               QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("name"), QString(QStringLiteral("Agent ") + id)},
                           {QStringLiteral("prompt"), QStringLiteral("Answer briefly.")},
                           {QStringLiteral("model"),
                            QJsonObject{{QStringLiteral("endpoint"), endpoint},
                                        {QStringLiteral("name"), QStringLiteral("gpt-4o-mini")}}},
                           {QStringLiteral("sandbox"),
                            QJsonObject{{QStringLiteral("tier"), QStringLiteral("none")},
                                        {QStringLiteral("min_tier"), QStringLiteral("none")}}}})
        .toJson();
}

qint64 peakRssKb(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

} // namespace

class TestApiServe : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<ApiTestServer> m_api;
    QByteArray m_admin, m_rw, m_ro, m_revoked;

    ApiTestServer& api() { return *m_api; }

    /** Check one problem+json response thoroughly. */
    static void checkProblem(const RawResponse& r, int status, const QString& slug)
    {
        QVERIFY2(r.status == status, qPrintable(QStringLiteral("status %1, expected %2: %3")
                                                    .arg(r.status)
                                                    .arg(status)
                                                    .arg(QString::fromUtf8(r.body))));
        QCOMPARE(r.header("content-type"), QByteArray("application/problem+json"));
        const QJsonObject p = r.json().object();
        QCOMPARE(p.value(QStringLiteral("type")).toString(),
                 QStringLiteral("https://vivarium.dev/problems/") + slug);
        QCOMPARE(p.value(QStringLiteral("status")).toInt(), status);
        QVERIFY(!p.value(QStringLiteral("title")).toString().isEmpty());
        QVERIFY(!p.value(QStringLiteral("detail")).toString().isEmpty());
        QVERIFY(r.header("access-control-allow-origin").isEmpty());
    }

    QString startRun(const QByteArray& key, const QString& agent, const QJsonValue& input = {})
    {
        QJsonObject body{{QStringLiteral("agent"), agent}};
        if (!input.isUndefined() && !input.isNull())
            body.insert(QStringLiteral("input"), input);
        const RawResponse r = api().call("POST", "/v1/runs", key, body);
        if (r.status != 202)
            qWarning().noquote() << r.status << r.body;
        return r.json().object().value(QStringLiteral("id")).toString();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_api = std::make_unique<ApiTestServer>(m_tmp.filePath(QStringLiteral("data")));
        const QString fastScript = m_tmp.filePath(QStringLiteral("fast.json"));
        const QString slowScript = m_tmp.filePath(QStringLiteral("slow.json"));
        QVERIFY(writeFile(fastScript, "[{\"text\": \"done\"}]"));
        QVERIFY(writeFile(slowScript, "[{\"text\": \"done slowly\", \"delay_ms\": 2500}]"));
        const quint16 fast = api().startFakeModel(fastScript);
        const quint16 slow = api().startFakeModel(slowScript);
        QVERIFY(fast && slow);
        for (const auto& [name, port] : {qMakePair(QStringLiteral("fake"), fast),
                                         qMakePair(QStringLiteral("slowfake"), slow)}) {
            const auto r = runCli(
                api().dataDir(),
                {QStringLiteral("model"), QStringLiteral("add"), name, QStringLiteral("--api"),
                 QStringLiteral("openai"), QStringLiteral("--base-url"),
                 QStringLiteral("http://127.0.0.1:%1/v1").arg(port), QStringLiteral("--key-stdin")},
                Canary + "\n");
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        }
        for (const auto& [id, endpoint] :
             {qMakePair(QStringLiteral("fast"), QStringLiteral("fake")),
              qMakePair(QStringLiteral("slow"), QStringLiteral("slowfake")),
              qMakePair(QStringLiteral("nomodel"), QStringLiteral("missing"))}) {
            const QString file = m_tmp.filePath(id + QStringLiteral(".agent.json"));
            QVERIFY(writeFile(file, agentJson(id, endpoint)));
            const auto r =
                runCli(api().dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), file});
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        }
        m_admin = api().createKey(QStringLiteral("admin"), {QStringLiteral("admin")});
        m_rw = api().createKey(QStringLiteral("rw"),
                               {QStringLiteral("runs:read"), QStringLiteral("runs:write"),
                                QStringLiteral("agents:read"), QStringLiteral("agents:write")});
        m_ro = api().createKey(QStringLiteral("ro"), {QStringLiteral("runs:read")});
        m_revoked = api().createKey(QStringLiteral("gone"), {QStringLiteral("runs:read")});
        QVERIFY(m_admin.startsWith("viv_") && m_admin.size() == 47);
        QVERIFY(!m_rw.isEmpty() && !m_ro.isEmpty() && !m_revoked.isEmpty());
        const auto revoke =
            runCli(api().dataDir(),
                   {QStringLiteral("api-key"), QStringLiteral("revoke"), QStringLiteral("gone")});
        QVERIFY2(revoke.exitCode == 0, qPrintable(revoke.describe()));
        QVERIFY2(api().startServe(), api().serveLog().constData());
    }

    void cleanupTestCase()
    {
        if (!m_api)
            return;
        // The canary model key and the API keys' secrets never come back in any response.
        const QByteArray all = api().transcript();
        QVERIFY(!all.isEmpty());
        QVERIFY2(!all.contains(Canary), "the model key appeared in an API response");
        for (const QByteArray& key : {m_admin, m_rw, m_ro})
            QVERIFY2(!all.contains(key), "an API key secret appeared in a response");
        m_api->stopServe();
        QVERIFY2(!api().serveLog().contains(Canary), "the model key appeared in the serve log");
        for (const QByteArray& key : {m_admin, m_rw, m_ro})
            QVERIFY2(!api().serveLog().contains(key), "an API key appeared in the serve log");
    }

    void serveRefusesUnsafeListen_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("any address")
            << QStringList{QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0")}
            << QStringLiteral("not a loopback address");
        QTest::newRow("remote without tls")
            << QStringList{QStringLiteral("--listen"), QStringLiteral("0.0.0.0:0"),
                           QStringLiteral("--allow-remote")}
            << QStringLiteral("needs TLS");
        QTest::newRow("not host:port")
            << QStringList{QStringLiteral("--listen"), QStringLiteral("8765")}
            << QStringLiteral("not HOST:PORT");
        QTest::newRow("a name") << QStringList{QStringLiteral("--listen"),
                                               QStringLiteral("example.com:80")}
                                << QStringLiteral("not an IP address");
    }
    void serveRefusesUnsafeListen()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QStringList all{QStringLiteral("serve"), QStringLiteral("--api")};
        all << args;
        const auto r = runCli(dir.filePath(QStringLiteral("d")), all, {}, 30000);
        QVERIFY2(r.exitCode != 0, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(message.toUtf8()), qPrintable(r.describe()));
    }

    void healthNeedsNoKeyEverythingElseDoes()
    {
        RawResponse r = api().call("GET", "/v1/health", {});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().object().value(QStringLiteral("status")).toString(),
                 QStringLiteral("ok"));
        for (const QByteArray& path : {QByteArray("/v1/runs"), QByteArray("/metrics"),
                                       QByteArray("/openapi.json"), QByteArray("/v1/agents")}) {
            r = api().call("GET", path, {});
            checkProblem(r, 401, QStringLiteral("unauthorized"));
            QCOMPARE(r.header("www-authenticate"), QByteArray("Bearer realm=\"vivarium\""));
        }
    }

    void badRequests_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("key"); // "rw", "ro", "admin", "revoked", "none" or a literal
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("slug");
        const Headers json{{"Content-Type", "application/json"}};
        const QByteArray runId = "run_01J9Z3K4M5N6P7Q8R9S0T1V2W3";
        auto row = [&](const char* name, QByteArray m, QByteArray p, QByteArray k, Headers h,
                       QByteArray b, int s, const char* slug) {
            QTest::newRow(name) << m << p << k << h << b << s << QString::fromLatin1(slug);
        };
        row("malformed json", "POST", "/v1/runs", "rw", json, "{\"agent\": ", 400,
            "malformed-json");
        row("body is an array", "POST", "/v1/runs", "rw", json, "[\"fast\"]", 400,
            "malformed-json");
        row("empty body", "POST", "/v1/runs", "rw", json, "", 400, "malformed-json");
        row("agent of wrong type", "POST", "/v1/runs", "rw", json, "{\"agent\": 5}", 422,
            "validation-failed");
        row("unknown field", "POST", "/v1/runs", "rw", json, "{\"agent\": \"fast\", \"inptu\": 1}",
            422, "validation-failed");
        row("webhook url of wrong type", "POST", "/v1/runs", "admin", json,
            "{\"agent\": \"fast\", \"webhook\": {\"url\": 5}}", 422, "validation-failed");
        row("webhook url not http", "POST", "/v1/runs", "admin", json,
            "{\"agent\": \"fast\", \"webhook\": \"ftp://x\"}", 422, "validation-failed");
        // runs:write alone must not make the engine POST to a URL of the caller's choosing.
        row("webhook without webhooks:write", "POST", "/v1/runs", "rw", json,
            "{\"agent\": \"fast\", \"webhook\": \"http://127.0.0.1:9/hook\"}", 403,
            "insufficient-scope");
        row("unknown agent", "POST", "/v1/runs", "rw", json, "{\"agent\": \"nobody\"}", 422,
            "validation-failed");
        row("agent id malformed", "POST", "/v1/runs", "rw", json, "{\"agent\": \"../etc\"}", 422,
            "validation-failed");
        row("text/plain body", "POST", "/v1/runs", "rw", {{"Content-Type", "text/plain"}},
            "{\"agent\": \"fast\"}", 415, "unsupported-media-type");
        row("no content type", "POST", "/v1/runs", "rw", {}, "{\"agent\": \"fast\"}", 415,
            "unsupported-media-type");
        row("run id malformed", "GET", "/v1/runs/nope", "rw", {}, {}, 404, "not-found");
        row("run id unknown", "GET", "/v1/runs/" + runId, "rw", {}, {}, 404, "not-found");
        row("cancel unknown run", "POST", "/v1/runs/" + runId + "/cancel", "rw", {}, {}, 404,
            "not-found");
        row("events of unknown run", "GET", "/v1/runs/" + runId + "/events", "rw", {}, {}, 404,
            "not-found");
        row("agent runs of unknown agent", "POST", "/v1/agents/nobody/runs", "rw", json, "{}", 404,
            "not-found");
        row("unknown path", "GET", "/v1/nothing", "rw", {}, {}, 404, "not-found");
        row("wrong method", "DELETE", "/v1/runs", "rw", {}, {}, 405, "method-not-allowed");
        row("no key", "GET", "/v1/runs", "none", {}, {}, 401, "unauthorized");
        row("unknown key", "GET", "/v1/runs", "viv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", {},
            {}, 401, "unauthorized");
        row("garbage key", "GET", "/v1/runs", "hunter2", {}, {}, 401, "unauthorized");
        row("basic auth", "GET", "/v1/runs", "none", {{"Authorization", "Basic dXNlcjpwYXNz"}}, {},
            401, "unauthorized");
        row("revoked key", "GET", "/v1/runs", "revoked", {}, {}, 401, "api-key-revoked");
        row("read-only key starts a run", "POST", "/v1/runs", "ro", json, "{\"agent\": \"fast\"}",
            403, "insufficient-scope");
        row("read-only key lists agents", "GET", "/v1/agents", "ro", {}, {}, 403,
            "insufficient-scope");
        row("non-admin lists keys", "GET", "/v1/api-keys", "rw", {}, {}, 403, "insufficient-scope");
        row("foreign host", "GET", "/v1/health", "rw", {{"Host", "evil.example:80"}}, {}, 403,
            "host-not-allowed");
        row("rebinding name, our port", "GET", "/v1/runs", "rw",
            {{"Host", "attacker.example:PORT"}}, {}, 403, "host-not-allowed");
        row("loopback name, other port", "GET", "/v1/runs", "rw", {{"Host", "localhost:1"}}, {},
            403, "host-not-allowed");
        row("cors preflight", "OPTIONS", "/v1/runs", "none",
            {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}}, {},
            403, "cross-origin-refused");
        row("browser origin", "GET", "/v1/runs", "rw", {{"Origin", "http://localhost:3000"}}, {},
            403, "cross-origin-refused");
        row("wait not a number", "GET", "/v1/runs/" + runId + "?wait=soon", "rw", {}, {}, 400,
            "invalid-request");
        row("wait too long", "GET", "/v1/runs/" + runId + "?wait=61", "rw", {}, {}, 400,
            "invalid-request");
        row("unknown query parameter", "GET", "/v1/runs?colour=red", "rw", {}, {}, 400,
            "invalid-request");
        row("limit zero", "GET", "/v1/runs?limit=0", "rw", {}, {}, 400, "invalid-request");
        row("status unknown", "GET", "/v1/runs?status=done", "rw", {}, {}, 400, "invalid-request");
        row("cursor forged", "GET", "/v1/runs?cursor=abc", "rw", {}, {}, 400, "invalid-request");
        row("since not a date", "GET", "/v1/runs?since=yesterday", "rw", {}, {}, 400,
            "invalid-request");
        row("idempotency key too long", "POST", "/v1/runs", "rw",
            {{"Content-Type", "application/json"}, {"Idempotency-Key", QByteArray(300, 'k')}},
            "{\"agent\": \"fast\"}", 400, "invalid-request");
        row("last-event-id not a seq", "GET", "/v1/runs/RUN/events", "rw",
            {{"Last-Event-ID", "abc"}}, {}, 400, "invalid-request");
        row("events as html", "GET", "/v1/runs/RUN/events", "rw", {{"Accept", "text/html"}}, {},
            406, "not-acceptable");
        row("invalid agent definition", "POST", "/v1/agents", "rw", json,
            "{\"id\": \"Bad Id\", \"name\": 3, \"model\": {}}", 422, "validation-failed");
        row("agent id differs from path", "PUT", "/v1/agents/fast", "rw", json,
            agentJson(QStringLiteral("slow"), QStringLiteral("slowfake")), 422,
            "validation-failed");
        row("schedule with bad cron", "POST", "/v1/schedules", "rw", json,
            "{\"agent\": \"fast\", \"cron\": \"61 * * * *\"}", 422, "validation-failed");
        row("schedule with bad zone", "POST", "/v1/schedules", "rw", json,
            "{\"agent\": \"fast\", \"cron\": \"@daily\", \"tz\": \"Mars/Base\"}", 422,
            "validation-failed");
        row("schedule of unknown agent deleted", "DELETE", "/v1/schedules/nobody%231", "rw", {}, {},
            404, "not-found");
        row("api key without scopes", "POST", "/v1/api-keys", "admin", json,
            "{\"name\": \"x\", \"scopes\": []}", 422, "validation-failed");
        row("api key with unknown scope", "POST", "/v1/api-keys", "admin", json,
            "{\"name\": \"x\", \"scopes\": [\"root\"]}", 422, "validation-failed");
        row("revoke unknown key", "DELETE", "/v1/api-keys/key_nothere", "admin", {}, {}, 404,
            "not-found");
    }
    void badRequests()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, key);
        QFETCH(Headers, headers);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, slug);
        if (path.contains("RUN")) {
            static QString run;
            if (run.isEmpty())
                run = startRun(m_rw, QStringLiteral("nomodel"));
            path.replace("RUN", run.toLatin1());
        }
        for (auto& h : headers)
            h.second.replace("PORT", QByteArray::number(api().port()));
        QByteArray secret = key;
        if (key == "rw")
            secret = m_rw;
        else if (key == "ro")
            secret = m_ro;
        else if (key == "admin")
            secret = m_admin;
        else if (key == "revoked")
            secret = m_revoked;
        else if (key == "none")
            secret.clear();
        Headers all = headers;
        if (!secret.isEmpty())
            all.append(qMakePair(QByteArray("Authorization"), "Bearer " + secret));
        const RawResponse r = api().raw(rawRequest(api().port(), method, path, all, body));
        checkProblem(r, status, slug);
        const QJsonObject p = r.json().object();
        if (status == 422 && slug == QLatin1String("validation-failed"))
            QVERIFY2(!p.value(QStringLiteral("errors")).toArray().isEmpty(), r.body.constData());
        if (status == 405)
            QCOMPARE(r.header("allow"), QByteArray("GET, POST"));
    }

    void validationListsEveryProblem()
    {
        const RawResponse r = api().call(
            "POST", "/v1/agents", m_rw,
            QJsonObject{{QStringLiteral("id"), QStringLiteral("two-problems")},
                        {QStringLiteral("name"), QStringLiteral("Two")},
                        {QStringLiteral("prompt"), QStringLiteral("p")},
                        {QStringLiteral("model"),
                         QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("fake")},
                                     {QStringLiteral("name"), QStringLiteral("m")}}},
                        {QStringLiteral("limits"),
                         QJsonObject{{QStringLiteral("max_steps"), QStringLiteral("25")}}},
                        {QStringLiteral("providers"),
                         QJsonArray{QJsonObject{{QStringLiteral("scopez"), 1}}}}});
        checkProblem(r, 422, QStringLiteral("validation-failed"));
        const QStringList errors =
            r.json().object().value(QStringLiteral("errors")).toVariant().toStringList();
        QVERIFY2(errors.filter(QStringLiteral("/limits/max_steps")).size() == 1,
                 r.body.constData());
        QVERIFY2(errors.filter(QStringLiteral("/providers/0/scopez")).size() == 1,
                 r.body.constData());
        // The same words as `vivarium agent add` (AgentLoader), without a file name.
        QVERIFY2(errors.filter(QStringLiteral("expected an integer from 1 to 10000")).size() == 1,
                 r.body.constData());
    }

    void malformedHttpAndLimits()
    {
        // Not HTTP at all.
        RawResponse r = api().raw("HELLO THERE\r\n\r\n");
        checkProblem(r, 400, QStringLiteral("invalid-request"));
        // Headers past 16 KiB.
        r = api().raw(
            rawRequest(api().port(), "GET", "/v1/health", {{"X-Filler", QByteArray(20000, 'a')}}));
        checkProblem(r, 431, QStringLiteral("headers-too-large"));
        // A 1 GiB Content-Length is refused at once: nothing of the body was sent.
        r = api().raw(rawRequest(api().port(), "POST", "/v1/runs",
                                 {{"Authorization", "Bearer " + m_rw},
                                  {"Content-Type", "application/json"},
                                  {"Content-Length", "1073741824"}}));
        checkProblem(r, 413, QStringLiteral("payload-too-large"));
        // Chunked with no length: refused while it streams past 1 MiB.
        r = api().raw(rawRequest(api().port(), "POST", "/v1/runs",
                                 {{"Authorization", "Bearer " + m_rw},
                                  {"Content-Type", "application/json"},
                                  {"Transfer-Encoding", "chunked"}}) +
                          "200000\r\n",
                      20000, 64 * 1024 * 1024);
        checkProblem(r, 413, QStringLiteral("payload-too-large"));
        // Just over the limit, with the whole body sent.
        QByteArray big =
            "{\"agent\": \"fast\", \"input\": \"" + QByteArray(1024 * 1024, 'x') + "\"}";
        r = api().raw(rawRequest(
            api().port(), "POST", "/v1/runs",
            {{"Authorization", "Bearer " + m_rw}, {"Content-Type", "application/json"}}, big));
        checkProblem(r, 413, QStringLiteral("payload-too-large"));
        // Just under it is fine (the input is stored with the run).
        big = "{\"agent\": \"nomodel\", \"input\": \"" + QByteArray(1000 * 1000, 'x') + "\"}";
        r = api().raw(rawRequest(
            api().port(), "POST", "/v1/runs",
            {{"Authorization", "Bearer " + m_rw}, {"Content-Type", "application/json"}}, big));
        QCOMPARE(r.status, 202);
        // The engine never buffered the refused gigabyte.
        const qint64 rss = peakRssKb(api().servePid());
        QVERIFY2(rss > 0 && rss < 300 * 1024,
                 qPrintable(QStringLiteral("peak RSS %1 kB").arg(rss)));
        QCOMPARE(api().call("GET", "/v1/health", {}).status, 200);
    }

    void runLifecycleAndLongPoll()
    {
        // A run of the fast agent, awaited with a long-poll that answers as soon as it ends.
        const RawResponse created = api().call(
            "POST", "/v1/runs", m_rw,
            QJsonObject{{QStringLiteral("agent"), QStringLiteral("fast")},
                        {QStringLiteral("input"), QJsonObject{{QStringLiteral("q"), 1}}}});
        QCOMPARE(created.status, 202);
        const QJsonObject run = created.json().object();
        const QString id = run.value(QStringLiteral("id")).toString();
        QCOMPARE(created.header("location"), "/v1/runs/" + id.toLatin1());
        QCOMPARE(run.value(QStringLiteral("trigger")).toString(), QStringLiteral("api:rw"));
        QCOMPARE(run.value(QStringLiteral("links"))
                     .toObject()
                     .value(QStringLiteral("events"))
                     .toString(),
                 QStringLiteral("/v1/runs/%1/events").arg(id));
        QElapsedTimer t;
        t.start();
        RawResponse r = api().call("GET", "/v1/runs/" + id.toLatin1() + "?wait=60", m_ro,
                                   QJsonValue::Undefined);
        QCOMPARE(r.status, 200);
        QVERIFY2(t.elapsed() < 30000, "the long-poll did not answer when the run ended");
        QCOMPARE(r.json().object().value(QStringLiteral("status")).toString(),
                 QStringLiteral("succeeded"));
        QCOMPARE(r.json().object().value(QStringLiteral("output")).toString(),
                 QStringLiteral("done"));

        // A slow run: a short wait answers at its deadline with the live state.
        const QString slow = startRun(m_rw, QStringLiteral("slow"));
        QVERIFY(!slow.isEmpty());
        t.restart();
        r = api().call("GET", "/v1/runs/" + slow.toLatin1() + "?wait=1", m_ro);
        QCOMPARE(r.status, 200);
        QVERIFY2(t.elapsed() >= 900 && t.elapsed() < 5000,
                 qPrintable(QString::number(t.elapsed())));
        QVERIFY(!r.json().object().value(QStringLiteral("terminal")).toBool());
        // Then waiting for it answers before the wait is over, as soon as it ends.
        t.restart();
        r = api().call("GET", "/v1/runs/" + slow.toLatin1() + "?wait=30", m_ro);
        QVERIFY2(t.elapsed() < 20000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(r.json().object().value(QStringLiteral("status")).toString(),
                 QStringLiteral("succeeded"));
    }

    void runWithWebhook()
    {
        const RawResponse r = api().call(
            "POST", "/v1/runs", m_admin,
            QJsonObject{{QStringLiteral("agent"), QStringLiteral("nomodel")},
                        {QStringLiteral("webhook"), QStringLiteral("http://127.0.0.1:9/hook")}});
        QCOMPARE(r.status, 202);
        const QString id = r.json().object().value(QStringLiteral("id")).toString();
        // No secret was given: the generated one is shown in this answer, once.
        const QJsonObject shown = r.json().object().value(QStringLiteral("webhook")).toObject();
        QVERIFY2(shown.value(QStringLiteral("secret")).toString().startsWith(
                     QStringLiteral("whsec_")),
                 r.body.constData());
        QCOMPARE(shown.value(QStringLiteral("url")).toString(),
                 QStringLiteral("http://127.0.0.1:9/hook"));
        const RawResponse hooks =
            api().call("GET", "/v1/webhooks?run_id=" + id.toLatin1(), m_admin);
        QCOMPARE(hooks.status, 200);
        QVERIFY2(hooks.body.contains("http://127.0.0.1:9/hook"), hooks.body.constData());
        QVERIFY(!hooks.body.contains(shown.value(QStringLiteral("secret")).toString().toUtf8()));
        // The problem names the field inside the webhook object.
        const RawResponse bad = api().call(
            "POST", "/v1/runs", m_admin,
            QJsonObject{{QStringLiteral("agent"), QStringLiteral("nomodel")},
                        {QStringLiteral("webhook"), QJsonObject{{QStringLiteral("url"), 5}}}});
        checkProblem(bad, 422, QStringLiteral("validation-failed"));
        QVERIFY2(bad.body.contains("/webhook/url: expected a string"), bad.body.constData());
    }

    void cancel()
    {
        const QString slow = startRun(m_rw, QStringLiteral("slow"));
        QVERIFY(!slow.isEmpty());
        RawResponse r = api().call("POST", "/v1/runs/" + slow.toLatin1() + "/cancel", m_rw);
        QCOMPARE(r.status, 202);
        const QJsonObject done = api().waitForRun(m_rw, slow);
        QCOMPARE(done.value(QStringLiteral("status")).toString(), QStringLiteral("cancelled"));
        QVERIFY(done.value(QStringLiteral("reason")).toString().contains(QStringLiteral("api:rw")));
        r = api().call("POST", "/v1/runs/" + slow.toLatin1() + "/cancel", m_rw);
        checkProblem(r, 409, QStringLiteral("conflict"));
        r = api().call("POST", "/v1/runs/" + slow.toLatin1() + "/cancel", m_ro);
        checkProblem(r, 403, QStringLiteral("insufficient-scope"));
    }

    void idempotency()
    {
        const QJsonObject body{{QStringLiteral("agent"), QStringLiteral("nomodel")},
                               {QStringLiteral("input"), QStringLiteral("once")}};
        const Headers idem{{"Idempotency-Key", "order-42"}};
        const RawResponse first = api().call("POST", "/v1/runs", m_rw, body, idem);
        QCOMPARE(first.status, 202);
        const QString id = first.json().object().value(QStringLiteral("id")).toString();
        const RawResponse again = api().call("POST", "/v1/runs", m_rw, body, idem);
        QCOMPARE(again.status, 202);
        QCOMPARE(again.json().object().value(QStringLiteral("id")).toString(), id);
        QCOMPARE(again.header("idempotent-replayed"), QByteArray("true"));
        // Same key, another body: refused, and no run is created.
        const RawResponse other =
            api().call("POST", "/v1/runs", m_rw,
                       QJsonObject{{QStringLiteral("agent"), QStringLiteral("nomodel")},
                                   {QStringLiteral("input"), QStringLiteral("twice")}},
                       idem);
        checkProblem(other, 422, QStringLiteral("idempotency-key-reused"));
        // The same key through the agent's own route is another request.
        const RawResponse viaAgent =
            api().call("POST", "/v1/agents/nomodel/runs", m_rw,
                       QJsonObject{{QStringLiteral("input"), QStringLiteral("once")}}, idem);
        checkProblem(viaAgent, 422, QStringLiteral("idempotency-key-reused"));
        // Keys are per API key: another key may use the same Idempotency-Key.
        const QByteArray second =
            api().createKey(QStringLiteral("rw2"), {QStringLiteral("runs:write")});
        const RawResponse theirs = api().call("POST", "/v1/runs", second, body, idem);
        QCOMPARE(theirs.status, 202);
        QVERIFY(theirs.json().object().value(QStringLiteral("id")).toString() != id);
        const RawResponse runs =
            api().call("GET", "/v1/runs?trigger=api:rw&agent=nomodel&limit=200", m_rw);
        int withOnce = 0;
        for (const QJsonValue& v : runs.json().object().value(QStringLiteral("runs")).toArray())
            withOnce +=
                v.toObject().value(QStringLiteral("input")).toString() == QLatin1String("once");
        QCOMPARE(withOnce, 1);
    }

    void paginationAndFilters()
    {
        const QDateTime before = QDateTime::currentDateTimeUtc();
        QStringList created;
        for (int i = 0; i < 7; ++i) {
            const RawResponse r = api().call("POST", "/v1/agents/nomodel/runs", m_rw,
                                             QJsonObject{{QStringLiteral("input"), i}});
            QCOMPARE(r.status, 202);
            created.prepend(r.json().object().value(QStringLiteral("id")).toString());
        }
        QStringList seen;
        QByteArray path =
            "/v1/runs?agent=nomodel&limit=3&since=" + before.toString(Qt::ISODateWithMs).toLatin1();
        int pages = 0;
        while (!path.isEmpty() && pages < 10) {
            const RawResponse r = api().call("GET", path, m_ro);
            QCOMPARE(r.status, 200);
            const QJsonObject page = r.json().object();
            for (const QJsonValue& v : page.value(QStringLiteral("runs")).toArray())
                seen << v.toObject().value(QStringLiteral("id")).toString();
            ++pages;
            path = page.value(QStringLiteral("links"))
                       .toObject()
                       .value(QStringLiteral("next"))
                       .toString()
                       .toLatin1();
            QCOMPARE(page.value(QStringLiteral("next_cursor")).isNull(), path.isEmpty());
        }
        QCOMPARE(pages, 3);
        QCOMPARE(seen, created); // newest first, no gap, no duplicate
        // Filters.
        RawResponse r = api().call("GET", "/v1/runs?status=failed&agent=nomodel&limit=200", m_ro);
        for (const QJsonValue& v : r.json().object().value(QStringLiteral("runs")).toArray())
            QCOMPARE(v.toObject().value(QStringLiteral("status")).toString(),
                     QStringLiteral("failed"));
        QVERIFY(r.json().object().value(QStringLiteral("runs")).toArray().size() >= 7);
        r = api().call("GET", "/v1/runs?trigger=api&limit=200", m_ro);
        const qsizetype apiRuns = r.json().object().value(QStringLiteral("runs")).toArray().size();
        QVERIFY(apiRuns >= 7);
        r = api().call("GET", "/v1/runs?trigger=schedule", m_ro);
        QCOMPARE(r.json().object().value(QStringLiteral("runs")).toArray().size(), 0);
        r = api().call("GET", "/v1/runs?since=2999-01-01T00:00:00Z", m_ro);
        QCOMPARE(r.json().object().value(QStringLiteral("runs")).toArray().size(), 0);
    }

    void agentsCrud()
    {
        RawResponse r = api().raw(
            rawRequest(api().port(), "POST", "/v1/agents",
                       {{"Authorization", "Bearer " + m_rw}, {"Content-Type", "application/json"}},
                       agentJson(QStringLiteral("crud"), QStringLiteral("fake"))));
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json().object().value(QStringLiteral("version")).toInt(), 1);
        QCOMPARE(r.header("location"), QByteArray("/v1/agents/crud"));
        r = api().raw(
            rawRequest(api().port(), "PUT", "/v1/agents/crud",
                       {{"Authorization", "Bearer " + m_rw}, {"Content-Type", "application/json"}},
                       agentJson(QStringLiteral("crud"), QStringLiteral("fake"))));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().object().value(QStringLiteral("created")).toBool(), false);
        r = api().raw(
            rawRequest(api().port(), "PUT", "/v1/agents/crud",
                       {{"Authorization", "Bearer " + m_rw}, {"Content-Type", "application/json"}},
                       agentJson(QStringLiteral("crud"), QStringLiteral("slowfake"))));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().object().value(QStringLiteral("version")).toInt(), 2);
        r = api().call("GET", "/v1/agents/crud?version=1", m_rw);
        QCOMPARE(r.json()
                     .object()
                     .value(QStringLiteral("definition"))
                     .toObject()
                     .value(QStringLiteral("model"))
                     .toObject()
                     .value(QStringLiteral("endpoint"))
                     .toString(),
                 QStringLiteral("fake"));
        r = api().call("GET", "/v1/agents/crud/versions", m_rw);
        QCOMPARE(r.json().object().value(QStringLiteral("versions")).toArray().size(), 2);
        r = api().call("GET", "/v1/agents", m_rw);
        QVERIFY(r.body.contains("\"crud\""));
        r = api().call("DELETE", "/v1/agents/crud", m_rw);
        QCOMPARE(r.status, 204);
        r = api().call("GET", "/v1/agents", m_rw);
        QVERIFY(!r.body.contains("\"crud\""));
        r = api().call("GET", "/v1/agents/nobody", m_rw);
        checkProblem(r, 404, QStringLiteral("not-found"));
    }

    void schedulesCrud()
    {
        RawResponse r =
            api().call("POST", "/v1/schedules", m_rw,
                       QJsonObject{{QStringLiteral("agent"), QStringLiteral("fast")},
                                   {QStringLiteral("cron"), QStringLiteral("0 9 * * 1-5")},
                                   {QStringLiteral("tz"), QStringLiteral("Europe/Paris")},
                                   {QStringLiteral("jitter"), QStringLiteral("5m")},
                                   {QStringLiteral("paused"), true}});
        QCOMPARE(r.status, 201);
        const QString id = r.json().object().value(QStringLiteral("id")).toString();
        QVERIFY(id.startsWith(QStringLiteral("sch_")));
        QCOMPARE(r.json().object().value(QStringLiteral("jitter_s")).toInt(), 300);
        r = api().call("POST", "/v1/schedules/" + id.toLatin1() + "/resume", m_rw);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().object().value(QStringLiteral("paused")).toBool(), false);
        QVERIFY(r.json()
                    .object()
                    .value(QStringLiteral("next_fire"))
                    .toString()
                    .contains(QStringLiteral("T09:00:00")));
        r = api().call("POST", "/v1/schedules/" + id.toLatin1() + "/pause", m_rw);
        QCOMPARE(r.json().object().value(QStringLiteral("paused")).toBool(), true);
        r = api().call("GET", "/v1/schedules?agent=fast", m_rw);
        QVERIFY(r.body.contains(id.toLatin1()));
        r = api().call("DELETE", "/v1/schedules/" + id.toLatin1(), m_rw);
        QCOMPARE(r.status, 204);
        r = api().call("GET", "/v1/schedules/" + id.toLatin1(), m_rw);
        checkProblem(r, 404, QStringLiteral("not-found"));
    }

    void apiKeysAndConnections()
    {
        RawResponse r = api().call(
            "POST", "/v1/api-keys", m_admin,
            QJsonObject{{QStringLiteral("name"), QStringLiteral("n8n")},
                        {QStringLiteral("scopes"), QJsonArray{QStringLiteral("runs:read")}}});
        QCOMPARE(r.status, 201);
        const QByteArray secret =
            r.json().object().value(QStringLiteral("key")).toString().toLatin1();
        const QString id = r.json().object().value(QStringLiteral("id")).toString();
        QVERIFY(secret.startsWith("viv_"));
        QCOMPARE(api().call("GET", "/v1/runs?limit=1", secret).status, 200);
        r = api().call("GET", "/v1/api-keys", m_admin);
        QVERIFY(r.body.contains(id.toLatin1()));
        QVERIFY(!r.body.contains(secret));
        QVERIFY(!r.body.contains("\"key\""));
        r = api().call("DELETE", "/v1/api-keys/" + id.toLatin1(), m_admin);
        QCOMPARE(r.status, 200);
        checkProblem(api().call("GET", "/v1/runs?limit=1", secret), 401,
                     QStringLiteral("api-key-revoked"));
        // Revoked from the CLI while serving: refused on the next request.
        const QByteArray cliKey =
            api().createKey(QStringLiteral("short-lived"), {QStringLiteral("runs:read")});
        QCOMPARE(api().call("GET", "/v1/runs?limit=1", cliKey).status, 200);
        const auto revoke =
            runCli(api().dataDir(), {QStringLiteral("api-key"), QStringLiteral("revoke"),
                                     QStringLiteral("short-lived")});
        QCOMPARE(revoke.exitCode, 0);
        checkProblem(api().call("GET", "/v1/runs?limit=1", cliKey), 401,
                     QStringLiteral("api-key-revoked"));
        r = api().call("GET", "/v1/connections", m_rw);
        QCOMPARE(r.status, 200);
        QVERIFY(r.json().object().value(QStringLiteral("connections")).isArray());
        const auto list =
            runCli(api().dataDir(),
                   {QStringLiteral("api-key"), QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(list.exitCode, 0);
        QVERIFY(!list.out.contains(m_admin));
        QVERIFY(list.out.contains("key_"));
    }

    void metricsAndOpenApi()
    {
        RawResponse r = api().call("GET", "/metrics", m_ro);
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("content-type").startsWith("text/plain; version=0.0.4"));
        for (const QByteArray& needle :
             {QByteArray("vivarium_runs{state=\"failed\"}"),
              QByteArray("vivarium_run_duration_seconds_bucket{le=\"+Inf\"}"),
              QByteArray("vivarium_tokens_total{direction=\"input\"}"),
              QByteArray("vivarium_cost_usd_total"), QByteArray("vivarium_api_responses_total{")})
            QVERIFY2(r.body.contains(needle), needle.constData());
        r = api().call("GET", "/openapi.json", m_ro);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().object().value(QStringLiteral("openapi")).toString(),
                 QStringLiteral("3.1.0"));
        QVERIFY(r.json()
                    .object()
                    .value(QStringLiteral("paths"))
                    .toObject()
                    .contains(QStringLiteral("/v1/runs/{id}/events")));
    }

    void keepAliveAndPipelining()
    {
        // Two requests in one write: two answers, in order, on the same connection.
        const QByteArray two = rawRequest(api().port(), "GET", "/v1/health") +
                               rawRequest(api().port(), "GET", "/v1/nothing");
        QTcpSocket s;
        s.connectToHost(QStringLiteral("127.0.0.1"), api().port());
        QVERIFY(s.waitForConnected(5000));
        s.write(two);
        QByteArray got;
        QTRY_VERIFY_WITH_TIMEOUT((got += s.readAll()).count("HTTP/1.1 ") == 2, 10000);
        QVERIFY(got.indexOf("HTTP/1.1 200") < got.indexOf("HTTP/1.1 404"));
        QCOMPARE(s.state(), QAbstractSocket::ConnectedState);
    }

    void rateLimits()
    {
        // A second engine with tight limits, on its own data directory.
        QTemporaryDir dir;
        ApiTestServer limited(dir.filePath(QStringLiteral("data")));
        const QByteArray key =
            limited.createKey(QStringLiteral("busy"), {QStringLiteral("runs:read")});
        QVERIFY(limited.startServe({QStringLiteral("--rate-limit"), QStringLiteral("5")}));
        int ok = 0;
        int refused = 0;
        RawResponse last;
        for (int i = 0; i < 40; ++i) {
            const RawResponse r = limited.call("GET", "/v1/runs?limit=1", key);
            if (r.status == 200)
                ++ok;
            else if (r.status == 429) {
                ++refused;
                last = r;
            }
        }
        QVERIFY2(ok >= 10 && refused > 0,
                 qPrintable(QStringLiteral("%1 ok, %2 refused").arg(ok).arg(refused)));
        checkProblem(last, 429, QStringLiteral("rate-limited"));
        QVERIFY(last.header("retry-after").toInt() >= 1);
        // Failed authentication is limited per client address.
        refused = 0;
        for (int i = 0; i < 40; ++i)
            refused +=
                limited.call("GET", "/v1/runs", "viv_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
                    .status == 429;
        QVERIFY(refused > 0);
        QCOMPARE(limited.call("GET", "/v1/health", {}).status, 200);
    }
};

QTEST_GUILESS_MAIN(TestApiServe)
#include "tst_ApiServe.moc"
