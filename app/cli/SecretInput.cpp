// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SecretInput.h"

#include <QFile>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <optional>
#include <termios.h>
#include <unistd.h>

namespace vivarium::cli {

namespace {

// The terminal whose echo is off, so Ctrl-C during a prompt does not leave it that way.
int g_ttyFd = -1;
termios g_saved{};

extern "C" void onInterrupt(int sig)
{
    if (g_ttyFd >= 0)
        ::tcsetattr(g_ttyFd, TCSAFLUSH, &g_saved);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

/**
 * One line typed at the controlling terminal with echo off (the newline is echoed back).
 * The terminal, not stdin: a command may read data from a pipe and still ask a passphrase.
 * nullopt when there is no terminal.
 */
std::optional<QByteArray> readHiddenLine(const QString& label)
{
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return std::nullopt;
    termios old{};
    const bool isTty = ::tcgetattr(fd, &old) == 0;
    struct sigaction sa
    {
    }, oldInt{}, oldTerm{};
    if (isTty) {
        g_ttyFd = fd;
        g_saved = old;
        sa.sa_handler = onInterrupt;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &oldInt);
        ::sigaction(SIGTERM, &sa, &oldTerm);
        termios quiet = old;
        quiet.c_lflag &= tcflag_t(~ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    const QByteArray prompt = label.toLocal8Bit();
    (void)!::write(fd, prompt.constData(), size_t(prompt.size()));
    QByteArray line;
    char c = 0;
    while (line.size() < 64 * 1024) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == '\n')
            break;
        line.append(c);
    }
    if (line.endsWith('\r'))
        line.chop(1);
    if (isTty) {
        ::tcsetattr(fd, TCSAFLUSH, &old);
        ::sigaction(SIGINT, &oldInt, nullptr);
        ::sigaction(SIGTERM, &oldTerm, nullptr);
        g_ttyFd = -1;
    }
    ::close(fd);
    return line;
}

} // namespace

bool stdinIsTerminal()
{
    return ::isatty(STDIN_FILENO) == 1;
}

bool haveTerminal()
{
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
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
    std::optional<QByteArray> typed = readHiddenLine(label);
    if (!typed)
        return fail(
            Error::Code::Validation,
            QStringLiteral("%1: no terminal to ask on (pipe the value in)").arg(label.trimmed()));
    QByteArray first = std::move(*typed);
    if (first.isEmpty())
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: nothing entered").arg(label.trimmed()));
    if (confirm) {
        QByteArray second = readHiddenLine(QStringLiteral("Again: ")).value_or(QByteArray());
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
