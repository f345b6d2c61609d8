// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "AgentValidation.h"

#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/Store.h"

#include <QJsonArray>
#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;

namespace vivarium {

/**
 * The providers an agent may use: one entry per grant (provider, connection, operations,
 * authorized URIs), edited in a form beside the list. Operations come from the provider
 * catalog when the provider is in it, else they are typed. A live tester says whether a URL
 * would pass the grant's authorized URIs.
 */
class GrantsEditor : public QWidget
{
    Q_OBJECT
public:
    GrantsEditor(const ProviderCatalog& catalog, QList<ConnectionRecord> connections,
                 QWidget* parent = nullptr);

    void setGrants(const QList<ProviderGrant>& grants);
    /** The grants as typed, for the loader (so its messages name what the user wrote). */
    QJsonArray toJson() const;
    int count() const { return int(m_grants.size()); }

    /** Show the problems whose pointer is under /providers. */
    void setProblems(const QList<FieldProblem>& problems);
    /** Select the grant a pointer names and focus its field. */
    void focusPointer(const QString& pointer);

signals:
    void changed();

private:
    struct Grant
    {
        QString provider;
        QString connection;
        QStringList operations;
        QStringList uris;
    };
    void storeForm();
    void loadForm();
    void refreshList();
    void fillOperations(const QString& provider, const QStringList& checked);
    void showFieldProblems();
    void testUri();
    QString label(const Grant& g) const;

    ProviderCatalog m_catalog;
    QList<ConnectionRecord> m_connections;
    QList<Grant> m_grants;
    int m_current = -1;
    bool m_loading = false;
    QList<FieldProblem> m_problems;

    QListWidget* m_list = nullptr;
    QPushButton* m_remove = nullptr;
    QWidget* m_form = nullptr;
    QComboBox* m_provider = nullptr;
    QLabel* m_providerInfo = nullptr;
    QComboBox* m_connection = nullptr;
    QListWidget* m_operations = nullptr;
    QLineEdit* m_extraOperations = nullptr;
    QPlainTextEdit* m_uris = nullptr;
    QPushButton* m_defaultUris = nullptr;
    QComboBox* m_testMethod = nullptr;
    QLineEdit* m_testUrl = nullptr;
    QLabel* m_testResult = nullptr;
    QLabel* m_providerError = nullptr;
    QLabel* m_connectionError = nullptr;
    QLabel* m_operationsError = nullptr;
    QLabel* m_urisError = nullptr;
    QLabel* m_grantError = nullptr;
};

} // namespace vivarium
