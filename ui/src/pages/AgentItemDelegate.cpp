// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentItemDelegate.h"

#include "AgentListModel.h"
#include "Format.h"
#include "Icons.h"

#include <QAbstractProxyModel>
#include <QApplication>
#include <QMouseEvent>
#include <QPainter>
#include <QStyle>

namespace vivarium {

namespace {

bool canRun(const QModelIndex& index)
{
    const QAbstractItemModel* m = index.model();
    while (auto* proxy = qobject_cast<const QAbstractProxyModel*>(m))
        m = proxy->sourceModel();
    auto* agents = qobject_cast<const AgentListModel*>(m);
    return agents && agents->canRun();
}

} // namespace

QRect AgentItemDelegate::buttonRect(const QRect& cell, const QFontMetrics& fm)
{
    const int w = fm.horizontalAdvance(tr("Run now")) + 40;
    const int h = std::min(cell.height() - 4, fm.height() + 10);
    return QRect(cell.left() + 4, cell.top() + (cell.height() - h) / 2, w, h);
}

void AgentItemDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const
{
    if (index.column() == AgentListModel::Sandbox) {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        opt.text.clear();
        QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

        const QString tier = index.data(AgentListModel::TierRole).toString();
        const QString label = Format::tierLabel(tier);
        QFont f = option.font;
        f.setBold(tier == QLatin1String("none"));
        f.setPointSizeF(f.pointSizeF() * 0.9);
        const QFontMetrics fm(f);
        const int w = fm.horizontalAdvance(label) + 16;
        const int h = fm.height() + 4;
        const QRect pill(option.rect.left() + 6, option.rect.top() + (option.rect.height() - h) / 2,
                         w, h);
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(Qt::NoPen);
        painter->setBrush(Format::tierBackground(tier));
        painter->drawRoundedRect(pill, h / 2.0, h / 2.0);
        painter->setPen(Format::tierForeground(tier));
        painter->setFont(f);
        painter->drawText(pill, Qt::AlignCenter, label);
        painter->restore();
        return;
    }
    if (index.column() == AgentListModel::Action) {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        opt.text.clear();
        QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

        QStyleOptionButton button;
        button.rect = buttonRect(option.rect, option.fontMetrics);
        button.text = tr("Run now");
        button.icon = icons::get(QStringLiteral("run"));
        button.iconSize = QSize(14, 14);
        button.state = QStyle::State_Raised;
        if (canRun(index))
            button.state |= QStyle::State_Enabled;
        if (m_pressed == index)
            button.state |= QStyle::State_Sunken;
        if (option.state & QStyle::State_MouseOver &&
            button.rect.contains(opt.widget ? opt.widget->mapFromGlobal(QCursor::pos()) : QPoint()))
            button.state |= QStyle::State_MouseOver;
        button.palette = option.palette;
        style->drawControl(QStyle::CE_PushButton, &button, painter, opt.widget);
        return;
    }
    QStyledItemDelegate::paint(painter, option, index);
}

QSize AgentItemDelegate::sizeHint(const QStyleOptionViewItem& option,
                                  const QModelIndex& index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    s.setHeight(std::max(s.height(), option.fontMetrics.height() + 14));
    if (index.column() == AgentListModel::Action)
        s.setWidth(option.fontMetrics.horizontalAdvance(tr("Run now")) + 52);
    if (index.column() == AgentListModel::Sandbox)
        s.setWidth(option.fontMetrics.horizontalAdvance(
                       Format::tierLabel(index.data(AgentListModel::TierRole).toString())) +
                   32);
    return s;
}

bool AgentItemDelegate::editorEvent(QEvent* event, QAbstractItemModel* model,
                                    const QStyleOptionViewItem& option, const QModelIndex& index)
{
    if (index.column() != AgentListModel::Action || !canRun(index))
        return QStyledItemDelegate::editorEvent(event, model, option, index);
    const QRect button = buttonRect(option.rect, option.fontMetrics);
    if (event->type() == QEvent::MouseButtonPress) {
        auto* me = static_cast<QMouseEvent*>(event);
        if (me->button() == Qt::LeftButton && button.contains(me->position().toPoint())) {
            m_pressed = index;
            return false; // the view still selects the row
        }
    } else if (event->type() == QEvent::MouseButtonRelease) {
        auto* me = static_cast<QMouseEvent*>(event);
        const bool hit = m_pressed == index && button.contains(me->position().toPoint());
        m_pressed = QPersistentModelIndex();
        if (hit) {
            emit runRequested(index.data(AgentListModel::AgentIdRole).toString());
            return true;
        }
    }
    return QStyledItemDelegate::editorEvent(event, model, option, index);
}

} // namespace vivarium
