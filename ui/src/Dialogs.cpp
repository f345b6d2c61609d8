// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/Dialogs.h"

#include <QFileDialog>
#include <QStringList>

#include <optional>

namespace vivarium {

namespace {

struct Seams
{
    std::optional<QMessageBox::StandardButton> answer;
    std::optional<QString> fileName;
    QStringList messages;
    bool nonModal = false;
};

Seams& seams()
{
    static Seams s;
    return s;
}

} // namespace

QMessageBox::StandardButton Dialogs::question(QWidget* parent, const QString& title,
                                              const QString& text,
                                              QMessageBox::StandardButtons buttons,
                                              QMessageBox::StandardButton defaultButton)
{
    if (auto a = std::exchange(seams().answer, std::nullopt)) {
        seams().messages << title + QStringLiteral(": ") + text;
        return *a;
    }
    QMessageBox box(QMessageBox::Question, title, text, buttons, parent);
    box.setDefaultButton(defaultButton);
    box.setEscapeButton(defaultButton);
    return QMessageBox::StandardButton(box.exec());
}

void Dialogs::information(QWidget* parent, const QString& title, const QString& text)
{
    seams().messages << title + QStringLiteral(": ") + text;
    if (seams().nonModal)
        return;
    QMessageBox::information(parent, title, text);
}

void Dialogs::warning(QWidget* parent, const QString& title, const QString& text,
                      const QString& details)
{
    seams().messages << title + QStringLiteral(": ") + text +
                            (details.isEmpty() ? QString() : QLatin1Char('\n') + details);
    if (seams().nonModal)
        return;
    QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Ok, parent);
    if (!details.isEmpty())
        box.setDetailedText(details);
    box.exec();
}

QString Dialogs::openFileName(QWidget* parent, const QString& title, const QString& dir,
                              const QString& filter)
{
    if (auto f = std::exchange(seams().fileName, std::nullopt))
        return *f;
    return QFileDialog::getOpenFileName(parent, title, dir, filter);
}

QString Dialogs::saveFileName(QWidget* parent, const QString& title, const QString& dir,
                              const QString& filter, QString* selectedFilter)
{
    if (auto f = std::exchange(seams().fileName, std::nullopt))
        return *f;
    return QFileDialog::getSaveFileName(parent, title, dir, filter, selectedFilter);
}

void Dialogs::setNextAnswer(QMessageBox::StandardButton answer)
{
    seams().answer = answer;
}

void Dialogs::setNextFileName(const QString& path)
{
    seams().fileName = path;
}

QStringList Dialogs::takeMessages()
{
    return std::exchange(seams().messages, {});
}

void Dialogs::setNonModal(bool nonModal)
{
    seams().nonModal = nonModal;
}

} // namespace vivarium
