// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/ProviderManifest.h"
#include "vivarium/ui/UiServices.h"

#include <QDialog>
#include <QUrl>

#include <functional>

class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTextBrowser;
class QFormLayout;
class QWidget;

namespace vivarium {

class ConnectionCheck;
class OAuthSignIn;

struct ConnectionWizardOptions
{
    /**
     * Opens the authorization URL; true when a browser opened. Empty: QDesktopServices.
     * Tests put a scripted browser here.
     */
    std::function<bool(const QUrl&)> openBrowser;
    /** A connection to sign in again: the wizard starts at its sign-in page. */
    QString reconnect;
    /** How long to wait for the browser (as `connect --timeout`). */
    int timeoutS = 300;
    /** The test may call a provider on a local address (`--allow-local`: dev servers, tests). */
    bool allowLocalProvider = false;
};

/**
 * The connection wizard (docs/gui.md): pick a provider, see what access it grants and name the
 * connection, sign in in the browser (OAuth, loopback redirect) or enter an API key or a
 * password, then test. Everything is core's and the broker's code (ConnectionSetup,
 * ConnectionTokens, testConnection), as `vivarium connect` uses it; the network never runs on
 * the GUI thread.
 */
class ConnectionWizard : public QDialog
{
    Q_OBJECT
public:
    enum Page { ProviderPage, AccessPage, SignInPage, TestPage };

    ConnectionWizard(const UiServices& services, ConnectionWizardOptions options,
                     QWidget* parent = nullptr);
    ~ConnectionWizard() override;

    Page currentPage() const;
    /** The connection saved by this wizard (empty until then). */
    QString savedConnection() const { return m_saved; }

signals:
    /** A connection was stored (signed in, or its key saved), or its test recorded. */
    void connectionChanged(const QString& name);

protected:
    void reject() override;

private:
    void buildProviderPage();
    void buildAccessPage();
    void buildSignInPage();
    void buildTestPage();
    void fillProviders();
    void filterProviders(const QString& text);
    bool chooseProvider(const QString& id);
    void showAccess();
    bool acceptAccess();
    void showSignIn();
    void startSignIn();
    void signInUrl(const QUrl& url);
    void signInFinished(bool ok, const QString& message, int failure);
    bool saveSecret();
    void startTest();
    void goTo(Page page);
    void updateButtons();
    void next();
    void back();

    UiServices m_services;
    ConnectionWizardOptions m_options;
    ProviderCatalog m_catalog;
    ProviderManifest m_manifest;
    bool m_reconnecting = false;
    QString m_name;
    QJsonObject m_meta;
    QString m_saved;
    bool m_signedIn = false;

    QStackedWidget* m_pages = nullptr;
    QLabel* m_heading = nullptr;
    // provider page
    QLineEdit* m_search = nullptr;
    QListWidget* m_providers = nullptr;
    QLabel* m_catalogProblems = nullptr;
    // access page
    QTextBrowser* m_access = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QLabel* m_nameError = nullptr;
    QWidget* m_fieldsBox = nullptr;
    QFormLayout* m_fieldsForm = nullptr;
    QList<QLineEdit*> m_fieldEdits;
    QLabel* m_fieldsError = nullptr;
    // sign-in page
    QWidget* m_oauthBox = nullptr;
    QLabel* m_oauthApp = nullptr;
    QLineEdit* m_clientId = nullptr;
    QLineEdit* m_clientSecret = nullptr;
    QPushButton* m_start = nullptr;
    QLineEdit* m_url = nullptr;
    QPushButton* m_copyUrl = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancelSignIn = nullptr;
    QLabel* m_status = nullptr;
    QWidget* m_keyBox = nullptr;
    QLabel* m_keyHint = nullptr;
    QFormLayout* m_keyForm = nullptr;
    QLineEdit* m_apiKey = nullptr;
    QLineEdit* m_user = nullptr;
    QLineEdit* m_password = nullptr;
    QLabel* m_keyError = nullptr;
    QLabel* m_noneNote = nullptr;
    // test page
    QPushButton* m_testButton = nullptr;
    QProgressBar* m_testProgress = nullptr;
    QLabel* m_testResult = nullptr;
    // buttons
    QPushButton* m_back = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_finish = nullptr;
    QPushButton* m_cancel = nullptr;

    OAuthSignIn* m_signIn = nullptr;
    ConnectionCheck* m_check = nullptr;
};

} // namespace vivarium
