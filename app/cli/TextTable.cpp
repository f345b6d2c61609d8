// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "TextTable.h"

#include <algorithm>

namespace vivarium::cli {

TextTable::TextTable(QStringList header)
    : m_header(std::move(header))
{}

void TextTable::addRow(QStringList cells)
{
    while (cells.size() < m_header.size())
        cells << QString();
    m_rows << cells;
}

QString TextTable::render(int maxCell) const
{
    auto clip = [maxCell](const QString& s) {
        QString one = s;
        one.replace(QLatin1Char('\n'), QLatin1Char(' '));
        return one.size() > maxCell ? one.left(maxCell - 1) + QChar(0x2026) : one;
    };
    QList<int> widths;
    for (const QString& h : m_header)
        widths << int(h.size());
    for (const QStringList& row : m_rows)
        for (qsizetype c = 0; c < m_header.size(); ++c)
            widths[c] = std::max(widths[c], int(clip(row.at(c)).size()));
    QString out;
    auto line = [&](const QStringList& cells, bool clipCells) {
        QString l;
        for (qsizetype c = 0; c < m_header.size(); ++c) {
            const QString cell = clipCells ? clip(cells.at(c)) : cells.at(c);
            l += c + 1 == m_header.size() ? cell : cell.leftJustified(widths[c] + 2);
        }
        while (l.endsWith(QLatin1Char(' ')))
            l.chop(1);
        out += l + QLatin1Char('\n');
    };
    line(m_header, false);
    for (const QStringList& row : m_rows)
        line(row, true);
    return out;
}

} // namespace vivarium::cli
