// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentEditor.h"

#include "Format.h"
#include "GrantsEditor.h"
#include "Icons.h"
#include "SchedulesTable.h"
#include "VersionsPanel.h"

#include "vivarium/core/MachineReferences.h"
#include "vivarium/core/Store.h"
#include "vivarium/ui/Dialogs.h"
#include "vivarium/ui/ScheduleEditor.h"
#include "vivarium/ui/ScheduleLedger.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace vivarium {

namespace {

const QStringList Tiers = {QStringLiteral("none"), QStringLiteral("landlock"),
                           QStringLiteral("bwrap"), QStringLiteral("container")};

/** A number as typed: a JSON number when it reads as one, else the text (the loader says why). */
QJsonValue numberJson(const QString& text)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return QJsonValue(QJsonValue::Undefined);
    bool ok = false;
    const double d = QLocale::c().toDouble(t, &ok);
    if (ok)
        return d;
    const double local = QLocale().toDouble(t, &ok);
    return ok ? QJsonValue(local) : QJsonValue(t);
}

QString numberText(const std::optional<double>& v)
{
    return v ? QLocale::c().toString(*v, 'g', 15) : QString();
}

template <typename T> QString intText(const std::optional<T>& v)
{
    return v ? QString::number(*v) : QString();
}

QLabel* hint(const QString& text, QWidget* parent)
{
    auto* l = new QLabel(text, parent);
    l->setWordWrap(true);
    l->setForegroundRole(QPalette::PlaceholderText);
    return l;
}

QWidget* scrolled(QWidget* page)
{
    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(page);
    return scroll;
}

} // namespace

AgentEditor::AgentEditor(const UiServices& services, QWidget* parent)
    : QWidget(parent)
    , m_services(services)
    , m_catalog(ProviderCatalog::load(ProviderCatalog::userDirectory(services.dataDir)))
{
    setObjectName(QStringLiteral("agentEditor"));

    // Header: back, title, actions.
    auto* back = new QPushButton(icons::get(QStringLiteral("back")), tr("Agents"), this);
    back->setObjectName(QStringLiteral("agentEditorBack"));
    back->setToolTip(tr("Back to the list of agents (Esc)"));
    back->setFlat(true);
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("agentEditorTitle"));
    QFont tf = m_title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.25);
    tf.setBold(true);
    m_title->setFont(tf);
    m_runNow = new QPushButton(icons::get(QStringLiteral("run")), tr("Run now"), this);
    m_runNow->setObjectName(QStringLiteral("agentEditorRunNow"));
    m_export = new QPushButton(icons::get(QStringLiteral("export")), tr("Export…"), this);
    m_export->setObjectName(QStringLiteral("agentEditorExport"));
    m_save = new QPushButton(icons::get(QStringLiteral("save")), tr("&Save"), this);
    m_save->setObjectName(QStringLiteral("agentEditorSave"));
    m_save->setToolTip(tr("Save a new version (Ctrl+S)"));
    m_save->setDefault(true);
    auto* header = new QHBoxLayout;
    header->addWidget(back);
    header->addWidget(m_title, 1);
    header->addWidget(m_runNow);
    header->addWidget(m_export);
    header->addWidget(m_save);

    m_rootError = new QLabel(this);
    m_rootError->setObjectName(QStringLiteral("agentRootError"));
    m_rootError->setWordWrap(true);
    m_rootError->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    m_rootError->hide();

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("agentEditorTabs"));
    m_tabs->addTab(scrolled(buildGeneral()), tr("General"));
    m_tabs->addTab(scrolled(buildModel()), tr("Model"));
    m_tabs->addTab(buildTools(), tr("Tools && providers"));
    m_tabs->addTab(scrolled(buildLimits()), tr("Limits && sandbox"));
    m_tabs->addTab(buildOutput(), tr("Output"));
    m_schedules = new SchedulesTable(this);
    // The schedules above, what they did not fire below: the missed/skipped ledger.
    m_ledger = new ScheduleLedger(m_services.store, this);
    m_ledger->setObjectName(QStringLiteral("agentScheduleLedger"));
    auto* ledgerBox = new QGroupBox(tr("Missed and skipped fires"), this);
    auto* ledgerLayout = new QVBoxLayout(ledgerBox);
    ledgerLayout->addWidget(m_ledger);
    auto* schedulesSplit = new QSplitter(Qt::Vertical, this);
    schedulesSplit->setObjectName(QStringLiteral("agentSchedulesSplit"));
    schedulesSplit->addWidget(m_schedules);
    schedulesSplit->addWidget(ledgerBox);
    schedulesSplit->setStretchFactor(0, 3);
    schedulesSplit->setStretchFactor(1, 2);
    m_tabs->addTab(schedulesSplit, tr("Schedules"));
    m_versions = new VersionsPanel(services.store, this);
    m_tabs->addTab(m_versions, tr("Versions"));

    m_problemsSummary = new QLabel(this);
    m_problemsSummary->setObjectName(QStringLiteral("agentProblemsSummary"));
    m_problems = new QListWidget(this);
    m_problems->setObjectName(QStringLiteral("agentProblems"));
    m_problems->setMaximumHeight(110);
    m_problems->setWordWrap(true);
    m_problems->setToolTip(tr("Enter or double click: go to the field"));

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_rootError);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_problemsSummary);
    layout->addWidget(m_problems);

    m_validateDelay = new QTimer(this);
    m_validateDelay->setSingleShot(true);
    m_validateDelay->setInterval(250);
    connect(m_validateDelay, &QTimer::timeout, this, &AgentEditor::validateNow);

    connect(back, &QPushButton::clicked, this, &AgentEditor::closeRequested);
    connect(m_save, &QPushButton::clicked, this, &AgentEditor::save);
    connect(m_runNow, &QPushButton::clicked, this, [this] { emit runRequested(m_savedId); });
    connect(m_export, &QPushButton::clicked, this, [this] { emit exportRequested(m_savedId); });
    connect(m_problems, &QListWidget::itemActivated, this,
            [this](QListWidgetItem* item) { focusPointer(item->data(Qt::UserRole).toString()); });
    connect(m_problems, &QListWidget::itemClicked, this,
            [this](QListWidgetItem* item) { focusPointer(item->data(Qt::UserRole).toString()); });
    connect(m_grants, &GrantsEditor::changed, this, &AgentEditor::markDirty);
    connect(m_schedules, &SchedulesTable::changed, this, &AgentEditor::markDirty);
    connect(m_schedules, &SchedulesTable::openEditorRequested, this,
            &AgentEditor::openScheduleEditor);
    connect(m_versions, &VersionsPanel::restored, this, [this](int from, int to) {
        if (to != m_savedVersion) {
            loadAgent(m_savedId);
            m_tabs->setCurrentIndex(Versions);
            emit message(
                tr("Restored version %1 of %2 as version %3").arg(from).arg(m_savedId).arg(to));
            emit saved(m_savedId, to, true);
        }
    });
    auto* saveKey = new QShortcut(QKeySequence::Save, this);
    saveKey->setContext(Qt::WidgetWithChildrenShortcut);
    connect(saveKey, &QShortcut::activated, this, &AgentEditor::save);
    auto* escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    escape->setContext(Qt::WidgetWithChildrenShortcut);
    connect(escape, &QShortcut::activated, this, &AgentEditor::closeRequested);

    newAgent();
}

QLabel* AgentEditor::addError(QWidget* input, const QString& pointer, int tab)
{
    auto* l = new QLabel(input->parentWidget());
    l->setObjectName(input->objectName() + QStringLiteral("Error"));
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->hide();
    m_fields.insert(pointer, Field{input, l, tab});
    return l;
}

QWidget* AgentEditor::buildGeneral()
{
    auto* page = new QWidget;
    m_id = new QLineEdit(page);
    m_id->setObjectName(QStringLiteral("agentId"));
    m_id->setPlaceholderText(tr("e.g. inbox-triage"));
    m_id->setToolTip(tr("Lowercase letters, digits, - and _; fixed once saved. Runs, schedules "
                        "and the API name the agent by it."));
    m_name = new QLineEdit(page);
    m_name->setObjectName(QStringLiteral("agentName"));
    m_name->setPlaceholderText(tr("What people call it, e.g. Inbox triage"));
    m_description = new QLineEdit(page);
    m_description->setObjectName(QStringLiteral("agentDescription"));
    m_description->setPlaceholderText(tr("One line on what it does"));
    m_packageVersion = new QLineEdit(page);
    m_packageVersion->setObjectName(QStringLiteral("agentPackageVersion"));
    m_packageVersion->setPlaceholderText(tr("optional, e.g. 1.2.0 (informative)"));
    m_prompt = new QPlainTextEdit(page);
    m_prompt->setObjectName(QStringLiteral("agentPrompt"));
    m_prompt->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_prompt->setTabChangesFocus(true);
    m_prompt->setPlaceholderText(tr("What the agent should do, in plain words. It sees this "
                                    "first in every run, with its tools and its memory."));
    m_prompt->setMinimumHeight(220);
    m_promptCount = new QLabel(page);
    m_promptCount->setObjectName(QStringLiteral("agentPromptCount"));
    m_promptCount->setForegroundRole(QPalette::PlaceholderText);
    m_promptCount->setAlignment(Qt::AlignRight);

    auto* form = new QFormLayout(page);
    form->addRow(tr("&Id"), m_id);
    form->addRow(QString(), addError(m_id, QStringLiteral("/id"), General));
    form->addRow(tr("&Name"), m_name);
    form->addRow(QString(), addError(m_name, QStringLiteral("/name"), General));
    form->addRow(tr("&Description"), m_description);
    form->addRow(QString(), addError(m_description, QStringLiteral("/description"), General));
    form->addRow(tr("Package &version"), m_packageVersion);
    form->addRow(QString(), addError(m_packageVersion, QStringLiteral("/version"), General));
    form->addRow(tr("&Prompt"), m_prompt);
    form->addRow(QString(), m_promptCount);
    form->addRow(QString(), addError(m_prompt, QStringLiteral("/prompt"), General));

    for (QLineEdit* e : {m_id, m_name, m_description, m_packageVersion})
        connect(e, &QLineEdit::textChanged, this, &AgentEditor::markDirty);
    connect(m_prompt, &QPlainTextEdit::textChanged, this, [this] {
        updatePromptCount();
        markDirty();
    });
    return page;
}

QWidget* AgentEditor::buildModel()
{
    auto* page = new QWidget;
    m_endpoint = new QComboBox(page);
    m_endpoint->setObjectName(QStringLiteral("agentModelEndpoint"));
    m_endpoint->setEditable(true);
    m_endpoint->setInsertPolicy(QComboBox::NoInsert);
    m_endpointHint = hint(QString(), page);
    m_endpointHint->setObjectName(QStringLiteral("agentModelEndpointHint"));
    m_modelName = new QLineEdit(page);
    m_modelName->setObjectName(QStringLiteral("agentModelName"));
    m_modelName->setPlaceholderText(tr("as the endpoint knows it, e.g. gpt-4o-mini, llama3.1"));
    m_temperature = new QLineEdit(page);
    m_temperature->setObjectName(QStringLiteral("agentTemperature"));
    m_temperature->setPlaceholderText(tr("the model's default (0 to 2)"));
    m_topP = new QLineEdit(page);
    m_topP->setObjectName(QStringLiteral("agentTopP"));
    m_topP->setPlaceholderText(tr("the model's default (0 to 1)"));
    m_modelMaxTokens = new QLineEdit(page);
    m_modelMaxTokens->setObjectName(QStringLiteral("agentModelMaxTokens"));
    m_modelMaxTokens->setPlaceholderText(tr("the endpoint's default"));

    auto* form = new QFormLayout(page);
    form->addRow(tr("&Endpoint"), m_endpoint);
    form->addRow(QString(), m_endpointHint);
    form->addRow(QString(), addError(m_endpoint, QStringLiteral("/model/endpoint"), ModelTab));
    m_fields.insert(QStringLiteral("/model"), m_fields.value(QStringLiteral("/model/endpoint")));
    form->addRow(tr("&Model"), m_modelName);
    form->addRow(QString(), addError(m_modelName, QStringLiteral("/model/name"), ModelTab));
    form->addRow(tr("&Temperature"), m_temperature);
    form->addRow(QString(),
                 addError(m_temperature, QStringLiteral("/model/temperature"), ModelTab));
    form->addRow(tr("Top &p"), m_topP);
    form->addRow(QString(), addError(m_topP, QStringLiteral("/model/top_p"), ModelTab));
    form->addRow(tr("Max tokens per &call"), m_modelMaxTokens);
    form->addRow(QString(),
                 addError(m_modelMaxTokens, QStringLiteral("/model/max_tokens"), ModelTab));

    connect(m_endpoint, &QComboBox::currentTextChanged, this, &AgentEditor::markDirty);
    for (QLineEdit* e : {m_modelName, m_temperature, m_topP, m_modelMaxTokens})
        connect(e, &QLineEdit::textChanged, this, &AgentEditor::markDirty);
    return page;
}

QWidget* AgentEditor::buildTools()
{
    auto* page = new QWidget;
    auto* tools = new QGroupBox(tr("Tools inside the sandbox"), page);
    m_toolMemory = new QCheckBox(tr("&Memory: notes the agent keeps between its runs"), tools);
    m_toolMemory->setObjectName(QStringLiteral("agentToolMemory"));
    m_toolFiles =
        new QCheckBox(tr("&Files: read and write files in the run's own workspace"), tools);
    m_toolFiles->setObjectName(QStringLiteral("agentToolFiles"));
    m_toolShell = new QCheckBox(tr("&Shell: run commands inside the sandbox (no network)"), tools);
    m_toolShell->setObjectName(QStringLiteral("agentToolShell"));
    auto* toolsLayout = new QVBoxLayout(tools);
    toolsLayout->addWidget(m_toolMemory);
    toolsLayout->addWidget(m_toolFiles);
    toolsLayout->addWidget(m_toolShell);
    for (QCheckBox* c : {m_toolMemory, m_toolFiles, m_toolShell})
        connect(c, &QCheckBox::toggled, this, &AgentEditor::markDirty);

    QList<ConnectionRecord> connections;
    if (auto list = m_services.store->connections())
        connections = *list;
    auto* providers = new QGroupBox(tr("Providers it may call (through the broker)"), page);
    m_grants = new GrantsEditor(m_catalog, connections, providers);
    auto* providersLayout = new QVBoxLayout(providers);
    providersLayout->addWidget(
        hint(tr("Each call leaves the sandbox through the broker, which checks the authorized "
                "URIs before any DNS lookup and adds the connection's credential on the way "
                "out. The agent never sees a token."),
             providers));
    providersLayout->addWidget(m_grants, 1);

    auto* layout = new QVBoxLayout(page);
    layout->addWidget(tools);
    layout->addWidget(providers, 1);
    return page;
}

QWidget* AgentEditor::buildLimits()
{
    auto* page = new QWidget;
    m_maxSteps = new QSpinBox(page);
    m_maxSteps->setObjectName(QStringLiteral("agentMaxSteps"));
    m_maxSteps->setRange(1, 10000);
    m_maxSteps->setToolTip(tr("Model turns before the run ends with max_steps"));
    m_timeout = new QSpinBox(page);
    m_timeout->setObjectName(QStringLiteral("agentTimeout"));
    m_timeout->setRange(1, 604800);
    m_timeout->setSuffix(tr(" s"));
    m_timeout->setToolTip(tr("Wall clock, enforced from outside the sandbox"));
    m_maxTokens = new QLineEdit(page);
    m_maxTokens->setObjectName(QStringLiteral("agentMaxTokens"));
    m_maxTokens->setPlaceholderText(tr("no limit"));
    m_maxCost = new QLineEdit(page);
    m_maxCost->setObjectName(QStringLiteral("agentMaxCost"));
    m_maxCost->setPlaceholderText(tr("no limit (an unpriced model cannot be held to one)"));

    m_tier = new QComboBox(page);
    m_tier->setObjectName(QStringLiteral("agentSandboxTier"));
    m_minTier = new QComboBox(page);
    m_minTier->setObjectName(QStringLiteral("agentSandboxMinTier"));
    for (const QString& t : Tiers) {
        const QString label = t == QLatin1String("none") ? tr("none (UNSANDBOXED)") : t;
        m_tier->addItem(label, t);
        m_minTier->addItem(label, t);
    }
    m_tierHelp = new QLabel(page);
    m_tierHelp->setObjectName(QStringLiteral("agentSandboxTierHelp"));
    m_tierHelp->setWordWrap(true);
    m_approval = new QComboBox(page);
    m_approval->setObjectName(QStringLiteral("agentApproval"));
    m_approval->addItem(tr("never: the agent acts on its own"), QStringLiteral("never"));
    m_approval->addItem(tr("writes: a person approves every call that changes data"),
                        QStringLiteral("writes"));
    m_approval->addItem(tr("always: a person approves every provider call"),
                        QStringLiteral("always"));

    auto* form = new QFormLayout(page);
    form->addRow(tr("Max &steps"), m_maxSteps);
    form->addRow(QString(), addError(m_maxSteps, QStringLiteral("/limits/max_steps"), Limits));
    form->addRow(tr("&Timeout"), m_timeout);
    form->addRow(QString(), addError(m_timeout, QStringLiteral("/limits/timeout_s"), Limits));
    form->addRow(tr("Token &budget"), m_maxTokens);
    form->addRow(QString(), addError(m_maxTokens, QStringLiteral("/limits/max_tokens"), Limits));
    form->addRow(tr("Cost budget (&USD)"), m_maxCost);
    form->addRow(QString(), addError(m_maxCost, QStringLiteral("/limits/max_cost_usd"), Limits));
    form->addRow(tr("Sandbox &tier"), m_tier);
    form->addRow(QString(), m_tierHelp);
    form->addRow(QString(), addError(m_tier, QStringLiteral("/sandbox/tier"), Limits));
    form->addRow(tr("&Never below"), m_minTier);
    form->addRow(QString(),
                 hint(tr("If this computer cannot give the tier asked for, a run gets the "
                         "strongest tier that works, never one below this minimum (the run "
                         "fails instead)."),
                      page));
    form->addRow(QString(), addError(m_minTier, QStringLiteral("/sandbox/min_tier"), Limits));
    form->addRow(tr("&Approval"), m_approval);
    form->addRow(QString(), addError(m_approval, QStringLiteral("/approval/mode"), Limits));

    connect(m_maxSteps, &QSpinBox::valueChanged, this, &AgentEditor::markDirty);
    connect(m_timeout, &QSpinBox::valueChanged, this, &AgentEditor::markDirty);
    for (QLineEdit* e : {m_maxTokens, m_maxCost})
        connect(e, &QLineEdit::textChanged, this, &AgentEditor::markDirty);
    for (QComboBox* c : {m_tier, m_minTier, m_approval})
        connect(c, &QComboBox::currentIndexChanged, this, &AgentEditor::markDirty);
    connect(m_tier, &QComboBox::currentIndexChanged, this, [this] {
        const QString t = m_tier->currentData().toString();
        m_tierHelp->setText(Format::tierSentence(t));
        m_tierHelp->setStyleSheet(t == QLatin1String("none")
                                      ? QStringLiteral("color: #b01c1c; font-weight: bold;")
                                      : QString());
    });
    return page;
}

QWidget* AgentEditor::buildOutput()
{
    auto* page = new QWidget;
    m_schema = new QPlainTextEdit(page);
    m_schema->setObjectName(QStringLiteral("agentOutputSchema"));
    m_schema->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_schema->setTabChangesFocus(true);
    m_schema->setPlaceholderText(
        QStringLiteral("{\n  \"type\": \"object\",\n  \"properties\": {\n    \"summary\": "
                       "{\"type\": \"string\"}\n  },\n  \"required\": [\"summary\"]\n}"));
    auto* format = new QPushButton(tr("&Format JSON"), page);
    format->setObjectName(QStringLiteral("agentOutputSchemaFormat"));
    auto* row = new QHBoxLayout;
    row->addStretch();
    row->addWidget(format);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(hint(tr("Optional: a JSON Schema the final answer must match (one repair "
                              "turn is allowed). Empty: the agent answers in free text."),
                           page));
    layout->addWidget(m_schema, 1);
    layout->addWidget(addError(m_schema, QStringLiteral("/output_schema"), Output));
    layout->addLayout(row);
    connect(m_schema, &QPlainTextEdit::textChanged, this, &AgentEditor::markDirty);
    connect(format, &QPushButton::clicked, this, [this] {
        const QJsonDocument doc = QJsonDocument::fromJson(m_schema->toPlainText().toUtf8());
        if (!doc.isNull())
            m_schema->setPlainText(
                QString::fromUtf8(doc.toJson(QJsonDocument::Indented)).trimmed());
    });
    return page;
}

void AgentEditor::reloadEndpoints()
{
    const QString keep = m_endpoint->currentText();
    const QSignalBlocker block(m_endpoint);
    m_endpoint->clear();
    int n = 0;
    if (auto list = m_services.store->modelEndpoints()) {
        for (const ModelEndpointRecord& e : std::as_const(*list)) {
            m_endpoint->addItem(e.name);
            m_endpoint->setItemData(n++, QStringLiteral("%1 · %2").arg(e.api, e.baseUrl),
                                    Qt::ToolTipRole);
        }
    }
    m_endpoint->setEditText(keep);
    m_endpointHint->setText(n == 0 ? tr("No model endpoint yet: add one under Settings, or type "
                                        "the name of one you will add.")
                                   : tr("The endpoint profile (Settings > Model endpoints)."));
}

void AgentEditor::newAgent()
{
    m_savedId.clear();
    m_savedVersion = 0;
    AgentDefinition def;
    reloadEndpoints();
    if (m_endpoint->count() > 0)
        def.model.endpoint = m_endpoint->itemText(0);
    fill(def);
    m_id->setReadOnly(false);
    m_versions->setAgent(QString());
    m_ledger->showAgent(QString());
    m_tabs->setCurrentIndex(General);
    m_dirty = false;
    updateHeader();
    // A blank form is not wrong yet: show problems once the user has typed or saves.
    m_validation = AgentValidation{};
    m_schemaProblem.clear();
    showProblems();
}

bool AgentEditor::loadAgent(const QString& agentId)
{
    auto rec = m_services.store->agent(agentId);
    if (!rec) {
        Dialogs::warning(this, tr("Cannot open the agent"), rec.error().message);
        return false;
    }
    reloadEndpoints();
    m_savedId = rec->id;
    m_savedVersion = rec->version;
    fill(rec->definition);
    m_id->setReadOnly(true);
    m_versions->setAgent(rec->id);
    m_ledger->showAgent(rec->id);
    m_dirty = false;
    updateHeader();
    validateNow(); // warnings (a missing endpoint) show at once
    return true;
}

void AgentEditor::fill(const AgentDefinition& def)
{
    m_loading = true;
    m_id->setText(def.id);
    m_name->setText(def.name);
    m_description->setText(def.description);
    m_packageVersion->setText(def.version);
    m_prompt->setPlainText(def.prompt);
    m_endpoint->setEditText(def.model.endpoint);
    m_modelName->setText(def.model.name);
    m_temperature->setText(numberText(def.model.temperature));
    m_topP->setText(numberText(def.model.topP));
    m_modelMaxTokens->setText(intText(def.model.maxTokens));
    m_toolMemory->setChecked(def.tools.memory);
    m_toolFiles->setChecked(def.tools.files);
    m_toolShell->setChecked(def.tools.shell);
    m_grants->setGrants(def.providers);
    m_maxSteps->setValue(def.limits.maxSteps);
    m_timeout->setValue(def.limits.timeoutS);
    m_maxTokens->setText(intText(def.limits.maxTokens));
    m_maxCost->setText(numberText(def.limits.maxCostUsd));
    m_tier->setCurrentIndex(std::max(0, m_tier->findData(def.sandbox.tier)));
    m_minTier->setCurrentIndex(std::max(0, m_minTier->findData(def.sandbox.minTier)));
    m_approval->setCurrentIndex(std::max(0, m_approval->findData(def.approval.mode)));
    m_tierHelp->setText(Format::tierSentence(def.sandbox.tier));
    if (def.outputSchema.isUndefined() || def.outputSchema.isNull())
        m_schema->clear();
    else if (def.outputSchema.isObject())
        m_schema->setPlainText(
            QString::fromUtf8(
                QJsonDocument(def.outputSchema.toObject()).toJson(QJsonDocument::Indented))
                .trimmed());
    else
        m_schema->setPlainText(def.outputSchema.toBool() ? QStringLiteral("true")
                                                         : QStringLiteral("false"));
    m_schedules->setSchedules(def.schedules);
    updatePromptCount();
    m_loading = false;
}

QJsonObject AgentEditor::document() const
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), m_id->text().trimmed());
    o.insert(QStringLiteral("name"), m_name->text());
    if (!m_description->text().trimmed().isEmpty())
        o.insert(QStringLiteral("description"), m_description->text().trimmed());
    if (!m_packageVersion->text().trimmed().isEmpty())
        o.insert(QStringLiteral("version"), m_packageVersion->text().trimmed());
    o.insert(QStringLiteral("prompt"), m_prompt->toPlainText());

    QJsonObject model;
    model.insert(QStringLiteral("endpoint"), m_endpoint->currentText().trimmed());
    model.insert(QStringLiteral("name"), m_modelName->text().trimmed());
    auto optional = [](QJsonObject& target, const QString& key, const QString& text) {
        const QJsonValue v = numberJson(text);
        if (!v.isUndefined())
            target.insert(key, v);
    };
    optional(model, QStringLiteral("temperature"), m_temperature->text());
    optional(model, QStringLiteral("top_p"), m_topP->text());
    optional(model, QStringLiteral("max_tokens"), m_modelMaxTokens->text());
    o.insert(QStringLiteral("model"), model);

    o.insert(QStringLiteral("tools"),
             QJsonObject{{QStringLiteral("memory"), m_toolMemory->isChecked()},
                         {QStringLiteral("files"), m_toolFiles->isChecked()},
                         {QStringLiteral("shell"), m_toolShell->isChecked()}});
    if (m_grants->count() > 0)
        o.insert(QStringLiteral("providers"), m_grants->toJson());

    QJsonObject limits;
    limits.insert(QStringLiteral("max_steps"), m_maxSteps->value());
    limits.insert(QStringLiteral("timeout_s"), m_timeout->value());
    optional(limits, QStringLiteral("max_tokens"), m_maxTokens->text());
    optional(limits, QStringLiteral("max_cost_usd"), m_maxCost->text());
    o.insert(QStringLiteral("limits"), limits);

    const QString schema = m_schema->toPlainText().trimmed();
    if (!schema.isEmpty()) {
        // Wrapped so `true`/`false` (valid schemas) parse too.
        const QJsonDocument doc = QJsonDocument::fromJson("[" + schema.toUtf8() + "]");
        if (doc.isArray() && doc.array().size() == 1)
            o.insert(QStringLiteral("output_schema"), doc.array().at(0));
    }
    if (m_schedules->count() > 0)
        o.insert(QStringLiteral("schedules"), m_schedules->toJson());
    o.insert(QStringLiteral("sandbox"),
             QJsonObject{{QStringLiteral("tier"), m_tier->currentData().toString()},
                         {QStringLiteral("min_tier"), m_minTier->currentData().toString()}});
    o.insert(QStringLiteral("approval"),
             QJsonObject{{QStringLiteral("mode"), m_approval->currentData().toString()}});
    return o;
}

void AgentEditor::markDirty()
{
    if (m_loading)
        return;
    if (!m_dirty) {
        m_dirty = true;
        updateHeader();
    }
    m_validateDelay->start();
}

void AgentEditor::validateNow()
{
    m_validateDelay->stop();
    // The schema editor holds text: a JSON syntax error is ours to report, with its position.
    m_schemaProblem.clear();
    const QString schema = m_schema->toPlainText().trimmed();
    if (!schema.isEmpty()) {
        const QByteArray utf8 = schema.toUtf8();
        const QByteArray wrapped = QByteArray("[") + utf8 + QByteArray("]");
        QJsonParseError pe;
        QJsonDocument::fromJson(wrapped, &pe);
        if (pe.error != QJsonParseError::NoError) {
            // Offsets count the "[" added in front; positions are the user's.
            const qsizetype at = std::clamp<qsizetype>(pe.offset - 1, 0, utf8.size());
            const QString before = QString::fromUtf8(utf8.left(at));
            const int line = int(before.count(QLatin1Char('\n'))) + 1;
            const int column = int(before.size() - before.lastIndexOf(QLatin1Char('\n')));
            m_schemaProblem = tr("invalid JSON at line %1, column %2: %3")
                                  .arg(line)
                                  .arg(column)
                                  .arg(pe.errorString());
        }
    }
    m_validation = AgentValidation::validate(
        document(), machineReferences(*m_services.store, m_services.dataDir));
    if (!m_schemaProblem.isEmpty()) {
        m_validation.problems.prepend(
            FieldProblem{QStringLiteral("/output_schema"), m_schemaProblem, false});
        m_validation.definition.reset();
    }
    showProblems();
}

int AgentEditor::tabOfPointer(const QString& pointer) const
{
    if (pointer.startsWith(QLatin1String("/providers")) ||
        pointer.startsWith(QLatin1String("/tools")))
        return Tools;
    if (pointer.startsWith(QLatin1String("/schedules")))
        return Schedules;
    QString p = pointer;
    while (!p.isEmpty()) {
        if (auto it = m_fields.constFind(p); it != m_fields.cend())
            return it->tab;
        p = p.left(p.lastIndexOf(QLatin1Char('/')));
    }
    return General;
}

void AgentEditor::showProblems()
{
    // Inline: each field's own problems under it.
    QHash<QString, QStringList> perField;
    QHash<QString, bool> fieldHasError;
    QStringList root;
    QSet<int> tabsWithErrors;
    for (const FieldProblem& p : std::as_const(m_validation.problems)) {
        const QString text = p.warning ? tr("Warning: %1").arg(p.message) : p.message;
        if (!p.warning)
            tabsWithErrors.insert(tabOfPointer(p.pointer));
        QString key = p.pointer;
        while (!key.isEmpty() && !m_fields.contains(key))
            key = key.left(key.lastIndexOf(QLatin1Char('/')));
        if (key.isEmpty()) {
            if (!p.pointer.startsWith(QLatin1String("/providers")) &&
                !p.pointer.startsWith(QLatin1String("/schedules")))
                root << text;
            continue;
        }
        if (key == QLatin1String("/model"))
            key = QStringLiteral("/model/endpoint");
        perField[key] << (p.pointer == key
                              ? text
                              : p.pointer.mid(key.size() + 1) + QStringLiteral(": ") + text);
        fieldHasError[key] = fieldHasError.value(key) || !p.warning;
    }
    for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it) {
        if (it.key() == QLatin1String("/model"))
            continue;
        const QStringList texts = perField.value(it.key());
        it->error->setText(texts.join(QLatin1Char('\n')));
        it->error->setStyleSheet(fieldHasError.value(it.key()) ? QStringLiteral("color: #b01c1c;")
                                                               : QStringLiteral("color: #8a5200;"));
        it->error->setVisible(!texts.isEmpty());
        it->input->setProperty("invalid", fieldHasError.value(it.key()));
        it->input->setStyleSheet(fieldHasError.value(it.key())
                                     ? QStringLiteral("border: 1px solid #c62828;")
                                     : QString());
    }
    m_rootError->setText(root.join(QLatin1Char('\n')));
    m_rootError->setVisible(!root.isEmpty());
    m_grants->setProblems(m_validation.problems);
    m_schedules->setProblems(m_validation.problems);

    // The tabs with errors get a mark.
    static const QStringList names = {
        tr("General"),           tr("Model"),  tr("Tools && providers"),
        tr("Limits && sandbox"), tr("Output"), tr("Schedules"),
        tr("Versions")};
    for (int i = 0; i < m_tabs->count(); ++i) {
        m_tabs->setTabIcon(i, tabsWithErrors.contains(i) ? icons::get(QStringLiteral("error"))
                                                         : QIcon());
        m_tabs->setTabText(i, names.value(i));
    }

    // The list of everything, CLI wording.
    m_problems->clear();
    for (const FieldProblem& p : std::as_const(m_validation.problems)) {
        auto* item = new QListWidgetItem(
            icons::get(p.warning ? QStringLiteral("warning") : QStringLiteral("error")),
            p.toString(), m_problems);
        item->setData(Qt::UserRole, p.pointer);
    }
    const int errors = m_validation.errorCount();
    const int warnings = int(m_validation.problems.size()) - errors;
    m_problems->setVisible(!m_validation.problems.isEmpty());
    if (errors == 0 && warnings == 0)
        m_problemsSummary->setText(QString());
    else if (errors == 0)
        m_problemsSummary->setText(warnings == 1 ? tr("No problems; 1 warning.")
                                                 : tr("No problems; %1 warnings.").arg(warnings));
    else
        m_problemsSummary->setText(
            (errors == 1 ? tr("1 problem to fix before saving")
                         : tr("%1 problems to fix before saving").arg(errors)) +
            (warnings == 0
                 ? QStringLiteral(".")
                 : (warnings == 1 ? tr("; 1 warning.") : tr("; %1 warnings.").arg(warnings))));
    m_problemsSummary->setStyleSheet(errors > 0 ? QStringLiteral("color: #b01c1c;") : QString());
    m_problemsSummary->setVisible(!m_problemsSummary->text().isEmpty());
}

void AgentEditor::focusPointer(const QString& pointer)
{
    if (pointer.startsWith(QLatin1String("/providers"))) {
        m_tabs->setCurrentIndex(Tools);
        m_grants->focusPointer(pointer);
        return;
    }
    if (pointer.startsWith(QLatin1String("/schedules"))) {
        m_tabs->setCurrentIndex(Schedules);
        m_schedules->focusPointer(pointer);
        return;
    }
    QString key = pointer;
    while (!key.isEmpty() && !m_fields.contains(key))
        key = key.left(key.lastIndexOf(QLatin1Char('/')));
    if (key.isEmpty()) {
        m_tabs->setCurrentIndex(General);
        m_id->setFocus();
        return;
    }
    const Field f = m_fields.value(key);
    m_tabs->setCurrentIndex(f.tab);
    f.input->setFocus();
}

bool AgentEditor::save()
{
    validateNow();
    if (!m_validation.ok()) {
        const int errors = m_validation.errorCount();
        emit message(errors <= 1 ? tr("Not saved: 1 problem to fix first.")
                                 : tr("Not saved: %1 problems to fix first.").arg(errors));
        for (const FieldProblem& p : std::as_const(m_validation.problems)) {
            if (!p.warning) {
                focusPointer(p.pointer);
                break;
            }
        }
        return false;
    }
    const AgentDefinition& def = *m_validation.definition;
    if (m_savedId.isEmpty()) {
        // A new agent must not silently become a version of another one.
        if (auto summaries = m_services.store->agentSummaries()) {
            for (const AgentSummary& a : std::as_const(*summaries)) {
                if (a.id == def.id) {
                    m_validation.problems.prepend(FieldProblem{
                        QStringLiteral("/id"),
                        tr("an agent with id \"%1\" exists already; open it from the list to "
                           "change it, or choose another id")
                            .arg(def.id),
                        false});
                    m_validation.definition.reset();
                    showProblems();
                    focusPointer(QStringLiteral("/id"));
                    return false;
                }
            }
        }
    }
    auto result = m_services.store->saveAgent(def, QStringLiteral("desktop app"));
    if (!result) {
        Dialogs::warning(this, tr("Cannot save the agent"), result.error().message,
                         result.error().details.join(QLatin1Char('\n')));
        return false;
    }
    m_savedId = def.id;
    m_savedVersion = result->version;
    m_id->setReadOnly(true);
    m_dirty = false;
    m_versions->setAgent(m_savedId);
    m_ledger->showAgent(m_savedId);
    updateHeader();
    emit message(
        !result->created
            ? tr("No changes: %1 stays at version %2").arg(def.id).arg(result->version)
            : (result->newAgent ? tr("Added agent %1 (version %2)") : tr("Saved %1 as version %2"))
                  .arg(def.id)
                  .arg(result->version));
    emit saved(def.id, result->version, result->created);
    return true;
}

bool AgentEditor::confirmLeave()
{
    if (!m_dirty)
        return true;
    const auto answer = Dialogs::question(
        this, tr("Unsaved changes"),
        m_savedId.isEmpty() ? tr("Save the new agent before leaving the editor?")
                            : tr("Save your changes to %1 as a new version?").arg(m_savedId),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer == QMessageBox::Save)
        return save();
    if (answer == QMessageBox::Discard) {
        m_dirty = false;
        return true;
    }
    return false;
}

void AgentEditor::updateHeader()
{
    QString title = m_savedId.isEmpty()
                        ? tr("New agent")
                        : tr("%1 — version %2")
                              .arg(m_name->text().isEmpty() ? m_savedId : m_name->text())
                              .arg(m_savedVersion);
    if (m_dirty)
        title += tr(" (unsaved changes)");
    m_title->setText(title);
    const bool stored = !m_savedId.isEmpty();
    m_runNow->setEnabled(stored && !m_dirty && m_services.supervisor);
    m_runNow->setToolTip(!stored ? tr("Save the agent first")
                                 : (m_dirty ? tr("Save your changes first: runs use the saved "
                                                 "version")
                                            : tr("Start a run of the saved version")));
    m_export->setEnabled(stored);
    m_schedules->setEditorAvailable(stored && !m_dirty);
    m_tabs->setTabEnabled(Versions, stored);
}

void AgentEditor::updatePromptCount()
{
    const QString text = m_prompt->toPlainText();
    const int lines = text.isEmpty() ? 0 : int(text.count(QLatin1Char('\n'))) + 1;
    const int chars = int(text.size());
    m_promptCount->setText((chars == 1 ? tr("1 character") : tr("%1 characters").arg(chars)) +
                           QStringLiteral(" · ") +
                           (lines == 1 ? tr("1 line") : tr("%1 lines").arg(lines)));
}

void AgentEditor::openScheduleEditor(int row)
{
    if (m_savedId.isEmpty() || m_dirty)
        return;
    // An agent's own schedules are stored as "<agent>#<n>" (n from 1), in definition order.
    auto schedule = m_services.store->schedule(QStringLiteral("%1#%2").arg(m_savedId).arg(row + 1));
    if (!schedule) {
        Dialogs::warning(this, tr("Cannot open the schedule"), schedule.error().message);
        return;
    }
    QDialog dialog(this);
    dialog.setObjectName(QStringLiteral("scheduleEditorDialog"));
    dialog.setWindowTitle(tr("Schedule %1 of %2").arg(row + 1).arg(m_savedId));
    auto* editor = new ScheduleEditor(m_services.store, &dialog);
    editor->setSchedule(*schedule);
    auto* layout = new QVBoxLayout(&dialog);
    layout->addWidget(editor);
    connect(editor, &ScheduleEditor::saved, &dialog, &QDialog::accept);
    connect(editor, &ScheduleEditor::cancelled, &dialog, &QDialog::reject);
    dialog.resize(720, 560);
    if (dialog.exec() != QDialog::Accepted)
        return;
    // The schedule editor saved a new version of the agent: show it.
    const QString id = m_savedId;
    loadAgent(id);
    m_tabs->setCurrentIndex(Schedules);
    emit saved(id, m_savedVersion, true);
}

} // namespace vivarium
