// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"

#include <QString>
#include <QWidget>

#include <memory>

namespace vivarium {

class RunSupervisor;
class Store;

/**
 * One run, live or finished: header (status, agent, trigger, times), running totals (steps,
 * tokens, cost; "unpriced" rather than $0), the event timeline (model turns, tool calls with
 * arguments and results, errors highlighted, approvals), the final output (pretty JSON) and
 * the run's audit records, plus a Cancel button while the run is live.
 *
 * The timeline is replayed from Store::events and then fed by RunSupervisor::eventAppended;
 * events are keyed by seq so replay and live delivery never duplicate or skip one (a gap is
 * filled from the store). With a null supervisor the view is read-only: it polls the store
 * while the run is live (runs executed by another process) and has no Cancel.
 *
 * `store` and `supervisor` must outlive the view. Lives on the GUI thread (the engine's).
 */
class RunView : public QWidget
{
    Q_OBJECT
public:
    explicit RunView(Store* store, RunSupervisor* supervisor, QWidget* parent = nullptr);
    ~RunView() override;

    /** The run shown, empty if none. */
    QString runId() const;
    /** Status as last read (Queued when no run is shown). */
    RunStatus status() const;
    /** Whether the run shown is live (not terminal). */
    bool isLive() const;

public slots:
    /** Show a run: read it and its events from the store, then follow it while live. */
    void showRun(const QString& runId);
    /** Re-read the run's record, events after the last one shown, and audit records. */
    void refresh();
    /** Show nothing (an empty state). */
    void clear();

signals:
    /** The shown run reached a terminal state (seen live or by polling). */
    void runFinished(const QString& runId, vivarium::RunStatus status);
    /** The user asked to open the run's agent (the header's agent link). */
    void agentActivated(const QString& agentId);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace vivarium
