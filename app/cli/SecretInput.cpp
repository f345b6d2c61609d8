// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SecretInput.h"

#include <QFile>

#include <csignal>
#include <cstdio>
#include <termios.h>
#include <unistd.h>

namespace vivarium::cli {

namespace {

termios g_saved{};
volatile sig_atomic_t g_echoOff = 0;

void restoreEcho()
{
    if (g_echoOff) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
        g_echoOff = 0;
    }
}

extern "C" void onInterrupt(int sig)
{
    restoreEcho();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

/** One line from the terminal with echo off; the newline the user typed is echoed back. */
QByteArray readHiddenLine(const QString& label)
{
    std::fputs(label.toLocal8Bit().constData(), stderr);
    std::fflush(stderr);
    termios t{};
    const bool haveTerm = ::tcgetattr(STDIN_FILENO, &t) == 0;
    if (haveTerm) {
        g_saved = t;
        t.c_lflag &= ~tcflag_t(ECHO);
        t.c_lflag |= ECHONL;
        g_echoOff = 1;
        ::signal(SIGINT, onInterrupt);
        ::signal(SIGTERM, onInterrupt);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
    }
    QByteArray line;
    for (int c = std::fgetc(stdin); c != EOF && c != '\n'; c = std::fgetc(stdin)) {
        if (line.size() < 64 * 1024)
            line.append(char(c));
    }
    if (haveTerm) {
        restoreEcho();
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
    }
    if (line.endsWith('\r'))
        line.chop(1);
    return line;
}

} // namespace

bool stdinIsTerminal()
{
    return ::isatty(STDIN_FILENO) == 1;
}

QByteArray readStdinSecret(qsizetype maxBytes)
{
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        return {};
    QByteArray all = in.read(maxBytes);
    while (all.endsWith('\n') || all.endsWith('\r'))
        all.chop(1);
    return all;
}

Result<QByteArray> promptSecret(const QString& label, bool confirm)
{
    if (!stdinIsTerminal())
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: standard input is not a terminal (pipe the value in)")
                        .arg(label.trimmed()));
    QByteArray first = readHiddenLine(label);
    if (first.isEmpty())
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: nothing entered").arg(label.trimmed()));
    if (confirm) {
        QByteArray second = readHiddenLine(QStringLiteral("Again: "));
        const bool same = first == second;
        second.fill('\0');
        if (!same) {
            first.fill('\0');
            return fail(Error::Code::Validation, QStringLiteral("the two entries differ"));
        }
    }
    return first;
}

Result<QByteArray> readSecretLine(const QString& label, bool confirm)
{
    if (stdinIsTerminal())
        return promptSecret(label, confirm);
    QByteArray value = readStdinSecret();
    if (value.isEmpty())
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: nothing on standard input").arg(label.trimmed()));
    if (value.contains('\n') || value.contains('\r')) {
        value.fill('\0');
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: the value must be a single line").arg(label.trimmed()));
    }
    return value;
}

} // namespace vivarium::cli
