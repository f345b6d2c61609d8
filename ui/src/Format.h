// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QColor>
#include <QCoreApplication>
#include <QDateTime>
#include <QIcon>
#include <QString>

namespace vivarium {

/** How the desktop app words and colours runs, times, money and sandbox tiers, in one place. */
class Format
{
    Q_DECLARE_TR_FUNCTIONS(Format)
public:
    /** "Succeeded", "Timed out", "Awaiting approval", ... */
    static QString status(RunStatus s);
    static QIcon statusIcon(RunStatus s);
    /** Text colour for a status: red for failures, green for success, grey for the rest. */
    static QColor statusColor(RunStatus s);

    /** "just now", "5 min ago", "in 3 h", "yesterday 14:02", "Mon 09:00", "2026-03-01". */
    static QString relative(const QDateTime& t,
                            const QDateTime& now = QDateTime::currentDateTime());
    /** Local time to the second, with the zone's abbreviation: for tooltips. */
    static QString absolute(const QDateTime& t);
    /** "850 ms", "12 s", "3 min 4 s", "1 h 2 min". */
    static QString duration(qint64 ms);
    /** Dollars with enough digits to see small runs; "unpriced" (never $0) when unknown. */
    static QString cost(const RunUsage& usage);
    /** "950", "12.3k", "4.1M". */
    static QString count(qint64 n);

    /** "UNSANDBOXED" for tier none, the tier's name otherwise. */
    static QString tierLabel(const QString& tier);
    /** One sentence on what a tier isolates (the agent editor and the badge's tooltip). */
    static QString tierSentence(const QString& tier);
    /** Badge colours: background, text. */
    static QColor tierBackground(const QString& tier);
    static QColor tierForeground(const QString& tier);
};

} // namespace vivarium
