// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/SecretStore.h"

#include "VaultLogging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <QElapsedTimer>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace vivarium {

namespace {

// Format 2 (docs/secrets.md "Vault format"). All integers little-endian.
//   0  magic "VIVVAULT"          8   version (2)           9   key source (1 file, 2 passphrase)
//  10  reserved (2)             12   Argon2id opslimit (4) 16  Argon2id memlimit bytes (8)
//  24  salt (16)                40   key check (16)        56  ciphertext length (8)
//  64  header checksum (16)     80   nonce (24)           104  ciphertext + tag
// The AEAD's associated data is bytes 0..79, so every header field is authenticated; the
// unkeyed checksum only lets damage to the header be told apart from a wrong key.
constexpr char Magic[8] = {'V', 'I', 'V', 'V', 'A', 'U', 'L', 'T'};
constexpr unsigned char LegacyVersion = 1;
constexpr unsigned char CurrentVersion = 2;
constexpr unsigned char SourceKeyFile = 1;
constexpr unsigned char SourcePassphrase = 2;
constexpr qsizetype LegacyHeaderBytes = sizeof(Magic) + 1;
constexpr qsizetype NonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr qsizetype TagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr qsizetype KeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr qsizetype SaltBytes = crypto_pwhash_SALTBYTES;
constexpr qsizetype CheckBytes = 16;
constexpr qsizetype OffSource = 9;
constexpr qsizetype OffOps = 12;
constexpr qsizetype OffMem = 16;
constexpr qsizetype OffSalt = 24;
constexpr qsizetype OffCheck = 40;
constexpr qsizetype OffLength = 56;
constexpr qsizetype OffChecksum = 64;
constexpr qsizetype HeaderBytes = 80;
constexpr qsizetype PrefixBytes = HeaderBytes + NonceBytes;
static_assert(SaltBytes == 16 && crypto_kdf_CONTEXTBYTES == 8);

// Bounds on header KDF parameters: an altered header must not make us allocate gigabytes.
constexpr quint32 MaxOps = 16;
constexpr quint64 MinMem = 8ull << 20;
constexpr quint64 MaxMem = 1ull << 30;
constexpr qint64 MaxVaultBytes = 256ll << 20;
constexpr qsizetype MaxValueBytes = 1 << 20;
constexpr qsizetype MinPassphraseChars = 8;

constexpr char KdfContext[crypto_kdf_CONTEXTBYTES] = {'v', 'i', 'v', 'v', 'a', 'u', 'l', 't'};
constexpr char CheckLabel[] = "vivarium vault key check v2";

QString sysError()
{
    return QString::fromLocal8Bit(strerror(errno));
}

/** Overwrites a buffer that held secret material before it is released. */
void wipe(QByteArray& b)
{
    if (!b.isEmpty())
        sodium_memzero(b.data(), size_t(b.size()));
    b.clear();
}

/**
 * Memory for keys and plaintext: sodium_malloc (guard pages, mlock where the rlimit allows,
 * so it is not swapped out) and zeroed by sodium_free.
 */
class SecureBuffer
{
public:
    SecureBuffer() = default;
    explicit SecureBuffer(size_t n)
        : m_size(n)
    {
        m_data = static_cast<unsigned char*>(sodium_malloc(n == 0 ? 1 : n));
        if (!m_data)
            qFatal("vivarium: out of memory for a secure buffer");
        sodium_memzero(m_data, n == 0 ? 1 : n);
    }
    SecureBuffer(const unsigned char* p, size_t n)
        : SecureBuffer(n)
    {
        if (n)
            std::memcpy(m_data, p, n);
    }
    ~SecureBuffer() { reset(); }
    SecureBuffer(SecureBuffer&& o) noexcept
        : m_data(std::exchange(o.m_data, nullptr))
        , m_size(std::exchange(o.m_size, 0))
    {}
    SecureBuffer& operator=(SecureBuffer&& o) noexcept
    {
        if (this != &o) {
            reset();
            m_data = std::exchange(o.m_data, nullptr);
            m_size = std::exchange(o.m_size, 0);
        }
        return *this;
    }
    SecureBuffer(const SecureBuffer&) = delete;
    SecureBuffer& operator=(const SecureBuffer&) = delete;

    void reset()
    {
        if (m_data)
            sodium_free(m_data);
        m_data = nullptr;
        m_size = 0;
    }
    unsigned char* data() { return m_data; }
    const unsigned char* data() const { return m_data; }
    size_t size() const { return m_size; }
    bool isNull() const { return m_data == nullptr; }

private:
    unsigned char* m_data = nullptr;
    size_t m_size = 0;
};

/** The master key and what is derived from it: the AEAD key and the key check. */
struct KeyMaterial
{
    SecureBuffer master; ///< the key file's key, or Argon2id(passphrase)
    SecureBuffer enc;    ///< format 2 AEAD key: KDF(master, 1)
    unsigned char check[CheckBytes] = {};

    static KeyMaterial fromMaster(SecureBuffer master)
    {
        KeyMaterial k;
        k.enc = SecureBuffer(KeyBytes);
        SecureBuffer checkKey(crypto_generichash_KEYBYTES);
        crypto_kdf_derive_from_key(k.enc.data(), KeyBytes, 1, KdfContext, master.data());
        crypto_kdf_derive_from_key(checkKey.data(), checkKey.size(), 2, KdfContext, master.data());
        crypto_generichash(k.check, CheckBytes, reinterpret_cast<const unsigned char*>(CheckLabel),
                           sizeof CheckLabel - 1, checkKey.data(), checkKey.size());
        k.master = std::move(master);
        return k;
    }
    bool isNull() const { return master.isNull(); }
};

void putLe(unsigned char* p, quint64 v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        p[i] = static_cast<unsigned char>(v >> (8 * i));
}

quint64 getLe(const unsigned char* p, int bytes)
{
    quint64 v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= quint64(p[i]) << (8 * i);
    return v;
}

/** A parsed header; for format 1 only `version` is meaningful. */
struct Header
{
    int version = 0;
    unsigned char source = 0;
    quint32 ops = 0;
    quint64 mem = 0;
    QByteArray salt;
    QByteArray check;
    quint64 cipherLen = 0;
};

QString mib(quint64 bytes)
{
    return QStringLiteral("%1 MiB").arg(double(bytes) / double(1 << 20), 0, 'g', 4);
}

/** Checks structure only (no key): distinct errors for truncation, damage and foreign files. */
Result<Header> parseHeader(const QString& path, const QByteArray& blob)
{
    const auto* b = reinterpret_cast<const unsigned char*>(blob.constData());
    const qsizetype n = blob.size();
    const qsizetype magicSeen = std::min<qsizetype>(n, sizeof Magic);
    if (std::memcmp(b, Magic, size_t(magicSeen)) != 0)
        return fail(Error::Code::Database,
                    QStringLiteral("%1 is not a Vivarium vault (no VIVVAULT signature)").arg(path));
    if (n <= qsizetype(sizeof Magic))
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 is truncated: only %2 bytes; restore it from a backup")
                        .arg(path)
                        .arg(n));
    Header h;
    h.version = b[sizeof Magic];
    if (h.version == LegacyVersion) {
        if (n < LegacyHeaderBytes + NonceBytes + TagBytes)
            return fail(Error::Code::Database,
                        QStringLiteral("vault %1 is truncated: only %2 bytes; restore it from a "
                                       "backup")
                            .arg(path)
                            .arg(n));
        h.source = SourceKeyFile;
        return h;
    }
    if (h.version != CurrentVersion)
        return fail(Error::Code::Unsupported,
                    QStringLiteral("vault %1 has format %2; this build reads formats 1 and 2 (a "
                                   "newer Vivarium wrote it?)")
                        .arg(path)
                        .arg(h.version));
    if (n < PrefixBytes)
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 is truncated: %2 bytes, shorter than its %3-byte "
                                   "header; restore it from a backup")
                        .arg(path)
                        .arg(n)
                        .arg(PrefixBytes));
    unsigned char sum[16];
    crypto_generichash(sum, sizeof sum, b, OffChecksum, nullptr, 0);
    if (sodium_memcmp(sum, b + OffChecksum, sizeof sum) != 0)
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 has a damaged header (checksum mismatch): the file "
                                   "was corrupted or modified; restore it from a backup")
                        .arg(path));
    h.source = b[OffSource];
    h.ops = quint32(getLe(b + OffOps, 4));
    h.mem = getLe(b + OffMem, 8);
    h.salt = blob.mid(OffSalt, SaltBytes);
    h.check = blob.mid(OffCheck, CheckBytes);
    h.cipherLen = getLe(b + OffLength, 8);
    if (h.source != SourceKeyFile && h.source != SourcePassphrase)
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 names an unknown key source %2 in its header")
                        .arg(path)
                        .arg(int(h.source)));
    if (h.source == SourcePassphrase &&
        (h.ops < crypto_pwhash_OPSLIMIT_MIN || h.ops > MaxOps || h.mem < MinMem || h.mem > MaxMem))
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 asks for implausible Argon2id parameters (%2 passes, "
                                   "%3); refusing to derive a key with them")
                        .arg(path)
                        .arg(h.ops)
                        .arg(mib(h.mem)));
    const quint64 have = quint64(n - PrefixBytes);
    if (h.cipherLen < quint64(TagBytes))
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 has a damaged header (impossible length)").arg(path));
    if (have < h.cipherLen)
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 is truncated: %2 of %3 bytes; restore it from a "
                                   "backup")
                        .arg(path)
                        .arg(n)
                        .arg(qulonglong(h.cipherLen + PrefixBytes)));
    if (have > h.cipherLen)
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 has %2 unexpected bytes after its end: the file was "
                                   "modified")
                        .arg(path)
                        .arg(qulonglong(have - h.cipherLen)));
    return h;
}

// Plaintext payload of format 2: u32 count, then per entry u32 key length, key (UTF-8), u32
// value length, value. Sorted by key. Parsed in place, never copied out of secure memory.
struct EntryRef
{
    QByteArrayView key;
    size_t valueOffset = 0;
    size_t valueLength = 0;
};

std::optional<std::vector<EntryRef>> indexPayload(const SecureBuffer& plain)
{
    std::vector<EntryRef> out;
    const unsigned char* p = plain.data();
    const size_t n = plain.size();
    if (n < 4)
        return std::nullopt;
    const quint64 count = getLe(p, 4);
    size_t off = 4;
    if (count > n)
        return std::nullopt;
    out.reserve(size_t(count));
    for (quint64 i = 0; i < count; ++i) {
        if (n - off < 4)
            return std::nullopt;
        const size_t kl = size_t(getLe(p + off, 4));
        off += 4;
        if (n - off < kl)
            return std::nullopt;
        EntryRef e;
        e.key = QByteArrayView(reinterpret_cast<const char*>(p + off), qsizetype(kl));
        off += kl;
        if (n - off < 4)
            return std::nullopt;
        e.valueLength = size_t(getLe(p + off, 4));
        off += 4;
        if (n - off < e.valueLength)
            return std::nullopt;
        e.valueOffset = off;
        off += e.valueLength;
        out.push_back(e);
    }
    if (off != n)
        return std::nullopt;
    return out;
}

/** A new payload: `entries` minus `drop`, plus (`addKey`, `addValue`) if `addKey` is set. */
SecureBuffer buildPayload(const SecureBuffer& plain, const std::vector<EntryRef>& entries,
                          const QByteArray& drop, const QByteArray& addKey,
                          const QByteArray* addValue)
{
    struct Item
    {
        QByteArrayView key;
        const unsigned char* value;
        size_t length;
    };
    std::vector<Item> items;
    items.reserve(entries.size() + 1);
    size_t total = 4;
    for (const EntryRef& e : entries) {
        if (e.key == QByteArrayView(drop) || (addValue && e.key == QByteArrayView(addKey)))
            continue;
        items.push_back({e.key, plain.data() + e.valueOffset, e.valueLength});
    }
    if (addValue)
        items.push_back({QByteArrayView(addKey),
                         reinterpret_cast<const unsigned char*>(addValue->constData()),
                         size_t(addValue->size())});
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.key < b.key; });
    for (const Item& i : items)
        total += 8 + size_t(i.key.size()) + i.length;
    SecureBuffer out(total);
    unsigned char* p = out.data();
    putLe(p, items.size(), 4);
    size_t off = 4;
    for (const Item& i : items) {
        putLe(p + off, quint64(i.key.size()), 4);
        off += 4;
        if (!i.key.isEmpty())
            std::memcpy(p + off, i.key.data(), size_t(i.key.size()));
        off += size_t(i.key.size());
        putLe(p + off, i.length, 4);
        off += 4;
        if (i.length)
            std::memcpy(p + off, i.value, i.length);
        off += i.length;
    }
    return out;
}

SecureBuffer emptyPayload()
{
    return SecureBuffer(4); // count 0
}

/** Write via temp file + fsync + rename + directory fsync, so a crash leaves old or new. */
Status atomicWrite(const QString& path, const unsigned char* data, size_t size)
{
    const QByteArray target = QFile::encodeName(path);
    const QByteArray temp = target + ".tmp-" + QByteArray::number(qint64(::getpid()));
    const int fd = ::open(temp.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(Error::Code::Io, QStringLiteral("cannot write %1: %2").arg(path, sysError()));
    size_t off = 0;
    while (off < size) {
        const ssize_t n = ::write(fd, data + off, size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const QString err = sysError();
            ::close(fd);
            ::unlink(temp.constData());
            return fail(Error::Code::Io, QStringLiteral("cannot write %1: %2").arg(path, err));
        }
        off += size_t(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const QString err = sysError();
        ::unlink(temp.constData());
        return fail(Error::Code::Io, QStringLiteral("cannot sync %1: %2").arg(path, err));
    }
    if (::rename(temp.constData(), target.constData()) != 0) {
        const QString err = sysError();
        ::unlink(temp.constData());
        return fail(Error::Code::Io, QStringLiteral("cannot replace %1: %2").arg(path, err));
    }
    const QByteArray dir = QFile::encodeName(QFileInfo(path).absolutePath());
    const int dfd = ::open(dir.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

void syncDir(const QString& path)
{
    const QByteArray dir = QFile::encodeName(QFileInfo(path).absolutePath());
    const int dfd = ::open(dir.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

/** Accepts 32 raw bytes, 64 hex characters, or base64 of 32 bytes (systemd credentials). */
std::optional<SecureBuffer> parseKey(QByteArray raw)
{
    std::optional<SecureBuffer> key;
    if (raw.size() == KeyBytes) {
        key.emplace(reinterpret_cast<const unsigned char*>(raw.constData()), size_t(KeyBytes));
        wipe(raw);
        return key;
    }
    QByteArray text = raw.trimmed();
    if (text.size() == 2 * KeyBytes) {
        QByteArray hex = QByteArray::fromHex(text);
        if (hex.size() == KeyBytes)
            key.emplace(reinterpret_cast<const unsigned char*>(hex.constData()), size_t(KeyBytes));
        wipe(hex);
    }
    if (!key) {
        auto b64 = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
        if (b64 && b64.decoded.size() == KeyBytes)
            key.emplace(reinterpret_cast<const unsigned char*>(b64.decoded.constData()),
                        size_t(KeyBytes));
        wipe(b64.decoded);
    }
    wipe(text);
    wipe(raw);
    return key;
}

Result<SecureBuffer> readKeyFile(const QString& keyFile)
{
    QFile f(keyFile);
    if (!f.exists())
        return fail(Error::Code::NotFound,
                    QStringLiteral("vault key file %1 does not exist").arg(keyFile));
    if (!f.open(QIODevice::ReadOnly))
        return fail(Error::Code::Io,
                    QStringLiteral("cannot read vault key %1: %2").arg(keyFile, f.errorString()));
    // A key file is as secret as the vault: refuse one that others can read.
    const QFileInfo info(keyFile);
    if (info.permissions() &
        (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther)) {
        return fail(
            Error::Code::Validation,
            QStringLiteral("vault key %1 is readable by other users; chmod 600 it").arg(keyFile));
    }
    auto key = parseKey(f.read(4096));
    if (!key)
        return fail(Error::Code::Validation,
                    QStringLiteral("vault key %1 is not a 256-bit key (32 raw bytes, 64 hex "
                                   "characters or base64)")
                        .arg(keyFile));
    return std::move(*key);
}

Status createKeyFile(const QString& keyFile)
{
    SecureBuffer fresh(KeyBytes);
    randombytes_buf(fresh.data(), fresh.size());
    if (auto s = atomicWrite(keyFile, fresh.data(), fresh.size()); !s)
        return s;
    qCInfo(lcSecrets).noquote() << "created vault key" << keyFile;
    return {};
}

Result<SecureBuffer> deriveFromPassphrase(const QByteArray& passphrase, const QByteArray& salt,
                                          quint32 ops, quint64 mem)
{
    SecureBuffer out(KeyBytes);
    if (crypto_pwhash(out.data(), out.size(), passphrase.constData(),
                      static_cast<unsigned long long>(passphrase.size()),
                      reinterpret_cast<const unsigned char*>(salt.constData()), ops, size_t(mem),
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return fail(Error::Code::Io,
                    QStringLiteral("cannot derive the vault key: Argon2id needs %1 of memory")
                        .arg(mib(mem)));
    return out;
}

Status checkNewPassphrase(const QByteArray& passphrase)
{
    if (QString::fromUtf8(passphrase).size() < MinPassphraseChars)
        return fail(Error::Code::Validation,
                    QStringLiteral("the vault passphrase must have at least %1 characters")
                        .arg(MinPassphraseChars));
    return {};
}

Result<QByteArray> readWholeFile(const QString& path, bool* exists)
{
    QFile f(path);
    *exists = f.exists();
    if (!*exists)
        return QByteArray();
    if (!f.open(QIODevice::ReadOnly)) {
        *exists = f.exists(); // removed between the two calls
        if (!*exists)
            return QByteArray();
        return fail(Error::Code::Io,
                    QStringLiteral("cannot read vault %1: %2").arg(path, f.errorString()));
    }
    if (f.size() > MaxVaultBytes)
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 is %2 bytes, far more than any vault; not reading it")
                        .arg(path)
                        .arg(f.size()));
    return f.readAll();
}

} // namespace

struct FileVault::Private
{
    QString vaultFile;
    QString keyFile; ///< key-file vaults
    VaultInfo::KeySource source = VaultInfo::KeySource::KeyFile;
    VaultKdfParams kdf;
    QByteArray salt; ///< passphrase vaults
    KeyMaterial keys;
    std::function<Result<QByteArray>()> passphraseSource;
    int lockTimeoutMs = 10000;
    int lockDepth = 0;
    int lockFd = -1;
    // The last file content that authenticated, and its plaintext (secure memory).
    QByteArray cachedBlob;
    SecureBuffer cachedPlain;
    std::vector<EntryRef> cachedIndex;
    bool cacheValid = false;

    ~Private()
    {
        if (lockFd >= 0)
            ::close(lockFd);
    }

    QString keyWords() const
    {
        return source == VaultInfo::KeySource::Passphrase
                   ? QStringLiteral("passphrase")
                   : QStringLiteral("key (key file %1)").arg(keyFile);
    }

    /** Reentrant inter-process write lock: flock on `<vault>.lock`, bounded wait. */
    Status lock()
    {
        if (lockDepth > 0) {
            ++lockDepth;
            return {};
        }
        const QString lockPath = vaultFile + QStringLiteral(".lock");
        const QByteArray p = QFile::encodeName(lockPath);
        const int fd = ::open(p.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return fail(
                Error::Code::Io,
                QStringLiteral("cannot open the vault lock %1: %2").arg(lockPath, sysError()));
        QElapsedTimer waited;
        waited.start();
        while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR) {
                const QString err = sysError();
                ::close(fd);
                return fail(Error::Code::Io,
                            QStringLiteral("cannot lock %1: %2").arg(lockPath, err));
            }
            if (waited.elapsed() > lockTimeoutMs) {
                ::close(fd);
                return fail(Error::Code::Locked,
                            QStringLiteral("vault %1 is busy: another process has held its lock "
                                           "(%2) for %3 s")
                                .arg(vaultFile, lockPath)
                                .arg(lockTimeoutMs / 1000.0));
            }
            QThread::usleep(2000);
        }
        lockFd = fd;
        lockDepth = 1;
        return {};
    }
    void unlock()
    {
        if (lockDepth > 0 && --lockDepth == 0) {
            ::flock(lockFd, LOCK_UN);
            ::close(lockFd);
            lockFd = -1;
        }
    }

    /** Unlocks on scope exit. */
    struct Guard
    {
        Private* d;
        ~Guard()
        {
            if (d)
                d->unlock();
        }
    };

    /** Error for a key check that does not match, after every recovery was tried. */
    Error wrongKey() const
    {
        if (source == VaultInfo::KeySource::Passphrase)
            return Error::make(
                Error::Code::Validation,
                QStringLiteral("vault %1 cannot be decrypted: wrong passphrase").arg(vaultFile));
        return Error::make(Error::Code::Validation,
                           QStringLiteral("vault %1 cannot be decrypted: wrong key (key file %2)")
                               .arg(vaultFile, keyFile));
    }

    /**
     * The header's key check does not match our key: another process may have rotated the
     * key in place (reload the key file, or finish its interrupted rotation from `<key>.new`)
     * or the passphrase (ask the passphrase source again). Updates `keys` when one matches.
     */
    Status recoverKey(const Header& h)
    {
        if (source == VaultInfo::KeySource::KeyFile) {
            if (auto s = lock(); !s)
                return s;
            Guard g{this};
            // Re-read the header under the lock: a rotation may just have finished.
            bool exists = false;
            auto blob = readWholeFile(vaultFile, &exists);
            if (!blob)
                return std::unexpected(blob.error());
            Header now = h;
            if (exists) {
                auto parsed = parseHeader(vaultFile, *blob);
                if (!parsed)
                    return std::unexpected(parsed.error());
                now = *parsed;
            }
            for (const QString& candidate :
                 QStringList{keyFile, keyFile + QStringLiteral(".new")}) {
                if (!QFile::exists(candidate))
                    continue;
                auto raw = readKeyFile(candidate);
                if (!raw)
                    continue;
                KeyMaterial k = KeyMaterial::fromMaster(std::move(*raw));
                if (sodium_memcmp(k.check, now.check.constData(), CheckBytes) != 0)
                    continue;
                if (candidate != keyFile) {
                    // A rotation re-encrypted the vault but died before renaming its key.
                    if (::rename(QFile::encodeName(candidate).constData(),
                                 QFile::encodeName(keyFile).constData()) != 0)
                        return fail(Error::Code::Io,
                                    QStringLiteral("vault %1 was re-keyed by an interrupted "
                                                   "rotation, but %2 cannot be renamed to %3: %4")
                                        .arg(vaultFile, candidate, keyFile, sysError()));
                    syncDir(keyFile);
                    qCWarning(lcSecrets).noquote()
                        << "completed an interrupted key rotation of" << vaultFile;
                }
                keys = std::move(k);
                return {};
            }
            return std::unexpected(wrongKey());
        }
        // Passphrase vault whose salt or key changed under us.
        if (passphraseSource) {
            auto pass = passphraseSource();
            if (pass) {
                auto master = deriveFromPassphrase(*pass, h.salt, h.ops, h.mem);
                wipe(*pass);
                if (master) {
                    KeyMaterial k = KeyMaterial::fromMaster(std::move(*master));
                    if (sodium_memcmp(k.check, h.check.constData(), CheckBytes) == 0) {
                        keys = std::move(k);
                        salt = h.salt;
                        kdf = {h.ops, h.mem};
                        return {};
                    }
                }
            }
        }
        if (h.salt != salt || h.ops != kdf.opsLimit || h.mem != kdf.memLimitBytes)
            return fail(Error::Code::Validation,
                        QStringLiteral("vault %1 was re-keyed with a new passphrase since this "
                                       "process unlocked it; unlock it again (restart)")
                            .arg(vaultFile));
        return std::unexpected(wrongKey());
    }

    /** The current plaintext (secure memory), re-authenticated whenever the file changed. */
    Status load()
    {
        bool exists = false;
        auto blob = readWholeFile(vaultFile, &exists);
        if (!blob)
            return std::unexpected(blob.error());
        if (!exists) {
            cachedBlob.clear();
            cachedPlain = emptyPayload();
            cachedIndex.clear();
            cacheValid = true;
            return {};
        }
        if (cacheValid && !cachedBlob.isEmpty() && *blob == cachedBlob)
            return {};
        cacheValid = false;
        auto h = parseHeader(vaultFile, *blob);
        if (!h)
            return std::unexpected(h.error());
        SecureBuffer plain;
        if (h->version == LegacyVersion) {
            auto legacy = decryptLegacy(*blob);
            if (!legacy)
                return std::unexpected(legacy.error());
            plain = std::move(*legacy);
        } else {
            if (h->source == SourcePassphrase && source == VaultInfo::KeySource::KeyFile)
                return fail(Error::Code::Validation,
                            QStringLiteral("vault %1 is protected by a passphrase, not a key file "
                                           "(it was rotated?); unlock it with its passphrase")
                                .arg(vaultFile));
            if (h->source == SourceKeyFile && source == VaultInfo::KeySource::Passphrase)
                return fail(Error::Code::Validation,
                            QStringLiteral("vault %1 is protected by a key file, not a passphrase "
                                           "(it was rotated?); open it with its key file")
                                .arg(vaultFile));
            if (sodium_memcmp(keys.check, h->check.constData(), CheckBytes) != 0) {
                if (auto s = recoverKey(*h); !s)
                    return s;
            }
            const auto* b = reinterpret_cast<const unsigned char*>(blob->constData());
            SecureBuffer out(size_t(h->cipherLen) - TagBytes);
            unsigned long long outLen = 0;
            if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                    out.data(), &outLen, nullptr, b + PrefixBytes, h->cipherLen, b, HeaderBytes,
                    b + HeaderBytes, keys.enc.data()) != 0)
                return fail(Error::Code::Database,
                            QStringLiteral("vault %1 cannot be decrypted: its contents were "
                                           "modified or corrupted (authentication failed); "
                                           "restore it from a backup")
                                .arg(vaultFile));
            plain = std::move(out);
        }
        auto index = indexPayload(plain);
        if (!index)
            return fail(Error::Code::Database,
                        QStringLiteral("vault %1 decrypted but its contents are malformed (a bug "
                                       "in the Vivarium that wrote it?)")
                            .arg(vaultFile));
        cachedBlob = *blob;
        cachedPlain = std::move(plain);
        cachedIndex = std::move(*index);
        cacheValid = true;
        return {};
    }

    /** Format 1: AEAD under the raw key, JSON object of base64 values. */
    Result<SecureBuffer> decryptLegacy(const QByteArray& blob)
    {
        if (source != VaultInfo::KeySource::KeyFile)
            return fail(
                Error::Code::Validation,
                QStringLiteral("vault %1 has format 1, which only key files open").arg(vaultFile));
        const auto* header = reinterpret_cast<const unsigned char*>(blob.constData());
        const auto* nonce = header + LegacyHeaderBytes;
        const auto* cipher = nonce + NonceBytes;
        const qsizetype cipherLen = blob.size() - LegacyHeaderBytes - NonceBytes;
        QByteArray plain(cipherLen - TagBytes, '\0');
        unsigned long long plainLen = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                reinterpret_cast<unsigned char*>(plain.data()), &plainLen, nullptr, cipher,
                static_cast<unsigned long long>(cipherLen), header, LegacyHeaderBytes, nonce,
                keys.master.data()) != 0) {
            wipe(plain);
            // Format 1 has no key check, so a wrong key and damage look alike.
            return fail(Error::Code::Database,
                        QStringLiteral("vault %1 cannot be decrypted: wrong key (%2) or the file "
                                       "was modified")
                            .arg(vaultFile, keyFile));
        }
        plain.truncate(qsizetype(plainLen));
        const QJsonObject o = QJsonDocument::fromJson(plain).object();
        wipe(plain);
        SecureBuffer payload = emptyPayload();
        for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
            QByteArray value = QByteArray::fromBase64(it.value().toString().toLatin1());
            auto idx = indexPayload(payload);
            payload = buildPayload(payload, *idx, {}, it.key().toUtf8(), &value);
            wipe(value);
        }
        return payload;
    }

    /** Encrypt `plain` under `k` with a format 2 header and replace the file atomically. */
    Status save(const SecureBuffer& plain, const KeyMaterial& k, VaultInfo::KeySource src,
                const QByteArray& saltBytes, const VaultKdfParams& params)
    {
        const size_t cipherLen = plain.size() + TagBytes;
        QByteArray blob(PrefixBytes + qsizetype(cipherLen), '\0');
        auto* b = reinterpret_cast<unsigned char*>(blob.data());
        std::memcpy(b, Magic, sizeof Magic);
        b[sizeof Magic] = CurrentVersion;
        const bool pass = src == VaultInfo::KeySource::Passphrase;
        b[OffSource] = pass ? SourcePassphrase : SourceKeyFile;
        if (pass) {
            putLe(b + OffOps, params.opsLimit, 4);
            putLe(b + OffMem, params.memLimitBytes, 8);
            std::memcpy(b + OffSalt, saltBytes.constData(), SaltBytes);
        }
        std::memcpy(b + OffCheck, k.check, CheckBytes);
        putLe(b + OffLength, cipherLen, 8);
        crypto_generichash(b + OffChecksum, 16, b, OffChecksum, nullptr, 0);
        randombytes_buf(b + HeaderBytes, NonceBytes);
        unsigned long long written = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(b + PrefixBytes, &written, plain.data(),
                                                   plain.size(), b, HeaderBytes, nullptr,
                                                   b + HeaderBytes, k.enc.data());
        if (auto s = atomicWrite(vaultFile, b, size_t(blob.size())); !s)
            return s;
        // What we just wrote is authentic by construction: keep it as the cache.
        SecureBuffer copy(plain.data(), plain.size());
        cachedIndex = *indexPayload(copy);
        cachedPlain = std::move(copy);
        cachedBlob = blob;
        cacheValid = true;
        return {};
    }

    Status saveCurrent(const SecureBuffer& plain) { return save(plain, keys, source, salt, kdf); }

    const EntryRef* find(const QString& key) const
    {
        const QByteArray k = key.toUtf8();
        for (const EntryRef& e : cachedIndex)
            if (e.key == QByteArrayView(k))
                return &e;
        return nullptr;
    }
};

Result<std::unique_ptr<FileVault>> FileVault::open(const QString& vaultFile, const QString& keyFile,
                                                   bool createKey)
{
    if (sodium_init() < 0)
        return fail(Error::Code::Internal, QStringLiteral("libsodium failed to initialise"));
    if (!QFile::exists(keyFile)) {
        if (!createKey)
            return fail(Error::Code::NotFound,
                        QStringLiteral("vault key file %1 does not exist").arg(keyFile));
        if (auto s = createKeyFile(keyFile); !s)
            return std::unexpected(s.error());
    }
    auto master = readKeyFile(keyFile);
    if (!master)
        return std::unexpected(master.error());
    auto d = std::make_unique<Private>();
    d->vaultFile = vaultFile;
    d->keyFile = keyFile;
    d->source = VaultInfo::KeySource::KeyFile;
    d->keys = KeyMaterial::fromMaster(std::move(*master));

    // Check the key against the header now, so a wrong key fails at unlock, not at first use;
    // and tidy up after rotations that stopped half-way.
    bool exists = false;
    auto blob = readWholeFile(vaultFile, &exists);
    if (!blob)
        return std::unexpected(blob.error());
    if (exists) {
        auto h = parseHeader(vaultFile, *blob);
        if (h && h->version == CurrentVersion) {
            if (h->source == SourcePassphrase)
                return fail(Error::Code::Validation,
                            QStringLiteral("vault %1 is protected by a passphrase, not a key file")
                                .arg(vaultFile));
            if (sodium_memcmp(d->keys.check, h->check.constData(), CheckBytes) != 0) {
                if (auto s = d->recoverKey(*h); !s)
                    return std::unexpected(s.error());
            } else if (QFile::exists(keyFile + QStringLiteral(".new"))) {
                // The rotation died before re-encrypting: its new key was never used.
                if (d->lock()) {
                    Private::Guard g{d.get()};
                    bool still = false;
                    auto again = readWholeFile(vaultFile, &still);
                    if (again && *again == *blob) {
                        QFile::remove(keyFile + QStringLiteral(".new"));
                        qCWarning(lcSecrets).noquote()
                            << "removed the unused key of an interrupted rotation of" << vaultFile;
                    }
                }
            }
        }
        // Damage is reported by the first read; opening still works so `vault status` can say.
    }
    return std::unique_ptr<FileVault>(new FileVault(std::move(d)));
}

Result<std::unique_ptr<FileVault>> FileVault::openWithPassphrase(const QString& vaultFile,
                                                                 const QByteArray& passphrase,
                                                                 const VaultKdfParams& forNewVault)
{
    if (sodium_init() < 0)
        return fail(Error::Code::Internal, QStringLiteral("libsodium failed to initialise"));
    if (passphrase.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("the vault passphrase is empty"));
    auto d = std::make_unique<Private>();
    d->vaultFile = vaultFile;
    d->source = VaultInfo::KeySource::Passphrase;
    bool exists = false;
    auto blob = readWholeFile(vaultFile, &exists);
    if (!blob)
        return std::unexpected(blob.error());
    if (exists) {
        auto h = parseHeader(vaultFile, *blob);
        if (!h)
            return std::unexpected(h.error());
        if (h->version == LegacyVersion || h->source != SourcePassphrase)
            return fail(Error::Code::Validation,
                        QStringLiteral("vault %1 is protected by a key file, not a passphrase")
                            .arg(vaultFile));
        d->salt = h->salt;
        d->kdf = {h->ops, h->mem};
        auto master = deriveFromPassphrase(passphrase, d->salt, h->ops, h->mem);
        if (!master)
            return std::unexpected(master.error());
        d->keys = KeyMaterial::fromMaster(std::move(*master));
        if (sodium_memcmp(d->keys.check, h->check.constData(), CheckBytes) != 0)
            return std::unexpected(d->wrongKey());
    } else {
        if (auto s = checkNewPassphrase(passphrase); !s)
            return std::unexpected(s.error());
        if (forNewVault.opsLimit < crypto_pwhash_OPSLIMIT_MIN || forNewVault.opsLimit > MaxOps ||
            forNewVault.memLimitBytes < MinMem || forNewVault.memLimitBytes > MaxMem)
            return fail(Error::Code::Validation,
                        QStringLiteral("Argon2id parameters out of range: 1..%1 passes, 8 MiB..1 "
                                       "GiB of memory")
                            .arg(MaxOps));
        d->salt = QByteArray(SaltBytes, '\0');
        randombytes_buf(d->salt.data(), SaltBytes);
        d->kdf = forNewVault;
        auto master =
            deriveFromPassphrase(passphrase, d->salt, d->kdf.opsLimit, d->kdf.memLimitBytes);
        if (!master)
            return std::unexpected(master.error());
        d->keys = KeyMaterial::fromMaster(std::move(*master));
    }
    return std::unique_ptr<FileVault>(new FileVault(std::move(d)));
}

Result<VaultInfo> FileVault::inspect(const QString& vaultFile)
{
    if (sodium_init() < 0)
        return fail(Error::Code::Internal, QStringLiteral("libsodium failed to initialise"));
    VaultInfo info;
    bool exists = false;
    auto blob = readWholeFile(vaultFile, &exists);
    if (!blob)
        return std::unexpected(blob.error());
    info.exists = exists;
    if (!exists)
        return info;
    info.sizeBytes = blob->size();
    auto h = parseHeader(vaultFile, *blob);
    if (!h)
        return std::unexpected(h.error());
    info.formatVersion = h->version;
    info.keySource = h->source == SourcePassphrase ? VaultInfo::KeySource::Passphrase
                                                   : VaultInfo::KeySource::KeyFile;
    if (info.keySource == VaultInfo::KeySource::Passphrase)
        info.kdf = {h->ops, h->mem};
    return info;
}

FileVault::FileVault(std::unique_ptr<Private> priv)
    : d(std::move(priv))
{}

FileVault::~FileVault() = default;

QString FileVault::describe() const
{
    if (d->source == VaultInfo::KeySource::Passphrase)
        return QStringLiteral("encrypted file vault %1 (passphrase, Argon2id %2 passes, %3)")
            .arg(d->vaultFile)
            .arg(d->kdf.opsLimit)
            .arg(mib(d->kdf.memLimitBytes));
    return QStringLiteral("encrypted file vault %1 (key %2)").arg(d->vaultFile, d->keyFile);
}

QString FileVault::vaultFile() const
{
    return d->vaultFile;
}

QString FileVault::keyFile() const
{
    return d->source == VaultInfo::KeySource::KeyFile ? d->keyFile : QString();
}

VaultInfo::KeySource FileVault::keySource() const
{
    return d->source;
}

VaultKdfParams FileVault::kdfParams() const
{
    return d->kdf;
}

void FileVault::setPassphraseSource(std::function<Result<QByteArray>()> source)
{
    d->passphraseSource = std::move(source);
}

void FileVault::setLockTimeout(int ms)
{
    d->lockTimeoutMs = ms;
}

Result<QByteArray> FileVault::read(const QString& key)
{
    if (auto s = d->load(); !s)
        return std::unexpected(s.error());
    const EntryRef* e = d->find(key);
    if (!e)
        return fail(Error::Code::NotFound,
                    QStringLiteral("no secret named '%1' in the vault").arg(key));
    return QByteArray(reinterpret_cast<const char*>(d->cachedPlain.data() + e->valueOffset),
                      qsizetype(e->valueLength));
}

Status FileVault::write(const QString& key, const QByteArray& value)
{
    if (auto s = checkKeyName(key); !s)
        return s;
    if (value.size() > MaxValueBytes)
        return fail(Error::Code::Validation,
                    QStringLiteral("secret '%1' is %2 bytes; the vault takes at most 1 MiB per "
                                   "secret")
                        .arg(key)
                        .arg(value.size()));
    if (auto s = d->lock(); !s)
        return s;
    Private::Guard g{d.get()};
    if (auto s = d->load(); !s)
        return s;
    const SecureBuffer next =
        buildPayload(d->cachedPlain, d->cachedIndex, {}, key.toUtf8(), &value);
    return d->saveCurrent(next);
}

Status FileVault::remove(const QString& key)
{
    if (auto s = d->lock(); !s)
        return s;
    Private::Guard g{d.get()};
    if (auto s = d->load(); !s)
        return s;
    if (!d->find(key))
        return fail(Error::Code::NotFound,
                    QStringLiteral("no secret named '%1' in the vault").arg(key));
    const SecureBuffer next =
        buildPayload(d->cachedPlain, d->cachedIndex, key.toUtf8(), {}, nullptr);
    return d->saveCurrent(next);
}

Result<QStringList> FileVault::keys()
{
    if (auto s = d->load(); !s)
        return std::unexpected(s.error());
    QStringList k;
    k.reserve(qsizetype(d->cachedIndex.size()));
    for (const EntryRef& e : d->cachedIndex)
        k << QString::fromUtf8(e.key);
    k.sort();
    return k;
}

Status FileVault::initialize()
{
    if (auto s = d->lock(); !s)
        return s;
    Private::Guard g{d.get()};
    if (QFile::exists(d->vaultFile))
        return fail(Error::Code::Conflict,
                    QStringLiteral("vault %1 already exists").arg(d->vaultFile));
    return d->saveCurrent(emptyPayload());
}

Status FileVault::rotateToKeyFile(const QString& newKeyFile)
{
    if (auto s = d->lock(); !s)
        return s;
    Private::Guard g{d.get()};
    if (auto s = d->load(); !s)
        return s;
    const SecureBuffer plain(d->cachedPlain.data(), d->cachedPlain.size());
    const bool inPlace =
        d->source == VaultInfo::KeySource::KeyFile &&
        QFileInfo(newKeyFile).absoluteFilePath() == QFileInfo(d->keyFile).absoluteFilePath();
    if (inPlace) {
        // Same path: new key beside it first, then the vault, then the rename; open() finishes
        // or discards a rotation that died in between (the key check tells which).
        const QString staged = d->keyFile + QStringLiteral(".new");
        if (auto s = createKeyFile(staged); !s)
            return fail(s.error().code,
                        QStringLiteral("cannot stage a new key beside %1 (a read-only systemd "
                                       "credential? rotate to another file with --key-file): %2")
                            .arg(d->keyFile, s.error().message));
        auto raw = readKeyFile(staged);
        if (!raw)
            return std::unexpected(raw.error());
        KeyMaterial k = KeyMaterial::fromMaster(std::move(*raw));
        if (auto s = d->save(plain, k, VaultInfo::KeySource::KeyFile, {}, {}); !s) {
            QFile::remove(staged);
            return s;
        }
        if (::rename(QFile::encodeName(staged).constData(),
                     QFile::encodeName(d->keyFile).constData()) != 0)
            return fail(Error::Code::Io,
                        QStringLiteral("vault %1 is now under the key in %2, but renaming it to %3 "
                                       "failed (%4); the next open finishes the rotation")
                            .arg(d->vaultFile, staged, d->keyFile, sysError()));
        syncDir(d->keyFile);
        d->keys = std::move(k);
        return {};
    }
    if (!QFile::exists(newKeyFile)) {
        if (auto s = createKeyFile(newKeyFile); !s)
            return s;
    }
    auto raw = readKeyFile(newKeyFile);
    if (!raw)
        return std::unexpected(raw.error());
    KeyMaterial k = KeyMaterial::fromMaster(std::move(*raw));
    if (auto s = d->save(plain, k, VaultInfo::KeySource::KeyFile, {}, {}); !s)
        return s;
    d->keys = std::move(k);
    d->keyFile = newKeyFile;
    d->source = VaultInfo::KeySource::KeyFile;
    d->salt.clear();
    d->kdf = {};
    return {};
}

Status FileVault::rotateToPassphrase(const QByteArray& newPassphrase, const VaultKdfParams& params)
{
    if (auto s = checkNewPassphrase(newPassphrase); !s)
        return s;
    if (params.opsLimit < crypto_pwhash_OPSLIMIT_MIN || params.opsLimit > MaxOps ||
        params.memLimitBytes < MinMem || params.memLimitBytes > MaxMem)
        return fail(Error::Code::Validation,
                    QStringLiteral("Argon2id parameters out of range: 1..%1 passes, 8 MiB..1 GiB "
                                   "of memory")
                        .arg(MaxOps));
    if (auto s = d->lock(); !s)
        return s;
    Private::Guard g{d.get()};
    if (auto s = d->load(); !s)
        return s;
    const SecureBuffer plain(d->cachedPlain.data(), d->cachedPlain.size());
    QByteArray salt(SaltBytes, '\0');
    randombytes_buf(salt.data(), SaltBytes);
    auto master = deriveFromPassphrase(newPassphrase, salt, params.opsLimit, params.memLimitBytes);
    if (!master)
        return std::unexpected(master.error());
    KeyMaterial k = KeyMaterial::fromMaster(std::move(*master));
    if (auto s = d->save(plain, k, VaultInfo::KeySource::Passphrase, salt, params); !s)
        return s;
    d->keys = std::move(k);
    d->source = VaultInfo::KeySource::Passphrase;
    d->salt = salt;
    d->kdf = params;
    d->keyFile.clear();
    return {};
}

} // namespace vivarium
