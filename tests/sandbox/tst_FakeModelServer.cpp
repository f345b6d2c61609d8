// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The scripted fake model server: its raw wire format, bookkeeping, and the standalone
// vivarium-fake-model executable that integration tests and benchmarks start.
#include "vivarium/sandbox/LlmClient.h"

#include "FakeModelServer.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;
using testsupport::FakeModelServer;

namespace {

struct RawResponse
{
    QByteArray head;
    QByteArray body; ///< de-chunked
};

/** Sends one HTTP request with a plain socket and reads until the server closes. */
RawResponse rawPost(quint16 port, const QByteArray& path, const QByteArray& body,
                    bool expectContinue = false)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(3000))
        return {};
    QByteArray head = "POST " + path +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                      "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    if (expectContinue)
        head += "Expect: 100-continue\r\n";
    s.write(head + "\r\n");
    s.waitForBytesWritten(3000);
    if (expectContinue) {
        QByteArray interim;
        while (!interim.contains("\r\n\r\n") && s.waitForReadyRead(3000))
            interim += s.readAll();
        if (!interim.startsWith("HTTP/1.1 100"))
            return {interim, {}};
    }
    s.write(body);
    QByteArray all;
    while (s.state() == QAbstractSocket::ConnectedState && s.waitForReadyRead(3000))
        all += s.readAll();
    all += s.readAll();
    RawResponse r;
    const qsizetype split = all.indexOf("\r\n\r\n");
    r.head = all.left(split + 4);
    QByteArray rest = all.mid(split + 4);
    if (!r.head.toLower().contains("transfer-encoding: chunked")) {
        r.body = rest;
        return r;
    }
    while (true) {
        const qsizetype eol = rest.indexOf("\r\n");
        bool ok = false;
        const qsizetype n = rest.left(eol).toLongLong(&ok, 16);
        if (!ok || n == 0)
            break;
        r.body += rest.mid(eol + 2, n);
        rest = rest.mid(eol + 2 + n + 2);
    }
    return r;
}

/** Event names (Anthropic) or "data" objects' kinds (OpenAI) of an SSE body, in order. */
QStringList eventNames(const QByteArray& sse)
{
    QStringList names;
    for (const QByteArray& block : sse.split('\n')) {
        if (block.startsWith("event: "))
            names.append(QString::fromUtf8(block.mid(7)));
    }
    return names;
}

/** ` in raw-string test data stands for \" (moc 6.4 mis-tokenizes it inside raw strings). */
QByteArray unquote(QByteArray json)
{
    return json.replace('`', "\\\"");
}

QJsonArray arr(const QByteArray& json)
{
    return QJsonDocument::fromJson(unquote(json)).array();
}

} // namespace

class TestFakeModelServer : public QObject
{
    Q_OBJECT

private slots:
    void openAiStreamWireFormat();

    void anthropicStreamWireFormat();

    void nonStreamingAndErrors();

    void bookkeeping();

    void standaloneExecutable();

    void standaloneRepeat();

    void standaloneRejectsBadArguments()
    {
        const QString exe = testsupport::bin(QStringLiteral("vivarium-fake-model"));
        testsupport::ProcessResult r = testsupport::runProcess(exe, {}, {}, 10000);
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("--script"));
        r = testsupport::runProcess(
            exe, {QStringLiteral("--script"), QStringLiteral("/nonexistent/script.json")}, {},
            10000);
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("cannot open"));
    }
};

// Bodies with raw-string test data live outside the class: moc 6.4 does not understand
// raw string literals and would lose track of the class.
void TestFakeModelServer::openAiStreamWireFormat()
{
    FakeModelServer server;
    server.setScript(arr(
        R"([{"text": "Hello there", "tool_calls": [{"id": "call_9", "name": "f", "arguments": "{`a`:1}"}], )"
        R"("usage": {"input_tokens": 7, "output_tokens": 3, "cached_tokens": 2}}])"));
    QVERIFY(server.start());
    const RawResponse r = rawPost(
        server.port(), "/v1/chat/completions",
        R"({"model":"m1","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
    QVERIFY2(r.head.startsWith("HTTP/1.1 200 OK\r\n"), r.head.constData());
    QVERIFY(r.head.contains("Content-Type: text/event-stream"));
    QVERIFY(r.body.endsWith("\n\ndata: [DONE]\n\n"));
    const QList<QByteArray> events = r.body.split('\n');
    QList<QJsonObject> chunks;
    for (const QByteArray& line : events) {
        if (line.startsWith("data: {"))
            chunks.append(QJsonDocument::fromJson(line.mid(6)).object());
        else
            QVERIFY2(line.isEmpty() || line == "data: [DONE]", line.constData());
    }
    QVERIFY(chunks.size() >= 6);
    for (const QJsonObject& c : chunks) {
        QCOMPARE(c.value(QLatin1String("object")).toString(),
                 QStringLiteral("chat.completion.chunk"));
        QCOMPARE(c.value(QLatin1String("model")).toString(), QStringLiteral("m1"));
    }
    const QJsonObject first =
        chunks.first().value(QLatin1String("choices")).toArray().at(0).toObject();
    QCOMPARE(first.value(QLatin1String("delta")).toObject().value(QLatin1String("role")).toString(),
             QStringLiteral("assistant"));
    // Finish chunk, then the usage chunk with empty choices.
    const QJsonObject usageChunk = chunks.last();
    QVERIFY(usageChunk.value(QLatin1String("choices")).toArray().isEmpty());
    const QJsonObject usage = usageChunk.value(QLatin1String("usage")).toObject();
    QCOMPARE(usage.value(QLatin1String("prompt_tokens")).toInt(), 7);
    QCOMPARE(usage.value(QLatin1String("completion_tokens")).toInt(), 3);
    QCOMPARE(usage.value(QLatin1String("total_tokens")).toInt(), 10);
    QCOMPARE(usage.value(QLatin1String("prompt_tokens_details"))
                 .toObject()
                 .value(QLatin1String("cached_tokens"))
                 .toInt(),
             2);
    const QJsonObject finish =
        chunks.at(chunks.size() - 2).value(QLatin1String("choices")).toArray().at(0).toObject();
    QCOMPARE(finish.value(QLatin1String("finish_reason")).toString(), QStringLiteral("tool_calls"));

    // Without include_usage there is no usage chunk.
    server.setScript(arr(R"([{"text": "x"}])"));
    const RawResponse noUsage =
        rawPost(server.port(), "/v1/chat/completions", R"({"model":"m1","stream":true})");
    QVERIFY(!noUsage.body.contains("\"usage\""));
    QVERIFY(noUsage.body.endsWith("data: [DONE]\n\n"));
}

void TestFakeModelServer::anthropicStreamWireFormat()
{
    FakeModelServer server;
    server.setScript(arr(
        R"([{"text": "Hi", "tool_calls": [{"id": "toolu_1", "name": "f", "arguments": "{}"}]}, )"
        R"({"text": "cut", "stop_reason": "max_tokens"}])"));
    QVERIFY(server.start());
    const RawResponse r =
        rawPost(server.port(), "/v1/messages?beta=true", R"({"model":"claude-x","stream":true})");
    QVERIFY(r.head.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(r.head.contains("request-id: "));
    QCOMPARE(eventNames(r.body),
             (QStringList{"message_start", "content_block_start", "ping", "content_block_delta",
                          "content_block_stop", "content_block_start", "content_block_delta",
                          "content_block_delta", "content_block_stop", "message_delta",
                          "message_stop"}));
    QVERIFY(r.body.contains("\"partial_json\":\"\""));
    QVERIFY(r.body.contains("\"stop_reason\":\"tool_use\""));

    // max_tokens leaves the last block open, as the API does.
    const RawResponse cut =
        rawPost(server.port(), "/v1/messages", R"({"model":"claude-x","stream":true})");
    QCOMPARE(eventNames(cut.body),
             (QStringList{"message_start", "content_block_start", "ping", "content_block_delta",
                          "message_delta", "message_stop"}));
}

void TestFakeModelServer::nonStreamingAndErrors()
{
    FakeModelServer server;
    server.setScript(arr(
        R"([{"text": "plain"}, )"
        R"({"status": 429, "retry_after": 3, "retry_after_ms": 2500, "headers": {"x-should-retry": "true"}}, )"
        R"({"status": 401, "error": "invalid x-api-key"}])"));
    QVERIFY(server.start());
    const RawResponse plain =
        rawPost(server.port(), "/v1/messages", R"({"model":"c","stream":false})", true);
    QVERIFY2(plain.head.startsWith("HTTP/1.1 200 OK\r\n"), plain.head.constData());
    QVERIFY(plain.head.contains(
        QByteArray("Content-Length: " + QByteArray::number(plain.body.size()))));
    const QJsonObject message = QJsonDocument::fromJson(plain.body).object();
    QCOMPARE(message.value(QLatin1String("type")).toString(), QStringLiteral("message"));
    QCOMPARE(message.value(QLatin1String("content"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QLatin1String("text"))
                 .toString(),
             QStringLiteral("plain"));

    const RawResponse limited = rawPost(server.port(), "/v1/chat/completions", R"({"model":"g"})");
    QVERIFY(limited.head.startsWith("HTTP/1.1 429 "));
    QVERIFY(limited.head.contains("Retry-After: 3\r\n"));
    QVERIFY(limited.head.contains("retry-after-ms: 2500\r\n"));
    QVERIFY(limited.head.contains("x-should-retry: true\r\n"));
    QVERIFY(
        QJsonDocument::fromJson(limited.body).object().value(QLatin1String("error")).isObject());

    const RawResponse denied = rawPost(server.port(), "/v1/messages", R"({"model":"c"})");
    QVERIFY(denied.head.startsWith("HTTP/1.1 401 "));
    const QJsonObject err = QJsonDocument::fromJson(denied.body).object();
    QCOMPARE(err.value(QLatin1String("type")).toString(), QStringLiteral("error"));
    QCOMPARE(err.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString(),
             QStringLiteral("authentication_error"));
    QCOMPARE(
        err.value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString(),
        QStringLiteral("invalid x-api-key"));
}

void TestFakeModelServer::bookkeeping()
{
    FakeModelServer server;
    server.setScript(arr(R"([{"hang": true}, {"text": "second"}])"));
    QVERIFY(server.start());
    QVERIFY(server.port() > 0);
    QCOMPARE(server.openAiBaseUrl().toString(),
             QStringLiteral("http://127.0.0.1:%1/v1").arg(server.port()));

    // Unknown paths are answered 404 and consume no turn.
    const RawResponse missing = rawPost(server.port(), "/v1/embeddings", "{}");
    QVERIFY(missing.head.startsWith("HTTP/1.1 404 "));
    QCOMPARE(server.turnsServed(), 0);

    // A hung request is still recorded.
    QTcpSocket hung;
    hung.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(hung.waitForConnected(3000));
    hung.write("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nX-Test: yes\r\n\r\n{}");
    hung.waitForBytesWritten(1000);
    QVERIFY(server.waitForRequests(2, 3000));
    QVERIFY(!hung.waitForReadyRead(200));

    const RawResponse second = rawPost(server.port(), "/v1/chat/completions", R"({"model":"g"})");
    QVERIFY(
        QJsonDocument::fromJson(second.body).object().value(QLatin1String("choices")).isArray());
    QVERIFY(second.body.contains("\"second\""));
    const RawResponse exhausted =
        rawPost(server.port(), "/v1/chat/completions", R"({"model":"g"})");
    QVERIFY(exhausted.body.contains("(script exhausted)"));

    const QList<FakeModelServer::Request> reqs = server.requests();
    QCOMPARE(reqs.size(), 4);
    QCOMPARE(reqs.at(0).turnIndex, -1);
    QCOMPARE(reqs.at(1).turnIndex, 0);
    QCOMPARE(reqs.at(1).header("x-test"), QByteArray("yes"));
    QCOMPARE(reqs.at(2).turnIndex, 1);
    QCOMPARE(reqs.at(3).turnIndex, -1);
    QCOMPARE(reqs.at(2).json.value(QLatin1String("model")).toString(), QStringLiteral("g"));
    QCOMPARE(server.turnsServed(), 3);
    server.clearRequests();
    QCOMPARE(server.requestCount(), 0);
    server.stop(); // with the hung connection still open
}

void TestFakeModelServer::standaloneExecutable()
{
    QTemporaryDir dir;
    const QString script = dir.filePath(QStringLiteral("script.json"));
    const QByteArray turns =
        R"({"repeat": false, "turns": [ )"
        R"({"text": "from the process"}, )"
        R"({"tool_calls": [{"id": "toolu_1", "name": "file_read", "arguments": "{`path`:`a.txt`}"}]}]})";
    QVERIFY(testsupport::writeFile(script, unquote(turns)));
    QProcess p;
    p.start(testsupport::bin(QStringLiteral("vivarium-fake-model")),
            {QStringLiteral("--script"), script});
    QVERIFY2(p.waitForStarted(5000), qPrintable(p.errorString()));
    QByteArray out;
    while (!out.contains('\n') && p.waitForReadyRead(5000))
        out += p.readAllStandardOutput();
    QVERIFY2(out.startsWith("PORT "), out.constData());
    const quint16 port = quint16(out.mid(5).trimmed().toUInt());
    QVERIFY(port > 0);

    EndpointConfig openAi;
    openAi.api = ModelApi::OpenAi;
    openAi.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
    openAi.maxAttempts = 1;
    EndpointConfig anthropic = openAi;
    anthropic.api = ModelApi::Anthropic;
    anthropic.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
    LlmRequest req;
    req.model = QStringLiteral("gpt-4o-mini");
    req.messages = {ChatMessage{ChatMessage::Role::User, QStringLiteral("hi"), {}, {}, false}};
    CancelToken cancel;

    auto r = LlmClient::create(openAi)->complete(req, cancel);
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->text, QStringLiteral("from the process"));
    r = LlmClient::create(anthropic)->complete(req, cancel);
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->toolCalls.size(), 1);
    QCOMPARE(r->toolCalls.first().arguments, QStringLiteral("{\"path\":\"a.txt\"}"));
    r = LlmClient::create(openAi)->complete(req, cancel);
    QVERIFY(r.has_value());
    QCOMPARE(r->text, QStringLiteral("(script exhausted)"));

    p.kill();
    p.waitForFinished(5000);
}

void TestFakeModelServer::standaloneRepeat()
{
    QTemporaryDir dir;
    const QString script = dir.filePath(QStringLiteral("script.json"));
    const QByteArray turns = R"([{"text": "a"}, {"text": "b"}])";
    QVERIFY(testsupport::writeFile(script, turns));
    QProcess p;
    p.start(testsupport::bin(QStringLiteral("vivarium-fake-model")),
            {QStringLiteral("--script"), script, QStringLiteral("--repeat")});
    QVERIFY(p.waitForStarted(5000));
    QByteArray out;
    while (!out.contains('\n') && p.waitForReadyRead(5000))
        out += p.readAllStandardOutput();
    QVERIFY2(out.startsWith("PORT "), out.constData());
    const quint16 port = quint16(out.mid(5).trimmed().toUInt());
    QByteArray texts;
    for (int i = 0; i < 5; ++i) {
        const RawResponse r = rawPost(port, "/v1/chat/completions", R"({"model":"g"})");
        texts += QJsonDocument::fromJson(r.body)
                     .object()
                     .value(QLatin1String("choices"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QLatin1String("message"))
                     .toObject()
                     .value(QLatin1String("content"))
                     .toString()
                     .toUtf8();
    }
    QCOMPARE(texts, QByteArray("ababa"));
    p.kill();
    p.waitForFinished(5000);
}

QTEST_GUILESS_MAIN(TestFakeModelServer)
#include "tst_FakeModelServer.moc"
