// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ConnectionsPage.h"

#include "EmptyState.h"
#include "Format.h"
#include "Icons.h"
#include "connect/ConnectionCheck.h"

#include "vivarium/core/Store.h"
#include "vivarium/ui/Dialogs.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStackedWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace vivarium {

namespace {

enum Column { Name, Provider, Auth, Account, Health, Checked, Expires, Action, ColumnCount };

QString authWords(const QString& auth)
{
    if (auth == QLatin1String("oauth2"))
        return QStringLiteral("OAuth 2");
    if (auth == QLatin1String("api_key"))
        return QObject::tr("API key");
    if (auth == QLatin1String("basic"))
        return QObject::tr("user + password");
    if (auth == QLatin1String("none"))
        return QObject::tr("none");
    return auth;
}

} // namespace

ConnectionsPage::ConnectionsPage(const UiServices& services, QWidget* parent)
    : QWidget(parent)
    , m_services(services)
{
    auto* title = new QLabel(tr("Connections"), this);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.35);
    tf.setBold(true);
    title->setFont(tf);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("connectionsSummary"));
    m_summary->setForegroundRole(QPalette::PlaceholderText);

    auto* connectButton = new QPushButton(icons::get(QStringLiteral("add")), tr("&Connect…"), this);
    connectButton->setObjectName(QStringLiteral("connectionsConnect"));
    connectButton->setToolTip(tr("Connect an account of a provider (Gmail, Slack, GitHub, ...)"));
    auto* reload = new QPushButton(icons::get(QStringLiteral("refresh")), QString(), this);
    reload->setObjectName(QStringLiteral("connectionsRefresh"));
    reload->setToolTip(tr("Read the connections again (F5)"));

    m_test = new QPushButton(icons::get(QStringLiteral("run")), tr("&Test"), this);
    m_test->setObjectName(QStringLiteral("connectionsTest"));
    m_test->setToolTip(tr("Call the provider's health check with the selected connection"));
    m_remove = new QPushButton(icons::get(QStringLiteral("remove")), tr("&Remove"), this);
    m_remove->setObjectName(QStringLiteral("connectionsRemove"));
    m_remove->setToolTip(tr("Revoke the selected connection at the provider where possible and "
                            "delete its secrets and record"));

    auto* header = new QHBoxLayout;
    header->addWidget(title);
    header->addWidget(m_summary);
    header->addStretch();
    header->addWidget(m_test);
    header->addWidget(m_remove);
    header->addWidget(connectButton);
    header->addWidget(reload);
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("connectionsMessage"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->hide();

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("connectionsList"));
    m_list->setRootIsDecorated(false);
    m_list->setAlternatingRowColors(true);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("Name"), tr("Provider"), tr("Sign-in"), tr("Account"), tr("Health"),
                             tr("Checked"), tr("Token expires"), QString()});
    m_list->header()->setSectionResizeMode(QHeaderView::Interactive);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(Health, QHeaderView::Stretch);
    m_list->header()->setSectionResizeMode(Action, QHeaderView::ResizeToContents);
    m_list->header()->resizeSection(Name, 150);
    m_list->header()->resizeSection(Provider, 110);
    m_list->header()->resizeSection(Auth, 110);
    m_list->header()->resizeSection(Account, 180);

    m_empty = new EmptyState(QStringLiteral("connections"), this);
    m_empty->setObjectName(QStringLiteral("connectionsEmptyState"));
    m_empty->setTitle(tr("No connections yet"));
    m_empty->setText(tr("A connection is your account at a provider (Gmail, Slack, GitHub, "
                        "Notion, any HTTP API). Agents name the connections they may use; "
                        "the tokens stay in the secret store and never enter a sandbox."));
    connect(m_empty->addAction(QStringLiteral("connectionsEmptyConnect"), tr("Connect…"),
                               QStringLiteral("add")),
            &QPushButton::clicked, this, &ConnectionsPage::connectNew);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_list);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_message);
    layout->addWidget(m_stack, 1);

    m_check = new ConnectionCheck(m_services, this);
    connect(m_check, &ConnectionCheck::finished, this,
            [this](const QString&, bool ok, const QString&, const QString& text) {
                m_test->setEnabled(true);
                showMessage(ok, text);
                refresh();
            });
    m_removal = new ConnectionRemoval(m_services, this);
    connect(m_removal, &ConnectionRemoval::finished, this,
            [this](const QString&, bool ok, const QString& text) {
                m_remove->setEnabled(true);
                showMessage(ok, text);
                refresh();
            });
    connect(m_test, &QPushButton::clicked, this, &ConnectionsPage::testSelected);
    connect(m_remove, &QPushButton::clicked, this, &ConnectionsPage::removeSelected);
    connect(m_list, &QTreeWidget::currentItemChanged, this, [this] {
        m_test->setEnabled(m_list->currentItem() && !m_check->isRunning());
        m_remove->setEnabled(m_list->currentItem() && !m_removal->isRunning());
    });
    connect(connectButton, &QPushButton::clicked, this, &ConnectionsPage::connectNew);
    connect(reload, &QPushButton::clicked, this, &ConnectionsPage::refresh);
    refresh();
}

void ConnectionsPage::refresh()
{
    const QString selected = selectedName(); // kept across the re-read
    m_list->clear();
    auto list = m_services.store->connections();
    if (!list) {
        m_empty->setTitle(tr("Cannot read the connections"));
        m_empty->setText(list.error().message.toHtmlEscaped());
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    int reconnect = 0;
    const QColor alert(0xfd, 0xec, 0xea);
    for (const ConnectionRecord& c : std::as_const(*list)) {
        auto* item = new QTreeWidgetItem(m_list);
        item->setText(Name, c.name);
        item->setText(Provider, c.provider);
        item->setText(Auth, authWords(c.auth));
        item->setText(Account, c.account);
        item->setText(Checked, Format::relative(c.checkedAt));
        item->setToolTip(Checked, Format::absolute(c.checkedAt));
        item->setText(Expires, Format::relative(c.expiresAt));
        item->setToolTip(Expires, Format::absolute(c.expiresAt));
        if (!c.scopes.isEmpty())
            item->setToolTip(Name, tr("Scopes: %1").arg(c.scopes.join(QStringLiteral(", "))));
        QString health;
        if (c.status == QLatin1String("ok")) {
            health = tr("OK");
            item->setIcon(Health, icons::get(QStringLiteral("ok")));
        } else if (c.status == QLatin1String("needs_reconnect")) {
            ++reconnect;
            health = tr("Needs reconnecting");
            item->setIcon(Health, icons::get(QStringLiteral("warning")));
            for (int col = 0; col < ColumnCount; ++col)
                item->setBackground(col, alert);
            QFont bold = item->font(Health);
            bold.setBold(true);
            item->setFont(Health, bold);
            item->setForeground(Health, QColor(0xb0, 0x1c, 0x1c));
            auto* again = new QPushButton(icons::get(QStringLiteral("refresh")), tr("Reconnect"));
            again->setObjectName(QStringLiteral("reconnectButton"));
            again->setProperty("connection", c.name);
            again->setToolTip(
                tr("Sign in to %1 again for connection \"%2\"").arg(c.provider, c.name));
            m_list->setItemWidget(item, Action, again);
            connect(again, &QPushButton::clicked, this,
                    [this, name = c.name] { this->reconnect(name); });
        } else if (c.status == QLatin1String("error")) {
            health = tr("Error");
            item->setIcon(Health, icons::get(QStringLiteral("error")));
            item->setForeground(Health, QColor(0xb0, 0x1c, 0x1c));
        } else {
            health = tr("Not tested yet");
            item->setIcon(Health, icons::get(QStringLiteral("waiting")));
        }
        if (!c.statusReason.isEmpty())
            health += QStringLiteral(": ") + c.statusReason;
        item->setText(Health, health);
        item->setToolTip(Health, health);
        item->setData(Name, Qt::UserRole, c.status);
    }
    if (const auto same = m_list->findItems(selected, Qt::MatchExactly, Name);
        !selected.isEmpty() && !same.isEmpty())
        m_list->setCurrentItem(same.first());
    if (m_list->topLevelItemCount() > 0 && !m_list->currentItem())
        m_list->setCurrentItem(m_list->topLevelItem(0));
    m_test->setEnabled(m_list->currentItem() && !m_check->isRunning());
    m_remove->setEnabled(m_list->currentItem() && !m_removal->isRunning());
    m_stack->setCurrentWidget(list->isEmpty() ? static_cast<QWidget*>(m_empty) : m_list);
    const int count = int(list->size());
    QString summary = count == 0
                          ? QString()
                          : (count == 1 ? tr("1 connection") : tr("%1 connections").arg(count));
    if (reconnect > 0)
        summary +=
            QStringLiteral(" · ") + (reconnect == 1 ? tr("1 needs reconnecting")
                                                    : tr("%1 need reconnecting").arg(reconnect));
    m_summary->setText(summary);
    if (reconnect != m_needsReconnect) {
        m_needsReconnect = reconnect;
        emit needsReconnectChanged(reconnect);
    }
}

void ConnectionsPage::connectNew()
{
    openWizard(QString());
}

ConnectionWizard* ConnectionsPage::reconnect(const QString& name)
{
    return openWizard(name);
}

ConnectionWizard* ConnectionsPage::openWizard(const QString& reconnect)
{
    if (m_wizard) {
        m_wizard->raise();
        m_wizard->activateWindow();
        return m_wizard;
    }
    ConnectionWizardOptions options = m_wizardOptions;
    options.reconnect = reconnect;
    auto* wizard = new ConnectionWizard(m_services, options, this);
    m_wizard = wizard;
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &ConnectionWizard::connectionChanged, this, &ConnectionsPage::refresh);
    connect(wizard, &QDialog::finished, this, [this] {
        m_wizard = nullptr;
        refresh();
    });
    wizard->open();
    return wizard;
}

QString ConnectionsPage::selectedName() const
{
    const QTreeWidgetItem* item = m_list->currentItem();
    return item ? item->text(Name) : QString();
}

void ConnectionsPage::showMessage(bool ok, const QString& text)
{
    m_message->setStyleSheet(ok ? QStringLiteral("color: #1b7a2e;")
                                : QStringLiteral("color: #b01c1c;"));
    m_message->setText(text);
    m_message->setVisible(!text.isEmpty());
}

void ConnectionsPage::testSelected()
{
    const QString name = selectedName();
    if (name.isEmpty() || m_check->isRunning())
        return;
    m_test->setEnabled(false);
    m_message->setStyleSheet(QString());
    m_message->setText(tr("Testing %1…").arg(name));
    m_message->show();
    m_check->setAllowLocal(m_wizardOptions.allowLocalProvider);
    m_check->start(name);
}

void ConnectionsPage::removeSelected()
{
    const QString name = selectedName();
    if (name.isEmpty() || m_removal->isRunning())
        return;
    if (Dialogs::question(this, tr("Remove connection"),
                          tr("Remove connection \"%1\"? Its access is revoked at the provider "
                             "where possible, and its secrets and record are deleted. Agents "
                             "that use it will fail until you connect again.")
                              .arg(name),
                          QMessageBox::Yes | QMessageBox::Cancel,
                          QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    m_remove->setEnabled(false);
    m_message->setStyleSheet(QString());
    m_message->setText(tr("Removing %1…").arg(name));
    m_message->show();
    m_removal->start(name);
}

} // namespace vivarium
