// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace vivarium {

/** A line-by-line difference of two texts (Myers' O(ND) algorithm), for the version compare. */
class TextDiff
{
public:
    enum class Kind { Same, Removed, Added };
    struct Line
    {
        Kind kind = Kind::Same;
        QString text;
        int oldLine = 0; ///< 1-based, 0 for added lines
        int newLine = 0; ///< 1-based, 0 for removed lines
    };

    /**
     * The edit script turning `a` into `b`. Beyond `maxEdits` differing lines the middle is
     * reported as all removed then all added (still correct, just not minimal).
     */
    static QList<Line> compute(const QStringList& a, const QStringList& b, int maxEdits = 1000);
    /** Unified-diff-like text: "  same", "- removed", "+ added". */
    static QString render(const QList<Line>& lines);
    static int changes(const QList<Line>& lines);
};

} // namespace vivarium
