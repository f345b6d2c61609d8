// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The store side of the HTTP API (StoreApi.cpp, migration 6): API keys kept as hashes and
// found in constant time, revocation, Idempotency-Key records, the run queries and metrics.
#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Store.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

class TestApiStore : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<Store> m_store;

    Store& store() { return *m_store; }

private slots:
    void init()
    {
        m_store.reset();
        QFile::remove(m_tmp.filePath(QStringLiteral("v.db")));
        auto s = Store::open(m_tmp.filePath(QStringLiteral("v.db")));
        QVERIFY2(s, s ? "" : qPrintable(s.error().message));
        m_store = std::move(*s);
    }

    void keysAreStoredAsHashes()
    {
        auto created = store().createApiKey(QStringLiteral("ci"), {QStringLiteral("runs:write"),
                                                                   QStringLiteral("runs:read"),
                                                                   QStringLiteral("runs:read")});
        QVERIFY(created);
        const QString secret = created->secret;
        QVERIFY(secret.startsWith(QStringLiteral("viv_")));
        QCOMPARE(secret.size(), 4 + 43);
        QCOMPARE(created->record.id, QStringLiteral("key_") + secret.mid(4, 8));
        QCOMPARE(created->record.scopes,
                 (QStringList{QStringLiteral("runs:read"), QStringLiteral("runs:write")}));
        // Found by its secret; a near miss (same prefix, one character off) is not.
        auto found = store().findApiKey(secret);
        QVERIFY(found && *found);
        QCOMPARE((*found)->name, QStringLiteral("ci"));
        QString wrong = secret;
        wrong[wrong.size() - 1] =
            wrong.at(wrong.size() - 1) == QLatin1Char('A') ? QLatin1Char('B') : QLatin1Char('A');
        auto miss = store().findApiKey(wrong);
        QVERIFY(miss && !*miss);
        const QStringList junks{QString(), QStringLiteral("viv_"), QStringLiteral("Bearer x"),
                                secret + QLatin1Char('x')};
        for (const QString& junk : junks) {
            auto none = store().findApiKey(junk);
            QVERIFY(none && !*none);
        }
        // The secret is nowhere in the database file (nor in its WAL).
        m_store.reset();
        for (const QString& f : {QStringLiteral("v.db"), QStringLiteral("v.db-wal")}) {
            QFile file(m_tmp.filePath(f));
            if (file.open(QIODevice::ReadOnly))
                QVERIFY2(!file.readAll().contains(secret.toLatin1()), qPrintable(f));
        }
    }

    void namesScopesAndRevocation()
    {
        QCOMPARE(store().createApiKey(QString(), {QStringLiteral("admin")}).error().code,
                 Error::Code::Validation);
        QCOMPARE(store().createApiKey(QStringLiteral("x"), {}).error().code,
                 Error::Code::Validation);
        auto bad = store().createApiKey(QStringLiteral("x"),
                                        {QStringLiteral("root"), QStringLiteral("runs:read")});
        QVERIFY(!bad);
        QVERIFY(bad.error()
                    .details.join(QLatin1Char('\n'))
                    .contains(QStringLiteral("unknown scope \"root\"")));
        auto first = store().createApiKey(QStringLiteral("n8n"), {QStringLiteral("runs:read")});
        QVERIFY(first);
        QCOMPARE(
            store().createApiKey(QStringLiteral("n8n"), {QStringLiteral("runs:read")}).error().code,
            Error::Code::Conflict);
        auto revoked = store().revokeApiKey(QStringLiteral("n8n"));
        QVERIFY(revoked && revoked->isRevoked());
        QCOMPARE(store().revokeApiKey(first->record.id).error().code, Error::Code::Conflict);
        auto found = store().findApiKey(first->secret);
        QVERIFY(found && *found && (*found)->isRevoked());
        // The name is free again once revoked; both keys stay listed.
        QVERIFY(store().createApiKey(QStringLiteral("n8n"), {QStringLiteral("runs:read")}));
        QCOMPARE(store().apiKeys()->size(), 2);
        QCOMPARE(store().apiKey(QStringLiteral("nobody")).error().code, Error::Code::NotFound);
        QVERIFY(store().touchApiKey(first->record.id, QDateTime::currentDateTimeUtc()));
        QVERIFY(store().apiKey(first->record.id)->lastUsedAt.isValid());
    }

    void idempotencyRecords()
    {
        auto key = store().createApiKey(QStringLiteral("k"), {QStringLiteral("runs:write")});
        QVERIFY(key);
        auto none = store().idempotencyRecord(key->record.id, QStringLiteral("a"));
        QVERIFY(none && !*none);
        Store::IdempotencyRecord rec{
            key->record.id, QStringLiteral("a"), QStringLiteral("h1"), QStringLiteral("run_x"), {}};
        QVERIFY(store().saveIdempotencyRecord(rec));
        QCOMPARE(store().saveIdempotencyRecord(rec).error().code, Error::Code::Conflict);
        auto got = store().idempotencyRecord(key->record.id, QStringLiteral("a"));
        QVERIFY(got && *got);
        QCOMPARE((*got)->requestHash, QStringLiteral("h1"));
        QCOMPARE((*got)->resultId, QStringLiteral("run_x"));
        // Older than a day: gone.
        rec.key = QStringLiteral("old");
        rec.createdAt = QDateTime::currentDateTimeUtc().addDays(-2);
        QVERIFY(store().saveIdempotencyRecord(rec));
        auto old = store().idempotencyRecord(key->record.id, QStringLiteral("old"));
        QVERIFY(old && !*old);
    }

    void queriesAndMetrics()
    {
        auto loaded = AgentLoader::loadBytes("{\"id\": \"a\", \"name\": \"A\", \"prompt\": \"p\", "
                                             "\"model\": {\"endpoint\": \"e\", \"name\": \"m\"}}",
                                             QStringLiteral("a.json"), QString());
        QVERIFY(loaded);
        QVERIFY(store().saveAgent(loaded->definition));
        QStringList ids;
        for (const QString& trigger :
             {QStringLiteral("api:ci"), QStringLiteral("api:other"), QStringLiteral("schedule:s1"),
              QStringLiteral("cli:me"), QStringLiteral("apix:odd")}) {
            NewRun n;
            n.agentId = QStringLiteral("a");
            n.trigger = trigger;
            auto r = store().createRun(n);
            QVERIFY(r);
            ids << r->id;
        }
        QVERIFY(store().setRunStatus(ids.at(0), RunStatus::Running));
        QVERIFY(store().setRunStatus(ids.at(0), RunStatus::Succeeded));
        Store::RunQuery q;
        q.trigger = QStringLiteral("api");
        QCOMPARE(store().queryRuns(q)->size(), 2); // not "apix:odd"
        q.trigger = QStringLiteral("api:ci");
        QCOMPARE(store().queryRuns(q)->size(), 1);
        q = {};
        q.status = RunStatus::Succeeded;
        QCOMPARE(store().queryRuns(q)->first().id, ids.at(0));
        q = {};
        q.since = QDateTime::currentDateTimeUtc().addSecs(60);
        QCOMPARE(store().queryRuns(q)->size(), 0);
        q = {};
        q.beforeId = ids.at(3);
        q.limit = 2;
        const auto page = store().queryRuns(q);
        QCOMPARE(page->size(), 2);
        QCOMPARE(page->at(0).id, ids.at(2));
        auto m = store().runMetrics();
        QVERIFY(m);
        qint64 total = 0;
        for (const auto& [status, n] : m->byStatus)
            total += n;
        QCOMPARE(total, 5);
        QCOMPARE(m->durationCount, 1);
        QCOMPARE(m->durationCounts.size(), m->durationBuckets.size());
        QCOMPARE(m->durationCounts.last(), 1);
    }
};

QTEST_GUILESS_MAIN(TestApiStore)
#include "tst_ApiStore.moc"
