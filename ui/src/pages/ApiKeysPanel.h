// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QDialog>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTreeWidget;

namespace vivarium {

class Store;

/**
 * The local API's keys in Settings: list (name, scopes, created, last used, revoked), create
 * (the key is shown once, in the dialog that made it) and revoke. The same Store calls as
 * `vivarium api-key`; only SHA-256 of a key is ever stored.
 */
class ApiKeysPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ApiKeysPanel(Store* store, QWidget* parent = nullptr);
    void reload();

signals:
    void message(const QString& text);

private:
    void createKey();
    void revokeSelected();

    Store* m_store = nullptr;
    QTreeWidget* m_list = nullptr;
    QPushButton* m_revoke = nullptr;
};

/** Name and scopes in, the new key out: shown once, copyable, never again. */
class ApiKeyCreateDialog : public QDialog
{
    Q_OBJECT
public:
    ApiKeyCreateDialog(Store* store, QWidget* parent = nullptr);

signals:
    void created(const QString& name);

private:
    void create();

    Store* m_store = nullptr;
    QStackedWidget* m_pages = nullptr;
    QLineEdit* m_name = nullptr;
    QList<QCheckBox*> m_scopes;
    QLabel* m_error = nullptr;
    QLineEdit* m_key = nullptr;
};

} // namespace vivarium
