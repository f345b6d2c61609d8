// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/SecretStore.h"

#include "KeychainSecretStore.h"
#include "VaultLogging.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <sodium.h>

namespace vivarium {

namespace {

constexpr qsizetype MaxKeyNameBytes = 512;
const QString ReservedPrefix = QStringLiteral("vivarium:");

SecretStore::PassphrasePrompt& promptHook()
{
    static SecretStore::PassphrasePrompt prompt;
    return prompt;
}

QString vaultFileOf(const Paths& paths)
{
    return paths.dataDir() + QStringLiteral("/vault.bin");
}

/** Present once the keychain holds this data directory's secrets: auto keeps using it. */
QString keychainMarkerOf(const Paths& paths)
{
    return paths.dataDir() + QStringLiteral("/secrets.keychain");
}

void writeKeychainMarker(const Paths& paths, const QString& service)
{
    if (!Paths::ensurePrivateDir(paths.dataDir()))
        return;
    QFile f(keychainMarkerOf(paths));
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        f.write(service.toUtf8() + '\n');
        f.setPermissions(QFile::ReadOwner | QFile::WriteOwner);
    }
}

/** Where a passphrase file could come from, in order; the first that exists is used. */
struct PassphraseFile
{
    QString path;
    QString words; ///< "$VIVARIUM_VAULT_PASSPHRASE_FILE (path)"
};

std::optional<PassphraseFile> passphraseFile()
{
    const QString env = qEnvironmentVariable("VIVARIUM_VAULT_PASSPHRASE_FILE");
    if (!env.isEmpty())
        return PassphraseFile{env, QStringLiteral("$VIVARIUM_VAULT_PASSPHRASE_FILE (%1)").arg(env)};
    const QString credDir = qEnvironmentVariable("CREDENTIALS_DIRECTORY");
    const QString cred = credDir + QStringLiteral("/vivarium-vault-passphrase");
    if (!credDir.isEmpty() && QFile::exists(cred))
        return PassphraseFile{cred, QStringLiteral("systemd credential vivarium-vault-passphrase")};
    return std::nullopt;
}

/** The passphrase in a file: one trailing newline dropped; the file must be private. */
Result<QByteArray> readPassphraseFile(const QString& path)
{
    QFile f(path);
    if (!f.exists())
        return fail(Error::Code::NotFound,
                    QStringLiteral("vault passphrase file %1 does not exist").arg(path));
    if (QFileInfo(path).permissions() &
        (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther))
        return fail(Error::Code::Validation,
                    QStringLiteral("vault passphrase file %1 is readable by other users; chmod "
                                   "600 it")
                        .arg(path));
    if (!f.open(QIODevice::ReadOnly))
        return fail(
            Error::Code::Io,
            QStringLiteral("cannot read vault passphrase file %1: %2").arg(path, f.errorString()));
    QByteArray p = f.read(4096);
    if (p.endsWith('\n'))
        p.chop(1);
    if (p.endsWith('\r'))
        p.chop(1);
    if (p.isEmpty())
        return fail(Error::Code::Validation,
                    QStringLiteral("vault passphrase file %1 is empty").arg(path));
    return p;
}

void wipe(QByteArray& b)
{
    if (!b.isEmpty())
        sodium_memzero(b.data(), size_t(b.size()));
    b.clear();
}

/** Which key file a key-file vault uses, and whether we may create it. */
struct KeyFileChoice
{
    QString path;
    QString words;
    bool isDefault = false;
};

KeyFileChoice keyFileFor(const Paths& paths)
{
    const QString env = qEnvironmentVariable("VIVARIUM_VAULT_KEY_FILE");
    if (!env.isEmpty())
        return {env, QStringLiteral("key file from $VIVARIUM_VAULT_KEY_FILE (%1)").arg(env), false};
    const QString credDir = qEnvironmentVariable("CREDENTIALS_DIRECTORY");
    const QString cred = credDir + QStringLiteral("/vivarium-vault-key");
    if (!credDir.isEmpty() && QFile::exists(cred))
        return {cred, QStringLiteral("systemd credential vivarium-vault-key (%1)").arg(cred),
                false};
    const QString def = paths.dataDir() + QStringLiteral("/vault.key");
    return {def, QStringLiteral("key file %1").arg(def), true};
}

QString kdfWords(const VaultKdfParams& p)
{
    return QStringLiteral("Argon2id, %1 passes, %2 MiB").arg(p.opsLimit).arg(p.memLimitBytes >> 20);
}

Result<SecretBackendChoice> openVault(const Paths& paths, const QString& why)
{
    const QString vaultFile = vaultFileOf(paths);
    auto info = FileVault::inspect(vaultFile);
    if (!info)
        return std::unexpected(info.error());
    const auto pf = passphraseFile();
    const bool passphraseMode =
        info->exists ? info->keySource == VaultInfo::KeySource::Passphrase : pf.has_value();
    SecretBackendChoice choice;
    choice.backend = QStringLiteral("vault");
    if (passphraseMode) {
        if (pf) {
            auto pass = readPassphraseFile(pf->path);
            if (!pass)
                return std::unexpected(pass.error());
            auto v = FileVault::openWithPassphrase(vaultFile, *pass);
            wipe(*pass);
            if (!v)
                return std::unexpected(v.error());
            // After `vault rotate` elsewhere, the file may hold the new passphrase.
            const QString path = pf->path;
            (*v)->setPassphraseSource([path] { return readPassphraseFile(path); });
            choice.store = std::move(*v);
            choice.reason =
                QStringLiteral("%1; unlocked with the passphrase from %2").arg(why, pf->words);
            return choice;
        }
        if (!promptHook())
            return fail(Error::Code::Validation,
                        QStringLiteral("vault %1 is protected by a passphrase and none was given: "
                                       "set $VIVARIUM_VAULT_PASSPHRASE_FILE to a file holding it "
                                       "(mode 600), pass the systemd credential "
                                       "vivarium-vault-passphrase, or run vivarium in a terminal "
                                       "to be asked")
                            .arg(vaultFile));
        for (int attempt = 1;; ++attempt) {
            auto pass = promptHook()(vaultFile, attempt);
            if (!pass)
                return std::unexpected(pass.error());
            auto v = FileVault::openWithPassphrase(vaultFile, *pass);
            wipe(*pass);
            if (v) {
                choice.store = std::move(*v);
                choice.reason = QStringLiteral("%1; unlocked with a passphrase typed at the "
                                               "terminal")
                                    .arg(why);
                return choice;
            }
            if (attempt >= 3 || !v.error().message.contains(QStringLiteral("wrong passphrase")))
                return std::unexpected(v.error());
        }
    }
    const KeyFileChoice key = keyFileFor(paths);
    if (info->exists && !QFile::exists(key.path))
        return fail(Error::Code::NotFound,
                    QStringLiteral("vault %1 exists but its key file %2 does not: set "
                                   "$VIVARIUM_VAULT_KEY_FILE to the key it was made with, or pass "
                                   "the systemd credential vivarium-vault-key")
                        .arg(vaultFile, key.path));
    if (auto ok = Paths::ensurePrivateDir(paths.dataDir()); !ok)
        return std::unexpected(ok.error());
    auto v = FileVault::open(vaultFile, key.path, key.isDefault && !info->exists);
    if (!v)
        return std::unexpected(v.error());
    choice.store = std::move(*v);
    choice.reason = QStringLiteral("%1; %2").arg(why, key.words);
    return choice;
}

Status checkSetting(const QString& setting)
{
    if (setting == QLatin1String("auto") || setting == QLatin1String("keychain") ||
        setting == QLatin1String("vault"))
        return {};
    return fail(
        Error::Code::Validation,
        QStringLiteral("secrets.backend must be auto, keychain or vault, not \"%1\"").arg(setting));
}

} // namespace

Status SecretStore::checkKeyName(const QString& key)
{
    if (key.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("a secret's name must not be empty"));
    if (key.toUtf8().size() > MaxKeyNameBytes)
        return fail(Error::Code::Validation,
                    QStringLiteral("secret name '%1...' is longer than %2 bytes")
                        .arg(key.left(40))
                        .arg(MaxKeyNameBytes));
    for (const QChar c : key)
        if (c.category() == QChar::Other_Control)
            return fail(Error::Code::Validation,
                        QStringLiteral("secret name '%1' contains a control character").arg(key));
    if (key.startsWith(ReservedPrefix))
        return fail(Error::Code::Validation,
                    QStringLiteral("secret name '%1': names starting with \"vivarium:\" are "
                                   "reserved")
                        .arg(key));
    return {};
}

void SecretStore::setPassphrasePrompt(PassphrasePrompt prompt)
{
    promptHook() = std::move(prompt);
}

Result<QByteArray> MemorySecretStore::read(const QString& key)
{
    const auto it = m_values.constFind(key);
    if (it == m_values.constEnd())
        return fail(Error::Code::NotFound, QStringLiteral("no secret named '%1'").arg(key));
    return *it;
}

Status MemorySecretStore::write(const QString& key, const QByteArray& value)
{
    if (auto s = checkKeyName(key); !s)
        return s;
    m_values.insert(key, value);
    return {};
}

Status MemorySecretStore::remove(const QString& key)
{
    if (m_values.remove(key) == 0)
        return fail(Error::Code::NotFound, QStringLiteral("no secret named '%1'").arg(key));
    return {};
}

Result<QStringList> MemorySecretStore::keys()
{
    QStringList k = m_values.keys();
    k.sort();
    return k;
}

Result<SecretBackendChoice> SecretStore::openDefault(const Paths& paths,
                                                     const QString& backendSetting)
{
    const QString setting = backendSetting.isEmpty() ? QStringLiteral("auto") : backendSetting;
    if (auto ok = checkSetting(setting); !ok)
        return std::unexpected(ok.error());
    if (setting == QLatin1String("vault"))
        return openVault(paths, QStringLiteral("secrets.backend is vault"));

    const bool marked = QFile::exists(keychainMarkerOf(paths));
    auto keychain = std::make_unique<KeychainSecretStore>(paths.dataDir());
    const QString service = keychain->service();
    auto useKeychain = [&](const QString& reason) {
        SecretBackendChoice c;
        c.backend = QStringLiteral("keychain");
        c.reason = reason;
        c.store = std::move(keychain);
        return c;
    };
    if (marked)
        return useKeychain(QStringLiteral("secrets.backend is %1 and the keychain holds this data "
                                          "directory's secrets (service %2)")
                               .arg(setting, service));
    if (setting == QLatin1String("auto") && QFile::exists(vaultFileOf(paths)))
        return openVault(paths, QStringLiteral("secrets.backend is auto and this data directory "
                                               "already has a file vault"));
    const auto probe = keychain->probe();
    if (probe.ok) {
        writeKeychainMarker(paths, service);
        qCInfo(lcSecrets).noquote() << "secrets in the keychain, service" << service;
        return useKeychain(
            QStringLiteral("secrets.backend is %1 and %2").arg(setting, probe.detail));
    }
    if (setting == QLatin1String("keychain"))
        return fail(Error::Code::Unsupported,
                    QStringLiteral("secrets.backend is keychain but %1. Start a secret service "
                                   "(GNOME Keyring, KWallet) in this session, or set "
                                   "secrets.backend to vault")
                        .arg(probe.detail));
    return openVault(paths,
                     QStringLiteral("secrets.backend is auto and %1, so the encrypted file vault")
                         .arg(probe.detail));
}

Result<std::unique_ptr<SecretStore>> SecretStore::openDefault(const Paths& paths)
{
    QString setting = QStringLiteral("auto");
    if (QFile::exists(paths.storeFile())) {
        auto store = Store::open(paths.storeFile());
        if (!store)
            return std::unexpected(store.error());
        setting = Settings(**store).secretBackend();
    }
    auto choice = openDefault(paths, setting);
    if (!choice)
        return std::unexpected(choice.error());
    return std::move(choice->store);
}

SecretStore::VaultLocation SecretStore::vaultLocation(const Paths& paths)
{
    VaultLocation l;
    l.vaultFile = vaultFileOf(paths);
    const KeyFileChoice key = keyFileFor(paths);
    l.keyFile = key.path;
    l.keyFileWords = key.words;
    l.keyFileIsDefault = key.isDefault;
    if (const auto pf = passphraseFile()) {
        l.passphraseFile = pf->path;
        l.passphraseWords = pf->words;
    }
    return l;
}

std::unique_ptr<SecretStore> SecretStore::keychainFor(const Paths& paths)
{
    return std::make_unique<KeychainSecretStore>(paths.dataDir());
}

SecretBackendDiagnosis SecretStore::diagnose(const Paths& paths, const QString& backendSetting)
{
    SecretBackendDiagnosis d;
    d.setting = backendSetting.isEmpty() ? QStringLiteral("auto") : backendSetting;
    d.vaultFile = vaultFileOf(paths);
    d.keychainService = KeychainSecretStore::serviceFor(paths.dataDir());
    if (auto ok = checkSetting(d.setting); !ok) {
        d.healthy = false;
        d.reason = ok.error().message;
        return d;
    }

    // The vault, from its header only.
    auto info = FileVault::inspect(d.vaultFile);
    QString vaultProblem;
    if (!info) {
        vaultProblem = info.error().message;
    } else {
        d.vaultExists = info->exists;
        const auto pf = passphraseFile();
        const bool pass =
            info->exists ? info->keySource == VaultInfo::KeySource::Passphrase : pf.has_value();
        if (pass) {
            d.vaultKeySource =
                QStringLiteral("passphrase (%1) from %2")
                    .arg(kdfWords(info->exists ? info->kdf : VaultKdfParams::defaults()),
                         pf ? pf->words : QStringLiteral("a terminal prompt"));
        } else {
            const KeyFileChoice key = keyFileFor(paths);
            d.vaultKeySource = key.words;
            if (info->exists && !QFile::exists(key.path))
                vaultProblem = QStringLiteral("its key file %1 does not exist (set "
                                              "$VIVARIUM_VAULT_KEY_FILE to the key it was made "
                                              "with)")
                                   .arg(key.path);
            if (info->exists && info->formatVersion == 1)
                d.vaultKeySource += QStringLiteral(" (format 1; upgraded on the next write)");
        }
    }

    const bool marked = QFile::exists(keychainMarkerOf(paths));
    if (d.setting != QLatin1String("vault")) {
        KeychainSecretStore keychain(paths.dataDir());
        const auto probe = keychain.probe();
        d.keychainProbed = true;
        d.keychainAnswers = probe.ok;
        d.keychainDetail = probe.detail;
    } else {
        d.keychainDetail = QStringLiteral("not probed (secrets.backend is vault)");
    }

    auto useVault = [&](const QString& why) {
        d.backend = QStringLiteral("vault");
        d.reason = why;
        if (!vaultProblem.isEmpty()) {
            d.healthy = false;
            d.reason += QStringLiteral("; but ") + vaultProblem;
        }
    };
    if (d.setting == QLatin1String("vault")) {
        useVault(QStringLiteral("secrets.backend is vault"));
    } else if (marked) {
        d.backend = QStringLiteral("keychain");
        d.reason = QStringLiteral("secrets.backend is %1 and the keychain holds this data "
                                  "directory's secrets")
                       .arg(d.setting);
        if (!d.keychainAnswers) {
            d.healthy = false;
            d.reason += QStringLiteral(", but it does not answer now");
        }
    } else if (d.setting == QLatin1String("auto") && d.vaultExists) {
        useVault(QStringLiteral("secrets.backend is auto and this data directory already has a "
                                "file vault"));
    } else if (d.keychainAnswers) {
        d.backend = QStringLiteral("keychain");
        d.reason =
            QStringLiteral("secrets.backend is %1 and a secret service answers").arg(d.setting);
    } else if (d.setting == QLatin1String("keychain")) {
        d.healthy = false;
        d.reason = QStringLiteral("secrets.backend is keychain but no secret service answers");
    } else {
        useVault(QStringLiteral("secrets.backend is auto and no secret service answers"));
    }
    return d;
}

} // namespace vivarium
