// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Store connections (migration 5): round trip, upsert keeping createdAt, names unique across
// providers, validation naming the field, health updates, removal, and that the table holds
// no secret column at all.
#include "vivarium/core/Store.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

#define VERIFY_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& result_ = (expr);                                                              \
        QVERIFY2(result_.has_value(),                                                              \
                 qPrintable(result_ ? QString() : result_.error().toString()));                    \
    } while (0)

#define VERIFY_ERROR(expr, errorCode)                                                              \
    do {                                                                                           \
        const auto& result_ = (expr);                                                              \
        QVERIFY2(!result_.has_value(), "expected an error, got success");                          \
        QCOMPARE(int(result_.error().code), int(errorCode));                                       \
    } while (0)

namespace {

ConnectionRecord record(const QString& name, const QString& provider = QStringLiteral("github"))
{
    ConnectionRecord c;
    c.name = name;
    c.provider = provider;
    c.auth = QStringLiteral("oauth2");
    c.account = QStringLiteral("alice@example.test");
    c.scopes = {QStringLiteral("repo"), QStringLiteral("read:user")};
    c.status = QStringLiteral("ok");
    c.expiresAt = QDateTime::currentDateTimeUtc().addSecs(3600);
    c.checkedAt = QDateTime::currentDateTimeUtc();
    c.meta = QJsonObject{{QStringLiteral("token_type"), QStringLiteral("Bearer")},
                         {QStringLiteral("client_id"), QStringLiteral("app-1")}};
    return c;
}

} // namespace

class tst_StoreConnections : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<Store> m_store;

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        QFile::remove(m_dir.filePath(QStringLiteral("vivarium.db")));
        auto s = Store::open(m_dir.filePath(QStringLiteral("vivarium.db")));
        VERIFY_OK(s);
        m_store = std::move(*s);
    }
    void cleanup() { m_store.reset(); }

    void roundTrip()
    {
        const ConnectionRecord in = record(QStringLiteral("work"));
        VERIFY_OK(m_store->saveConnection(in));
        auto out = m_store->connection(QStringLiteral("work"));
        VERIFY_OK(out);
        QCOMPARE(out->name, in.name);
        QCOMPARE(out->provider, in.provider);
        QCOMPARE(out->auth, in.auth);
        QCOMPARE(out->account, in.account);
        QCOMPARE(out->scopes, in.scopes);
        QCOMPARE(out->status, in.status);
        QVERIFY(out->statusReason.isEmpty());
        // Stored with millisecond precision in UTC.
        QCOMPARE(out->expiresAt.toMSecsSinceEpoch(), in.expiresAt.toMSecsSinceEpoch());
        QCOMPARE(out->checkedAt.toMSecsSinceEpoch(), in.checkedAt.toMSecsSinceEpoch());
        QCOMPARE(out->meta, in.meta);
        QVERIFY(out->createdAt.isValid());
        QVERIFY(out->updatedAt.isValid());
    }

    void emptyFieldsStayEmpty()
    {
        ConnectionRecord c;
        c.name = QStringLiteral("key");
        c.provider = QStringLiteral("stripe");
        c.auth = QStringLiteral("api_key");
        VERIFY_OK(m_store->saveConnection(c));
        auto out = m_store->connection(QStringLiteral("key"));
        VERIFY_OK(out);
        QVERIFY(out->account.isEmpty());
        QVERIFY(out->scopes.isEmpty());
        QCOMPARE(out->status, QStringLiteral("untested"));
        QVERIFY(!out->expiresAt.isValid());
        QVERIFY(!out->checkedAt.isValid());
        QVERIFY(out->meta.isEmpty());
    }

    void upsertKeepsCreatedAt()
    {
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("work"))));
        auto first = m_store->connection(QStringLiteral("work"));
        VERIFY_OK(first);
        QTest::qWait(5);
        ConnectionRecord again = record(QStringLiteral("work"));
        again.account = QStringLiteral("bob@example.test");
        again.scopes = {QStringLiteral("repo")};
        VERIFY_OK(m_store->saveConnection(again));
        auto second = m_store->connection(QStringLiteral("work"));
        VERIFY_OK(second);
        QCOMPARE(second->account, QStringLiteral("bob@example.test"));
        QCOMPARE(second->scopes, QStringList{QStringLiteral("repo")});
        QCOMPARE(second->createdAt, first->createdAt);
        QVERIFY(second->updatedAt > first->updatedAt);
        QCOMPARE(m_store->connections()->size(), 1);
    }

    void namesAreUniqueAcrossProviders()
    {
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("work"), QStringLiteral("gmail"))));
        auto clash =
            m_store->saveConnection(record(QStringLiteral("work"), QStringLiteral("slack")));
        VERIFY_ERROR(clash, Error::Code::Conflict);
        QVERIFY(clash.error().message.contains(QStringLiteral("gmail")));
        QCOMPARE(m_store->connection(QStringLiteral("work"))->provider, QStringLiteral("gmail"));
    }

    void listOrderedAndFiltered()
    {
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("zeta"), QStringLiteral("gmail"))));
        VERIFY_OK(
            m_store->saveConnection(record(QStringLiteral("alpha"), QStringLiteral("slack"))));
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("mid"), QStringLiteral("gmail"))));
        auto all = m_store->connections();
        VERIFY_OK(all);
        QCOMPARE(all->size(), 3);
        QCOMPARE(all->at(0).name, QStringLiteral("alpha"));
        QCOMPARE(all->at(2).name, QStringLiteral("zeta"));
        auto gmail = m_store->connections(QStringLiteral("gmail"));
        VERIFY_OK(gmail);
        QCOMPARE(gmail->size(), 2);
        QCOMPARE(gmail->at(0).name, QStringLiteral("mid"));
        QVERIFY(m_store->connections(QStringLiteral("nope"))->isEmpty());
    }

    void validationNamesEveryField()
    {
        ConnectionRecord bad;
        bad.name = QStringLiteral("Bad Name");
        bad.provider = QStringLiteral("9up");
        bad.auth = QStringLiteral("password");
        bad.status = QStringLiteral("happy");
        auto s = m_store->saveConnection(bad);
        VERIFY_ERROR(s, Error::Code::Validation);
        const QString all = s.error().details.join(QLatin1Char('\n'));
        QCOMPARE(s.error().details.size(), 4);
        for (const char* field : {"name:", "provider:", "auth:", "status:"})
            QVERIFY2(all.contains(QLatin1String(field)), qPrintable(all));
        QVERIFY(m_store->connections()->isEmpty());
    }

    void statusUpdates()
    {
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("work"))));
        const QDateTime before = m_store->connection(QStringLiteral("work"))->expiresAt;
        VERIFY_OK(m_store->setConnectionStatus(QStringLiteral("work"),
                                               QStringLiteral("needs_reconnect"),
                                               QStringLiteral("invalid_grant: revoked")));
        auto c = m_store->connection(QStringLiteral("work"));
        VERIFY_OK(c);
        QCOMPARE(c->status, QStringLiteral("needs_reconnect"));
        QCOMPARE(c->statusReason, QStringLiteral("invalid_grant: revoked"));
        QCOMPARE(c->expiresAt, before); // an invalid expiresAt keeps the stored one
        QVERIFY(c->checkedAt.secsTo(QDateTime::currentDateTimeUtc()) < 5);

        const QDateTime later = QDateTime::currentDateTimeUtc().addDays(1);
        VERIFY_OK(
            m_store->setConnectionStatus(QStringLiteral("work"), QStringLiteral("ok"), {}, later));
        c = m_store->connection(QStringLiteral("work"));
        QCOMPARE(c->status, QStringLiteral("ok"));
        QVERIFY(c->statusReason.isEmpty());
        QCOMPARE(c->expiresAt.toMSecsSinceEpoch(), later.toMSecsSinceEpoch());

        VERIFY_ERROR(m_store->setConnectionStatus(QStringLiteral("work"), QStringLiteral("fine")),
                     Error::Code::Validation);
        VERIFY_ERROR(m_store->setConnectionStatus(QStringLiteral("ghost"), QStringLiteral("ok")),
                     Error::Code::NotFound);
    }

    void removal()
    {
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("work"))));
        VERIFY_OK(m_store->removeConnection(QStringLiteral("work")));
        auto gone = m_store->connection(QStringLiteral("work"));
        VERIFY_ERROR(gone, Error::Code::NotFound);
        QVERIFY(gone.error().message.contains(QStringLiteral("work")));
        VERIFY_ERROR(m_store->removeConnection(QStringLiteral("work")), Error::Code::NotFound);
        // The name is free again, for any provider.
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("work"), QStringLiteral("slack"))));
    }

    void insideATransactionRollsBack()
    {
        auto s = m_store->transaction([&]() -> Status {
            if (auto ok = m_store->saveConnection(record(QStringLiteral("tx"))); !ok)
                return ok;
            return fail(Error::Code::Internal, QStringLiteral("abort"));
        });
        QVERIFY(!s);
        VERIFY_ERROR(m_store->connection(QStringLiteral("tx")), Error::Code::NotFound);
    }

    void tableHasNoSecretColumn()
    {
        VERIFY_OK(m_store->saveConnection(record(QStringLiteral("work"))));
        const QString name = QStringLiteral("raw-connections");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(m_dir.filePath(QStringLiteral("vivarium.db")));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA table_info(connections)")));
            QStringList columns;
            while (q.next())
                columns << q.value(1).toString();
            QVERIFY(columns.contains(QStringLiteral("status")));
            for (const QString& c : std::as_const(columns)) {
                QVERIFY2(!c.contains(QStringLiteral("token")) &&
                             !c.contains(QStringLiteral("secret")) &&
                             !c.contains(QStringLiteral("password")),
                         qPrintable(c));
            }
        }
        QSqlDatabase::removeDatabase(name);
    }
};

QTEST_GUILESS_MAIN(tst_StoreConnections)
#include "tst_StoreConnections.moc"
