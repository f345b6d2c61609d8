// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ApiKeysPanel.h"

#include "Format.h"
#include "Icons.h"

#include "vivarium/core/Store.h"
#include "vivarium/ui/Dialogs.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStackedWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace vivarium {

namespace {

enum Column { NameColumn, ScopesColumn, CreatedColumn, UsedColumn, StateColumn };

QString when(const QDateTime& t)
{
    return t.isValid() ? QLocale().toString(t.toLocalTime(), QLocale::ShortFormat)
                       : QObject::tr("never");
}

/** What each scope allows, in the words of docs/api.md. */
QString scopeMeaning(const QString& scope)
{
    if (scope == QLatin1String("agents:read"))
        return QObject::tr("read agents, schedules and connections (never a secret)");
    if (scope == QLatin1String("agents:write"))
        return QObject::tr("create, change and remove agents and schedules");
    if (scope == QLatin1String("runs:read"))
        return QObject::tr("read runs, their events and metrics");
    if (scope == QLatin1String("runs:write"))
        return QObject::tr("start and cancel runs");
    if (scope == QLatin1String("webhooks:write"))
        return QObject::tr("webhook subscriptions, and a run's own webhook");
    if (scope == QLatin1String("admin"))
        return QObject::tr("everything above");
    return {};
}

} // namespace

ApiKeysPanel::ApiKeysPanel(Store* store, QWidget* parent)
    : QWidget(parent)
    , m_store(store)
{
    setObjectName(QStringLiteral("apiKeysPanel"));
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("apiKeysList"));
    m_list->setRootIsDecorated(false);
    m_list->setHeaderLabels(
        {tr("Name"), tr("Scopes"), tr("Created"), tr("Last used"), tr("State")});
    m_list->header()->setSectionResizeMode(ScopesColumn, QHeaderView::Stretch);
    m_list->setMinimumHeight(90);
    m_list->setAccessibleName(tr("API keys"));

    auto* create = new QPushButton(icons::get(QStringLiteral("add")), tr("Create key…"), this);
    create->setObjectName(QStringLiteral("apiKeysCreate"));
    m_revoke = new QPushButton(icons::get(QStringLiteral("remove")), tr("Revoke"), this);
    m_revoke->setObjectName(QStringLiteral("apiKeysRevoke"));
    m_revoke->setEnabled(false);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(create);
    buttons->addWidget(m_revoke);
    buttons->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_list);
    layout->addLayout(buttons);

    connect(create, &QPushButton::clicked, this, &ApiKeysPanel::createKey);
    connect(m_revoke, &QPushButton::clicked, this, &ApiKeysPanel::revokeSelected);
    connect(m_list, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        m_revoke->setEnabled(item && item->data(StateColumn, Qt::UserRole).toBool());
    });
    reload();
}

void ApiKeysPanel::reload()
{
    m_list->clear();
    auto keys = m_store->apiKeys();
    if (!keys) {
        auto* item = new QTreeWidgetItem(m_list);
        item->setText(NameColumn, tr("Could not read the keys: %1").arg(keys.error().message));
        return;
    }
    for (const Store::ApiKeyRecord& k : std::as_const(*keys)) {
        auto* item = new QTreeWidgetItem(m_list);
        item->setText(NameColumn, k.name);
        item->setToolTip(NameColumn, tr("%1 (viv_%2…)").arg(k.id, k.prefix));
        item->setText(ScopesColumn, k.scopes.join(QStringLiteral(", ")));
        item->setText(CreatedColumn, when(k.createdAt));
        item->setText(UsedColumn, when(k.lastUsedAt));
        item->setText(StateColumn,
                      k.isRevoked() ? tr("revoked %1").arg(when(k.revokedAt)) : tr("live"));
        item->setData(NameColumn, Qt::UserRole, k.id);
        item->setData(StateColumn, Qt::UserRole, !k.isRevoked());
        if (k.isRevoked())
            for (int c = 0; c < m_list->columnCount(); ++c)
                item->setForeground(c, palette().brush(QPalette::PlaceholderText));
    }
    m_revoke->setEnabled(false);
}

void ApiKeysPanel::createKey()
{
    auto* dialog = new ApiKeyCreateDialog(m_store, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ApiKeyCreateDialog::created, this, [this](const QString& name) {
        reload();
        emit message(tr("Created API key %1").arg(name));
    });
    // open(), not exec(): window-modal without a nested event loop (tests drive it).
    dialog->open();
}

void ApiKeysPanel::revokeSelected()
{
    QTreeWidgetItem* item = m_list->currentItem();
    if (!item)
        return;
    const QString id = item->data(NameColumn, Qt::UserRole).toString();
    const QString name = item->text(NameColumn);
    if (Dialogs::question(this, tr("Revoke API key"),
                          tr("Revoke %1? Scripts and n8n workflows that use it get 401 from "
                             "now on. This cannot be undone.")
                              .arg(name),
                          QMessageBox::Yes | QMessageBox::Cancel,
                          QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    if (auto r = m_store->revokeApiKey(id); !r) {
        Dialogs::warning(this, tr("Cannot revoke %1").arg(name), r.error().message);
        return;
    }
    reload();
    emit message(tr("Revoked API key %1").arg(name));
}

ApiKeyCreateDialog::ApiKeyCreateDialog(Store* store, QWidget* parent)
    : QDialog(parent)
    , m_store(store)
{
    setObjectName(QStringLiteral("apiKeyCreateDialog"));
    setWindowTitle(tr("Create an API key"));
    m_pages = new QStackedWidget(this);

    // Page 1: name and scopes.
    auto* ask = new QWidget(m_pages);
    m_name = new QLineEdit(ask);
    m_name->setObjectName(QStringLiteral("apiKeyName"));
    m_name->setPlaceholderText(tr("e.g. n8n"));
    m_name->setMaxLength(64);
    auto* scopes = new QVBoxLayout;
    for (const QString& s : Store::apiScopes()) {
        auto* box = new QCheckBox(QStringLiteral("%1 — %2").arg(s, scopeMeaning(s)), ask);
        box->setObjectName(QStringLiteral("apiKeyScope_") +
                           QString(s).replace(QLatin1Char(':'), QLatin1Char('_')));
        box->setProperty("scope", s);
        scopes->addWidget(box);
        m_scopes << box;
    }
    m_error = new QLabel(ask);
    m_error->setObjectName(QStringLiteral("apiKeyError"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    m_error->hide();
    auto* askButtons = new QDialogButtonBox(QDialogButtonBox::Cancel, ask);
    QPushButton* createButton = askButtons->addButton(tr("Create"), QDialogButtonBox::AcceptRole);
    createButton->setObjectName(QStringLiteral("apiKeyCreate"));
    createButton->setDefault(true);
    auto* askForm = new QFormLayout(ask);
    askForm->addRow(tr("&Name"), m_name);
    askForm->addRow(tr("Scopes"), scopes);
    askForm->addRow(QString(), m_error);
    askForm->addRow(askButtons);
    connect(askButtons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(createButton, &QPushButton::clicked, this, &ApiKeyCreateDialog::create);

    // Page 2: the key, once.
    auto* shown = new QWidget(m_pages);
    auto* once = new QLabel(tr("<b>Copy this key now.</b> It is shown only this once: Vivarium "
                               "keeps only a hash of it. Send it as <code>Authorization: Bearer "
                               "&lt;key&gt;</code>."),
                            shown);
    once->setWordWrap(true);
    m_key = new QLineEdit(shown);
    m_key->setObjectName(QStringLiteral("apiKeyValue"));
    m_key->setReadOnly(true);
    m_key->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto* copy = new QPushButton(tr("&Copy"), shown);
    copy->setObjectName(QStringLiteral("apiKeyCopy"));
    auto* done = new QPushButton(tr("Done"), shown);
    done->setObjectName(QStringLiteral("apiKeyDone"));
    auto* keyRow = new QHBoxLayout;
    keyRow->addWidget(m_key, 1);
    keyRow->addWidget(copy);
    auto* shownLayout = new QVBoxLayout(shown);
    shownLayout->addWidget(once);
    shownLayout->addLayout(keyRow);
    shownLayout->addStretch(1);
    shownLayout->addWidget(done, 0, Qt::AlignRight);
    connect(copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(m_key->text()); });
    // Wipe the only copy of the key the app holds when the dialog goes.
    connect(done, &QPushButton::clicked, this, &QDialog::accept);
    connect(this, &QDialog::finished, this, [this] { m_key->clear(); });

    m_pages->addWidget(ask);
    m_pages->addWidget(shown);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_pages);
    resize(560, sizeHint().height());
}

void ApiKeyCreateDialog::create()
{
    QStringList scopes;
    for (QCheckBox* box : std::as_const(m_scopes))
        if (box->isChecked())
            scopes << box->property("scope").toString();
    auto made = m_store->createApiKey(m_name->text().trimmed(), scopes);
    if (!made) {
        // The store's own words, as `vivarium api-key create` prints them.
        QStringList lines{made.error().message};
        lines << made.error().details;
        m_error->setText(lines.join(QLatin1Char('\n')));
        m_error->show();
        return;
    }
    m_key->setText(made->secret);
    made->secret.fill(QLatin1Char('\0'));
    m_pages->setCurrentIndex(1);
    m_key->selectAll();
    m_key->setFocus();
    emit created(made->record.name);
}

} // namespace vivarium
