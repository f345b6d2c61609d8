// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QString>
#include <QWidget>

#include <memory>

namespace vivarium {

class Store;

/**
 * Insight chart of an agent's recent runs (Qt Charts): one bar per run, its duration, colored
 * by outcome; tokens and cost as line series on their own axes; a tooltip per run; an empty
 * state when the agent has no run yet. Unpriced runs are marked as such, never drawn as $0.
 * Skipped and missed schedule entries are left out (they did not run; see ScheduleLedger).
 *
 * `store` must outlive the widget; it only reads.
 */
class RunChart : public QWidget
{
    Q_OBJECT
public:
    explicit RunChart(Store* store, QWidget* parent = nullptr);
    ~RunChart() override;

    /** How many recent runs to chart (default 30, 1..500). */
    void setRunLimit(int limit);
    int runLimit() const;
    /** Runs charted, oldest first (what the bars show, left to right). */
    QStringList runIds() const;

public slots:
    /** Chart this agent's recent runs. */
    void showAgent(const QString& agentId);
    /** Re-read the current agent's runs (e.g. after a run finished). */
    void refresh();

signals:
    /** The user clicked a run's bar. */
    void runActivated(const QString& runId);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
