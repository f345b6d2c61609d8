// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Autostart.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace vivarium {

namespace {

constexpr auto Marker = "X-Vivarium-Autostart=true";

/** One Exec argument quoted as the Desktop Entry spec wants (reserved characters escaped). */
QString quoteExecArg(const QString& arg)
{
    static const QString reserved = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");
    bool needs = arg.isEmpty();
    for (const QChar c : arg)
        needs = needs || reserved.contains(c);
    if (!needs)
        return arg;
    QString out = QStringLiteral("\"");
    for (const QChar c : arg) {
        if (c == QLatin1Char('"') || c == QLatin1Char('`') || c == QLatin1Char('$') ||
            c == QLatin1Char('\\'))
            out += QLatin1Char('\\');
        out += c;
    }
    // In a desktop file a backslash is itself escaped once more by the string rules.
    out.replace(QLatin1Char('\\'), QStringLiteral("\\\\"));
    return out + QLatin1Char('"');
}

} // namespace

QString Autostart::entryPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/autostart/vivarium.desktop");
}

bool Autostart::isInstalled()
{
    QFile f(entryPath());
    if (!f.open(QIODevice::ReadOnly))
        return false;
    return f.readAll().contains(Marker);
}

QByteArray Autostart::entryText(const QString& executable, const QString& dataDir)
{
    QString exec = quoteExecArg(executable) + QStringLiteral(" --minimized");
    if (!dataDir.isEmpty())
        exec += QStringLiteral(" --data-dir ") + quoteExecArg(dataDir);
    QByteArray text = "[Desktop Entry]\n"
                      "Type=Application\n"
                      "Name=Vivarium\n"
                      "Comment=Run your automations in the background\n"
                      "Icon=vivarium\n"
                      "Terminal=false\n"
                      "X-GNOME-Autostart-enabled=true\n";
    text += "Exec=" + exec.toUtf8() + '\n';
    text += QByteArray(Marker) + '\n';
    return text;
}

Status Autostart::apply(bool enabled, const QString& executable, const QString& dataDir)
{
    const QString path = entryPath();
    if (!enabled) {
        if (!QFileInfo::exists(path))
            return {};
        if (!isInstalled()) // someone else's entry: leave it alone
            return {};
        if (!QFile::remove(path))
            return fail(Error::Code::Io, QStringLiteral("%1: cannot remove").arg(path));
        return {};
    }
    const QByteArray text = entryText(executable, dataDir);
    QFile current(path);
    if (current.open(QIODevice::ReadOnly) && current.readAll() == text)
        return {};
    current.close();
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return fail(Error::Code::Io,
                    QStringLiteral("%1: cannot create the directory").arg(QFileInfo(path).path()));
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size() || !f.commit())
        return fail(Error::Code::Io,
                    QStringLiteral("%1: cannot write: %2").arg(path, f.errorString()));
    return {};
}

} // namespace vivarium
