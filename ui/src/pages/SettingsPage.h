// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/sandbox/HostProbe.h"
#include "vivarium/ui/UiServices.h"

#include <QFutureWatcher>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace vivarium {

/**
 * The Settings page: model endpoints (add, edit, remove; keys into the SecretStore as
 * `vivarium model add` does), the secret backend in use and why, the sandbox tiers this host
 * supports (the doctor's probe, off the GUI thread), the local HTTP API, the desktop app's own
 * settings (close to tray, autostart) and the data directory. Every value goes through
 * core's typed Settings, so the CLI's `vivarium settings` sees the same.
 */
class SettingsPage : public QWidget
{
    Q_OBJECT
public:
    explicit SettingsPage(const UiServices& services, QWidget* parent = nullptr);
    ~SettingsPage() override;

    /** Whether the sandbox probe has reported (tests wait for it). */
    bool probeDone() const { return m_probeDone; }

public slots:
    void refresh();
    void refreshEndpoints();
    /** Run the doctor's sandbox probe again (it starts a sandboxed /usr/bin/true per tier). */
    void probeSandbox();
    void addEndpoint();
    void editEndpoint();
    void removeEndpoint();

signals:
    /** A setting was stored (key as in `vivarium settings`). */
    void settingChanged(const QString& key);
    void endpointsChanged();
    void message(const QString& text);

private:
    struct Probe
    {
        QList<TierSupport> tiers;
        QList<HostFeature> features;
    };
    QWidget* buildEndpoints();
    QWidget* buildSecrets();
    QWidget* buildSandbox();
    QWidget* buildEngine();
    QWidget* buildDesktop();
    void setBool(const QString& key, bool value);
    void saveListen();
    void showProbe(const Probe& probe);
    void updateApiStatus();

    UiServices m_services;
    QTreeWidget* m_endpoints = nullptr;
    QPushButton* m_editEndpoint = nullptr;
    QPushButton* m_removeEndpoint = nullptr;
    QTreeWidget* m_tiers = nullptr;
    QLabel* m_probeState = nullptr;
    QPushButton* m_probeAgain = nullptr;
    QCheckBox* m_apiEnabled = nullptr;
    QLineEdit* m_apiListen = nullptr;
    QLabel* m_apiError = nullptr;
    QLabel* m_apiStatus = nullptr;
    QSpinBox* m_maxConcurrent = nullptr;
    QCheckBox* m_closeToTray = nullptr;
    QCheckBox* m_autostart = nullptr;
    QLabel* m_autostartNote = nullptr;
    QFutureWatcher<Probe> m_probe;
    bool m_probeDone = false;
    bool m_loading = false;
};

} // namespace vivarium
