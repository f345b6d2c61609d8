// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Store.h"
#include "vivarium/ui/UiServices.h"

#include <QDialog>

#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;

namespace vivarium {

/**
 * Add or edit a model endpoint, exactly as `vivarium model add` does (ModelEndpoints in core):
 * the same checks and messages, the key into the SecretStore, never the store.
 */
class ModelEndpointDialog : public QDialog
{
    Q_OBJECT
public:
    /** `existing`: edit it (the name is fixed); nullopt: a new endpoint. */
    ModelEndpointDialog(const UiServices& services, std::optional<ModelEndpointRecord> existing,
                        QWidget* parent = nullptr);

    void accept() override;

signals:
    /** After a successful save: the endpoint's name and what happened to the key. */
    void saved(const QString& name, const QString& note);

private:
    void updateForm();

    UiServices m_services;
    std::optional<ModelEndpointRecord> m_existing;
    QLineEdit* m_name = nullptr;
    QComboBox* m_api = nullptr;
    QLineEdit* m_baseUrl = nullptr;
    QComboBox* m_keyMode = nullptr;
    QLineEdit* m_key = nullptr;
    QLineEdit* m_priceIn = nullptr;
    QLineEdit* m_priceOut = nullptr;
    QLabel* m_warnings = nullptr;
    QLabel* m_error = nullptr;
};

} // namespace vivarium
