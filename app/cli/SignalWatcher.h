// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QObject>

class QSocketNotifier;

namespace vivarium::cli {

/**
 * Delivers SIGINT, SIGTERM and SIGHUP to the event loop as a Qt signal, through a socketpair
 * (the only async-signal-safe way to reach Qt). One instance per process.
 */
class SignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(QObject* parent = nullptr);
    ~SignalWatcher() override;
    bool isActive() const { return m_notifier != nullptr; }

signals:
    void received(int signal);

private:
    QSocketNotifier* m_notifier = nullptr;
};

} // namespace vivarium::cli
