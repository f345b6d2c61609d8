// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "schedule/ZonePicker.h"

#include "vivarium/scheduler/ScheduleRules.h"

#include <QCompleter>
#include <QLineEdit>
#include <QTimeZone>

namespace vivarium::ui {

ZonePicker::ZonePicker(QWidget* parent)
    : QComboBox(parent)
{
    setEditable(true);
    setInsertPolicy(QComboBox::NoInsert);
    setMaxVisibleItems(20);
    setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    setMinimumContentsLength(24);

    const QString system = ScheduleRules::systemZoneId();
    QStringList ids;
    for (const QByteArray& id : QTimeZone::availableTimeZoneIds())
        ids << QString::fromUtf8(id);
    ids.removeAll(system);
    ids.sort(Qt::CaseInsensitive);
    ids.prepend(system);
    addItems(ids);
    setItemData(0, tr("The system zone"), Qt::ToolTipRole);

    auto* completer = new QCompleter(ids, this);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    completer->setCompletionMode(QCompleter::PopupCompletion);
    completer->setMaxVisibleItems(15);
    setCompleter(completer);
    lineEdit()->setPlaceholderText(tr("Search: Paris, New_York, UTC…"));
    lineEdit()->setClearButtonEnabled(true);
    setZoneId(system);
    connect(this, &QComboBox::editTextChanged, this, [this] { emit zoneChanged(zoneId()); });
}

QString ZonePicker::zoneId() const
{
    return currentText().trimmed();
}

void ZonePicker::setZoneId(const QString& id)
{
    const int i = findText(id);
    if (i >= 0)
        setCurrentIndex(i);
    setEditText(id);
}

} // namespace vivarium::ui
