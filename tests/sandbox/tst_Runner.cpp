// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium-runner end to end: the real binary against a fake broker that answers hello with a
// crafted agent and each llm request from a script, and records everything the runner sends.
#include "ConfinedDir.h"
#include "TestSupport.h"

#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/protocol/Conversation.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace vivarium;

// Runs the runner to a clean finish; returns from the test if that already failed.
#define RUN_TO_FINISH(var)                                                                         \
    const QJsonObject var = runToFinish();                                                         \
    if (QTest::currentTestFailed())                                                                \
    return

namespace {

/** One scripted answer to an `llm` request. */
struct Step
{
    enum class Kind { Response, Error, Close, Garbage };
    Kind kind = Kind::Response;
    LlmResponse response;
    QJsonObject error;
};

Step text(const QString& t, const QString& stop = QStringLiteral("end_turn"), qint64 tokens = 10,
          std::optional<double> cost = 0.001)
{
    Step s;
    s.response.text = t;
    s.response.stopReason = stop;
    s.response.usage.inputTokens = tokens / 2;
    s.response.usage.outputTokens = tokens - tokens / 2;
    s.response.costUsd = cost;
    s.response.model = QStringLiteral("fake-model");
    return s;
}

Step calls(const QList<ToolCall>& toolCalls, qint64 tokens = 10, std::optional<double> cost = 0.001,
           const QString& stop = QStringLiteral("tool_use"))
{
    Step s = text(QString(), stop, tokens, cost);
    s.response.toolCalls = toolCalls;
    return s;
}

Step call(const QString& id, const QString& name, const QString& args, qint64 tokens = 10,
          std::optional<double> cost = 0.001)
{
    return calls({ToolCall{id, name, args}}, tokens, cost);
}

Step llmError(const QString& kind, const QString& message)
{
    Step s;
    s.kind = Step::Kind::Error;
    s.error = {{QStringLiteral("kind"), kind},
               {QStringLiteral("message"), message},
               {QStringLiteral("http_status"), 401},
               {QStringLiteral("retryable"), false}};
    return s;
}

Step special(Step::Kind kind)
{
    Step s;
    s.kind = kind;
    return s;
}

/** The canonical agent JSON (AgentDefinition::toJson shape) the tests start from. */
QJsonObject agentJson()
{
    return QJsonObject{{QStringLiteral("id"), QStringLiteral("tester")},
                       {QStringLiteral("name"), QStringLiteral("Tester")},
                       {QStringLiteral("prompt"), QStringLiteral("You are a careful test agent.")},
                       {QStringLiteral("model"),
                        QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("fake")},
                                    {QStringLiteral("name"), QStringLiteral("fake-model")},
                                    {QStringLiteral("temperature"), 0.25},
                                    {QStringLiteral("max_tokens"), 512}}},
                       {QStringLiteral("tools"), QJsonObject{{QStringLiteral("memory"), true},
                                                             {QStringLiteral("files"), true},
                                                             {QStringLiteral("shell"), false}}},
                       {QStringLiteral("limits"), QJsonObject{{QStringLiteral("max_steps"), 25},
                                                              {QStringLiteral("timeout_s"), 60}}},
                       {QStringLiteral("sandbox"),
                        QJsonObject{{QStringLiteral("tier"), QStringLiteral("none")},
                                    {QStringLiteral("min_tier"), QStringLiteral("none")}}},
                       {QStringLiteral("approval"),
                        QJsonObject{{QStringLiteral("mode"), QStringLiteral("never")}}}};
}

QJsonObject withLimit(QJsonObject agent, const QString& key, const QJsonValue& value)
{
    QJsonObject limits = agent.value(QStringLiteral("limits")).toObject();
    limits.insert(key, value);
    agent.insert(QStringLiteral("limits"), limits);
    return agent;
}

QSet<QString> keysOf(const QJsonObject& o)
{
    const QStringList k = o.keys();
    return QSet<QString>(k.begin(), k.end());
}

QSet<QString> setOf(std::initializer_list<const char*> names)
{
    QSet<QString> s;
    for (const char* n : names)
        s.insert(QString::fromLatin1(n));
    return s;
}

/**
 * The broker side of one run. Answers strictly by the protocol and notes every deviation
 * from it in `violations`, so each test also checks the runner speaks nothing else.
 */
class FakeBroker : public QObject
{
public:
    QJsonObject agent = agentJson();
    QJsonValue input = QStringLiteral("Do the thing.");
    QString workspace;
    QJsonValue memoryDir; ///< null or a path
    QList<Step> script;

    QList<QJsonObject> received;
    QList<LlmRequest> llmRequests;
    QList<QJsonObject> events; ///< {type, data}
    std::optional<QJsonObject> finish;
    QStringList violations;

    bool listen(const QString& path)
    {
        m_server.setSocketOptions(QLocalServer::UserAccessOption);
        if (!m_server.listen(path))
            return false;
        connect(&m_server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket* s = m_server.nextPendingConnection()) {
                if (m_socket) {
                    violations << QStringLiteral("a second connection");
                    s->abort();
                    continue;
                }
                m_socket = s;
                connect(s, &QLocalSocket::readyRead, this, [this] { onReadyRead(); });
            }
        });
        return true;
    }

    QList<QJsonObject> eventsOf(const QString& type) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject& e : events) {
            if (e.value(QStringLiteral("type")).toString() == type)
                out.append(e.value(QStringLiteral("data")).toObject());
        }
        return out;
    }

private:
    void send(const QJsonObject& m)
    {
        if (m_socket)
            m_socket->write(protocol::encode(m));
    }

    void checkEvent(const QJsonObject& event)
    {
        const QString type = event.value(QStringLiteral("type")).toString();
        const QJsonObject data = event.value(QStringLiteral("data")).toObject();
        const QSet<QString> got = keysOf(data);
        QSet<QString> want;
        if (type == QLatin1String("tool.call"))
            want = setOf({"step", "call_id", "name", "arguments"});
        else if (type == QLatin1String("tool.result"))
            want = setOf({"step", "call_id", "name", "is_error", "content", "duration_ms"});
        else if (type == QLatin1String("log"))
            want = setOf({"level", "message"});
        else if (type == QLatin1String("run.output"))
            want = setOf({"output"});
        else
            violations << QStringLiteral("event type not in the protocol: ") + type;
        if (!want.isEmpty() && got != want)
            violations << QStringLiteral("event %1 has keys %2")
                              .arg(type, QStringList(got.values()).join(QLatin1Char(',')));
        if (type == QLatin1String("log")) {
            const QString level = data.value(QStringLiteral("level")).toString();
            if (level != QLatin1String("info") && level != QLatin1String("warning") &&
                level != QLatin1String("error"))
                violations << QStringLiteral("log level ") + level;
        }
        if (keysOf(event) != setOf({"type", "data"}))
            violations << QStringLiteral("event envelope keys");
    }

    void onReadyRead()
    {
        m_reader.feed(m_socket->readAll());
        while (auto m = m_reader.next()) {
            handle(*m);
            if (!m_socket)
                return;
        }
        if (m_reader.hasError())
            violations << QStringLiteral("runner sent invalid line: ") + m_reader.error();
    }

    void handle(const QJsonObject& m)
    {
        received.append(m);
        const QString type = m.value(QStringLiteral("type")).toString();
        const QJsonValue id = m.value(QStringLiteral("id"));
        if (type == QLatin1String("hello")) {
            if (keysOf(m) != setOf({"type", "id", "protocol"}) ||
                m.value(QStringLiteral("protocol")).toInt() != protocol::Version || id.toInt() != 1)
                violations << QStringLiteral("bad hello");
            QJsonObject run{{QStringLiteral("id"), QStringLiteral("run_test")},
                            {QStringLiteral("agent"), agent},
                            {QStringLiteral("workspace"), workspace},
                            {QStringLiteral("memory_dir"), memoryDir}};
            if (!input.isUndefined())
                run.insert(QStringLiteral("input"), input);
            send({{QStringLiteral("type"), QStringLiteral("result")},
                  {QStringLiteral("id"), id},
                  {QStringLiteral("ok"), true},
                  {QStringLiteral("run"), run}});
        } else if (type == QLatin1String("llm")) {
            if (keysOf(m) != setOf({"type", "id", "request"}) || !id.isDouble())
                violations << QStringLiteral("bad llm message");
            bool ok = true;
            llmRequests.append(
                llmRequestFromJson(m.value(QStringLiteral("request")).toObject(), &ok));
            if (!ok)
                violations << QStringLiteral("llm request does not parse");
            if (script.isEmpty()) {
                violations << QStringLiteral("llm request beyond the script");
                send({{QStringLiteral("type"), QStringLiteral("result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("ok"), false},
                      {QStringLiteral("error"),
                       QJsonObject{{QStringLiteral("kind"), QStringLiteral("config")},
                                   {QStringLiteral("message"), QStringLiteral("script ended")},
                                   {QStringLiteral("retryable"), false}}}});
                return;
            }
            const Step step = script.takeFirst();
            switch (step.kind) {
            case Step::Kind::Response:
                send({{QStringLiteral("type"), QStringLiteral("result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("ok"), true},
                      {QStringLiteral("response"), toJson(step.response)}});
                break;
            case Step::Kind::Error:
                send({{QStringLiteral("type"), QStringLiteral("result")},
                      {QStringLiteral("id"), id},
                      {QStringLiteral("ok"), false},
                      {QStringLiteral("error"), step.error}});
                break;
            case Step::Kind::Close:
                m_socket->abort();
                m_socket = nullptr;
                break;
            case Step::Kind::Garbage:
                m_socket->write("this is not json\n");
                break;
            }
        } else if (type == QLatin1String("event")) {
            if (keysOf(m) != setOf({"type", "event"}))
                violations << QStringLiteral("bad event message");
            const QJsonObject event = m.value(QStringLiteral("event")).toObject();
            checkEvent(event);
            events.append(event);
        } else if (type == QLatin1String("finish")) {
            if (keysOf(m) != setOf({"type", "id", "status", "reason", "output"}) || !id.isDouble())
                violations << QStringLiteral("bad finish");
            if (finish)
                violations << QStringLiteral("second finish");
            finish = m;
            send({{QStringLiteral("type"), QStringLiteral("result")},
                  {QStringLiteral("id"), id},
                  {QStringLiteral("ok"), true}});
        } else {
            violations << QStringLiteral("message type not in the protocol: ") + type;
        }
    }

    QLocalServer m_server;
    QLocalSocket* m_socket = nullptr;
    protocol::LineReader m_reader;
};

struct RunnerExit
{
    int exitCode = -1;
    bool crashed = false;
    bool timedOut = false;
    qint64 elapsedMs = 0;
    QByteArray out;
    QByteArray err;
};

/** Start the real runner as the supervisor would: empty environment, cwd = workspace. */
RunnerExit runRunner(FakeBroker& broker, const QString& socketPath, const QString& cwd,
                     int timeoutMs = 20000)
{
    QProcess p;
    QProcessEnvironment env; // cleared, like the supervisor does
    env.insert(QString::fromLatin1(protocol::SocketEnv), socketPath);
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(cwd);
    QElapsedTimer clock;
    clock.start();
    p.start(testsupport::bin(QStringLiteral("vivarium-runner")), {});
    RunnerExit r;
    if (!p.waitForStarted(10000)) {
        r.err = p.errorString().toUtf8();
        return r;
    }
    QEventLoop loop;
    QObject::connect(&p, &QProcess::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (p.state() != QProcess::NotRunning)
        loop.exec();
    if (p.state() != QProcess::NotRunning) {
        r.timedOut = true;
        p.kill();
        p.waitForFinished(5000);
    }
    // Let the broker read what was still buffered.
    QCoreApplication::processEvents();
    r.elapsedMs = clock.elapsed();
    r.exitCode = p.exitCode();
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    Q_UNUSED(broker);
    return r;
}

QString describe(const RunnerExit& r, const FakeBroker& b)
{
    QStringList events;
    for (const QJsonObject& e : b.events)
        events << QString::fromUtf8(QJsonDocument(e).toJson(QJsonDocument::Compact)).left(300);
    return QStringLiteral("exit=%1 crashed=%2 timedOut=%3 stderr=%4\nfinish=%5\nviolations=%6\n"
                          "events:\n%7")
        .arg(r.exitCode)
        .arg(r.crashed)
        .arg(r.timedOut)
        .arg(QString::fromUtf8(r.err),
             b.finish ? QString::fromUtf8(QJsonDocument(*b.finish).toJson(QJsonDocument::Compact))
                      : QStringLiteral("(none)"),
             b.violations.join(QStringLiteral("; ")), events.join(QLatin1Char('\n')));
}

QString readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return QStringLiteral("<missing>");
    return QString::fromUtf8(f.readAll());
}

} // namespace

class TestRunner : public QObject
{
    Q_OBJECT
private slots:
    void init();
    void cleanup();

    void version();
    void noSocketIsAUsageError();
    void finalTextAnswer();
    void firstUserMessage_data();
    void firstUserMessage();
    void toolErrorFedBackThenSuccess();
    void invalidArgumentsAreToolErrors();
    void unknownTool();
    void parallelToolCalls();
    void pathEscapesAreRefused();
    void confinedDirBothModes_data();
    void confinedDirBothModes();
    void fileReadLimitsAndBinary();
    void memoryPersistsAcrossRuns();
    void memoryToolsNeedMemoryDir();
    void maxSteps();
    void tokenBudget();
    void costBudget();
    void unpricedModelWarnsOnce();
    void noProgressGuard();
    void outputSchemaPass();
    void outputSchemaRepairThenPass();
    void outputSchemaRepairThenFail();
    void refusal_data();
    void refusal();
    void llmErrorEndsRun();
    void cutOffAtMaxTokens();
    void brokerClosesMidRun();
    void brokerSpeaksGarbage();

private:
    /** Run the runner against m_broker; checks the protocol was followed. */
    RunnerExit run();
    /** Runs, expects a clean exit and a finish; returns the finish message. */
    QJsonObject runToFinish();
    /** Content of the tool message answering `callId` in the llm request `index`. */
    ChatMessage toolMessage(int requestIndex, const QString& callId) const;

    std::unique_ptr<QTemporaryDir> m_tmp;
    std::unique_ptr<FakeBroker> m_broker;
    QString m_socket;
    QString m_ws;
};

void TestRunner::init()
{
    m_tmp = std::make_unique<QTemporaryDir>();
    QVERIFY(m_tmp->isValid());
    m_socket = m_tmp->filePath(QStringLiteral("broker.sock"));
    m_ws = m_tmp->filePath(QStringLiteral("ws"));
    QVERIFY(QDir().mkpath(m_ws));
    m_broker = std::make_unique<FakeBroker>();
    m_broker->workspace = m_ws;
    m_broker->memoryDir = QJsonValue();
    QVERIFY(m_broker->listen(m_socket));
}

void TestRunner::cleanup()
{
    m_broker.reset();
    m_tmp.reset();
}

RunnerExit TestRunner::run()
{
    return runRunner(*m_broker, m_socket, m_ws);
}

QJsonObject TestRunner::runToFinish()
{
    const RunnerExit r = run();
    const QString why = describe(r, *m_broker);
    [&] {
        QVERIFY2(!r.timedOut && !r.crashed && r.exitCode == 0, qPrintable(why));
        QVERIFY2(m_broker->violations.isEmpty(), qPrintable(why));
        QVERIFY2(m_broker->finish.has_value(), qPrintable(why));
        QVERIFY2(r.out.isEmpty(), r.out.constData());
        QVERIFY2(r.err.isEmpty(), r.err.constData());
    }();
    return m_broker->finish.value_or(QJsonObject());
}

ChatMessage TestRunner::toolMessage(int requestIndex, const QString& callId) const
{
    if (requestIndex >= m_broker->llmRequests.size())
        return {};
    for (const ChatMessage& m : m_broker->llmRequests.at(requestIndex).messages) {
        if (m.role == ChatMessage::Role::Tool && m.toolCallId == callId)
            return m;
    }
    return {};
}

void TestRunner::version()
{
    const auto r = testsupport::runProcess(testsupport::bin(QStringLiteral("vivarium-runner")),
                                           {QStringLiteral("--version")});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out.trimmed(), QByteArray("vivarium-runner " VIVARIUM_VERSION));
}

void TestRunner::noSocketIsAUsageError()
{
    QProcess p;
    p.setProcessEnvironment(QProcessEnvironment());
    p.start(testsupport::bin(QStringLiteral("vivarium-runner")), {});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("VIVARIUM_BROKER_SOCKET"), err.constData());
    QCOMPARE(err.count('\n'), 1);
}

void TestRunner::finalTextAnswer()
{
    m_broker->input = QStringLiteral("Say hi.");
    m_broker->script = {text(QStringLiteral("Hello there."))};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(fin.value(QStringLiteral("output")).toString(), QStringLiteral("Hello there."));
    const auto outputs = m_broker->eventsOf(QStringLiteral("run.output"));
    QCOMPARE(outputs.size(), 1);
    QCOMPARE(outputs.at(0).value(QStringLiteral("output")).toString(),
             QStringLiteral("Hello there."));

    QCOMPARE(m_broker->llmRequests.size(), 1);
    const LlmRequest& req = m_broker->llmRequests.at(0);
    QCOMPARE(req.model, QStringLiteral("fake-model"));
    QCOMPARE(req.temperature, std::optional<double>(0.25));
    QCOMPARE(req.maxTokens, std::optional<int>(512));
    QVERIFY(!req.topP);
    QVERIFY(req.stream);
    QCOMPARE(req.messages.size(), 2);
    QCOMPARE(req.messages.at(0).role, ChatMessage::Role::System);
    QVERIFY(req.messages.at(0).text.startsWith(QStringLiteral("You are a careful test agent.")));
    QVERIFY(req.messages.at(0).text.contains(QStringLiteral("workspace")));
    QVERIFY(req.messages.at(0).text.contains(QStringLiteral("error")));
    QCOMPARE(req.messages.at(1).role, ChatMessage::Role::User);
    QCOMPARE(req.messages.at(1).text, QStringLiteral("Say hi."));
    // No memory_dir: only the file tools.
    QStringList names;
    for (const ToolSpec& t : req.tools) {
        names << t.name;
        QCOMPARE(t.parameters.value(QStringLiteral("additionalProperties")), QJsonValue(false));
        QVERIFY(t.description.size() > 40);
    }
    QCOMPARE(names, (QStringList{"file_read", "file_write", "file_list"}));
    // Nothing else comes from the runner: hello, one llm, run.output, finish.
    QCOMPARE(m_broker->received.size(), 4);
}

void TestRunner::firstUserMessage_data()
{
    QTest::addColumn<QJsonValue>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("string") << QJsonValue(QStringLiteral("hi")) << QStringLiteral("hi");
    QTest::newRow("null") << QJsonValue() << QStringLiteral("Begin.");
    QTest::newRow("absent") << QJsonValue(QJsonValue::Undefined) << QStringLiteral("Begin.");
    QTest::newRow("object") << QJsonValue(QJsonObject{{QStringLiteral("a"), 1}})
                            << QStringLiteral("{\n    \"a\": 1\n}");
    QTest::newRow("number") << QJsonValue(42) << QStringLiteral("42");
}

void TestRunner::firstUserMessage()
{
    QFETCH(QJsonValue, input);
    QFETCH(QString, expected);
    m_broker->input = input;
    m_broker->script = {text(QStringLiteral("ok"))};
    RUN_TO_FINISH(fin);
    Q_UNUSED(fin);
    QCOMPARE(m_broker->llmRequests.size(), 1);
    QCOMPARE(m_broker->llmRequests.at(0).messages.at(1).text, expected);
}

void TestRunner::toolErrorFedBackThenSuccess()
{
    m_broker->script = {
        call(QStringLiteral("c1"), QStringLiteral("file_read"), R"({"path":"notes/x.txt"})"),
        call(QStringLiteral("c2"), QStringLiteral("file_write"),
             R"({"path":"notes/x.txt","content":"hello"})"),
        call(QStringLiteral("c3"), QStringLiteral("file_read"), R"({"path":"notes/x.txt"})"),
        text(QStringLiteral("The note says hello.")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(fin.value(QStringLiteral("output")).toString(),
             QStringLiteral("The note says hello."));
    QCOMPARE(m_broker->llmRequests.size(), 4);

    const ChatMessage first = toolMessage(1, QStringLiteral("c1"));
    QVERIFY(first.isError);
    QCOMPARE(first.text, QStringLiteral("file not found: notes/x.txt"));
    // The assistant turn that asked is in the conversation just before its result.
    const QList<ChatMessage>& msgs = m_broker->llmRequests.at(1).messages;
    QCOMPARE(msgs.size(), 4);
    QCOMPARE(msgs.at(2).role, ChatMessage::Role::Assistant);
    QCOMPARE(msgs.at(2).toolCalls.at(0).id, QStringLiteral("c1"));
    QCOMPARE(msgs.at(3).role, ChatMessage::Role::Tool);

    const ChatMessage second = toolMessage(2, QStringLiteral("c2"));
    QVERIFY(!second.isError);
    QCOMPARE(second.text, QStringLiteral("wrote 5 bytes to notes/x.txt"));
    const ChatMessage third = toolMessage(3, QStringLiteral("c3"));
    QVERIFY(!third.isError);
    QCOMPARE(third.text, QStringLiteral("hello"));
    QCOMPARE(readAll(m_ws + QStringLiteral("/notes/x.txt")), QStringLiteral("hello"));

    const auto callEvents = m_broker->eventsOf(QStringLiteral("tool.call"));
    const auto resultEvents = m_broker->eventsOf(QStringLiteral("tool.result"));
    QCOMPARE(callEvents.size(), 3);
    QCOMPARE(resultEvents.size(), 3);
    QCOMPARE(callEvents.at(0).value(QStringLiteral("step")).toInt(), 1);
    QCOMPARE(callEvents.at(2).value(QStringLiteral("step")).toInt(), 3);
    QCOMPARE(callEvents.at(1).value(QStringLiteral("arguments")).toObject(),
             (QJsonObject{{QStringLiteral("path"), QStringLiteral("notes/x.txt")},
                          {QStringLiteral("content"), QStringLiteral("hello")}}));
    QCOMPARE(resultEvents.at(0).value(QStringLiteral("is_error")).toBool(), true);
    QCOMPARE(resultEvents.at(0).value(QStringLiteral("call_id")).toString(), QStringLiteral("c1"));
    QCOMPARE(resultEvents.at(0).value(QStringLiteral("name")).toString(),
             QStringLiteral("file_read"));
    QCOMPARE(resultEvents.at(0).value(QStringLiteral("content")).toString(),
             QStringLiteral("file not found: notes/x.txt"));
    QVERIFY(resultEvents.at(0).value(QStringLiteral("duration_ms")).isDouble());
    QCOMPARE(resultEvents.at(1).value(QStringLiteral("is_error")).toBool(), false);
}

void TestRunner::invalidArgumentsAreToolErrors()
{
    m_broker->script = {
        call(QStringLiteral("a"), QStringLiteral("file_read"), QStringLiteral("{not json")),
        call(QStringLiteral("b"), QStringLiteral("file_read"), R"({"path":3})"),
        call(QStringLiteral("c"), QStringLiteral("file_read"), R"({"path":"x","extra":1})"),
        call(QStringLiteral("d"), QStringLiteral("file_write"), QString()),
        call(QStringLiteral("e"), QStringLiteral("file_list"), QString()),
        call(QStringLiteral("f"), QStringLiteral("file_read"), R"({"path":"x","max_bytes":0})"),
        call(QStringLiteral("g"), QStringLiteral("file_list"), QStringLiteral("[1]")),
        text(QStringLiteral("gave up")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));

    const ChatMessage a = toolMessage(1, QStringLiteral("a"));
    QVERIFY(a.isError);
    QVERIFY2(a.text.startsWith(QStringLiteral("invalid arguments: not valid JSON (")),
             qPrintable(a.text));
    const ChatMessage b = toolMessage(2, QStringLiteral("b"));
    QVERIFY(b.isError);
    QCOMPARE(b.text, QStringLiteral("invalid arguments: /path: expected a string, got number 3"));
    const ChatMessage c = toolMessage(3, QStringLiteral("c"));
    QCOMPARE(c.text, QStringLiteral("invalid arguments: /extra: property not allowed "
                                    "(additionalProperties is false)"));
    const ChatMessage d = toolMessage(4, QStringLiteral("d"));
    QVERIFY(d.isError);
    QCOMPARE(d.text, QStringLiteral("invalid arguments: none were given; file_write expects a "
                                    "JSON object with \"path\", \"content\""));
    // Empty arguments for a tool with nothing required count as {}.
    const ChatMessage e = toolMessage(5, QStringLiteral("e"));
    QVERIFY2(!e.isError, qPrintable(e.text));
    QCOMPARE(e.text, QStringLiteral("the directory . is empty"));
    const ChatMessage f = toolMessage(6, QStringLiteral("f"));
    QCOMPARE(f.text,
             QStringLiteral("invalid arguments: /max_bytes: expected a number >= 1, got number 0"));
    const ChatMessage g = toolMessage(7, QStringLiteral("g"));
    QCOMPARE(g.text,
             QStringLiteral("invalid arguments: /: expected an object, got array of 1 item"));

    // Unparsable arguments are shown as the raw text in the event.
    const auto callEvents = m_broker->eventsOf(QStringLiteral("tool.call"));
    QCOMPARE(callEvents.at(0).value(QStringLiteral("arguments")).toString(),
             QStringLiteral("{not json"));
    QCOMPARE(callEvents.at(1).value(QStringLiteral("arguments")).toObject(),
             (QJsonObject{{QStringLiteral("path"), 3}}));
}

void TestRunner::unknownTool()
{
    m_broker->script = {
        call(QStringLiteral("u"), QStringLiteral("shell_exec"), R"({"cmd":"ls"})"),
        text(QStringLiteral("ok")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    const ChatMessage u = toolMessage(1, QStringLiteral("u"));
    QVERIFY(u.isError);
    QCOMPARE(u.text, QStringLiteral("unknown tool \"shell_exec\"; the available tools are: "
                                    "file_read, file_write, file_list"));
}

void TestRunner::parallelToolCalls()
{
    m_broker->script = {
        calls(
            {ToolCall{QStringLiteral("p1"), QStringLiteral("file_write"),
                      R"({"path":"a.txt","content":"A"})"},
             ToolCall{QStringLiteral("p2"), QStringLiteral("file_write"),
                      R"({"path":"dir/b.txt","content":"BB"})"},
             ToolCall{QStringLiteral("p3"), QStringLiteral("file_read"), R"({"path":"missing"})"}}),
        call(QStringLiteral("p4"), QStringLiteral("file_list"), R"({})"),
        text(QStringLiteral("done")),
    };
    RUN_TO_FINISH(fin);
    Q_UNUSED(fin);
    QCOMPARE(m_broker->llmRequests.size(), 3);
    const QList<ChatMessage>& msgs = m_broker->llmRequests.at(1).messages;
    QCOMPARE(msgs.size(), 6); // system, user, assistant, 3 tool results in call order
    QCOMPARE(msgs.at(2).toolCalls.size(), 3);
    QCOMPARE(msgs.at(3).toolCallId, QStringLiteral("p1"));
    QCOMPARE(msgs.at(4).toolCallId, QStringLiteral("p2"));
    QCOMPARE(msgs.at(5).toolCallId, QStringLiteral("p3"));
    QVERIFY(!msgs.at(3).isError);
    QVERIFY(!msgs.at(4).isError);
    QVERIFY(msgs.at(5).isError);
    QCOMPARE(toolMessage(2, QStringLiteral("p4")).text, QStringLiteral("a.txt (1 bytes)\ndir/"));
    QCOMPARE(readAll(m_ws + QStringLiteral("/dir/b.txt")), QStringLiteral("BB"));
}

void TestRunner::pathEscapesAreRefused()
{
    const QString outside = m_tmp->filePath(QStringLiteral("outside"));
    QVERIFY(QDir().mkpath(outside));
    QVERIFY(testsupport::writeFile(outside + QStringLiteral("/secret.txt"), "top secret"));
    QVERIFY(QFile::link(outside, m_ws + QStringLiteral("/out")));
    QVERIFY(QFile::link(outside + QStringLiteral("/secret.txt"), m_ws + QStringLiteral("/leak")));
    QVERIFY(QFile::link(QStringLiteral("../outside/new.txt"), m_ws + QStringLiteral("/dangling")));
    // A relative symlink that stays inside is fine.
    QVERIFY(testsupport::writeFile(m_ws + QStringLiteral("/real.txt"), "inside"));
    QVERIFY(QFile::link(QStringLiteral("real.txt"), m_ws + QStringLiteral("/alias.txt")));

    const QList<QPair<QString, QString>> refused = {
        {QStringLiteral("file_write"), R"({"path":"../x","content":"x"})"},
        {QStringLiteral("file_read"), R"({"path":"/etc/passwd"})"},
        {QStringLiteral("file_write"), R"({"path":"out/pwned.txt","content":"x"})"},
        {QStringLiteral("file_read"), R"({"path":"out/secret.txt"})"},
        {QStringLiteral("file_read"), R"({"path":"leak"})"},
        {QStringLiteral("file_write"), R"({"path":"leak","content":"overwritten"})"},
        {QStringLiteral("file_write"), R"({"path":"dangling","content":"x"})"},
        {QStringLiteral("file_write"), R"({"path":"a/../../b","content":"x"})"},
        {QStringLiteral("file_write"), R"({"path":"out/sub/deeper.txt","content":"x"})"},
        {QStringLiteral("file_list"), R"({"path":"out"})"},
        {QStringLiteral("file_list"), R"({"path":".."})"},
        {QStringLiteral("file_read"), "{\"path\":\"real.txt\\u0000x\"}"},
    };
    QList<ToolCall> toolCalls;
    for (int i = 0; i < refused.size(); ++i)
        toolCalls.append(
            ToolCall{QStringLiteral("e%1").arg(i), refused.at(i).first, refused.at(i).second});
    toolCalls.append(
        ToolCall{QStringLiteral("ok1"), QStringLiteral("file_read"), R"({"path":"alias.txt"})"});
    toolCalls.append(ToolCall{QStringLiteral("ok2"), QStringLiteral("file_write"),
                              R"({"path":"a/../c.txt","content":"fine"})"});
    m_broker->script = {calls(toolCalls), text(QStringLiteral("done"))};
    RUN_TO_FINISH(fin);
    Q_UNUSED(fin);

    for (int i = 0; i < refused.size(); ++i) {
        const ChatMessage m = toolMessage(1, QStringLiteral("e%1").arg(i));
        QVERIFY2(m.isError, qPrintable(refused.at(i).second + QStringLiteral(" -> ") + m.text));
    }
    QCOMPARE(toolMessage(1, QStringLiteral("e0")).text,
             QStringLiteral("the path leads outside the workspace: ../x"));
    QCOMPARE(toolMessage(1, QStringLiteral("e1")).text,
             QStringLiteral("absolute paths are not allowed, use a path relative to the "
                            "workspace: /etc/passwd"));
    QCOMPARE(toolMessage(1, QStringLiteral("e4")).text,
             QStringLiteral("the path leads outside the workspace (through a symbolic link): "
                            "leak"));
    QCOMPARE(toolMessage(1, QStringLiteral("e11")).text,
             QStringLiteral("the path contains a NUL byte"));
    QCOMPARE(toolMessage(1, QStringLiteral("ok1")).text, QStringLiteral("inside"));
    QVERIFY(!toolMessage(1, QStringLiteral("ok2")).isError);
    QCOMPARE(readAll(m_ws + QStringLiteral("/c.txt")), QStringLiteral("fine"));

    // Nothing outside the workspace was written or created.
    QCOMPARE(readAll(outside + QStringLiteral("/secret.txt")), QStringLiteral("top secret"));
    QCOMPARE(QDir(outside).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList{QStringLiteral("secret.txt")});
    QCOMPARE(QDir(m_tmp->path())
                 .entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System)
                 .size(),
             3); // broker.sock, outside, ws
    QVERIFY(QFileInfo(m_ws + QStringLiteral("/leak")).isSymLink());
}

void TestRunner::confinedDirBothModes_data()
{
    QTest::addColumn<bool>("fallback");
    QTest::newRow("openat2") << false;
    QTest::newRow("fallback") << true;
}

void TestRunner::confinedDirBothModes()
{
    QFETCH(bool, fallback);
    const QString outside = m_tmp->filePath(QStringLiteral("outside"));
    QVERIFY(QDir().mkpath(outside));
    QVERIFY(testsupport::writeFile(outside + QStringLiteral("/secret.txt"), "top secret"));
    QVERIFY(QFile::link(outside, m_ws + QStringLiteral("/out")));
    QVERIFY(QFile::link(outside + QStringLiteral("/secret.txt"), m_ws + QStringLiteral("/leak")));
    QVERIFY(QDir().mkpath(m_ws + QStringLiteral("/sub")));
    QVERIFY(QFile::link(QStringLiteral("sub"), m_ws + QStringLiteral("/subalias")));

    runner::ConfinedDir dir;
    QVERIFY(dir.open(m_ws, QStringLiteral("workspace"), fallback).has_value());
    QCOMPARE(dir.usesOpenat2(), !fallback);

    QVERIFY(!dir.write(QStringLiteral("../x"), "x", false));
    QVERIFY(!dir.write(QStringLiteral("/tmp/x"), "x", false));
    QVERIFY(!dir.write(QStringLiteral("out/pwned"), "x", false));
    QVERIFY(!dir.write(QStringLiteral("out/a/b"), "x", false));
    QVERIFY(!dir.write(QStringLiteral("leak"), "x", false));
    QVERIFY(!dir.read(QStringLiteral("leak"), 0, 100));
    QVERIFY(!dir.read(QStringLiteral("out/secret.txt"), 0, 100));
    bool truncated = false;
    QVERIFY(!dir.list(QStringLiteral("out"), false, 10, &truncated));

    const auto written = dir.write(QStringLiteral("deep/er/file.txt"), "abc", false);
    QVERIFY2(written.has_value(), qPrintable(written ? QString() : written.error()));
    QCOMPARE(*written, 3);
    const auto appended = dir.write(QStringLiteral("deep/er/file.txt"), "de", true);
    QCOMPARE(appended.value_or(-1), 5);
    const auto chunk = dir.read(QStringLiteral("deep/er/file.txt"), 1, 3);
    QVERIFY(chunk.has_value());
    QCOMPARE(chunk->data, QByteArray("bcd"));
    QCOMPARE(chunk->fileSize, 5);
    // A symlinked directory that stays inside is usable as a parent.
    QVERIFY(dir.write(QStringLiteral("subalias/n.txt"), "n", false).has_value());
    QCOMPARE(readAll(m_ws + QStringLiteral("/sub/n.txt")), QStringLiteral("n"));

    const auto entries = dir.list(QStringLiteral("."), true, 100, &truncated);
    QVERIFY(entries.has_value());
    QStringList paths;
    for (const auto& e : *entries)
        paths << e.path;
    QCOMPARE(paths, (QStringList{"deep", "deep/er", "deep/er/file.txt", "leak", "out", "sub",
                                 "sub/n.txt", "subalias"}));
    QVERIFY(!truncated);
    QCOMPARE(QDir(outside).entryList(QDir::AllEntries | QDir::NoDotAndDotDot),
             QStringList{QStringLiteral("secret.txt")});
    QCOMPARE(readAll(outside + QStringLiteral("/secret.txt")), QStringLiteral("top secret"));
}

void TestRunner::fileReadLimitsAndBinary()
{
    // 100000 bytes of text with a 2-byte character straddling the 64 KiB boundary.
    QByteArray big(65535, 'a');
    big += "\xC3\xA9"; // é at 65535..65536
    big += QByteArray(100000 - big.size(), 'b');
    QVERIFY(testsupport::writeFile(m_ws + QStringLiteral("/big.txt"), big));
    QVERIFY(testsupport::writeFile(m_ws + QStringLiteral("/blob.bin"),
                                   QByteArray("\x00\x01\x02\xff", 4)));
    QVERIFY(testsupport::writeFile(m_ws + QStringLiteral("/empty.txt"), QByteArray()));
    m_broker->script = {
        calls(
            {ToolCall{QStringLiteral("r1"), QStringLiteral("file_read"), R"({"path":"big.txt"})"},
             ToolCall{QStringLiteral("r2"), QStringLiteral("file_read"),
                      R"({"path":"big.txt","offset":65535})"},
             ToolCall{QStringLiteral("r3"), QStringLiteral("file_read"), R"({"path":"blob.bin"})"},
             ToolCall{QStringLiteral("r4"), QStringLiteral("file_read"), R"({"path":"empty.txt"})"},
             ToolCall{QStringLiteral("r5"), QStringLiteral("file_read"), R"({"path":"."})"},
             ToolCall{QStringLiteral("r6"), QStringLiteral("file_read"),
                      R"({"path":"big.txt","offset":200000})"}}),
        text(QStringLiteral("done")),
    };
    RUN_TO_FINISH(fin);
    Q_UNUSED(fin);
    const ChatMessage r1 = toolMessage(1, QStringLiteral("r1"));
    QVERIFY(!r1.isError);
    QVERIFY(r1.text.startsWith(QString(65535, QLatin1Char('a')) + QLatin1Char('\n')));
    QVERIFY2(r1.text.endsWith(QStringLiteral("[truncated: bytes 0-65535 of 100000 shown; 34465 "
                                             "more bytes; call file_read with offset 65535 to "
                                             "continue]")),
             qPrintable(r1.text.right(200)));
    const ChatMessage r2 = toolMessage(1, QStringLiteral("r2"));
    QVERIFY(r2.text.startsWith(QString::fromUtf8("\xC3\xA9") + QStringLiteral("bbb")));
    QVERIFY(r2.text.endsWith(QStringLiteral("[bytes 65535-100000 of 100000 shown: end of file]")));
    QCOMPARE(toolMessage(1, QStringLiteral("r3")).text,
             QStringLiteral("blob.bin is a binary file (4 bytes); only UTF-8 text can be shown"));
    QCOMPARE(toolMessage(1, QStringLiteral("r4")).text,
             QStringLiteral("[empty.txt is an empty file]"));
    QCOMPARE(toolMessage(1, QStringLiteral("r5")).text,
             QStringLiteral("is a directory, not a file: ."));
    QVERIFY(toolMessage(1, QStringLiteral("r6")).isError);

    // Events keep at most 16 KiB of a result; the model got all of it.
    const auto results = m_broker->eventsOf(QStringLiteral("tool.result"));
    const QString shown = results.at(0).value(QStringLiteral("content")).toString();
    QVERIFY(shown.toUtf8().size() < 16 * 1024 + 100);
    QVERIFY2(shown.endsWith(QStringLiteral("more bytes not shown]")), qPrintable(shown.right(100)));
}

void TestRunner::memoryPersistsAcrossRuns()
{
    const QString mem = m_tmp->filePath(QStringLiteral("memory"));
    QVERIFY(QDir().mkpath(mem));
    m_broker->memoryDir = mem;
    m_broker->script = {
        call(QStringLiteral("m1"), QStringLiteral("memory_write"),
             R"({"path":"MEMORY.md","content":"favourite colour: blue"})"),
        call(QStringLiteral("m2"), QStringLiteral("memory_write"),
             R"({"path":"MEMORY.md","content":"\nsecond line","mode":"append"})"),
        call(QStringLiteral("m3"), QStringLiteral("memory_write"),
             R"({"path":"people/ann.md","content":"Ann likes tea"})"),
        text(QStringLiteral("saved")),
    };
    RUN_TO_FINISH(fin);
    Q_UNUSED(fin);
    QCOMPARE(toolMessage(2, QStringLiteral("m2")).text,
             QStringLiteral("appended 12 bytes to MEMORY.md (now 34 bytes)"));
    QStringList names;
    for (const ToolSpec& t : m_broker->llmRequests.at(0).tools)
        names << t.name;
    QCOMPARE(names, (QStringList{"file_read", "file_write", "file_list", "memory_read",
                                 "memory_write", "memory_list"}));
    QVERIFY(m_broker->llmRequests.at(0).messages.at(0).text.contains(
        QStringLiteral("Your memory directory is empty")));

    // A second runner process with a fresh broker and workspace sees the memory.
    m_broker = std::make_unique<FakeBroker>();
    m_ws = m_tmp->filePath(QStringLiteral("ws2"));
    QVERIFY(QDir().mkpath(m_ws));
    QFile::remove(m_socket);
    QVERIFY(m_broker->listen(m_socket));
    m_broker->workspace = m_ws;
    m_broker->memoryDir = mem;
    m_broker->script = {
        calls({ToolCall{QStringLiteral("l"), QStringLiteral("memory_list"), QString()},
               ToolCall{QStringLiteral("r"), QStringLiteral("memory_read"),
                        R"({"path":"people/ann.md"})"},
               ToolCall{QStringLiteral("x"), QStringLiteral("memory_read"),
                        R"({"path":"../ws/escape"})"}}),
        text(QStringLiteral("blue")),
    };
    RUN_TO_FINISH(fin2);
    Q_UNUSED(fin2);
    const QString system = m_broker->llmRequests.at(0).messages.at(0).text;
    QVERIFY2(system.contains(QStringLiteral("favourite colour: blue\nsecond line")),
             qPrintable(system));
    QVERIFY(system.contains(QStringLiteral("- MEMORY.md (34 bytes)")));
    QVERIFY(system.contains(QStringLiteral("- people/ann.md (13 bytes)")));
    QCOMPARE(toolMessage(1, QStringLiteral("l")).text,
             QStringLiteral("MEMORY.md (34 bytes)\npeople/ann.md (13 bytes)"));
    QCOMPARE(toolMessage(1, QStringLiteral("r")).text, QStringLiteral("Ann likes tea"));
    QCOMPARE(toolMessage(1, QStringLiteral("x")).text,
             QStringLiteral("the path leads outside the memory directory: ../ws/escape"));
}

void TestRunner::memoryToolsNeedMemoryDir()
{
    const QString mem = m_tmp->filePath(QStringLiteral("memory"));
    m_broker->memoryDir = mem;
    QJsonObject agent = agentJson();
    agent.insert(QStringLiteral("tools"), QJsonObject{{QStringLiteral("memory"), false},
                                                      {QStringLiteral("files"), false},
                                                      {QStringLiteral("shell"), false}});
    m_broker->agent = agent;
    m_broker->script = {call(QStringLiteral("m"), QStringLiteral("memory_list"), QString()),
                        text(QStringLiteral("ok"))};
    RUN_TO_FINISH(fin);
    Q_UNUSED(fin);
    QVERIFY(m_broker->llmRequests.at(0).tools.isEmpty());
    QVERIFY(m_broker->llmRequests.at(0).messages.at(0).text.contains(
        QStringLiteral("No tools are available")));
    QCOMPARE(toolMessage(1, QStringLiteral("m")).text,
             QStringLiteral("unknown tool \"memory_list\": no tools are available in this run, "
                            "answer without calling any"));
}

void TestRunner::maxSteps()
{
    m_broker->agent = withLimit(agentJson(), QStringLiteral("max_steps"), 2);
    m_broker->script = {
        call(QStringLiteral("1"), QStringLiteral("file_list"), R"({})"),
        call(QStringLiteral("2"), QStringLiteral("file_list"), R"({"path":"."})"),
        text(QStringLiteral("never asked")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(), QStringLiteral("max_steps"));
    QVERIFY(fin.value(QStringLiteral("output")).isNull());
    QCOMPARE(m_broker->llmRequests.size(), 2);
    QVERIFY(m_broker->eventsOf(QStringLiteral("run.output")).isEmpty());
}

void TestRunner::tokenBudget()
{
    m_broker->agent = withLimit(agentJson(), QStringLiteral("max_tokens"), 100);
    m_broker->script = {
        call(QStringLiteral("1"), QStringLiteral("file_list"), R"({})", 60),
        call(QStringLiteral("2"), QStringLiteral("file_list"), R"({"path":"."})", 41),
        text(QStringLiteral("never asked")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(), QStringLiteral("token_budget"));
    QCOMPARE(m_broker->llmRequests.size(), 2);
    // The call of the turn that broke the budget is not run.
    QCOMPARE(m_broker->eventsOf(QStringLiteral("tool.call")).size(), 1);
}

void TestRunner::costBudget()
{
    m_broker->agent = withLimit(agentJson(), QStringLiteral("max_cost_usd"), 0.01);
    m_broker->script = {
        call(QStringLiteral("1"), QStringLiteral("file_list"), R"({})", 10, 0.006),
        call(QStringLiteral("2"), QStringLiteral("file_list"), R"({"path":"."})", 10, 0.006),
        text(QStringLiteral("never asked")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(), QStringLiteral("cost_budget"));
    QCOMPARE(m_broker->llmRequests.size(), 2);
    QVERIFY(m_broker->eventsOf(QStringLiteral("log")).isEmpty());
}

void TestRunner::unpricedModelWarnsOnce()
{
    m_broker->agent = withLimit(agentJson(), QStringLiteral("max_cost_usd"), 0.01);
    m_broker->script = {
        call(QStringLiteral("1"), QStringLiteral("file_list"), R"({})", 10, std::nullopt),
        call(QStringLiteral("2"), QStringLiteral("file_list"), R"({"path":"."})", 10, std::nullopt),
        text(QStringLiteral("done"), QStringLiteral("end_turn"), 10, std::nullopt),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    const auto logs = m_broker->eventsOf(QStringLiteral("log"));
    QCOMPARE(logs.size(), 1);
    QCOMPARE(logs.at(0).value(QStringLiteral("level")).toString(), QStringLiteral("warning"));
    QCOMPARE(logs.at(0).value(QStringLiteral("message")).toString(),
             QStringLiteral("model fake-model has no known price (cost_usd is null), so the cost "
                            "budget of 0.01 USD cannot be enforced"));
}

void TestRunner::noProgressGuard()
{
    // Whitespace and key order differ; the canonical JSON is the same call.
    m_broker->script = {
        call(QStringLiteral("1"), QStringLiteral("file_read"),
             R"({"path":"same.txt","max_bytes":9})"),
        call(QStringLiteral("2"), QStringLiteral("file_read"),
             R"({"max_bytes":9,"path":"same.txt"})"),
        call(QStringLiteral("3"), QStringLiteral("file_read"),
             R"({ "path": "same.txt", "max_bytes": 9 })"),
        call(QStringLiteral("4"), QStringLiteral("file_read"),
             R"({"path":"same.txt","max_bytes":9})"),
        call(QStringLiteral("5"), QStringLiteral("file_read"),
             R"({"path":"same.txt","max_bytes":9})"),
        text(QStringLiteral("never asked")),
    };
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(), QStringLiteral("no_progress"));
    QCOMPARE(m_broker->llmRequests.size(), 5);
    QCOMPARE(m_broker->eventsOf(QStringLiteral("tool.call")).size(), 4); // the 5th is not run
    QCOMPARE(toolMessage(2, QStringLiteral("2")).text, QStringLiteral("file not found: same.txt"));
    const QString third = toolMessage(3, QStringLiteral("3")).text;
    QVERIFY2(third.startsWith(QStringLiteral("file not found: same.txt\n\n[warning: this is the "
                                             "3rd time you made exactly this call")),
             qPrintable(third));
    QVERIFY(toolMessage(4, QStringLiteral("4")).text.contains(QStringLiteral("4th time")));
    const auto logs = m_broker->eventsOf(QStringLiteral("log"));
    QCOMPARE(logs.size(), 1);
    QCOMPARE(logs.at(0).value(QStringLiteral("level")).toString(), QStringLiteral("error"));
}

void TestRunner::outputSchemaPass()
{
    QJsonObject agent = agentJson();
    agent.insert(QStringLiteral("output_schema"),
                 QJsonDocument::fromJson(R"({"type":"object","properties":{"n":{"type":"integer"}},
                                            "required":["n"],"additionalProperties":false})")
                     .object());
    m_broker->agent = agent;
    m_broker->script = {text(QStringLiteral("Here it is:\n```json\n{\"n\": 3}\n```\n"))};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(fin.value(QStringLiteral("output")).toObject(),
             (QJsonObject{{QStringLiteral("n"), 3}}));
    QCOMPARE(m_broker->eventsOf(QStringLiteral("run.output")).at(0).value(QStringLiteral("output")),
             QJsonValue(QJsonObject{{QStringLiteral("n"), 3}}));
    QVERIFY(m_broker->llmRequests.at(0).messages.at(0).text.contains(
        QStringLiteral("conforms to this JSON Schema")));
}

void TestRunner::outputSchemaRepairThenPass()
{
    QJsonObject agent = agentJson();
    agent.insert(QStringLiteral("output_schema"),
                 QJsonDocument::fromJson(R"({"type":"object","properties":{"n":{"type":"integer"}},
                                            "required":["n"]})")
                     .object());
    m_broker->agent = agent;
    m_broker->script = {text(QStringLiteral("{\"n\": \"three\"}")),
                        text(QStringLiteral("{\"n\": 3}"))};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(fin.value(QStringLiteral("output")).toObject(),
             (QJsonObject{{QStringLiteral("n"), 3}}));
    QCOMPARE(m_broker->llmRequests.size(), 2);
    const ChatMessage repair = m_broker->llmRequests.at(1).messages.last();
    QCOMPARE(repair.role, ChatMessage::Role::User);
    QVERIFY2(repair.text.contains(QStringLiteral("/n: expected an integer, got string \"three\"")),
             qPrintable(repair.text));
    QVERIFY(repair.text.contains(QStringLiteral("only the corrected JSON")));
}

void TestRunner::outputSchemaRepairThenFail()
{
    QJsonObject agent = agentJson();
    agent.insert(QStringLiteral("output_schema"),
                 QJsonDocument::fromJson(R"({"type":"object","required":["n"]})").object());
    m_broker->agent = agent;
    m_broker->script = {text(QStringLiteral("not json at all")), text(QStringLiteral("{\"m\":1}")),
                        text(QStringLiteral("never asked"))};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(), QStringLiteral("output_invalid"));
    QCOMPARE(m_broker->llmRequests.size(), 2);
    QVERIFY(m_broker->llmRequests.at(1).messages.last().text.contains(
        QStringLiteral("the answer is not valid JSON")));
    bool logged = false;
    for (const QJsonObject& l : m_broker->eventsOf(QStringLiteral("log"))) {
        logged = logged || (l.value(QStringLiteral("level")).toString() == QLatin1String("error") &&
                            l.value(QStringLiteral("message"))
                                .toString()
                                .contains(QStringLiteral("/: missing required property \"n\"")));
    }
    QVERIFY(logged);
}

void TestRunner::refusal_data()
{
    QTest::addColumn<QString>("stop");
    QTest::addColumn<QString>("textAnswer");
    QTest::addColumn<QString>("refusalText");
    QTest::addColumn<QString>("reason");
    QTest::newRow("refusal field")
        << QStringLiteral("end_turn") << QString() << QStringLiteral("I can't help with that.")
        << QStringLiteral("model_refused: I can't help with that.");
    QTest::newRow("stop reason") << QStringLiteral("refusal") << QStringLiteral("No.") << QString()
                                 << QStringLiteral("model_refused: No.");
    QTest::newRow("long") << QStringLiteral("refusal") << QString(300, QLatin1Char('x'))
                          << QString()
                          << QStringLiteral("model_refused: ") + QString(200, QLatin1Char('x'));
}

void TestRunner::refusal()
{
    QFETCH(QString, stop);
    QFETCH(QString, textAnswer);
    QFETCH(QString, refusalText);
    QFETCH(QString, reason);
    Step s = text(textAnswer, stop);
    s.response.refusal = refusalText;
    m_broker->script = {s};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(), reason);
}

void TestRunner::llmErrorEndsRun()
{
    m_broker->script = {call(QStringLiteral("1"), QStringLiteral("file_list"), R"({})"),
                        llmError(QStringLiteral("http"), QStringLiteral("401 unauthorized"))};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QCOMPARE(fin.value(QStringLiteral("reason")).toString(),
             QStringLiteral("llm_error: http: 401 unauthorized"));
}

void TestRunner::cutOffAtMaxTokens()
{
    Step cut = call(QStringLiteral("c"), QStringLiteral("file_write"),
                    R"({"path":"a.txt","content":"abc)");
    cut.response.stopReason = QStringLiteral("max_tokens");
    m_broker->script = {cut, text(QStringLiteral("partial answ"), QStringLiteral("max_tokens"))};
    RUN_TO_FINISH(fin);
    QCOMPARE(fin.value(QStringLiteral("status")).toString(), QStringLiteral("succeeded"));
    QCOMPARE(fin.value(QStringLiteral("output")).toString(), QStringLiteral("partial answ"));
    const ChatMessage m = toolMessage(1, QStringLiteral("c"));
    QVERIFY(m.isError);
    QVERIFY2(m.text.contains(QStringLiteral("cut off at the max_tokens limit")),
             qPrintable(m.text));
    const auto logs = m_broker->eventsOf(QStringLiteral("log"));
    QCOMPARE(logs.size(), 1);
    QCOMPARE(logs.at(0).value(QStringLiteral("level")).toString(), QStringLiteral("warning"));
    QVERIFY(
        logs.at(0).value(QStringLiteral("message")).toString().contains(QStringLiteral("cut off")));
}

void TestRunner::brokerClosesMidRun()
{
    m_broker->script = {call(QStringLiteral("1"), QStringLiteral("file_list"), R"({})"),
                        special(Step::Kind::Close)};
    const RunnerExit r = run();
    QVERIFY2(!r.timedOut && !r.crashed, qPrintable(describe(r, *m_broker)));
    QVERIFY(r.exitCode != 0);
    QVERIFY(r.elapsedMs < 10000);
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.startsWith("vivarium-runner: ") && r.err.contains("broker"), r.err.constData());
    QVERIFY(!m_broker->finish);
    QVERIFY2(m_broker->violations.isEmpty(), qPrintable(m_broker->violations.join(';')));
}

void TestRunner::brokerSpeaksGarbage()
{
    m_broker->script = {special(Step::Kind::Garbage)};
    const RunnerExit r = run();
    QVERIFY2(!r.timedOut && !r.crashed, qPrintable(describe(r, *m_broker)));
    QVERIFY(r.exitCode != 0);
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.contains("invalid message"), r.err.constData());
    QVERIFY(!m_broker->finish);
}

QTEST_GUILESS_MAIN(TestRunner)
#include "tst_Runner.moc"
