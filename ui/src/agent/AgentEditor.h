// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "AgentValidation.h"

#include "vivarium/core/ProviderManifest.h"
#include "vivarium/ui/UiServices.h"

#include <QHash>
#include <QJsonObject>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTimer;

namespace vivarium {

class GrantsEditor;
class ScheduleLedger;
class SchedulesTable;
class VersionsPanel;

/**
 * Create and edit an agent. Every field is validated as you type by the same code as
 * `vivarium agent add` (AgentLoader, then the schedule rules): each problem appears under its
 * field with the CLI's words and in the problems list (click to go there). Save writes a new
 * version (Store::saveAgent); the Versions tab compares and restores versions.
 */
class AgentEditor : public QWidget
{
    Q_OBJECT
public:
    explicit AgentEditor(const UiServices& services, QWidget* parent = nullptr);

    /** An empty form with the defaults of a new agent (the first model endpoint, bwrap). */
    void newAgent();
    /** The agent's current version. False (and a message) if it cannot be read. */
    bool loadAgent(const QString& agentId);

    /** The id of the agent as saved; empty while a new agent was never saved. */
    QString savedAgentId() const { return m_savedId; }
    bool isDirty() const { return m_dirty; }
    /** The form as an agent document (what the loader sees). */
    QJsonObject document() const;
    /** The last validation (run on every change, after a short pause). */
    const AgentValidation& validation() const { return m_validation; }
    /**
     * Before leaving the editor: with unsaved changes, ask to save, discard or stay.
     * True when it is fine to leave.
     */
    bool confirmLeave();

public slots:
    /** Validate now, then save a new version; false (problems shown) when it cannot. */
    bool save();
    /** Validate the form now and show the problems. */
    void validateNow();
    /** Select the tab and focus the field a JSON pointer names. */
    void focusPointer(const QString& pointer);

signals:
    void closeRequested();
    void saved(const QString& agentId, int version, bool created);
    void runRequested(const QString& agentId);
    void exportRequested(const QString& agentId);
    void message(const QString& text);

private:
    enum Tab { General, ModelTab, Tools, Limits, Output, Schedules, Versions };
    struct Field
    {
        QWidget* input = nullptr;
        QLabel* error = nullptr;
        int tab = General;
    };

    QWidget* buildGeneral();
    QWidget* buildModel();
    QWidget* buildTools();
    QWidget* buildLimits();
    QWidget* buildOutput();
    QLabel* addError(QWidget* input, const QString& pointer, int tab);
    void fill(const AgentDefinition& def);
    void markDirty();
    void showProblems();
    void updateHeader();
    void updatePromptCount();
    void reloadEndpoints();
    int tabOfPointer(const QString& pointer) const;
    void openScheduleEditor(int row);

    UiServices m_services;
    ProviderCatalog m_catalog;
    QString m_savedId;
    int m_savedVersion = 0;
    bool m_dirty = false;
    bool m_loading = false;
    AgentValidation m_validation;
    QString m_schemaProblem; ///< the output schema is not JSON: the loader never sees it
    QHash<QString, Field> m_fields;

    QLabel* m_title = nullptr;
    QPushButton* m_save = nullptr;
    QPushButton* m_runNow = nullptr;
    QPushButton* m_export = nullptr;
    QTabWidget* m_tabs = nullptr;
    QLabel* m_rootError = nullptr;
    QLineEdit* m_id = nullptr;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_description = nullptr;
    QLineEdit* m_packageVersion = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    QLabel* m_promptCount = nullptr;
    QComboBox* m_endpoint = nullptr;
    QLabel* m_endpointHint = nullptr;
    QLineEdit* m_modelName = nullptr;
    QLineEdit* m_temperature = nullptr;
    QLineEdit* m_topP = nullptr;
    QLineEdit* m_modelMaxTokens = nullptr;
    QCheckBox* m_toolMemory = nullptr;
    QCheckBox* m_toolFiles = nullptr;
    QCheckBox* m_toolShell = nullptr;
    GrantsEditor* m_grants = nullptr;
    QSpinBox* m_maxSteps = nullptr;
    QSpinBox* m_timeout = nullptr;
    QLineEdit* m_maxTokens = nullptr;
    QLineEdit* m_maxCost = nullptr;
    QComboBox* m_tier = nullptr;
    QLabel* m_tierHelp = nullptr;
    QComboBox* m_minTier = nullptr;
    QComboBox* m_approval = nullptr;
    QPlainTextEdit* m_schema = nullptr;
    SchedulesTable* m_schedules = nullptr;
    ScheduleLedger* m_ledger = nullptr;
    VersionsPanel* m_versions = nullptr;
    QListWidget* m_problems = nullptr;
    QLabel* m_problemsSummary = nullptr;
    QTimer* m_validateDelay = nullptr;
};

} // namespace vivarium
