// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QMainWindow>

class QLabel;
class QStackedWidget;
class QTreeWidget;

namespace vivarium {

class Store;

/** The desktop app's main window: for now the agents list with an empty state. */
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    /** `store` must outlive the window; the window only reads it. */
    explicit MainWindow(Store* store, const QString& dataDir, QWidget* parent = nullptr);

public slots:
    /** Re-read the agents from the store. */
    void refresh();

private:
    Store* m_store;
    QStackedWidget* m_stack = nullptr;
    QTreeWidget* m_agents = nullptr;
    QLabel* m_empty = nullptr;
};

} // namespace vivarium
