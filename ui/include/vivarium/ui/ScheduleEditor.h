// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Store.h"

#include <QString>
#include <QWidget>

#include <memory>

namespace vivarium {

/**
 * Create or edit a schedule of an agent (DESIGN section 6): a cron field validated as you type
 * with CronExpression (the same messages as `vivarium cron` and `schedule add`), the sentence
 * it means, the next 10 fire times in the chosen IANA zone (searchable picker, default the
 * system zone, always shown), overlap and misfire policy with max age, jitter, input JSON,
 * paused. Save writes through the Store as `vivarium schedule add` does (ScheduleRules
 * validation, Store::addSchedule); editing a CLI schedule replaces it under the same id in one
 * transaction; editing an agent's own schedule ("<agent>#<n>") saves a new agent version with
 * the changed entry, as `agent add` would.
 *
 * Embed it as a widget or in a QDialog (connect saved() and cancelled()). `store` must outlive
 * the editor.
 */
class ScheduleEditor : public QWidget
{
    Q_OBJECT
public:
    explicit ScheduleEditor(Store* store, QWidget* parent = nullptr);
    ~ScheduleEditor() override;

    /** Start a new schedule for this agent (defaults: system zone, skip, run_once 1h). */
    void setAgent(const QString& agentId);
    /** Edit an existing schedule (as read from the store). */
    void setSchedule(const ScheduleRecord& schedule);

    /** What the form says now (not validated). */
    ScheduleRecord currentSchedule() const;
    /** Whether the form is valid and Save is enabled. */
    bool isValid() const;
    /** The id being edited, empty for a new schedule. */
    QString scheduleId() const;

    /**
     * The instant the fire-time preview counts from (default: now, re-read on every update).
     * Tests pin it to compare with CronExpression's own output.
     */
    void setPreviewStart(const QDateTime& after);

public slots:
    /** Validate and write; emits saved() or shows the error inline. Returns success. */
    bool save();

signals:
    void saved(const QString& scheduleId);
    void cancelled();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
