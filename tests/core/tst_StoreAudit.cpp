// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Model endpoints, run usage and the hash-chained audit trail (schema 3).
#include "vivarium/core/Store.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

namespace {

AgentDefinition agent()
{
    AgentDefinition d;
    d.id = QStringLiteral("a");
    d.name = QStringLiteral("A");
    d.prompt = QStringLiteral("p");
    d.model.endpoint = QStringLiteral("local");
    d.model.name = QStringLiteral("m");
    return d;
}

/** Raw SQL against the file, as an attacker with file access would do. */
void rawExec(const QString& path, const QString& sql)
{
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("raw"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY2(q.exec(sql), qPrintable(sql));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("raw"));
}

} // namespace

class TestStoreAudit : public QObject
{
    Q_OBJECT
private slots:
    void modelEndpoints()
    {
        QTemporaryDir dir;
        auto store = Store::open(dir.filePath(QStringLiteral("v.db")));
        QVERIFY(store.has_value());
        ModelEndpointRecord e;
        e.name = QStringLiteral("local");
        e.api = QStringLiteral("openai");
        e.baseUrl = QStringLiteral("http://127.0.0.1:11434/v1");
        QVERIFY((*store)->saveModelEndpoint(e).has_value());
        e.api = QStringLiteral("anthropic");
        e.name = QStringLiteral("claude");
        e.baseUrl = QStringLiteral("https://api.anthropic.com");
        e.secretKey = QStringLiteral("model-endpoint/claude/api-key");
        e.inputPricePerMTok = 3;
        QVERIFY((*store)->saveModelEndpoint(e).has_value());
        auto all = (*store)->modelEndpoints();
        QVERIFY(all.has_value());
        QCOMPARE(all->size(), 2);
        QCOMPARE(all->at(0).name, QStringLiteral("claude"));
        QCOMPARE(all->at(0).inputPricePerMTok.value_or(-1), 3.0);
        QVERIFY(!all->at(0).outputPricePerMTok.has_value());
        QVERIFY(all->at(1).secretKey.isEmpty());
        const QDateTime created = all->at(1).createdAt;
        QTest::qWait(5);
        QVERIFY((*store)->saveModelEndpoint(all->at(1)).has_value()); // replace keeps created_at
        QCOMPARE((*store)->modelEndpoint(QStringLiteral("local"))->createdAt, created);
        QVERIFY((*store)->removeModelEndpoint(QStringLiteral("local")).has_value());
        QCOMPARE((*store)->modelEndpoint(QStringLiteral("local")).error().code,
                 Error::Code::NotFound);
        QCOMPARE((*store)->removeModelEndpoint(QStringLiteral("local")).error().code,
                 Error::Code::NotFound);
        e.api = QStringLiteral("gemini"); // the CHECK constraint guards the column
        QVERIFY(!(*store)->saveModelEndpoint(e).has_value());
    }

    void runUsage()
    {
        QTemporaryDir dir;
        auto store = Store::open(dir.filePath(QStringLiteral("v.db")));
        QVERIFY((*store)->saveAgent(agent()).has_value());
        NewRun nr;
        nr.agentId = QStringLiteral("a");
        auto run = (*store)->createRun(nr);
        QVERIFY(run.has_value());
        QCOMPARE(run->usage.steps, 0);
        RunUsage u;
        u.steps = 3;
        u.inputTokens = 1200;
        u.outputTokens = 300;
        u.costUsd = 0.0042;
        QVERIFY((*store)->setRunUsage(run->id, u).has_value());
        auto back = (*store)->run(run->id);
        QCOMPARE(back->usage.steps, 3);
        QCOMPARE(back->usage.inputTokens, 1200);
        QCOMPARE(back->usage.costUsd.value_or(-1), 0.0042);
        u.unpriced = true;
        QVERIFY((*store)->setRunUsage(run->id, u).has_value());
        back = (*store)->run(run->id);
        QVERIFY(back->usage.unpriced);
        QVERIFY(!back->usage.costUsd.has_value()); // unpriced is never shown as a number
        QCOMPARE((*store)->setRunUsage(QStringLiteral("run_nope"), u).error().code,
                 Error::Code::NotFound);
    }

    void auditChainDetectsTampering_data()
    {
        QTest::addColumn<QString>("attack");
        QTest::addColumn<qint64>("badId");
        QTest::newRow("edit details")
            << "UPDATE audit SET details = '{\"x\":2}' WHERE id = 3" << qint64(3);
        QTest::newRow("edit actor")
            << "UPDATE audit SET actor = 'mallory' WHERE id = 2" << qint64(2);
        QTest::newRow("delete middle") << "DELETE FROM audit WHERE id = 3" << qint64(4);
        QTest::newRow("delete first") << "DELETE FROM audit WHERE id = 1" << qint64(2);
        QTest::newRow("rehash one row")
            << "UPDATE audit SET hash = 'ab' || substr(hash, 3) WHERE id = 4" << qint64(4);
    }
    void auditChainDetectsTampering()
    {
        QFETCH(QString, attack);
        QFETCH(qint64, badId);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("v.db"));
        {
            auto store = Store::open(path);
            for (int i = 1; i <= 5; ++i) {
                AuditRecord r;
                r.actor = QStringLiteral("cli:test");
                r.action = QStringLiteral("run.queued");
                r.runId = QStringLiteral("run_%1").arg(i);
                r.details = QJsonObject{{QStringLiteral("x"), i}};
                auto a = (*store)->appendAudit(r);
                QVERIFY(a.has_value());
                QCOMPARE(a->id, qint64(i));
                QCOMPARE(a->hash.size(), 64);
            }
            auto v = (*store)->verifyAudit();
            QVERIFY(v->ok);
            QCOMPARE(v->checked, 5);
            auto one = (*store)->auditRecords(QStringLiteral("run_2"));
            QCOMPARE(one->size(), 1);
            QCOMPARE(one->at(0).details.value(QStringLiteral("x")).toInt(), 2);
        }
        rawExec(path, attack);
        auto store = Store::open(path);
        auto v = (*store)->verifyAudit();
        QVERIFY(v.has_value());
        QVERIFY(!v->ok);
        QCOMPARE(v->firstBadId, badId);
        QVERIFY(!v->problem.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestStoreAudit)
#include "tst_StoreAudit.moc"
