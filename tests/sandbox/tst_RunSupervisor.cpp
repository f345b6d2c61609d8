// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/RunSupervisor.h"

#include "FakeModelServer.h"
#include "TestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace vivarium;

namespace {

#define VERIFY_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& result_ = (expr);                                                              \
        QVERIFY2(result_.has_value(),                                                              \
                 qPrintable(result_ ? QString() : result_.error().toString()));                    \
    } while (0)

#define VERIFY_ERROR(expr, errorCode)                                                              \
    do {                                                                                           \
        const auto& result_ = (expr);                                                              \
        QVERIFY2(!result_.has_value(), "expected an error, got success");                          \
        QCOMPARE(int(result_.error().code), int(errorCode));                                       \
    } while (0)

constexpr int FinishTimeoutMs = 20000;
/** Set: this executable hosts an engine for runnersDieWithTheEngine instead of testing. */
constexpr const char* HostEngineEnv = "TST_RUNSUPERVISOR_HOST";

AgentDefinition makeAgent(const QString& id, const QString& endpoint = QStringLiteral("local"),
                          int timeoutS = 60)
{
    AgentDefinition def;
    def.id = id;
    def.name = QStringLiteral("Agent ") + id;
    def.prompt = QStringLiteral("Do the thing.");
    def.model.endpoint = endpoint;
    def.model.name = QStringLiteral("test-model");
    def.limits.timeoutS = timeoutS;
    def.tools.memory = true;
    return def;
}

/**
 * For tests that watch the runner's process from the host (its pid, children, environment, cwd,
 * socket path): under the default bwrap tier those live in the sandbox's own namespaces. The
 * sandboxed equivalents are asserted by tst_sandboxattacks.
 */
AgentDefinition unsandboxed(AgentDefinition def)
{
    def.sandbox.tier = QStringLiteral("none");
    def.sandbox.minTier = QStringLiteral("none");
    return def;
}

QString realRunner()
{
    return testsupport::bin(QStringLiteral("vivarium-runner"));
}

/** Gone, or a zombie nobody reaped yet (an orphan waits for pid 1): either way not running. */
bool notRunning(pid_t pid)
{
    if (::kill(pid, 0) != 0)
        return errno == ESRCH;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return true;
    const QByteArray line = stat.readAll();
    const qsizetype close = line.lastIndexOf(')');
    return close > 0 && line.mid(close + 2, 1) == "Z";
}

bool exists(pid_t pid)
{
    return ::kill(pid, 0) == 0;
}

QString eventTypes(const QList<RunEvent>& events)
{
    QStringList types;
    for (const RunEvent& e : events)
        types << e.type;
    return types.join(QLatin1Char(','));
}

/** One data directory, store, vault and supervisor; records what the supervisor emits. */
class Env
{
public:
    explicit Env(const QString& dataDir = {})
    {
        m_dataDir = dataDir.isEmpty() ? m_tmp.path() : dataDir;
        QDir().mkpath(m_dataDir);
        auto s = Store::open(Paths(m_dataDir).storeFile());
        if (!s) {
            m_error = s.error().toString();
            return;
        }
        store = std::move(*s);
        ModelEndpointRecord local;
        local.name = QStringLiteral("local");
        local.api = QStringLiteral("openai");
        local.baseUrl = QStringLiteral("http://127.0.0.1:9/v1");
        if (auto r = store->saveModelEndpoint(local); !r)
            m_error = r.error().toString();
        if (auto r = store->saveAgent(makeAgent(QStringLiteral("fake"))); !r)
            m_error = r.error().toString();
    }
    ~Env() { sup.reset(); }

    bool ok() const { return m_error.isEmpty() && store; }
    QString error() const { return m_error; }
    QString dataDir() const { return m_dataDir; }

    static QString fakeRunner()
    {
        return testsupport::bin(QStringLiteral("supervisor_fake_runner"));
    }

    RunSupervisor* start(SupervisorOptions o = {})
    {
        if (o.runnerPath.isEmpty())
            o.runnerPath = fakeRunner();
        sup = std::make_unique<RunSupervisor>(store.get(), &secrets, Paths(m_dataDir), o);
        QObject::connect(sup.get(), &RunSupervisor::runFinished, sup.get(),
                         [this](const QString& id, RunStatus status, const QString& reason) {
                             ++finishCount[id];
                             finished.insert(id, {status, reason});
                         });
        QObject::connect(sup.get(), &RunSupervisor::eventAppended, sup.get(),
                         [this](const QString& id, const RunEvent& e) {
                             emitted[id].append(e);
                             if (onEvent)
                                 onEvent(id, e);
                         });
        return sup.get();
    }

    QString enqueue(const QJsonObject& input, const QString& agent = QStringLiteral("fake"))
    {
        auto r = sup->enqueue(agent, input, QStringLiteral("test:tst_runsupervisor"));
        if (!r) {
            m_error = r.error().toString();
            return {};
        }
        return r->id;
    }

    /** The first emitted event of `type`, once it is there. */
    std::optional<RunEvent> emittedEvent(const QString& runId, const QString& type) const
    {
        for (const RunEvent& e : emitted.value(runId)) {
            if (e.type == type)
                return e;
        }
        return std::nullopt;
    }

    QList<RunEvent> storedEvents(const QString& runId) const
    {
        auto events = store->events(runId);
        return events ? *events : QList<RunEvent>{};
    }

    RunRecord run(const QString& runId) const
    {
        auto r = store->run(runId);
        return r ? *r : RunRecord{};
    }

    std::unique_ptr<Store> store;
    MemorySecretStore secrets;
    std::unique_ptr<RunSupervisor> sup;
    QHash<QString, int> finishCount;
    QHash<QString, QPair<RunStatus, QString>> finished;
    QHash<QString, QList<RunEvent>> emitted;
    std::function<void(const QString&, const RunEvent&)> onEvent;

private:
    QTemporaryDir m_tmp;
    QString m_dataDir;
    QString m_error;
};

/** Register `server` as model endpoint `name` and an agent `agentId` using it. */
bool addModel(Env& env, const QString& name, const testsupport::FakeModelServer& server,
              const QString& api, const QString& agentId, const QString& secretKey = {},
              std::optional<double> inputPrice = {}, std::optional<double> outputPrice = {},
              int timeoutS = 60)
{
    ModelEndpointRecord e;
    e.name = name;
    e.api = api;
    e.baseUrl =
        (api == QLatin1String("openai") ? server.openAiBaseUrl() : server.anthropicBaseUrl())
            .toString();
    e.secretKey = secretKey;
    e.inputPricePerMTok = inputPrice;
    e.outputPricePerMTok = outputPrice;
    if (!env.store->saveModelEndpoint(e))
        return false;
    return env.store->saveAgent(makeAgent(agentId, name, timeoutS)).has_value();
}

QJsonObject toolTurn(const QString& id, const QString& name, const QJsonObject& args,
                     int inputTokens = 10, int outputTokens = 5)
{
    return {
        {QStringLiteral("tool_calls"),
         QJsonArray{QJsonObject{{QStringLiteral("id"), id},
                                {QStringLiteral("name"), name},
                                {QStringLiteral("arguments"), args}}}},
        {QStringLiteral("usage"), QJsonObject{{QStringLiteral("input_tokens"), inputTokens},
                                              {QStringLiteral("output_tokens"), outputTokens}}}};
}

QJsonObject textTurn(const QString& text, int inputTokens = 10, int outputTokens = 5)
{
    return {
        {QStringLiteral("text"), text},
        {QStringLiteral("usage"), QJsonObject{{QStringLiteral("input_tokens"), inputTokens},
                                              {QStringLiteral("output_tokens"), outputTokens}}}};
}

QList<RunEvent> ofType(const QList<RunEvent>& events, const QString& type)
{
    QList<RunEvent> out;
    for (const RunEvent& e : events) {
        if (e.type == type)
            out.append(e);
    }
    return out;
}

} // namespace

class TestRunSupervisor : public QObject
{
    Q_OBJECT

    /**
     * The invariants of every ended run: seq 1..n without gaps, run.queued first, exactly one
     * run.finished and it is last, agreeing with the stored state; emitted in the same order;
     * runFinished emitted exactly once with the stored state.
     */
    void checkJournal(Env& env, const QString& runId)
    {
        const RunRecord run = env.run(runId);
        QVERIFY2(isTerminal(run.status), qPrintable(runStatusName(run.status)));
        const QList<RunEvent> events = env.storedEvents(runId);
        QVERIFY(events.size() >= 2);
        for (qsizetype i = 0; i < events.size(); ++i)
            QCOMPARE(events.at(i).seq, qint64(i + 1));
        QCOMPARE(events.first().type, QStringLiteral("run.queued"));
        QCOMPARE(events.last().type, QStringLiteral("run.finished"));
        int finishedEvents = 0;
        for (const RunEvent& e : events)
            finishedEvents += e.type == QLatin1String("run.finished") ? 1 : 0;
        QCOMPARE(finishedEvents, 1);
        const QJsonObject fin = events.last().data;
        QCOMPARE(fin.value(QStringLiteral("status")).toString(), runStatusName(run.status));
        QCOMPARE(fin.value(QStringLiteral("reason")).toString(), run.reason);
        QVERIFY(fin.value(QStringLiteral("usage")).isObject());
        QVERIFY(fin.value(QStringLiteral("duration_ms")).isDouble());

        const QList<RunEvent> emitted = env.emitted.value(runId);
        QCOMPARE(eventTypes(emitted), eventTypes(events));
        for (qsizetype i = 0; i < emitted.size(); ++i)
            QCOMPARE(emitted.at(i).seq, events.at(i).seq);

        QCOMPARE(env.finishCount.value(runId), 1);
        QCOMPARE(int(env.finished.value(runId).first), int(run.status));
        QCOMPARE(env.finished.value(runId).second, run.reason);
    }

    /** Enqueue one run, wait for its end, check the journal; the stored run. */
    RunRecord runToEnd(Env& env, const QJsonObject& input, int timeoutMs = FinishTimeoutMs)
    {
        const QString id = env.enqueue(input);
        [&] {
            QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
            QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), timeoutMs);
            checkJournal(env, id);
        }();
        return env.run(id);
    }

    pid_t runnerPid(Env& env, const QString& runId)
    {
        auto started = env.emittedEvent(runId, QStringLiteral("run.started"));
        return started ? pid_t(started->data.value(QStringLiteral("runner_pid")).toInt()) : 0;
    }

private slots:
    void initTestCase()
    {
        QVERIFY2(QFileInfo(Env::fakeRunner()).isExecutable(), qPrintable(Env::fakeRunner()));
    }

    // --- the good path ---------------------------------------------------------------------

    void succeedsWithEventsInOrder()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        VERIFY_OK(env.store->saveAgent(unsandboxed(makeAgent(QStringLiteral("fake")))));
        env.start();
        const QJsonObject input{{QStringLiteral("mode"), QStringLiteral("succeed")},
                                {QStringLiteral("events"), 3},
                                {QStringLiteral("report"), true}};
        const RunRecord run = runToEnd(env, input);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(run.status, RunStatus::Succeeded);
        QVERIFY(run.reason.isEmpty());
        QCOMPARE(run.output.toObject().value(QStringLiteral("echo")).toObject(), input);
        QVERIFY(run.startedAt.isValid());
        QVERIFY(run.finishedAt.isValid());

        const QList<RunEvent> events = env.storedEvents(run.id);
        QCOMPARE(eventTypes(events),
                 QStringLiteral("run.queued,run.started,log,tool.call,tool.result,tool.call,"
                                "tool.result,tool.call,tool.result,run.output,run.finished"));
        const QJsonObject queued = events.at(0).data;
        QCOMPARE(queued.value(QStringLiteral("agent")).toString(), QStringLiteral("fake"));
        QCOMPARE(queued.value(QStringLiteral("agent_version")).toInt(), 2); // the unsandboxed one
        QCOMPARE(queued.value(QStringLiteral("trigger")).toString(),
                 QStringLiteral("test:tst_runsupervisor"));
        QCOMPARE(queued.value(QStringLiteral("input")).toObject(), input);

        const QString workspace =
            env.dataDir() + QStringLiteral("/runs/") + run.id + QStringLiteral("/workspace");
        const QJsonObject started = events.at(1).data;
        QCOMPARE(started.value(QStringLiteral("workspace")).toString(), workspace);
        const int pid = started.value(QStringLiteral("runner_pid")).toInt();
        QVERIFY(pid > 0);

        // What the runner saw: a cleared environment, its workspace, its own process group.
        const QJsonObject report = events.at(2).data;
        const QJsonObject runEnv = report.value(QStringLiteral("env")).toObject();
        QStringList keys = runEnv.keys();
        keys.sort();
        QCOMPARE(keys, QStringList({QStringLiteral("HOME"), QStringLiteral("LANG"),
                                    QStringLiteral("PATH"), QStringLiteral("TMPDIR"),
                                    QStringLiteral("VIVARIUM_BROKER_SOCKET")}));
        QCOMPARE(runEnv.value(QStringLiteral("PATH")).toString(), QStringLiteral("/usr/bin:/bin"));
        QCOMPARE(runEnv.value(QStringLiteral("LANG")).toString(), QStringLiteral("C.UTF-8"));
        QCOMPARE(runEnv.value(QStringLiteral("HOME")).toString(), workspace);
        QCOMPARE(runEnv.value(QStringLiteral("TMPDIR")).toString(), workspace);
        const QString socket = runEnv.value(QStringLiteral("VIVARIUM_BROKER_SOCKET")).toString();
        QCOMPARE(socket, env.dataDir() + QStringLiteral("/runs/") + run.id +
                             QStringLiteral("/broker.sock"));
        QVERIFY2(!QFileInfo::exists(socket), "the socket is removed after the run");
        QCOMPARE(report.value(QStringLiteral("cwd")).toString(), workspace);
        QCOMPARE(report.value(QStringLiteral("pgid")).toInt(), pid);
        QVERIFY(report.value(QStringLiteral("pgid")).toInt() != int(::getpgrp()));

        // What the runner was told about its run.
        const QJsonObject spec = report.value(QStringLiteral("run")).toObject();
        QCOMPARE(spec.value(QStringLiteral("id")).toString(), run.id);
        QCOMPARE(spec.value(QStringLiteral("input")).toObject(), input);
        QCOMPARE(spec.value(QStringLiteral("workspace")).toString(), workspace);
        const QString memory = env.dataDir() + QStringLiteral("/memory/fake");
        QCOMPARE(spec.value(QStringLiteral("memory_dir")).toString(), memory);
        QCOMPARE(spec.value(QStringLiteral("agent")).toObject(),
                 unsandboxed(makeAgent(QStringLiteral("fake"))).toJson());

        // Private directories.
        for (const QString& dir : {workspace, memory}) {
            struct stat st
            {
            };
            QCOMPARE(::stat(QFile::encodeName(dir).constData(), &st), 0);
            QCOMPARE(int(st.st_mode & 0777), 0700);
        }

        // The audit trail: who queued it, the start with the model, the end.
        auto audit = env.store->auditRecords(run.id);
        VERIFY_OK(audit);
        QStringList actions;
        for (const AuditRecord& a : *audit)
            actions << a.action;
        QCOMPARE(actions, QStringList({QStringLiteral("run.queued"), QStringLiteral("run.started"),
                                       QStringLiteral("run.finished")}));
        QCOMPARE(audit->at(0).actor, QStringLiteral("test:tst_runsupervisor"));
        QCOMPARE(audit->at(1).details.value(QStringLiteral("model_endpoint")).toString(),
                 QStringLiteral("local"));
        QCOMPARE(audit->at(1).details.value(QStringLiteral("model")).toString(),
                 QStringLiteral("test-model"));
        QVERIFY(audit->at(1).details.value(QStringLiteral("connections")).isArray());
        QCOMPARE(audit->at(2).details.value(QStringLiteral("status")).toString(),
                 QStringLiteral("succeeded"));
        QVERIFY(notRunning(pid));
        QCOMPARE(env.sup->activeRuns(), 0);
    }

    void runnerReportsFailure()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        env.start();
        const RunRecord run = runToEnd(env, {{QStringLiteral("mode"), QStringLiteral("fail")}});
        QCOMPARE(run.status, RunStatus::Failed);
        QCOMPARE(run.reason, QStringLiteral("gave up on purpose"));
    }

    // --- a runner that misbehaves ------------------------------------------------------------

    void runnerFailures_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<QString>("reason"); // exact, or a prefix when it ends in "*"
        QTest::newRow("crash") << "crash"
                               << "runner crashed: signal 6";
        QTest::newRow("exit 3")
            << "exit3"
            << "runner exited with status 3 before finishing: fake_runner: could not frobnicate";
        QTest::newRow("garbage") << "garbage"
                                 << "protocol error: invalid JSON*";
        QTest::newRow("oversized") << "oversized"
                                   << "protocol error: message longer than 16777216 bytes";
        QTest::newRow("unknown event")
            << "unknown_event"
            << "protocol error: event type \"run.finished\" is not the runner's to send";
        QTest::newRow("unknown message") << "unknown_type"
                                         << "protocol error: unknown message type \"bogus\"";
        QTest::newRow("bad finish")
            << "bad_finish"
            << "protocol error: \"finish\" with status \"timed_out\" (succeeded or failed only)";
        QTest::newRow("drops the socket") << "close_socket"
                                          << "runner closed the broker connection before finishing";
    }
    void runnerFailures()
    {
        QFETCH(QString, mode);
        QFETCH(QString, reason);
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.killGraceMs = 300;
        env.start(o);
        const RunRecord run = runToEnd(env, {{QStringLiteral("mode"), mode}});
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(run.status, RunStatus::Failed);
        if (reason.endsWith(QLatin1Char('*')))
            QVERIFY2(run.reason.startsWith(reason.chopped(1)), qPrintable(run.reason));
        else
            QCOMPARE(run.reason, reason);
        const pid_t pid = runnerPid(env, run.id);
        QVERIFY(pid > 0);
        QCOMPARE(::kill(pid, 0), -1);
        QCOMPARE(errno, ESRCH);
        QVERIFY(!exists(-pid)); // nothing of its group either
        // The engine lives on: the next run works.
        const RunRecord next = runToEnd(env, {{QStringLiteral("mode"), QStringLiteral("succeed")}});
        QCOMPARE(next.status, RunStatus::Succeeded);
    }

    void lastWordsBeforeExitAreKept()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        env.start();
        for (int i = 0; i < 3; ++i) {
            const RunRecord failed =
                runToEnd(env, {{QStringLiteral("mode"), QStringLiteral("events_then_exit")}});
            QCOMPARE(failed.status, RunStatus::Failed);
            QCOMPARE(failed.reason, QStringLiteral("runner exited with status 4 before finishing"));
            QCOMPARE(ofType(env.storedEvents(failed.id), QStringLiteral("log")).size(), 3);
            const RunRecord done =
                runToEnd(env, {{QStringLiteral("mode"), QStringLiteral("finish_no_wait")}});
            QCOMPARE(done.status, RunStatus::Succeeded);
            QCOMPARE(done.output.toInt(), 42);
        }
    }

    void runnerThatLeavesBeforeBeingAccepted()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        QTemporaryDir bin;
        const QString link = bin.filePath(QStringLiteral("runner-blurt"));
        QVERIFY(QFile::link(Env::fakeRunner(), link));
        SupervisorOptions o;
        o.runnerPath = link;
        env.start(o);
        const RunRecord run = runToEnd(env, {});
        QCOMPARE(run.status, RunStatus::Failed);
        QCOMPARE(run.reason, QStringLiteral("runner exited with status 5 before finishing"));
        QCOMPARE(eventTypes(env.storedEvents(run.id)),
                 QStringLiteral("run.queued,run.started,log,run.finished"));
    }

    void runnerThatNeverConnects()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        VERIFY_OK(env.store->saveAgent(unsandboxed(makeAgent(QStringLiteral("fake")))));
        // The behaviour comes from the name the runner is started under.
        QTemporaryDir bin;
        const QString link = bin.filePath(QStringLiteral("runner-noconnect"));
        QVERIFY(QFile::link(Env::fakeRunner(), link));
        SupervisorOptions o;
        o.runnerPath = link;
        o.connectTimeoutMs = 1000;
        env.start(o);
        QElapsedTimer clock;
        clock.start();
        const RunRecord run = runToEnd(env, {});
        QCOMPARE(run.status, RunStatus::Failed);
        QCOMPARE(run.reason, QStringLiteral("runner did not connect to the broker within 1 s"));
        QVERIFY(clock.elapsed() >= 1000);
        QVERIFY(env.emittedEvent(run.id, QStringLiteral("run.started")) == std::nullopt);
        QFile pidFile(env.dataDir() + QStringLiteral("/runs/") + run.id +
                      QStringLiteral("/workspace/pid"));
        QVERIFY(pidFile.open(QIODevice::ReadOnly));
        const pid_t pid = pid_t(pidFile.readAll().toInt());
        QVERIFY(pid > 0);
        QVERIFY(!exists(pid));
    }

    void runnerThatCannotStart()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.runnerPath = env.dataDir() + QStringLiteral("/no-such-runner");
        env.start(o);
        const RunRecord run = runToEnd(env, {});
        QCOMPARE(run.status, RunStatus::Failed);
        QVERIFY2(run.reason.startsWith(QStringLiteral("runner could not be started: ")),
                 qPrintable(run.reason));
    }

    // --- limits and cancellation ------------------------------------------------------------

    void wallClockKillsTheGroup()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        VERIFY_OK(env.store->saveAgent(
            unsandboxed(makeAgent(QStringLiteral("slow"), QStringLiteral("local"), 1))));
        SupervisorOptions o;
        o.killGraceMs = 300;
        env.start(o);
        // It ignores SIGTERM and has a child in its group: only SIGKILL to the group ends both.
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("hang")},
                                        {QStringLiteral("ignore_term"), true},
                                        {QStringLiteral("child"), true}},
                                       QStringLiteral("slow"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(id, QStringLiteral("log")).has_value(), 10000);
        const pid_t child = pid_t(env.emittedEvent(id, QStringLiteral("log"))
                                      ->data.value(QStringLiteral("child_pid"))
                                      .toInt());
        const pid_t pid = runnerPid(env, id);
        QVERIFY(pid > 0 && child > 0);
        QVERIFY(exists(child));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, RunStatus::TimedOut);
        QCOMPARE(run.reason, QStringLiteral("wall clock limit of 1 s reached"));
        QCOMPARE(::kill(pid, 0), -1);
        QCOMPARE(errno, ESRCH);
        QVERIFY(notRunning(child));
    }

    void cancelWhileRunning()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.killGraceMs = 300;
        env.start(o);
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("hang")}});
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(id, QStringLiteral("log")).has_value(), 10000);
        QCOMPARE(env.run(id).status, RunStatus::Running);
        const pid_t pid = runnerPid(env, id);
        VERIFY_OK(env.sup->cancel(id, QStringLiteral("operator said stop")));
        // Decided at once: a second cancel is a conflict, even before the runner is gone.
        VERIFY_ERROR(env.sup->cancel(id), Error::Code::Conflict);
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, RunStatus::Cancelled);
        QCOMPARE(run.reason, QStringLiteral("operator said stop"));
        QVERIFY(!exists(pid));
        VERIFY_ERROR(env.sup->cancel(id), Error::Code::Conflict);
        VERIFY_ERROR(env.sup->cancel(QStringLiteral("run_00000000000000000000000000")),
                     Error::Code::NotFound);
    }

    void cancelWhileQueued()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.maxConcurrentRuns = 1;
        o.killGraceMs = 300;
        env.start(o);
        const QString first = env.enqueue({{QStringLiteral("mode"), QStringLiteral("hang")}});
        const QString second = env.enqueue({{QStringLiteral("mode"), QStringLiteral("succeed")}});
        QVERIFY2(!first.isEmpty() && !second.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(first, QStringLiteral("run.started")).has_value(),
                                 10000);
        QCOMPARE(env.run(second).status, RunStatus::Queued);
        QCOMPARE(env.sup->activeRuns(), 2);
        VERIFY_OK(env.sup->cancel(second, QStringLiteral("not needed")));
        // Immediately: nothing was running.
        QVERIFY(env.finished.contains(second));
        checkJournal(env, second);
        QCOMPARE(env.run(second).status, RunStatus::Cancelled);
        QCOMPARE(env.run(second).reason, QStringLiteral("not needed"));
        QCOMPARE(eventTypes(env.storedEvents(second)), QStringLiteral("run.queued,run.finished"));
        QCOMPARE(env.sup->activeRuns(), 1);
        VERIFY_OK(env.sup->cancel(first));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(first), FinishTimeoutMs);
        checkJournal(env, first);
        QCOMPARE(env.run(first).reason, QStringLiteral("cancelled"));
    }

    void concurrencyLimit()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.maxConcurrentRuns = 2;
        env.start(o);
        int maxLive = 0;
        auto countLive = [&env, &maxLive]() {
            int live = 0;
            for (RunStatus s : {RunStatus::Starting, RunStatus::Running}) {
                RunFilter f;
                f.status = s;
                f.limit = 0;
                if (auto runs = env.store->runs(f))
                    live += int(runs->size());
            }
            maxLive = qMax(maxLive, live);
        };
        env.onEvent = [&countLive](const QString&, const RunEvent&) { countLive(); };
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            ids << env.enqueue({{QStringLiteral("mode"), QStringLiteral("succeed")},
                                {QStringLiteral("sleep_ms"), 300}});
            QVERIFY2(!ids.last().isEmpty(), qPrintable(env.error()));
        }
        QCOMPARE(env.sup->activeRuns(), 5);
        QElapsedTimer poll;
        poll.start();
        while (env.finished.size() < 5 && poll.elapsed() < 30000) {
            countLive();
            QTest::qWait(20);
        }
        QCOMPARE(env.finished.size(), 5);
        for (const QString& id : std::as_const(ids)) {
            checkJournal(env, id);
            QCOMPARE(env.run(id).status, RunStatus::Succeeded);
        }
        QVERIFY2(maxLive <= 2, qPrintable(QString::number(maxLive)));
        QCOMPARE(maxLive, 2);
        QCOMPARE(env.sup->activeRuns(), 0);
    }

    // --- what is missing fails at once ------------------------------------------------------

    void missingEndpointOrKey_data()
    {
        QTest::addColumn<QString>("endpoint");
        QTest::addColumn<QString>("reason");
        QTest::newRow("endpoint") << "nope"
                                  << "model endpoint \"nope\" is not configured (vivarium model "
                                     "add nope ...)";
        QTest::newRow("key") << "keyed"
                             << "API key of model endpoint \"keyed\" is missing from the vault";
    }
    void missingEndpointOrKey()
    {
        QFETCH(QString, endpoint);
        QFETCH(QString, reason);
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        ModelEndpointRecord keyed;
        keyed.name = QStringLiteral("keyed");
        keyed.api = QStringLiteral("anthropic");
        keyed.baseUrl = QStringLiteral("http://127.0.0.1:9");
        keyed.secretKey = QStringLiteral("model-endpoint/keyed/api-key");
        VERIFY_OK(env.store->saveModelEndpoint(keyed));
        VERIFY_OK(env.store->saveAgent(makeAgent(QStringLiteral("needy"), endpoint)));
        env.start();
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("succeed")}},
                                       QStringLiteral("needy"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), 5000);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, RunStatus::Failed);
        QCOMPARE(run.reason, reason);
        QVERIFY(!run.startedAt.isValid());
        QCOMPARE(eventTypes(env.storedEvents(id)), QStringLiteral("run.queued,run.finished"));
        QVERIFY(!QFileInfo::exists(env.dataDir() + QStringLiteral("/runs/") + id));
    }

    // Approvals are not built: such an agent fails before any tool could run unapproved.
    void approvalModeIsNotRunUnapproved()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        AgentDefinition def = makeAgent(QStringLiteral("careful"));
        def.approval.mode = QStringLiteral("writes");
        VERIFY_OK(env.store->saveAgent(def));
        env.start();
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("succeed")}},
                                       QStringLiteral("careful"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), 5000);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, RunStatus::Failed);
        QVERIFY2(run.reason.contains(QStringLiteral("approval mode \"writes\" is not supported")),
                 qPrintable(run.reason));
        QVERIFY(!run.startedAt.isValid());
        QCOMPARE(eventTypes(env.storedEvents(id)), QStringLiteral("run.queued,run.finished"));
    }

    void unknownOrRemovedAgent()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        env.start();
        VERIFY_ERROR(env.sup->enqueue(QStringLiteral("ghost"), {}, QStringLiteral("test")),
                     Error::Code::NotFound);
        VERIFY_OK(env.store->removeAgent(QStringLiteral("fake")));
        VERIFY_ERROR(env.sup->enqueue(QStringLiteral("fake"), {}, QStringLiteral("test")),
                     Error::Code::NotFound);
        QCOMPARE(env.sup->activeRuns(), 0);
    }

    // --- model calls through the broker (fake runner, real model clients) -------------------

    void modelCallsGoThroughTheBroker()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        testsupport::FakeModelServer server;
        server.setScript({toolTurn(QStringLiteral("call_1"), QStringLiteral("noop"), {}, 10, 5),
                          textTurn(QStringLiteral("all done"), 20, 7)});
        QVERIFY(server.start());
        QVERIFY(addModel(env, QStringLiteral("fake-openai"), server, QStringLiteral("openai"),
                         QStringLiteral("talker"), {}, 1.0, 2.0));
        env.start();
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("llm")}},
                                       QStringLiteral("talker"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, RunStatus::Succeeded);
        QCOMPARE(run.output.toObject().value(QStringLiteral("text")).toString(),
                 QStringLiteral("all done"));

        // The runner asked for another model; the agent's model is what the vendor saw.
        const auto requests = server.requests();
        QCOMPARE(requests.size(), 2);
        for (const auto& r : requests)
            QCOMPARE(r.json.value(QStringLiteral("model")).toString(),
                     QStringLiteral("test-model"));

        const QList<RunEvent> events = env.storedEvents(id);
        QCOMPARE(eventTypes(events),
                 QStringLiteral("run.queued,run.started,llm.request,llm.response,tool.call,"
                                "tool.result,llm.request,llm.response,run.finished"));
        const QJsonObject request = events.at(2).data;
        QCOMPARE(request.value(QStringLiteral("step")).toInt(), 1);
        QCOMPARE(request.value(QStringLiteral("model")).toString(), QStringLiteral("test-model"));
        QCOMPARE(request.value(QStringLiteral("endpoint")).toString(),
                 QStringLiteral("fake-openai"));
        QCOMPARE(request.value(QStringLiteral("messages")).toInt(), 1);
        QVERIFY(request.value(QStringLiteral("tools")).isArray());
        const QJsonObject response = events.at(3).data;
        QCOMPARE(response.value(QStringLiteral("step")).toInt(), 1);
        QCOMPARE(response.value(QStringLiteral("stop_reason")).toString(),
                 QStringLiteral("tool_use"));
        const QJsonArray calls = response.value(QStringLiteral("tool_calls")).toArray();
        QCOMPARE(calls.size(), 1);
        QCOMPARE(calls.at(0).toObject().value(QStringLiteral("name")).toString(),
                 QStringLiteral("noop"));
        QCOMPARE(response.value(QStringLiteral("usage"))
                     .toObject()
                     .value(QStringLiteral("input_tokens"))
                     .toInt(),
                 10);
        QVERIFY(qAbs(response.value(QStringLiteral("cost_usd")).toDouble() - 20e-6) < 1e-12);
        QCOMPARE(response.value(QStringLiteral("attempts")).toInt(), 1);
        QCOMPARE(events.at(6).data.value(QStringLiteral("step")).toInt(), 2);
        QCOMPARE(events.at(6).data.value(QStringLiteral("messages")).toInt(), 3);
        QCOMPARE(events.at(7).data.value(QStringLiteral("text")).toString(),
                 QStringLiteral("all done"));

        // Usage adds up, in the row and in run.finished.
        QCOMPARE(run.usage.steps, 2);
        QCOMPARE(run.usage.inputTokens, qint64(30));
        QCOMPARE(run.usage.outputTokens, qint64(12));
        QVERIFY(run.usage.costUsd.has_value());
        QVERIFY(qAbs(*run.usage.costUsd - 54e-6) < 1e-12);
        QVERIFY(!run.usage.unpriced);
        const QJsonObject usage = events.last().data.value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("steps")).toInt(), 2);
        QCOMPARE(usage.value(QStringLiteral("input_tokens")).toInt(), 30);

        auto audit = env.store->auditRecords(id);
        VERIFY_OK(audit);
        QList<AuditRecord> llmCalls;
        for (const AuditRecord& a : *audit) {
            if (a.action == QLatin1String("llm.call"))
                llmCalls.append(a);
        }
        QCOMPARE(llmCalls.size(), 2);
        QCOMPARE(llmCalls.at(1).details.value(QStringLiteral("endpoint")).toString(),
                 QStringLiteral("fake-openai"));
        QCOMPARE(llmCalls.at(1).details.value(QStringLiteral("model")).toString(),
                 QStringLiteral("test-model"));
        QCOMPARE(llmCalls.at(1).details.value(QStringLiteral("input_tokens")).toInt(), 20);
        QCOMPARE(llmCalls.at(1).details.value(QStringLiteral("output_tokens")).toInt(), 7);
        QCOMPARE(llmCalls.at(1).details.value(QStringLiteral("status")).toString(),
                 QStringLiteral("ok"));
    }

    void unpricedModelHasNoCost()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        testsupport::FakeModelServer server;
        server.setScript({textTurn(QStringLiteral("hi"))});
        QVERIFY(server.start());
        QVERIFY(addModel(env, QStringLiteral("fake-anthropic"), server, QStringLiteral("anthropic"),
                         QStringLiteral("talker")));
        env.start();
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("llm")}},
                                       QStringLiteral("talker"));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, RunStatus::Succeeded);
        QVERIFY(run.usage.unpriced);
        QVERIFY(!run.usage.costUsd.has_value());
        auto response = env.emittedEvent(id, QStringLiteral("llm.response"));
        QVERIFY(response.has_value());
        QVERIFY(response->data.value(QStringLiteral("cost_usd")).isNull());
        const QJsonObject usage =
            env.storedEvents(id).last().data.value(QStringLiteral("usage")).toObject();
        QVERIFY(usage.value(QStringLiteral("cost_usd")).isNull());
        QVERIFY(usage.value(QStringLiteral("unpriced")).toBool());
    }

    void modelErrorGoesBackToTheRunner()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        testsupport::FakeModelServer server;
        server.setScript(
            {QJsonObject{{QStringLiteral("status"), 401},
                         {QStringLiteral("error"), QStringLiteral("invalid api key")}}});
        QVERIFY(server.start());
        QVERIFY(addModel(env, QStringLiteral("fake-openai"), server, QStringLiteral("openai"),
                         QStringLiteral("talker")));
        env.start();
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("llm")}},
                                       QStringLiteral("talker"));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        // The runner got ok:false with the error and decided to give up.
        QCOMPARE(run.status, RunStatus::Failed);
        QVERIFY2(run.reason.startsWith(QStringLiteral("model error: ")), qPrintable(run.reason));
        QVERIFY2(run.reason.contains(QStringLiteral("invalid api key")), qPrintable(run.reason));
        const QList<RunEvent> logs = ofType(env.storedEvents(id), QStringLiteral("log"));
        QCOMPARE(logs.size(), 1);
        QCOMPARE(logs.at(0).data.value(QStringLiteral("level")).toString(),
                 QStringLiteral("error"));
        QCOMPARE(logs.at(0).data.value(QStringLiteral("kind")).toString(), QStringLiteral("http"));
        QCOMPARE(logs.at(0).data.value(QStringLiteral("http_status")).toInt(), 401);
        QCOMPARE(run.usage.steps, 0);
        auto audit = env.store->auditRecords(id);
        VERIFY_OK(audit);
        bool sawCall = false;
        for (const AuditRecord& a : *audit) {
            if (a.action == QLatin1String("llm.call")) {
                sawCall = true;
                QCOMPARE(a.details.value(QStringLiteral("status")).toString(),
                         QStringLiteral("error"));
                QCOMPARE(a.details.value(QStringLiteral("http_status")).toInt(), 401);
            }
        }
        QVERIFY(sawCall);
    }

    void endsDuringAModelCall_data()
    {
        QTest::addColumn<bool>("cancel");
        QTest::newRow("cancel") << true;
        QTest::newRow("wall clock") << false;
    }
    void endsDuringAModelCall()
    {
        QFETCH(bool, cancel);
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        testsupport::FakeModelServer server;
        server.setScript({QJsonObject{{QStringLiteral("hang"), true}}});
        QVERIFY(server.start());
        QVERIFY(addModel(env, QStringLiteral("fake-openai"), server, QStringLiteral("openai"),
                         QStringLiteral("talker"), {}, {}, {}, cancel ? 60 : 1));
        SupervisorOptions o;
        o.killGraceMs = 300;
        env.start(o);
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("llm")}},
                                       QStringLiteral("talker"));
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(id, QStringLiteral("llm.request")).has_value(),
                                 10000);
        QVERIFY(server.waitForRequests(1, 5000));
        QElapsedTimer clock;
        clock.start();
        if (cancel)
            VERIFY_OK(env.sup->cancel(id, QStringLiteral("enough")));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), 10000);
        QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QCOMPARE(run.status, cancel ? RunStatus::Cancelled : RunStatus::TimedOut);
        // No answer to a call of a run that ended: the response never made it into events.
        QVERIFY(!env.emittedEvent(id, QStringLiteral("llm.response")).has_value());
        QVERIFY(!exists(runnerPid(env, id)));
    }

    // --- end to end: the real runner -------------------------------------------------------

    void e2eToolErrorThenSuccess()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        testsupport::FakeModelServer server;
        server.setScript({toolTurn(QStringLiteral("call_1"), QStringLiteral("file_read"),
                                   {{QStringLiteral("path"), QStringLiteral("missing.txt")}}),
                          textTurn(QStringLiteral("recovered"))});
        QVERIFY(server.start());
        QVERIFY(addModel(env, QStringLiteral("fake-openai"), server, QStringLiteral("openai"),
                         QStringLiteral("worker")));
        SupervisorOptions o;
        o.runnerPath = realRunner();
        env.start(o);
        const QString id = env.enqueue({{QStringLiteral("task"), QStringLiteral("read it")}},
                                       QStringLiteral("worker"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QVERIFY2(run.status == RunStatus::Succeeded, qPrintable(run.reason));
        QCOMPARE(run.output.toString(), QStringLiteral("recovered"));

        const QList<RunEvent> events = env.storedEvents(id);
        const QList<RunEvent> results = ofType(events, QStringLiteral("tool.result"));
        QCOMPARE(results.size(), 1);
        QVERIFY(results.at(0).data.value(QStringLiteral("is_error")).toBool());
        const QString error = results.at(0).data.value(QStringLiteral("content")).toString();
        QVERIFY(!error.isEmpty());
        QCOMPARE(ofType(events, QStringLiteral("llm.response")).size(), 2);
        QCOMPARE(ofType(events, QStringLiteral("run.output")).size(), 1);

        // The error went back to the model as a tool result.
        const auto requests = server.requests();
        QCOMPARE(requests.size(), 2);
        bool fedBack = false;
        for (const QJsonValue& m :
             requests.at(1).json.value(QStringLiteral("messages")).toArray()) {
            const QJsonObject msg = m.toObject();
            if (msg.value(QStringLiteral("role")).toString() == QLatin1String("tool") &&
                msg.value(QStringLiteral("tool_call_id")).toString() == QLatin1String("call_1")) {
                fedBack = QJsonDocument(msg).toJson().contains(error.left(20).toUtf8());
            }
        }
        QVERIFY2(fedBack, requests.at(1).body.constData());
        QCOMPARE(run.usage.steps, 2);
    }

    void e2eCanaryKeyNeverLeaks()
    {
        const QByteArray canary = "sk-canary-7f3a9c";
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        testsupport::FakeModelServer server;
        // The model (or a vendor error page) echoing the key must not carry it anywhere.
        QJsonObject slow = toolTurn(QStringLiteral("call_1"), QStringLiteral("file_write"),
                                    {{QStringLiteral("path"), QStringLiteral("note.txt")},
                                     {QStringLiteral("content"), QString::fromUtf8(canary)}});
        slow.insert(QStringLiteral("delay_ms"), 1500);
        server.setScript(
            {slow,
             textTurn(
                 QStringLiteral("the key is %1, or %2, or %3")
                     .arg(QString::fromUtf8(canary), QString::fromLatin1(canary.toBase64()),
                          QString::fromLatin1(QByteArray("x" + canary).toPercentEncoding())))});
        QVERIFY(server.start());
        const QString secretKey = QStringLiteral("model-endpoint/canary/api-key");
        VERIFY_OK(env.secrets.write(secretKey, canary));
        QVERIFY(addModel(env, QStringLiteral("canary"), server, QStringLiteral("anthropic"),
                         QStringLiteral("worker"), secretKey));
        SupervisorOptions o;
        o.runnerPath = realRunner();
        env.start(o);
        const QString id = env.enqueue({}, QStringLiteral("worker"));
        QVERIFY2(!id.isEmpty(), qPrintable(env.error()));

        // While the first model turn is delayed, the runner is alive: read its environment.
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(id, QStringLiteral("llm.request")).has_value(),
                                 10000);
        const pid_t pid = runnerPid(env, id);
        QVERIFY(pid > 0);
        for (const char* part : {"environ", "cmdline"}) {
            QFile f(QStringLiteral("/proc/%1/%2").arg(pid).arg(QLatin1String(part)));
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray content = f.readAll();
            if (qstrcmp(part, "environ") == 0)
                QVERIFY(content.contains("VIVARIUM_BROKER_SOCKET="));
            QVERIFY2(!content.contains(canary), part);
        }
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(id), FinishTimeoutMs);
        checkJournal(env, id);
        const RunRecord run = env.run(id);
        QVERIFY2(run.status == RunStatus::Succeeded, qPrintable(run.reason));

        // The key did reach the vendor, and only the vendor.
        const auto requests = server.requests();
        QCOMPARE(requests.size(), 2);
        QCOMPARE(requests.at(0).header("x-api-key"), canary);
        QVERIFY(run.output.toString().contains(QStringLiteral("[REDACTED]")));
        QCOMPARE(run.output.toString(),
                 QStringLiteral("the key is [REDACTED], or [REDACTED], or x[REDACTED]"));

        for (const RunEvent& e : env.storedEvents(id)) {
            QVERIFY2(!QJsonDocument(e.data).toJson().contains(canary), qPrintable(e.type));
        }
        auto audit = env.store->auditRecords();
        VERIFY_OK(audit);
        QVERIFY(!audit->isEmpty());
        for (const AuditRecord& a : *audit) {
            const QByteArray row = QJsonDocument(a.details).toJson() + a.actor.toUtf8() +
                                   a.action.toUtf8() + a.runId.toUtf8() + a.agentId.toUtf8();
            QVERIFY2(!row.contains(canary), qPrintable(a.action));
        }
        env.sup.reset(); // everything flushed
        int files = 0;
        QDirIterator it(env.dataDir(), QDir::Files | QDir::Hidden | QDir::System,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            QFile f(path);
            if (!f.open(QIODevice::ReadOnly))
                continue;
            ++files;
            QVERIFY2(!f.readAll().contains(canary), qPrintable(path));
        }
        QVERIFY(files >= 2); // the database, the note the agent wrote
        QFile note(env.dataDir() + QStringLiteral("/runs/") + id +
                   QStringLiteral("/workspace/note.txt"));
        QVERIFY(note.open(QIODevice::ReadOnly));
        QCOMPARE(note.readAll(), QByteArray("[REDACTED]"));
    }

    void e2eFiftyConcurrentRuns()
    {
        constexpr int Runs = 50;
        constexpr int Steps = 10;
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        // One zero-latency server per run: a shared script would hand turns out across runs.
        std::vector<std::unique_ptr<testsupport::FakeModelServer>> servers;
        QJsonArray script;
        for (int step = 1; step < Steps; ++step) {
            script.append(toolTurn(QStringLiteral("call_%1").arg(step),
                                   QStringLiteral("file_write"),
                                   {{QStringLiteral("path"), QStringLiteral("f%1.txt").arg(step)},
                                    {QStringLiteral("content"), QStringLiteral("x")}}));
        }
        script.append(textTurn(QStringLiteral("done")));
        for (int i = 0; i < Runs; ++i) {
            servers.push_back(std::make_unique<testsupport::FakeModelServer>());
            servers.back()->setScript(script);
            QVERIFY(servers.back()->start());
            QVERIFY(addModel(env, QStringLiteral("m%1").arg(i), *servers.back(),
                             i % 2 ? QStringLiteral("openai") : QStringLiteral("anthropic"),
                             QStringLiteral("a%1").arg(i)));
        }
        SupervisorOptions o;
        o.runnerPath = realRunner();
        o.maxConcurrentRuns = Runs;
        env.start(o);
        QElapsedTimer clock;
        clock.start();
        QStringList ids;
        for (int i = 0; i < Runs; ++i) {
            ids << env.enqueue({}, QStringLiteral("a%1").arg(i));
            QVERIFY2(!ids.last().isEmpty(), qPrintable(env.error()));
        }
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.size() == Runs, 240000);
        qInfo() << Runs << "runs of" << Steps << "steps in" << clock.elapsed() << "ms";
        qsizetype expectedEvents = -1;
        for (int i = 0; i < Runs; ++i) {
            const QString& id = ids.at(i);
            checkJournal(env, id);
            const RunRecord run = env.run(id);
            QVERIFY2(run.status == RunStatus::Succeeded,
                     qPrintable(id + QLatin1Char(' ') + run.reason));
            QCOMPARE(run.usage.steps, Steps);
            const QList<RunEvent> events = env.storedEvents(id);
            QCOMPARE(ofType(events, QStringLiteral("llm.request")).size(), Steps);
            QCOMPARE(ofType(events, QStringLiteral("llm.response")).size(), Steps);
            QCOMPARE(ofType(events, QStringLiteral("tool.call")).size(), Steps - 1);
            QCOMPARE(ofType(events, QStringLiteral("tool.result")).size(), Steps - 1);
            if (expectedEvents < 0)
                expectedEvents = events.size();
            QCOMPARE(events.size(), expectedEvents);
            QCOMPARE(servers.at(i)->requestCount(), Steps);
        }
        QCOMPARE(env.sup->activeRuns(), 0);
    }

    // --- adoption, shutdown, odd places -----------------------------------------------------

    void adoptsRunsQueuedByOthers()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.adoptPollMs = 50;
        env.start(o);
        // What the CLI does beside a running engine: a bare row, no events.
        NewRun bare;
        bare.agentId = QStringLiteral("fake");
        bare.trigger = QStringLiteral("cli:someone");
        bare.input = QJsonObject{{QStringLiteral("mode"), QStringLiteral("succeed")}};
        auto created = env.store->createRun(bare);
        VERIFY_OK(created);
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(created->id), FinishTimeoutMs);
        checkJournal(env, created->id);
        QCOMPARE(env.run(created->id).status, RunStatus::Succeeded);

        // One that was announced already gets no second run.queued.
        env.sup.reset();
        SupervisorOptions manual;
        manual.adoptForeignRuns = false;
        env.start(manual);
        auto announced = env.store->createRun(bare);
        VERIFY_OK(announced);
        QList<RunEvent> queued{RunEvent{0, QStringLiteral("run.queued"), {}, {}}};
        VERIFY_OK(env.store->appendEvents(announced->id, queued));
        QTest::qWait(100);
        QCOMPARE(env.run(announced->id).status, RunStatus::Queued); // not polling
        VERIFY_OK(env.sup->adopt(announced->id));
        QTRY_VERIFY_WITH_TIMEOUT(env.finished.contains(announced->id), FinishTimeoutMs);
        const QList<RunEvent> events = env.storedEvents(announced->id);
        QCOMPARE(events.first().type, QStringLiteral("run.queued"));
        QCOMPARE(events.at(1).type, QStringLiteral("run.started"));
        QCOMPARE(env.run(announced->id).status, RunStatus::Succeeded);
        VERIFY_ERROR(env.sup->adopt(announced->id), Error::Code::Conflict);
        VERIFY_ERROR(env.sup->adopt(QStringLiteral("run_00000000000000000000000000")),
                     Error::Code::NotFound);
    }

    void shutdownInterrupts()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        SupervisorOptions o;
        o.maxConcurrentRuns = 2;
        env.start(o);
        const QString finishing = env.enqueue({{QStringLiteral("mode"), QStringLiteral("succeed")},
                                               {QStringLiteral("sleep_ms"), 300}});
        const QString hanging = env.enqueue({{QStringLiteral("mode"), QStringLiteral("hang")}});
        const QString waiting = env.enqueue({{QStringLiteral("mode"), QStringLiteral("succeed")}});
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(hanging, QStringLiteral("log")).has_value(),
                                 10000);
        const pid_t pid = runnerPid(env, hanging);
        QElapsedTimer clock;
        clock.start();
        env.sup->shutdown(1500);
        // Within the grace the finishing run ends on its own; the hanging one is killed after it.
        QVERIFY(clock.elapsed() >= 1400);
        for (const QString& id : {finishing, hanging, waiting}) {
            QVERIFY(env.finished.contains(id));
            checkJournal(env, id);
        }
        QCOMPARE(env.run(finishing).status, RunStatus::Succeeded);
        QCOMPARE(env.run(hanging).status, RunStatus::Interrupted);
        QCOMPARE(env.run(hanging).reason, QStringLiteral("engine shutting down"));
        QCOMPARE(env.run(waiting).status, RunStatus::Interrupted);
        QCOMPARE(env.run(waiting).reason, QStringLiteral("engine shutting down"));
        QVERIFY(!exists(pid));
        QCOMPARE(env.sup->activeRuns(), 0);
        VERIFY_ERROR(env.sup->enqueue(QStringLiteral("fake"), {}, QStringLiteral("test")),
                     Error::Code::Conflict);
    }

    void destructorKillsWhatRuns()
    {
        Env env;
        QVERIFY2(env.ok(), qPrintable(env.error()));
        env.start();
        const QString id = env.enqueue({{QStringLiteral("mode"), QStringLiteral("hang")}});
        QTRY_VERIFY_WITH_TIMEOUT(env.emittedEvent(id, QStringLiteral("log")).has_value(), 10000);
        const pid_t pid = runnerPid(env, id);
        env.sup.reset();
        QVERIFY(!exists(pid));
        QCOMPARE(env.run(id).status, RunStatus::Interrupted);
        QCOMPARE(env.finishCount.value(id), 1);
    }

    void runnersDieWithTheEngine()
    {
        QTemporaryDir dir;
        QProcess host;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QString::fromLatin1(HostEngineEnv), dir.path());
        host.setProcessEnvironment(env);
        host.setProgram(QCoreApplication::applicationFilePath());
        host.start();
        QVERIFY(host.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(host.canReadLine() || host.state() != QProcess::Running, 15000);
        const pid_t pid = pid_t(host.readLine().trimmed().toInt());
        QVERIFY2(pid > 0, host.readAllStandardError().constData());
        QVERIFY(exists(pid));
        // SIGKILL: no destructor, no shutdown; only PR_SET_PDEATHSIG can end the runner.
        host.kill();
        QVERIFY(host.waitForFinished());
        QTRY_VERIFY_WITH_TIMEOUT(notRunning(pid), 5000);
    }

    void deepDataDirUsesShortSocketPath()
    {
        QTemporaryDir base;
        // Past sun_path's 108 bytes before the run id is even added.
        const QString deep = base.path() + QLatin1Char('/') + QString(60, QLatin1Char('d')) +
                             QLatin1Char('/') + QString(60, QLatin1Char('e'));
        Env env(deep);
        QVERIFY2(env.ok(), qPrintable(env.error()));
        VERIFY_OK(env.store->saveAgent(unsandboxed(makeAgent(QStringLiteral("fake")))));
        env.start();
        const RunRecord run = runToEnd(env, {{QStringLiteral("mode"), QStringLiteral("succeed")},
                                             {QStringLiteral("report"), true}});
        QCOMPARE(run.status, RunStatus::Succeeded);
        auto report = env.emittedEvent(run.id, QStringLiteral("log"));
        QVERIFY(report.has_value());
        const QString socket = report->data.value(QStringLiteral("env"))
                                   .toObject()
                                   .value(QStringLiteral("VIVARIUM_BROKER_SOCKET"))
                                   .toString();
        const QString dir = QDir::tempPath() + QStringLiteral("/vivarium-%1").arg(::getuid());
        QVERIFY2(socket.startsWith(dir + QLatin1Char('/')), qPrintable(socket));
        QVERIFY(socket.size() < 108);
        QVERIFY(!QFileInfo::exists(socket));
        struct stat st
        {
        };
        QCOMPARE(::stat(QFile::encodeName(dir).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700);
    }
};

/**
 * Helper mode for runnersDieWithTheEngine: this executable hosts a supervisor with one hanging
 * run, prints the runner's pid, and waits to be killed.
 */
int hostEngine(const QString& dataDir)
{
    Env env(dataDir);
    if (!env.ok())
        return 2;
    env.onEvent = [](const QString&, const RunEvent& e) {
        if (e.type == QLatin1String("run.started")) {
            std::printf("%d\n", e.data.value(QStringLiteral("runner_pid")).toInt());
            std::fflush(stdout);
        }
    };
    env.start();
    if (env.enqueue({{QStringLiteral("mode"), QStringLiteral("hang")}}).isEmpty())
        return 3;
    return QCoreApplication::exec();
}

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet(HostEngineEnv))
        return hostEngine(qEnvironmentVariable(HostEngineEnv));
    TestRunSupervisor test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_RunSupervisor.moc"
