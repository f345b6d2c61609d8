// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// `vivarium serve` stopping gracefully (SIGTERM): no new runs (the API answers 503), live runs
// get runs.shutdown_grace_seconds to finish and are then `interrupted`; a second signal cuts
// the grace short; and the systemd notification protocol (READY=1, STOPPING=1, STATUS=) over a
// real AF_UNIX datagram socket named by $NOTIFY_SOCKET, as a path and as an abstract name.
#include "ApiTestServer.h"
#include "RawHttp.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <csignal>
#include <cstddef>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace testsupport;

namespace {

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

/** A datagram socket standing in for systemd's notification socket. */
class NotifySocket
{
public:
    /** `address`: a path, or "@name" for an abstract socket (as $NOTIFY_SOCKET says it). */
    explicit NotifySocket(const QString& address)
        : m_address(address)
    {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa = {};
        sa.sun_family = AF_UNIX;
        const QByteArray name = address.toUtf8();
        std::memcpy(sa.sun_path, name.constData(), std::size_t(name.size()));
        socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + std::size_t(name.size()));
        if (name.startsWith('@'))
            sa.sun_path[0] = '\0';
        else
            len += 1;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
            qWarning() << "cannot bind" << address << std::strerror(errno);
            if (m_fd >= 0)
                ::close(m_fd);
            m_fd = -1;
        }
    }
    ~NotifySocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    bool isValid() const { return m_fd >= 0; }
    QString address() const { return m_address; }

    /** Messages until one contains `needle` or `timeoutMs` passed (the event loop runs). */
    QList<QByteArray> waitFor(const QByteArray& needle, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) == 1) {
                char buf[4096];
                const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
                if (n > 0) {
                    m_all.append(QByteArray(buf, int(n)));
                    if (m_all.last().contains(needle))
                        return m_all;
                }
            }
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        }
        return m_all;
    }
    QList<QByteArray> all() const { return m_all; }

private:
    QString m_address;
    int m_fd = -1;
    QList<QByteArray> m_all;
};

/** `vivarium serve --api` on a free port, with a log and an exit we can wait for. */
class Serve
{
public:
    bool start(const QString& dataDir, const QProcessEnvironment& extraEnv = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(extraEnv);
        m_p.setProcessEnvironment(env);
        m_p.start(bin(QStringLiteral("vivarium")),
                  {QStringLiteral("serve"), QStringLiteral("--api"), QStringLiteral("--listen"),
                   QStringLiteral("127.0.0.1:0"), QStringLiteral("--rate-limit"),
                   QStringLiteral("0"), QStringLiteral("--data-dir"), dataDir});
        if (!m_p.waitForStarted(10000))
            return false;
        static const QRegularExpression rx(
            QStringLiteral("HTTP API on http://127\\.0\\.0\\.1:(\\d+)"));
        return waitForLog(rx, 20000, &m_port);
    }
    /** Read the log until `rx` matches (its first capture as a port, when asked). */
    bool waitForLog(const QRegularExpression& rx, int timeoutMs, quint16* port = nullptr)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            m_log += m_p.readAllStandardError();
            const auto m = rx.match(QString::fromUtf8(m_log));
            if (m.hasMatch()) {
                if (port)
                    *port = quint16(m.captured(1).toUInt());
                return true;
            }
            if (m_p.state() != QProcess::Running)
                break;
            m_p.waitForReadyRead(50);
        }
        m_log += m_p.readAllStandardError();
        return false;
    }
    void signal(int sig) { ::kill(pid_t(m_p.processId()), sig); }
    /** Wait for the exit (the event loop keeps running for the test's own HTTP calls). */
    bool waitForExit(int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (m_p.state() != QProcess::NotRunning && t.elapsed() < timeoutMs) {
            m_p.waitForFinished(50);
            m_log += m_p.readAllStandardError();
        }
        m_log += m_p.readAllStandardError();
        return m_p.state() == QProcess::NotRunning;
    }
    ~Serve()
    {
        if (m_p.state() != QProcess::NotRunning) {
            m_p.kill();
            m_p.waitForFinished(5000);
        }
    }
    QProcess& process() { return m_p; }
    quint16 port() const { return m_port; }
    QByteArray log() const { return m_log; }

private:
    QProcess m_p;
    quint16 m_port = 0;
    QByteArray m_log;
};

} // namespace

class TestServeShutdown : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<ApiTestServer> m_fixture; // fake models, keys (its own serve is unused)
    QByteArray m_key;

    QString dataDir() const { return m_fixture->dataDir(); }

    RawResponse call(quint16 port, const QByteArray& method, const QByteArray& path,
                     const QJsonObject& body = {})
    {
        QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", "Bearer " + m_key}};
        QByteArray bytes;
        if (!body.isEmpty()) {
            headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
            bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
        }
        return rawExchange(port, rawRequest(port, method, path, headers, bytes));
    }

    QString startRun(quint16 port, const QString& agent)
    {
        const RawResponse r = call(port, "POST", "/v1/runs", {{QStringLiteral("agent"), agent}});
        if (r.status != 202)
            qWarning().noquote() << r.status << r.body;
        return r.json().object().value(QStringLiteral("id")).toString();
    }

    /** Poll until the run has this status (bounded). */
    bool waitForStatus(quint16 port, const QString& runId, const QString& status, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            const RawResponse r = call(port, "GET", "/v1/runs/" + runId.toUtf8());
            if (r.json().object().value(QStringLiteral("status")).toString() == status)
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    QJsonObject runFromStore(const QString& runId)
    {
        const auto r = runCli(dataDir(), {QStringLiteral("runs"), QStringLiteral("show"), runId,
                                          QStringLiteral("--json")});
        return QJsonDocument::fromJson(r.out).object();
    }

    void setGrace(int seconds)
    {
        const auto r = runCli(dataDir(), {QStringLiteral("settings"), QStringLiteral("set"),
                                          QStringLiteral("runs.shutdown_grace_seconds"),
                                          QString::number(seconds)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_fixture = std::make_unique<ApiTestServer>(m_tmp.filePath(QStringLiteral("data")));
        const QString hangScript = m_tmp.filePath(QStringLiteral("hang.json"));
        const QString quickScript = m_tmp.filePath(QStringLiteral("quick.json"));
        QVERIFY(writeFile(hangScript, R"([{"hang": true}])"));
        QVERIFY(writeFile(quickScript, R"([{"text": "done", "delay_ms": 1500}])"));
        const quint16 hang = m_fixture->startFakeModel(hangScript);
        const quint16 quick = m_fixture->startFakeModel(quickScript);
        QVERIFY(hang && quick);
        for (const auto& [name, port] : {qMakePair(QStringLiteral("hangs"), hang),
                                         qMakePair(QStringLiteral("quick"), quick)}) {
            const auto r = runCli(dataDir(), {QStringLiteral("model"), QStringLiteral("add"), name,
                                              QStringLiteral("--api"), QStringLiteral("openai"),
                                              QStringLiteral("--base-url"),
                                              QStringLiteral("http://127.0.0.1:%1/v1").arg(port),
                                              QStringLiteral("--no-key")});
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
            const QString file = m_tmp.filePath(name + QStringLiteral(".agent.json"));
            QVERIFY(writeFile(file, agentJson(name, name)));
            const auto a =
                runCli(dataDir(), {QStringLiteral("agent"), QStringLiteral("add"), file});
            QVERIFY2(a.exitCode == 0, qPrintable(a.describe()));
        }
        m_key = m_fixture->createKey(QStringLiteral("rw"),
                                     {QStringLiteral("runs:read"), QStringLiteral("runs:write")});
        QVERIFY(!m_key.isEmpty());
    }

    void graceSettingIsTypedAndDocumented()
    {
        auto r = runCli(dataDir(),
                        {QStringLiteral("settings"), QStringLiteral("set"),
                         QStringLiteral("runs.shutdown_grace_seconds"), QStringLiteral("86400")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("runs.shutdown_grace_seconds"), qPrintable(r.describe()));
        r = runCli(dataDir(), {QStringLiteral("settings"), QStringLiteral("get"),
                               QStringLiteral("runs.shutdown_grace_seconds")});
        QVERIFY2(r.exitCode == 0 && r.out.trimmed() == "30", qPrintable(r.describe()));
    }

    /** A run still live when the grace ends is interrupted; meanwhile new runs get 503. */
    void liveRunInterruptedAfterGrace()
    {
        setGrace(3);
        NotifySocket notify(m_tmp.filePath(QStringLiteral("notify-a.sock")));
        QVERIFY(notify.isValid());
        QProcessEnvironment env;
        env.insert(QStringLiteral("NOTIFY_SOCKET"), notify.address());
        Serve serve;
        QVERIFY2(serve.start(dataDir(), env), serve.log().constData());
        QVERIFY(notify.waitFor("READY=1", 10000).join().contains("READY=1"));

        const QString runId = startRun(serve.port(), QStringLiteral("hangs"));
        QVERIFY(!runId.isEmpty());
        QVERIFY(waitForStatus(serve.port(), runId, QStringLiteral("running"), 15000));

        QElapsedTimer sinceTerm;
        sinceTerm.start();
        serve.signal(SIGTERM);
        QVERIFY2(
            serve.waitForLog(QRegularExpression(QStringLiteral("vivarium: stopping: 1 run")), 5000),
            serve.log().constData());
        // Still serving, but no new runs.
        const RawResponse refused =
            call(serve.port(), "POST", "/v1/runs", {{QStringLiteral("agent"), "hangs"}});
        QCOMPARE(refused.status, 503);
        QCOMPARE(refused.header("content-type"), QByteArray("application/problem+json"));
        QCOMPARE(refused.json().object().value(QStringLiteral("type")).toString(),
                 QStringLiteral("https://vivarium.dev/problems/unavailable"));
        QCOMPARE(call(serve.port(), "GET", "/v1/health").status, 200);
        const QByteArray stopping = notify.waitFor("STOPPING=1", 5000).join('\n');
        QVERIFY2(stopping.contains("STOPPING=1"), stopping.constData());
        // The unit's stop timeout is extended past the grace (3 s + 15 s margin).
        QVERIFY2(stopping.contains("EXTEND_TIMEOUT_USEC=18000000"), stopping.constData());

        QVERIFY2(serve.waitForExit(15000), serve.log().constData());
        const qint64 took = sinceTerm.elapsed();
        QCOMPARE(serve.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(serve.process().exitCode(), 0);
        QVERIFY2(took >= 2800, qPrintable(QStringLiteral("stopped after %1 ms").arg(took)));
        QVERIFY2(took < 3000 + 8000, qPrintable(QStringLiteral("stopped after %1 ms").arg(took)));
        qInfo("SIGTERM to exit with a live run and a 3 s grace: %lld ms", took);

        const QJsonObject run = runFromStore(runId);
        QCOMPARE(run.value(QStringLiteral("status")).toString(), QStringLiteral("interrupted"));
        QCOMPARE(run.value(QStringLiteral("reason")).toString(),
                 QStringLiteral("engine shutting down"));
        QVERIFY2(serve.log().contains("engine stopped (signal 15)"), serve.log().constData());
    }

    /** A run that finishes within the grace succeeds, and serve exits right after it. */
    void runFinishingWithinGraceSucceeds()
    {
        setGrace(20);
        Serve serve;
        QVERIFY2(serve.start(dataDir()), serve.log().constData());
        const QString runId = startRun(serve.port(), QStringLiteral("quick"));
        QVERIFY(!runId.isEmpty());
        QVERIFY(waitForStatus(serve.port(), runId, QStringLiteral("running"), 15000));
        QElapsedTimer sinceTerm;
        sinceTerm.start();
        serve.signal(SIGTERM);
        QVERIFY2(serve.waitForExit(20000), serve.log().constData());
        const qint64 took = sinceTerm.elapsed();
        QCOMPARE(serve.process().exitCode(), 0);
        QVERIFY2(took < 10000, qPrintable(QStringLiteral("stopped after %1 ms").arg(took)));
        QCOMPARE(runFromStore(runId).value(QStringLiteral("status")).toString(),
                 QStringLiteral("succeeded"));
    }

    /** A second SIGTERM ends the grace at once. */
    void secondSignalInterruptsNow()
    {
        setGrace(120);
        Serve serve;
        QVERIFY2(serve.start(dataDir()), serve.log().constData());
        const QString runId = startRun(serve.port(), QStringLiteral("hangs"));
        QVERIFY(!runId.isEmpty());
        QVERIFY(waitForStatus(serve.port(), runId, QStringLiteral("running"), 15000));
        QElapsedTimer sinceTerm;
        sinceTerm.start();
        serve.signal(SIGTERM);
        QVERIFY(serve.waitForLog(QRegularExpression(QStringLiteral("vivarium: stopping")), 5000));
        serve.signal(SIGTERM);
        QVERIFY2(serve.waitForExit(15000), serve.log().constData());
        QVERIFY2(sinceTerm.elapsed() < 10000,
                 qPrintable(QStringLiteral("stopped after %1 ms").arg(sinceTerm.elapsed())));
        QCOMPARE(serve.process().exitCode(), 0);
        QVERIFY2(serve.log().contains("interrupting live runs now"), serve.log().constData());
        QCOMPARE(runFromStore(runId).value(QStringLiteral("status")).toString(),
                 QStringLiteral("interrupted"));
    }

    void sdNotify_data()
    {
        QTest::addColumn<bool>("abstract");
        QTest::newRow("path") << false;
        QTest::newRow("abstract") << true;
    }

    /** READY=1 only once the API answers; STOPPING=1 on SIGTERM; STATUS lines throughout. */
    void sdNotify()
    {
        QFETCH(bool, abstract);
        setGrace(30);
        const QString address = abstract ? QStringLiteral("@vivarium-test-") +
                                               QUuid::createUuid().toString(QUuid::Id128)
                                         : m_tmp.filePath(QStringLiteral("notify.sock"));
        NotifySocket notify(address);
        QVERIFY(notify.isValid());
        QProcessEnvironment env;
        env.insert(QStringLiteral("NOTIFY_SOCKET"), address);
        Serve serve;
        QVERIFY2(serve.start(dataDir(), env), serve.log().constData());
        const QByteArray ready = notify.waitFor("READY=1", 10000).join('\n');
        QVERIFY2(ready.contains("READY=1\n"), ready.constData());
        const QByteArray status =
            "STATUS=engine ready, HTTP API on http://127.0.0.1:" + QByteArray::number(serve.port());
        QVERIFY2(ready.contains(status), ready.constData());
        QCOMPARE(call(serve.port(), "GET", "/v1/health").status, 200);

        serve.signal(SIGTERM);
        const QByteArray stop = notify.waitFor("STOPPING=1", 10000).join('\n');
        QVERIFY2(stop.contains("STOPPING=1\nSTATUS=stopping"), stop.constData());
        QVERIFY2(!stop.contains("EXTEND_TIMEOUT_USEC"), stop.constData()); // nothing was live
        QVERIFY2(serve.waitForExit(10000), serve.log().constData());
        QCOMPARE(serve.process().exitCode(), 0);
        QVERIFY2(!serve.log().contains("warning: cannot notify"), serve.log().constData());
    }

    /** A bad $NOTIFY_SOCKET is reported, never fatal. */
    void sdNotifyBadAddressWarns()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("NOTIFY_SOCKET"), m_tmp.filePath(QStringLiteral("nobody.sock")));
        Serve serve;
        QVERIFY2(serve.start(dataDir(), env), serve.log().constData());
        QVERIFY(
            serve.waitForLog(QRegularExpression(QStringLiteral("warning: cannot notify")), 5000));
        serve.signal(SIGTERM);
        QVERIFY(serve.waitForExit(10000));
        QCOMPARE(serve.process().exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestServeShutdown)
#include "tst_ServeShutdown.moc"
