// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/MainWindow.h"

#include "vivarium/core/Store.h"

#include <QAction>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTreeWidget>

namespace vivarium {

MainWindow::MainWindow(Store* store, const QString& dataDir, QWidget* parent)
    : QMainWindow(parent)
    , m_store(store)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Vivarium"));
    resize(900, 560);

    m_agents = new QTreeWidget(this);
    m_agents->setObjectName(QStringLiteral("agentsList"));
    m_agents->setRootIsDecorated(false);
    m_agents->setAlternatingRowColors(true);
    m_agents->setHeaderLabels(
        {tr("Agent"), tr("Name"), tr("Version"), tr("Model"), tr("Schedules"), tr("Sandbox")});
    m_agents->header()->setSectionResizeMode(QHeaderView::ResizeToContents);

    m_empty = new QLabel(this);
    m_empty->setObjectName(QStringLiteral("agentsEmptyState"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setTextFormat(Qt::RichText);
    m_empty->setText(tr("<h2>No agents yet</h2><p>Describe one in an <tt>agent.json</tt> file "
                        "and add it with<br><tt>vivarium agent add PATH</tt></p>"
                        "<p>The agent editor arrives in a later version.</p>"));

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_agents);
    setCentralWidget(m_stack);

    auto* file = menuBar()->addMenu(tr("&File"));
    auto* reload = file->addAction(tr("&Refresh"), this, &MainWindow::refresh);
    reload->setShortcuts({QKeySequence(Qt::Key_F5), QKeySequence(Qt::CTRL | Qt::Key_R)});
    auto* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    statusBar()->showMessage(tr("Data directory: %1").arg(dataDir));
    refresh();
}

void MainWindow::refresh()
{
    m_agents->clear();
    auto agents = m_store->agentSummaries();
    if (!agents) {
        m_empty->setText(tr("<h2>Cannot read the store</h2><p>%1</p>")
                             .arg(agents.error().message.toHtmlEscaped()));
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    for (const AgentSummary& a : *agents) {
        auto* item = new QTreeWidgetItem(m_agents);
        item->setText(0, a.id);
        item->setText(1, a.name);
        item->setText(2, QString::number(a.version));
        item->setText(3, a.modelEndpoint + QLatin1Char('/') + a.modelName);
        item->setText(4, QString::number(a.scheduleCount));
        item->setText(5, a.sandboxTier == QLatin1String("none") ? tr("none (UNSANDBOXED)")
                                                                : a.sandboxTier);
    }
    m_stack->setCurrentWidget(agents->isEmpty() ? static_cast<QWidget*>(m_empty) : m_agents);
}

} // namespace vivarium
