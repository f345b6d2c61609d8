// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ModelEndpointDialog.h"

#include "vivarium/core/ModelEndpoints.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>

namespace vivarium {

namespace {

enum KeyMode { KeepKey, SetKey, DropKey };

/** Empty: unset; a non-number: nullopt with *ok false. */
std::optional<double> parsePrice(const QString& text, bool* ok)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return std::nullopt;
    bool good = false;
    double v = QLocale().toDouble(t, &good);
    if (!good)
        v = QLocale::c().toDouble(t, &good);
    if (!good) {
        *ok = false;
        return std::nullopt;
    }
    return v;
}

QString priceText(const std::optional<double>& v)
{
    return v ? QLocale().toString(*v, 'g', 12) : QString();
}

} // namespace

ModelEndpointDialog::ModelEndpointDialog(const UiServices& services,
                                         std::optional<ModelEndpointRecord> existing,
                                         QWidget* parent)
    : QDialog(parent)
    , m_services(services)
    , m_existing(std::move(existing))
{
    setObjectName(QStringLiteral("modelEndpointDialog"));
    setWindowTitle(m_existing ? tr("Edit model endpoint %1").arg(m_existing->name)
                              : tr("Add a model endpoint"));
    setMinimumWidth(520);

    m_name = new QLineEdit(this);
    m_name->setObjectName(QStringLiteral("endpointName"));
    m_name->setPlaceholderText(tr("e.g. local, openai, claude"));
    m_name->setToolTip(tr("What agents put in model.endpoint: lowercase letters, digits, - and _"));
    m_api = new QComboBox(this);
    m_api->setObjectName(QStringLiteral("endpointApi"));
    m_api->addItem(tr("OpenAI-compatible (OpenAI, Ollama, llama.cpp, vLLM, LM Studio, "
                      "OpenRouter)"),
                   QStringLiteral("openai"));
    m_api->addItem(tr("Anthropic Messages"), QStringLiteral("anthropic"));
    m_baseUrl = new QLineEdit(this);
    m_baseUrl->setObjectName(QStringLiteral("endpointBaseUrl"));
    m_keyMode = new QComboBox(this);
    m_keyMode->setObjectName(QStringLiteral("endpointKeyMode"));
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("endpointKey"));
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setPlaceholderText(tr("paste the API key"));
    m_priceIn = new QLineEdit(this);
    m_priceIn->setObjectName(QStringLiteral("endpointPriceInput"));
    m_priceIn->setPlaceholderText(tr("built-in price table"));
    m_priceOut = new QLineEdit(this);
    m_priceOut->setObjectName(QStringLiteral("endpointPriceOutput"));
    m_priceOut->setPlaceholderText(tr("built-in price table"));

    const bool hadKey = m_existing && !m_existing->secretKey.isEmpty();
    if (hadKey) {
        m_keyMode->addItem(tr("Keep the stored key"), KeepKey);
        m_keyMode->addItem(tr("Replace it with"), SetKey);
        m_keyMode->addItem(tr("Remove it (a local server needs none)"), DropKey);
    } else {
        m_keyMode->addItem(tr("No key (a local server)"), KeepKey);
        m_keyMode->addItem(tr("Store this key"), SetKey);
    }

    auto* keyNote =
        new QLabel(tr("The key goes to the secret store (%1). The store and the "
                      "runs never see it; the broker adds it to each model call.")
                       .arg(services.secretBackend.isEmpty() ? tr("not available in this window")
                                                             : services.secretBackend),
                   this);
    keyNote->setWordWrap(true);
    keyNote->setForegroundRole(QPalette::PlaceholderText);

    m_warnings = new QLabel(this);
    m_warnings->setObjectName(QStringLiteral("endpointWarnings"));
    m_warnings->setWordWrap(true);
    m_warnings->setStyleSheet(QStringLiteral("color: #8a5200;"));
    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("endpointError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    m_error->hide();

    auto* form = new QFormLayout;
    form->addRow(tr("&Name"), m_name);
    form->addRow(tr("&API"), m_api);
    form->addRow(tr("&Base URL"), m_baseUrl);
    form->addRow(QString(), m_warnings);
    form->addRow(tr("&Key"), m_keyMode);
    form->addRow(QString(), m_key);
    form->addRow(QString(), keyNote);
    form->addRow(tr("Input price (USD/MTok)"), m_priceIn);
    form->addRow(tr("Output price (USD/MTok)"), m_priceOut);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Save)->setObjectName(QStringLiteral("endpointSave"));
    connect(buttons, &QDialogButtonBox::accepted, this, &ModelEndpointDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    if (m_existing) {
        m_name->setText(m_existing->name);
        m_name->setReadOnly(true);
        m_api->setCurrentIndex(std::max(0, m_api->findData(m_existing->api)));
        m_baseUrl->setText(m_existing->baseUrl);
        m_priceIn->setText(priceText(m_existing->inputPricePerMTok));
        m_priceOut->setText(priceText(m_existing->outputPricePerMTok));
    }
    connect(m_api, &QComboBox::currentIndexChanged, this, &ModelEndpointDialog::updateForm);
    connect(m_baseUrl, &QLineEdit::textChanged, this, &ModelEndpointDialog::updateForm);
    connect(m_keyMode, &QComboBox::currentIndexChanged, this, &ModelEndpointDialog::updateForm);
    updateForm();
}

void ModelEndpointDialog::updateForm()
{
    const bool anthropic = m_api->currentData().toString() == QLatin1String("anthropic");
    m_baseUrl->setPlaceholderText(anthropic ? QStringLiteral("https://api.anthropic.com")
                                            : QStringLiteral("http://127.0.0.1:11434/v1"));
    m_key->setEnabled(m_keyMode->currentData().toInt() == SetKey);
    const QString url = m_baseUrl->text().trimmed();
    const QStringList warnings =
        url.isEmpty() ? QStringList()
                      : ModelEndpoints::warnings(m_api->currentData().toString(), url);
    m_warnings->setText(warnings.join(QLatin1Char('\n')));
    m_warnings->setVisible(!warnings.isEmpty());
}

void ModelEndpointDialog::accept()
{
    ModelEndpointChange change;
    change.name = m_name->text().trimmed();
    change.api = m_api->currentData().toString();
    change.baseUrl = m_baseUrl->text().trimmed();
    bool pricesOk = true;
    change.inputPricePerMTok = parsePrice(m_priceIn->text(), &pricesOk);
    change.outputPricePerMTok = parsePrice(m_priceOut->text(), &pricesOk);
    switch (m_keyMode->currentData().toInt()) {
    case SetKey:
        change.key = ModelEndpointChange::Key::Set;
        change.newKey = m_key->text().trimmed().toUtf8();
        break;
    case DropKey:
        change.key = ModelEndpointChange::Key::Drop;
        break;
    default:
        change.key = ModelEndpointChange::Key::Keep;
    }
    auto showError = [this](const QString& text) {
        m_error->setText(text);
        m_error->show();
    };
    if (!pricesOk) {
        showError(tr("prices must be non-negative numbers"));
        return;
    }
    if (!m_existing) {
        if (auto taken = m_services.store->modelEndpoint(change.name); taken) {
            showError(
                tr("an endpoint named \"%1\" exists already; edit it instead").arg(change.name));
            return;
        }
    }
    SecretStore* secrets = m_services.secrets;
    auto result = ModelEndpoints::save(
        *m_services.store,
        [secrets]() -> Result<SecretStore*> {
            if (!secrets)
                return fail(Error::Code::Unsupported, QStringLiteral("no secret store is "
                                                                     "open in this window"));
            return secrets;
        },
        std::move(change));
    if (!result) {
        showError(result.error().message);
        return;
    }
    // The key is in the secret store now: do not keep it in a widget either.
    m_key->clear();
    emit saved(result->record.name, result->keyNote);
    QDialog::accept();
}

} // namespace vivarium
