// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/SecretStore.h"

#include "vivarium/core/Logging.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vivarium {

namespace {

constexpr char Magic[8] = {'V', 'I', 'V', 'V', 'A', 'U', 'L', 'T'};
constexpr unsigned char FormatVersion = 1;
constexpr qsizetype HeaderBytes = sizeof(Magic) + 1;
constexpr qsizetype NonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr qsizetype TagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr qsizetype KeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;

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

/** Accepts 32 raw bytes, 64 hex characters, or base64 of 32 bytes (systemd credentials). */
std::optional<QByteArray> parseKey(QByteArray raw)
{
    if (raw.size() == KeyBytes)
        return raw;
    QByteArray text = raw.trimmed();
    std::optional<QByteArray> key;
    if (text.size() == 2 * KeyBytes) {
        QByteArray hex = QByteArray::fromHex(text);
        if (hex.size() == KeyBytes)
            key = hex;
    }
    if (!key) {
        auto b64 = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
        if (b64 && b64.decoded.size() == KeyBytes)
            key = b64.decoded;
    }
    wipe(text);
    wipe(raw);
    return key;
}

/** Write via temp file + fsync + rename + directory fsync, so a crash leaves old or new. */
Status atomicWrite(const QString& path, const QByteArray& bytes)
{
    const QByteArray target = QFile::encodeName(path);
    const QByteArray temp = target + ".tmp-" + QByteArray::number(qint64(::getpid()));
    const int fd = ::open(temp.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(Error::Code::Io, QStringLiteral("cannot write %1: %2").arg(path, sysError()));
    qsizetype off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + off, size_t(bytes.size() - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const QString err = sysError();
            ::close(fd);
            ::unlink(temp.constData());
            return fail(Error::Code::Io, QStringLiteral("cannot write %1: %2").arg(path, err));
        }
        off += n;
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

/** Serializes read-modify-write cycles of several processes on one vault. */
class VaultLock
{
public:
    explicit VaultLock(const QString& vaultFile)
    {
        const QByteArray p = QFile::encodeName(vaultFile + QStringLiteral(".lock"));
        m_fd = ::open(p.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (m_fd >= 0)
            ::flock(m_fd, LOCK_EX);
    }
    ~VaultLock()
    {
        if (m_fd >= 0) {
            ::flock(m_fd, LOCK_UN);
            ::close(m_fd);
        }
    }
    VaultLock(const VaultLock&) = delete;
    VaultLock& operator=(const VaultLock&) = delete;

private:
    int m_fd = -1;
};

} // namespace

Result<std::unique_ptr<FileVault>> FileVault::open(const QString& vaultFile, const QString& keyFile,
                                                   bool createKey)
{
    if (sodium_init() < 0)
        return fail(Error::Code::Internal, QStringLiteral("libsodium failed to initialise"));
    QFile f(keyFile);
    if (!f.exists()) {
        if (!createKey)
            return fail(Error::Code::NotFound,
                        QStringLiteral("vault key file %1 does not exist").arg(keyFile));
        QByteArray fresh(KeyBytes, '\0');
        randombytes_buf(fresh.data(), size_t(fresh.size()));
        if (auto s = atomicWrite(keyFile, fresh); !s) {
            wipe(fresh);
            return std::unexpected(s.error());
        }
        wipe(fresh);
        qCInfo(lcEngine) << "created vault key" << keyFile;
    }
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
    return std::unique_ptr<FileVault>(new FileVault(vaultFile, keyFile, *key));
}

FileVault::FileVault(QString vaultFile, QString keyFile, QByteArray key)
    : m_vaultFile(std::move(vaultFile))
    , m_keyFile(std::move(keyFile))
    , m_key(std::move(key))
{}

FileVault::~FileVault()
{
    wipe(m_key);
}

QString FileVault::describe() const
{
    return QStringLiteral("encrypted file vault %1 (key %2)").arg(m_vaultFile, m_keyFile);
}

Result<QHash<QString, QByteArray>> FileVault::load() const
{
    QHash<QString, QByteArray> values;
    QFile f(m_vaultFile);
    if (!f.exists())
        return values;
    if (!f.open(QIODevice::ReadOnly))
        return fail(Error::Code::Io,
                    QStringLiteral("cannot read vault %1: %2").arg(m_vaultFile, f.errorString()));
    const QByteArray blob = f.readAll();
    if (blob.size() < HeaderBytes + NonceBytes + TagBytes ||
        std::memcmp(blob.constData(), Magic, sizeof Magic) != 0)
        return fail(
            Error::Code::Database,
            QStringLiteral("vault %1 is not a Vivarium vault or is truncated").arg(m_vaultFile));
    if (static_cast<unsigned char>(blob.at(sizeof Magic)) != FormatVersion)
        return fail(Error::Code::Unsupported,
                    QStringLiteral("vault %1 has format %2; this build reads format %3")
                        .arg(m_vaultFile)
                        .arg(int(static_cast<unsigned char>(blob.at(sizeof Magic))))
                        .arg(int(FormatVersion)));
    const auto* header = reinterpret_cast<const unsigned char*>(blob.constData());
    const auto* nonce = header + HeaderBytes;
    const auto* cipher = nonce + NonceBytes;
    const qsizetype cipherLen = blob.size() - HeaderBytes - NonceBytes;
    QByteArray plain(cipherLen - TagBytes, '\0');
    unsigned long long plainLen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plain.data()), &plainLen, nullptr, cipher,
            static_cast<unsigned long long>(cipherLen), header, HeaderBytes, nonce,
            reinterpret_cast<const unsigned char*>(m_key.constData())) != 0) {
        wipe(plain);
        return fail(Error::Code::Database,
                    QStringLiteral("vault %1 cannot be decrypted: wrong key (%2) or the file was "
                                   "modified")
                        .arg(m_vaultFile, m_keyFile));
    }
    plain.truncate(qsizetype(plainLen));
    const QJsonObject o = QJsonDocument::fromJson(plain).object();
    wipe(plain);
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        values.insert(it.key(), QByteArray::fromBase64(it.value().toString().toLatin1()));
    return values;
}

Status FileVault::save(const QHash<QString, QByteArray>& values) const
{
    QJsonObject o;
    for (auto it = values.constBegin(); it != values.constEnd(); ++it)
        o.insert(it.key(), QString::fromLatin1(it.value().toBase64()));
    QByteArray plain = QJsonDocument(o).toJson(QJsonDocument::Compact);
    QByteArray blob(HeaderBytes + NonceBytes + plain.size() + TagBytes, '\0');
    auto* header = reinterpret_cast<unsigned char*>(blob.data());
    std::memcpy(header, Magic, sizeof Magic);
    header[sizeof Magic] = FormatVersion;
    unsigned char* nonce = header + HeaderBytes;
    randombytes_buf(nonce, size_t(NonceBytes));
    unsigned long long cipherLen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + NonceBytes, &cipherLen, reinterpret_cast<const unsigned char*>(plain.constData()),
        static_cast<unsigned long long>(plain.size()), header, HeaderBytes, nullptr, nonce,
        reinterpret_cast<const unsigned char*>(m_key.constData()));
    wipe(plain);
    return atomicWrite(m_vaultFile, blob);
}

Result<QByteArray> FileVault::read(const QString& key)
{
    auto values = load();
    if (!values)
        return std::unexpected(values.error());
    const auto it = values->constFind(key);
    Result<QByteArray> out =
        it == values->constEnd()
            ? Result<QByteArray>(fail(Error::Code::NotFound,
                                      QStringLiteral("no secret named '%1' in the vault").arg(key)))
            : Result<QByteArray>(*it);
    for (auto& v : *values)
        wipe(v);
    return out;
}

Status FileVault::write(const QString& key, const QByteArray& value)
{
    VaultLock lock(m_vaultFile);
    auto values = load();
    if (!values)
        return std::unexpected(values.error());
    values->insert(key, value);
    Status s = save(*values);
    for (auto& v : *values)
        wipe(v);
    return s;
}

Status FileVault::remove(const QString& key)
{
    VaultLock lock(m_vaultFile);
    auto values = load();
    if (!values)
        return std::unexpected(values.error());
    if (values->remove(key) == 0)
        return fail(Error::Code::NotFound,
                    QStringLiteral("no secret named '%1' in the vault").arg(key));
    Status s = save(*values);
    for (auto& v : *values)
        wipe(v);
    return s;
}

Result<QStringList> FileVault::keys()
{
    auto values = load();
    if (!values)
        return std::unexpected(values.error());
    QStringList k = values->keys();
    for (auto& v : *values)
        wipe(v);
    k.sort();
    return k;
}

} // namespace vivarium
