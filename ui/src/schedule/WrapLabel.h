// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLabel>
#include <QResizeEvent>

namespace vivarium::ui {

/**
 * A word-wrapping label whose size hint is its height at its current width. A plain wrapped
 * QLabel in a QFormLayout is given room for two lines even when one fits (its hint assumes a
 * narrow width), which leaves a gap under every one-line message.
 */
class WrapLabel : public QLabel
{
public:
    explicit WrapLabel(QWidget* parent = nullptr)
        : QLabel(parent)
    {
        setWordWrap(true);
    }

    QSize sizeHint() const override { return fitted(QLabel::sizeHint()); }
    QSize minimumSizeHint() const override { return fitted(QLabel::minimumSizeHint()); }

protected:
    void resizeEvent(QResizeEvent* event) override
    {
        QLabel::resizeEvent(event);
        if (const int h = heightForWidth(width()); h != m_height) {
            m_height = h;
            updateGeometry(); // the layout asks again, now for this width
        }
    }

private:
    QSize fitted(QSize hint) const
    {
        if (width() > 0)
            hint.setHeight(heightForWidth(width()));
        return hint;
    }

    int m_height = -1;
};

} // namespace vivarium::ui
