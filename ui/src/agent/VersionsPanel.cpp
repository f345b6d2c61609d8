// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "VersionsPanel.h"

#include "AgentValidation.h"
#include "Format.h"
#include "Icons.h"
#include "TextDiff.h"

#include "vivarium/core/Store.h"
#include "vivarium/ui/Dialogs.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace vivarium {

VersionsPanel::VersionsPanel(Store* store, QWidget* parent)
    : QWidget(parent)
    , m_store(store)
{
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("agentVersions"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_list->setHeaderLabels({tr("Version"), tr("Saved"), tr("From")});
    m_list->header()->resizeSection(0, 70);
    m_list->header()->resizeSection(1, 150);
    m_compare = new QPushButton(tr("&Compare"), this);
    m_compare->setObjectName(QStringLiteral("agentVersionsCompare"));
    m_compare->setToolTip(tr("Two versions selected: their difference. One: the difference to "
                             "the current version."));
    m_restore = new QPushButton(icons::get(QStringLiteral("refresh")), tr("&Restore…"), this);
    m_restore->setObjectName(QStringLiteral("agentVersionsRestore"));
    m_restore->setToolTip(tr("Save the selected version again, as a new version"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_compare);
    buttons->addWidget(m_restore);
    buttons->addStretch();
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_list, 1);
    leftLayout->addLayout(buttons);

    m_diffTitle = new QLabel(tr("Select a version and press Compare."), this);
    m_diffTitle->setObjectName(QStringLiteral("agentVersionsDiffTitle"));
    m_diffTitle->setWordWrap(true);
    m_diff = new QPlainTextEdit(this);
    m_diff->setObjectName(QStringLiteral("agentVersionsDiff"));
    m_diff->setReadOnly(true);
    m_diff->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_diff->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_diffTitle);
    rightLayout->addWidget(m_diff, 1);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split);

    connect(m_compare, &QPushButton::clicked, this, &VersionsPanel::compareSelected);
    connect(m_restore, &QPushButton::clicked, this, &VersionsPanel::restoreSelected);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, [this] {
        const int n = int(selectedVersions().size());
        m_compare->setEnabled(n == 1 || n == 2);
        m_restore->setEnabled(n == 1);
    });
    connect(m_list, &QTreeWidget::itemActivated, this, &VersionsPanel::compareSelected);
    m_compare->setEnabled(false);
    m_restore->setEnabled(false);
}

void VersionsPanel::setAgent(const QString& agentId)
{
    m_agentId = agentId;
    m_diff->clear();
    m_diffTitle->setText(agentId.isEmpty() ? tr("Versions appear here once the agent is saved.")
                                           : tr("Select a version and press Compare."));
    refresh();
}

int VersionsPanel::versionCount() const
{
    return m_list->topLevelItemCount();
}

void VersionsPanel::refresh()
{
    m_list->clear();
    if (m_agentId.isEmpty())
        return;
    auto versions = m_store->agentVersions(m_agentId);
    if (!versions)
        return;
    for (const AgentVersionInfo& v : std::as_const(*versions)) {
        auto* item = new QTreeWidgetItem(m_list);
        item->setText(0, QString::number(v.version));
        item->setData(0, Qt::UserRole, v.version);
        item->setText(1, Format::relative(v.savedAt));
        item->setToolTip(1, Format::absolute(v.savedAt));
        item->setText(2, v.sourcePath);
        item->setToolTip(2, tr("%1\ncontent %2").arg(v.sourcePath, v.contentHash.left(12)));
    }
    if (m_list->topLevelItemCount() > 0) {
        QFont bold = m_list->topLevelItem(0)->font(0);
        bold.setBold(true);
        m_list->topLevelItem(0)->setFont(0, bold);
        m_list->topLevelItem(0)->setText(0,
                                         tr("%1 (current)").arg(m_list->topLevelItem(0)->text(0)));
    }
}

QList<int> VersionsPanel::selectedVersions() const
{
    QList<int> out;
    for (QTreeWidgetItem* item : m_list->selectedItems())
        out << item->data(0, Qt::UserRole).toInt();
    std::sort(out.begin(), out.end());
    return out;
}

void VersionsPanel::compareSelected()
{
    QList<int> versions = selectedVersions();
    if (versions.isEmpty() || versions.size() > 2 || m_list->topLevelItemCount() == 0)
        return;
    const int current = m_list->topLevelItem(0)->data(0, Qt::UserRole).toInt();
    if (versions.size() == 1)
        versions.append(current);
    const int older = versions.at(0);
    const int newer = versions.at(1);
    auto a = m_store->agent(m_agentId, older);
    auto b = m_store->agent(m_agentId, newer);
    if (!a || !b) {
        m_diffTitle->setText((!a ? a.error() : b.error()).message);
        return;
    }
    const auto lines = TextDiff::compute(AgentValidation::versionText(a->definition),
                                         AgentValidation::versionText(b->definition));
    const int changes = TextDiff::changes(lines);
    m_diffTitle->setText(older == newer
                             ? tr("Version %1 is the current version.").arg(older)
                             : (changes == 0
                                    ? tr("Versions %1 and %2 are identical.").arg(older).arg(newer)
                                    : tr("From version %1 to version %2: %3 changed "
                                         "%4")
                                          .arg(older)
                                          .arg(newer)
                                          .arg(changes)
                                          .arg(changes == 1 ? tr("line") : tr("lines"))));
    m_diff->setPlainText(TextDiff::render(lines));
    // Colour the lines: red removed, green added.
    QList<QTextEdit::ExtraSelection> marks;
    QTextBlock block = m_diff->document()->firstBlock();
    for (const TextDiff::Line& l : lines) {
        if (!block.isValid())
            break;
        if (l.kind != TextDiff::Kind::Same) {
            QTextEdit::ExtraSelection s;
            s.cursor = QTextCursor(block);
            s.format.setProperty(QTextFormat::FullWidthSelection, true);
            s.format.setBackground(l.kind == TextDiff::Kind::Added ? QColor(0xe3, 0xf6, 0xe5)
                                                                   : QColor(0xfd, 0xe7, 0xe5));
            marks << s;
        }
        block = block.next();
    }
    m_diff->setExtraSelections(marks);
}

void VersionsPanel::restoreSelected()
{
    const QList<int> versions = selectedVersions();
    if (versions.size() != 1)
        return;
    const int version = versions.constFirst();
    auto rec = m_store->agent(m_agentId, version);
    if (!rec)
        return;
    if (Dialogs::question(this, tr("Restore version %1").arg(version),
                          tr("Save version %1 of %2 again as its newest version? The versions "
                             "after it stay in the history.")
                              .arg(version)
                              .arg(m_agentId),
                          QMessageBox::Yes | QMessageBox::Cancel,
                          QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    auto saved = m_store->saveAgent(rec->definition,
                                    QStringLiteral("restored from version %1").arg(version));
    if (!saved) {
        Dialogs::warning(this, tr("Cannot restore the version"), saved.error().message);
        return;
    }
    refresh();
    if (!saved->created)
        m_diffTitle->setText(tr("Version %1 has the same content as the current version: "
                                "nothing to restore.")
                                 .arg(version));
    else
        m_diffTitle->setText(
            tr("Version %1 restored as version %2.").arg(version).arg(saved->version));
    emit restored(version, saved->version);
}

} // namespace vivarium
