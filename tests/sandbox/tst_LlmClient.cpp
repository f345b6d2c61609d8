// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The model clients: SSE parsing and stream assembly replayed from real vendor captures, and
// both APIs end to end against the in-process FakeModelServer (127.0.0.1 only).
#include "AnthropicClient.h"
#include "AnthropicStreamAssembler.h"
#include "OpenAiClient.h"
#include "OpenAiStreamAssembler.h"
#include "RetryPolicy.h"
#include "SseParser.h"
#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/sandbox/LlmClient.h"

#include "FakeModelServer.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMutex>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <random>
#include <thread>

using namespace vivarium;
using testsupport::FakeModelServer;

Q_DECLARE_METATYPE(vivarium::ModelApi)

namespace {

QString fixtureDir()
{
    const QString env = qEnvironmentVariable("VIVARIUM_LLM_FIXTURES");
    return env.isEmpty()
               ? testsupport::sourceDir() + QStringLiteral("/../shared/conformance/llm-fixtures")
               : env;
}

QByteArray readFixture(const QString& name)
{
    QFile f(fixtureDir() + QLatin1Char('/') + name);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

#define REQUIRE_FIXTURES()                                                                         \
    do {                                                                                           \
        if (!QFile::exists(fixtureDir() + QStringLiteral("/SOURCES.md")))                          \
            QSKIP(qPrintable(QStringLiteral("LLM captures not found in ") + fixtureDir()));        \
    } while (false)

/**
 * Test data is written as raw strings, where ` stands for an escaped quote (\" inside a JSON
 * string): moc 6.4 mis-tokenizes a backslash-quote inside a raw string literal.
 */
QByteArray unquote(QByteArray json)
{
    return json.replace('`', "\\\"");
}

QJsonObject obj(const QByteArray& json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(unquote(json));
    if (!doc.isObject())
        qFatal("bad JSON object in test data: %s", json.constData());
    return doc.object();
}

QJsonArray arr(const QByteArray& json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(unquote(json));
    if (!doc.isArray())
        qFatal("bad JSON array in test data: %s", json.constData());
    return doc.array();
}

/** What a replayed capture must assemble to. */
struct Expected
{
    QString text;
    QString refusal;
    QList<ToolCall> calls;
    QString stopReason;
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    QString model;
    QString id;
};

Expected expectedFor(const QString& file)
{
    Expected e;
    if (file == QLatin1String("anthropic_basic_response.sse")) {
        e.text = QStringLiteral("Hello there!");
        e.stopReason = QStringLiteral("end_turn");
        e.inputTokens = 11;
        e.outputTokens = 6;
        e.model = QStringLiteral("claude-opus-4-8");
        e.id = QStringLiteral("msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK");
    } else if (file == QLatin1String("anthropic_tool_use_response.sse")) {
        e.text = QStringLiteral("I'll check the current weather in Paris for you.");
        e.calls = {{QStringLiteral("toolu_01NRLabsLyVHZPKxbKvkfSMn"), QStringLiteral("get_weather"),
                    QStringLiteral("{\"location\": \"Paris\"}")}};
        e.stopReason = QStringLiteral("tool_use");
        e.inputTokens = 377;
        e.outputTokens = 65;
        e.model = QStringLiteral("claude-opus-4-8");
        e.id = QStringLiteral("msg_019Q1hrJbZG26Fb9BQhrkHEr");
    } else if (file == QLatin1String("anthropic_incomplete_partial_json_response.sse")) {
        e.text = QStringLiteral("I'll create a comprehensive tax guide for someone with multiple "
                                "W2s and save it in a file called taxes.txt. Let me do that for "
                                "you now.");
        e.calls = {{QStringLiteral("toolu_01EKqbqmZrGRXy18eN7m9kvY"), QStringLiteral("make_file"),
                    QStringLiteral("{\"filename\": \"taxes.txt\", \"lines_of_text\": [\n\"# "
                                   "COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE "
                                   "W-2s\",\n\"\",\n\"## INTRODUCTION\",\n\"\",\n\"Filing taxes")}};
        e.stopReason = QStringLiteral("max_tokens");
        e.inputTokens = 450;
        e.outputTokens = 124;
        e.model = QStringLiteral("claude-sonnet-4-5");
        e.id = QStringLiteral("msg_01UdjYBBipA9omjYhicnevgq");
    } else if (file == QLatin1String("openai_text_stream.sse")) {
        e.text = QStringLiteral("{\"city\":\"San Francisco\",\"units\":\"c\"}");
        e.stopReason = QStringLiteral("end_turn");
        e.inputTokens = 17;
        e.outputTokens = 10;
        e.model = QStringLiteral("gpt-4o-2024-08-06");
        e.id = QStringLiteral("chatcmpl-9tZXEmwtoDf6vqCqEWSvDP8jx9OXe");
    } else if (file == QLatin1String("openai_refusal_stream.sse")) {
        e.refusal = QStringLiteral("I'm very sorry, but I can't assist with that request.");
        e.stopReason = QStringLiteral("refusal");
        e.inputTokens = 17;
        e.outputTokens = 13;
        e.model = QStringLiteral("gpt-4o-2024-08-06");
        e.id = QStringLiteral("chatcmpl-9tZXGacdbmJYO8K50haE4OauaJmPn");
    } else if (file == QLatin1String("openai_tool_calls_stream.sse")) {
        e.calls = {{QStringLiteral("call_function_456"), QStringLiteral("get_weather"),
                    QStringLiteral("{\"city\":\"SF\"}")}};
        e.stopReason = QStringLiteral("tool_use");
        e.model = QStringLiteral("gpt-5.5");
        e.id = QStringLiteral("chatcmpl-custom-tools");
    } else if (file == QLatin1String("openai_custom_and_function_tools_stream.sse")) {
        e.calls = {{QStringLiteral("call_custom_123"), QStringLiteral("code_exec"),
                    QStringLiteral("print(\"hello\")\nreturn 42")},
                   {QStringLiteral("call_function_456"), QStringLiteral("get_weather"),
                    QStringLiteral("{\"city\":\"SF\"}")}};
        e.stopReason = QStringLiteral("tool_use");
        e.model = QStringLiteral("gpt-5.5");
        e.id = QStringLiteral("chatcmpl-custom-tools");
    } else {
        qFatal("no expectation for %s", qPrintable(file));
    }
    return e;
}

void checkResponse(const LlmResponse& r, const Expected& e)
{
    QCOMPARE(r.text, e.text);
    QCOMPARE(r.refusal, e.refusal);
    QCOMPARE(r.toolCalls, e.calls);
    QCOMPARE(r.stopReason, e.stopReason);
    QCOMPARE(r.usage.inputTokens, e.inputTokens);
    QCOMPARE(r.usage.outputTokens, e.outputTokens);
    QCOMPARE(r.model, e.model);
    QCOMPARE(r.responseId, e.id);
}

std::unique_ptr<StreamAssembler> assemblerFor(const QString& file)
{
    if (file.startsWith(QLatin1String("anthropic")))
        return std::make_unique<AnthropicStreamAssembler>();
    return std::make_unique<OpenAiStreamAssembler>();
}

/** Feeds `bytes` split at the given sizes (cycled) and returns the assembler. */
std::unique_ptr<StreamAssembler> replay(const QString& file, const QByteArray& bytes,
                                        const std::function<qsizetype()>& nextSize, QString* deltas)
{
    SseParser parser;
    std::unique_ptr<StreamAssembler> a = assemblerFor(file);
    a->setDeltaCallback([deltas](const QString& d) { deltas->append(d); });
    for (qsizetype i = 0; i < bytes.size();) {
        const qsizetype n = std::min(nextSize(), bytes.size() - i);
        parser.feed(QByteArrayView(bytes).sliced(i, n));
        for (const SseEvent& e : parser.takeEvents())
            a->onEvent(e);
        i += n;
    }
    return a;
}

/**
 * Anthropic messages in one spelling, for comparing equivalent requests: string content as a
 * single text block, `is_error: false` left out (the SDK omits it, we always send it).
 */
QJsonArray normalisedMessages(const QJsonArray& messages)
{
    QJsonArray out;
    for (const QJsonValue& mv : messages) {
        QJsonObject m = mv.toObject();
        const QJsonValue content = m.value(QLatin1String("content"));
        QJsonArray blocks;
        if (content.isString()) {
            blocks.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                      {QStringLiteral("text"), content}});
        } else {
            for (const QJsonValue& bv : content.toArray()) {
                QJsonObject block = bv.toObject();
                if (block.value(QLatin1String("is_error")) == QJsonValue(false))
                    block.remove(QLatin1String("is_error"));
                blocks.append(block);
            }
        }
        m.insert(QLatin1String("content"), blocks);
        out.append(m);
    }
    return out;
}

/** Endpoint on the fake server, with fast retries so failure tests stay quick. */
EndpointConfig endpoint(ModelApi api, const FakeModelServer& server, const QByteArray& key = {})
{
    EndpointConfig c;
    c.name = QStringLiteral("fake");
    c.api = api;
    c.baseUrl = api == ModelApi::OpenAi ? server.openAiBaseUrl() : server.anthropicBaseUrl();
    c.apiKey = key;
    c.connectTimeoutMs = 2000;
    c.idleTimeoutMs = 5000;
    c.totalTimeoutMs = 20000;
    c.maxAttempts = 4;
    c.initialBackoffMs = 10;
    c.maxBackoffMs = 100;
    return c;
}

LlmRequest simpleRequest(bool stream = true, const QString& model = QStringLiteral("gpt-4o"))
{
    LlmRequest r;
    r.model = model;
    r.messages = {
        ChatMessage{ChatMessage::Role::System, QStringLiteral("Be brief."), {}, {}, false},
        ChatMessage{ChatMessage::Role::User, QStringLiteral("hi"), {}, {}, false}};
    r.stream = stream;
    return r;
}

QString apiName(ModelApi api)
{
    return api == ModelApi::OpenAi ? QStringLiteral("openai") : QStringLiteral("anthropic");
}

/** Collects every message logged while alive (all categories). */
class LogCapture
{
public:
    LogCapture()
    {
        s_lines.clear();
        m_previous = qInstallMessageHandler(&LogCapture::handler);
        QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.debug=true"));
    }
    ~LogCapture()
    {
        qInstallMessageHandler(m_previous);
        QLoggingCategory::setFilterRules(QString());
    }
    static QString all()
    {
        QMutexLocker lock(&s_mutex);
        return s_lines.join(QLatin1Char('\n'));
    }

private:
    static void handler(QtMsgType, const QMessageLogContext&, const QString& message)
    {
        QMutexLocker lock(&s_mutex);
        s_lines.append(message);
    }
    QtMessageHandler m_previous = nullptr;
    static inline QMutex s_mutex;
    static inline QStringList s_lines;
};

} // namespace

class TestLlmClient : public QObject
{
    Q_OBJECT

private:
    FakeModelServer m_server;

    std::expected<LlmResponse, LlmError> call(ModelApi api, const QJsonArray& script,
                                              const LlmRequest& request,
                                              std::optional<EndpointConfig> config = {},
                                              QString* deltas = nullptr)
    {
        m_server.setScript(script);
        m_server.clearRequests();
        const EndpointConfig c = config.value_or(endpoint(api, m_server));
        CancelToken cancel;
        return LlmClient::create(c)->complete(request, cancel, [deltas](const QString& d) {
            if (deltas)
                deltas->append(d);
        });
    }

private slots:
    void initTestCase()
    {
        qRegisterMetaType<ModelApi>();
        QVERIFY(m_server.start());
        m_server.setBaseDir(fixtureDir());
    }

    // --- SSE parsing ---------------------------------------------------------------------

    void sseParserFollowsTheSpec()
    {
        SseParser p;
        p.feed("\xEF\xBB\xBF"
               ": keep-alive comment\n"
               "event: a\r\ndata: one\r\ndata:two\r\n\r\n"
               "data: cr\r\rid: 7\ndata\n\n"
               "event: dropped\n\n"
               "data:  leading space kept\n\n");
        const QList<SseEvent> events = p.takeEvents();
        QCOMPARE(events.size(), 4);
        QCOMPARE(events.at(0).event, QStringLiteral("a"));
        QCOMPARE(events.at(0).data, QStringLiteral("one\ntwo"));
        QCOMPARE(events.at(1).event, QStringLiteral("message"));
        QCOMPARE(events.at(1).data, QStringLiteral("cr"));
        QCOMPARE(events.at(2).data, QString());
        QCOMPARE(events.at(2).id, QStringLiteral("7"));
        QCOMPARE(events.at(3).data, QStringLiteral(" leading space kept"));
    }

    void sseParserHandlesSplitCrLfAndUtf8()
    {
        // "é" and "🌍" split between feeds; CR and LF of one line ending split too.
        const QByteArray bytes =
            QStringLiteral("data: h\u00e9llo \U0001F30D\r\n\r\ndata: x\r\n\r\n").toUtf8();
        for (qsizetype cut = 0; cut <= bytes.size(); ++cut) {
            SseParser p;
            p.feed(bytes.first(cut));
            p.feed(bytes.sliced(cut));
            const QList<SseEvent> events = p.takeEvents();
            QCOMPARE(events.size(), 2);
            QCOMPARE(events.at(0).data, QStringLiteral("h\u00e9llo \U0001F30D"));
            QCOMPARE(events.at(1).data, QStringLiteral("x"));
        }
        SseParser single;
        for (char c : bytes)
            single.feed(QByteArrayView(&c, 1));
        QCOMPARE(single.takeEvents().size(), 2);
    }

    // --- Real captures through parser + assemblers ----------------------------------------

    void replayCaptures_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("mode"); // 0 whole, 1 byte by byte, >1 random splits with that seed
        for (const char* f :
             {"anthropic_basic_response.sse", "anthropic_tool_use_response.sse",
              "anthropic_incomplete_partial_json_response.sse", "openai_text_stream.sse",
              "openai_refusal_stream.sse", "openai_tool_calls_stream.sse",
              "openai_custom_and_function_tools_stream.sse"}) {
            QTest::addRow("%s whole", f) << QString::fromLatin1(f) << 0;
            QTest::addRow("%s bytewise", f) << QString::fromLatin1(f) << 1;
            for (int seed : {7, 42, 1234})
                QTest::addRow("%s random %d", f, seed) << QString::fromLatin1(f) << seed;
        }
    }

    void replayCaptures()
    {
        REQUIRE_FIXTURES();
        QFETCH(QString, file);
        QFETCH(int, mode);
        const QByteArray bytes = readFixture(file);
        QVERIFY(!bytes.isEmpty());
        std::mt19937 rng(mode);
        std::uniform_int_distribution<qsizetype> size(1, 23);
        const std::function<qsizetype()> next = [&]() -> qsizetype {
            return mode == 0 ? bytes.size() : mode == 1 ? 1 : size(rng);
        };
        QString deltas;
        const std::unique_ptr<StreamAssembler> a = replay(file, bytes, next, &deltas);
        QVERIFY2(!a->error(), a->error() ? qPrintable(a->error()->message) : "");
        QVERIFY(a->isComplete());
        const Expected e = expectedFor(file);
        checkResponse(a->response(), e);
        QCOMPARE(deltas, e.text);
    }

    void openAiFinalsMatchTheirStreams_data()
    {
        QTest::addColumn<QString>("final");
        QTest::addColumn<QString>("stream");
        QTest::newRow("text") << "openai_text_final.json"
                              << "openai_text_stream.sse";
        QTest::newRow("tool calls") << "openai_tool_calls_final.json"
                                    << "openai_tool_calls_stream.sse";
    }

    void openAiFinalsMatchTheirStreams()
    {
        REQUIRE_FIXTURES();
        QFETCH(QString, final);
        QFETCH(QString, stream);
        const auto r = OpenAiClient::parseResponse(obj(readFixture(final)));
        QVERIFY(r.has_value());
        checkResponse(*r, expectedFor(stream));
    }

    void anthropicRecordedConversation()
    {
        // Ten recorded non-streaming request/response pairs of a real tool-use conversation.
        REQUIRE_FIXTURES();
        const QJsonArray pairs = arr(readFixture(QStringLiteral("anthropic_ToolRunner.nock.json")));
        QCOMPARE(pairs.size(), 10);
        int shapesCompared = 0;
        for (const QJsonValue& pv : pairs) {
            const QJsonObject pair = pv.toObject();
            const QJsonObject response = pair.value(QLatin1String("response")).toObject();
            const auto r = AnthropicClient::parseResponse(response);
            QVERIFY(r.has_value());

            QString text;
            QList<ToolCall> calls;
            for (const QJsonValue& bv : response.value(QLatin1String("content")).toArray()) {
                const QJsonObject b = bv.toObject();
                if (b.value(QLatin1String("type")) == QLatin1String("text"))
                    text += b.value(QLatin1String("text")).toString();
                else if (b.value(QLatin1String("type")) == QLatin1String("tool_use"))
                    calls.append(
                        {b.value(QLatin1String("id")).toString(),
                         b.value(QLatin1String("name")).toString(),
                         QString::fromUtf8(QJsonDocument(b.value(QLatin1String("input")).toObject())
                                               .toJson(QJsonDocument::Compact))});
            }
            const QJsonObject usage = response.value(QLatin1String("usage")).toObject();
            QCOMPARE(r->text, text);
            QCOMPARE(r->toolCalls, calls);
            QCOMPARE(r->stopReason, response.value(QLatin1String("stop_reason")).toString());
            QCOMPARE(r->usage.outputTokens,
                     usage.value(QLatin1String("output_tokens")).toInteger());
            QCOMPARE(r->usage.inputTokens,
                     usage.value(QLatin1String("input_tokens")).toInteger() +
                         usage.value(QLatin1String("cache_read_input_tokens")).toInteger() +
                         usage.value(QLatin1String("cache_creation_input_tokens")).toInteger());
            QCOMPARE(r->model, response.value(QLatin1String("model")).toString());
            QCOMPARE(r->responseId, response.value(QLatin1String("id")).toString());

            // Rebuild the recorded request from vendor-neutral messages and compare the shape.
            const QJsonObject body = pair.value(QLatin1String("body")).toObject();
            const QJsonArray recorded = body.value(QLatin1String("messages")).toArray();
            bool alternates = true;
            for (qsizetype i = 1; i < recorded.size(); ++i)
                alternates =
                    alternates && recorded.at(i).toObject().value(QLatin1String("role")) !=
                                      recorded.at(i - 1).toObject().value(QLatin1String("role"));
            if (!alternates)
                continue; // we merge consecutive user turns; the recording did not
            LlmRequest req;
            req.model = body.value(QLatin1String("model")).toString();
            req.maxTokens = body.value(QLatin1String("max_tokens")).toInt();
            req.stream = false;
            for (const QJsonValue& mv : recorded) {
                const QJsonObject m = mv.toObject();
                const bool assistant = m.value(QLatin1String("role")) == QLatin1String("assistant");
                const QJsonValue content = m.value(QLatin1String("content"));
                if (content.isString()) {
                    req.messages.append(
                        {assistant ? ChatMessage::Role::Assistant : ChatMessage::Role::User,
                         content.toString(),
                         {},
                         {},
                         false});
                    continue;
                }
                ChatMessage am{ChatMessage::Role::Assistant, {}, {}, {}, false};
                for (const QJsonValue& bv : content.toArray()) {
                    const QJsonObject b = bv.toObject();
                    const QString type = b.value(QLatin1String("type")).toString();
                    if (type == QLatin1String("text") && assistant) {
                        am.text += b.value(QLatin1String("text")).toString();
                    } else if (type == QLatin1String("tool_use")) {
                        am.toolCalls.append(
                            {b.value(QLatin1String("id")).toString(),
                             b.value(QLatin1String("name")).toString(),
                             QString::fromUtf8(
                                 QJsonDocument(b.value(QLatin1String("input")).toObject())
                                     .toJson(QJsonDocument::Compact))});
                    } else if (type == QLatin1String("tool_result")) {
                        req.messages.append({ChatMessage::Role::Tool,
                                             b.value(QLatin1String("content")).toString(),
                                             {},
                                             b.value(QLatin1String("tool_use_id")).toString(),
                                             false});
                    } else if (type == QLatin1String("text")) {
                        req.messages.append({ChatMessage::Role::User,
                                             b.value(QLatin1String("text")).toString(),
                                             {},
                                             {},
                                             false});
                    }
                }
                if (assistant)
                    req.messages.append(am);
            }
            for (const QJsonValue& tv : body.value(QLatin1String("tools")).toArray()) {
                const QJsonObject t = tv.toObject();
                req.tools.append({t.value(QLatin1String("name")).toString(),
                                  t.value(QLatin1String("description")).toString(),
                                  t.value(QLatin1String("input_schema")).toObject()});
            }
            const QJsonObject built = AnthropicClient::buildRequestBody(req);
            QCOMPARE(normalisedMessages(built.value(QLatin1String("messages")).toArray()),
                     normalisedMessages(recorded));
            QCOMPARE(built.value(QLatin1String("max_tokens")),
                     body.value(QLatin1String("max_tokens")));
            QCOMPARE(built.value(QLatin1String("model")), body.value(QLatin1String("model")));
            const QJsonArray tools = built.value(QLatin1String("tools")).toArray();
            const QJsonArray recordedTools = body.value(QLatin1String("tools")).toArray();
            QCOMPARE(tools.size(), recordedTools.size());
            for (qsizetype i = 0; i < tools.size(); ++i) {
                for (const char* key : {"name", "description", "input_schema"})
                    QCOMPARE(tools.at(i).toObject().value(QLatin1String(key)),
                             recordedTools.at(i).toObject().value(QLatin1String(key)));
            }
            ++shapesCompared;
        }
        QVERIFY(shapesCompared >= 6);
    }

    // --- End to end through the fake server -----------------------------------------------

    void capturesServedVerbatim_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("chunkBytes");
        for (const char* f :
             {"anthropic_basic_response.sse", "anthropic_tool_use_response.sse",
              "anthropic_incomplete_partial_json_response.sse", "openai_text_stream.sse",
              "openai_refusal_stream.sse", "openai_custom_and_function_tools_stream.sse"}) {
            QTest::addRow("%s", f) << QString::fromLatin1(f) << 0;
            QTest::addRow("%s chunk 7", f) << QString::fromLatin1(f) << 7;
        }
    }

    void capturesServedVerbatim()
    {
        REQUIRE_FIXTURES();
        QFETCH(QString, file);
        QFETCH(int, chunkBytes);
        const ModelApi api =
            file.startsWith(QLatin1String("anthropic")) ? ModelApi::Anthropic : ModelApi::OpenAi;
        QJsonObject turn{{QStringLiteral("raw_sse_file"), file}};
        if (chunkBytes > 0) {
            turn.insert(QStringLiteral("chunk_bytes"), chunkBytes);
            turn.insert(QStringLiteral("chunk_delay_ms"), 0);
        }
        QString deltas;
        const auto r = call(api, {turn}, simpleRequest(), {}, &deltas);
        QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        const Expected e = expectedFor(file);
        checkResponse(*r, e);
        QCOMPARE(deltas, e.text);
        QCOMPARE(r->attempts, 1);
    }

    void finalJsonServedVerbatim()
    {
        REQUIRE_FIXTURES();
        const auto r = call(ModelApi::OpenAi,
                            {QJsonObject{{QStringLiteral("raw_json_file"),
                                          QStringLiteral("openai_tool_calls_final.json")}}},
                            simpleRequest(false));
        QVERIFY(r.has_value());
        checkResponse(*r, expectedFor(QStringLiteral("openai_tool_calls_stream.sse")));
    }

    void text_data()
    {
        QTest::addColumn<ModelApi>("api");
        QTest::addColumn<bool>("stream");
        for (ModelApi api : {ModelApi::OpenAi, ModelApi::Anthropic}) {
            for (bool stream : {true, false})
                QTest::addRow("%s %s", qPrintable(apiName(api)), stream ? "stream" : "plain")
                    << api << stream;
        }
    }

    void text();

    void parallelToolCalls_data() { text_data(); }

    void parallelToolCalls();

    void connectionIsReusedAcrossCalls_data() { text_data(); }

    void connectionIsReusedAcrossCalls()
    {
        // Vendors keep connections alive; a new TCP (and TLS) handshake per step would be
        // most of the loop's overhead. A closed connection is replaced without an error.
        QFETCH(ModelApi, api);
        QFETCH(bool, stream);
        const LlmRequest request = simpleRequest(stream);
        const QJsonObject turn{{QStringLiteral("text"), QStringLiteral("hi")}};
        QVERIFY(call(api, {turn}, request).has_value());
        const int afterFirst = m_server.connectionsAccepted();
        for (int i = 0; i < 3; ++i) {
            const auto r = call(api, {turn}, request);
            QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        }
        QCOMPARE(m_server.connectionsAccepted(), afterFirst);

        QJsonObject closing = turn;
        closing.insert(QStringLiteral("close"), true);
        for (int i = 0; i < 3; ++i) {
            const auto r = call(api, {closing}, request);
            QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        }
        // The first closing answer still came on the kept connection; the next two needed one
        // each.
        QCOMPARE(m_server.connectionsAccepted(), afterFirst + 2);
    }

    void argumentsSplitAtEveryByte_data()
    {
        QTest::addColumn<ModelApi>("api");
        QTest::newRow("openai") << ModelApi::OpenAi;
        QTest::newRow("anthropic") << ModelApi::Anthropic;
    }

    void argumentsSplitAtEveryByte()
    {
        QFETCH(ModelApi, api);
        // One byte per write, 1 ms apart: the client sees every split, including inside
        // "é" (2 bytes) and "🌍" (4 bytes).
        const QString args = QStringLiteral("{\"q\":\"h\u00e9llo \U0001F30D\"}");
        QJsonObject turn{{QStringLiteral("chunk_bytes"), 1},
                         {QStringLiteral("piece_chars"), 3},
                         {QStringLiteral("text"), QStringLiteral("\u00e9\U0001F30D")},
                         {QStringLiteral("tool_calls"),
                          QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("call_u")},
                                                 {QStringLiteral("name"), QStringLiteral("search")},
                                                 {QStringLiteral("arguments"), args}}}}};
        QString deltas;
        const auto r = call(api, {turn}, simpleRequest(), {}, &deltas);
        QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        QCOMPARE(r->toolCalls.size(), 1);
        QCOMPARE(r->toolCalls.first().arguments, args);
        QCOMPARE(r->text, QStringLiteral("\u00e9\U0001F30D"));
        QCOMPARE(deltas, r->text);
    }

    void emptyAndInvalidArgumentsPassThrough_data() { text_data(); }

    void emptyAndInvalidArgumentsPassThrough();

    void refusal_data() { text_data(); }

    void refusal()
    {
        QFETCH(ModelApi, api);
        QFETCH(bool, stream);
        const auto r =
            call(api, arr("[{\"refusal\": \"I can't help with that\"}]"), simpleRequest(stream));
        QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        QCOMPARE(r->stopReason, QStringLiteral("refusal"));
        if (api == ModelApi::OpenAi)
            QCOMPARE(r->refusal, QStringLiteral("I can't help with that"));
        else
            QCOMPARE(r->text, QStringLiteral("I can't help with that"));
    }

    void maxTokensCutOff_data() { text_data(); }

    void maxTokensCutOff();

    void retriesAfter429HonouringRetryAfter();

    void retryAfterIsCappedAtMaxBackoff();

    void retriesServerErrors_data()
    {
        QTest::addColumn<ModelApi>("api");
        QTest::addColumn<int>("status");
        for (ModelApi api : {ModelApi::OpenAi, ModelApi::Anthropic}) {
            for (int status : {500, 502, 503, 504, 529})
                QTest::addRow("%s %d", qPrintable(apiName(api)), status) << api << status;
        }
    }

    void retriesServerErrors()
    {
        QFETCH(ModelApi, api);
        QFETCH(int, status);
        const QJsonObject fail{{QStringLiteral("status"), status}};
        const auto r =
            call(api, {fail, fail, QJsonObject{{QStringLiteral("text"), QStringLiteral("ok")}}},
                 simpleRequest());
        QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        QCOMPARE(r->attempts, 3);
        QCOMPARE(r->text, QStringLiteral("ok"));
    }

    void givesUpAfterMaxAttempts();

    void clientErrorsAreNotRetried_data()
    {
        QTest::addColumn<ModelApi>("api");
        QTest::addColumn<int>("status");
        for (ModelApi api : {ModelApi::OpenAi, ModelApi::Anthropic}) {
            for (int status : {400, 401, 403, 404})
                QTest::addRow("%s %d", qPrintable(apiName(api)), status) << api << status;
        }
    }

    void clientErrorsAreNotRetried()
    {
        QFETCH(ModelApi, api);
        QFETCH(int, status);
        const QJsonObject fail{{QStringLiteral("status"), status},
                               {QStringLiteral("error"), QStringLiteral("invalid api key")}};
        const auto r =
            call(api, {fail, QJsonObject{{QStringLiteral("text"), QStringLiteral("no")}}},
                 simpleRequest());
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("http"));
        QCOMPARE(r.error().httpStatus, status);
        QCOMPARE(r.error().attempts, 1);
        QVERIFY(!r.error().retryable);
        QVERIFY2(r.error().message.contains(QStringLiteral("invalid api key")),
                 qPrintable(r.error().message));
        QVERIFY2(r.error().message.contains(QString::number(status)),
                 qPrintable(r.error().message));
        QCOMPARE(m_server.requestCount(), 1);
    }

    void resetMidStreamIsRetried_data() { argumentsSplitAtEveryByte_data(); }

    void resetMidStreamIsRetried();

    void resetMidStreamReportsConnectionError();

    void streamWithoutEndMarkerIsAnError()
    {
        REQUIRE_FIXTURES();
        QTemporaryDir dir;
        QByteArray truncated = readFixture(QStringLiteral("openai_text_stream.sse"));
        truncated.truncate(truncated.indexOf("data: [DONE]"));
        QVERIFY(testsupport::writeFile(dir.filePath(QStringLiteral("cut.sse")), truncated));
        EndpointConfig c = endpoint(ModelApi::OpenAi, m_server);
        c.maxAttempts = 1;
        const auto r = call(ModelApi::OpenAi,
                            {QJsonObject{{QStringLiteral("raw_sse_file"),
                                          dir.filePath(QStringLiteral("cut.sse"))}}},
                            simpleRequest(), c);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("connection"));
        QVERIFY(r.error().retryable);
    }

    void anthropicErrorEventMidStream();

    void hangHitsIdleTimeout();

    void totalTimeout()
    {
        EndpointConfig c = endpoint(ModelApi::Anthropic, m_server);
        c.totalTimeoutMs = 400;
        c.maxAttempts = 1;
        QElapsedTimer t;
        t.start();
        // Bytes keep coming (no idle timeout), but the whole answer takes far too long.
        const auto r = call(ModelApi::Anthropic,
                            {QJsonObject{{QStringLiteral("text"), QString(2000, QLatin1Char('y'))},
                                         {QStringLiteral("chunk_bytes"), 32},
                                         {QStringLiteral("chunk_delay_ms"), 30}}},
                            simpleRequest(), c);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("timeout"));
        QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
    }

    void openAiErrorChunkMidStream()
    {
        m_server.setScript(
            {QJsonObject{{QStringLiteral("error_event"), QStringLiteral("server_error")}},
             QJsonObject{{QStringLiteral("text"), QStringLiteral("ok")}}});
        CancelToken cancel;
        auto r = LlmClient::create(endpoint(ModelApi::OpenAi, m_server))
                     ->complete(simpleRequest(), cancel);
        QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
        QCOMPARE(r->attempts, 2);

        m_server.setScript(
            {QJsonObject{{QStringLiteral("error_event"), QStringLiteral("invalid_request_error")},
                         {QStringLiteral("error"), QStringLiteral("context too long")}},
             QJsonObject{{QStringLiteral("text"), QStringLiteral("no")}}});
        r = LlmClient::create(endpoint(ModelApi::OpenAi, m_server))
                ->complete(simpleRequest(), cancel);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().attempts, 1);
        QCOMPARE(r.error().kind, QStringLiteral("http"));
        QVERIFY2(r.error().message.contains(QStringLiteral("context too long")),
                 qPrintable(r.error().message));
    }

    void concurrentCalls()
    {
        // One client, several threads at once (the broker's worker pool does this).
        m_server.setScript({QJsonObject{{QStringLiteral("text"), QStringLiteral("same answer")},
                                        {QStringLiteral("chunk_bytes"), 50}}});
        m_server.setRepeat(true);
        const std::unique_ptr<LlmClient> client =
            LlmClient::create(endpoint(ModelApi::OpenAi, m_server));
        std::atomic_int ok{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 6; ++i) {
            threads.emplace_back([&] {
                CancelToken cancel;
                for (int k = 0; k < 3; ++k) {
                    const auto r = client->complete(simpleRequest(), cancel);
                    if (r && r->text == QLatin1String("same answer"))
                        ++ok;
                }
            });
        }
        for (std::thread& t : threads)
            t.join();
        m_server.setRepeat(false);
        QCOMPARE(ok.load(), 18);
    }

    void cancelMidStream_data() { argumentsSplitAtEveryByte_data(); }

    void cancelMidStream()
    {
        QFETCH(ModelApi, api);
        m_server.setScript({QJsonObject{{QStringLiteral("text"), QString(4000, QLatin1Char('x'))},
                                        {QStringLiteral("chunk_bytes"), 64},
                                        {QStringLiteral("chunk_delay_ms"), 20}}});
        CancelToken cancel;
        std::atomic_bool gotDelta{false};
        std::atomic<qint64> cancelledAt{0};
        QElapsedTimer clock;
        clock.start();
        std::thread canceller([&] {
            while (!gotDelta.load() && clock.elapsed() < 5000)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            cancelledAt = clock.elapsed();
            cancel.cancel();
        });
        const auto r =
            LlmClient::create(endpoint(api, m_server))
                ->complete(simpleRequest(), cancel, [&](const QString&) { gotDelta = true; });
        const qint64 returnedAt = clock.elapsed();
        canceller.join();
        QVERIFY(gotDelta.load());
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("cancelled"));
        QVERIFY2(returnedAt - cancelledAt < 200,
                 qPrintable(QString::number(returnedAt - cancelledAt)));
    }

    void cancelDuringBackoff();

    void connectionRefused()
    {
        quint16 port = 0;
        {
            QTcpServer probe; // a port that was free a moment ago and has no listener now
            QVERIFY(probe.listen(QHostAddress::LocalHost));
            port = probe.serverPort();
        }
        EndpointConfig c = endpoint(ModelApi::OpenAi, m_server);
        c.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
        c.maxAttempts = 2;
        CancelToken cancel;
        const auto r = LlmClient::create(c)->complete(simpleRequest(), cancel);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("connection"));
        QCOMPARE(r.error().attempts, 2);
    }

    void configErrors()
    {
        CancelToken cancel;
        EndpointConfig c = endpoint(ModelApi::OpenAi, m_server);
        c.baseUrl = QUrl(QStringLiteral("ftp://127.0.0.1/"));
        auto r = LlmClient::create(c)->complete(simpleRequest(), cancel);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("config"));

        c = endpoint(ModelApi::Anthropic, m_server);
        r = LlmClient::create(c)->complete(simpleRequest(true, QString()), cancel);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("config"));

        c.apiKey = "sk-bad\r\nX-Injected: 1";
        r = LlmClient::create(c)->complete(simpleRequest(), cancel);
        QVERIFY(!r.has_value());
        QCOMPARE(r.error().kind, QStringLiteral("config"));
        QVERIFY(!r.error().message.contains(QStringLiteral("sk-bad")));
    }

    // --- Request shape ---------------------------------------------------------------------

    static LlmRequest toolConversation();

    void openAiRequestShape();

    void anthropicRequestShape();

    void canaryKeyOnlyInTheHeader_data()
    {
        QTest::addColumn<ModelApi>("api");
        QTest::newRow("openai") << ModelApi::OpenAi;
        QTest::newRow("anthropic") << ModelApi::Anthropic;
    }

    void canaryKeyOnlyInTheHeader();

    // --- Prices and retry policy ------------------------------------------------------------

    void priceTable()
    {
        const Usage u{1000000, 1000000, 0, 0};
        // -1: unpriced
        const auto price = [&u](const char* model, const EndpointConfig* overrides = nullptr) {
            return PriceTable::cost(QString::fromLatin1(model), u, overrides).value_or(-1);
        };
        QCOMPARE(price("gpt-4o"), 12.5);
        QCOMPARE(price("gpt-4o-2024-08-06"), 12.5);
        QCOMPARE(price("gpt-4o-mini"), 0.75);
        QCOMPARE(price("gpt-4o-mini-2024-07-18"), 0.75);
        QCOMPARE(price("gpt-4.1"), 10.0);
        QCOMPARE(price("gpt-4.1-mini"), 2.0);
        QCOMPARE(price("o3-mini"), 5.5);
        QCOMPARE(price("claude-3-5-haiku-20241022"), 4.8);
        QCOMPARE(price("claude-3-5-haiku-latest"), 4.8);
        QCOMPARE(price("claude-3-5-sonnet-20241022"), 18.0);
        QCOMPARE(price("claude-3-7-sonnet-20250219"), 18.0);
        QCOMPARE(price("claude-sonnet-4-20250514"), 18.0);
        QCOMPARE(price("claude-opus-4"), 90.0);
        QCOMPARE(price("claude-opus-4-1-20250805"), 90.0);
        QCOMPARE(PriceTable::cost(QStringLiteral("gpt-4o"), Usage{}).value_or(-1), 0.0);
        // Cached input counts at the input price (inputTokens already includes it).
        QCOMPARE(
            PriceTable::cost(QStringLiteral("gpt-4o"), Usage{1000000, 0, 400000, 0}).value_or(-1),
            2.5);
        // Unknown: unpriced, never $0.
        QCOMPARE(price("llama3.1:8b"), -1.0);
        QCOMPARE(price("gpt-4o-turbo-ultra"), -1.0);
        QCOMPARE(price(""), -1.0);

        EndpointConfig both;
        both.inputPricePerMTok = 1;
        both.outputPricePerMTok = 2;
        QCOMPARE(price("gpt-4o", &both), 3.0);
        QCOMPARE(price("llama3.1:8b", &both), 3.0);
        EndpointConfig inputOnly;
        inputOnly.inputPricePerMTok = 1;
        QCOMPARE(price("gpt-4o", &inputOnly), 11.0);
        QCOMPARE(price("llama3.1:8b", &inputOnly), -1.0);
        EndpointConfig none;
        QCOMPARE(price("gpt-4o", &none), 12.5);
    }

    void retryPolicy()
    {
        for (int s : {429, 500, 502, 503, 504, 529})
            QVERIFY(RetryPolicy::isRetryableStatus(s));
        for (int s : {200, 400, 401, 403, 404, 413, 422})
            QVERIFY(!RetryPolicy::isRetryableStatus(s));

        const QDateTime now =
            QDateTime::fromString(QStringLiteral("2025-11-21T09:36:50Z"), Qt::ISODate);
        HttpHead h;
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), std::nullopt);
        h.headers.insert("retry-after", "2");
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), 2000);
        h.headers.insert("retry-after", "0.5");
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), 500);
        h.headers.insert("retry-after", "Fri, 21 Nov 2025 09:36:59 GMT");
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), 9000);
        h.headers.insert("retry-after", "Fri, 21 Nov 2025 09:00:00 GMT");
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), 0);
        h.headers.insert("retry-after", "soon");
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), std::nullopt);
        h.headers.insert("retry-after-ms", "250");
        QCOMPARE(RetryPolicy::serverDelayMs(h, now), 250);

        QCOMPARE(RetryPolicy::backoffMs(1, 500, 30000, 1000), 1000);
        QCOMPARE(RetryPolicy::backoffMs(1, 500, 300, 1000), 300);
        for (int attempt = 1; attempt <= 40; ++attempt) {
            const qint64 d = RetryPolicy::backoffMs(attempt, 500, 30000, std::nullopt);
            QVERIFY(d >= 0);
            QVERIFY(d <= std::min<qint64>(30000, qint64(500) << std::min(attempt - 1, 30)));
        }
    }

    void httpErrorBodies();
};

// Bodies with raw-string test data live outside the class: moc 6.4 does not understand
// raw string literals and would lose track of the class.
void TestLlmClient::text()
{
    QFETCH(ModelApi, api);
    QFETCH(bool, stream);
    QString deltas;
    const QJsonArray script = arr(
        R"([{"text": "Hello, world! Ünïcödé ✓", "usage": {"input_tokens": 1000, "output_tokens": 200}}])");
    const auto r = call(api, script, simpleRequest(stream), {}, &deltas);
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->text, QStringLiteral("Hello, world! Ünïcödé ✓"));
    QCOMPARE(deltas, r->text);
    QCOMPARE(r->stopReason, QStringLiteral("end_turn"));
    QCOMPARE(r->usage.inputTokens, 1000);
    QCOMPARE(r->usage.outputTokens, 200);
    QCOMPARE(r->model, QStringLiteral("gpt-4o"));
    QVERIFY(!r->responseId.isEmpty());
    QVERIFY(r->toolCalls.isEmpty());
    QCOMPARE(r->attempts, 1);
    QVERIFY(r->costUsd.has_value());
    QCOMPARE(*r->costUsd, (1000 * 2.5 + 200 * 10) / 1e6);
    const QList<FakeModelServer::Request> reqs = m_server.requests();
    QCOMPARE(reqs.size(), 1);
    QCOMPARE(reqs.first().json.value(QLatin1String("stream")).toBool(), stream);
}

void TestLlmClient::parallelToolCalls()
{
    QFETCH(ModelApi, api);
    QFETCH(bool, stream);
    const QJsonArray script =
        arr(R"([{"text": "Reading both.", "tool_calls": [ )"
            R"({"id": "call_1", "name": "file_read", "arguments": "{`path`:`a.txt`}"}, )"
            R"({"id": "call_2", "name": "file_read", "arguments": "{`path`:`b.txt`}"}, )"
            R"({"id": "call_3", "name": "memory_list", "arguments": "{}"}]}])");
    const auto r = call(api, script, simpleRequest(stream));
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->text, QStringLiteral("Reading both."));
    const QList<ToolCall> expected{
        {QStringLiteral("call_1"), QStringLiteral("file_read"),
         QStringLiteral("{\"path\":\"a.txt\"}")},
        {QStringLiteral("call_2"), QStringLiteral("file_read"),
         QStringLiteral("{\"path\":\"b.txt\"}")},
        {QStringLiteral("call_3"), QStringLiteral("memory_list"), QStringLiteral("{}")}};
    QCOMPARE(r->toolCalls, expected);
    QCOMPARE(r->stopReason, QStringLiteral("tool_use"));
}

void TestLlmClient::emptyAndInvalidArgumentsPassThrough()
{
    QFETCH(ModelApi, api);
    QFETCH(bool, stream);
    const QJsonArray script =
        arr(R"([{"tool_calls": [ )"
            R"({"id": "c1", "name": "now", "arguments": ""}, )"
            R"({"id": "c2", "name": "file_read", "arguments": "{`path`: `a.txt`"}, )"
            R"({"id": "c3", "name": "file_read", "arguments": "not json at all"}]}])");
    const auto r = call(api, script, simpleRequest(stream));
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->toolCalls.size(), 3);
    if (api == ModelApi::Anthropic && !stream) {
        // A non-streaming Anthropic message carries `input` as an object: nothing else fits.
        for (const ToolCall& c : r->toolCalls)
            QCOMPARE(c.arguments, QStringLiteral("{}"));
        return;
    }
    QCOMPARE(r->toolCalls.at(0).arguments, QString());
    QCOMPARE(r->toolCalls.at(1).arguments, QStringLiteral("{\"path\": \"a.txt\""));
    QCOMPARE(r->toolCalls.at(2).arguments, QStringLiteral("not json at all"));
    QCOMPARE(r->text, QString());
}

void TestLlmClient::maxTokensCutOff()
{
    QFETCH(ModelApi, api);
    QFETCH(bool, stream);
    const auto r = call(
        api,
        arr(R"([{"text": "Here is the fi", "stop_reason": "max_tokens", )"
            R"("tool_calls": [{"id": "c1", "name": "file_write", "arguments": "{`path`: `a.txt`, `content`: `trunc"}]}])"),
        simpleRequest(stream));
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->stopReason, QStringLiteral("max_tokens"));
    QCOMPARE(r->text, QStringLiteral("Here is the fi"));
    QCOMPARE(r->toolCalls.size(), 1);
    if (stream || api == ModelApi::OpenAi)
        QCOMPARE(r->toolCalls.first().arguments,
                 QStringLiteral("{\"path\": \"a.txt\", \"content\": \"trunc"));
}

void TestLlmClient::retriesAfter429HonouringRetryAfter()
{
    EndpointConfig c = endpoint(ModelApi::OpenAi, m_server);
    c.maxBackoffMs = 5000;
    QElapsedTimer t;
    t.start();
    const auto r =
        call(ModelApi::OpenAi, arr(R"([{"status": 429, "retry_after": 1}, {"text": "ok"}])"),
             simpleRequest(), c);
    const qint64 elapsed = t.elapsed();
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->text, QStringLiteral("ok"));
    QCOMPARE(r->attempts, 2);
    QVERIFY2(elapsed >= 950 && elapsed < 4000, qPrintable(QString::number(elapsed)));
    QCOMPARE(m_server.requestCount(), 2);
}

void TestLlmClient::retryAfterIsCappedAtMaxBackoff()
{
    EndpointConfig c = endpoint(ModelApi::Anthropic, m_server);
    c.maxBackoffMs = 200;
    QElapsedTimer t;
    t.start();
    const auto r =
        call(ModelApi::Anthropic, arr(R"([{"status": 529, "retry_after": 30}, {"text": "ok"}])"),
             simpleRequest(), c);
    QVERIFY(r.has_value());
    QCOMPARE(r->attempts, 2);
    QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
}

void TestLlmClient::givesUpAfterMaxAttempts()
{
    EndpointConfig c = endpoint(ModelApi::OpenAi, m_server);
    c.maxAttempts = 2;
    const auto r = call(
        ModelApi::OpenAi,
        arr(R"([{"status": 503, "error": "busy"}, {"status": 503, "error": "still busy"}, {"text": "too late"}])"),
        simpleRequest(), c);
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().kind, QStringLiteral("http"));
    QCOMPARE(r.error().httpStatus, 503);
    QCOMPARE(r.error().attempts, 2);
    QVERIFY(r.error().retryable);
    QVERIFY2(r.error().message.contains(QStringLiteral("still busy")),
             qPrintable(r.error().message));
}

void TestLlmClient::resetMidStreamIsRetried()
{
    QFETCH(ModelApi, api);
    QString deltas;
    const auto r =
        call(api,
             arr(R"([{"text": "a long answer that will be cut off", "reset_after_bytes": 400}, )"
                 R"({"text": "second try"}])"),
             simpleRequest(), {}, &deltas);
    QVERIFY2(r.has_value(), r ? "" : qPrintable(r.error().message));
    QCOMPARE(r->attempts, 2);
    QCOMPARE(r->text, QStringLiteral("second try"));
    QVERIFY(deltas.endsWith(QStringLiteral("second try")));
}

void TestLlmClient::resetMidStreamReportsConnectionError()
{
    EndpointConfig c = endpoint(ModelApi::Anthropic, m_server);
    c.maxAttempts = 1;
    const auto r = call(ModelApi::Anthropic, arr(R"([{"text": "cut", "reset_after_bytes": 300}])"),
                        simpleRequest(), c);
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().kind, QStringLiteral("connection"));
    QVERIFY(r.error().retryable);
}

void TestLlmClient::anthropicErrorEventMidStream()
{
    EndpointConfig c = endpoint(ModelApi::Anthropic, m_server);
    c.maxAttempts = 1;
    auto r = call(ModelApi::Anthropic, arr(R"([{"error_event": "overloaded_error"}])"),
                  simpleRequest(), c);
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().kind, QStringLiteral("http"));
    QVERIFY(r.error().retryable);
    QVERIFY2(r.error().message.contains(QStringLiteral("overloaded_error")),
             qPrintable(r.error().message));

    r = call(ModelApi::Anthropic,
             arr(R"([{"error_event": "overloaded_error"}, {"text": "recovered"}])"),
             simpleRequest());
    QVERIFY(r.has_value());
    QCOMPARE(r->attempts, 2);
    QCOMPARE(r->text, QStringLiteral("recovered"));

    r = call(ModelApi::Anthropic,
             arr(R"([{"error_event": "invalid_request_error", "error": "bad"}, {"text": "no"}])"),
             simpleRequest());
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().attempts, 1);
}

void TestLlmClient::hangHitsIdleTimeout()
{
    EndpointConfig c = endpoint(ModelApi::OpenAi, m_server);
    c.idleTimeoutMs = 300;
    c.maxAttempts = 1;
    QElapsedTimer t;
    t.start();
    const auto r = call(ModelApi::OpenAi, arr(R"([{"hang": true}])"), simpleRequest(), c);
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().kind, QStringLiteral("timeout"));
    QVERIFY(r.error().retryable);
    QVERIFY2(t.elapsed() >= 280 && t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
}

void TestLlmClient::cancelDuringBackoff()
{
    m_server.setScript(arr(R"([{"status": 429, "retry_after": 20}])"));
    EndpointConfig c = endpoint(ModelApi::Anthropic, m_server);
    c.maxBackoffMs = 60000;
    CancelToken cancel;
    std::atomic<qint64> cancelledAt{0};
    QElapsedTimer clock;
    clock.start();
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancelledAt = clock.elapsed();
        cancel.cancel();
    });
    const auto r = LlmClient::create(c)->complete(simpleRequest(), cancel);
    const qint64 returnedAt = clock.elapsed();
    canceller.join();
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().kind, QStringLiteral("cancelled"));
    QCOMPARE(r.error().attempts, 1);
    QVERIFY2(returnedAt - cancelledAt < 200, qPrintable(QString::number(returnedAt - cancelledAt)));
}

LlmRequest TestLlmClient::toolConversation()
{
    LlmRequest r;
    r.model = QStringLiteral("some-model");
    r.temperature = 0.25;
    r.topP = 0.5;
    r.tools = {ToolSpec{
        QStringLiteral("file_read"), QStringLiteral("Read a file"),
        obj(R"({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]})")}};
    r.messages = {
        {ChatMessage::Role::System, QStringLiteral("You are careful."), {}, {}, false},
        {ChatMessage::Role::User, QStringLiteral("Read a and b."), {}, {}, false},
        {ChatMessage::Role::Assistant,
         QStringLiteral("Reading."),
         {{QStringLiteral("c1"), QStringLiteral("file_read"), QStringLiteral("{\"path\":\"a\"}")},
          {QStringLiteral("c2"), QStringLiteral("file_read"), QStringLiteral("{\"path\": \"b\"")}},
         {},
         false},
        {ChatMessage::Role::Tool, QStringLiteral("content of a"), {}, QStringLiteral("c1"), false},
        {ChatMessage::Role::Tool,
         QStringLiteral("invalid arguments"),
         {},
         QStringLiteral("c2"),
         true},
        {ChatMessage::Role::User, QStringLiteral("Thanks, go on."), {}, {}, false},
    };
    return r;
}

void TestLlmClient::openAiRequestShape()
{
    LlmRequest req = toolConversation();
    req.maxTokens = 321;
    const auto r = call(ModelApi::OpenAi, arr(R"([{"text": "ok"}])"), req,
                        endpoint(ModelApi::OpenAi, m_server, "sk-test-openai"));
    QVERIFY(r.has_value());
    const FakeModelServer::Request got = m_server.requests().value(0);
    QCOMPARE(got.method, QByteArray("POST"));
    QCOMPARE(got.path, QByteArray("/v1/chat/completions"));
    QCOMPARE(got.header("authorization"), QByteArray("Bearer sk-test-openai"));
    QVERIFY(got.header("content-type").startsWith("application/json"));
    QVERIFY(!got.hasHeader("x-api-key"));

    const QJsonObject expected = obj(
        R"({ )"
        R"("model": "some-model", )"
        R"("messages": [ )"
        R"({"role": "system", "content": "You are careful."}, )"
        R"({"role": "user", "content": "Read a and b."}, )"
        R"({"role": "assistant", "content": "Reading.", "tool_calls": [ )"
        R"({"id": "c1", "type": "function", "function": {"name": "file_read", "arguments": "{`path`:`a`}"}}, )"
        R"({"id": "c2", "type": "function", "function": {"name": "file_read", "arguments": "{`path`: `b`"}}]}, )"
        R"({"role": "tool", "tool_call_id": "c1", "content": "content of a"}, )"
        R"({"role": "tool", "tool_call_id": "c2", "content": "ERROR: invalid arguments"}, )"
        R"({"role": "user", "content": "Thanks, go on."}], )"
        R"("tools": [{"type": "function", "function": {"name": "file_read", "description": "Read a file", )"
        R"("parameters": {"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}}], )"
        R"("temperature": 0.25, "top_p": 0.5, "max_tokens": 321, )"
        R"("stream": true, "stream_options": {"include_usage": true}})");
    QCOMPARE(got.json, expected);

    // No key: no Authorization header at all (local servers).
    req.stream = false;
    QVERIFY(call(ModelApi::OpenAi, arr(R"([{"text": "ok"}])"), req).has_value());
    const FakeModelServer::Request plain = m_server.requests().value(0);
    QVERIFY(!plain.hasHeader("authorization"));
    QVERIFY(!plain.json.contains(QLatin1String("stream_options")));
    QCOMPARE(plain.json.value(QLatin1String("stream")), QJsonValue(false));
}

void TestLlmClient::anthropicRequestShape()
{
    const LlmRequest req = toolConversation();
    const auto r = call(ModelApi::Anthropic, arr(R"([{"text": "ok"}])"), req,
                        endpoint(ModelApi::Anthropic, m_server, "sk-ant-test"));
    QVERIFY(r.has_value());
    const FakeModelServer::Request got = m_server.requests().value(0);
    QCOMPARE(got.path, QByteArray("/v1/messages"));
    QCOMPARE(got.header("x-api-key"), QByteArray("sk-ant-test"));
    QCOMPARE(got.header("anthropic-version"), QByteArray("2023-06-01"));
    QVERIFY(got.header("content-type").startsWith("application/json"));
    QVERIFY(!got.hasHeader("authorization"));

    const QJsonObject expected = obj(
        R"({ )"
        R"("model": "some-model", )"
        R"("max_tokens": 4096, )"
        R"("system": "You are careful.", )"
        R"("messages": [ )"
        R"({"role": "user", "content": "Read a and b."}, )"
        R"({"role": "assistant", "content": [ )"
        R"({"type": "text", "text": "Reading."}, )"
        R"({"type": "tool_use", "id": "c1", "name": "file_read", "input": {"path": "a"}}, )"
        R"({"type": "tool_use", "id": "c2", "name": "file_read", "input": {}}]}, )"
        R"({"role": "user", "content": [ )"
        R"({"type": "tool_result", "tool_use_id": "c1", "content": "content of a", "is_error": false}, )"
        R"({"type": "tool_result", "tool_use_id": "c2", "content": "invalid arguments", "is_error": true}, )"
        R"({"type": "text", "text": "Thanks, go on."}]}], )"
        R"("tools": [{"name": "file_read", "description": "Read a file", )"
        R"("input_schema": {"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}], )"
        R"("temperature": 0.25, "top_p": 0.5, )"
        R"("stream": true})");
    QCOMPARE(got.json, expected);
}

void TestLlmClient::canaryKeyOnlyInTheHeader()
{
    QFETCH(ModelApi, api);
    const QByteArray canary = "sk-CANARY-7f3a9c2e5b1d4f60";
    const LogCapture logs;
    EndpointConfig c = endpoint(api, m_server, canary);
    c.maxAttempts = 2;
    // A vendor that echoes the key in its error message, after a retryable failure.
    const QJsonArray script{QJsonObject{{QStringLiteral("status"), 500}},
                            QJsonObject{{QStringLiteral("status"), 401},
                                        {QStringLiteral("error"),
                                         QString(QStringLiteral("Incorrect API key provided: ") +
                                                 QString::fromLatin1(canary))}}};
    const auto r = call(api, script, simpleRequest(), c);
    QVERIFY(!r.has_value());
    QCOMPARE(r.error().httpStatus, 401);
    QVERIFY2(!r.error().message.contains(QString::fromLatin1(canary)),
             qPrintable(r.error().message));
    QVERIFY(r.error().message.contains(QStringLiteral("Incorrect API key provided")));

    const auto ok = call(api, arr(R"([{"text": "fine"}])"), simpleRequest(), c);
    QVERIFY(ok.has_value());

    const QList<FakeModelServer::Request> reqs = m_server.requests();
    QCOMPARE(reqs.size(), 1);
    const QByteArray header = api == ModelApi::OpenAi ? reqs.first().header("authorization")
                                                      : reqs.first().header("x-api-key");
    QVERIFY(header.contains(canary));
    QVERIFY(!reqs.first().body.contains(canary));
    const QString logged = LogCapture::all();
    QVERIFY2(!logged.isEmpty(), "debug logging should have produced something");
    QVERIFY2(!logged.contains(QString::fromLatin1(canary)), qPrintable(logged));
}

void TestLlmClient::httpErrorBodies()
{
    QCOMPARE(HttpLlmClient::httpError(
                 400, R"({"error":{"message":"bad thing","type":"invalid_request_error"}})")
                 .message,
             QStringLiteral("invalid_request_error: bad thing"));
    QCOMPARE(
        HttpLlmClient::httpError(
            529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")
            .message,
        QStringLiteral("overloaded_error: Overloaded"));
    QCOMPARE(HttpLlmClient::httpError(404, "{\"error\":\"model 'x' not found\"}").message,
             QStringLiteral("model 'x' not found"));
    QCOMPARE(HttpLlmClient::httpError(502, "<html>\n<b>Bad gateway</b></html>").message,
             QStringLiteral("<html> <b>Bad gateway</b></html>"));
    QCOMPARE(HttpLlmClient::httpError(500, {}).message, QStringLiteral("(empty body)"));
}

QTEST_GUILESS_MAIN(TestLlmClient)
#include "tst_LlmClient.moc"
