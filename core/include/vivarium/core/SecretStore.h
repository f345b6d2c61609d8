// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace vivarium {

class Paths;
class SecretStore;

/** Which backend openDefault() chose, and the sentence that says why (for `vivarium doctor`). */
struct SecretBackendChoice
{
    std::unique_ptr<SecretStore> store;
    QString backend; ///< "keychain" | "vault"
    QString reason;
};

/** What `vivarium doctor` reports about secrets: found without unlocking or creating anything. */
struct SecretBackendDiagnosis
{
    QString setting; ///< the secrets.backend value that was asked for
    QString backend; ///< what openDefault() would use: "keychain" | "vault" | "" (error)
    QString reason;  ///< why, or what is wrong
    bool keychainProbed = false;
    bool keychainAnswers = false;
    QString keychainDetail; ///< the probe's result in words
    QString keychainService;
    QString vaultFile;
    bool vaultExists = false;
    QString vaultKeySource; ///< "key file <path>", "passphrase (Argon2id ...)", ...
    bool healthy = true;
};

/**
 * Where secret values live (DESIGN section 5): API keys, tokens. Nothing else may hold them:
 * not the store, not an event, not a log line. Keys are names like
 * "model-endpoint/<name>/api-key": non-empty, at most 512 bytes, no control characters, and
 * not starting with "vivarium:" (reserved for the backends' own entries). Implementations are
 * used from one thread at a time; the keychain backend needs a QCoreApplication.
 */
class SecretStore
{
public:
    virtual ~SecretStore() = default;
    /** "encrypted file vault <path> (key ...)", "OS keychain ...", "memory" for doctor. */
    virtual QString describe() const = 0;
    /** The value; NotFound if absent; Io/Database/Locked/Validation if the backend fails. */
    virtual Result<QByteArray> read(const QString& key) = 0;
    /** Validation for a bad key name. */
    virtual Status write(const QString& key, const QByteArray& value) = 0;
    /** NotFound if absent. */
    virtual Status remove(const QString& key) = 0;
    /** Sorted names of every stored secret (never values). */
    virtual Result<QStringList> keys() = 0;

    /** Validation error naming the problem with a secret's name, if any. */
    static Status checkKeyName(const QString& key);

    /**
     * The backend for a data directory (docs/secrets.md "Selection"). `backendSetting` is the
     * typed setting secrets.backend: "vault" = the encrypted file vault `vault.bin`; "keychain"
     * = the OS keychain through QtKeychain (an error when no secret service answers); "auto" =
     * the keychain when it already holds this directory's secrets or answers a probe, else the
     * vault (an existing vault is kept). Never a plaintext fallback.
     *
     * The vault is unlocked with, in order: $VIVARIUM_VAULT_KEY_FILE, the systemd credential
     * vivarium-vault-key, `vault.key` in the data directory (created 0600 for a new vault); or,
     * for a passphrase vault, $VIVARIUM_VAULT_PASSPHRASE_FILE, the credential
     * vivarium-vault-passphrase, then the prompt installed with setPassphrasePrompt().
     */
    static Result<SecretBackendChoice> openDefault(const Paths& paths,
                                                   const QString& backendSetting);
    /** As above with the setting read from the data directory's store ("auto" if none). */
    static Result<std::unique_ptr<SecretStore>> openDefault(const Paths& paths);
    /** What openDefault() would choose and why, probing the keychain; creates and unlocks nothing.
     */
    static SecretBackendDiagnosis diagnose(const Paths& paths, const QString& backendSetting);

    /** Where a data directory's file vault is and what would unlock it (see openDefault). */
    struct VaultLocation
    {
        QString vaultFile;
        QString keyFile;               ///< for a key-file vault
        QString keyFileWords;          ///< "key file from $VIVARIUM_VAULT_KEY_FILE (<path>)", ...
        bool keyFileIsDefault = false; ///< `vault.key` in the data directory
        QString passphraseFile; ///< empty: none configured (a terminal prompt is the last resort)
        QString passphraseWords;
    };
    static VaultLocation vaultLocation(const Paths& paths);
    /** The keychain backend of a data directory, without probing or recording anything. */
    static std::unique_ptr<SecretStore> keychainFor(const Paths& paths);

    /**
     * Asks a person for the vault passphrase when no passphrase file or credential is set
     * (`attempt` counts from 1; a wrong passphrase is asked again up to three times). The CLI
     * installs a no-echo terminal prompt; unset (the default), a passphrase vault without a
     * passphrase source fails with a sentence saying how to provide one.
     */
    using PassphrasePrompt =
        std::function<Result<QByteArray>(const QString& vaultFile, int attempt)>;
    static void setPassphrasePrompt(PassphrasePrompt prompt);
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

/** Argon2id cost of a passphrase vault; recorded in the vault's header so it can change. */
struct VaultKdfParams
{
    quint32 opsLimit = 3;                 ///< passes over memory
    quint64 memLimitBytes = 128ull << 20; ///< 128 MiB: ~0.5 s on one 2020s x86 core
    /** The parameters new passphrase vaults get (docs/secrets.md says why). */
    static VaultKdfParams defaults() { return {}; }
};

/** What a vault file's header says, readable without any key. */
struct VaultInfo
{
    enum class KeySource { None, KeyFile, Passphrase };
    bool exists = false;
    int formatVersion = 0; ///< 1: legacy (key file only); 2: current
    KeySource keySource = KeySource::None;
    VaultKdfParams kdf; ///< passphrase vaults only
    qint64 sizeBytes = 0;
};

/**
 * An encrypted file of secrets (docs/secrets.md "Vault format"): one XChaCha20-Poly1305 sealed
 * blob behind a versioned header, under a 256-bit key from a key file or derived from a
 * passphrase with Argon2id. Tampering, truncation and a wrong key or passphrase are each
 * detected and reported in their own words, never decrypted into garbage. Writes hold an
 * inter-process lock (flock on `<vault>.lock`) around read-modify-write and replace the file
 * atomically (temp file, fsync, rename, directory fsync), so concurrent writers lose nothing.
 * The key stays in locked memory (sodium_malloc) once unlocked and is wiped on destruction;
 * the file is re-read and re-authenticated whenever it changed, so processes share it.
 */
class FileVault : public SecretStore
{
public:
    /**
     * A vault keyed by a key file (32 raw bytes, 64 hex characters or base64 of 32 bytes,
     * mode 0600). `createKey`: make a fresh key file if `keyFile` does not exist. An existing
     * vault whose key check does not match the key fails here with "wrong key".
     */
    static Result<std::unique_ptr<FileVault>> open(const QString& vaultFile, const QString& keyFile,
                                                   bool createKey);
    /**
     * A vault keyed by a passphrase (Argon2id with the salt and cost in its header). A vault
     * that does not exist yet gets a fresh salt and `forNewVault`. A wrong passphrase fails
     * here. The passphrase itself is not kept.
     */
    static Result<std::unique_ptr<FileVault>>
    openWithPassphrase(const QString& vaultFile, const QByteArray& passphrase,
                       const VaultKdfParams& forNewVault = VaultKdfParams::defaults());
    /** The header of a vault file, without any key; exists=false if there is no file. */
    static Result<VaultInfo> inspect(const QString& vaultFile);

    ~FileVault() override;

    QString describe() const override;
    Result<QByteArray> read(const QString& key) override;
    Status write(const QString& key, const QByteArray& value) override;
    Status remove(const QString& key) override;
    Result<QStringList> keys() override;

    /** Write the (empty) vault file now if it does not exist: `vivarium vault init`. */
    Status initialize();
    /**
     * Re-encrypt every secret under the key in `newKeyFile` (created 0600 with a fresh key if
     * missing; the same path as now = a fresh key in place). The old vault stays valid until
     * the final rename; an in-place rotation interrupted by a crash is completed on next open.
     */
    Status rotateToKeyFile(const QString& newKeyFile);
    /** Re-encrypt every secret under a new passphrase (fresh salt, `params`), atomically. */
    Status rotateToPassphrase(const QByteArray& newPassphrase,
                              const VaultKdfParams& params = VaultKdfParams::defaults());
    /**
     * Where a running process gets the passphrase again when another one rotated it (e.g. the
     * passphrase file); unset, such a vault reports that it must be unlocked again.
     */
    void setPassphraseSource(std::function<Result<QByteArray>()> source);
    /** How long a writer waits for another process's lock before failing (default 10 s). */
    void setLockTimeout(int ms);

    QString vaultFile() const;
    QString keyFile() const; ///< empty for a passphrase vault
    VaultInfo::KeySource keySource() const;
    VaultKdfParams kdfParams() const; ///< passphrase vaults

    struct Private;

private:
    explicit FileVault(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

} // namespace vivarium
