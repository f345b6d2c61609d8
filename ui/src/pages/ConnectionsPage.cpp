// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ConnectionsPage.h"

#include "EmptyState.h"
#include "Format.h"
#include "Icons.h"

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

enum Column { Name, Provider, Auth, Account, Health, Checked, Expires, ColumnCount };

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

    auto* header = new QHBoxLayout;
    header->addWidget(title);
    header->addWidget(m_summary);
    header->addStretch();
    header->addWidget(connectButton);
    header->addWidget(reload);

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("connectionsList"));
    m_list->setRootIsDecorated(false);
    m_list->setAlternatingRowColors(true);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("Name"), tr("Provider"), tr("Sign-in"), tr("Account"), tr("Health"),
                             tr("Checked"), tr("Token expires")});
    m_list->header()->setSectionResizeMode(QHeaderView::Interactive);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(Health, QHeaderView::Stretch);
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
    layout->addWidget(m_stack, 1);

    connect(connectButton, &QPushButton::clicked, this, &ConnectionsPage::connectNew);
    connect(reload, &QPushButton::clicked, this, &ConnectionsPage::refresh);
    refresh();
}

void ConnectionsPage::refresh()
{
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
    if (m_list->topLevelItemCount() > 0 && !m_list->currentItem())
        m_list->setCurrentItem(m_list->topLevelItem(0));
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
    Dialogs::information(
        this, tr("Connect a provider"),
        tr("The connection wizard comes in a later version of the desktop app.\n\nUntil then, "
           "connect from a terminal, for example:\n\n    vivarium connect gmail --name work\n\n"
           "The new connection appears here as soon as it is saved."));
}

} // namespace vivarium
