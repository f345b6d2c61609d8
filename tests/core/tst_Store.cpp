// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Store.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace vivarium;

namespace {

// Fails the current test with the error's text when a Result/Status holds an error. Each
// evaluates its argument once: it is usually the store call under test.
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

#define OPEN_STORE(var, ...)                                                                       \
    auto var##Result = Store::open(__VA_ARGS__);                                                   \
    VERIFY_OK(var##Result);                                                                        \
    std::unique_ptr<Store> var = std::move(*var##Result)

AgentDefinition makeAgent(const QString& id, const QString& prompt = QStringLiteral("Say hi."))
{
    AgentDefinition def;
    def.id = id;
    def.name = QStringLiteral("Agent ") + id;
    def.description = QStringLiteral("test agent");
    def.prompt = prompt;
    def.model.endpoint = QStringLiteral("local");
    def.model.name = QStringLiteral("llama3");
    return def;
}

NewRun newRun(const QString& agentId, std::optional<int> version = {}, const QJsonValue& input = {})
{
    NewRun n;
    n.agentId = agentId;
    n.agentVersion = version;
    n.input = input;
    return n;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

/** A plain Qt Sql connection beside the store, for white-box checks and sabotage. */
class RawDb
{
public:
    explicit RawDb(const QString& path)
        : m_name(QStringLiteral("raw-%1").arg(++s_counter))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        db.open();
    }
    ~RawDb()
    {
        {
            QSqlDatabase db = QSqlDatabase::database(m_name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_name);
    }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    bool exec(const QString& sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (!q.exec(sql)) {
            qWarning() << sql << q.lastError().text();
            return false;
        }
        return true;
    }
    QVariant scalar(const QString& sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (!q.exec(sql) || !q.next())
            return QVariant();
        return q.value(0);
    }
    bool hasTable(const QString& name)
    {
        return scalar(
                   QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name = '%1'").arg(name))
                   .toInt() == 1;
    }

private:
    static inline int s_counter = 0;
    QString m_name;
};

/** The store's own connection (PRAGMAs like foreign_keys are per connection). */
QSqlDatabase storeConnection(const Store& store)
{
    const QStringList names = QSqlDatabase::connectionNames();
    for (const QString& name : names) {
        if (!name.startsWith(QLatin1String("vivarium-store-")))
            continue;
        QSqlDatabase db = QSqlDatabase::database(name, false);
        if (db.databaseName() == store.path())
            return db;
    }
    return QSqlDatabase();
}

int pragma(const Store& store, const QString& name)
{
    QSqlQuery q(storeConnection(store));
    if (!q.exec(QStringLiteral("PRAGMA ") + name) || !q.next())
        return -1;
    return q.value(0).toInt();
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT

private slots:
    void init();

    // schema and files
    void migratesEmptyFile();
    void upgradesOlderSchema();
    void refusesNewerSchema();
    void refusesNonDatabase_data();
    void refusesNonDatabase();
    void failedMigrationRollsBack();
    void refusesBadPaths_data();
    void refusesBadPaths();
    void refusesUnwritableDirectory();
    void readOnly();

    // agents
    void agentVersioning();
    void agentSummariesMatchDefinitions();
    void agentErrors();
    void rejectsInvalidAgentId();
    void listsThousandAgents();

    // runs
    void runStatusNames_data();
    void runStatusNames();
    void newRunIdFormat();
    void createAndReadRun();
    void runInputRoundTrip_data();
    void runInputRoundTrip();
    void createRunErrors();
    void terminalWrittenOnce_data();
    void terminalWrittenOnce();
    void startedAtSetOnce();
    void ledgerEntries();
    void markLiveRunsInterrupted();
    void runsPagination();
    void runsFilters();

    // events
    void appendEventsContiguous();
    void appendEventsUnknownRun();
    void eventTimestampsUtc();
    void eventsThroughput();

    // transactions and concurrency
    void transactionRollsBack();
    void nestedTransactionUsesSavepoint();
    void twoStoresSeeEachOther();
    void writerWaitsThenLocked();
    void readerNotBlockedByWriter();

private:
    QString dbPath() const { return m_dir->filePath(QStringLiteral("vivarium.db")); }
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

// --- schema and files ---------------------------------------------------------------------

void TestStore::migratesEmptyFile()
{
    OPEN_STORE(store, dbPath());
    QCOMPARE(store->schemaVersion(), Store::latestSchemaVersion());
    QVERIFY(Store::latestSchemaVersion() >= 2);
    QCOMPARE(store->journalMode(), QStringLiteral("wal"));
    QCOMPARE(pragma(*store, QStringLiteral("foreign_keys")), 1);
    QCOMPARE(pragma(*store, QStringLiteral("synchronous")), 1); // NORMAL
    QCOMPARE(pragma(*store, QStringLiteral("busy_timeout")), 5000);
    QVERIFY(!store->sqliteVersion().isEmpty());
    QCOMPARE(store->path(), QFileInfo(dbPath()).absoluteFilePath());
    auto ok = store->integrityCheck();
    VERIFY_OK(ok);
    QVERIFY(*ok);

    RawDb raw(dbPath());
    for (const char* table : {"agents", "agent_versions", "runs", "run_events"})
        QVERIFY2(raw.hasTable(QString::fromLatin1(table)), table);
}

void TestStore::upgradesOlderSchema()
{
    QString runId;
    {
        Store::Options o;
        o.migrateTo = 1;
        OPEN_STORE(store, dbPath(), o);
        QCOMPARE(store->schemaVersion(), 1);
        auto saved = store->saveAgent(makeAgent(QStringLiteral("triage")));
        VERIFY_OK(saved);
        RawDb raw(dbPath());
        QVERIFY(raw.hasTable(QStringLiteral("agents")));
        QVERIFY(!raw.hasTable(QStringLiteral("runs")));
    }
    {
        OPEN_STORE(store, dbPath());
        QCOMPARE(store->schemaVersion(), Store::latestSchemaVersion());
        auto rec = store->agent(QStringLiteral("triage"));
        VERIFY_OK(rec);
        QCOMPARE(rec->definition.prompt, QStringLiteral("Say hi."));
        QCOMPARE(rec->version, 1);
        auto run = store->createRun(newRun(QStringLiteral("triage")));
        VERIFY_OK(run);
        runId = run->id;
    }
    // Reopening an up-to-date store changes nothing and keeps the data.
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->run(runId));
}

void TestStore::refusesNewerSchema()
{
    {
        RawDb raw(dbPath());
        QVERIFY(raw.exec(QStringLiteral("CREATE TABLE future (x TEXT)")));
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO future VALUES ('from the future')")));
        QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = 999")));
    }
    const QByteArray before = readAll(dbPath());
    QVERIFY(!before.isEmpty());

    auto store = Store::open(dbPath());
    VERIFY_ERROR(store, Error::Code::Unsupported);
    const QString msg = store.error().message;
    QVERIFY2(msg.contains(QLatin1String("newer Vivarium")), qPrintable(msg));
    QVERIFY2(msg.contains(QLatin1String("999")), qPrintable(msg));
    QVERIFY2(msg.contains(QString::number(Store::latestSchemaVersion())), qPrintable(msg));

    QCOMPARE(readAll(dbPath()), before);
    QVERIFY(!QFile::exists(dbPath() + QStringLiteral("-wal")));

    Store::Options ro;
    ro.readOnly = true;
    VERIFY_ERROR(Store::open(dbPath(), ro), Error::Code::Unsupported);
    QCOMPARE(readAll(dbPath()), before);
}

void TestStore::refusesNonDatabase_data()
{
    QTest::addColumn<QByteArray>("content");

    QRandomGenerator rng(42);
    QByteArray random(4096, Qt::Uninitialized);
    for (char& c : random)
        c = char(rng.bounded(256));
    QTest::newRow("random bytes") << random;
    QTest::newRow("text") << QByteArray("this is not a database\n").repeated(200);
    QTest::newRow("sqlite magic, garbage after")
        << QByteArray("SQLite format 3", 16) + random.left(4080);
}

void TestStore::refusesNonDatabase()
{
    QFETCH(QByteArray, content);
    QFile f(dbPath());
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
    f.close();

    auto store = Store::open(dbPath());
    VERIFY_ERROR(store, Error::Code::Database);
    const QString msg = store.error().message;
    QVERIFY2(msg.contains(QFileInfo(dbPath()).absoluteFilePath()), qPrintable(msg));
    QVERIFY2(msg.contains(QLatin1String("not a database")) ||
                 msg.contains(QLatin1String("malformed")),
             qPrintable(msg));
    QCOMPARE(readAll(dbPath()), content);
}

void TestStore::failedMigrationRollsBack()
{
    {
        Store::Options o;
        o.migrateTo = 1;
        OPEN_STORE(store, dbPath(), o);
    }
    // Migration 2 creates `runs` first, then `run_events`: the clash comes after real work.
    {
        RawDb raw(dbPath());
        QVERIFY(raw.exec(QStringLiteral("CREATE TABLE run_events (x TEXT)")));
    }
    auto store = Store::open(dbPath());
    VERIFY_ERROR(store, Error::Code::Database);
    QVERIFY2(store.error().message.contains(QLatin1String("migration 2")),
             qPrintable(store.error().message));
    {
        RawDb raw(dbPath());
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 1);
        QVERIFY(!raw.hasTable(QStringLiteral("runs")));
        QVERIFY(!raw.hasTable(QStringLiteral("runs_agent")));
        QVERIFY(raw.exec(QStringLiteral("DROP TABLE run_events")));
    }
    // Once the obstacle is gone the same migration goes through.
    OPEN_STORE(fixed, dbPath());
    QCOMPARE(fixed->schemaVersion(), Store::latestSchemaVersion());
}

void TestStore::refusesBadPaths_data()
{
    QTest::addColumn<QString>("relativePath");
    QTest::addColumn<bool>("readOnly");
    QTest::newRow("missing parent dir") << QStringLiteral("no/such/dir/vivarium.db") << false;
    QTest::newRow("path is a directory") << QStringLiteral("adir") << false;
    QTest::newRow("read-only, missing file") << QStringLiteral("missing.db") << true;
}

void TestStore::refusesBadPaths()
{
    QFETCH(QString, relativePath);
    QFETCH(bool, readOnly);
    QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("adir")));
    const QString path = m_dir->filePath(relativePath);
    Store::Options o;
    o.readOnly = readOnly;
    auto store = Store::open(path, o);
    VERIFY_ERROR(store, Error::Code::Io);
    QVERIFY2(store.error().message.contains(path), qPrintable(store.error().message));
    QVERIFY(!QFile::exists(m_dir->filePath(QStringLiteral("missing.db"))));
}

void TestStore::refusesUnwritableDirectory()
{
    if (::geteuid() == 0)
        QSKIP("root ignores directory permissions");
    const QString dir = m_dir->filePath(QStringLiteral("locked"));
    QVERIFY(QDir().mkdir(dir));
    QVERIFY(QFile::setPermissions(dir, QFile::ReadOwner | QFile::ExeOwner));
    auto store = Store::open(dir + QStringLiteral("/vivarium.db"));
    QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    VERIFY_ERROR(store, Error::Code::Io);
    QVERIFY2(store.error().message.contains(dir), qPrintable(store.error().message));
}

void TestStore::readOnly()
{
    {
        Store::Options o;
        o.migrateTo = 1;
        OPEN_STORE(old, dbPath(), o);
    }
    Store::Options ro;
    ro.readOnly = true;
    // An older schema cannot be read without migrating, and read-only never migrates.
    VERIFY_ERROR(Store::open(dbPath(), ro), Error::Code::Unsupported);
    {
        OPEN_STORE(rw, dbPath());
        VERIFY_OK(rw->saveAgent(makeAgent(QStringLiteral("reader"))));
    }
    OPEN_STORE(store, dbPath(), ro);
    QCOMPARE(store->schemaVersion(), Store::latestSchemaVersion());
    auto list = store->agents();
    VERIFY_OK(list);
    QCOMPARE(list->size(), 1);
    auto saved = store->saveAgent(makeAgent(QStringLiteral("writer")));
    QVERIFY(!saved);
    auto run = store->createRun(newRun(QStringLiteral("reader")));
    QVERIFY(!run);
}

// --- agents -------------------------------------------------------------------------------

void TestStore::agentSummariesMatchDefinitions()
{
    QTemporaryDir dir;
    OPEN_STORE(store, dir.filePath(QStringLiteral("v.db")));
    AgentDefinition a = makeAgent(QStringLiteral("b-agent"));
    ScheduleSpec sched;
    sched.cron = QStringLiteral("0 9 * * *");
    a.schedules << sched << sched;
    ProviderGrant g;
    g.provider = QStringLiteral("github");
    a.providers << g;
    a.sandbox.tier = QStringLiteral("none");
    a.sandbox.minTier = QStringLiteral("none");
    VERIFY_OK(store->saveAgent(a));
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a-agent"))));
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("gone"))));
    VERIFY_OK(store->removeAgent(QStringLiteral("gone")));
    a.name = QStringLiteral("Renamed");
    VERIFY_OK(store->saveAgent(a));

    auto sums = store->agentSummaries();
    VERIFY_OK(sums);
    QCOMPARE(sums->size(), 2);
    QCOMPARE(sums->at(0).id, QStringLiteral("a-agent"));
    QCOMPARE(sums->at(0).scheduleCount, 0);
    QCOMPARE(sums->at(0).sandboxTier, QStringLiteral("bwrap"));
    const AgentSummary& b = sums->at(1);
    QCOMPARE(b.id, QStringLiteral("b-agent"));
    QCOMPARE(b.version, 2);
    QCOMPARE(b.name, QStringLiteral("Renamed"));
    QCOMPARE(b.modelEndpoint, QStringLiteral("local"));
    QCOMPARE(b.modelName, QStringLiteral("llama3"));
    QCOMPARE(b.scheduleCount, 2);
    QCOMPARE(b.providerCount, 1);
    QCOMPARE(b.sandboxTier, QStringLiteral("none"));
    QVERIFY(b.createdAt.isValid() && b.savedAt >= b.createdAt);
}

void TestStore::agentVersioning()
{
    OPEN_STORE(store, dbPath());
    const QString id = QStringLiteral("triage");
    AgentDefinition def = makeAgent(id, QStringLiteral("first prompt"));

    auto first = store->saveAgent(def, QStringLiteral("/src/triage"));
    VERIFY_OK(first);
    QCOMPARE(first->version, 1);
    QVERIFY(first->created);
    QVERIFY(first->newAgent);

    auto same = store->saveAgent(def, QStringLiteral("/elsewhere"));
    VERIFY_OK(same);
    QCOMPARE(same->version, 1);
    QVERIFY(!same->created);
    QVERIFY(!same->newAgent);

    def.prompt = QStringLiteral("second prompt");
    auto second = store->saveAgent(def);
    VERIFY_OK(second);
    QCOMPARE(second->version, 2);
    QVERIFY(second->created);
    QVERIFY(!second->newAgent);

    auto current = store->agent(id);
    VERIFY_OK(current);
    QCOMPARE(current->version, 2);
    QCOMPARE(current->latestVersion, 2);
    QCOMPARE(current->definition.prompt, QStringLiteral("second prompt"));
    QCOMPARE(current->definition.model.endpoint, QStringLiteral("local"));
    QCOMPARE(current->definition.model.name, QStringLiteral("llama3"));
    const QByteArray canonical = QJsonDocument(def.toJson()).toJson(QJsonDocument::Compact);
    QCOMPARE(current->contentHash,
             QString::fromLatin1(
                 QCryptographicHash::hash(canonical, QCryptographicHash::Sha256).toHex()));
    QCOMPARE(current->createdAt.timeSpec(), Qt::UTC);
    QVERIFY(current->savedAt >= current->createdAt);

    auto old = store->agent(id, 1);
    VERIFY_OK(old);
    QCOMPARE(old->version, 1);
    QCOMPARE(old->latestVersion, 2);
    QCOMPARE(old->definition.prompt, QStringLiteral("first prompt"));
    QCOMPARE(old->sourcePath, QStringLiteral("/src/triage"));

    auto versions = store->agentVersions(id);
    VERIFY_OK(versions);
    QCOMPARE(versions->size(), 2);
    QCOMPARE(versions->at(0).version, 2);
    QCOMPARE(versions->at(1).version, 1);
    QCOMPARE(versions->at(1).contentHash, old->contentHash);

    // Remove: gone from listings and "current", history still readable.
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("other"))));
    VERIFY_OK(store->removeAgent(id));
    auto list = store->agents();
    VERIFY_OK(list);
    QCOMPARE(list->size(), 1);
    QCOMPARE(list->at(0).id, QStringLiteral("other"));
    auto removed = store->agent(id);
    VERIFY_ERROR(removed, Error::Code::NotFound);
    QVERIFY2(removed.error().message.contains(QLatin1String("was removed")),
             qPrintable(removed.error().message));
    VERIFY_OK(store->agent(id, 1));
    VERIFY_OK(store->agent(id, 2));
    auto removedVersions = store->agentVersions(id);
    VERIFY_OK(removedVersions);
    QCOMPARE(removedVersions->size(), 2);

    // Re-adding continues the numbering, even with content identical to the last version.
    auto readded = store->saveAgent(def);
    VERIFY_OK(readded);
    QCOMPARE(readded->version, 3);
    QVERIFY(readded->created);
    QVERIFY(readded->newAgent);
    auto back = store->agent(id);
    VERIFY_OK(back);
    QCOMPARE(back->version, 3);
    QCOMPARE(back->createdAt, current->createdAt);
    list = store->agents();
    VERIFY_OK(list);
    QCOMPARE(list->size(), 2);
    QCOMPARE(list->at(0).id, QStringLiteral("other"));
    QCOMPARE(list->at(1).id, id);
}

void TestStore::agentErrors()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("known"))));

    auto unknown = store->agent(QStringLiteral("nope"));
    VERIFY_ERROR(unknown, Error::Code::NotFound);
    QVERIFY(unknown.error().message.contains(QLatin1String("'nope'")));
    auto noVersion = store->agent(QStringLiteral("known"), 7);
    VERIFY_ERROR(noVersion, Error::Code::NotFound);
    QVERIFY(noVersion.error().message.contains(QLatin1String("7")));
    VERIFY_ERROR(store->agentVersions(QStringLiteral("nope")), Error::Code::NotFound);
    VERIFY_ERROR(store->removeAgent(QStringLiteral("nope")), Error::Code::NotFound);
    VERIFY_OK(store->removeAgent(QStringLiteral("known")));
    VERIFY_ERROR(store->removeAgent(QStringLiteral("known")), Error::Code::NotFound);
}

void TestStore::rejectsInvalidAgentId()
{
    OPEN_STORE(store, dbPath());
    VERIFY_ERROR(store->saveAgent(makeAgent(QString())), Error::Code::Validation);
    VERIFY_ERROR(store->saveAgent(makeAgent(QStringLiteral("Bad Id"))), Error::Code::Validation);
    // What the loader would refuse on the way back out is refused on the way in.
    AgentDefinition unreadable = makeAgent(QStringLiteral("unreadable"));
    unreadable.outputSchema = QJsonValue(42);
    auto saved = store->saveAgent(unreadable);
    VERIFY_ERROR(saved, Error::Code::Validation);
    QVERIFY2(saved.error().toString().contains(QLatin1String("output_schema")),
             qPrintable(saved.error().toString()));
    auto list = store->agents();
    VERIFY_OK(list);
    QVERIFY(list->isEmpty());
}

void TestStore::listsThousandAgents()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->transaction([&]() -> Status {
        for (int i = 0; i < 1000; ++i) {
            auto saved = store->saveAgent(
                makeAgent(QStringLiteral("agent-%1").arg(i, 4, 10, QLatin1Char('0'))));
            if (!saved)
                return std::unexpected(saved.error());
        }
        return {};
    }));
    VERIFY_OK(store->removeAgent(QStringLiteral("agent-0500")));

    QElapsedTimer timer;
    timer.start();
    auto list = store->agents();
    const qint64 ms = timer.elapsed();
    VERIFY_OK(list);
    qDebug() << "agents() over 1000 agents took" << ms << "ms";
    QCOMPARE(list->size(), 999);
    QCOMPARE(list->first().id, QStringLiteral("agent-0000"));
    QCOMPARE(list->last().id, QStringLiteral("agent-0999"));
    for (qsizetype i = 1; i < list->size(); ++i)
        QVERIFY(list->at(i - 1).id < list->at(i).id);
}

// --- runs ---------------------------------------------------------------------------------

void TestStore::runStatusNames_data()
{
    QTest::addColumn<RunStatus>("status");
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("terminal");
    QTest::newRow("queued") << RunStatus::Queued << "queued" << false;
    QTest::newRow("starting") << RunStatus::Starting << "starting" << false;
    QTest::newRow("running") << RunStatus::Running << "running" << false;
    QTest::newRow("awaiting_approval")
        << RunStatus::AwaitingApproval << "awaiting_approval" << false;
    QTest::newRow("succeeded") << RunStatus::Succeeded << "succeeded" << true;
    QTest::newRow("failed") << RunStatus::Failed << "failed" << true;
    QTest::newRow("timed_out") << RunStatus::TimedOut << "timed_out" << true;
    QTest::newRow("cancelled") << RunStatus::Cancelled << "cancelled" << true;
    QTest::newRow("interrupted") << RunStatus::Interrupted << "interrupted" << true;
    QTest::newRow("skipped") << RunStatus::Skipped << "skipped" << true;
    QTest::newRow("missed") << RunStatus::Missed << "missed" << true;
}

void TestStore::runStatusNames()
{
    QFETCH(RunStatus, status);
    QFETCH(QString, name);
    QFETCH(bool, terminal);
    QCOMPARE(runStatusName(status), name);
    QCOMPARE(runStatusFromString(name), std::optional<RunStatus>(status));
    QCOMPARE(isTerminal(status), terminal);
    QVERIFY(!runStatusFromString(name.toUpper()));
    QVERIFY(!runStatusFromString(QStringLiteral("bogus")));
}

void TestStore::newRunIdFormat()
{
    static const QString alphabet = QStringLiteral("0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    QStringList ids;
    for (int i = 0; i < 10000; ++i)
        ids << newRunId();
    const qint64 after = QDateTime::currentMSecsSinceEpoch();

    QSet<QString> unique;
    for (qsizetype i = 0; i < ids.size(); ++i) {
        const QString& id = ids.at(i);
        QCOMPARE(id.size(), 30);
        QVERIFY(id.startsWith(QLatin1String("run_")));
        for (QChar c : QStringView(id).mid(4))
            QVERIFY2(alphabet.contains(c), qPrintable(id));
        // Monotonic: sorting by id is sorting by creation.
        if (i > 0)
            QVERIFY2(ids.at(i - 1) < id, qPrintable(ids.at(i - 1) + QLatin1Char(' ') + id));
        unique.insert(id);
    }
    QCOMPARE(unique.size(), ids.size());

    // The first 10 characters are the millisecond timestamp.
    auto decodeMs = [&](const QString& id) {
        qint64 ms = 0;
        for (QChar c : QStringView(id).mid(4, 10))
            ms = ms * 32 + alphabet.indexOf(c);
        return ms;
    };
    QVERIFY(decodeMs(ids.first()) >= before);
    QVERIFY(decodeMs(ids.first()) <= after);
    QVERIFY(decodeMs(ids.last()) <= after + 1);
}

void TestStore::createAndReadRun()
{
    OPEN_STORE(store, dbPath());
    AgentDefinition def = makeAgent(QStringLiteral("triage"));
    VERIFY_OK(store->saveAgent(def));
    def.prompt = QStringLiteral("v2");
    VERIFY_OK(store->saveAgent(def));

    const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
    NewRun n;
    n.agentId = QStringLiteral("triage");
    n.trigger = QStringLiteral("cli:test");
    n.input = QJsonObject{{QStringLiteral("ticket"), 42}};
    auto created = store->createRun(n);
    VERIFY_OK(created);
    QVERIFY(created->id.startsWith(QLatin1String("run_")));
    QCOMPARE(created->agentVersion, 2);
    QCOMPARE(runStatusName(created->status), runStatusName(RunStatus::Queued));
    QVERIFY(created->createdAt >= before);
    QVERIFY(!created->startedAt.isValid());
    QVERIFY(!created->finishedAt.isValid());

    auto read = store->run(created->id);
    VERIFY_OK(read);
    QCOMPARE(read->id, created->id);
    QCOMPARE(read->agentId, QStringLiteral("triage"));
    QCOMPARE(read->agentVersion, 2);
    QCOMPARE(runStatusName(read->status), runStatusName(RunStatus::Queued));
    QCOMPARE(read->trigger, QStringLiteral("cli:test"));
    QCOMPARE(read->input, n.input);
    QVERIFY(read->output.isNull());
    QVERIFY(read->reason.isEmpty());
    QCOMPARE(read->createdAt, created->createdAt);
    QCOMPARE(read->createdAt.timeSpec(), Qt::UTC);

    n.agentVersion = 1;
    auto pinned = store->createRun(n);
    VERIFY_OK(pinned);
    QCOMPARE(pinned->agentVersion, 1);
    QVERIFY(pinned->id > created->id);
}

void TestStore::runInputRoundTrip_data()
{
    QTest::addColumn<QJsonValue>("input");
    QTest::newRow("object") << QJsonValue(
        QJsonObject{{QStringLiteral("a"), 1}, {QStringLiteral("b"), QStringLiteral("é")}});
    QTest::newRow("array") << QJsonValue(QJsonArray{1, QStringLiteral("two"), true});
    QTest::newRow("string") << QJsonValue(QStringLiteral("plain text \"quoted\"\n"));
    QTest::newRow("number") << QJsonValue(3.25);
    QTest::newRow("bool") << QJsonValue(false);
    QTest::newRow("null") << QJsonValue();
}

void TestStore::runInputRoundTrip()
{
    QFETCH(QJsonValue, input);
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    auto created = store->createRun(newRun(QStringLiteral("a"), {}, input));
    VERIFY_OK(created);
    VERIFY_OK(store->setRunStatus(created->id, RunStatus::Succeeded, {}, input));
    auto read = store->run(created->id);
    VERIFY_OK(read);
    QCOMPARE(read->input, input);
    QCOMPARE(read->output, input);
}

void TestStore::createRunErrors()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("gone"))));
    VERIFY_OK(store->removeAgent(QStringLiteral("gone")));

    VERIFY_ERROR(store->createRun(newRun(QStringLiteral("nope"))), Error::Code::NotFound);
    VERIFY_ERROR(store->createRun(newRun(QStringLiteral("a"), 9)), Error::Code::NotFound);
    VERIFY_ERROR(store->createRun(newRun(QStringLiteral("gone"))), Error::Code::NotFound);
    VERIFY_ERROR(store->run(QStringLiteral("run_nope")), Error::Code::NotFound);
    VERIFY_ERROR(store->setRunStatus(QStringLiteral("run_nope"), RunStatus::Running),
                 Error::Code::NotFound);
    auto all = store->runs(RunFilter{{}, {}, {}, 0});
    VERIFY_OK(all);
    QVERIFY(all->isEmpty());
}

void TestStore::terminalWrittenOnce_data()
{
    QTest::addColumn<RunStatus>("terminal");
    for (RunStatus s : {RunStatus::Succeeded, RunStatus::Failed, RunStatus::TimedOut,
                        RunStatus::Cancelled, RunStatus::Interrupted})
        QTest::newRow(qPrintable(runStatusName(s))) << s;
}

void TestStore::terminalWrittenOnce()
{
    QFETCH(RunStatus, terminal);
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    auto created = store->createRun(newRun(QStringLiteral("a")));
    VERIFY_OK(created);
    const QString id = created->id;

    VERIFY_OK(store->setRunStatus(id, RunStatus::Starting));
    VERIFY_OK(store->setRunStatus(id, RunStatus::Running));
    auto running = store->run(id);
    VERIFY_OK(running);
    QCOMPARE(runStatusName(running->status), runStatusName(RunStatus::Running));
    QVERIFY(running->startedAt.isValid());
    QVERIFY(!running->finishedAt.isValid());

    const QJsonObject output{{QStringLiteral("answer"), 42}};
    VERIFY_OK(store->setRunStatus(id, terminal, QStringLiteral("the reason"), output));
    auto ended = store->run(id);
    VERIFY_OK(ended);
    QCOMPARE(runStatusName(ended->status), runStatusName(terminal));
    QCOMPARE(ended->reason, QStringLiteral("the reason"));
    QCOMPARE(ended->output, QJsonValue(output));
    QVERIFY(ended->finishedAt.isValid());
    QVERIFY(ended->finishedAt >= ended->startedAt);
    QCOMPARE(ended->startedAt, running->startedAt);

    // Neither another terminal state nor a live one may overwrite it.
    for (RunStatus next :
         {RunStatus::Failed, RunStatus::Succeeded, RunStatus::Running, RunStatus::Queued}) {
        auto again = store->setRunStatus(id, next, QStringLiteral("late"), QJsonValue(1));
        VERIFY_ERROR(again, Error::Code::Conflict);
        QVERIFY2(again.error().message.contains(runStatusName(terminal)),
                 qPrintable(again.error().message));
    }
    auto after = store->run(id);
    VERIFY_OK(after);
    QCOMPARE(runStatusName(after->status), runStatusName(terminal));
    QCOMPARE(after->reason, QStringLiteral("the reason"));
    QCOMPARE(after->output, QJsonValue(output));
    QCOMPARE(after->finishedAt, ended->finishedAt);
    QCOMPARE(store->markLiveRunsInterrupted(QStringLiteral("restart")).value_or(-1), 0);
}

void TestStore::startedAtSetOnce()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    auto created = store->createRun(newRun(QStringLiteral("a")));
    VERIFY_OK(created);
    VERIFY_OK(store->setRunStatus(created->id, RunStatus::Running));
    const QDateTime started = store->run(created->id)->startedAt;
    QVERIFY(started.isValid());
    QTest::qWait(5);
    VERIFY_OK(store->setRunStatus(created->id, RunStatus::AwaitingApproval));
    VERIFY_OK(store->setRunStatus(created->id, RunStatus::Running));
    auto read = store->run(created->id);
    VERIFY_OK(read);
    QCOMPARE(read->startedAt, started);
    QCOMPARE(runStatusName(read->status), runStatusName(RunStatus::Running));
}

void TestStore::ledgerEntries()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    NewRun n = newRun(QStringLiteral("a"));
    n.trigger = QStringLiteral("schedule:nightly");
    n.status = RunStatus::Skipped;
    n.reason = QStringLiteral("overlap");
    auto skipped = store->createRun(n);
    VERIFY_OK(skipped);
    auto read = store->run(skipped->id);
    VERIFY_OK(read);
    QCOMPARE(runStatusName(read->status), runStatusName(RunStatus::Skipped));
    QCOMPARE(read->reason, QStringLiteral("overlap"));
    QVERIFY(read->finishedAt.isValid());
    VERIFY_ERROR(store->setRunStatus(skipped->id, RunStatus::Running), Error::Code::Conflict);
}

void TestStore::markLiveRunsInterrupted()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    QHash<QString, RunStatus> initial;
    for (RunStatus s : {RunStatus::Queued, RunStatus::Starting, RunStatus::Running,
                        RunStatus::AwaitingApproval, RunStatus::Succeeded, RunStatus::Failed}) {
        auto r = store->createRun(newRun(QStringLiteral("a")));
        VERIFY_OK(r);
        if (s != RunStatus::Queued)
            VERIFY_OK(store->setRunStatus(r->id, s));
        initial.insert(r->id, s);
    }
    auto count = store->markLiveRunsInterrupted(QStringLiteral("engine restarted"));
    VERIFY_OK(count);
    QCOMPARE(*count, 4);
    for (auto it = initial.cbegin(); it != initial.cend(); ++it) {
        auto r = store->run(it.key());
        VERIFY_OK(r);
        if (isTerminal(it.value())) {
            QCOMPARE(runStatusName(r->status), runStatusName(it.value()));
            QVERIFY(r->reason.isEmpty());
        } else {
            QCOMPARE(runStatusName(r->status), runStatusName(RunStatus::Interrupted));
            QCOMPARE(r->reason, QStringLiteral("engine restarted"));
            QVERIFY(r->finishedAt.isValid());
        }
    }
    auto again = store->markLiveRunsInterrupted(QStringLiteral("again"));
    VERIFY_OK(again);
    QCOMPARE(*again, 0);
}

void TestStore::runsPagination()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    QStringList created;
    VERIFY_OK(store->transaction([&]() -> Status {
        for (int i = 0; i < 120; ++i) {
            auto r = store->createRun(newRun(QStringLiteral("a")));
            if (!r)
                return std::unexpected(r.error());
            created << r->id;
        }
        return {};
    }));

    QStringList seen;
    QString cursor;
    QList<qsizetype> pageSizes;
    for (int guard = 0; guard < 10; ++guard) {
        auto page = store->runs(RunFilter{{}, {}, cursor, 50});
        VERIFY_OK(page);
        pageSizes << page->size();
        for (const RunRecord& r : *page)
            seen << r.id;
        if (page->size() < 50)
            break;
        cursor = page->last().id;
    }
    QCOMPARE(pageSizes, (QList<qsizetype>{50, 50, 20}));
    QStringList expected = created;
    std::reverse(expected.begin(), expected.end());
    QCOMPARE(seen, expected); // newest first, no gap, no duplicate
}

void TestStore::runsFilters()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("b"))));
    QStringList aIds;
    for (int i = 0; i < 10; ++i) {
        const QString agent = i % 2 ? QStringLiteral("b") : QStringLiteral("a");
        auto r = store->createRun(newRun(agent));
        VERIFY_OK(r);
        if (agent == QLatin1String("a"))
            aIds.prepend(r->id);
        if (i % 3 == 0)
            VERIFY_OK(store->setRunStatus(r->id, RunStatus::Failed));
    }
    auto all = store->runs(RunFilter{{}, {}, {}, 0});
    VERIFY_OK(all);
    QCOMPARE(all->size(), 10);

    auto onlyA = store->runs(RunFilter{QStringLiteral("a"), {}, {}, 50});
    VERIFY_OK(onlyA);
    QStringList ids;
    for (const RunRecord& r : *onlyA)
        ids << r.id;
    QCOMPARE(ids, aIds);

    auto failed = store->runs(RunFilter{{}, RunStatus::Failed, {}, 50});
    VERIFY_OK(failed);
    QCOMPARE(failed->size(), 4); // i = 0, 3, 6, 9
    for (const RunRecord& r : *failed)
        QCOMPARE(runStatusName(r.status), runStatusName(RunStatus::Failed));

    auto failedB = store->runs(RunFilter{QStringLiteral("b"), RunStatus::Failed, {}, 50});
    VERIFY_OK(failedB);
    QCOMPARE(failedB->size(), 2); // i = 3, 9

    auto olderA = store->runs(RunFilter{QStringLiteral("a"), {}, aIds.at(1), 2});
    VERIFY_OK(olderA);
    QCOMPARE(olderA->size(), 2);
    QCOMPARE(olderA->at(0).id, aIds.at(2));
    QCOMPARE(olderA->at(1).id, aIds.at(3));
}

// --- events -------------------------------------------------------------------------------

void TestStore::appendEventsContiguous()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    auto run = store->createRun(newRun(QStringLiteral("a")));
    VERIFY_OK(run);
    auto other = store->createRun(newRun(QStringLiteral("a")));
    VERIFY_OK(other);

    qint64 expectedSeq = 0;
    for (int batch : {1, 5, 10}) {
        QList<RunEvent> events;
        for (int i = 0; i < batch; ++i) {
            RunEvent e;
            e.type = QStringLiteral("log");
            e.data = QJsonObject{{QStringLiteral("n"), int(expectedSeq) + i + 1}};
            events << e;
        }
        VERIFY_OK(store->appendEvents(run->id, events));
        for (const RunEvent& e : events) {
            QCOMPARE(e.seq, ++expectedSeq);
            QVERIFY(e.ts.isValid());
        }
    }
    // Numbering is per run.
    QList<RunEvent> single{RunEvent{0, QStringLiteral("run.queued"), {}, {}}};
    VERIFY_OK(store->appendEvents(other->id, single));
    QCOMPARE(single.first().seq, qint64(1));
    QList<RunEvent> none;
    VERIFY_OK(store->appendEvents(run->id, none));

    auto all = store->events(run->id);
    VERIFY_OK(all);
    QCOMPARE(all->size(), 16);
    for (qsizetype i = 0; i < all->size(); ++i) {
        QCOMPARE(all->at(i).seq, qint64(i + 1));
        QCOMPARE(all->at(i).type, QStringLiteral("log"));
        QCOMPARE(all->at(i).data.value(QStringLiteral("n")).toInt(), int(i) + 1);
    }
    auto page = store->events(run->id, 5, 3);
    VERIFY_OK(page);
    QCOMPARE(page->size(), 3);
    QCOMPARE(page->at(0).seq, qint64(6));
    QCOMPARE(page->at(2).seq, qint64(8));
    auto tail = store->events(run->id, 16);
    VERIFY_OK(tail);
    QVERIFY(tail->isEmpty());
    VERIFY_ERROR(store->events(QStringLiteral("run_nope")), Error::Code::NotFound);
}

void TestStore::appendEventsUnknownRun()
{
    OPEN_STORE(store, dbPath());
    QList<RunEvent> events{RunEvent{0, QStringLiteral("log"), {}, {}},
                           RunEvent{0, QStringLiteral("log"), {}, {}}};
    auto s = store->appendEvents(QStringLiteral("run_nope"), events);
    VERIFY_ERROR(s, Error::Code::NotFound);
    QCOMPARE(events.at(0).seq, qint64(0));
    QVERIFY(!events.at(0).ts.isValid());
    RawDb raw(dbPath());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM run_events")).toInt(), 0);
}

void TestStore::eventTimestampsUtc()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    auto run = store->createRun(newRun(QStringLiteral("a")));
    VERIFY_OK(run);
    const QDateTime utc(QDate(2026, 3, 1), QTime(12, 30, 45, 123), Qt::UTC);
    const QDateTime plusTwo = utc.toOffsetFromUtc(2 * 3600);
    QList<RunEvent> events{RunEvent{0, QStringLiteral("a"), utc, {}},
                           RunEvent{0, QStringLiteral("b"), plusTwo, {}}};
    VERIFY_OK(store->appendEvents(run->id, events));
    auto read = store->events(run->id);
    VERIFY_OK(read);
    QCOMPARE(read->size(), 2);
    for (const RunEvent& e : *read) {
        QCOMPARE(e.ts, utc);
        QCOMPARE(e.ts.timeSpec(), Qt::UTC);
        QCOMPARE(e.ts.time().msec(), 123);
    }
    RawDb raw(dbPath());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT ts FROM run_events WHERE seq = 2")).toString(),
             QStringLiteral("2026-03-01T12:30:45.123Z"));
}

void TestStore::eventsThroughput()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    auto run = store->createRun(newRun(QStringLiteral("a")));
    VERIFY_OK(run);

    constexpr int Batches = 200;
    constexpr int PerBatch = 100;
    QElapsedTimer timer;
    timer.start();
    for (int b = 0; b < Batches; ++b) {
        QList<RunEvent> events;
        events.reserve(PerBatch);
        for (int i = 0; i < PerBatch; ++i) {
            events.append(RunEvent{
                0,
                QStringLiteral("tool.result"),
                {},
                QJsonObject{{QStringLiteral("i"), b * PerBatch + i},
                            {QStringLiteral("text"), QStringLiteral("some tool output text")}}});
        }
        auto s = store->appendEvents(run->id, events);
        VERIFY_OK(s);
    }
    const qint64 ms = qMax<qint64>(1, timer.elapsed());
    qDebug().noquote() << QStringLiteral("appendEvents: %1 events in %2 ms = %3 events/s "
                                         "(batches of %4)")
                              .arg(Batches * PerBatch)
                              .arg(ms)
                              .arg(qint64(Batches) * PerBatch * 1000 / ms)
                              .arg(PerBatch);
    auto last = store->events(run->id, Batches * PerBatch - 1);
    VERIFY_OK(last);
    QCOMPARE(last->size(), 1);
    QCOMPARE(last->first().seq, qint64(Batches) * PerBatch);
}

// --- transactions and concurrency ---------------------------------------------------------

void TestStore::transactionRollsBack()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    QString runId;
    auto s = store->transaction([&]() -> Status {
        auto r = store->createRun(newRun(QStringLiteral("a")));
        if (!r)
            return std::unexpected(r.error());
        runId = r->id;
        QList<RunEvent> events(10, RunEvent{0, QStringLiteral("log"), {}, {}});
        if (auto a = store->appendEvents(runId, events); !a)
            return a;
        return fail(Error::Code::Conflict, QStringLiteral("changed my mind"));
    });
    VERIFY_ERROR(s, Error::Code::Conflict);
    QCOMPARE(s.error().message, QStringLiteral("changed my mind"));
    QVERIFY(!runId.isEmpty());
    VERIFY_ERROR(store->run(runId), Error::Code::NotFound);
    RawDb raw(dbPath());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM run_events")).toInt(), 0);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM runs")).toInt(), 0);
    // The store is usable afterwards (no transaction left open).
    VERIFY_OK(store->createRun(newRun(QStringLiteral("a"))));
}

void TestStore::nestedTransactionUsesSavepoint()
{
    OPEN_STORE(store, dbPath());
    VERIFY_OK(store->saveAgent(makeAgent(QStringLiteral("a"))));
    QString runId;
    VERIFY_OK(store->transaction([&]() -> Status {
        auto r = store->createRun(newRun(QStringLiteral("a")));
        if (!r)
            return std::unexpected(r.error());
        runId = r->id;
        auto inner = store->transaction([&]() -> Status {
            QList<RunEvent> events(3, RunEvent{0, QStringLiteral("discarded"), {}, {}});
            if (auto a = store->appendEvents(runId, events); !a)
                return a;
            return fail(Error::Code::Conflict, QStringLiteral("inner fails"));
        });
        if (inner)
            return fail(Error::Code::Internal, QStringLiteral("inner should have failed"));
        // A failing store call inside the transaction is undone on its own too.
        QList<RunEvent> orphan(2, RunEvent{0, QStringLiteral("orphan"), {}, {}});
        if (store->appendEvents(QStringLiteral("run_nope"), orphan))
            return fail(Error::Code::Internal, QStringLiteral("unknown run accepted"));
        QList<RunEvent> kept(2, RunEvent{0, QStringLiteral("kept"), {}, {}});
        return store->appendEvents(runId, kept);
    }));
    auto events = store->events(runId);
    VERIFY_OK(events);
    QCOMPARE(events->size(), 2);
    QCOMPARE(events->at(0).seq, qint64(1));
    QCOMPARE(events->at(0).type, QStringLiteral("kept"));
    QCOMPARE(events->at(1).seq, qint64(2));
}

void TestStore::twoStoresSeeEachOther()
{
    OPEN_STORE(a, dbPath());
    OPEN_STORE(b, dbPath());
    VERIFY_OK(a->saveAgent(makeAgent(QStringLiteral("shared"))));
    auto list = b->agents();
    VERIFY_OK(list);
    QCOMPARE(list->size(), 1);

    auto run = b->createRun(newRun(QStringLiteral("shared")));
    VERIFY_OK(run);
    auto seen = a->run(run->id);
    VERIFY_OK(seen);
    QCOMPARE(seen->agentId, QStringLiteral("shared"));

    QList<RunEvent> fromA(3, RunEvent{0, QStringLiteral("a"), {}, {}});
    VERIFY_OK(a->appendEvents(run->id, fromA));
    QList<RunEvent> fromB(2, RunEvent{0, QStringLiteral("b"), {}, {}});
    VERIFY_OK(b->appendEvents(run->id, fromB));
    QCOMPARE(fromB.at(0).seq, qint64(4)); // B sees A's events when numbering
    auto events = a->events(run->id);
    VERIFY_OK(events);
    QCOMPARE(events->size(), 5);

    VERIFY_OK(a->setRunStatus(run->id, RunStatus::Succeeded));
    VERIFY_ERROR(b->setRunStatus(run->id, RunStatus::Failed), Error::Code::Conflict);
}

void TestStore::writerWaitsThenLocked()
{
    OPEN_STORE(a, dbPath());
    Store::Options impatient;
    impatient.busyTimeoutMs = 200;
    OPEN_STORE(b, dbPath(), impatient);

    qint64 waited = -1;
    std::optional<Error> seen;
    VERIFY_OK(a->transaction([&]() -> Status {
        QElapsedTimer timer;
        timer.start();
        auto saved = b->saveAgent(makeAgent(QStringLiteral("blocked")));
        waited = timer.elapsed();
        if (!saved)
            seen = saved.error();
        return {};
    }));
    QVERIFY(seen.has_value());
    QCOMPARE(int(seen->code), int(Error::Code::Locked));
    QVERIFY2(waited >= 150, qPrintable(QString::number(waited)));
    VERIFY_OK(b->saveAgent(makeAgent(QStringLiteral("unblocked"))));
}

void TestStore::readerNotBlockedByWriter()
{
    OPEN_STORE(a, dbPath());
    OPEN_STORE(b, dbPath());
    VERIFY_OK(a->saveAgent(makeAgent(QStringLiteral("before"))));
    VERIFY_OK(a->transaction([&]() -> Status {
        if (auto s = a->saveAgent(makeAgent(QStringLiteral("during"))); !s)
            return std::unexpected(s.error());
        // WAL: the reader sees the last commit, neither blocked nor the uncommitted row.
        auto list = b->agents();
        if (!list)
            return std::unexpected(list.error());
        if (list->size() != 1)
            return fail(Error::Code::Internal, QStringLiteral("reader saw uncommitted data"));
        return {};
    }));
    auto list = b->agents();
    VERIFY_OK(list);
    QCOMPARE(list->size(), 2);
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_Store.moc"
