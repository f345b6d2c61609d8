// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "EmptyState.h"

#include "Icons.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace vivarium {

EmptyState::EmptyState(const QString& iconName, QWidget* parent)
    : QWidget(parent)
{
    auto* icon = new QLabel(this);
    icon->setPixmap(icons::get(iconName).pixmap(QSize(56, 56)));
    icon->setAlignment(Qt::AlignCenter);

    m_title = new QLabel(this);
    m_title->setAlignment(Qt::AlignCenter);
    m_title->setWordWrap(true);
    QFont f = m_title->font();
    f.setPointSizeF(f.pointSizeF() * 1.4);
    f.setBold(true);
    m_title->setFont(f);

    m_text = new QLabel(this);
    m_text->setAlignment(Qt::AlignCenter);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setMaximumWidth(520);
    m_text->setForegroundRole(QPalette::PlaceholderText);

    m_buttons = new QHBoxLayout;
    m_buttons->addStretch();
    m_buttons->addStretch();

    auto* layout = new QVBoxLayout(this);
    layout->addStretch(2);
    layout->addWidget(icon);
    layout->addSpacing(8);
    layout->addWidget(m_title);
    layout->addWidget(m_text, 0, Qt::AlignHCenter);
    layout->addSpacing(12);
    layout->addLayout(m_buttons);
    layout->addStretch(3);
}

void EmptyState::setTitle(const QString& title)
{
    m_title->setText(title);
}

void EmptyState::setText(const QString& text)
{
    m_text->setText(text);
}

QString EmptyState::title() const
{
    return m_title->text();
}

QString EmptyState::text() const
{
    return m_text->text();
}

QPushButton* EmptyState::addAction(const QString& objectName, const QString& text,
                                   const QString& iconName)
{
    auto* b = new QPushButton(text, this);
    b->setObjectName(objectName);
    if (!iconName.isEmpty())
        b->setIcon(icons::get(iconName));
    if (m_buttons->count() == 2)
        b->setDefault(true);
    m_buttons->insertWidget(m_buttons->count() - 1, b);
    return b;
}

} // namespace vivarium
