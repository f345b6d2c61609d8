// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The agent editor driven like a user would: type an agent, see the CLI's validation messages
// under the fields, fix them, save versions, compare and restore them; import and export
// packages in the format of `vivarium agent add/export`, with the very same error lines.
#include "GuiTestSupport.h"
#include "TestSupport.h"

#include "vivarium/core/SecretStore.h"
#include "vivarium/ui/Dialogs.h"
#include "vivarium/ui/MainWindow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QTreeWidget>

using namespace vivarium;
using namespace guitest;

namespace {

QStringList problemLines(QWidget* root)
{
    QStringList out;
    auto* list = root->findChild<QListWidget*>(QStringLiteral("agentProblems"));
    for (int i = 0; list && i < list->count(); ++i)
        out << list->item(i)->text();
    return out;
}

/** Bring the editor tab holding `w` to the front, as a user would before typing there. */
void showTabOf(QWidget* w)
{
    for (QWidget* p = w; p; p = p->parentWidget()) {
        auto* stack = qobject_cast<QStackedWidget*>(p->parentWidget());
        auto* tabs = stack ? qobject_cast<QTabWidget*>(stack->parentWidget()) : nullptr;
        if (tabs) {
            tabs->setCurrentWidget(p);
            return;
        }
    }
}

void typeInto(QWidget* root, const QString& name, const QString& text)
{
    QWidget* w = root->findChild<QWidget*>(name);
    QVERIFY2(w, qPrintable(name));
    showTabOf(w);
    if (auto* e = qobject_cast<QLineEdit*>(w))
        e->clear();
    if (auto* p = qobject_cast<QPlainTextEdit*>(w))
        p->clear();
    if (auto* c = qobject_cast<QComboBox*>(w)) {
        c->lineEdit()->clear();
        w = c->lineEdit();
    }
    w->setFocus();
    // QTest types printable ASCII only: a line break is the Return key.
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (i > 0)
            QTest::keyClick(w, Qt::Key_Return);
        QTest::keyClicks(w, lines.at(i));
    }
}

} // namespace

class TestAgentEditor : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<Store> m_store;
    MemorySecretStore m_secrets;
    std::unique_ptr<MainWindow> m_window;

    UiServices services()
    {
        UiServices s;
        s.store = m_store.get();
        s.secrets = &m_secrets;
        s.dataDir = m_tmp.filePath(QStringLiteral("data"));
        return s;
    }
    QWidget* editor() { return m_window->findChild<QWidget*>(QStringLiteral("agentEditor")); }
    void clickButton(const QString& name)
    {
        auto* b = child<QPushButton>(m_window.get(), name);
        QVERIFY2(b && b->isEnabled(), qPrintable(name));
        QTest::mouseClick(b, Qt::LeftButton);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QDir().mkpath(m_tmp.filePath(QStringLiteral("data")));
        auto s = Store::open(m_tmp.filePath(QStringLiteral("data/vivarium.db")));
        QVERIFY(s.has_value());
        m_store = std::move(*s);
        ModelEndpointRecord local;
        local.name = QStringLiteral("local");
        local.api = QStringLiteral("openai");
        local.baseUrl = QStringLiteral("http://127.0.0.1:11434/v1");
        QVERIFY(m_store->saveModelEndpoint(local).has_value());
        Dialogs::setNonModal(true);
        m_window = std::make_unique<MainWindow>(services());
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void createWithInlineErrorThenFixAndSave()
    {
        clickButton(QStringLiteral("agentsEmptyNew"));
        QCOMPARE(m_window->currentPage(), MainWindow::Page::AgentEditor);
        // The first endpoint is preselected.
        QCOMPARE(
            child<QComboBox>(m_window.get(), QStringLiteral("agentModelEndpoint"))->currentText(),
            QStringLiteral("local"));

        typeInto(m_window.get(), QStringLiteral("agentId"), QStringLiteral("Inbox Triage"));
        typeInto(m_window.get(), QStringLiteral("agentName"), QStringLiteral("Inbox triage"));
        typeInto(m_window.get(), QStringLiteral("agentPrompt"),
                 QStringLiteral("Sort my inbox.\nFlag what needs me."));
        typeInto(m_window.get(), QStringLiteral("agentModelName"), QStringLiteral("llama3.1"));
        QTRY_VERIFY(!child<QLabel>(m_window.get(), QStringLiteral("agentIdError"))->isHidden());
        const QString idError =
            child<QLabel>(m_window.get(), QStringLiteral("agentIdError"))->text();
        // Exactly the loader's words, as `vivarium agent add` prints them.
        QVERIFY2(idError.startsWith(QStringLiteral("expected an agent id")), qPrintable(idError));
        QVERIFY(idError.contains(QStringLiteral("got string \"Inbox Triage\"")));
        QVERIFY(problemLines(m_window.get())
                    .first()
                    .startsWith(QStringLiteral("/id: expected an agent id")));
        QCOMPARE(child<QLabel>(m_window.get(), QStringLiteral("agentPromptCount"))->text(),
                 QStringLiteral("34 characters · 2 lines"));
        QVERIFY(screenshot(m_window.get(), QStringLiteral("agent-editor-error")));

        // Save refuses, and says why.
        clickButton(QStringLiteral("agentEditorSave"));
        QVERIFY(!m_store->agent(QStringLiteral("inbox-triage")).has_value());

        typeInto(m_window.get(), QStringLiteral("agentId"), QStringLiteral("inbox-triage"));
        QTRY_VERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentIdError"))->isHidden());
        QTRY_VERIFY(problemLines(m_window.get()).isEmpty());
        QTest::keyClick(editor(), Qt::Key_S, Qt::ControlModifier);
        QTRY_VERIFY(m_store->agent(QStringLiteral("inbox-triage")).has_value());
        auto rec = m_store->agent(QStringLiteral("inbox-triage"));
        QCOMPARE(rec->version, 1);
        QCOMPARE(rec->definition.prompt, QStringLiteral("Sort my inbox.\nFlag what needs me."));
        QCOMPARE(rec->definition.model.endpoint, QStringLiteral("local"));
        QVERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentEditorTitle"))
                    ->text()
                    .contains(QStringLiteral("version 1")));
        QCOMPARE(child<QTreeWidget>(m_window.get(), QStringLiteral("agentVersions"))
                     ->topLevelItemCount(),
                 1);
        // The id is fixed once saved.
        QVERIFY(child<QLineEdit>(m_window.get(), QStringLiteral("agentId"))->isReadOnly());
    }

    void everyTabValidatesWithTheLoadersWords()
    {
        auto* tabs = child<QTabWidget>(m_window.get(), QStringLiteral("agentEditorTabs"));
        // Model: a temperature out of range.
        typeInto(m_window.get(), QStringLiteral("agentTemperature"), QStringLiteral("3"));
        QTRY_VERIFY(
            !child<QLabel>(m_window.get(), QStringLiteral("agentTemperatureError"))->isHidden());
        QCOMPARE(child<QLabel>(m_window.get(), QStringLiteral("agentTemperatureError"))->text(),
                 QStringLiteral("expected a number from 0 to 2, got number 3"));
        typeInto(m_window.get(), QStringLiteral("agentTemperature"), QStringLiteral("0.2"));
        QTRY_VERIFY(
            child<QLabel>(m_window.get(), QStringLiteral("agentTemperatureError"))->isHidden());

        // Output: JSON syntax, then a schema the loader refuses.
        typeInto(m_window.get(), QStringLiteral("agentOutputSchema"),
                 QStringLiteral("{\"type\": "));
        QTRY_VERIFY(
            !child<QLabel>(m_window.get(), QStringLiteral("agentOutputSchemaError"))->isHidden());
        QVERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentOutputSchemaError"))
                    ->text()
                    .startsWith(QStringLiteral("invalid JSON at line 1")));
        typeInto(m_window.get(), QStringLiteral("agentOutputSchema"),
                 QStringLiteral("{\"type\": \"obj\"}"));
        QTRY_VERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentOutputSchemaError"))
                        ->text()
                        .contains(QStringLiteral("type: expected a JSON Schema type")));
        // The tab with the problem is marked; clicking the problem goes there.
        tabs->setCurrentIndex(0);
        auto* problems = child<QListWidget>(m_window.get(), QStringLiteral("agentProblems"));
        QVERIFY(problems->count() >= 1);
        QTest::mouseClick(problems->viewport(), Qt::LeftButton, {},
                          problems->visualItemRect(problems->item(0)).center());
        QCOMPARE(tabs->currentIndex(), 4);
        QVERIFY(!tabs->tabIcon(4).isNull());
        typeInto(m_window.get(), QStringLiteral("agentOutputSchema"),
                 QStringLiteral("{\"type\": \"object\"}"));
        QTRY_VERIFY(problemLines(m_window.get()).isEmpty());

        // Sandbox: a tier below the minimum.
        auto* tier = child<QComboBox>(m_window.get(), QStringLiteral("agentSandboxTier"));
        tier->setCurrentIndex(tier->findData(QStringLiteral("none")));
        QVERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentSandboxTierHelp"))
                    ->text()
                    .startsWith(QStringLiteral("UNSANDBOXED")));
        QTRY_VERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentSandboxTierError"))
                        ->text()
                        .contains(QStringLiteral("is below min_tier")));
        tier->setCurrentIndex(tier->findData(QStringLiteral("bwrap")));
        QTRY_VERIFY(problemLines(m_window.get()).isEmpty());

        // Schedules: the cron parsed for real, as `agent add` does after the loader.
        tabs->setCurrentIndex(5);
        clickButton(QStringLiteral("agentAddSchedule"));
        auto* table = child<QTableWidget>(m_window.get(), QStringLiteral("agentSchedules"));
        QTRY_COMPARE(table->rowCount(), 1);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Escape); // leave the cell editor
        table->item(0, 0)->setText(QStringLiteral("61 9 * * *"));
        QTRY_VERIFY(
            !child<QLabel>(m_window.get(), QStringLiteral("agentSchedulesError"))->isHidden());
        const QString cronError =
            child<QLabel>(m_window.get(), QStringLiteral("agentSchedulesError"))->text();
        QVERIFY2(cronError.contains(QStringLiteral("Schedule 1, cron:")) &&
                     cronError.contains(QStringLiteral("61")),
                 qPrintable(cronError));
        table->item(0, 0)->setText(QStringLiteral("0 9 * * 1-5"));
        table->item(0, 1)->setText(QStringLiteral("Europe/Paris"));
        QTRY_VERIFY(problemLines(m_window.get()).isEmpty());
        QVERIFY(table->item(0, 7)->text().contains(QStringLiteral("next")));
        // The missed/skipped ledger sits under the schedules.
        QVERIFY(child<QWidget>(m_window.get(), QStringLiteral("agentScheduleLedger"))->isVisible());
        QVERIFY(screenshot(m_window.get(), QStringLiteral("agent-editor-schedules")));

        // Providers: a grant with a catalog provider, a bad URI pattern.
        tabs->setCurrentIndex(2);
        clickButton(QStringLiteral("agentAddProvider"));
        auto* provider = child<QComboBox>(m_window.get(), QStringLiteral("agentGrantProvider"));
        provider->setCurrentIndex(provider->findData(QStringLiteral("github")));
        auto* ops = child<QListWidget>(m_window.get(), QStringLiteral("agentGrantOperations"));
        QVERIFY2(ops->count() > 0, "the catalog's operations are offered");
        ops->item(0)->setCheckState(Qt::Checked);
        typeInto(m_window.get(), QStringLiteral("agentGrantUris"),
                 QStringLiteral("api.github.com/**"));
        QTRY_VERIFY(
            !child<QLabel>(m_window.get(), QStringLiteral("agentGrantUrisError"))->isHidden());
        QVERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentGrantUrisError"))
                    ->text()
                    .contains(QStringLiteral("the scheme is missing")));
        clickButton(QStringLiteral("agentGrantDefaultUris"));
        QTRY_VERIFY(
            child<QLabel>(m_window.get(), QStringLiteral("agentGrantUrisError"))->isHidden());
        // The live tester answers with the broker's matcher as the URL is typed.
        typeInto(m_window.get(), QStringLiteral("agentUriTestUrl"),
                 QStringLiteral("https://api.github.com/repos/a/b/issues"));
        auto* verdict = child<QLabel>(m_window.get(), QStringLiteral("agentUriTestResult"));
        QTRY_VERIFY2(verdict->text().startsWith(QStringLiteral("Allowed by")),
                     qPrintable(verdict->text()));
        typeInto(m_window.get(), QStringLiteral("agentUriTestUrl"),
                 QStringLiteral("https://api.github.com/authorizations/1"));
        QTRY_VERIFY2(verdict->text().startsWith(QStringLiteral("Refused:")),
                     qPrintable(verdict->text()));
        QVERIFY(screenshot(m_window.get(), QStringLiteral("agent-editor-providers")));

        QTest::keyClick(editor(), Qt::Key_S, Qt::ControlModifier);
        QTRY_COMPARE(m_store->agent(QStringLiteral("inbox-triage"))->version, 2);
        auto rec = m_store->agent(QStringLiteral("inbox-triage"));
        QCOMPARE(rec->definition.schedules.size(), 1);
        QCOMPARE(rec->definition.schedules.first().tz, QStringLiteral("Europe/Paris"));
        QCOMPARE(rec->definition.providers.size(), 1);
        QCOMPARE(rec->definition.providers.first().provider, QStringLiteral("github"));
        QVERIFY(!rec->definition.providers.first().authorizedUris.isEmpty());
        QCOMPARE(*rec->definition.model.temperature, 0.2);
    }

    void compareAndRestoreVersions()
    {
        auto* tabs = child<QTabWidget>(m_window.get(), QStringLiteral("agentEditorTabs"));
        tabs->setCurrentIndex(6);
        auto* versions = child<QTreeWidget>(m_window.get(), QStringLiteral("agentVersions"));
        QCOMPARE(versions->topLevelItemCount(), 2);
        // Version 1 against the current one.
        versions->clearSelection();
        versions->topLevelItem(1)->setSelected(true);
        clickButton(QStringLiteral("agentVersionsCompare"));
        const QString diff =
            child<QPlainTextEdit>(m_window.get(), QStringLiteral("agentVersionsDiff"))
                ->toPlainText();
        QVERIFY2(diff.contains(QStringLiteral("+         \"temperature\": 0.2")) ||
                     diff.contains(QStringLiteral("+ ")),
                 qPrintable(diff));
        QVERIFY(diff.contains(QStringLiteral("Europe/Paris")));
        QVERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentVersionsDiffTitle"))
                    ->text()
                    .contains(QStringLiteral("From version 1 to version 2")));
        QVERIFY(screenshot(m_window.get(), QStringLiteral("agent-editor-versions")));

        versions->clearSelection();
        versions->topLevelItem(1)->setSelected(true);
        Dialogs::setNextAnswer(QMessageBox::Yes);
        clickButton(QStringLiteral("agentVersionsRestore"));
        QTRY_COMPARE(m_store->agent(QStringLiteral("inbox-triage"))->version, 3);
        auto restored = m_store->agent(QStringLiteral("inbox-triage"));
        auto v1 = m_store->agent(QStringLiteral("inbox-triage"), 1);
        QCOMPARE(restored->contentHash, v1->contentHash);
        QTRY_COMPARE(versions->topLevelItemCount(), 3);
        // The form shows the restored version.
        QVERIFY(child<QTableWidget>(m_window.get(), QStringLiteral("agentSchedules"))->rowCount() ==
                0);
        Dialogs::takeMessages();
    }

    void exportAndImportPackages()
    {
        // Export as a directory package (agent.json + prompt.md), like `agent export -o DIR`.
        const QString dir = m_tmp.filePath(QStringLiteral("pkg"));
        Dialogs::setNextFileName(dir);
        clickButton(QStringLiteral("agentEditorExport"));
        QVERIFY(QFileInfo::exists(dir + QStringLiteral("/agent.json")));
        QFile prompt(dir + QStringLiteral("/prompt.md"));
        QVERIFY(prompt.open(QIODevice::ReadOnly));
        QCOMPARE(prompt.readAll(), QByteArray("Sort my inbox.\nFlag what needs me."));

        // Back to the list; import the same package: unchanged.
        clickButton(QStringLiteral("agentEditorBack"));
        QCOMPARE(m_window->currentPage(), MainWindow::Page::Agents);
        Dialogs::setNextFileName(dir + QStringLiteral("/agent.json"));
        clickButton(QStringLiteral("agentsImport"));
        QCOMPARE(m_store->agent(QStringLiteral("inbox-triage"))->version, 3);

        // A file with problems: the very lines `vivarium agent add` prints.
        const QString broken = m_tmp.filePath(QStringLiteral("broken.json"));
        QVERIFY(testsupport::writeFile(broken, R"({"id": "broken", "name": "B", "prompt": "p",
                      "model": {"endpoint": "local", "name": "m"},
                      "limits": {"max_steps": "25"}, "providers": [{"provider": "gmail", "scopez": []}]})"));
        const auto cli =
            testsupport::runCli(m_tmp.filePath(QStringLiteral("cli-data")),
                                {QStringLiteral("agent"), QStringLiteral("add"), broken});
        QCOMPARE(cli.exitCode, 2);
        QStringList cliLines;
        for (const QByteArray& line : cli.err.split('\n'))
            if (line.startsWith("  "))
                cliLines << QString::fromUtf8(line.trimmed());
        QCOMPARE(cliLines.size(), 2);
        Dialogs::takeMessages();
        Dialogs::setNextFileName(broken);
        clickButton(QStringLiteral("agentsImport"));
        const QStringList said = Dialogs::takeMessages();
        QCOMPARE(said.size(), 1);
        for (const QString& line : std::as_const(cliLines))
            QVERIFY2(said.first().contains(line),
                     qPrintable(said.first() + QStringLiteral("\nmissing: ") + line));
        QVERIFY(!m_store->agent(QStringLiteral("broken")).has_value());

        // A single-file package of a new agent imports as version 1 and is selected.
        AgentDefinition other = agent(QStringLiteral("weekly-report"));
        QVERIFY(exportAgent(other, m_tmp.filePath(QStringLiteral("weekly.json"))).has_value());
        Dialogs::setNextFileName(m_tmp.filePath(QStringLiteral("weekly.json")));
        clickButton(QStringLiteral("agentsImport"));
        QCOMPARE(m_store->agent(QStringLiteral("weekly-report"))->version, 1);
        auto* list = child<QTreeView>(m_window.get(), QStringLiteral("agentsList"));
        QTRY_COMPARE(list->model()->rowCount(), 2);
        QCOMPARE(list->currentIndex().data(Qt::UserRole + 1).toString(),
                 QStringLiteral("weekly-report"));
    }

    void leavingWithUnsavedChangesAsks()
    {
        auto* list = child<QTreeView>(m_window.get(), QStringLiteral("agentsList"));
        list->setFocus();
        QTest::keyClick(list, Qt::Key_Return);
        QCOMPARE(m_window->currentPage(), MainWindow::Page::AgentEditor);
        typeInto(m_window.get(), QStringLiteral("agentDescription"), QStringLiteral("changed"));
        QVERIFY(child<QLabel>(m_window.get(), QStringLiteral("agentEditorTitle"))
                    ->text()
                    .contains(QStringLiteral("unsaved")));
        // Cancel: stay.
        Dialogs::setNextAnswer(QMessageBox::Cancel);
        QTest::keyClick(m_window.get(), Qt::Key_2, Qt::ControlModifier);
        QCOMPARE(m_window->currentPage(), MainWindow::Page::AgentEditor);
        // Discard: leave, nothing saved.
        Dialogs::setNextAnswer(QMessageBox::Discard);
        QTest::keyClick(m_window.get(), Qt::Key_2, Qt::ControlModifier);
        QCOMPARE(m_window->currentPage(), MainWindow::Page::Runs);
        QCOMPARE(m_store->agent(QStringLiteral("weekly-report"))->version, 1);
        Dialogs::takeMessages();
    }
};

QTEST_MAIN(TestAgentEditor)
#include "tst_AgentEditor.moc"
