// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Format.h"

#include "Icons.h"

#include <QLocale>
#include <QTimeZone>

namespace vivarium {

QString Format::status(RunStatus s)
{
    switch (s) {
    case RunStatus::Queued:
        return tr("Queued");
    case RunStatus::Starting:
        return tr("Starting");
    case RunStatus::Running:
        return tr("Running");
    case RunStatus::AwaitingApproval:
        return tr("Awaiting approval");
    case RunStatus::Succeeded:
        return tr("Succeeded");
    case RunStatus::Failed:
        return tr("Failed");
    case RunStatus::TimedOut:
        return tr("Timed out");
    case RunStatus::Cancelled:
        return tr("Cancelled");
    case RunStatus::Interrupted:
        return tr("Interrupted");
    case RunStatus::Skipped:
        return tr("Skipped");
    case RunStatus::Missed:
        return tr("Missed");
    }
    return runStatusName(s);
}

QIcon Format::statusIcon(RunStatus s)
{
    switch (s) {
    case RunStatus::Succeeded:
        return icons::get(QStringLiteral("ok"));
    case RunStatus::Failed:
    case RunStatus::TimedOut:
        return icons::get(QStringLiteral("error"));
    case RunStatus::Starting:
    case RunStatus::Running:
        return icons::get(QStringLiteral("running"));
    case RunStatus::AwaitingApproval:
    case RunStatus::Interrupted:
        return icons::get(QStringLiteral("warning"));
    case RunStatus::Cancelled:
    case RunStatus::Skipped:
    case RunStatus::Missed:
        return icons::get(QStringLiteral("cancelled"));
    case RunStatus::Queued:
        return icons::get(QStringLiteral("waiting"));
    }
    return {};
}

QColor Format::statusColor(RunStatus s)
{
    switch (s) {
    case RunStatus::Succeeded:
        return QColor(0x2e, 0x7d, 0x32);
    case RunStatus::Failed:
    case RunStatus::TimedOut:
        return QColor(0xc6, 0x28, 0x28);
    case RunStatus::Starting:
    case RunStatus::Running:
        return QColor(0x15, 0x65, 0xc0);
    case RunStatus::AwaitingApproval:
    case RunStatus::Interrupted:
        return QColor(0xa0, 0x5a, 0x00);
    default:
        return QColor(0x5f, 0x6b, 0x77);
    }
}

QString Format::relative(const QDateTime& t, const QDateTime& now)
{
    if (!t.isValid())
        return QString();
    const QDateTime local = t.toLocalTime();
    const QDateTime nowLocal = now.toLocalTime();
    const qint64 secs = nowLocal.secsTo(local); // > 0: future
    const qint64 abs = secs < 0 ? -secs : secs;
    const QString hm = QLocale().toString(local.time(), QStringLiteral("HH:mm"));
    const qint64 days = nowLocal.date().daysTo(local.date());
    if (abs < 45)
        return secs < 0 ? tr("just now") : tr("in a moment");
    if (abs < 3600) {
        const qint64 m = (abs + 30) / 60;
        return secs < 0 ? tr("%1 min ago").arg(m) : tr("in %1 min").arg(m);
    }
    if (abs < 6 * 3600 && days == 0) {
        const qint64 h = (abs + 1800) / 3600;
        return secs < 0 ? tr("%1 h ago (%2)").arg(h).arg(hm) : tr("in %1 h (%2)").arg(h).arg(hm);
    }
    if (days == 0)
        return secs < 0 ? tr("today %1").arg(hm) : tr("today %1").arg(hm);
    if (days == -1)
        return tr("yesterday %1").arg(hm);
    if (days == 1)
        return tr("tomorrow %1").arg(hm);
    if (days > 1 && days < 7)
        return QLocale().toString(local, QStringLiteral("ddd HH:mm"));
    return QLocale().toString(local.date(), QStringLiteral("yyyy-MM-dd"));
}

QString Format::absolute(const QDateTime& t)
{
    if (!t.isValid())
        return QString();
    const QDateTime local = t.toLocalTime();
    return QLocale().toString(local, QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QLatin1Char(' ') +
           local.timeZoneAbbreviation();
}

QString Format::duration(qint64 ms)
{
    if (ms < 0)
        return QString();
    if (ms < 1000)
        return tr("%1 ms").arg(ms);
    const qint64 s = ms / 1000;
    if (s < 60)
        return ms < 10'000 ? tr("%1 s").arg(QLocale().toString(double(ms) / 1000.0, 'f', 1))
                           : tr("%1 s").arg(s);
    if (s < 3600)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString Format::cost(const RunUsage& usage)
{
    if (usage.unpriced || !usage.costUsd)
        return usage.steps > 0 || usage.unpriced ? tr("unpriced") : QString();
    const double c = *usage.costUsd;
    if (c == 0)
        return QStringLiteral("$0");
    return QStringLiteral("$") + QLocale().toString(c, 'f', c < 0.01 ? 4 : (c < 1 ? 3 : 2));
}

QString Format::count(qint64 n)
{
    if (n < 1000)
        return QString::number(n);
    if (n < 1'000'000)
        return QLocale().toString(double(n) / 1000.0, 'f', n < 10'000 ? 1 : 0) + QLatin1Char('k');
    return QLocale().toString(double(n) / 1e6, 'f', 1) + QLatin1Char('M');
}

QString Format::tierLabel(const QString& tier)
{
    if (tier == QLatin1String("none"))
        return tr("UNSANDBOXED");
    return tier;
}

QString Format::tierSentence(const QString& tier)
{
    if (tier == QLatin1String("none"))
        return tr("UNSANDBOXED: the runner is a plain process with your user's rights: it can "
                  "read your files and reach the network. For developing Vivarium only.");
    if (tier == QLatin1String("landlock"))
        return tr("Landlock: the kernel limits which files the runner may touch, with seccomp "
                  "and resource limits, but no namespaces. For hosts without user namespaces.");
    if (tier == QLatin1String("bwrap"))
        return tr("Bubblewrap (recommended): every namespace, no network at all, a read-only "
                  "view of the system, only the run's workspace and the agent's memory "
                  "writable, seccomp and resource limits.");
    if (tier == QLatin1String("container"))
        return tr("Container: podman or docker. Not implemented in this version: a run that "
                  "asks for it falls back to the strongest tier above its minimum.");
    return QString();
}

QColor Format::tierBackground(const QString& tier)
{
    if (tier == QLatin1String("none"))
        return QColor(0xc6, 0x28, 0x28);
    if (tier == QLatin1String("landlock"))
        return QColor(0xff, 0xf1, 0xd6);
    return QColor(0xe3, 0xf1, 0xe6);
}

QColor Format::tierForeground(const QString& tier)
{
    if (tier == QLatin1String("none"))
        return Qt::white;
    if (tier == QLatin1String("landlock"))
        return QColor(0x8a, 0x52, 0x00);
    return QColor(0x1e, 0x5e, 0x2e);
}

} // namespace vivarium
