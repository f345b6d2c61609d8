// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "TextDiff.h"

#include <vector>

namespace vivarium {

QList<TextDiff::Line> TextDiff::compute(const QStringList& a, const QStringList& b, int maxEdits)
{
    QList<Line> out;
    // Common head and tail first: a version usually changes a few lines of many.
    qsizetype head = 0;
    while (head < a.size() && head < b.size() && a.at(head) == b.at(head))
        ++head;
    qsizetype tail = 0;
    while (tail < a.size() - head && tail < b.size() - head &&
           a.at(a.size() - 1 - tail) == b.at(b.size() - 1 - tail))
        ++tail;
    for (qsizetype i = 0; i < head; ++i)
        out.append({Kind::Same, a.at(i), int(i + 1), int(i + 1)});

    const qsizetype n = a.size() - head - tail;
    const qsizetype m = b.size() - head - tail;
    auto A = [&](qsizetype i) -> const QString& { return a.at(head + i); };
    auto B = [&](qsizetype j) -> const QString& { return b.at(head + j); };

    QList<Line> middle;
    bool done = false;
    if (n == 0 || m == 0) {
        done = false; // handled by the fallback below: all removed, then all added
    } else {
        // Myers: V[k] = furthest x on diagonal k; keep every V to walk the path back.
        const qsizetype max = std::min<qsizetype>(n + m, maxEdits);
        const qsizetype offset = max + 1;
        std::vector<qsizetype> v(size_t(2 * max + 3), 0);
        std::vector<std::vector<qsizetype>> trace;
        for (qsizetype d = 0; d <= max && !done; ++d) {
            trace.push_back(v);
            for (qsizetype k = -d; k <= d; k += 2) {
                qsizetype x;
                if (k == -d || (k != d && v[size_t(offset + k - 1)] < v[size_t(offset + k + 1)]))
                    x = v[size_t(offset + k + 1)];
                else
                    x = v[size_t(offset + k - 1)] + 1;
                qsizetype y = x - k;
                while (x < n && y < m && A(x) == B(y)) {
                    ++x;
                    ++y;
                }
                v[size_t(offset + k)] = x;
                if (x >= n && y >= m) {
                    done = true;
                    break;
                }
            }
        }
        if (done) {
            // Walk back from (n, m) through the saved frontiers.
            qsizetype x = n;
            qsizetype y = m;
            QList<Line> rev;
            for (qsizetype d = qsizetype(trace.size()) - 1; d >= 0; --d) {
                const std::vector<qsizetype>& vd = trace[size_t(d)];
                const qsizetype k = x - y;
                qsizetype prevK;
                if (k == -d || (k != d && vd[size_t(offset + k - 1)] < vd[size_t(offset + k + 1)]))
                    prevK = k + 1;
                else
                    prevK = k - 1;
                const qsizetype prevX = vd[size_t(offset + prevK)];
                const qsizetype prevY = prevX - prevK;
                while (x > prevX && y > prevY) {
                    --x;
                    --y;
                    rev.append({Kind::Same, A(x), int(head + x + 1), int(head + y + 1)});
                }
                if (d > 0) {
                    if (x == prevX)
                        rev.append({Kind::Added, B(prevY), 0, int(head + prevY + 1)});
                    else
                        rev.append({Kind::Removed, A(prevX), int(head + prevX + 1), 0});
                }
                x = prevX;
                y = prevY;
            }
            for (auto it = rev.crbegin(); it != rev.crend(); ++it)
                middle.append(*it);
        }
    }
    if (!done) {
        for (qsizetype i = 0; i < n; ++i)
            middle.append({Kind::Removed, A(i), int(head + i + 1), 0});
        for (qsizetype j = 0; j < m; ++j)
            middle.append({Kind::Added, B(j), 0, int(head + j + 1)});
    }
    out.append(middle);
    for (qsizetype i = 0; i < tail; ++i) {
        const qsizetype ai = a.size() - tail + i;
        const qsizetype bi = b.size() - tail + i;
        out.append({Kind::Same, a.at(ai), int(ai + 1), int(bi + 1)});
    }
    return out;
}

QString TextDiff::render(const QList<Line>& lines)
{
    QString out;
    for (const Line& l : lines) {
        out += l.kind == Kind::Same
                   ? QStringLiteral("  ")
                   : (l.kind == Kind::Added ? QStringLiteral("+ ") : QStringLiteral("- "));
        out += l.text;
        out += QLatin1Char('\n');
    }
    return out;
}

int TextDiff::changes(const QList<Line>& lines)
{
    int n = 0;
    for (const Line& l : lines)
        n += l.kind != Kind::Same;
    return n;
}

} // namespace vivarium
