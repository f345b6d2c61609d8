// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QString>
#include <QWidget>

#include <memory>

namespace vivarium {

class Store;

/**
 * The fires of a schedule (or of every schedule of an agent) that did not run: `skipped`
 * (overlap policy) and `missed` (engine down, asleep, clock jump) ledger entries, newest
 * first, with the instant they were for (in the schedule's zone) and the reason as recorded.
 * Optionally all fires (runs too). Empty state when there is nothing to report.
 *
 * `store` must outlive the widget; it only reads.
 */
class ScheduleLedger : public QWidget
{
    Q_OBJECT
public:
    explicit ScheduleLedger(Store* store, QWidget* parent = nullptr);
    ~ScheduleLedger() override;

    /** Entries listed now. */
    int entryCount() const;
    /** Also list the fires that did run (default false: only skipped and missed). */
    void setShowAllFires(bool all);

public slots:
    void showSchedule(const QString& scheduleId);
    /** Every schedule of the agent. */
    void showAgent(const QString& agentId);
    void refresh();

signals:
    /** The user activated an entry (double click / Enter): its run id. */
    void runActivated(const QString& runId);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
