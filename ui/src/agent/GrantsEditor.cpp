// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "GrantsEditor.h"

#include "Icons.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace vivarium {

namespace {

QLabel* errorLabel(const QString& name, QWidget* parent)
{
    auto* l = new QLabel(parent);
    l->setObjectName(name);
    l->setWordWrap(true);
    l->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->hide();
    return l;
}

QStringList splitList(const QString& text)
{
    QStringList out;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!part.trimmed().isEmpty())
            out << part.trimmed();
    return out;
}

QStringList lines(const QString& text)
{
    QStringList out;
    for (const QString& l : text.split(QLatin1Char('\n')))
        if (!l.trimmed().isEmpty())
            out << l.trimmed();
    return out;
}

} // namespace

GrantsEditor::GrantsEditor(const ProviderCatalog& catalog, QList<ConnectionRecord> connections,
                           QWidget* parent)
    : QWidget(parent)
    , m_catalog(catalog)
    , m_connections(std::move(connections))
{
    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("agentProviders"));
    m_list->setMaximumWidth(220);
    auto* add = new QPushButton(icons::get(QStringLiteral("add")), tr("Add"), this);
    add->setObjectName(QStringLiteral("agentAddProvider"));
    m_remove = new QPushButton(icons::get(QStringLiteral("remove")), tr("Remove"), this);
    m_remove->setObjectName(QStringLiteral("agentRemoveProvider"));
    auto* listButtons = new QHBoxLayout;
    listButtons->addWidget(add);
    listButtons->addWidget(m_remove);
    auto* left = new QVBoxLayout;
    left->addWidget(m_list, 1);
    left->addLayout(listButtons);

    m_form = new QWidget(this);
    m_provider = new QComboBox(m_form);
    m_provider->setObjectName(QStringLiteral("agentGrantProvider"));
    m_provider->setEditable(true);
    m_provider->setInsertPolicy(QComboBox::NoInsert);
    for (const ProviderManifest& m : m_catalog.manifests())
        m_provider->addItem(QStringLiteral("%1").arg(m.id), m.id);
    for (int i = 0; i < m_provider->count(); ++i)
        if (auto m = m_catalog.find(m_provider->itemData(i).toString()))
            m_provider->setItemData(i, QStringLiteral("%1: %2").arg(m->name, m->description),
                                    Qt::ToolTipRole);
    m_providerInfo = new QLabel(m_form);
    m_providerInfo->setWordWrap(true);
    m_providerInfo->setForegroundRole(QPalette::PlaceholderText);
    m_connection = new QComboBox(m_form);
    m_connection->setObjectName(QStringLiteral("agentGrantConnection"));
    m_connection->setEditable(true);
    m_connection->setInsertPolicy(QComboBox::NoInsert);
    m_connection->lineEdit()->setPlaceholderText(tr("the provider's only connection"));
    m_operations = new QListWidget(m_form);
    m_operations->setObjectName(QStringLiteral("agentGrantOperations"));
    m_operations->setMinimumHeight(90);
    m_extraOperations = new QLineEdit(m_form);
    m_extraOperations->setObjectName(QStringLiteral("agentGrantExtraOperations"));
    m_extraOperations->setPlaceholderText(tr("other operations, comma separated"));
    m_uris = new QPlainTextEdit(m_form);
    m_uris->setObjectName(QStringLiteral("agentGrantUris"));
    m_uris->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_uris->setPlaceholderText(
        tr("one per line: [!][METHOD ]https://host[:port]/path-glob\n"
           "e.g. GET https://api.github.com/repos/me/**   (! denies; deny wins)"));
    m_uris->setTabChangesFocus(true);
    m_uris->setMinimumHeight(80);
    m_defaultUris = new QPushButton(tr("Use the provider's defaults"), m_form);
    m_defaultUris->setObjectName(QStringLiteral("agentGrantDefaultUris"));

    m_testMethod = new QComboBox(m_form);
    m_testMethod->setObjectName(QStringLiteral("agentUriTestMethod"));
    m_testMethod->addItems({QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"),
                            QStringLiteral("PATCH"), QStringLiteral("DELETE"),
                            QStringLiteral("HEAD"), QStringLiteral("OPTIONS")});
    m_testUrl = new QLineEdit(m_form);
    m_testUrl->setObjectName(QStringLiteral("agentUriTestUrl"));
    m_testUrl->setPlaceholderText(tr("https://api.example.com/v1/items?id=3"));
    m_testResult = new QLabel(m_form);
    m_testResult->setObjectName(QStringLiteral("agentUriTestResult"));
    m_testResult->setWordWrap(true);
    auto* testRow = new QHBoxLayout;
    testRow->addWidget(m_testMethod);
    testRow->addWidget(m_testUrl, 1);

    m_providerError = errorLabel(QStringLiteral("agentGrantProviderError"), m_form);
    m_connectionError = errorLabel(QStringLiteral("agentGrantConnectionError"), m_form);
    m_operationsError = errorLabel(QStringLiteral("agentGrantOperationsError"), m_form);
    m_urisError = errorLabel(QStringLiteral("agentGrantUrisError"), m_form);
    m_grantError = errorLabel(QStringLiteral("agentGrantError"), m_form);

    auto* form = new QFormLayout(m_form);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(QString(), m_grantError);
    form->addRow(tr("&Provider"), m_provider);
    form->addRow(QString(), m_providerInfo);
    form->addRow(QString(), m_providerError);
    form->addRow(tr("&Connection"), m_connection);
    form->addRow(QString(), m_connectionError);
    form->addRow(tr("&Operations"), m_operations);
    form->addRow(QString(), m_extraOperations);
    form->addRow(QString(), m_operationsError);
    form->addRow(tr("Authorized &URIs"), m_uris);
    form->addRow(QString(), m_defaultUris);
    form->addRow(QString(), m_urisError);
    // testRow is a layout, so the label needs its buddy set by hand for the mnemonic.
    auto* testLabel = new QLabel(tr("&Test a URL"), m_form);
    testLabel->setBuddy(m_testUrl);
    form->addRow(testLabel, testRow);
    form->addRow(QString(), m_testResult);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(left);
    layout->addWidget(m_form, 1);

    connect(add, &QPushButton::clicked, this, [this] {
        storeForm();
        m_grants.append(Grant{});
        refreshList();
        m_list->setCurrentRow(int(m_grants.size()) - 1);
        m_provider->setFocus();
        emit changed();
    });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        if (m_current < 0)
            return;
        m_grants.removeAt(m_current);
        m_current = -1;
        refreshList();
        m_list->setCurrentRow(std::min(int(m_grants.size()) - 1, m_list->count() - 1));
        emit changed();
    });
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        storeForm();
        m_current = row;
        loadForm();
    });
    auto edited = [this] {
        if (m_loading)
            return;
        storeForm();
        if (m_current >= 0 && m_list->item(m_current))
            m_list->item(m_current)->setText(label(m_grants.at(m_current)));
        testUri();
        emit changed();
    };
    connect(m_provider, &QComboBox::currentTextChanged, this, [this, edited] {
        if (m_loading)
            return;
        const QString p = m_provider->currentText().trimmed();
        QStringList keep;
        if (m_current >= 0)
            keep = m_grants.at(m_current).operations;
        m_loading = true;
        fillOperations(p, keep);
        m_loading = false;
        edited();
    });
    connect(m_connection, &QComboBox::currentTextChanged, this, edited);
    connect(m_operations, &QListWidget::itemChanged, this, edited);
    connect(m_extraOperations, &QLineEdit::textChanged, this, edited);
    connect(m_uris, &QPlainTextEdit::textChanged, this, edited);
    connect(m_testUrl, &QLineEdit::textChanged, this, &GrantsEditor::testUri);
    connect(m_testMethod, &QComboBox::currentIndexChanged, this, &GrantsEditor::testUri);
    connect(m_defaultUris, &QPushButton::clicked, this, [this] {
        auto m = m_catalog.find(m_provider->currentText().trimmed());
        if (!m)
            return;
        m_uris->setPlainText(m->authorizedUris.join(QLatin1Char('\n')));
    });
    refreshList();
    loadForm();
}

QString GrantsEditor::label(const Grant& g) const
{
    QString text = g.provider.isEmpty() ? tr("(new provider)") : g.provider;
    if (!g.connection.isEmpty())
        text += QStringLiteral(" · ") + g.connection;
    return text;
}

void GrantsEditor::setGrants(const QList<ProviderGrant>& grants)
{
    m_grants.clear();
    for (const ProviderGrant& g : grants)
        m_grants.append(Grant{g.provider, g.connection, g.operations, g.authorizedUris});
    m_current = -1;
    refreshList();
    if (!m_grants.isEmpty())
        m_list->setCurrentRow(0);
    else
        loadForm();
}

QJsonArray GrantsEditor::toJson() const
{
    const_cast<GrantsEditor*>(this)->storeForm();
    QJsonArray out;
    for (const Grant& g : m_grants) {
        QJsonObject o;
        o.insert(QStringLiteral("provider"), g.provider);
        if (!g.connection.isEmpty())
            o.insert(QStringLiteral("connection"), g.connection);
        o.insert(QStringLiteral("operations"), QJsonArray::fromStringList(g.operations));
        o.insert(QStringLiteral("authorized_uris"), QJsonArray::fromStringList(g.uris));
        out.append(o);
    }
    return out;
}

void GrantsEditor::storeForm()
{
    if (m_loading || m_current < 0 || m_current >= m_grants.size())
        return;
    Grant& g = m_grants[m_current];
    g.provider = m_provider->currentText().trimmed();
    g.connection = m_connection->currentText().trimmed();
    QStringList ops;
    for (int i = 0; i < m_operations->count(); ++i)
        if (m_operations->item(i)->checkState() == Qt::Checked)
            ops << m_operations->item(i)->data(Qt::UserRole).toString();
    for (const QString& extra : splitList(m_extraOperations->text()))
        ops << extra;
    g.operations = ops;
    g.uris = lines(m_uris->toPlainText());
}

void GrantsEditor::fillOperations(const QString& provider, const QStringList& checked)
{
    m_operations->clear();
    auto manifest = m_catalog.find(provider);
    QStringList extra = checked;
    if (manifest) {
        m_providerInfo->setText(
            manifest->description.isEmpty()
                ? manifest->name
                : QStringLiteral("%1: %2").arg(manifest->name, manifest->description));
        for (const ProviderOperation& op : manifest->operations) {
            auto* item = new QListWidgetItem(
                op.writes ? tr("%1 (changes data)").arg(op.name) : op.name, m_operations);
            item->setData(Qt::UserRole, op.name);
            item->setToolTip(QStringLiteral("%1 %2\n%3").arg(op.method, op.path, op.description));
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(checked.contains(op.name) ? Qt::Checked : Qt::Unchecked);
            extra.removeAll(op.name);
        }
    } else {
        m_providerInfo->setText(
            provider.isEmpty()
                ? tr("Pick a provider of the catalog, or type the id of one you add later.")
                : tr("\"%1\" is not in this computer's provider catalog: type its operations "
                     "below.")
                      .arg(provider));
    }
    m_operations->setVisible(m_operations->count() > 0);
    m_extraOperations->setText(extra.join(QStringLiteral(", ")));
    m_defaultUris->setEnabled(manifest.has_value() && !manifest->authorizedUris.isEmpty());

    const QString keepConnection = m_connection->currentText();
    m_connection->clear();
    m_connection->addItem(QString());
    for (const ConnectionRecord& c : std::as_const(m_connections))
        if (c.provider == provider)
            m_connection->addItem(c.name);
    m_connection->setEditText(keepConnection);
}

void GrantsEditor::loadForm()
{
    m_loading = true;
    const bool has = m_current >= 0 && m_current < m_grants.size();
    m_form->setEnabled(has);
    m_remove->setEnabled(has);
    const Grant g = has ? m_grants.at(m_current) : Grant{};
    m_provider->setEditText(g.provider);
    m_connection->setEditText(g.connection);
    fillOperations(g.provider, g.operations);
    m_connection->setEditText(g.connection);
    m_uris->setPlainText(g.uris.join(QLatin1Char('\n')));
    m_loading = false;
    showFieldProblems();
    testUri();
}

void GrantsEditor::refreshList()
{
    const QSignalBlocker block(m_list);
    m_list->clear();
    for (const Grant& g : std::as_const(m_grants))
        m_list->addItem(label(g));
    if (m_current >= 0 && m_current < m_list->count())
        m_list->setCurrentRow(m_current);
}

void GrantsEditor::setProblems(const QList<FieldProblem>& problems)
{
    m_problems.clear();
    for (const FieldProblem& p : problems)
        if (p.pointer == QLatin1String("/providers") ||
            p.pointer.startsWith(QLatin1String("/providers/")))
            m_problems.append(p);
    // Mark the grants that have a problem in the list.
    for (int i = 0; i < m_list->count(); ++i) {
        const QString at = QStringLiteral("/providers/%1").arg(i);
        bool error = false;
        bool warning = false;
        for (const FieldProblem& p : std::as_const(m_problems)) {
            if (p.pointer == at || p.pointer.startsWith(at + QLatin1Char('/'))) {
                error = error || !p.warning;
                warning = warning || p.warning;
            }
        }
        m_list->item(i)->setIcon(error
                                     ? icons::get(QStringLiteral("error"))
                                     : (warning ? icons::get(QStringLiteral("warning")) : QIcon()));
    }
    showFieldProblems();
}

void GrantsEditor::showFieldProblems()
{
    const QString at = QStringLiteral("/providers/%1").arg(m_current);
    QStringList provider, connection, operations, uris, grant;
    for (const FieldProblem& p : std::as_const(m_problems)) {
        const QString text = p.warning ? tr("Warning: %1").arg(p.message) : p.message;
        if (p.pointer == QLatin1String("/providers")) {
            grant << text;
            continue;
        }
        if (m_current < 0 || !(p.pointer == at || p.pointer.startsWith(at + QLatin1Char('/'))))
            continue;
        const QString field = p.pointer.mid(at.size() + 1);
        if (field.startsWith(QLatin1String("provider")))
            provider << text;
        else if (field.startsWith(QLatin1String("connection")))
            connection << text;
        else if (field.startsWith(QLatin1String("operations")))
            operations << (field.contains(QLatin1Char('/'))
                               ? tr("operation %1: %2")
                                     .arg(field.section(QLatin1Char('/'), 1).toInt() + 1)
                                     .arg(text)
                               : text);
        else if (field.startsWith(QLatin1String("authorized_uris")))
            uris << (field.contains(QLatin1Char('/'))
                         ? tr("line %1: %2")
                               .arg(field.section(QLatin1Char('/'), 1).toInt() + 1)
                               .arg(text)
                         : text);
        else
            grant << text;
    }
    auto show = [](QLabel* l, const QStringList& texts) {
        l->setText(texts.join(QLatin1Char('\n')));
        l->setVisible(!texts.isEmpty());
    };
    show(m_providerError, provider);
    show(m_connectionError, connection);
    show(m_operationsError, operations);
    show(m_urisError, uris);
    show(m_grantError, grant);
}

void GrantsEditor::focusPointer(const QString& pointer)
{
    const QStringList parts = pointer.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    if (parts.size() < 2)
        return;
    const int index = parts.at(1).toInt();
    if (index >= 0 && index < m_list->count())
        m_list->setCurrentRow(index);
    const QString field = parts.value(2);
    if (field == QLatin1String("connection"))
        m_connection->setFocus();
    else if (field == QLatin1String("operations"))
        m_extraOperations->setFocus();
    else if (field == QLatin1String("authorized_uris"))
        m_uris->setFocus();
    else
        m_provider->setFocus();
}

void GrantsEditor::testUri()
{
    const QString url = m_testUrl->text().trimmed();
    if (url.isEmpty()) {
        m_testResult->setText(tr("Type a URL to see whether this grant allows it."));
        m_testResult->setStyleSheet(QString());
        return;
    }
    const QStringList patterns =
        m_current >= 0 && m_current < m_grants.size() ? m_grants.at(m_current).uris : QStringList();
    // The broker's own matcher: what this says is what a run's call gets.
    const AuthorizedUriVerdict verdict =
        checkAuthorizedUri(patterns, m_testMethod->currentText(), url);
    m_testResult->setText(verdict.allowed ? tr("Allowed by %1").arg(verdict.pattern)
                                          : tr("Refused: %1").arg(verdict.message));
    m_testResult->setStyleSheet(verdict.allowed ? QStringLiteral("color: #1e5e2e;")
                                                : QStringLiteral("color: #b01c1c;"));
}

} // namespace vivarium
