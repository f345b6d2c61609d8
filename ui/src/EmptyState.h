// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QWidget>

class QLabel;
class QHBoxLayout;
class QPushButton;

namespace vivarium {

/** A page with nothing to show yet: what it is for and the next step, as buttons. */
class EmptyState : public QWidget
{
    Q_OBJECT
public:
    EmptyState(const QString& iconName, QWidget* parent = nullptr);

    void setTitle(const QString& title);
    /** Rich text allowed (e.g. a command in <code>). */
    void setText(const QString& text);
    QString title() const;
    QString text() const;
    /** A button under the text; the first one added is the default. */
    QPushButton* addAction(const QString& objectName, const QString& text,
                           const QString& iconName = {});

private:
    QLabel* m_title = nullptr;
    QLabel* m_text = nullptr;
    QHBoxLayout* m_buttons = nullptr;
};

} // namespace vivarium
