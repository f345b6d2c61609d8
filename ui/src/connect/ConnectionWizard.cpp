// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The connection wizard: core's ConnectionSetup (the code `vivarium connect` runs) behind four
// pages. Secret values only pass through password fields into the SecretStore.
#include "connect/ConnectionWizard.h"

#include "Icons.h"
#include "UiLogging.h"
#include "connect/ConnectionCheck.h"

#include "vivarium/core/ConnectionSetup.h"
#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace vivarium {

namespace {

using Failure = OAuthSignIn::Failure;

QString authWords(ProviderAuth::Kind kind)
{
    switch (kind) {
    case ProviderAuth::Kind::OAuth2:
        return QObject::tr("OAuth 2 sign-in in your browser");
    case ProviderAuth::Kind::ApiKey:
        return QObject::tr("API key");
    case ProviderAuth::Kind::Basic:
        return QObject::tr("user name and password");
    case ProviderAuth::Kind::None:
        break;
    }
    return QObject::tr("no credential");
}

QLabel* wrapLabel(QWidget* parent, const QString& objectName)
{
    auto* l = new QLabel(parent);
    l->setObjectName(objectName);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    l->setOpenExternalLinks(true);
    return l;
}

void setError(QLabel* label, const QString& text)
{
    label->setText(text);
    label->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    label->setVisible(!text.isEmpty());
}

} // namespace

ConnectionWizard::ConnectionWizard(const UiServices& services, ConnectionWizardOptions options,
                                   QWidget* parent)
    : QDialog(parent)
    , m_services(services)
    , m_options(std::move(options))
{
    setObjectName(QStringLiteral("connectionWizard"));
    setWindowTitle(tr("Connect a provider"));
    resize(720, 560);

    m_heading = new QLabel(this);
    m_heading->setObjectName(QStringLiteral("wizardHeading"));
    QFont hf = m_heading->font();
    hf.setPointSizeF(hf.pointSizeF() * 1.25);
    hf.setBold(true);
    m_heading->setFont(hf);

    m_pages = new QStackedWidget(this);
    buildProviderPage();
    buildAccessPage();
    buildSignInPage();
    buildTestPage();

    m_back = new QPushButton(tr("< &Back"), this);
    m_back->setObjectName(QStringLiteral("wizardBack"));
    m_next = new QPushButton(tr("&Next >"), this);
    m_next->setObjectName(QStringLiteral("wizardNext"));
    m_next->setDefault(true);
    m_finish = new QPushButton(tr("&Finish"), this);
    m_finish->setObjectName(QStringLiteral("wizardFinish"));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("wizardCancel"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_back);
    buttons->addWidget(m_next);
    buttons->addWidget(m_finish);
    buttons->addWidget(m_cancel);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_heading);
    layout->addWidget(m_pages, 1);
    layout->addLayout(buttons);

    connect(m_back, &QPushButton::clicked, this, &ConnectionWizard::back);
    connect(m_next, &QPushButton::clicked, this, &ConnectionWizard::next);
    connect(m_finish, &QPushButton::clicked, this, &QDialog::accept);
    connect(m_cancel, &QPushButton::clicked, this, &ConnectionWizard::reject);

    m_check = new ConnectionCheck(m_services, this);
    m_check->setAllowLocal(m_options.allowLocalProvider);
    connect(m_check, &ConnectionCheck::finished, this,
            [this](const QString& name, bool ok, const QString& status, const QString& text) {
                m_testProgress->hide();
                m_testButton->setEnabled(true);
                if (ok)
                    m_testResult->setStyleSheet(QStringLiteral("color: #1b7a2e;"));
                else
                    m_testResult->setStyleSheet(QStringLiteral("color: #b01c1c;"));
                QString shown = ok ? tr("The connection works. %1").arg(text) : text;
                if (!ok && status.isEmpty())
                    shown = text;
                m_testResult->setText(shown);
                m_testResult->setProperty("ok", ok);
                if (!status.isEmpty())
                    emit connectionChanged(name);
                updateButtons();
            });

    fillProviders();
    if (!m_options.reconnect.isEmpty()) {
        auto record = m_services.store->connection(m_options.reconnect);
        if (record && chooseProvider(record->provider)) {
            m_reconnecting = true;
            m_name = record->name;
            for (const QString& f : connection_setup::fieldNames(m_manifest))
                if (record->meta.contains(f))
                    m_meta.insert(f, record->meta.value(f));
            setWindowTitle(tr("Reconnect %1").arg(m_name));
            goTo(SignInPage);
            return;
        }
        m_catalogProblems->setText(record
                                       ? tr("Provider %1 of connection %2 is not in the catalog.")
                                             .arg(record->provider, m_options.reconnect)
                                       : record.error().message);
        m_catalogProblems->show();
    }
    goTo(ProviderPage);
}

ConnectionWizard::~ConnectionWizard() = default;

ConnectionWizard::Page ConnectionWizard::currentPage() const
{
    return Page(m_pages->currentIndex());
}

// --- page 1: the provider ------------------------------------------------------------------

void ConnectionWizard::buildProviderPage()
{
    auto* page = new QWidget(m_pages);
    m_search = new QLineEdit(page);
    m_search->setObjectName(QStringLiteral("providerSearch"));
    m_search->setPlaceholderText(tr("Search providers (name, id, description)"));
    m_search->setClearButtonEnabled(true);
    m_providers = new QListWidget(page);
    m_providers->setObjectName(QStringLiteral("providerList"));
    m_providers->setAlternatingRowColors(true);
    m_catalogProblems = wrapLabel(page, QStringLiteral("catalogProblems"));
    m_catalogProblems->hide();
    auto* l = new QVBoxLayout(page);
    l->addWidget(m_search);
    l->addWidget(m_providers, 1);
    l->addWidget(m_catalogProblems);
    m_pages->addWidget(page);

    connect(m_search, &QLineEdit::textChanged, this, &ConnectionWizard::filterProviders);
    connect(m_providers, &QListWidget::currentItemChanged, this, [this] { updateButtons(); });
    connect(m_providers, &QListWidget::itemActivated, this, [this] { next(); });
}

void ConnectionWizard::fillProviders()
{
    m_catalog = ProviderCatalog::load(ProviderCatalog::userDirectory(m_services.dataDir));
    m_providers->clear();
    for (const ProviderManifest& m : m_catalog.manifests()) {
        auto* item = new QListWidgetItem(m_providers);
        item->setText(tr("%1 (%2)\n%3").arg(m.name, m.id, authWords(m.auth.kind)));
        item->setToolTip(m.description);
        item->setData(Qt::UserRole, m.id);
        item->setData(Qt::UserRole + 1,
                      QStringList{m.id, m.name, m.description}.join(QLatin1Char(' ')));
    }
    if (!m_catalog.problems().isEmpty()) {
        m_catalogProblems->setText(tr("Some of your provider manifests could not be read:\n%1")
                                       .arg(m_catalog.problems().join(QLatin1Char('\n'))));
        m_catalogProblems->show();
    }
}

void ConnectionWizard::filterProviders(const QString& text)
{
    QListWidgetItem* firstVisible = nullptr;
    for (int i = 0; i < m_providers->count(); ++i) {
        QListWidgetItem* item = m_providers->item(i);
        const bool match =
            item->data(Qt::UserRole + 1).toString().contains(text.trimmed(), Qt::CaseInsensitive);
        item->setHidden(!match);
        if (match && !firstVisible)
            firstVisible = item;
    }
    if (m_providers->currentItem() && m_providers->currentItem()->isHidden())
        m_providers->setCurrentItem(firstVisible);
    else if (!m_providers->currentItem())
        m_providers->setCurrentItem(firstVisible);
    updateButtons();
}

bool ConnectionWizard::chooseProvider(const QString& id)
{
    auto m = m_catalog.find(id);
    if (!m)
        return false;
    if (m_manifest.id != m->id) {
        m_meta = {};
        m_name.clear();
    }
    m_manifest = *m;
    return true;
}

// --- page 2: what access it grants, the name, the fields -----------------------------------

void ConnectionWizard::buildAccessPage()
{
    auto* page = new QWidget(m_pages);
    m_access = new QTextBrowser(page);
    m_access->setObjectName(QStringLiteral("accessDetails"));
    m_access->setOpenExternalLinks(true);

    m_nameEdit = new QLineEdit(page);
    m_nameEdit->setObjectName(QStringLiteral("connectionName"));
    m_nameEdit->setToolTip(tr("The name agents use for this account: lower-case letters, digits, "
                              "'-' and '_'"));
    m_nameError = wrapLabel(page, QStringLiteral("connectionNameError"));
    m_nameError->hide();
    m_fieldsBox = new QWidget(page);
    m_fieldsForm = new QFormLayout(m_fieldsBox);
    m_fieldsForm->setContentsMargins(0, 0, 0, 0);
    m_fieldsError = wrapLabel(page, QStringLiteral("connectionFieldsError"));
    m_fieldsError->hide();

    auto* form = new QFormLayout;
    form->addRow(tr("Connection &name:"), m_nameEdit);
    form->addRow(QString(), m_nameError);
    auto* l = new QVBoxLayout(page);
    l->addWidget(m_access, 1);
    l->addLayout(form);
    l->addWidget(m_fieldsBox);
    l->addWidget(m_fieldsError);
    m_pages->addWidget(page);
    connect(m_nameEdit, &QLineEdit::textEdited, this, [this] { m_nameError->hide(); });
}

void ConnectionWizard::showAccess()
{
    const ProviderManifest& m = m_manifest;
    QString html = QStringLiteral("<h3>%1</h3>").arg(m.name.toHtmlEscaped());
    if (!m.description.isEmpty())
        html += QStringLiteral("<p>%1</p>").arg(m.description.toHtmlEscaped());
    html += QStringLiteral("<p><b>%1</b> %2</p>")
                .arg(tr("Sign-in:"), authWords(m.auth.kind).toHtmlEscaped());
    if (m.auth.kind == ProviderAuth::Kind::OAuth2) {
        html += QStringLiteral("<p><b>%1</b></p><ul>")
                    .arg(tr("Vivarium asks for these permissions (scopes):"));
        for (const QString& scope : m.auth.oauth2.scopes) {
            QStringList usedBy;
            for (const ProviderOperation& op : m.operations)
                if (op.scopes.contains(scope))
                    usedBy << op.name;
            html += QStringLiteral("<li><code>%1</code>").arg(scope.toHtmlEscaped());
            if (!usedBy.isEmpty())
                html += QStringLiteral(" — ") +
                        tr("used by %1").arg(usedBy.join(QStringLiteral(", "))).toHtmlEscaped();
            html += QStringLiteral("</li>");
        }
        if (m.auth.oauth2.scopes.isEmpty())
            html += QStringLiteral("<li>%1</li>").arg(tr("none beyond signing in"));
        html += QStringLiteral("</ul>");
    }
    if (!m.operations.isEmpty()) {
        html += QStringLiteral("<p><b>%1</b></p><table cellspacing=\"0\" cellpadding=\"3\">")
                    .arg(tr("What agents granted this connection can do (operations):"));
        for (const ProviderOperation& op : m.operations) {
            html += QStringLiteral("<tr><td><code>%1</code></td><td>%2</td><td>%3</td></tr>")
                        .arg(op.name.toHtmlEscaped(),
                             op.writes ? QStringLiteral("<b style=\"color:#b01c1c\">%1</b>")
                                             .arg(tr("writes").toHtmlEscaped())
                                       : tr("reads").toHtmlEscaped(),
                             op.description.toHtmlEscaped());
        }
        html += QStringLiteral("</table>");
    } else {
        html += QStringLiteral("<p>%1</p>")
                    .arg(tr("No named operations: agents call the API with http_request, within "
                            "the authorized URLs.")
                             .toHtmlEscaped());
    }
    html += QStringLiteral("<p><b>%1</b></p><ul>")
                .arg(tr("URLs agents may reach by default (authorized URIs):"));
    for (const QString& uri : m.authorizedUris)
        html += QStringLiteral("<li><code>%1</code></li>").arg(uri.toHtmlEscaped());
    if (m.authorizedUris.isEmpty())
        html += QStringLiteral("<li>%1</li>").arg(tr("none (each agent lists its own)"));
    html += QStringLiteral("</ul>");
    html += QStringLiteral("<p>%1</p>")
                .arg(tr("The credential stays in the secret store; the sandbox never sees it.")
                         .toHtmlEscaped());
    if (!m.docsUrl.isEmpty())
        html += QStringLiteral("<p><a href=\"%1\">%2</a></p>")
                    .arg(m.docsUrl.toHtmlEscaped(), tr("The provider's API documentation"));
    m_access->setHtml(html);

    m_nameEdit->setText(m_name.isEmpty() ? m.id : m_name);
    m_nameEdit->setReadOnly(m_reconnecting);
    m_nameError->hide();
    m_fieldsError->hide();
    while (m_fieldsForm->rowCount() > 0)
        m_fieldsForm->removeRow(0);
    m_fieldEdits.clear();
    QHash<QString, QString> descriptions;
    QSet<QString> required;
    for (const ConnectionField& f : m.connectionFields) {
        descriptions.insert(f.name, f.description);
        if (f.required)
            required.insert(f.name);
    }
    for (const QString& f : connection_setup::fieldNames(m)) {
        auto* edit = new QLineEdit(m_fieldsBox);
        edit->setObjectName(QStringLiteral("field_") + f);
        edit->setProperty("field", f);
        edit->setProperty("required", required.contains(f));
        edit->setPlaceholderText(descriptions.value(f, tr("optional")));
        edit->setToolTip(descriptions.value(f));
        edit->setText(m_meta.value(f).toString());
        m_fieldsForm->addRow(required.contains(f) ? tr("%1 (required):").arg(f) : f + u':', edit);
        m_fieldEdits << edit;
    }
    m_fieldsBox->setVisible(!m_fieldEdits.isEmpty());
}

bool ConnectionWizard::acceptAccess()
{
    const QString name = m_nameEdit->text().trimmed();
    bool ok = true;
    if (auto s = connection_setup::checkName(name); !s) {
        setError(m_nameError, s.error().message);
        ok = false;
    } else if (auto existing = m_services.store->connection(name);
               existing && existing->provider != m_manifest.id) {
        setError(m_nameError, tr("connection \"%1\" already exists for provider %2; remove it "
                                 "first or choose another name")
                                  .arg(name, existing->provider));
        ok = false;
    } else if (existing && !m_reconnecting) {
        m_nameError->setStyleSheet(QString());
        m_nameError->setText(tr("Connection \"%1\" exists: signing in again replaces its "
                                "credential.")
                                 .arg(name));
        m_nameError->show();
    }
    QJsonObject meta;
    QStringList problems;
    for (QLineEdit* e : std::as_const(m_fieldEdits)) {
        const QString key = e->property("field").toString();
        const QString value = e->text().trimmed();
        if (!value.isEmpty())
            meta.insert(key, value);
        else if (e->property("required").toBool())
            problems << tr("%1 is required: %2").arg(key, e->toolTip());
    }
    if (const QString in = meta.value(QStringLiteral("api_key_in")).toString();
        meta.contains(QStringLiteral("api_key_in")) && in != QLatin1String("header") &&
        in != QLatin1String("query"))
        problems << tr("api_key_in: expected header or query, got %1").arg(in);
    if (problems.isEmpty() && !m_manifest.connectionFields.isEmpty()) {
        if (auto url = ProviderCatalog::resolveBaseUrl(m_manifest, meta); !url)
            problems << url.error().toString();
    }
    setError(m_fieldsError, problems.join(QLatin1Char('\n')));
    if (!ok || !problems.isEmpty())
        return false;
    m_name = name;
    m_meta = meta;
    return true;
}

// --- page 3: sign in -----------------------------------------------------------------------

void ConnectionWizard::buildSignInPage()
{
    auto* page = new QWidget(m_pages);

    m_oauthBox = new QGroupBox(tr("Sign in in your browser"), page);
    m_oauthApp = wrapLabel(m_oauthBox, QStringLiteral("oauthAppHint"));
    m_clientId = new QLineEdit(m_oauthBox);
    m_clientId->setObjectName(QStringLiteral("oauthClientId"));
    m_clientId->setPlaceholderText(tr("the client ID of your OAuth app"));
    m_clientSecret = new QLineEdit(m_oauthBox);
    m_clientSecret->setObjectName(QStringLiteral("oauthClientSecret"));
    m_clientSecret->setEchoMode(QLineEdit::Password);
    m_clientSecret->setPlaceholderText(tr("leave empty to keep the stored one (or for a public "
                                          "client)"));
    m_start = new QPushButton(icons::get(QStringLiteral("run")),
                              tr("&Open the browser and sign in"), m_oauthBox);
    m_start->setObjectName(QStringLiteral("oauthStart"));
    m_url = new QLineEdit(m_oauthBox);
    m_url->setObjectName(QStringLiteral("oauthUrl"));
    m_url->setReadOnly(true);
    m_url->setPlaceholderText(tr("the sign-in address appears here"));
    m_copyUrl = new QPushButton(tr("Copy"), m_oauthBox);
    m_copyUrl->setObjectName(QStringLiteral("oauthCopyUrl"));
    m_progress = new QProgressBar(m_oauthBox);
    m_progress->setObjectName(QStringLiteral("oauthProgress"));
    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_cancelSignIn =
        new QPushButton(icons::get(QStringLiteral("cancelled")), tr("&Stop waiting"), m_oauthBox);
    m_cancelSignIn->setObjectName(QStringLiteral("oauthCancel"));
    m_cancelSignIn->hide();
    auto* urlRow = new QHBoxLayout;
    urlRow->addWidget(m_url, 1);
    urlRow->addWidget(m_copyUrl);
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(m_start);
    runRow->addWidget(m_progress, 1);
    runRow->addWidget(m_cancelSignIn);
    auto* of = new QFormLayout;
    of->addRow(tr("Client &ID:"), m_clientId);
    of->addRow(tr("Client &secret:"), m_clientSecret);
    auto* ol = new QVBoxLayout(m_oauthBox);
    ol->addWidget(m_oauthApp);
    ol->addLayout(of);
    ol->addLayout(runRow);
    ol->addLayout(urlRow);

    m_keyBox = new QGroupBox(tr("Credential"), page);
    m_keyHint = wrapLabel(m_keyBox, QStringLiteral("keyHint"));
    m_apiKey = new QLineEdit(m_keyBox);
    m_apiKey->setObjectName(QStringLiteral("apiKey"));
    m_apiKey->setEchoMode(QLineEdit::Password);
    m_user = new QLineEdit(m_keyBox);
    m_user->setObjectName(QStringLiteral("basicUser"));
    m_password = new QLineEdit(m_keyBox);
    m_password->setObjectName(QStringLiteral("basicPassword"));
    m_password->setEchoMode(QLineEdit::Password);
    auto* kf = new QFormLayout;
    m_keyForm = kf;
    kf->addRow(tr("API &key:"), m_apiKey);
    kf->addRow(tr("&User name:"), m_user);
    kf->addRow(tr("&Password:"), m_password);
    m_keyError = wrapLabel(m_keyBox, QStringLiteral("keyError"));
    m_keyError->hide();
    auto* kl = new QVBoxLayout(m_keyBox);
    kl->addWidget(m_keyHint);
    kl->addLayout(kf);
    kl->addWidget(m_keyError);

    m_noneNote = wrapLabel(page, QStringLiteral("noCredentialNote"));
    m_noneNote->setText(tr("This provider needs no credential: Next saves the connection."));
    m_status = wrapLabel(page, QStringLiteral("signInStatus"));

    auto* l = new QVBoxLayout(page);
    l->addWidget(m_oauthBox);
    l->addWidget(m_keyBox);
    l->addWidget(m_noneNote);
    l->addWidget(m_status);
    l->addStretch();
    m_pages->addWidget(page);

    connect(m_start, &QPushButton::clicked, this, &ConnectionWizard::startSignIn);
    connect(m_cancelSignIn, &QPushButton::clicked, this, [this] {
        if (m_signIn)
            m_signIn->cancel();
        m_status->setText(tr("Stopping…"));
    });
    connect(m_copyUrl, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_url->text()); });
}

void ConnectionWizard::showSignIn()
{
    const ProviderManifest& m = m_manifest;
    const bool oauth = m.auth.kind == ProviderAuth::Kind::OAuth2;
    const bool key = m.auth.kind == ProviderAuth::Kind::ApiKey;
    const bool basic = m.auth.kind == ProviderAuth::Kind::Basic;
    m_oauthBox->setVisible(oauth);
    m_keyBox->setVisible(key || basic);
    m_noneNote->setVisible(m.auth.kind == ProviderAuth::Kind::None);
    m_apiKey->setVisible(key);
    m_user->setVisible(basic);
    m_password->setVisible(basic);
    m_keyForm->setRowVisible(m_apiKey, key);
    m_keyForm->setRowVisible(m_user, basic);
    m_keyForm->setRowVisible(m_password, basic);
    m_status->clear();
    m_status->setStyleSheet(QString());
    if (oauth) {
        const QString clientId =
            m_services.store ? Settings(*m_services.store).oauthClientId(m.id) : QString();
        m_clientId->setText(clientId);
        QString hint = clientId.isEmpty()
                           ? tr("Vivarium signs in with your own OAuth app. Register one")
                           : tr("Your OAuth app for %1 is set; change it here if needed. It is "
                                "registered")
                                 .arg(m.name);
        if (!m.auth.setupUrl.isEmpty())
            hint += QStringLiteral(" ") +
                    tr("at <a href=\"%1\">%1</a>").arg(m.auth.setupUrl.toHtmlEscaped());
        hint += QStringLiteral(" ") +
                tr("as a desktop app with the redirect URI <code>http://127.0.0.1/callback</code> "
                   "(any port). The client secret goes to the secret store.");
        m_oauthApp->setText(hint);
        m_url->clear();
        m_start->setText(tr("&Open the browser and sign in"));
    } else if (key || basic) {
        QString hint = key ? tr("Paste the API key for %1.").arg(m.name)
                           : tr("The user name and password for %1.").arg(m.name);
        if (!m.auth.setupUrl.isEmpty())
            hint += QStringLiteral(" ") +
                    tr("Get one at <a href=\"%1\">%1</a>.").arg(m.auth.setupUrl.toHtmlEscaped());
        hint += QStringLiteral(" ") + tr("It goes to the secret store, never to the database.");
        m_keyHint->setText(hint);
        m_keyError->hide();
    }
}

void ConnectionWizard::startSignIn()
{
    if (m_signIn && m_signIn->isRunning())
        return;
    m_status->setStyleSheet(QString());
    if (!m_services.secrets) {
        setError(m_status, tr("No secret store is open, so tokens cannot be stored."));
        return;
    }
    const QString clientId = m_clientId->text().trimmed();
    if (clientId.isEmpty()) {
        setError(m_status, tr("Enter the client ID of your OAuth app first."));
        m_clientId->setFocus();
        return;
    }
    // The same two settings `vivarium oauth-app set` writes.
    Settings settings(*m_services.store);
    if (clientId != settings.oauthClientId(m_manifest.id)) {
        if (auto s =
                settings.set(QStringLiteral("oauth.%1.client_id").arg(m_manifest.id), clientId);
            !s) {
            setError(m_status, s.error().message);
            return;
        }
    }
    if (!m_clientSecret->text().isEmpty()) {
        QByteArray secret = m_clientSecret->text().toUtf8();
        m_clientSecret->clear();
        Status s = m_services.secrets->write(ConnectionSecretKeys::oauthClientSecret(m_manifest.id),
                                             secret);
        secret.fill('\0');
        if (!s) {
            setError(m_status, s.error().message);
            return;
        }
    }

    delete m_signIn;
    m_signIn = new OAuthSignIn(*m_services.store, *m_services.secrets, m_services.dataDir, this);
    connect(m_signIn, &OAuthSignIn::authorizationUrlReady, this,
            [this](const QUrl& url) { signInUrl(url); });
    connect(m_signIn, &OAuthSignIn::progress, this, [this](int step) {
        if (OAuthSignIn::Step(step) == OAuthSignIn::Step::Saving)
            m_status->setText(tr("Signed in at the provider; saving the connection…"));
    });
    connect(m_signIn, &OAuthSignIn::finished, this, &ConnectionWizard::signInFinished);
    OAuthSignIn::Request request;
    request.manifest = m_manifest;
    request.record = connection_setup::newRecord(m_manifest, m_name, m_meta);
    request.timeoutS = m_options.timeoutS;
    m_start->setEnabled(false);
    m_clientId->setEnabled(false);
    m_clientSecret->setEnabled(false);
    m_status->setText(tr("Starting…"));
    if (!m_signIn->start(request))
        return; // finished() already said why
    m_progress->show();
    m_cancelSignIn->show();
    updateButtons();
}

void ConnectionWizard::signInUrl(const QUrl& url)
{
    m_url->setText(url.toString(QUrl::FullyEncoded));
    m_url->setCursorPosition(0);
    const bool opened =
        m_options.openBrowser ? m_options.openBrowser(url) : QDesktopServices::openUrl(url);
    m_status->setText(
        opened ? tr("Waiting for the browser… Sign in there and allow access; this window "
                    "continues by itself (up to %1).")
                     .arg(connection_setup::durationInWords(m_options.timeoutS))
               : tr("No browser could be opened: copy the address below into a browser on this "
                    "computer and sign in. Waiting…"));
}

void ConnectionWizard::signInFinished(bool ok, const QString& message, int failure)
{
    m_progress->hide();
    m_cancelSignIn->hide();
    m_start->setEnabled(true);
    m_clientId->setEnabled(true);
    m_clientSecret->setEnabled(true);
    m_status->setProperty("failure", failure);
    if (ok) {
        m_signedIn = true;
        m_saved = m_name;
        QString account;
        if (auto c = m_services.store->connection(m_name))
            account = c->account;
        m_status->setStyleSheet(QStringLiteral("color: #1b7a2e;"));
        m_status->setText(account.isEmpty()
                              ? tr("Connected: %1 is saved as connection \"%2\". Next tests it.")
                                    .arg(m_manifest.name, m_name)
                              : tr("Connected: signed in as %1; saved as connection \"%2\". Next "
                                   "tests it.")
                                    .arg(account, m_name));
        m_start->setText(tr("Sign in &again"));
        emit connectionChanged(m_name);
        updateButtons();
        return;
    }
    QString headline;
    switch (Failure(failure)) {
    case Failure::NoApp:
        headline = tr("No OAuth app is set for %1.").arg(m_manifest.name);
        break;
    case Failure::Denied:
        headline = tr("Access was denied in the browser. Nothing was stored; sign in again and "
                      "allow access to connect.");
        break;
    case Failure::Cancelled:
        headline = tr("Sign-in stopped. Nothing was stored.");
        break;
    case Failure::TimedOut:
        headline = tr("No answer came from the browser in time (was it closed?). Nothing was "
                      "stored; sign in again.");
        break;
    case Failure::BadRedirect:
        headline = tr("The browser's answer failed a security check, so it was not used. "
                      "Nothing was stored.");
        break;
    case Failure::Unreachable:
        headline = tr("%1's sign-in service could not be reached or failed. Nothing was stored.")
                       .arg(m_manifest.name);
        break;
    case Failure::Refused:
    case Failure::None:
        headline = tr("%1 refused the sign-in. Nothing was stored.").arg(m_manifest.name);
        break;
    }
    setError(m_status, Failure(failure) == Failure::Cancelled
                           ? headline
                           : headline + QLatin1Char('\n') + message);
    m_start->setText(tr("&Try again"));
    updateButtons();
}

bool ConnectionWizard::saveSecret()
{
    if (!m_services.secrets && m_manifest.auth.kind != ProviderAuth::Kind::None) {
        setError(m_keyError, tr("No secret store is open, so the credential cannot be stored."));
        return false;
    }
    ConnectionRecord record = connection_setup::newRecord(m_manifest, m_name, m_meta);
    if (m_manifest.auth.kind == ProviderAuth::Kind::None) {
        record.status = QStringLiteral("untested");
        if (auto s = m_services.store->saveConnection(record); !s) {
            setError(m_status, s.error().message);
            return false;
        }
    } else {
        const bool key = m_manifest.auth.kind == ProviderAuth::Kind::ApiKey;
        QByteArray secret = (key ? m_apiKey : m_password)->text().toUtf8();
        ConnectionTokens tokens(*m_services.store, *m_services.secrets, m_services.dataDir);
        Status s = connection_setup::saveSecret(tokens, m_manifest, record,
                                                m_user->text().trimmed(), secret);
        secret.fill('\0');
        if (!s) {
            setError(m_keyError, s.error().message);
            return false;
        }
        m_apiKey->clear();
        m_password->clear();
    }
    m_saved = m_name;
    emit connectionChanged(m_name);
    return true;
}

// --- page 4: test --------------------------------------------------------------------------

void ConnectionWizard::buildTestPage()
{
    auto* page = new QWidget(m_pages);
    auto* intro = wrapLabel(page, QStringLiteral("testIntro"));
    intro->setText(tr("The test calls the provider's health-check operation with the new "
                      "credential, through the same rules the sandbox's broker applies."));
    m_testButton =
        new QPushButton(icons::get(QStringLiteral("refresh")), tr("&Test the connection"), page);
    m_testButton->setObjectName(QStringLiteral("testButton"));
    m_testProgress = new QProgressBar(page);
    m_testProgress->setObjectName(QStringLiteral("testProgress"));
    m_testProgress->setRange(0, 0);
    m_testProgress->setTextVisible(false);
    m_testProgress->hide();
    m_testResult = wrapLabel(page, QStringLiteral("testResult"));
    auto* row = new QHBoxLayout;
    row->addWidget(m_testButton);
    row->addWidget(m_testProgress, 1);
    auto* l = new QVBoxLayout(page);
    l->addWidget(intro);
    l->addLayout(row);
    l->addWidget(m_testResult);
    l->addStretch();
    m_pages->addWidget(page);
    connect(m_testButton, &QPushButton::clicked, this, &ConnectionWizard::startTest);
}

void ConnectionWizard::startTest()
{
    if (m_check->isRunning())
        return;
    m_testResult->setStyleSheet(QString());
    m_testResult->setText(tr("Testing %1…").arg(m_saved));
    m_testResult->setProperty("ok", QVariant());
    m_testButton->setEnabled(false);
    m_testProgress->show();
    if (!m_check->start(m_saved))
        return; // finished() said why
    updateButtons();
}

// --- navigation ----------------------------------------------------------------------------

void ConnectionWizard::goTo(Page page)
{
    m_pages->setCurrentIndex(page);
    switch (page) {
    case ProviderPage:
        m_heading->setText(tr("1. Choose a provider"));
        m_search->setFocus();
        break;
    case AccessPage:
        m_heading->setText(tr("2. What %1 will allow").arg(m_manifest.name));
        showAccess();
        break;
    case SignInPage:
        m_heading->setText(
            m_reconnecting
                ? tr("Sign in to %1 again (connection \"%2\")").arg(m_manifest.name, m_name)
                : tr("3. Sign in to %1").arg(m_manifest.name));
        showSignIn();
        break;
    case TestPage:
        m_heading->setText(tr("4. Test connection \"%1\"").arg(m_saved));
        startTest();
        break;
    }
    updateButtons();
}

void ConnectionWizard::updateButtons()
{
    const Page page = currentPage();
    const bool signingIn = m_signIn && m_signIn->isRunning();
    m_back->setVisible(page != ProviderPage);
    m_back->setEnabled(!signingIn && m_saved.isEmpty() && !(m_reconnecting && page == SignInPage));
    m_next->setVisible(page != TestPage);
    m_finish->setVisible(page == TestPage);
    m_finish->setDefault(page == TestPage);
    switch (page) {
    case ProviderPage:
        m_next->setEnabled(m_providers->currentItem() != nullptr &&
                           !m_providers->currentItem()->isHidden());
        break;
    case AccessPage:
        m_next->setEnabled(true);
        break;
    case SignInPage:
        m_next->setEnabled(m_manifest.auth.kind == ProviderAuth::Kind::OAuth2 ? m_signedIn : true);
        m_next->setText(m_manifest.auth.kind == ProviderAuth::Kind::OAuth2
                            ? tr("&Next >")
                            : tr("&Save and test >"));
        break;
    case TestPage:
        break;
    }
    if (page != SignInPage)
        m_next->setText(tr("&Next >"));
    m_cancel->setText(m_saved.isEmpty() ? tr("Cancel") : tr("Close"));
}

void ConnectionWizard::next()
{
    switch (currentPage()) {
    case ProviderPage:
        if (auto* item = m_providers->currentItem();
            item && chooseProvider(item->data(Qt::UserRole).toString()))
            goTo(AccessPage);
        break;
    case AccessPage:
        if (acceptAccess())
            goTo(SignInPage);
        break;
    case SignInPage:
        if (m_manifest.auth.kind == ProviderAuth::Kind::OAuth2) {
            if (m_signedIn)
                goTo(TestPage);
        } else if (saveSecret()) {
            goTo(TestPage);
        }
        break;
    case TestPage:
        break;
    }
}

void ConnectionWizard::back()
{
    if (currentPage() > ProviderPage)
        goTo(Page(currentPage() - 1));
}

void ConnectionWizard::reject()
{
    if (m_signIn && m_signIn->isRunning())
        m_signIn->cancel();
    QDialog::reject();
}

} // namespace vivarium
