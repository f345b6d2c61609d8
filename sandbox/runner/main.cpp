// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium-runner: runs one agent run inside the sandbox (DESIGN section 4). It talks only to
// the broker over the Unix socket named by VIVARIUM_BROKER_SOCKET (or --socket), holds no
// secrets and reads no other environment variable.
#include "AgentLoop.h"
#include "BrokerConnection.h"

#include "vivarium/protocol/BrokerProtocol.h"

#include <QString>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <malloc.h>

namespace {

void printError(const QString& message)
{
    // One line: the supervisor keeps the runner's stderr as the reason a run broke.
    QString line = message;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    std::fprintf(stderr, "vivarium-runner: %s\n", line.toUtf8().constData());
}

} // namespace

int main(int argc, char** argv)
{
    QString socketPath;
    for (int i = 1; i < argc; ++i) {
        const char* arg = argv[i];
        if (std::strcmp(arg, "--version") == 0) {
            std::printf("vivarium-runner %s\n", VIVARIUM_VERSION);
            return 0;
        }
        if (std::strcmp(arg, "--help") == 0) {
            std::printf("usage: vivarium-runner [--socket PATH]\n"
                        "Runs one agent run, talking to the broker over a Unix socket given by "
                        "--socket or %s.\n",
                        vivarium::protocol::SocketEnv);
            return 0;
        }
        if (std::strcmp(arg, "--socket") == 0 && i + 1 < argc) {
            socketPath = QString::fromLocal8Bit(argv[++i]);
        } else if (std::strncmp(arg, "--socket=", 9) == 0) {
            socketPath = QString::fromLocal8Bit(arg + 9);
        } else {
            printError(QStringLiteral("unknown argument %1 (try --help)")
                           .arg(QString::fromLocal8Bit(arg)));
            return 2;
        }
    }
    if (socketPath.isEmpty()) {
        if (const char* env = std::getenv(vivarium::protocol::SocketEnv))
            socketPath = QString::fromLocal8Bit(env);
    }
    if (socketPath.isEmpty()) {
        printError(QStringLiteral("no broker socket: set %1 or pass --socket PATH")
                       .arg(QLatin1String(vivarium::protocol::SocketEnv)));
        return 2;
    }
    // Big buffers (request lines, file contents) come and go every turn. Fixed thresholds keep
    // them in their own mappings, returned on free, instead of glibc raising its dynamic
    // threshold and leaving them as holes in the heap: peak RSS then tracks the conversation.
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024);
    // Writes to a vanished peer must fail with EPIPE, not kill us before we can say why.
    std::signal(SIGPIPE, SIG_IGN);

    vivarium::runner::BrokerConnection broker;
    if (!broker.connectTo(socketPath)) {
        printError(broker.error());
        return 1;
    }
    vivarium::runner::AgentLoop loop(broker);
    const int rc = loop.exec();
    if (rc != 0)
        printError(loop.error());
    return rc;
}
