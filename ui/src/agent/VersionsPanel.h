// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;

namespace vivarium {

class Store;

/**
 * An agent's saved versions, newest first; the difference between two of them (or one and
 * the current version) as a line diff of their canonical JSON and prompt; restoring an old
 * version saves it again as a new version, so the history only ever grows.
 */
class VersionsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit VersionsPanel(Store* store, QWidget* parent = nullptr);

    void setAgent(const QString& agentId);
    /** Versions listed now. */
    int versionCount() const;

public slots:
    void refresh();
    /** Compare the selected versions (one selected: with the current version). */
    void compareSelected();
    /** Save the selected version again as the newest. */
    void restoreSelected();

signals:
    /** A version was restored (saved as `newVersion`). */
    void restored(int fromVersion, int newVersion);

private:
    QList<int> selectedVersions() const;

    Store* m_store;
    QString m_agentId;
    QTreeWidget* m_list = nullptr;
    QPushButton* m_compare = nullptr;
    QPushButton* m_restore = nullptr;
    QLabel* m_diffTitle = nullptr;
    QPlainTextEdit* m_diff = nullptr;
};

} // namespace vivarium
