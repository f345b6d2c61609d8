// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/ui/UiServices.h"

#include <QFutureWatcher>
#include <QObject>

namespace vivarium {

/**
 * `vivarium connections test NAME` for the window: the broker's testConnection() on a worker
 * thread (the credential copied into a private in-memory store for that one call, so the
 * engine's secret store stays on the GUI thread), the verdict recorded with the CLI's words.
 */
class ConnectionCheck : public QObject
{
    Q_OBJECT
public:
    explicit ConnectionCheck(const UiServices& services, QObject* parent = nullptr);

    /** Let the provider's own endpoint be a local address (`--allow-local`: dev servers). */
    void setAllowLocal(bool allow) { m_allowLocal = allow; }
    /** Starts the test; false (and finished() at once) when it cannot even start. */
    bool start(const QString& name);
    bool isRunning() const { return m_watcher.isRunning(); }

signals:
    /**
     * `status`: ok | needs_reconnect | error, or "" when no test was made (no test operation,
     * nothing recorded). `text` is the sentence to show.
     */
    void finished(const QString& name, bool ok, const QString& status, const QString& text);

private:
    struct Outcome;
    void done();

    UiServices m_services;
    bool m_allowLocal = false;
    QString m_name;
    QString m_provider;
    QFutureWatcher<std::shared_ptr<Outcome>> m_watcher;
};

/**
 * `vivarium connections rm NAME` for the window: the revocation at the provider (network) on a
 * worker thread, then core's ConnectionTokens::remove for the secrets and the record on the
 * GUI thread.
 */
class ConnectionRemoval : public QObject
{
    Q_OBJECT
public:
    explicit ConnectionRemoval(const UiServices& services, QObject* parent = nullptr);
    bool start(const QString& name);
    bool isRunning() const { return m_watcher.isRunning(); }

signals:
    /** `note`: what happened at the provider (revoked, or why not). */
    void finished(const QString& name, bool ok, const QString& text);

private:
    void revoked();

    UiServices m_services;
    QString m_name;
    QFutureWatcher<QString> m_watcher;
};

} // namespace vivarium
