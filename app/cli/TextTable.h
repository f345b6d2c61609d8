// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace vivarium::cli {

/** A plain-text table with a header row and left-aligned columns, for listings. */
class TextTable
{
public:
    explicit TextTable(QStringList header);
    void addRow(QStringList cells);
    /** Columns padded to their widest cell; cells longer than `maxCell` are elided. */
    QString render(int maxCell = 48) const;
    bool isEmpty() const { return m_rows.isEmpty(); }

private:
    QStringList m_header;
    QList<QStringList> m_rows;
};

} // namespace vivarium::cli
