// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The desktop app on a real engine: an agent made in the editor, "Run now" against a fake
// model vendor on 127.0.0.1 (the real runner in its sandbox), the run live in the Runs page,
// the Agents page's last result, and the tray's notification when a run fails.
#include "FakeModelServer.h"
#include "GuiTestSupport.h"
#include "TestSupport.h"

#include "vivarium/core/ModelEndpoints.h"
#include "vivarium/engine/Engine.h"
#include "vivarium/ui/Dialogs.h"
#include "vivarium/ui/MainWindow.h"
#include "vivarium/ui/TrayController.h"

#include <QComboBox>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

using namespace vivarium;
using namespace guitest;

class TestGuiRun : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    testsupport::FakeModelServer m_model;
    std::unique_ptr<Engine> m_engine;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<TrayController> m_tray;

    void type(const QString& name, const QString& text)
    {
        QWidget* w = m_window->findChild<QWidget*>(name);
        QVERIFY2(w, qPrintable(name));
        if (auto* c = qobject_cast<QComboBox*>(w))
            w = c->lineEdit();
        if (auto* e = qobject_cast<QLineEdit*>(w))
            e->clear();
        w->setFocus();
        QTest::keyClicks(w, text);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QVERIFY(m_model.start());
        m_model.setRepeat(true);
        m_model.setScript(
            QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("All sorted.")}}});
        const QString data = m_tmp.filePath(QStringLiteral("data"));
        // The vault, not a desktop keychain: tests never touch the user's secret service.
        {
            QVERIFY(Paths::ensurePrivateDir(data).has_value());
            auto store = Store::open(Paths(data).storeFile());
            QVERIFY(store.has_value());
            QVERIFY(Settings(**store)
                        .set(QStringLiteral("secrets.backend"), QStringLiteral("vault"))
                        .has_value());
        }
        m_engine = std::make_unique<Engine>(Paths(data));
        auto ok = m_engine->start();
        QVERIFY2(ok.has_value(), qPrintable(ok ? QString() : ok.error().toString()));
        // The endpoint as `vivarium model add fake --api openai --base-url ... --key-stdin` does.
        ModelEndpointChange change;
        change.name = QStringLiteral("fake");
        change.api = QStringLiteral("openai");
        change.baseUrl = m_model.openAiBaseUrl().toString();
        change.key = ModelEndpointChange::Key::Set;
        change.newKey = "sk-canary-guirun-5150";
        SecretStore* secrets = m_engine->secrets();
        QVERIFY(
            ModelEndpoints::save(
                *m_engine->store(), [secrets]() -> Result<SecretStore*> { return secrets; }, change)
                .has_value());

        UiServices s;
        s.store = m_engine->store();
        s.supervisor = m_engine->supervisor();
        s.secrets = m_engine->secrets();
        s.dataDir = data;
        s.secretBackend = m_engine->secretBackend();
        s.secretBackendReason = m_engine->secretBackendReason();
        Dialogs::setNonModal(true);
        m_window = std::make_unique<MainWindow>(s);
        m_tray = std::make_unique<TrayController>(m_window.get());
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanupTestCase()
    {
        m_tray.reset();
        m_window.reset();
        if (m_engine)
            m_engine->stop(5000);
    }

    void runNowFromTheList()
    {
        // Made in the editor, as a user would.
        QTest::mouseClick(child<QPushButton>(m_window.get(), QStringLiteral("agentsEmptyNew")),
                          Qt::LeftButton);
        type(QStringLiteral("agentId"), QStringLiteral("sorter"));
        type(QStringLiteral("agentName"), QStringLiteral("Sorter"));
        type(QStringLiteral("agentPrompt"), QStringLiteral("Say that all is sorted."));
        type(QStringLiteral("agentModelEndpoint"), QStringLiteral("fake"));
        type(QStringLiteral("agentModelName"), QStringLiteral("gpt-4o-mini"));
        QTest::mouseClick(child<QPushButton>(m_window.get(), QStringLiteral("agentEditorSave")),
                          Qt::LeftButton);
        QTRY_VERIFY(m_engine->store()->agent(QStringLiteral("sorter")).has_value());
        QTest::mouseClick(child<QPushButton>(m_window.get(), QStringLiteral("agentEditorBack")),
                          Qt::LeftButton);
        QCOMPARE(m_window->currentPage(), MainWindow::Page::Agents);

        // The row's own Run now button.
        auto* list = child<QTreeView>(m_window.get(), QStringLiteral("agentsList"));
        QTRY_COMPARE(list->model()->rowCount(), 1);
        QSignalSpy started(m_window.get(), &MainWindow::runStarted);
        clickCell(list, list->model()->index(0, 5));
        QTRY_COMPARE(started.count(), 1);
        const QString runId = started.first().at(0).toString();
        QVERIFY(runId.startsWith(QStringLiteral("run_")));

        // Live in the Runs page, to its end, from the supervisor's signals.
        QTest::keyClick(m_window.get(), Qt::Key_2, Qt::ControlModifier);
        auto* runs = child<QTreeView>(m_window.get(), QStringLiteral("runsList"));
        QTRY_VERIFY(runs->model()->rowCount() >= 1);
        QCOMPARE(runs->model()->index(0, 0).data(Qt::UserRole + 1).toString(), runId);
        QTRY_VERIFY_WITH_TIMEOUT(
            runs->model()->index(0, 0).data().toString() == QStringLiteral("Succeeded"), 30000);
        QCOMPARE(runs->model()->index(0, 4).data().toString().left(4), QStringLiteral("gui:"));
        auto run = m_engine->store()->run(runId);
        QVERIFY(run.has_value());
        QCOMPARE(run->status, RunStatus::Succeeded);
        QCOMPARE(run->output.toString(), QStringLiteral("All sorted."));
        runs->setCurrentIndex(runs->model()->index(0, 0));
        QTest::qWait(200);
        QVERIFY(screenshot(m_window.get(), QStringLiteral("runs-live")));

        // The Agents page shows the result.
        QTest::keyClick(m_window.get(), Qt::Key_1, Qt::ControlModifier);
        QTRY_VERIFY(
            list->model()->index(0, 1).data().toString().startsWith(QStringLiteral("Succeeded")));
        QTRY_VERIFY(child<QLabel>(m_window.get(), QStringLiteral("engineState"))
                        ->text()
                        .contains(QStringLiteral("no run active")));
        QVERIFY(screenshot(m_window.get(), QStringLiteral("agents-after-run")));
    }

    void failedRunIsNotified()
    {
        m_model.setScript(
            QJsonArray{QJsonObject{{QStringLiteral("status"), 401},
                                   {QStringLiteral("error"), QStringLiteral("invalid api key")}}});
        auto* list = child<QTreeView>(m_window.get(), QStringLiteral("agentsList"));
        list->setCurrentIndex(list->model()->index(0, 0));
        QSignalSpy started(m_window.get(), &MainWindow::runStarted);
        QTest::mouseClick(child<QPushButton>(m_window.get(), QStringLiteral("agentsRunNow")),
                          Qt::LeftButton);
        QTRY_COMPARE(started.count(), 1);
        const QString runId = started.first().at(0).toString();
        QTRY_VERIFY_WITH_TIMEOUT(m_engine->store()->run(runId)->status == RunStatus::Failed, 30000);
        QTRY_VERIFY(m_tray->lastNotification().startsWith(QStringLiteral("Sorter failed")));
        QTRY_VERIFY(
            list->model()->index(0, 1).data().toString().startsWith(QStringLiteral("Failed")));
        // The canary key surfaced nowhere a user sees.
        QVERIFY(!m_tray->lastNotification().contains(QStringLiteral("sk-canary")));
        const auto events = m_engine->store()->events(runId);
        QVERIFY(events.has_value());
        for (const RunEvent& e : *events)
            QVERIFY(!QJsonDocument(e.data).toJson().contains("sk-canary-guirun-5150"));
    }

    void reconnectIsNotifiedOnce()
    {
        Store* store = m_engine->store();
        auto connection = [](const QString& name) {
            ConnectionRecord c;
            c.name = name;
            c.provider = QStringLiteral("github");
            c.auth = QStringLiteral("api_key");
            return c;
        };
        QVERIFY(store->saveConnection(connection(QStringLiteral("work"))));
        QVERIFY(store->saveConnection(connection(QStringLiteral("home"))));
        QVERIFY(store->setConnectionStatus(QStringLiteral("work"),
                                           QStringLiteral("needs_reconnect"),
                                           QStringLiteral("the grant was revoked")));
        m_tray->checkConnections();
        QCOMPARE(m_tray->lastNotification(),
                 QStringLiteral("work needs a reconnect: the grant was revoked. Agents that use it "
                                "pause until you reconnect it."));
        // Still broken: not told again; another one breaking is told.
        QVERIFY(store->setConnectionStatus(QStringLiteral("home"),
                                           QStringLiteral("needs_reconnect"), QString()));
        m_tray->checkConnections();
        QVERIFY2(m_tray->lastNotification().startsWith(QStringLiteral("home needs a reconnect")),
                 qPrintable(m_tray->lastNotification()));
        // Fixed, then broken anew: told again.
        QVERIFY(
            store->setConnectionStatus(QStringLiteral("work"), QStringLiteral("ok"), QString()));
        m_tray->checkConnections();
        QVERIFY(store->setConnectionStatus(
            QStringLiteral("work"), QStringLiteral("needs_reconnect"), QStringLiteral("expired")));
        m_tray->checkConnections();
        QVERIFY2(m_tray->lastNotification().startsWith(QStringLiteral("work needs a reconnect: "
                                                                      "expired")),
                 qPrintable(m_tray->lastNotification()));
    }
};

QTEST_MAIN(TestGuiRun)
#include "tst_GuiRun.moc"
