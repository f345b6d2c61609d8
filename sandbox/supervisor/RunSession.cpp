// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunSession.h"

#include "EventJournal.h"
#include "RunnerProcess.h"
#include "SupervisorLogging.h"
#include "broker/OperationTools.h"
#include "broker/ProviderBroker.h"

#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/TierSelection.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <QThreadPool>
#include <QUrl>

#include <cerrno>
#include <climits>
#include <cstring>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace vivarium {

namespace {

/** Most of a model answer's text kept in the llm.response event (the runner gets all of it). */
constexpr qsizetype EventTextCapBytes = 16 * 1024;
/** After the runner drops the socket without finishing, wait this long for its exit status. */
constexpr int DisconnectGraceMs = 1000;

/** `text` cut to at most `capBytes` of UTF-8, never inside a character. */
QString capUtf8(const QString& text, qsizetype capBytes, bool* truncated)
{
    QByteArray utf8 = text.toUtf8();
    *truncated = utf8.size() > capBytes;
    if (!*truncated)
        return text;
    utf8.truncate(capBytes);
    // Drop continuation bytes, then the lead byte of the character they belonged to.
    while (!utf8.isEmpty() && (uchar(utf8.back()) & 0xC0) == 0x80)
        utf8.chop(1);
    if (!utf8.isEmpty() && uchar(utf8.back()) >= 0xC0)
        utf8.chop(1);
    return QString::fromUtf8(utf8);
}

bool isIntegralNumber(const QJsonValue& v)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    return d == double(qint64(d));
}

QString seconds(int ms)
{
    return QString::number(ms / 1000.0);
}

} // namespace

RunSession::RunSession(const SupervisorContext& ctx, RunRecord run, QObject* parent)
    : QObject(parent)
    , m_ctx(ctx)
    , m_run(std::move(run))
    , m_cancel(std::make_shared<CancelToken>())
{
    m_usage.costUsd = 0.0; // priced until a call says otherwise
    for (QTimer* t : {&m_wallClock, &m_connectTimer, &m_disconnectTimer, &m_killTimer}) {
        t->setSingleShot(true);
        // A coarse timer may fire up to 5% early: 45 s off a 900 s limit.
        t->setTimerType(Qt::PreciseTimer);
    }
    connect(&m_wallClock, &QTimer::timeout, this, [this]() {
        conclude(RunStatus::TimedOut,
                 QStringLiteral("wall clock limit of %1 s reached").arg(m_def.limits.timeoutS), {},
                 Stop::Terminate);
    });
    connect(&m_connectTimer, &QTimer::timeout, this, [this]() {
        conclude(RunStatus::Failed,
                 QStringLiteral("runner did not connect to the broker within %1 s")
                     .arg(seconds(m_ctx.options.connectTimeoutMs)),
                 {}, Stop::KillNow);
    });
    connect(&m_disconnectTimer, &QTimer::timeout, this, [this]() {
        conclude(RunStatus::Failed,
                 QStringLiteral("runner closed the broker connection before finishing"), {},
                 Stop::KillNow);
    });
    connect(&m_killTimer, &QTimer::timeout, this, [this]() {
        if (m_process)
            m_process->killGroup();
    });
}

RunSession::~RunSession()
{
    // Normally finalize() ran long ago; this covers a supervisor torn down mid-run.
    m_cancel->cancel();
    if (!m_socketPath.isEmpty())
        QFile::remove(m_socketPath);
}

// --- start --------------------------------------------------------------------------------

void RunSession::start()
{
    if (!resolve())
        return;
    if (auto s = m_ctx.store->setRunStatus(m_run.id, RunStatus::Starting); !s) {
        if (s.error().code == Error::Code::Conflict)
            endedElsewhere();
        else
            failAtOnce(
                QStringLiteral("could not mark the run starting: %1").arg(s.error().message));
        return;
    }
    m_clock.start();
    // The wall clock runs from `starting`: a runner slow to start spends its own budget.
    const qint64 limitMs = qint64(qMax(1, m_def.limits.timeoutS)) * 1000;
    m_wallClock.start(int(qMin<qint64>(limitMs, INT_MAX)));

    // The sandbox tier: the agent's, or the strongest this host supports down to its
    // min_tier, announced; never below min_tier, never silently (docs/sandbox.md).
    const TierDecision tier = chooseSandboxTier(
        parseSandboxTier(m_def.sandbox.tier).value_or(SandboxTier::Bwrap),
        parseSandboxTier(m_def.sandbox.minTier).value_or(SandboxTier::Bwrap), cachedTierSupport());
    if (!tier.ok)
        return failAtOnce(tier.error);
    if (!tier.notice.isEmpty()) {
        qCWarning(lcSupervisor).noquote() << "run" << m_run.id << tier.notice;
        m_ctx.journal->record(m_run.id, QStringLiteral("log"),
                              {{QStringLiteral("level"), QStringLiteral("warning")},
                               {QStringLiteral("message"), tier.notice}});
    }

    if (!prepareDirectories() || !openSocket())
        return;

    m_process = new RunnerProcess(this);
    connect(m_process, &RunnerProcess::exited, this, &RunSession::onRunnerExited);
    if (!m_process->start(tier.tier, m_ctx.options.runnerPath, m_workspace, m_memoryDir,
                          m_socketPath)) {
        conclude(RunStatus::Failed,
                 QStringLiteral("runner could not be started: %1 (%2)")
                     .arg(m_process->errorString(), m_ctx.options.runnerPath),
                 {}, Stop::KillNow);
        return;
    }
    m_connectTimer.start(m_ctx.options.connectTimeoutMs);
    qCDebug(lcSupervisor) << "run" << m_run.id << "runner pid" << m_process->pid();
}

bool RunSession::resolve()
{
    auto agent = m_ctx.store->agent(m_run.agentId, m_run.agentVersion);
    if (!agent) {
        failAtOnce(QStringLiteral("agent \"%1\" version %2 is not available: %3")
                       .arg(m_run.agentId)
                       .arg(m_run.agentVersion)
                       .arg(agent.error().message));
        return false;
    }
    m_def = agent->definition;
    // The manifests as they are now serve the whole run: the runner's tools and the broker's
    // requests come from the same ones.
    m_catalog = m_ctx.options.providerCalls.catalog;
    if (!m_catalog && !m_def.providers.isEmpty())
        m_catalog = std::make_shared<const ProviderCatalog>(
            ProviderCatalog::load(ProviderCatalog::userDirectory(m_ctx.paths.dataDir())));

    // Approvals are not built yet. An agent that asks for them must not have its tools run
    // unapproved, so it does not run at all (docs/architecture.md, departures).
    if (m_def.approval.mode != QLatin1String("never")) {
        failAtOnce(QStringLiteral("approval mode \"%1\" is not supported by this engine yet, and "
                                  "its tool calls must not run unapproved; set approval.mode to "
                                  "\"never\" to run this agent")
                       .arg(m_def.approval.mode));
        return false;
    }

    const QString name = m_def.model.endpoint;
    if (name.isEmpty()) {
        failAtOnce(QStringLiteral("the agent names no model endpoint"));
        return false;
    }
    auto endpoint = m_ctx.store->modelEndpoint(name);
    if (!endpoint) {
        if (endpoint.error().code == Error::Code::NotFound) {
            failAtOnce(QStringLiteral(
                           "model endpoint \"%1\" is not configured (vivarium model add %1 ...)")
                           .arg(name));
        } else {
            failAtOnce(QStringLiteral("could not read model endpoint \"%1\": %2")
                           .arg(name, endpoint.error().message));
        }
        return false;
    }

    EndpointConfig config;
    config.name = name;
    if (endpoint->api == QLatin1String("openai")) {
        config.api = ModelApi::OpenAi;
    } else if (endpoint->api == QLatin1String("anthropic")) {
        config.api = ModelApi::Anthropic;
    } else {
        failAtOnce(QStringLiteral("model endpoint \"%1\" has an unknown api \"%2\"")
                       .arg(name, endpoint->api));
        return false;
    }
    config.baseUrl = QUrl(endpoint->baseUrl);
    if (!config.baseUrl.isValid() || config.baseUrl.scheme().isEmpty()) {
        failAtOnce(QStringLiteral("model endpoint \"%1\" has an invalid base URL \"%2\"")
                       .arg(name, endpoint->baseUrl));
        return false;
    }
    config.inputPricePerMTok = endpoint->inputPricePerMTok;
    config.outputPricePerMTok = endpoint->outputPricePerMTok;

    if (!endpoint->secretKey.isEmpty()) {
        const QString missing =
            QStringLiteral("API key of model endpoint \"%1\" is missing from the vault").arg(name);
        if (!m_ctx.secrets) {
            failAtOnce(missing);
            return false;
        }
        auto key = m_ctx.secrets->read(endpoint->secretKey);
        if (!key) {
            if (key.error().code == Error::Code::NotFound)
                failAtOnce(missing);
            else
                failAtOnce(QStringLiteral("could not read the API key of model endpoint \"%1\" "
                                          "from the vault: %2")
                               .arg(name, key.error().message));
            return false;
        }
        if (key->isEmpty()) {
            failAtOnce(missing);
            return false;
        }
        config.apiKey = *key;
        m_redactor.addSecret(*key);
        key->fill('\0');
    }
    std::unique_ptr<LlmClient> client = LlmClient::create(config);
    if (!client) {
        failAtOnce(QStringLiteral("no model client for endpoint \"%1\"").arg(name));
        return false;
    }
    m_client = std::move(client);
    // The client keeps what it needs; this copy only names the endpoint and its prices.
    config.apiKey.fill('\0');
    config.apiKey.clear();
    m_endpoint = std::move(config);
    return true;
}

bool RunSession::prepareDirectories()
{
    const QString runDir = m_ctx.paths.runsDir() + QLatin1Char('/') + m_run.id;
    m_workspace = runDir + QStringLiteral("/workspace");
    for (const QString& dir : {m_ctx.paths.runsDir(), runDir, m_workspace}) {
        if (auto s = Paths::ensurePrivateDir(dir); !s) {
            conclude(RunStatus::Failed,
                     QStringLiteral("could not create the workspace: %1").arg(s.error().message),
                     {}, Stop::KillNow);
            return false;
        }
    }
    if (m_def.tools.memory) {
        // Persists across runs: the agent's notes to itself.
        const QString memory = m_ctx.paths.memoryDir() + QLatin1Char('/') + m_run.agentId;
        for (const QString& dir : {m_ctx.paths.memoryDir(), memory}) {
            if (auto s = Paths::ensurePrivateDir(dir); !s) {
                conclude(RunStatus::Failed,
                         QStringLiteral("could not create the memory directory: %1")
                             .arg(s.error().message),
                         {}, Stop::KillNow);
                return false;
            }
        }
        m_memoryDir = memory;
    }
    return true;
}

QString RunSession::shortSocketPath(QString* error) const
{
    // A deep data directory cannot hold a socket (sun_path is 108 bytes): use a private
    // directory under the temp dir instead, checked to be ours since /tmp is shared.
    const QString dir = QDir::tempPath() + QStringLiteral("/vivarium-%1").arg(::getuid());
    const QByteArray native = QFile::encodeName(dir);
    if (::mkdir(native.constData(), 0700) != 0 && errno != EEXIST) {
        *error = QStringLiteral("cannot create %1: %2")
                     .arg(dir, QString::fromLocal8Bit(strerror(errno)));
        return {};
    }
    struct stat st
    {
    };
    if (::lstat(native.constData(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) {
        *error = QStringLiteral("%1 is not a directory owned by this user").arg(dir);
        return {};
    }
    if ((st.st_mode & 077) != 0 && ::chmod(native.constData(), 0700) != 0) {
        *error = QStringLiteral("cannot make %1 private").arg(dir);
        return {};
    }
    // The ULID's random tail: unique among live runs, and short.
    return dir + QLatin1Char('/') + m_run.id.right(16) + QStringLiteral(".sock");
}

bool RunSession::openSocket()
{
    constexpr qsizetype SunPathBytes = sizeof(sockaddr_un::sun_path);
    QString path =
        m_ctx.paths.runsDir() + QLatin1Char('/') + m_run.id + QStringLiteral("/broker.sock");
    if (QFile::encodeName(path).size() + 1 > SunPathBytes) {
        QString error;
        path = shortSocketPath(&error);
        if (path.isEmpty() || QFile::encodeName(path).size() + 1 > SunPathBytes) {
            conclude(RunStatus::Failed,
                     QStringLiteral("could not place the broker socket: %1")
                         .arg(error.isEmpty() ? QStringLiteral("temp dir path too long") : error),
                     {}, Stop::KillNow);
            return false;
        }
    }
    m_socketPath = path;
    QLocalServer::removeServer(path); // a stale file from a crashed engine
    m_server = new QLocalServer(this);
    m_server->setMaxPendingConnections(1);
    connect(m_server, &QLocalServer::newConnection, this, &RunSession::onNewConnection);
    // No socket options: the directory is 0700, and options would make Qt bind at a
    // temporary path first.
    if (!m_server->listen(path)) {
        conclude(RunStatus::Failed,
                 QStringLiteral("could not open the broker socket %1: %2")
                     .arg(path, m_server->errorString()),
                 {}, Stop::KillNow);
        return false;
    }
    return true;
}

// --- the socket ---------------------------------------------------------------------------

void RunSession::onNewConnection()
{
    while (QLocalSocket* s = m_server->nextPendingConnection()) {
        if (m_socket || m_outcome) {
            // One runner, one connection: anyone else is turned away.
            s->abort();
            s->deleteLater();
            continue;
        }
        m_socket = s;
        m_socket->setParent(this);
        connect(m_socket, &QLocalSocket::readyRead, this, &RunSession::onReadyRead);
        connect(m_socket, &QLocalSocket::disconnected, this, &RunSession::onDisconnected);
    }
    // Stop listening: this also removes the socket file, so nothing else can connect.
    if (m_socket)
        m_server->close();
    if (m_socket && m_socket->bytesAvailable() > 0)
        onReadyRead();
}

void RunSession::onReadyRead()
{
    if (!m_socket)
        return;
    while (m_socket->bytesAvailable() > 0 && !m_outcome) {
        m_reader.feed(m_socket->read(qMin<qint64>(m_socket->bytesAvailable(), 1024 * 1024)));
        while (!m_outcome) {
            std::optional<QJsonObject> msg = m_reader.next();
            if (!msg)
                break;
            handleMessage(*msg);
        }
        if (m_reader.hasError() && !m_outcome)
            failProtocol(m_reader.error());
    }
}

void RunSession::onDisconnected()
{
    if (m_outcome)
        return;
    // Usually the runner died: its exit status, due any moment, is the better reason.
    m_disconnectTimer.start(qMax(DisconnectGraceMs, m_ctx.options.killGraceMs));
}

void RunSession::onRunnerExited(bool crashed, int code)
{
    // What it wrote just before it exited (events, even its finish) may still be unread: the
    // exit can be noticed before the socket's last bytes.
    if (!m_socket && !m_outcome && m_server && m_server->isListening())
        m_server->waitForNewConnection(0); // connected, but not accepted yet
    if (m_socket && !m_outcome) {
        for (int i = 0; i < 1024 && m_socket->waitForReadyRead(0); ++i) {
        }
        onReadyRead();
    }
    if (!m_outcome) {
        QString reason;
        if (crashed) {
            reason = QStringLiteral("runner crashed: signal %1").arg(code);
        } else {
            reason = QStringLiteral("runner exited with status %1 before finishing").arg(code);
            const QString last = m_process->lastStderrLine();
            if (!last.isEmpty())
                reason += QStringLiteral(": ") + last;
        }
        conclude(RunStatus::Failed, reason, {}, Stop::KillNow);
        return;
    }
    finalize();
}

void RunSession::send(const QJsonObject& msg)
{
    if (m_socket && m_socket->state() == QLocalSocket::ConnectedState)
        m_socket->write(protocol::encode(msg));
}

void RunSession::sendError(const QJsonValue& id, const QString& kind, const QString& message,
                           int httpStatus, bool retryable)
{
    QJsonObject error{{QStringLiteral("kind"), kind},
                      {QStringLiteral("message"), message},
                      {QStringLiteral("retryable"), retryable}};
    if (httpStatus > 0)
        error.insert(QStringLiteral("http_status"), httpStatus);
    send({{QStringLiteral("type"), QStringLiteral("result")},
          {QStringLiteral("id"), id},
          {QStringLiteral("ok"), false},
          {QStringLiteral("error"), error}});
}

// --- messages -----------------------------------------------------------------------------

void RunSession::handleMessage(const QJsonObject& msg)
{
    const QString type = msg.value(QStringLiteral("type")).toString();
    if (type == QLatin1String("event")) {
        if (!m_helloDone)
            return failProtocol(QStringLiteral("\"event\" before \"hello\""));
        return handleEvent(msg);
    }
    const bool known = type == QLatin1String("hello") || type == QLatin1String("llm") ||
                       type == QLatin1String("provider") || type == QLatin1String("finish");
    if (!known) {
        return failProtocol(type.isEmpty()
                                ? QStringLiteral("message without a type")
                                : QStringLiteral("unknown message type \"%1\"").arg(type));
    }
    const QJsonValue id = msg.value(QStringLiteral("id"));
    if (!isIntegralNumber(id))
        return failProtocol(QStringLiteral("\"%1\" without an integer id").arg(type));
    if (type == QLatin1String("hello"))
        return handleHello(msg, id);
    if (!m_helloDone)
        return failProtocol(QStringLiteral("\"%1\" before \"hello\"").arg(type));
    if (type == QLatin1String("llm"))
        return handleLlm(msg, id);
    if (type == QLatin1String("provider"))
        return handleProvider(msg, id);
    handleFinish(msg, id);
}

void RunSession::handleHello(const QJsonObject& msg, const QJsonValue& id)
{
    if (m_helloDone)
        return failProtocol(QStringLiteral("second \"hello\""));
    const QJsonValue version = msg.value(QStringLiteral("protocol"));
    if (!isIntegralNumber(version) || version.toInteger() != protocol::Version) {
        return failProtocol(QStringLiteral("runner speaks protocol %1, the broker %2")
                                .arg(version.isDouble() ? QString::number(version.toDouble())
                                                        : QStringLiteral("(none)"))
                                .arg(protocol::Version));
    }
    m_helloDone = true;
    m_connectTimer.stop();
    if (auto s = m_ctx.store->setRunStatus(m_run.id, RunStatus::Running); !s) {
        if (s.error().code == Error::Code::Conflict)
            return endedElsewhere();
        // Not fatal: the run can go on; the store shows `starting` a little longer.
        qCWarning(lcSupervisor).noquote()
            << "could not mark" << m_run.id << "running:" << s.error().toString();
    }
    const QString tier = sandboxTierName(m_process->tier());
    m_ctx.journal->record(m_run.id, QStringLiteral("run.started"),
                          {{QStringLiteral("runner_pid"), double(m_process->pid())},
                           {QStringLiteral("workspace"), m_workspace},
                           {QStringLiteral("tier"), tier}});
    QJsonArray connections;
    for (const ProviderGrant& g : std::as_const(m_def.providers)) {
        if (!g.connection.isEmpty() && !connections.contains(g.connection))
            connections.append(g.connection);
    }
    m_ctx.audit(QStringLiteral("engine"), QStringLiteral("run.started"), m_run.id, m_run.agentId,
                {{QStringLiteral("agent_version"), m_run.agentVersion},
                 {QStringLiteral("model_endpoint"), m_endpoint.name},
                 {QStringLiteral("model"), m_def.model.name},
                 {QStringLiteral("connections"), connections},
                 {QStringLiteral("runner_pid"), double(m_process->pid())},
                 {QStringLiteral("tier"), tier},
                 {QStringLiteral("requested_tier"), m_def.sandbox.tier},
                 {QStringLiteral("min_tier"), m_def.sandbox.minTier}});
    // The manifest operations the agent was granted, as tools (docs/providers.md).
    QJsonArray operations;
    if (m_catalog) {
        const OperationTools tools = operationTools(m_def.providers, *m_catalog);
        operations = tools.tools;
        for (const QString& problem : m_catalog->problems() + tools.warnings)
            m_ctx.journal->record(m_run.id, QStringLiteral("log"),
                                  {{QStringLiteral("level"), QStringLiteral("warning")},
                                   {QStringLiteral("message"), problem}});
    }
    const QJsonObject run{
        {QStringLiteral("id"), m_run.id},
        {QStringLiteral("agent"), m_def.toJson()},
        {QStringLiteral("operations"), operations},
        {QStringLiteral("input"), m_run.input.isUndefined() ? QJsonValue() : m_run.input},
        // As the runner sees them: inside the sandbox, not the host's paths.
        {QStringLiteral("workspace"), m_process->innerWorkspace()},
        {QStringLiteral("memory_dir"), m_process->innerMemoryDir().isEmpty()
                                           ? QJsonValue()
                                           : QJsonValue(m_process->innerMemoryDir())}};
    send({{QStringLiteral("type"), QStringLiteral("result")},
          {QStringLiteral("id"), id},
          {QStringLiteral("ok"), true},
          {QStringLiteral("run"), run}});
}

void RunSession::handleLlm(const QJsonObject& msg, const QJsonValue& id)
{
    const QJsonValue request = msg.value(QStringLiteral("request"));
    if (!request.isObject())
        return failProtocol(QStringLiteral("\"llm\" without a request object"));
    bool ok = true;
    PendingCall call{id, llmRequestFromJson(request.toObject(), &ok)};
    if (!ok)
        return failProtocol(QStringLiteral("malformed \"llm\" request"));
    // The agent's definition picks the model, not the runner.
    call.request.model = m_def.model.name;
    m_calls.append(std::move(call));
    startNextModelCall();
}

void RunSession::handleProvider(const QJsonObject& msg, const QJsonValue& id)
{
    if (!m_providers) {
        ProviderBroker::Setup setup;
        setup.runId = m_run.id;
        setup.agentId = m_run.agentId;
        setup.grants = m_def.providers;
        setup.options = m_ctx.options.providerCalls;
        setup.secrets = m_ctx.secrets;
        setup.store = m_ctx.store;
        setup.catalog = m_catalog;
        setup.modelRedactor = m_redactor;
        setup.cancel = m_cancel;
        // The broker is our child: these never outlive the session.
        setup.audit = [this](const QJsonObject& details) {
            m_ctx.audit(QStringLiteral("engine"), QStringLiteral("provider.call"), m_run.id,
                        m_run.agentId, details);
        };
        setup.send = [this](const QJsonObject& message) {
            if (!m_outcome)
                send(message);
        };
        m_providers = new ProviderBroker(std::move(setup), this);
    }
    m_providers->submit(id, msg);
}

void RunSession::handleEvent(const QJsonObject& msg)
{
    const QJsonValue event = msg.value(QStringLiteral("event"));
    if (!event.isObject())
        return failProtocol(QStringLiteral("\"event\" without an event object"));
    const QString type = event.toObject().value(QStringLiteral("type")).toString();
    // The runner reports what happened inside the sandbox; the lifecycle and the model calls
    // are the broker's to record.
    static const QStringList Allowed{QStringLiteral("tool.call"), QStringLiteral("tool.result"),
                                     QStringLiteral("log"), QStringLiteral("run.output")};
    if (!Allowed.contains(type)) {
        return failProtocol(
            type.isEmpty()
                ? QStringLiteral("event without a type")
                : QStringLiteral("event type \"%1\" is not the runner's to send").arg(type));
    }
    const QJsonValue data = event.toObject().value(QStringLiteral("data"));
    if (!data.isUndefined() && !data.isNull() && !data.isObject())
        return failProtocol(
            QStringLiteral("event \"%1\" with data that is not an object").arg(type));
    m_ctx.journal->record(m_run.id, type, data.toObject());
}

void RunSession::handleFinish(const QJsonObject& msg, const QJsonValue& id)
{
    const QString status = msg.value(QStringLiteral("status")).toString();
    RunStatus outcome = RunStatus::Failed;
    if (status == QLatin1String("succeeded"))
        outcome = RunStatus::Succeeded;
    else if (status != QLatin1String("failed"))
        return failProtocol(
            QStringLiteral("\"finish\" with status \"%1\" (succeeded or failed only)").arg(status));
    const QJsonValue reason = msg.value(QStringLiteral("reason"));
    if (!reason.isUndefined() && !reason.isNull() && !reason.isString())
        return failProtocol(QStringLiteral("\"finish\" with a reason that is not a string"));
    QJsonValue output = msg.value(QStringLiteral("output"));
    if (output.isUndefined())
        output = QJsonValue();
    send({{QStringLiteral("type"), QStringLiteral("result")},
          {QStringLiteral("id"), id},
          {QStringLiteral("ok"), true}});
    if (m_socket)
        m_socket->flush();
    conclude(outcome, reason.toString(), output, Stop::AwaitExit);
}

// --- model calls --------------------------------------------------------------------------

void RunSession::startNextModelCall()
{
    if (m_callInFlight || m_calls.isEmpty() || m_outcome)
        return;
    PendingCall call = m_calls.takeFirst();
    m_callInFlight = true;
    const int step = ++m_steps;
    QJsonArray tools;
    for (const ToolSpec& t : std::as_const(call.request.tools))
        tools.append(t.name);
    m_ctx.journal->record(m_run.id, QStringLiteral("llm.request"),
                          {{QStringLiteral("step"), step},
                           {QStringLiteral("model"), call.request.model},
                           {QStringLiteral("endpoint"), m_endpoint.name},
                           {QStringLiteral("messages"), int(call.request.messages.size())},
                           {QStringLiteral("tools"), tools}});
    // The worker only touches what it was given: the client (thread-safe), the token and the
    // request. The result comes back as a queued call on the supervisor's thread, where the
    // session may be gone by then (QPointer, checked there).
    std::shared_ptr<LlmClient> client = m_client;
    std::shared_ptr<CancelToken> token = m_cancel;
    QObject* target = m_ctx.resultTarget;
    QPointer<RunSession> self(this);
    m_ctx.pool->start(
        [client, token, target, self, id = call.id, step, request = std::move(call.request)]() {
            std::expected<LlmResponse, LlmError> result = client->complete(request, *token);
            QMetaObject::invokeMethod(
                target,
                [self, id, step, result = std::move(result)]() {
                    if (self)
                        self->onModelResult(id, step, result);
                },
                Qt::QueuedConnection);
        });
}

void RunSession::onModelResult(const QJsonValue& requestId, int step,
                               const std::expected<LlmResponse, LlmError>& result)
{
    m_callInFlight = false;
    if (m_outcome)
        return; // the run ended while the call ran (cancelled): nobody to answer
    const QString model = m_def.model.name;
    if (result) {
        LlmResponse r = *result;
        // Whatever came from outside passes the redactor before it is stored or forwarded.
        r.text = m_redactor.redact(r.text);
        r.refusal = m_redactor.redact(r.refusal);
        for (ToolCall& c : r.toolCalls) {
            c.name = m_redactor.redact(c.name);
            c.arguments = m_redactor.redact(c.arguments);
        }
        if (!r.costUsd)
            r.costUsd = PriceTable::cost(model, r.usage, &m_endpoint);
        m_usage.steps += 1;
        m_usage.inputTokens += r.usage.inputTokens;
        m_usage.outputTokens += r.usage.outputTokens;
        if (!r.costUsd) {
            m_usage.unpriced = true;
            m_usage.costUsd.reset();
        } else if (!m_usage.unpriced) {
            m_usage.costUsd = m_usage.costUsd.value_or(0.0) + *r.costUsd;
        }
        const QJsonValue cost = r.costUsd ? QJsonValue(*r.costUsd) : QJsonValue();
        bool truncated = false;
        QJsonArray calls;
        for (const ToolCall& c : std::as_const(r.toolCalls))
            calls.append(toJson(c));
        QJsonObject data{{QStringLiteral("step"), step},
                         {QStringLiteral("model"), r.model.isEmpty() ? model : r.model},
                         {QStringLiteral("stop_reason"), r.stopReason},
                         {QStringLiteral("text"), capUtf8(r.text, EventTextCapBytes, &truncated)},
                         {QStringLiteral("tool_calls"), calls},
                         {QStringLiteral("usage"), toJson(r.usage)},
                         {QStringLiteral("cost_usd"), cost},
                         {QStringLiteral("attempts"), r.attempts}};
        if (truncated)
            data.insert(QStringLiteral("text_truncated"), true);
        if (!r.refusal.isEmpty())
            data.insert(QStringLiteral("refusal"), r.refusal);
        m_ctx.journal->record(m_run.id, QStringLiteral("llm.response"), data);
        const QJsonObject audited{{QStringLiteral("endpoint"), m_endpoint.name},
                                  {QStringLiteral("model"), model},
                                  {QStringLiteral("step"), step},
                                  {QStringLiteral("status"), QStringLiteral("ok")},
                                  {QStringLiteral("attempts"), r.attempts},
                                  {QStringLiteral("input_tokens"), double(r.usage.inputTokens)},
                                  {QStringLiteral("output_tokens"), double(r.usage.outputTokens)},
                                  {QStringLiteral("cost_usd"), cost}};
        // Usage and the audit row of a step in one commit: half the write transactions per
        // step, and the two never disagree.
        const Status recorded = m_ctx.store->transaction([&]() -> Status {
            if (auto s = m_ctx.store->setRunUsage(m_run.id, m_usage); !s)
                return s;
            return m_ctx.tryAudit(QStringLiteral("engine"), QStringLiteral("llm.call"), m_run.id,
                                  m_run.agentId, audited);
        });
        if (!recorded) {
            qCWarning(lcSupervisor).noquote() << "could not record usage and audit of" << m_run.id
                                              << ":" << recorded.error().toString();
        }
        send({{QStringLiteral("type"), QStringLiteral("result")},
              {QStringLiteral("id"), requestId},
              {QStringLiteral("ok"), true},
              {QStringLiteral("response"), toJson(r)}});
    } else {
        LlmError e = result.error();
        e.message = m_redactor.redact(e.message);
        QJsonObject data{
            {QStringLiteral("level"), QStringLiteral("error")},
            {QStringLiteral("message"), QStringLiteral("model call failed: %1").arg(e.message)},
            {QStringLiteral("step"), step},
            {QStringLiteral("kind"), e.kind},
            {QStringLiteral("attempts"), e.attempts}};
        if (e.httpStatus > 0)
            data.insert(QStringLiteral("http_status"), e.httpStatus);
        m_ctx.journal->record(m_run.id, QStringLiteral("log"), data);
        QJsonObject details{{QStringLiteral("endpoint"), m_endpoint.name},
                            {QStringLiteral("model"), model},
                            {QStringLiteral("step"), step},
                            {QStringLiteral("status"), QStringLiteral("error")},
                            {QStringLiteral("error_kind"), e.kind},
                            {QStringLiteral("attempts"), e.attempts},
                            {QStringLiteral("input_tokens"), 0},
                            {QStringLiteral("output_tokens"), 0},
                            {QStringLiteral("cost_usd"), QJsonValue()}};
        if (e.httpStatus > 0)
            details.insert(QStringLiteral("http_status"), e.httpStatus);
        m_ctx.audit(QStringLiteral("engine"), QStringLiteral("llm.call"), m_run.id, m_run.agentId,
                    details);
        sendError(requestId, e.kind, e.message, e.httpStatus, e.retryable);
    }
    startNextModelCall();
}

// --- ending -------------------------------------------------------------------------------

bool RunSession::cancel(const QString& reason)
{
    if (m_outcome)
        return false;
    conclude(RunStatus::Cancelled, reason, {}, Stop::Terminate);
    return true;
}

void RunSession::interrupt(const QString& reason, int waitMs)
{
    if (!m_outcome)
        conclude(RunStatus::Interrupted, reason, {}, Stop::KillNow);
    else if (m_process)
        m_process->killGroup();
    if (m_process && m_process->isRunning())
        m_process->waitForExit(waitMs);
    // If the kernel has not let go of it yet, do not hold up the shutdown: the process object
    // reaps it when it is destroyed.
    finalize(true);
}

void RunSession::failAtOnce(const QString& reason)
{
    conclude(RunStatus::Failed, reason, {}, Stop::KillNow);
}

void RunSession::failProtocol(const QString& detail)
{
    qCWarning(lcSupervisor).noquote() << "run" << m_run.id << "protocol error:" << detail;
    conclude(RunStatus::Failed, QStringLiteral("protocol error: ") + detail, {}, Stop::KillNow);
}

void RunSession::conclude(RunStatus status, const QString& reason, const QJsonValue& output,
                          Stop stop)
{
    if (m_outcome)
        return;
    const qint64 durationMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    // Decided first, so nothing below (a signal, a nested event) can decide it again.
    m_outcome = TerminalOutcome{status, reason};
    m_outcome =
        m_ctx.writeTerminal(m_run.id, m_run.agentId, status, reason, output, m_usage, durationMs);
    stopRunner(stop);
}

void RunSession::endedElsewhere()
{
    if (m_outcome)
        return;
    auto stored = m_ctx.store->run(m_run.id);
    m_outcome = stored ? TerminalOutcome{stored->status, stored->reason}
                       : TerminalOutcome{RunStatus::Failed, QStringLiteral("ended elsewhere")};
    qCInfo(lcSupervisor) << "run" << m_run.id << "was ended by another process";
    // The journal still ends with run.finished, so followers and the timeline see the end.
    m_ctx.journal->record(
        m_run.id, QStringLiteral("run.finished"),
        {{QStringLiteral("status"), runStatusName(m_outcome->status)},
         {QStringLiteral("reason"), m_outcome->reason},
         {QStringLiteral("ended_by"), QStringLiteral("another process")},
         {QStringLiteral("duration_ms"), double(m_clock.isValid() ? m_clock.elapsed() : 0)}});
    m_ctx.audit(QStringLiteral("engine"), QStringLiteral("run.finished"), m_run.id, m_run.agentId,
                {{QStringLiteral("status"), runStatusName(m_outcome->status)},
                 {QStringLiteral("reason"), m_outcome->reason},
                 {QStringLiteral("ended_by"), QStringLiteral("another process")}});
    stopRunner(Stop::KillNow);
}

void RunSession::checkStore()
{
    if (m_outcome)
        return;
    auto stored = m_ctx.store->run(m_run.id);
    if (stored && isTerminal(stored->status))
        endedElsewhere();
}

void RunSession::stopRunner(Stop stop)
{
    m_wallClock.stop();
    m_connectTimer.stop();
    m_disconnectTimer.stop();
    // An in-flight model call stops within ~100 ms; its result is then dropped.
    m_cancel->cancel();
    m_calls.clear();
    if (m_server)
        m_server->close();
    if (!m_process || !m_process->isRunning()) {
        finalize();
        return;
    }
    switch (stop) {
    case Stop::AwaitExit:
        m_killTimer.start(m_ctx.options.killGraceMs);
        break;
    case Stop::Terminate:
        m_process->terminateGroup();
        m_killTimer.start(m_ctx.options.killGraceMs);
        break;
    case Stop::KillNow:
        m_process->killGroup();
        break;
    }
}

void RunSession::finalize(bool force)
{
    if (m_finalized || !m_outcome)
        return;
    if (m_process && m_process->isRunning() && !force)
        return; // not yet: finalize() runs again from the exit
    m_finalized = true;
    m_killTimer.stop();
    if (m_process)
        m_process->killGroup(); // strays of the group
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
    if (m_server)
        m_server->close();
    if (!m_socketPath.isEmpty())
        QFile::remove(m_socketPath);
    emit finished(m_run.id, m_outcome->status, m_outcome->reason);
}

} // namespace vivarium
