// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "KeychainSecretStore.h"

#include "VaultLogging.h"
#include "vivarium/core/Paths.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QThread>
#include <QTimer>

#include <qt6keychain/keychain.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace vivarium {

namespace {

const QString IndexKey = QStringLiteral("vivarium:index");
// Values are stored as text so one lookup finds them (QtKeychain's binary mode costs a second
// one); the marker tells our base64 from a value someone stored by hand with secret-tool.
constexpr char ValueMarker[] = "vivarium-b64:";

QByteArray encodeValue(const QByteArray& value)
{
    return QByteArray(ValueMarker) + value.toBase64();
}

QByteArray decodeValue(const QByteArray& stored)
{
    if (stored.startsWith(ValueMarker))
        return QByteArray::fromBase64(stored.mid(qsizetype(sizeof ValueMarker - 1)));
    return stored;
}

/** Let the event loop run for `ms` (timers, D-Bus) instead of blocking the thread. */
void waitProcessingEvents(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

/** Serializes index updates of several processes sharing a data directory. */
class IndexLock
{
public:
    IndexLock(const QString& dataDir, int timeoutMs)
    {
        if (!Paths::ensurePrivateDir(dataDir))
            return;
        const QByteArray p = QFile::encodeName(dataDir + QStringLiteral("/keychain.lock"));
        m_fd = ::open(p.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (m_fd < 0)
            return;
        QElapsedTimer t;
        t.start();
        while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            if ((errno != EWOULDBLOCK && errno != EINTR) || t.elapsed() > timeoutMs) {
                ::close(m_fd);
                m_fd = -1;
                return;
            }
            QThread::usleep(2000);
        }
        m_locked = true;
    }
    ~IndexLock()
    {
        if (m_fd >= 0) {
            ::flock(m_fd, LOCK_UN);
            ::close(m_fd);
        }
    }
    IndexLock(const IndexLock&) = delete;
    IndexLock& operator=(const IndexLock&) = delete;
    bool locked() const { return m_locked; }

private:
    int m_fd = -1;
    bool m_locked = false;
};

} // namespace

struct KeychainSecretStore::Outcome
{
    bool ok = false;
    bool notFound = false;
    bool timedOut = false;
    bool deniedByUser = false;
    QString message;
    QByteArray data;
};

KeychainSecretStore::KeychainSecretStore(QString dataDir)
    : KeychainSecretStore(std::move(dataDir), Options())
{}

KeychainSecretStore::KeychainSecretStore(QString dataDir, Options options)
    : m_dataDir(std::move(dataDir))
    , m_options(std::move(options))
{
    if (m_options.service.isEmpty())
        m_options.service = serviceFor(m_dataDir);
}

KeychainSecretStore::~KeychainSecretStore() = default;

QString KeychainSecretStore::serviceFor(const QString& dataDir)
{
    const QFileInfo info(dataDir);
    QString path = info.canonicalFilePath();
    if (path.isEmpty())
        path = info.absoluteFilePath();
    const QByteArray hash =
        QCryptographicHash::hash(path.toUtf8(), QCryptographicHash::Sha256).toHex().left(12);
    return QStringLiteral("vivarium-") + QString::fromLatin1(hash);
}

bool KeychainSecretStore::sessionBusAvailable(QString* why)
{
#if defined(Q_OS_LINUX) || defined(Q_OS_FREEBSD)
    if (!qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        return true;
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty() && QFileInfo::exists(runtime + QStringLiteral("/bus")))
        return true;
    if (why)
        *why = QStringLiteral("no D-Bus session bus ($DBUS_SESSION_BUS_ADDRESS is unset and there "
                              "is no $XDG_RUNTIME_DIR/bus), so no secret service can answer");
    return false;
#else
    Q_UNUSED(why)
    return true;
#endif
}

QString KeychainSecretStore::describe() const
{
    return QStringLiteral("OS keychain (service %1, for data directory %2)")
        .arg(m_options.service, m_dataDir);
}

KeychainSecretStore::Outcome KeychainSecretStore::runOnce(Op op, const QString& key,
                                                          const QByteArray& value, int timeoutMs)
{
    Outcome out;
    if (!QCoreApplication::instance()) {
        out.message = QStringLiteral("no Qt event loop (QCoreApplication) to drive the keychain");
        return out;
    }
    QKeychain::Job* job = nullptr;
    switch (op) {
    case Op::Read:
        job = new QKeychain::ReadPasswordJob(m_options.service);
        break;
    case Op::Write: {
        auto* w = new QKeychain::WritePasswordJob(m_options.service);
        w->setTextData(QString::fromLatin1(encodeValue(value)));
        job = w;
        break;
    }
    case Op::Delete:
        job = new QKeychain::DeletePasswordJob(m_options.service);
        break;
    }
    job->setKey(key);
    job->setAutoDelete(false);
    job->setInsecureFallback(false); // never plaintext on disk (DESIGN section 5)

    QEventLoop loop;
    bool done = false;
    QObject::connect(job, &QKeychain::Job::finished, &loop, [&](QKeychain::Job* j) {
        done = true;
        out.ok = j->error() == QKeychain::NoError;
        out.notFound = j->error() == QKeychain::EntryNotFound;
        out.deniedByUser = j->error() == QKeychain::AccessDeniedByUser;
        out.message = j->errorString();
        if (auto* r = qobject_cast<QKeychain::ReadPasswordJob*>(j))
            out.data = r->binaryData();
        loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    job->start();
    loop.exec();
    if (!done) {
        // The job may still complete (its D-Bus call has its own timeout): let it delete
        // itself then; deleting it now would leave the backend a dangling callback.
        QObject::disconnect(job, nullptr, &loop, nullptr);
        job->setAutoDelete(true);
        out.timedOut = true;
        out.message = QStringLiteral("the keychain did not answer within %1 s")
                          .arg(double(timeoutMs) / 1000.0);
        return out;
    }
    delete job;
    return out;
}

KeychainSecretStore::Outcome KeychainSecretStore::run(Op op, const QString& key,
                                                      const QByteArray& value)
{
    Outcome o = runOnce(op, key, value, m_options.timeoutMs);
    // One retry for a service that is starting (not for answers: missing entry, user's "no",
    // or a hung job that would only time out again).
    if (!o.ok && !o.notFound && !o.deniedByUser && !o.timedOut) {
        qCDebug(lcSecrets) << "keychain call failed, retrying once:" << o.message;
        waitProcessingEvents(m_options.retryDelayMs);
        o = runOnce(op, key, value, m_options.timeoutMs);
    }
    return o;
}

Error KeychainSecretStore::failure(const QString& what, const Outcome& o) const
{
    return Error::make(o.deniedByUser ? Error::Code::Validation : Error::Code::Io,
                       QStringLiteral("keychain (service %1): cannot %2: %3")
                           .arg(m_options.service, what, o.message));
}

KeychainSecretStore::ProbeResult KeychainSecretStore::probe()
{
    ProbeResult r;
    QElapsedTimer t;
    t.start();
    QString why;
    if (!sessionBusAvailable(&why)) {
        r.detail = why;
        return r;
    }
    const QString key =
        QStringLiteral("vivarium:probe-%1")
            .arg(QRandomGenerator::system()->generate64(), 16, 16, QLatin1Char('0'));
    QByteArray value(16, '\0');
    for (auto& c : value)
        c = char(QRandomGenerator::system()->bounded(256));
    QString last;
    for (int attempt = 1; attempt <= 2; ++attempt) {
        r.attempts = attempt;
        Outcome w = runOnce(Op::Write, key, value, m_options.probeTimeoutMs);
        if (w.ok) {
            Outcome rd = runOnce(Op::Read, key, {}, m_options.probeTimeoutMs);
            Outcome del = runOnce(Op::Delete, key, {}, m_options.probeTimeoutMs);
            if (rd.ok && decodeValue(rd.data) == value && del.ok) {
                r.ok = true;
                r.elapsedMs = t.elapsed();
                r.detail =
                    QStringLiteral("a secret service answered (write, read, delete) in "
                                   "%1 ms%2")
                        .arg(r.elapsedMs)
                        .arg(attempt > 1 ? QStringLiteral(", on the second try") : QString());
                return r;
            }
            last = !rd.ok    ? QStringLiteral("read back failed: ") + rd.message
                   : !del.ok ? QStringLiteral("delete failed: ") + del.message
                             : QStringLiteral("the value read back differs from the one written");
        } else {
            last = w.message;
        }
        if (w.timedOut || w.deniedByUser)
            break; // a hung or refusing keychain will not change in a second
        if (attempt == 1)
            waitProcessingEvents(m_options.retryDelayMs);
    }
    r.elapsedMs = t.elapsed();
    r.detail = QStringLiteral("no secret service answered (%1; %2 attempt(s), %3 ms)")
                   .arg(last)
                   .arg(r.attempts)
                   .arg(r.elapsedMs);
    return r;
}

Result<QByteArray> KeychainSecretStore::read(const QString& key)
{
    Outcome o = run(Op::Read, key);
    if (o.notFound)
        return fail(Error::Code::NotFound,
                    QStringLiteral("no secret named '%1' in the keychain").arg(key));
    if (!o.ok)
        return std::unexpected(failure(QStringLiteral("read '%1'").arg(key), o));
    return decodeValue(o.data);
}

Status KeychainSecretStore::write(const QString& key, const QByteArray& value)
{
    if (auto s = checkKeyName(key); !s)
        return s;
    Outcome o = run(Op::Write, key, value);
    if (!o.ok)
        return std::unexpected(failure(QStringLiteral("store '%1'").arg(key), o));
    qCDebug(lcSecrets).noquote() << "stored secret" << key << "in" << m_options.service;
    return updateIndex(key, true);
}

Status KeychainSecretStore::remove(const QString& key)
{
    // Deleting a missing entry is not an error for every backend: look first.
    Outcome found = run(Op::Read, key);
    if (found.notFound) {
        (void)updateIndex(key, false);
        return fail(Error::Code::NotFound,
                    QStringLiteral("no secret named '%1' in the keychain").arg(key));
    }
    if (!found.ok)
        return std::unexpected(failure(QStringLiteral("look up '%1'").arg(key), found));
    Outcome o = run(Op::Delete, key);
    if (!o.ok && !o.notFound)
        return std::unexpected(failure(QStringLiteral("delete '%1'").arg(key), o));
    return updateIndex(key, false);
}

Result<QStringList> KeychainSecretStore::readIndex()
{
    Outcome o = run(Op::Read, IndexKey);
    if (o.notFound)
        return QStringList();
    if (!o.ok)
        return std::unexpected(failure(QStringLiteral("read the index of secret names"), o));
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(decodeValue(o.data), &err);
    if (err.error != QJsonParseError::NoError || !doc.isArray())
        return fail(Error::Code::Database,
                    QStringLiteral("keychain (service %1): the index of secret names is damaged; "
                                   "re-store the secrets to rebuild it")
                        .arg(m_options.service));
    QStringList names;
    for (const QJsonValue& v : doc.array())
        if (v.isString())
            names << v.toString();
    names.sort();
    names.removeDuplicates();
    return names;
}

Status KeychainSecretStore::updateIndex(const QString& key, bool present)
{
    IndexLock lock(m_dataDir, m_options.timeoutMs);
    if (!lock.locked())
        return fail(Error::Code::Locked,
                    QStringLiteral("cannot lock %1/keychain.lock to update the keychain index")
                        .arg(m_dataDir));
    auto names = readIndex();
    if (!names)
        return std::unexpected(names.error());
    const bool has = names->contains(key);
    if (has == present)
        return {};
    if (present)
        names->append(key);
    else
        names->removeAll(key);
    names->sort();
    const QByteArray json =
        QJsonDocument(QJsonArray::fromStringList(*names)).toJson(QJsonDocument::Compact);
    Outcome o = run(Op::Write, IndexKey, json);
    if (!o.ok)
        return std::unexpected(failure(QStringLiteral("update the index of secret names"), o));
    return {};
}

Result<QStringList> KeychainSecretStore::keys()
{
    return readIndex();
}

} // namespace vivarium
