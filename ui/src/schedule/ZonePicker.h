// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QComboBox>

namespace vivarium::ui {

/**
 * An IANA time zone picker: every zone the system knows, searchable by any part of its name
 * ("york" finds America/New_York), the system zone first. The text is the zone id as typed;
 * whether it is a known zone is for the caller to say (it shows why inline).
 */
class ZonePicker : public QComboBox
{
    Q_OBJECT
public:
    explicit ZonePicker(QWidget* parent = nullptr);

    /** The id as typed, trimmed. */
    QString zoneId() const;
    void setZoneId(const QString& id);

signals:
    /** Whenever the text changes (typing or picking). */
    void zoneChanged(const QString& id);
};

} // namespace vivarium::ui
