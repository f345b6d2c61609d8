// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Store.h"
#include "vivarium/ui/MainWindow.h"

#include <QDir>
#include <QLabel>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace vivarium;

namespace {

void saveScreenshot(QWidget* w, const QString& name)
{
    const QString dir = qEnvironmentVariable("VIVARIUM_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QDir().mkpath(dir);
    QVERIFY(w->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png")));
}

AgentDefinition agent(const QString& id)
{
    AgentDefinition d;
    d.id = id;
    d.name = QStringLiteral("Agent %1").arg(id);
    d.prompt = QStringLiteral("Do things.");
    d.model.endpoint = QStringLiteral("local");
    d.model.name = QStringLiteral("llama3.1");
    return d;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT
private slots:
    void emptyStateThenAgents()
    {
        QTemporaryDir tmp;
        auto store = Store::open(tmp.filePath(QStringLiteral("v.db")));
        QVERIFY(store.has_value());
        MainWindow w(store->get(), tmp.path());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));

        auto* stack = w.findChild<QStackedWidget*>();
        auto* empty = w.findChild<QLabel*>(QStringLiteral("agentsEmptyState"));
        auto* list = w.findChild<QTreeWidget*>(QStringLiteral("agentsList"));
        QVERIFY(stack && empty && list);
        QCOMPARE(stack->currentWidget(), empty);
        QVERIFY(empty->text().contains(QStringLiteral("vivarium agent add")));
        saveScreenshot(&w, QStringLiteral("main-empty"));

        QVERIFY((*store)->saveAgent(agent(QStringLiteral("inbox-triage"))).has_value());
        QVERIFY((*store)->saveAgent(agent(QStringLiteral("daily-digest"))).has_value());
        QTest::keyClick(&w, Qt::Key_F5); // File > Refresh
        QTRY_COMPARE(stack->currentWidget(), list);
        QCOMPARE(list->topLevelItemCount(), 2);
        QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("daily-digest"));
        QCOMPARE(list->topLevelItem(1)->text(3), QStringLiteral("local/llama3.1"));
        saveScreenshot(&w, QStringLiteral("main-agents"));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_MainWindow.moc"
