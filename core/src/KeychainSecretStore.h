// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/SecretStore.h"

namespace vivarium {

/**
 * Secrets in the OS keychain through QtKeychain (the Secret Service on Linux: GNOME Keyring,
 * KWallet; Keychain on macOS; Credential Manager on Windows). QtKeychain's jobs are
 * asynchronous; each call here runs its job to completion in a local event loop with a
 * timeout, so the SecretStore interface stays synchronous. Needs a QCoreApplication and is
 * used from the thread that created it.
 *
 * Entries are scoped by data directory: the service name is "vivarium-" plus a hash of the
 * absolute data directory, so two installations never see each other's secrets. Keychains
 * cannot list entries, so the names live in an index entry of their own ("vivarium:index"),
 * updated under a lock file in the data directory. Values are stored as text (base64 with a
 * marker), never logged, and never in plaintext elsewhere: the insecure fallback of
 * QtKeychain is never enabled.
 */
class KeychainSecretStore : public SecretStore
{
public:
    struct Options
    {
        QString service;         ///< empty: serviceFor(dataDir)
        int timeoutMs = 15000;   ///< per keychain job; an unlock prompt may take a while
        int retryDelayMs = 1000; ///< one retry after this wait when the service did not answer
        int probeTimeoutMs = 5000;
    };

    /** What probe() found. */
    struct ProbeResult
    {
        bool ok = false;
        int attempts = 0;
        qint64 elapsedMs = 0;
        QString detail; ///< a sentence for doctor
    };

    explicit KeychainSecretStore(QString dataDir);
    KeychainSecretStore(QString dataDir, Options options);
    ~KeychainSecretStore() override;

    /** "vivarium-<12 hex digits of SHA-256 of the absolute data directory>". */
    static QString serviceFor(const QString& dataDir);
    /** False (with the reason) when this process has no D-Bus session bus to reach. */
    static bool sessionBusAvailable(QString* why);

    /**
     * Writes, reads back and deletes a random entry; on failure waits retryDelayMs and tries
     * once more (a secret service that starts late, e.g. at login). Never touches real entries.
     */
    ProbeResult probe();
    QString service() const { return m_options.service; }

    QString describe() const override;
    Result<QByteArray> read(const QString& key) override;
    Status write(const QString& key, const QByteArray& value) override;
    Status remove(const QString& key) override;
    Result<QStringList> keys() override;

private:
    struct Outcome;
    enum class Op { Read, Write, Delete };
    Outcome runOnce(Op op, const QString& key, const QByteArray& value, int timeoutMs);
    Outcome run(Op op, const QString& key, const QByteArray& value = {});
    Result<QStringList> readIndex();
    Status updateIndex(const QString& key, bool present);
    Error failure(const QString& what, const Outcome& o) const;

    QString m_dataDir;
    Options m_options;
};

} // namespace vivarium
