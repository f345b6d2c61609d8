// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QColor>
#include <QCoreApplication>
#include <QDateTime>
#include <QJsonValue>
#include <QString>

#include <optional>

namespace vivarium::ui {

/**
 * How the run view, chart and ledger write runs: statuses, colors and durations come from the
 * app's Format (so they read as in the runs list), costs as the CLI prints them.
 */
class RunFormat
{
    Q_DECLARE_TR_FUNCTIONS(vivarium::ui::RunFormat)
public:
    /** The status as a person reads it: "Succeeded", "Awaiting approval", ... */
    static QString statusText(RunStatus status);
    /** The status's text color, as the runs list uses it. */
    static QColor statusColor(RunStatus status);
    /** A distinct fill per outcome for charts (failed and timed out differ, unlike text). */
    static QColor chartColor(RunStatus status);
    /** "$0.0012" ($0.01 and up: cents), or "unpriced" when any call had no price; never $0. */
    static QString cost(std::optional<double> usd, bool unpriced);
    /** 1234567 -> "1,234,567" (grouped as the user's locale does). */
    static QString count(qint64 n);
    /** Milliseconds as "850 ms", "12 s", "3 min 4 s", "1 h 2 min" (as the runs list). */
    static QString duration(qint64 ms);
    /** "2026-05-04 12:03:04" in local time; "" when invalid. */
    static QString timestamp(const QDateTime& t);
    /** JSON as indented text ("null" for null/undefined; strings as they are). */
    static QString prettyJson(const QJsonValue& value);
    /** JSON on one line (strings as they are). */
    static QString compactJson(const QJsonValue& value);
    /** One line (whitespace collapsed) of at most `max` characters, with an ellipsis. */
    static QString elide(const QString& text, int max);
};

} // namespace vivarium::ui
