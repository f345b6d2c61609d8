// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QDateTime>
#include <QString>

namespace vivarium::cli {

/**
 * Turns run events into the readable timeline of `run --follow` and `runs show --events`:
 * one line per event, time since the run was queued, step, tool, short arguments, result
 * status, tokens and cost running totals.
 */
class EventFormatter
{
public:
    /** The line for `event`, or an empty string for events not worth a line. */
    QString format(const RunEvent& event);

    /** "$0.0012", or "unpriced" when any call had no price. */
    static QString cost(std::optional<double> usd, bool unpriced);
    /** Shorten to `max` characters on one line, with an ellipsis. */
    static QString shorten(const QString& text, int max);

private:
    QDateTime m_start;
    qint64 m_inputTokens = 0;
    qint64 m_outputTokens = 0;
    double m_cost = 0;
    bool m_unpriced = false;
};

} // namespace vivarium::cli
