// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <memory>

namespace vivarium {

class Paths;

/**
 * Where secret values live (DESIGN section 5): API keys, tokens. Nothing else may hold them:
 * not the store, not an event, not a log line. Keys are names like
 * "model-endpoint/<name>/api-key". Implementations are used from one thread at a time.
 */
class SecretStore
{
public:
    virtual ~SecretStore() = default;
    /** "file vault (<path>)", "memory", ... for doctor. */
    virtual QString describe() const = 0;
    /** The value; NotFound if absent; Io/Database-style errors if the backend fails. */
    virtual Result<QByteArray> read(const QString& key) = 0;
    virtual Status write(const QString& key, const QByteArray& value) = 0;
    /** NotFound if absent. */
    virtual Status remove(const QString& key) = 0;
    virtual Result<QStringList> keys() = 0;

    /**
     * The backend for a data directory: the encrypted file vault `vault.bin`, keyed by
     * $VIVARIUM_VAULT_KEY_FILE, else $CREDENTIALS_DIRECTORY/vivarium-vault-key (systemd), else
     * `vault.key` beside it (created 0600 on first write). The secrets issue adds the OS
     * keychain and passphrase unlock.
     */
    static Result<std::unique_ptr<SecretStore>> openDefault(const Paths& paths);
};

/** Secrets in memory only: tests and one-shot tools. */
class MemorySecretStore : public SecretStore
{
public:
    QString describe() const override { return QStringLiteral("memory"); }
    Result<QByteArray> read(const QString& key) override;
    Status write(const QString& key, const QByteArray& value) override;
    Status remove(const QString& key) override;
    Result<QStringList> keys() override;

private:
    QHash<QString, QByteArray> m_values;
};

/**
 * An encrypted file of secrets: libsodium XChaCha20-Poly1305 (secretstream-free, one sealed
 * blob: magic, version, nonce, ciphertext) under a 256-bit key read from a key file.
 * Tampering and wrong keys are detected and reported, never decrypted into garbage; writes are
 * atomic (temp file, fsync, rename). Re-read on every call so several processes can share it.
 */
class FileVault : public SecretStore
{
public:
    /** `createKey`: make a fresh 0600 key file if `keyFile` does not exist. */
    static Result<std::unique_ptr<FileVault>> open(const QString& vaultFile, const QString& keyFile,
                                                   bool createKey);
    ~FileVault() override;

    QString describe() const override;
    Result<QByteArray> read(const QString& key) override;
    Status write(const QString& key, const QByteArray& value) override;
    Status remove(const QString& key) override;
    Result<QStringList> keys() override;

private:
    FileVault(QString vaultFile, QString keyFile, QByteArray key);
    Result<QHash<QString, QByteArray>> load() const;
    Status save(const QHash<QString, QByteArray>& values) const;

    QString m_vaultFile;
    QString m_keyFile;
    QByteArray m_key; ///< zeroed in the destructor
};

} // namespace vivarium
