// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace testsupport {

/** Directory holding the built executables (vivarium, vivarium-runner, helpers). */
QString binDir();
/** Absolute path of a built executable, e.g. bin("vivarium"). QFAIL-worthy if missing. */
QString bin(const QString& name);
/** Source tree root (for fixtures). */
QString sourceDir();

/** What a finished child process left behind. */
struct ProcessResult
{
    int exitCode = -1;
    bool crashed = false;
    bool timedOut = false;
    QByteArray out;
    QByteArray err;
    QString describe() const; ///< for failure messages
};

/**
 * Run a program to completion (killed after `timeoutMs`). `stdinData` is written then closed.
 * The environment is the test's, plus `extraEnv`.
 */
ProcessResult runProcess(const QString& program, const QStringList& args,
                         const QByteArray& stdinData = {}, int timeoutMs = 30000,
                         const QProcessEnvironment& extraEnv = {});

/** Run the `vivarium` CLI with `--data-dir dataDir` appended after the command words. */
ProcessResult runCli(const QString& dataDir, const QStringList& args,
                     const QByteArray& stdinData = {}, int timeoutMs = 30000);

/** Write `content` to `path`, creating parent directories. */
bool writeFile(const QString& path, const QByteArray& content);

} // namespace testsupport
