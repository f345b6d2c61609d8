// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// A scriptable stand-in for vivarium-runner, driven by tst_runsupervisor, for the failure
// modes the real runner never produces. Its environment is cleared by the supervisor, so the
// behaviour comes from the run's input (`mode` and options, read from the hello answer), or,
// before it has the answer, from the name it was started under (a symlink ending in
// "-noconnect" or "-blurt"). Plain POSIX I/O: blocking reads and writes keep each mode a few lines.
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

int g_fd = -1;
QByteArray g_buffer;
int g_nextId = 1;

[[noreturn]] void die(const char* what)
{
    std::fprintf(stderr, "fake_runner: %s: %s\n", what, std::strerror(errno));
    std::exit(90);
}

void writeAll(const QByteArray& bytes)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(g_fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("write");
        done += n;
    }
}

void send(const QJsonObject& msg)
{
    writeAll(QJsonDocument(msg).toJson(QJsonDocument::Compact) + '\n');
}

QJsonObject readMessage()
{
    for (;;) {
        const qsizetype nl = g_buffer.indexOf('\n');
        if (nl >= 0) {
            const QByteArray line = g_buffer.left(nl);
            g_buffer.remove(0, nl + 1);
            return QJsonDocument::fromJson(line).object();
        }
        char chunk[65536];
        const ssize_t n = ::read(g_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            std::fprintf(stderr, "fake_runner: broker closed the socket\n");
            std::exit(91);
        }
        g_buffer.append(chunk, n);
    }
}

/** Send a request and wait for its result. */
QJsonObject request(QJsonObject msg)
{
    const int id = g_nextId++;
    msg.insert(QStringLiteral("id"), id);
    send(msg);
    return readMessage();
}

void event(const QString& type, const QJsonObject& data)
{
    send({{QStringLiteral("type"), QStringLiteral("event")},
          {QStringLiteral("event"),
           QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("data"), data}}}});
}

[[noreturn]] void finish(const QString& status, const QString& reason, const QJsonValue& output)
{
    request({{QStringLiteral("type"), QStringLiteral("finish")},
             {QStringLiteral("status"), status},
             {QStringLiteral("reason"), reason},
             {QStringLiteral("output"), output}});
    std::exit(0);
}

[[noreturn]] void hangForever()
{
    for (;;)
        ::pause();
}

void sleepMs(int ms)
{
    if (ms > 0)
        ::usleep(useconds_t(ms) * 1000);
}

QJsonObject environmentReport()
{
    QJsonObject env;
    for (char** e = environ; *e; ++e) {
        const QByteArray kv(*e);
        const qsizetype eq = kv.indexOf('=');
        env.insert(QString::fromUtf8(kv.left(eq)), QString::fromUtf8(kv.mid(eq + 1)));
    }
    return {{QStringLiteral("env"), env},
            {QStringLiteral("cwd"), QDir::currentPath()},
            {QStringLiteral("pid"), int(::getpid())},
            {QStringLiteral("pgid"), int(::getpgrp())}};
}

} // namespace

int main(int argc, char** argv)
{
    (void)argc;
    const QByteArray self(argv[0]);
    if (self.endsWith("-noconnect")) {
        // Leave a trace so the test can check this process is gone afterwards.
        QFile pidFile(QStringLiteral("pid"));
        if (pidFile.open(QIODevice::WriteOnly))
            pidFile.write(QByteArray::number(::getpid()));
        pidFile.close();
        hangForever();
    }

    const char* path = std::getenv("VIVARIUM_BROKER_SOCKET");
    if (!path) {
        std::fprintf(stderr, "fake_runner: no VIVARIUM_BROKER_SOCKET\n");
        return 92;
    }
    g_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g_fd < 0)
        die("socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (::connect(g_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        die("connect");

    send({{QStringLiteral("type"), QStringLiteral("hello")},
          {QStringLiteral("id"), g_nextId++},
          {QStringLiteral("protocol"), 1}});
    if (self.endsWith("-blurt")) {
        // Says everything at once and leaves before the broker has even accepted it.
        event(QStringLiteral("log"), {{QStringLiteral("message"), QStringLiteral("bye")}});
        std::exit(5);
    }
    const QJsonObject hello = readMessage();
    const QJsonObject run = hello.value(QStringLiteral("run")).toObject();
    const QJsonObject input = run.value(QStringLiteral("input")).toObject();
    const QString mode = input.value(QStringLiteral("mode")).toString();

    if (input.value(QStringLiteral("report")).toBool()) {
        QJsonObject report = environmentReport();
        report.insert(QStringLiteral("run"), run);
        event(QStringLiteral("log"), report);
    }

    if (mode == QLatin1String("succeed")) {
        const int events = input.value(QStringLiteral("events")).toInt();
        for (int i = 1; i <= events; ++i) {
            event(QStringLiteral("tool.call"),
                  {{QStringLiteral("id"), QStringLiteral("c%1").arg(i)},
                   {QStringLiteral("name"), QStringLiteral("noop")}});
            event(QStringLiteral("tool.result"),
                  {{QStringLiteral("id"), QStringLiteral("c%1").arg(i)},
                   {QStringLiteral("is_error"), false}});
        }
        sleepMs(input.value(QStringLiteral("sleep_ms")).toInt());
        event(QStringLiteral("run.output"), {{QStringLiteral("value"), input}});
        finish(QStringLiteral("succeeded"), QString(),
               QJsonObject{{QStringLiteral("echo"), input}});
    }
    if (mode == QLatin1String("fail"))
        finish(QStringLiteral("failed"), QStringLiteral("gave up on purpose"), QJsonValue());
    if (mode == QLatin1String("crash")) {
        const rlimit noCore{0, 0}; // a core file would only slow the test down
        ::setrlimit(RLIMIT_CORE, &noCore);
        std::abort();
    }
    if (mode == QLatin1String("exit3")) {
        std::fprintf(stderr, "fake_runner: starting\nfake_runner: could not frobnicate\n\n");
        std::exit(3);
    }
    if (mode == QLatin1String("events_then_exit")) {
        // No waiting for anything: the exit may be noticed before these bytes are read.
        for (int i = 1; i <= 3; ++i)
            event(QStringLiteral("log"),
                  {{QStringLiteral("message"), QStringLiteral("line %1").arg(i)}});
        std::exit(4);
    }
    if (mode == QLatin1String("finish_no_wait")) {
        send({{QStringLiteral("type"), QStringLiteral("finish")},
              {QStringLiteral("id"), g_nextId++},
              {QStringLiteral("status"), QStringLiteral("succeeded")},
              {QStringLiteral("output"), 42}});
        std::exit(0);
    }
    if (mode == QLatin1String("garbage")) {
        writeAll("this is not json\n");
        hangForever();
    }
    if (mode == QLatin1String("oversized")) {
        // More than the protocol's 16 MiB line limit, and no newline.
        const QByteArray block(1024 * 1024, 'x');
        for (int i = 0; i < 17; ++i)
            writeAll(block);
        hangForever();
    }
    if (mode == QLatin1String("unknown_event")) {
        event(QStringLiteral("run.finished"),
              {{QStringLiteral("status"), QStringLiteral("succeeded")}});
        hangForever();
    }
    if (mode == QLatin1String("unknown_type")) {
        send({{QStringLiteral("type"), QStringLiteral("bogus")}, {QStringLiteral("id"), 7}});
        hangForever();
    }
    if (mode == QLatin1String("bad_finish"))
        finish(QStringLiteral("timed_out"), QString(), QJsonValue());
    if (mode == QLatin1String("close_socket")) {
        ::close(g_fd);
        hangForever();
    }
    if (mode == QLatin1String("hang")) {
        if (input.value(QStringLiteral("ignore_term")).toBool())
            std::signal(SIGTERM, SIG_IGN);
        QJsonObject data{{QStringLiteral("message"), QStringLiteral("hanging")}};
        if (input.value(QStringLiteral("child")).toBool()) {
            // A tool's background process: same process group, must die with the run.
            const pid_t child = ::fork();
            if (child == 0) {
                ::close(g_fd);
                hangForever();
            }
            data.insert(QStringLiteral("child_pid"), int(child));
        }
        event(QStringLiteral("log"), data);
        hangForever();
    }
    if (mode == QLatin1String("llm")) {
        // Model turns through the broker: each answer's text is logged; tool calls are answered
        // with a canned result. Ends when the model answers without tool calls.
        QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                        {QStringLiteral("text"), QStringLiteral("hi")}}};
        const int maxSteps = input.value(QStringLiteral("max_steps")).toInt(10);
        for (int step = 1; step <= maxSteps; ++step) {
            if (input.value(QStringLiteral("report_each_step")).toBool())
                event(QStringLiteral("log"), environmentReport());
            const QJsonObject result = request(
                {{QStringLiteral("type"), QStringLiteral("llm")},
                 {QStringLiteral("request"),
                  QJsonObject{{QStringLiteral("model"), QStringLiteral("runner-picked-model")},
                              {QStringLiteral("messages"), messages},
                              {QStringLiteral("stream"),
                               input.value(QStringLiteral("stream")).toBool(true)}}}});
            if (!result.value(QStringLiteral("ok")).toBool()) {
                finish(QStringLiteral("failed"),
                       QStringLiteral("model error: ") + result.value(QStringLiteral("error"))
                                                             .toObject()
                                                             .value(QStringLiteral("message"))
                                                             .toString(),
                       QJsonValue());
            }
            const QJsonObject response = result.value(QStringLiteral("response")).toObject();
            const QJsonArray calls = response.value(QStringLiteral("tool_calls")).toArray();
            QJsonObject assistant{{QStringLiteral("role"), QStringLiteral("assistant")},
                                  {QStringLiteral("text"), response.value(QStringLiteral("text"))}};
            if (!calls.isEmpty())
                assistant.insert(QStringLiteral("tool_calls"), calls);
            messages.append(assistant);
            if (calls.isEmpty())
                finish(QStringLiteral("succeeded"), QString(),
                       QJsonObject{{QStringLiteral("text"), response.value(QStringLiteral("text"))},
                                   {QStringLiteral("steps"), step}});
            for (const QJsonValue& c : calls) {
                const QString id = c.toObject().value(QStringLiteral("id")).toString();
                event(QStringLiteral("tool.call"), c.toObject());
                event(QStringLiteral("tool.result"),
                      {{QStringLiteral("id"), id}, {QStringLiteral("is_error"), false}});
                messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("tool")},
                                            {QStringLiteral("tool_call_id"), id},
                                            {QStringLiteral("text"), QStringLiteral("ok")}});
            }
        }
        finish(QStringLiteral("failed"), QStringLiteral("max_steps"), QJsonValue());
    }
    std::fprintf(stderr, "fake_runner: unknown mode '%s'\n", qPrintable(mode));
    return 93;
}
