// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SettingsPage.h"

#include "ApiKeysPanel.h"

#include "Autostart.h"
#include "Format.h"
#include "Icons.h"
#include "ModelEndpointDialog.h"
#include "UiLogging.h"

#include "vivarium/core/ModelEndpoints.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"
#include "vivarium/sandbox/SandboxTier.h"
#include "vivarium/ui/Dialogs.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDesktopServices>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace vivarium {

namespace {

QLabel* note(const QString& text, QWidget* parent)
{
    auto* l = new QLabel(text, parent);
    l->setWordWrap(true);
    l->setForegroundRole(QPalette::PlaceholderText);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

QString priceWords(const ModelEndpointRecord& e)
{
    if (!e.inputPricePerMTok && !e.outputPricePerMTok)
        return QObject::tr("built-in table");
    auto one = [](const std::optional<double>& v) {
        return v ? QStringLiteral("$%1").arg(*v) : QObject::tr("table");
    };
    return QStringLiteral("%1 / %2").arg(one(e.inputPricePerMTok), one(e.outputPricePerMTok));
}

} // namespace

SettingsPage::SettingsPage(const UiServices& services, QWidget* parent)
    : QWidget(parent)
    , m_services(services)
{
    auto* title = new QLabel(tr("Settings"), this);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.35);
    tf.setBold(true);
    title->setFont(tf);

    auto* body = new QWidget(this);
    auto* bodyLayout = new QVBoxLayout(body);
    bodyLayout->addWidget(buildEndpoints());
    bodyLayout->addWidget(buildSecrets());
    bodyLayout->addWidget(buildSandbox());
    bodyLayout->addWidget(buildEngine());
    bodyLayout->addWidget(buildDesktop());
    bodyLayout->addStretch();

    auto* scroll = new QScrollArea(this);
    scroll->setObjectName(QStringLiteral("settingsScroll"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(body);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title);
    layout->addWidget(scroll, 1);

    connect(&m_probe, &QFutureWatcher<Probe>::finished, this,
            [this] { showProbe(m_probe.result()); });
    refresh();
    // An autostart entry follows the app when it moved (a new AppImage, another prefix).
    if (m_autostart->isChecked()) {
        QString exe = qEnvironmentVariable("APPIMAGE");
        if (exe.isEmpty())
            exe = QCoreApplication::applicationFilePath();
        if (auto ok = Autostart::apply(true, exe, m_services.dataDir); !ok)
            qCWarning(lcUi).noquote() << "autostart entry:" << ok.error().message;
    }
    probeSandbox();
}

SettingsPage::~SettingsPage()
{
    // The probe thread only runs processes and returns values: let it finish on its own.
    m_probe.disconnect(this);
}

QWidget* SettingsPage::buildEndpoints()
{
    auto* box = new QGroupBox(tr("Model endpoints"), this);
    m_endpoints = new QTreeWidget(box);
    m_endpoints->setObjectName(QStringLiteral("modelEndpointsList"));
    m_endpoints->setRootIsDecorated(false);
    m_endpoints->setUniformRowHeights(true);
    m_endpoints->setHeaderLabels(
        {tr("Name"), tr("API"), tr("Base URL"), tr("Key"), tr("Prices (USD/MTok in / out)")});
    m_endpoints->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_endpoints->header()->setStretchLastSection(false);
    m_endpoints->setMinimumHeight(120);
    auto* add = new QPushButton(icons::get(QStringLiteral("add")), tr("&Add…"), box);
    add->setObjectName(QStringLiteral("settingsAddEndpoint"));
    m_editEndpoint = new QPushButton(icons::get(QStringLiteral("edit")), tr("Edit…"), box);
    m_editEndpoint->setObjectName(QStringLiteral("settingsEditEndpoint"));
    m_removeEndpoint = new QPushButton(icons::get(QStringLiteral("remove")), tr("Remove"), box);
    m_removeEndpoint->setObjectName(QStringLiteral("settingsRemoveEndpoint"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(m_editEndpoint);
    buttons->addWidget(m_removeEndpoint);
    buttons->addStretch();
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(note(tr("Where agents send their model calls. OpenAI-compatible URLs "
                              "include /v1 (Ollama: http://127.0.0.1:11434/v1); Anthropic's do "
                              "not (https://api.anthropic.com)."),
                           box));
    layout->addWidget(m_endpoints);
    layout->addLayout(buttons);
    connect(add, &QPushButton::clicked, this, &SettingsPage::addEndpoint);
    connect(m_editEndpoint, &QPushButton::clicked, this, &SettingsPage::editEndpoint);
    connect(m_removeEndpoint, &QPushButton::clicked, this, &SettingsPage::removeEndpoint);
    connect(m_endpoints, &QTreeWidget::itemActivated, this, &SettingsPage::editEndpoint);
    connect(m_endpoints, &QTreeWidget::currentItemChanged, this, [this] {
        const bool has = m_endpoints->currentItem() != nullptr;
        m_editEndpoint->setEnabled(has);
        m_removeEndpoint->setEnabled(has);
    });
    return box;
}

QWidget* SettingsPage::buildSecrets()
{
    auto* box = new QGroupBox(tr("Secrets"), this);
    auto* label = new QLabel(box);
    label->setObjectName(QStringLiteral("settingsSecretBackend"));
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QString text;
    if (m_services.secretBackend.isEmpty())
        text = tr("No secret store is open in this window.");
    else if (m_services.secretBackend == QLatin1String("keychain"))
        text = tr("<b>OS keychain</b> (the desktop's secret service)");
    else
        text = tr("<b>Encrypted file vault</b> (libsodium, in the data directory)");
    if (!m_services.secretBackendReason.isEmpty())
        text += QStringLiteral("<br>") +
                tr("Why: %1").arg(m_services.secretBackendReason.toHtmlEscaped());
    const QString setting =
        Settings(*m_services.store).value(QStringLiteral("secrets.backend")).value_or(QString());
    text += QStringLiteral("<br>") +
            tr("Setting <code>secrets.backend</code> = %1 (change it with <code>vivarium settings "
               "set secrets.backend keychain|vault|auto</code>; moving secrets between backends is "
               "<code>vivarium vault</code>'s job).")
                .arg(setting.toHtmlEscaped());
    label->setText(text);
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(label);
    layout->addWidget(note(tr("API keys and tokens live only there: never in the store, a run, "
                              "an event or a log line."),
                           box));
    return box;
}

QWidget* SettingsPage::buildSandbox()
{
    auto* box = new QGroupBox(tr("Sandbox tiers on this computer"), this);
    m_probeState = new QLabel(box);
    m_probeState->setObjectName(QStringLiteral("settingsProbeState"));
    m_probeState->setWordWrap(true);
    m_tiers = new QTreeWidget(box);
    m_tiers->setObjectName(QStringLiteral("sandboxTiers"));
    m_tiers->setRootIsDecorated(false);
    m_tiers->setHeaderLabels({tr("Tier"), tr("Works here"), tr("Details")});
    m_tiers->header()->setStretchLastSection(true);
    m_tiers->header()->resizeSection(0, 130);
    m_tiers->header()->resizeSection(1, 90);
    m_tiers->setMinimumHeight(150);
    m_probeAgain = new QPushButton(icons::get(QStringLiteral("refresh")), tr("Check again"), box);
    m_probeAgain->setObjectName(QStringLiteral("settingsProbeAgain"));
    auto* row = new QHBoxLayout;
    row->addWidget(m_probeState, 1);
    row->addWidget(m_probeAgain);
    auto* layout = new QVBoxLayout(box);
    layout->addLayout(row);
    layout->addWidget(m_tiers);
    layout->addWidget(note(tr("Each tier was just tried for real, as `vivarium doctor` does. "
                              "An agent asks for a tier and a minimum; a run never gets less "
                              "than its minimum."),
                           box));
    connect(m_probeAgain, &QPushButton::clicked, this, &SettingsPage::probeSandbox);
    return box;
}

QWidget* SettingsPage::buildEngine()
{
    auto* box = new QGroupBox(tr("Engine and local API"), this);
    m_maxConcurrent = new QSpinBox(box);
    m_maxConcurrent->setObjectName(QStringLiteral("settingsMaxConcurrent"));
    m_maxConcurrent->setRange(1, 64);
    m_apiEnabled =
        new QCheckBox(tr("Serve the local HTTP API (for n8n, cron jobs and scripts)"), box);
    m_apiEnabled->setObjectName(QStringLiteral("settingsApiEnabled"));
    m_apiListen = new QLineEdit(box);
    m_apiListen->setObjectName(QStringLiteral("settingsApiListen"));
    m_apiListen->setPlaceholderText(QStringLiteral("127.0.0.1:8765"));
    m_apiError = new QLabel(box);
    m_apiError->setObjectName(QStringLiteral("settingsApiListenError"));
    m_apiError->setWordWrap(true);
    m_apiError->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    m_apiError->hide();
    m_apiStatus = new QLabel(box);
    m_apiStatus->setObjectName(QStringLiteral("settingsApiStatus"));
    m_apiStatus->setWordWrap(true);
    auto* dataDir =
        new QLabel(QStringLiteral("<code>%1</code>").arg(m_services.dataDir.toHtmlEscaped()), box);
    dataDir->setObjectName(QStringLiteral("settingsDataDir"));
    dataDir->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* open = new QPushButton(tr("Open folder"), box);
    open->setObjectName(QStringLiteral("settingsOpenDataDir"));
    auto* dirRow = new QHBoxLayout;
    dirRow->addWidget(dataDir, 1);
    dirRow->addWidget(open);

    auto* form = new QFormLayout(box);
    form->addRow(tr("Runs at once"), m_maxConcurrent);
    form->addRow(QString(),
                 note(tr("More wait in the queue. Applies when the app starts next."), box));
    form->addRow(QString(), m_apiEnabled);
    form->addRow(tr("API address"), m_apiListen);
    form->addRow(QString(), m_apiError);
    form->addRow(QString(), m_apiStatus);
    form->addRow(QString(), note(tr("Loopback only; every request needs an API key "
                                    "(created here or with <code>vivarium api-key create "
                                    "NAME</code>)."),
                                 box));
    auto* keys = new ApiKeysPanel(m_services.store, box);
    connect(keys, &ApiKeysPanel::message, this, &SettingsPage::message);
    form->addRow(tr("API keys"), keys);
    form->addRow(tr("Data directory"), dirRow);

    connect(m_maxConcurrent, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_loading)
            return;
        if (auto ok = Settings(*m_services.store)
                          .set(QStringLiteral("runs.max_concurrent"), QString::number(v));
            ok)
            emit settingChanged(QStringLiteral("runs.max_concurrent"));
    });
    connect(m_apiEnabled, &QCheckBox::toggled, this,
            [this](bool on) { setBool(QStringLiteral("api.enabled"), on); });
    connect(m_apiListen, &QLineEdit::editingFinished, this, &SettingsPage::saveListen);
    connect(open, &QPushButton::clicked, this,
            [this] { QDesktopServices::openUrl(QUrl::fromLocalFile(m_services.dataDir)); });
    return box;
}

QWidget* SettingsPage::buildDesktop()
{
    auto* box = new QGroupBox(tr("Desktop app"), this);
    m_closeToTray = new QCheckBox(tr("Closing the window keeps Vivarium running in the system "
                                     "tray (schedules keep firing)"),
                                  box);
    m_closeToTray->setObjectName(QStringLiteral("settingsCloseToTray"));
    m_autostart = new QCheckBox(tr("Start Vivarium in the tray when I log in"), box);
    m_autostart->setObjectName(QStringLiteral("settingsAutostart"));
    m_autostartNote = note(QString(), box);
    m_autostartNote->setObjectName(QStringLiteral("settingsAutostartNote"));
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(m_closeToTray);
    layout->addWidget(m_autostart);
    layout->addWidget(m_autostartNote);
    connect(m_closeToTray, &QCheckBox::toggled, this,
            [this](bool on) { setBool(QStringLiteral("gui.close_to_tray"), on); });
    connect(m_autostart, &QCheckBox::toggled, this, [this](bool on) {
        if (m_loading)
            return;
        setBool(QStringLiteral("gui.autostart"), on);
        QString exe = qEnvironmentVariable("APPIMAGE"); // the AppImage, not its mount point
        if (exe.isEmpty())
            exe = QCoreApplication::applicationFilePath();
        if (auto ok = Autostart::apply(on, exe, m_services.dataDir); !ok)
            Dialogs::warning(this, tr("Cannot change the autostart entry"), ok.error().message);
        m_autostartNote->setText(Autostart::isInstalled()
                                     ? tr("Autostart entry: %1").arg(Autostart::entryPath())
                                     : QString());
    });
    return box;
}

void SettingsPage::setBool(const QString& key, bool value)
{
    if (m_loading)
        return;
    if (auto ok = Settings(*m_services.store)
                      .set(key, value ? QStringLiteral("true") : QStringLiteral("false"));
        !ok) {
        Dialogs::warning(this, tr("Cannot save the setting"), ok.error().message);
        return;
    }
    emit settingChanged(key);
    updateApiStatus();
}

void SettingsPage::saveListen()
{
    const QString text = m_apiListen->text().trimmed();
    Settings settings(*m_services.store);
    if (text.isEmpty() || text == settings.apiListen()) {
        m_apiError->hide();
        return;
    }
    // The same check and message as `vivarium settings set api.listen ...`.
    if (auto ok = settings.set(QStringLiteral("api.listen"), text); !ok) {
        m_apiError->setText(ok.error().message);
        m_apiError->show();
        return;
    }
    m_apiError->hide();
    emit settingChanged(QStringLiteral("api.listen"));
    updateApiStatus();
}

void SettingsPage::updateApiStatus()
{
    const Settings settings(*m_services.store);
    if (m_services.apiStatus)
        m_apiStatus->setText(m_services.apiStatus());
    else
        m_apiStatus->setText(settings.apiEnabled()
                                 ? tr("On: the API is served at %1 when the engine starts.")
                                       .arg(settings.apiListen())
                                 : tr("Off."));
}

void SettingsPage::refresh()
{
    m_loading = true;
    const Settings settings(*m_services.store);
    m_maxConcurrent->setValue(settings.maxConcurrentRuns());
    m_apiEnabled->setChecked(settings.apiEnabled());
    m_apiListen->setText(settings.apiListen());
    m_closeToTray->setChecked(
        settings.value(QStringLiteral("gui.close_to_tray")).value_or(QStringLiteral("true")) ==
        QLatin1String("true"));
    m_autostart->setChecked(
        settings.value(QStringLiteral("gui.autostart")).value_or(QStringLiteral("false")) ==
        QLatin1String("true"));
    m_autostartNote->setText(Autostart::isInstalled()
                                 ? tr("Autostart entry: %1").arg(Autostart::entryPath())
                                 : QString());
    m_loading = false;
    updateApiStatus();
    refreshEndpoints();
}

void SettingsPage::refreshEndpoints()
{
    const QString keep =
        m_endpoints->currentItem() ? m_endpoints->currentItem()->text(0) : QString();
    m_endpoints->clear();
    auto list = m_services.store->modelEndpoints();
    if (list) {
        for (const ModelEndpointRecord& e : std::as_const(*list)) {
            auto* item = new QTreeWidgetItem(m_endpoints);
            item->setText(0, e.name);
            item->setText(1, e.api == QLatin1String("anthropic") ? QStringLiteral("Anthropic")
                                                                 : QStringLiteral("OpenAI"));
            item->setText(2, e.baseUrl);
            item->setText(3, e.secretKey.isEmpty() ? tr("none") : tr("in the secret store"));
            item->setText(4, priceWords(e));
            if (e.name == keep)
                m_endpoints->setCurrentItem(item);
        }
    }
    if (!m_endpoints->currentItem() && m_endpoints->topLevelItemCount() > 0)
        m_endpoints->setCurrentItem(m_endpoints->topLevelItem(0));
    const bool has = m_endpoints->currentItem() != nullptr;
    m_editEndpoint->setEnabled(has);
    m_removeEndpoint->setEnabled(has);
}

void SettingsPage::addEndpoint()
{
    auto* dialog = new ModelEndpointDialog(m_services, std::nullopt, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ModelEndpointDialog::saved, this,
            [this](const QString& name, const QString& note) {
                refreshEndpoints();
                emit endpointsChanged();
                emit message(tr("Added model endpoint %1 (%2)").arg(name, note));
            });
    dialog->open();
}

void SettingsPage::editEndpoint()
{
    if (!m_endpoints->currentItem())
        return;
    auto rec = m_services.store->modelEndpoint(m_endpoints->currentItem()->text(0));
    if (!rec)
        return;
    auto* dialog = new ModelEndpointDialog(m_services, *rec, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ModelEndpointDialog::saved, this,
            [this](const QString& name, const QString& note) {
                refreshEndpoints();
                emit endpointsChanged();
                emit message(tr("Updated model endpoint %1 (%2)").arg(name, note));
            });
    dialog->open();
}

void SettingsPage::removeEndpoint()
{
    if (!m_endpoints->currentItem())
        return;
    const QString name = m_endpoints->currentItem()->text(0);
    if (Dialogs::question(this, tr("Remove model endpoint"),
                          tr("Remove %1 and its stored key? Agents that use it fail until an "
                             "endpoint of that name exists again.")
                              .arg(name),
                          QMessageBox::Yes | QMessageBox::Cancel,
                          QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    SecretStore* secrets = m_services.secrets;
    auto users = ModelEndpoints::remove(
        *m_services.store,
        [secrets]() -> Result<SecretStore*> {
            if (!secrets)
                return fail(Error::Code::Unsupported, QStringLiteral("no secret store is "
                                                                     "open in this window"));
            return secrets;
        },
        name);
    if (!users) {
        Dialogs::warning(this, tr("Cannot remove the endpoint"), users.error().message);
        return;
    }
    refreshEndpoints();
    emit endpointsChanged();
    emit message(users->isEmpty()
                     ? tr("Removed model endpoint %1").arg(name)
                     : tr("Removed model endpoint %1; agents still using it fail until it is "
                          "added again: %2")
                           .arg(name, users->join(QStringLiteral(", "))));
}

void SettingsPage::probeSandbox()
{
    if (m_probe.isRunning())
        return;
    m_probeDone = false;
    m_probeAgain->setEnabled(false);
    m_probeState->setText(tr("Checking what this computer supports…"));
    m_probe.setFuture(QtConcurrent::run([] {
        Probe p;
        p.tiers = HostProbe::probeTiers();
        p.features = HostProbe::probe();
        return p;
    }));
}

void SettingsPage::showProbe(const Probe& probe)
{
    m_tiers->clear();
    int usable = 0;
    for (const TierSupport& t : probe.tiers) {
        auto* item = new QTreeWidgetItem(m_tiers);
        const QString name = sandboxTierName(t.tier);
        item->setText(0, name == QLatin1String("none") ? tr("none (UNSANDBOXED)") : name);
        item->setIcon(1, icons::get(t.available ? QStringLiteral("ok") : QStringLiteral("error")));
        item->setText(1, t.available ? tr("yes") : tr("no"));
        item->setText(2, t.detail);
        item->setToolTip(0, Format::tierSentence(name));
        item->setToolTip(2, t.detail);
        if (t.available && t.tier != SandboxTier::None)
            ++usable;
    }
    for (const HostFeature& f : probe.features) {
        auto* item = new QTreeWidgetItem(m_tiers);
        item->setText(0, f.name);
        item->setForeground(0, QColor(0x6b, 0x77, 0x85));
        item->setText(1, f.available ? tr("yes") : tr("no"));
        item->setText(2, f.detail);
        item->setToolTip(2, f.detail);
    }
    m_probeState->setText(usable > 0 ? tr("Runs can be sandboxed here.")
                                     : tr("<b>No sandbox tier works here</b>: only agents "
                                          "whose minimum tier is none (UNSANDBOXED) can run."));
    m_probeAgain->setEnabled(true);
    m_probeDone = true;
}

} // namespace vivarium
