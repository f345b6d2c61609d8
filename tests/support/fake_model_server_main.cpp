// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium-fake-model: the scripted model server as a process, for integration tests and
// benchmarks that drive the real binaries. See FakeModelServer.h for the script format.
#include "FakeModelServer.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("vivarium-fake-model"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Scripted OpenAI/Anthropic model server on 127.0.0.1 for tests. Prints "
                       "\"PORT <n>\" once listening and runs until killed."));
    parser.addHelpOption();
    const QCommandLineOption script(QStringLiteral("script"),
                                    QStringLiteral("Script file (JSON array of turns)."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption port(QStringLiteral("port"),
                                  QStringLiteral("Port on 127.0.0.1 (default: any free one)."),
                                  QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption repeat(QStringLiteral("repeat"),
                                    QStringLiteral("Loop the script forever."));
    parser.addOptions({script, port, repeat});
    parser.process(app);

    if (!parser.isSet(script)) {
        std::fputs("vivarium-fake-model: --script FILE is required\n", stderr);
        return 2;
    }
    bool portOk = false;
    const uint portNumber = parser.value(port).toUInt(&portOk);
    if (!portOk || portNumber > 65535) {
        std::fputs("vivarium-fake-model: --port takes a number from 0 to 65535\n", stderr);
        return 2;
    }

    testsupport::FakeModelServer server;
    QString error;
    if (!server.loadScriptFile(parser.value(script), &error)) {
        std::fprintf(stderr, "vivarium-fake-model: %s\n", qPrintable(error));
        return 2;
    }
    if (parser.isSet(repeat))
        server.setRepeat(true);
    if (!server.start(quint16(portNumber))) {
        std::fprintf(stderr, "vivarium-fake-model: cannot listen on 127.0.0.1:%u\n", portNumber);
        return 1;
    }
    std::printf("PORT %u\n", unsigned(server.port()));
    std::fflush(stdout);
    return app.exec();
}
