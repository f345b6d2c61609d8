// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QMessageBox>
#include <QString>

class QWidget;

namespace vivarium {

/**
 * Every modal question and file dialog of the desktop app goes through here, so GUI tests can
 * answer them ahead of time ("next answer" seams) instead of racing a modal event loop.
 * Without a planted answer each call shows the real dialog.
 */
class Dialogs
{
public:
    /** A yes/no style question; returns the button pressed (`defaultButton` on Escape). */
    static QMessageBox::StandardButton question(QWidget* parent, const QString& title,
                                                const QString& text,
                                                QMessageBox::StandardButtons buttons,
                                                QMessageBox::StandardButton defaultButton);
    static void information(QWidget* parent, const QString& title, const QString& text);
    static void warning(QWidget* parent, const QString& title, const QString& text,
                        const QString& details = {});

    /** A file to open; empty when cancelled. */
    static QString openFileName(QWidget* parent, const QString& title, const QString& dir,
                                const QString& filter);
    /** A path to save to; `selectedFilter` in/out. Empty when cancelled. */
    static QString saveFileName(QWidget* parent, const QString& title, const QString& dir,
                                const QString& filter, QString* selectedFilter = nullptr);

    // --- test seams ----------------------------------------------------------------------

    /** The next question() returns this without showing anything. */
    static void setNextAnswer(QMessageBox::StandardButton answer);
    /** The next open/save file dialog returns this without showing anything. */
    static void setNextFileName(const QString& path);
    /** information() and warning() calls made since the last call (title: text), then cleared. */
    static QStringList takeMessages();
    /** Tests: information() and warning() only record their text, never block. */
    static void setNonModal(bool nonModal);
};

} // namespace vivarium
