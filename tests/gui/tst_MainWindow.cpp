// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The main window's shell on a real store: empty states, the agents list (last result, next
// run, sandbox badge), navigation by keyboard, the runs history with its filters and paging,
// the connections page, the settings page (model endpoints with keys in a secret store,
// autostart, close to tray) and screenshots of every main screen.
#include "GuiTestSupport.h"

#include "vivarium/core/SecretStore.h"
#include "vivarium/ui/Dialogs.h"
#include "vivarium/ui/MainWindow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QTreeWidget>

using namespace vivarium;
using namespace guitest;

class TestMainWindow : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<Store> m_store;
    MemorySecretStore m_secrets;

    UiServices services()
    {
        UiServices s;
        s.store = m_store.get();
        s.secrets = &m_secrets;
        s.dataDir = m_tmp.path();
        s.secretBackend = QStringLiteral("vault");
        s.secretBackendReason = QStringLiteral("test: an in-memory store");
        return s;
    }

    /** A run in some state, written straight to the store (no engine in this test). */
    RunRecord addRun(const QString& agentId, RunStatus status, const QString& reason = {},
                     const QString& trigger = QStringLiteral("cli:test"))
    {
        NewRun nr;
        nr.agentId = agentId;
        nr.trigger = trigger;
        auto run = m_store->createRun(nr);
        if (!run)
            return {};
        if (status != RunStatus::Queued) {
            (void)m_store->setRunStatus(run->id, RunStatus::Running);
            if (status != RunStatus::Running)
                (void)m_store->setRunStatus(run->id, status, reason);
        }
        return m_store->run(run->id).value_or(*run);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        auto s = Store::open(m_tmp.filePath(QStringLiteral("vivarium.db")));
        QVERIFY2(s.has_value(), qPrintable(s ? QString() : s.error().toString()));
        m_store = std::move(*s);
        Dialogs::setNonModal(true);
    }

    void emptyStatesSayWhatToDo()
    {
        MainWindow w(services());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* empty = child<QWidget>(&w, QStringLiteral("agentsEmptyState"));
        QVERIFY(empty);
        QVERIFY(empty->isVisible());
        QVERIFY(child<QPushButton>(&w, QStringLiteral("agentsEmptyNew"))->isVisible());
        QVERIFY(child<QPushButton>(&w, QStringLiteral("agentsEmptyImport"))->isVisible());
        // Read-only window (no supervisor): the state says so.
        QVERIFY(child<QLabel>(&w, QStringLiteral("engineState"))
                    ->text()
                    .contains(QStringLiteral("read-only")));
        QVERIFY(screenshot(&w, QStringLiteral("agents-empty")));

        QTest::keyClick(&w, Qt::Key_2, Qt::ControlModifier);
        QCOMPARE(w.currentPage(), MainWindow::Page::Runs);
        QVERIFY(child<QWidget>(&w, QStringLiteral("runsEmptyState"))->isVisible());
        QVERIFY(screenshot(&w, QStringLiteral("runs-empty")));

        QTest::keyClick(&w, Qt::Key_3, Qt::ControlModifier);
        QCOMPARE(w.currentPage(), MainWindow::Page::Connections);
        QVERIFY(child<QWidget>(&w, QStringLiteral("connectionsEmptyState"))->isVisible());
        // Connect opens the connection wizard (tst_connectwizard drives it).
        QTest::mouseClick(child<QPushButton>(&w, QStringLiteral("connectionsConnect")),
                          Qt::LeftButton);
        auto* wizard = child<QDialog>(&w, QStringLiteral("connectionWizard"));
        QVERIFY(wizard && wizard->isVisible());
        wizard->reject();
        QVERIFY(screenshot(&w, QStringLiteral("connections-empty")));
    }

    void agentsListShowsStateAndTier()
    {
        QVERIFY(m_store->saveAgent(agent(QStringLiteral("inbox-triage"))).has_value());
        AgentDefinition digest = agent(QStringLiteral("daily-digest"));
        digest.name = QStringLiteral("Daily digest");
        ScheduleSpec morning;
        morning.cron = QStringLiteral("0 7 * * *");
        morning.tz = QStringLiteral("Europe/Paris");
        digest.schedules = {morning};
        QVERIFY(m_store->saveAgent(digest).has_value());
        AgentDefinition raw = agent(QStringLiteral("dev-raw"));
        raw.sandbox.tier = QStringLiteral("none");
        raw.sandbox.minTier = QStringLiteral("none");
        QVERIFY(m_store->saveAgent(raw).has_value());
        addRun(QStringLiteral("inbox-triage"), RunStatus::Succeeded);
        addRun(QStringLiteral("inbox-triage"), RunStatus::Failed, QStringLiteral("max_steps"));

        MainWindow w(services());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* list = child<QTreeView>(&w, QStringLiteral("agentsList"));
        QVERIFY(list && list->isVisible());
        QAbstractItemModel* m = list->model();
        QCOMPARE(m->rowCount(), 3);
        // Sorted by name: "Agent dev-raw", "Agent inbox-triage", "Daily digest".
        QCOMPARE(m->index(0, 0).data().toString(), QStringLiteral("Agent dev-raw"));
        QCOMPARE(m->index(2, 0).data().toString(), QStringLiteral("Daily digest"));
        // Last run: the newest (failed), with its reason in the tooltip.
        QVERIFY(m->index(1, 1).data().toString().startsWith(QStringLiteral("Failed")));
        QVERIFY(
            m->index(1, 1).data(Qt::ToolTipRole).toString().contains(QStringLiteral("max_steps")));
        QCOMPARE(m->index(0, 1).data().toString(), QStringLiteral("Never run"));
        // Next run from the cron schedule, in its zone; none for the others.
        QVERIFY(m->index(2, 2)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("Europe/Paris")));
        QCOMPARE(m->index(1, 2).data().toString(), QStringLiteral("—"));
        // Tier none is UNSANDBOXED, loudly.
        QCOMPARE(m->index(0, 4).data().toString(), QStringLiteral("UNSANDBOXED"));
        QCOMPARE(m->index(1, 4).data().toString(), QStringLiteral("bwrap"));
        // Without an engine, Run now is disabled.
        QVERIFY(!child<QPushButton>(&w, QStringLiteral("agentsRunNow"))->isEnabled());

        // The filter narrows the list.
        QTest::keyClicks(child<QLineEdit>(&w, QStringLiteral("agentsFilter")),
                         QStringLiteral("digest"));
        QTRY_COMPARE(m->rowCount(), 1);
        child<QLineEdit>(&w, QStringLiteral("agentsFilter"))->clear();
        QTRY_COMPARE(m->rowCount(), 3);
        list->setCurrentIndex(m->index(1, 0));
        QVERIFY(child<QLabel>(&w, QStringLiteral("agentDetailTitle"))
                    ->text()
                    .contains(QStringLiteral("inbox-triage")));
        QVERIFY(screenshot(&w, QStringLiteral("agents")));

        // Keyboard: Enter opens the editor; Escape goes back.
        list->setFocus();
        QTest::keyClick(list, Qt::Key_Return);
        QCOMPARE(w.currentPage(), MainWindow::Page::AgentEditor);
        QVERIFY(screenshot(&w, QStringLiteral("agent-editor")));
        QTest::keyClick(child<QWidget>(&w, QStringLiteral("agentEditor")), Qt::Key_Escape);
        QCOMPARE(w.currentPage(), MainWindow::Page::Agents);
    }

    void runsHistoryFiltersAndPages()
    {
        // 260 more runs: more than two pages.
        for (int i = 0; i < 130; ++i) {
            addRun(QStringLiteral("daily-digest"), RunStatus::Succeeded, {},
                   QStringLiteral("schedule:daily-digest#1"));
            addRun(QStringLiteral("inbox-triage"),
                   i % 10 == 0 ? RunStatus::TimedOut : RunStatus::Succeeded);
        }
        MainWindow w(services());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showPage(MainWindow::Page::Runs);
        auto* list = child<QTreeView>(&w, QStringLiteral("runsList"));
        QVERIFY(list && list->isVisible());
        QAbstractItemModel* m = list->model();
        // One page first, more as the view scrolls (fetchMore).
        QVERIFY2(m->rowCount() >= 100 && m->rowCount() < 262,
                 qPrintable(QString::number(m->rowCount())));
        QVERIFY(child<QLabel>(&w, QStringLiteral("runsFooter"))
                    ->text()
                    .contains(QStringLiteral("scroll")));
        while (m->canFetchMore({}))
            m->fetchMore({});
        QCOMPARE(m->rowCount(), 262);
        QVERIFY(child<QLabel>(&w, QStringLiteral("runsFooter"))
                    ->text()
                    .contains(QStringLiteral("262")));

        auto* status = child<QComboBox>(&w, QStringLiteral("runsStatusFilter"));
        status->setCurrentIndex(status->findData(QStringLiteral("timed_out")));
        QTRY_COMPARE(m->rowCount(), 13);
        auto* agentBox = child<QComboBox>(&w, QStringLiteral("runsAgentFilter"));
        agentBox->setCurrentIndex(agentBox->findData(QStringLiteral("daily-digest")));
        QTRY_COMPARE(m->rowCount(), 0);
        QVERIFY(child<QLabel>(&w, QStringLiteral("runsFooter"))
                    ->text()
                    .contains(QStringLiteral("No runs match")));
        status->setCurrentIndex(0);
        QTRY_VERIFY(m->rowCount() >= 100);
        // Text: the failed run's reason.
        agentBox->setCurrentIndex(0);
        QTest::keyClicks(child<QLineEdit>(&w, QStringLiteral("runsTextFilter")),
                         QStringLiteral("max_steps"));
        QTRY_COMPARE(m->rowCount(), 1);
        QCOMPARE(m->index(0, 0).data().toString(), QStringLiteral("Failed"));
        QVERIFY(screenshot(&w, QStringLiteral("runs-filtered")));
        child<QLineEdit>(&w, QStringLiteral("runsTextFilter"))->clear();
        QTRY_VERIFY(m->rowCount() >= 100);
        list->setCurrentIndex(m->index(0, 0));
        QVERIFY(screenshot(&w, QStringLiteral("runs")));
    }

    void connectionsHighlightReconnect()
    {
        ConnectionRecord ok;
        ok.name = QStringLiteral("work-mail");
        ok.provider = QStringLiteral("gmail");
        ok.auth = QStringLiteral("oauth2");
        ok.account = QStringLiteral("me@example.com");
        ok.status = QStringLiteral("ok");
        QVERIFY(m_store->saveConnection(ok).has_value());
        ConnectionRecord bad = ok;
        bad.name = QStringLiteral("team-slack");
        bad.provider = QStringLiteral("slack");
        bad.account = QStringLiteral("acme workspace");
        bad.status = QStringLiteral("needs_reconnect");
        bad.statusReason = QStringLiteral("the refresh token was revoked");
        QVERIFY(m_store->saveConnection(bad).has_value());

        MainWindow w(services());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showPage(MainWindow::Page::Connections);
        auto* list = child<QTreeWidget>(&w, QStringLiteral("connectionsList"));
        QVERIFY(list && list->isVisible());
        QCOMPARE(list->topLevelItemCount(), 2);
        QTreeWidgetItem* slack =
            list->findItems(QStringLiteral("team-slack"), Qt::MatchExactly).value(0);
        QVERIFY(slack);
        QVERIFY(slack->text(4).contains(QStringLiteral("Needs reconnecting")));
        QVERIFY(slack->text(4).contains(QStringLiteral("revoked")));
        QVERIFY(slack->font(4).bold());
        QVERIFY(slack->background(0).color() !=
                list->findItems(QStringLiteral("work-mail"), Qt::MatchExactly)
                    .value(0)
                    ->background(0)
                    .color());
        QVERIFY(child<QLabel>(&w, QStringLiteral("connectionsSummary"))
                    ->text()
                    .contains(QStringLiteral("reconnecting")));
        QVERIFY(screenshot(&w, QStringLiteral("connections")));
    }

    void settingsApiKeys()
    {
        MainWindow w(services());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTest::keyClick(&w, Qt::Key_4, Qt::ControlModifier);
        QTest::mouseClick(child<QPushButton>(&w, QStringLiteral("apiKeysCreate")), Qt::LeftButton);
        QDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = w.findChild<QDialog*>(QStringLiteral("apiKeyCreateDialog"))) !=
                    nullptr);
        QTRY_VERIFY(dialog->isVisible());
        // No scope: the store's own refusal, inline.
        QTest::keyClicks(child<QLineEdit>(dialog, QStringLiteral("apiKeyName")),
                         QStringLiteral("n8n"));
        QTest::mouseClick(child<QPushButton>(dialog, QStringLiteral("apiKeyCreate")),
                          Qt::LeftButton);
        auto* error = child<QLabel>(dialog, QStringLiteral("apiKeyError"));
        QTRY_VERIFY(!error->isHidden());
        QVERIFY2(error->text().contains(QStringLiteral("at least one scope")),
                 qPrintable(error->text()));
        child<QCheckBox>(dialog, QStringLiteral("apiKeyScope_runs_read"))->setChecked(true);
        child<QCheckBox>(dialog, QStringLiteral("apiKeyScope_runs_write"))->setChecked(true);
        QTest::mouseClick(child<QPushButton>(dialog, QStringLiteral("apiKeyCreate")),
                          Qt::LeftButton);
        // Shown once, and it is the key the API would accept.
        auto* value = child<QLineEdit>(dialog, QStringLiteral("apiKeyValue"));
        QTRY_VERIFY(value->isVisible());
        const QString key = value->text();
        QVERIFY2(key.startsWith(QStringLiteral("viv_")), qPrintable(key));
        auto found = m_store->findApiKey(key);
        QVERIFY(found && *found);
        QCOMPARE((*found)->scopes,
                 (QStringList{QStringLiteral("runs:read"), QStringLiteral("runs:write")}));
        QVERIFY(screenshot(dialog, QStringLiteral("settings-api-key-created")));
        QTest::mouseClick(child<QPushButton>(dialog, QStringLiteral("apiKeyDone")), Qt::LeftButton);
        auto* list = child<QTreeWidget>(&w, QStringLiteral("apiKeysList"));
        QTRY_COMPARE(list->topLevelItemCount(), 1);
        QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("n8n"));
        // The key is nowhere in the window once the dialog is gone.
        for (QLineEdit* e : w.findChildren<QLineEdit*>())
            QVERIFY(!e->text().contains(key));

        // Revoke, after a question.
        list->setCurrentItem(list->topLevelItem(0));
        Dialogs::setNextAnswer(QMessageBox::Yes);
        QTest::mouseClick(child<QPushButton>(&w, QStringLiteral("apiKeysRevoke")), Qt::LeftButton);
        QTRY_VERIFY(list->topLevelItem(0)->text(4).startsWith(QStringLiteral("revoked")));
        found = m_store->findApiKey(key);
        QVERIFY(found && *found && (*found)->isRevoked());
    }

    void settingsEndpointsKeysAndDesktop()
    {
        MainWindow w(services());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTest::keyClick(&w, Qt::Key_4, Qt::ControlModifier);
        QCOMPARE(w.currentPage(), MainWindow::Page::Settings);

        // Add an endpoint with a key: the key goes to the secret store, not the store.
        QTest::mouseClick(child<QPushButton>(&w, QStringLiteral("settingsAddEndpoint")),
                          Qt::LeftButton);
        QDialog* dialog = nullptr;
        QTRY_VERIFY((dialog = w.findChild<QDialog*>(QStringLiteral("modelEndpointDialog"))) !=
                    nullptr);
        QTRY_VERIFY(dialog->isVisible());
        QTest::keyClicks(child<QLineEdit>(dialog, QStringLiteral("endpointName")),
                         QStringLiteral("Bad Name"));
        QTest::keyClicks(child<QLineEdit>(dialog, QStringLiteral("endpointBaseUrl")),
                         QStringLiteral("https://api.openai.com"));
        // Valid but probably wrong: the same hint as `vivarium model add`.
        QTRY_VERIFY(child<QLabel>(dialog, QStringLiteral("endpointWarnings"))
                        ->text()
                        .contains(QStringLiteral("/v1")));
        auto* keyMode = child<QComboBox>(dialog, QStringLiteral("endpointKeyMode"));
        keyMode->setCurrentIndex(1); // store this key
        QTest::keyClicks(child<QLineEdit>(dialog, QStringLiteral("endpointKey")),
                         QStringLiteral("sk-canary-gui-1234"));
        QTest::mouseClick(child<QPushButton>(dialog, QStringLiteral("endpointSave")),
                          Qt::LeftButton);
        auto* error = child<QLabel>(dialog, QStringLiteral("endpointError"));
        QVERIFY(error->isVisible());
        QVERIFY2(error->text().contains(QStringLiteral("must match [a-z0-9]")),
                 qPrintable(error->text()));
        child<QLineEdit>(dialog, QStringLiteral("endpointName"))->clear();
        QTest::keyClicks(child<QLineEdit>(dialog, QStringLiteral("endpointName")),
                         QStringLiteral("openai"));
        QVERIFY(screenshot(dialog, QStringLiteral("settings-endpoint-dialog")));
        QTest::mouseClick(child<QPushButton>(dialog, QStringLiteral("endpointSave")),
                          Qt::LeftButton);
        QTRY_VERIFY(!dialog->isVisible());
        auto rec = m_store->modelEndpoint(QStringLiteral("openai"));
        QVERIFY(rec.has_value());
        QCOMPARE(rec->secretKey, QStringLiteral("model-endpoint/openai/api-key"));
        QCOMPARE(m_secrets.read(rec->secretKey).value_or(QByteArray()),
                 QByteArray("sk-canary-gui-1234"));
        auto* endpoints = child<QTreeWidget>(&w, QStringLiteral("modelEndpointsList"));
        QTRY_COMPARE(endpoints->topLevelItemCount(), 1);
        QCOMPARE(endpoints->topLevelItem(0)->text(3), QStringLiteral("in the secret store"));
        // The key is nowhere in the store file.
        QFile db(m_tmp.filePath(QStringLiteral("vivarium.db")));
        QVERIFY(db.open(QIODevice::ReadOnly));
        QVERIFY(!db.readAll().contains("sk-canary-gui-1234"));

        // The API listen address is checked with the CLI's words.
        auto* listen = child<QLineEdit>(&w, QStringLiteral("settingsApiListen"));
        listen->selectAll();
        QTest::keyClicks(listen, QStringLiteral("0.0.0.0:8765"));
        QTest::keyClick(listen, Qt::Key_Return);
        QVERIFY(child<QLabel>(&w, QStringLiteral("settingsApiListenError"))
                    ->text()
                    .contains(QStringLiteral("loopback")));

        // Desktop: autostart writes and removes the XDG entry; close-to-tray is a setting.
        const QString entry =
            QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
            QStringLiteral("/autostart/vivarium.desktop");
        QFile::remove(entry);
        auto* autostart = child<QCheckBox>(&w, QStringLiteral("settingsAutostart"));
        autostart->setChecked(true);
        QVERIFY(QFile::exists(entry));
        QFile f(entry);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("Exec="));
        QVERIFY(text.contains("--minimized"));
        QVERIFY(text.contains(m_tmp.path().toUtf8()));
        QCOMPARE(Settings(*m_store).value(QStringLiteral("gui.autostart")).value(),
                 QStringLiteral("true"));
        autostart->setChecked(false);
        QVERIFY(!QFile::exists(entry));
        child<QCheckBox>(&w, QStringLiteral("settingsCloseToTray"))->setChecked(false);
        QCOMPARE(Settings(*m_store).value(QStringLiteral("gui.close_to_tray")).value(),
                 QStringLiteral("false"));
        child<QCheckBox>(&w, QStringLiteral("settingsCloseToTray"))->setChecked(true);

        // The sandbox probe runs off the GUI thread and reports every tier.
        auto* tiers = child<QTreeWidget>(&w, QStringLiteral("sandboxTiers"));
        QTRY_VERIFY_WITH_TIMEOUT(tiers->topLevelItemCount() >= 4, 30000);
        QVERIFY(tiers->topLevelItem(0)->text(0).contains(QStringLiteral("UNSANDBOXED")));
        QVERIFY(screenshot(&w, QStringLiteral("settings")));

        // Removing the endpoint removes its key too.
        endpoints->setCurrentItem(endpoints->topLevelItem(0));
        Dialogs::setNextAnswer(QMessageBox::Yes);
        QTest::mouseClick(child<QPushButton>(&w, QStringLiteral("settingsRemoveEndpoint")),
                          Qt::LeftButton);
        QTRY_COMPARE(endpoints->topLevelItemCount(), 0);
        QVERIFY(!m_secrets.read(QStringLiteral("model-endpoint/openai/api-key")).has_value());
        Dialogs::takeMessages();
    }

    void closeWithoutTrayAsksToQuit()
    {
        MainWindow w(services());
        QSignalSpy quit(&w, &MainWindow::quitRequested);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setTrayAvailable(false);
        w.close();
        QCOMPARE(quit.count(), 1);
        // With a tray and the default setting, closing only hides the window.
        MainWindow w2(services());
        QSignalSpy quit2(&w2, &MainWindow::quitRequested);
        QSignalSpy hidden(&w2, &MainWindow::hiddenToTray);
        w2.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w2));
        w2.setTrayAvailable(true);
        w2.close();
        QCOMPARE(quit2.count(), 0);
        QCOMPARE(hidden.count(), 1);
        QVERIFY(!w2.isVisible());
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_MainWindow.moc"
