// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QStyledItemDelegate>

namespace vivarium {

/**
 * Draws the Agents list's sandbox badge (UNSANDBOXED in white on red, loud on purpose) and
 * its per-row "Run now" button, and turns a click on that button into runRequested().
 */
class AgentItemDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                     const QModelIndex& index) override;

    /** Where the Run now button of a row is drawn, inside the cell's rectangle. */
    static QRect buttonRect(const QRect& cell, const QFontMetrics& fm);

signals:
    void runRequested(const QString& agentId);

private:
    QPersistentModelIndex m_pressed;
};

} // namespace vivarium
