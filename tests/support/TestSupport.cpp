// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "TestSupport.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>

namespace testsupport {

QString binDir()
{
    const QString env = qEnvironmentVariable("VIVARIUM_BIN_DIR");
    if (!env.isEmpty())
        return env;
    return QCoreApplication::applicationDirPath();
}

QString bin(const QString& name)
{
    return QDir(binDir()).absoluteFilePath(name);
}

QString sourceDir()
{
    const QString env = qEnvironmentVariable("VIVARIUM_SOURCE_DIR");
    return env.isEmpty() ? QDir::currentPath() : env;
}

QString ProcessResult::describe() const
{
    return QStringLiteral("exit=%1 crashed=%2 timedOut=%3\n--- stdout ---\n%4\n--- stderr ---\n%5")
        .arg(exitCode)
        .arg(crashed)
        .arg(timedOut)
        .arg(QString::fromUtf8(out.left(4000)), QString::fromUtf8(err.left(4000)));
}

ProcessResult runProcess(const QString& program, const QStringList& args,
                         const QByteArray& stdinData, int timeoutMs,
                         const QProcessEnvironment& extraEnv)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& k : extraEnv.keys())
        env.insert(k, extraEnv.value(k));
    p.setProcessEnvironment(env);
    p.start(program, args);
    ProcessResult r;
    if (!p.waitForStarted(10000)) {
        r.err = "failed to start " + program.toUtf8() + ": " + p.errorString().toUtf8();
        return r;
    }
    if (!stdinData.isEmpty())
        p.write(stdinData);
    p.closeWriteChannel();
    if (!p.waitForFinished(timeoutMs)) {
        r.timedOut = true;
        p.kill();
        p.waitForFinished(5000);
    }
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    r.crashed = p.exitStatus() == QProcess::CrashExit;
    r.exitCode = p.exitCode();
    return r;
}

ProcessResult runCli(const QString& dataDir, const QStringList& args, const QByteArray& stdinData,
                     int timeoutMs)
{
    QStringList full = args;
    full << QStringLiteral("--data-dir") << dataDir;
    return runProcess(bin(QStringLiteral("vivarium")), full, stdinData, timeoutMs);
}

bool writeFile(const QString& path, const QByteArray& content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(content) == content.size();
}

} // namespace testsupport
