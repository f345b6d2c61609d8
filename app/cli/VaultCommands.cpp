// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium vault init|status|rotate: the encrypted file vault of a data directory
// (docs/secrets.md). Passphrases are typed without echo or read from standard input; they are
// never taken from an environment variable or printed, and secret values are never shown.
#include "Cli.h"
#include "SecretInput.h"

#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QScopeGuard>

#include <cstring>

namespace vivarium::cli {

namespace {

void wipe(QByteArray& b)
{
    if (!b.isEmpty())
        std::memset(b.data(), 0, size_t(b.size()));
    b.clear();
}

/** One passphrase typed at the terminal without echo (twice for a new one). */
Result<QByteArray> promptPassphrase(const QString& label, bool confirm = false)
{
    if (!haveTerminal())
        return fail(Error::Code::Validation,
                    QStringLiteral("no terminal to ask for the vault passphrase: set "
                                   "$VIVARIUM_VAULT_PASSPHRASE_FILE to a file holding it (mode "
                                   "600), or pass it with --passphrase-stdin where a command "
                                   "offers that"));
    return promptSecret(label, confirm);
}

/** A new passphrase typed twice. */
Result<QByteArray> promptNewPassphrase()
{
    return promptPassphrase(QStringLiteral("New vault passphrase: "), true);
}

/** Standard input, line by line (for --passphrase-stdin). */
QList<QByteArray> stdinLines()
{
    QFile in;
    QList<QByteArray> lines;
    if (!in.open(stdin, QIODevice::ReadOnly))
        return lines;
    QByteArray all = in.read(64 * 1024);
    for (QByteArray l : all.split('\n')) {
        if (l.endsWith('\r'))
            l.chop(1);
        lines << l;
    }
    wipe(all);
    while (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

QString setting(Invocation& inv)
{
    // Read without creating a store: the vault commands work before anything else exists.
    if (!QFileInfo::exists(inv.paths().storeFile()))
        return QStringLiteral("auto");
    auto store = inv.openStore();
    return store ? Settings(**store).secretBackend() : QStringLiteral("auto");
}

QString kdfText(const VaultKdfParams& p)
{
    return QStringLiteral("Argon2id, %1 passes, %2 MiB").arg(p.opsLimit).arg(p.memLimitBytes >> 20);
}

QString absolute(const QString& path)
{
    return QFileInfo(path).absoluteFilePath();
}

/** After a key file is no longer the vault's, tell the user what to change. */
void adviseKeyFile(const SecretStore::VaultLocation& loc, const QString& keyFile)
{
    if (absolute(keyFile) == absolute(loc.vaultFile.section(QLatin1Char('/'), 0, -2) +
                                      QStringLiteral("/vault.key")) ||
        absolute(keyFile) == absolute(qEnvironmentVariable("VIVARIUM_VAULT_KEY_FILE")))
        return;
    printErr(QStringLiteral("vivarium: note: the key is outside the data directory: set "
                            "VIVARIUM_VAULT_KEY_FILE=%1 for every vivarium process (in a systemd "
                            "unit: LoadCredential=vivarium-vault-key:%1)")
                 .arg(keyFile));
}

} // namespace

void installVaultPassphrasePrompt()
{
    SecretStore::setPassphrasePrompt([](const QString& vaultFile, int attempt) {
        return promptPassphrase(
            attempt > 1 ? QStringLiteral("Wrong passphrase. Passphrase for %1: ").arg(vaultFile)
                        : QStringLiteral("Passphrase for %1: ").arg(vaultFile));
    });
}

int cmdVaultInit(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption pass(QStringLiteral("passphrase"),
                                  QStringLiteral("Protect the vault with a passphrase (Argon2id), "
                                                 "typed twice without echo."));
    const QCommandLineOption passStdin(QStringLiteral("passphrase-stdin"),
                                       QStringLiteral("Read the passphrase from the first line of "
                                                      "standard input (scripts)."));
    const QCommandLineOption keyFile(QStringLiteral("key-file"),
                                     QStringLiteral("Protect the vault with this key file (created "
                                                    "0600 with a fresh 256-bit key if missing)."),
                                     QStringLiteral("PATH"));
    for (const auto* o : {&pass, &passStdin, &keyFile})
        p.addOption(*o);
    if (auto stop = inv.parse(p,
                              QStringLiteral("Create the encrypted file vault of the data "
                                             "directory. Default: a key file (vault.key beside "
                                             "it, or $VIVARIUM_VAULT_KEY_FILE)."),
                              0, 0))
        return *stop;
    const bool usePass = p.isSet(pass) || p.isSet(passStdin);
    if (usePass && p.isSet(keyFile))
        return usageError(inv.commandName(),
                          QStringLiteral("--passphrase and --key-file exclude each other"));
    const Paths paths = inv.paths();
    if (auto ok = Paths::ensurePrivateDir(paths.dataDir()); !ok)
        return reportError(ok.error());
    const SecretStore::VaultLocation loc = SecretStore::vaultLocation(paths);
    if (QFileInfo::exists(loc.vaultFile))
        return reportError(Error::make(Error::Code::Conflict,
                                       QStringLiteral("vault %1 already exists; change its key "
                                                      "with: vivarium vault rotate")
                                           .arg(loc.vaultFile)));
    QString what;
    if (usePass) {
        QByteArray secret;
        if (p.isSet(passStdin)) {
            auto lines = stdinLines();
            if (lines.isEmpty() || lines.first().isEmpty())
                return usageError(inv.commandName(),
                                  QStringLiteral("--passphrase-stdin: no passphrase on standard "
                                                 "input"));
            secret = lines.first();
            for (auto& l : lines)
                wipe(l);
        } else {
            auto typed = promptNewPassphrase();
            if (!typed)
                return reportError(typed.error());
            secret = *typed;
        }
        auto v = FileVault::openWithPassphrase(loc.vaultFile, secret);
        wipe(secret);
        if (!v)
            return reportError(v.error());
        if (auto s = (*v)->initialize(); !s)
            return reportError(s.error());
        what = QStringLiteral("passphrase, %1").arg(kdfText((*v)->kdfParams()));
        if (!loc.passphraseFile.isEmpty())
            printErr(QStringLiteral("vivarium: note: %1 is set; make sure it holds this "
                                    "passphrase")
                         .arg(loc.passphraseWords));
    } else {
        const QString key = p.isSet(keyFile) ? absolute(p.value(keyFile)) : loc.keyFile;
        auto v = FileVault::open(loc.vaultFile, key, true);
        if (!v)
            return reportError(v.error());
        if (auto s = (*v)->initialize(); !s)
            return reportError(s.error());
        what = QStringLiteral("key file %1").arg(key);
        adviseKeyFile(loc, key);
    }
    printOut(QStringLiteral("Created vault %1 (%2)").arg(loc.vaultFile, what));
    const QString backend = setting(inv);
    if (backend == QLatin1String("keychain") ||
        (backend == QLatin1String("auto") &&
         QFileInfo::exists(paths.dataDir() + QStringLiteral("/secrets.keychain"))))
        printErr(
            QStringLiteral("vivarium: note: secrets go to the keychain here (secrets.backend "
                           "is %1); `vivarium settings set secrets.backend vault` uses this vault")
                .arg(backend));
    return ExitOk;
}

int cmdVaultStatus(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p,
                              QStringLiteral("Show which secrets backend is in use and why, the "
                                             "vault's file, key source and KDF cost, and how many "
                                             "secrets it holds (never their values)."),
                              0, 0))
        return *stop;
    const Paths paths = inv.paths();
    const QString backendSetting = setting(inv);
    const SecretBackendDiagnosis diag = SecretStore::diagnose(paths, backendSetting);
    auto info = FileVault::inspect(diag.vaultFile);

    // Count the secrets of the backend in use, unlocking the vault if it must (a passphrase
    // vault may ask at the terminal); nothing is created.
    QJsonValue count = QJsonValue::Null;
    QString countProblem;
    const bool locked = info && info->keySource == VaultInfo::KeySource::Passphrase &&
                        SecretStore::vaultLocation(paths).passphraseFile.isEmpty() &&
                        !haveTerminal();
    if (diag.backend == QLatin1String("vault") && diag.vaultExists && locked) {
        countProblem = QStringLiteral("locked: no passphrase file and no terminal to ask");
    } else if (diag.backend == QLatin1String("vault") && diag.vaultExists) {
        auto open = SecretStore::openDefault(paths, QStringLiteral("vault"));
        if (open) {
            auto keys = open->store->keys();
            if (keys)
                count = int(keys->size());
            else
                countProblem = keys.error().message;
        } else {
            countProblem = open.error().message;
        }
    } else if (diag.backend == QLatin1String("vault")) {
        count = 0;
    } else if (diag.backend == QLatin1String("keychain") && diag.keychainAnswers) {
        auto keys = SecretStore::keychainFor(paths)->keys();
        if (keys)
            count = int(keys->size());
        else
            countProblem = keys.error().message;
    }
    const bool healthy = diag.healthy && (countProblem.isEmpty() || locked);

    QJsonValue kdf = QJsonValue::Null;
    if (info && info->keySource == VaultInfo::KeySource::Passphrase)
        kdf = QJsonObject{{QStringLiteral("algorithm"), QStringLiteral("argon2id13")},
                          {QStringLiteral("ops_limit"), double(info->kdf.opsLimit)},
                          {QStringLiteral("mem_limit_bytes"), double(info->kdf.memLimitBytes)}};
    if (p.isSet(jsonOption())) {
        QJsonObject vault{{QStringLiteral("file"), diag.vaultFile},
                          {QStringLiteral("exists"), diag.vaultExists},
                          {QStringLiteral("key_source"), diag.vaultKeySource},
                          {QStringLiteral("kdf"), kdf}};
        if (info && info->exists) {
            vault.insert(QStringLiteral("format"), info->formatVersion);
            vault.insert(QStringLiteral("size_bytes"), double(info->sizeBytes));
        } else if (!info) {
            vault.insert(QStringLiteral("error"), info.error().message);
        }
        QJsonObject out{{QStringLiteral("setting"), diag.setting},
                        {QStringLiteral("backend"), diag.backend},
                        {QStringLiteral("reason"), diag.reason},
                        {QStringLiteral("healthy"), healthy},
                        {QStringLiteral("secrets"), count},
                        {QStringLiteral("locked"), locked && count.isNull()},
                        {QStringLiteral("vault"), vault},
                        {QStringLiteral("keychain"),
                         QJsonObject{{QStringLiteral("service"), diag.keychainService},
                                     {QStringLiteral("probed"), diag.keychainProbed},
                                     {QStringLiteral("answers"), diag.keychainAnswers},
                                     {QStringLiteral("detail"), diag.keychainDetail}}}};
        if (!countProblem.isEmpty())
            out.insert(QStringLiteral("error"), countProblem);
        printJson(out);
        return healthy ? ExitOk : ExitFailure;
    }

    QString t;
    auto line = [&t](const QString& k, const QString& v) {
        t += QStringLiteral("%1 %2\n").arg(k, -14).arg(v);
    };
    line(QStringLiteral("Backend"),
         (diag.backend.isEmpty() ? QStringLiteral("NONE") : diag.backend) +
             QStringLiteral(" (%1)").arg(diag.reason));
    if (!info)
        line(QStringLiteral("Vault file"),
             QStringLiteral("%1: ERROR %2").arg(diag.vaultFile, info.error().message));
    else if (info->exists)
        line(QStringLiteral("Vault file"), QStringLiteral("%1 (format %2, %3 bytes)")
                                               .arg(diag.vaultFile)
                                               .arg(info->formatVersion)
                                               .arg(info->sizeBytes));
    else
        line(QStringLiteral("Vault file"),
             QStringLiteral("%1 (not created yet)").arg(diag.vaultFile));
    line(QStringLiteral("Key source"), diag.vaultKeySource);
    if (info && info->keySource == VaultInfo::KeySource::Passphrase)
        line(QStringLiteral("KDF"), kdfText(info->kdf));
    line(QStringLiteral("Keychain"),
         QStringLiteral("%1: %2").arg(diag.keychainService, diag.keychainDetail));
    line(QStringLiteral("Secrets"),
         count.isNull()
             ? QStringLiteral("unknown (%1)")
                   .arg(countProblem.isEmpty() ? QStringLiteral("not reachable") : countProblem)
             : QString::number(count.toInt()));
    printOut(t);
    return healthy ? ExitOk : ExitFailure;
}

int cmdVaultRotate(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption pass(QStringLiteral("passphrase"),
                                  QStringLiteral("Re-encrypt under a new passphrase (typed twice "
                                                 "without echo)."));
    const QCommandLineOption passStdin(
        QStringLiteral("passphrase-stdin"),
        QStringLiteral("Read passphrases from standard input: the new one on the first line; if "
                       "the vault has a passphrase and no passphrase file is set, the current one "
                       "first and the new one second."));
    const QCommandLineOption keyFile(QStringLiteral("key-file"),
                                     QStringLiteral("Re-encrypt under the key in PATH (created "
                                                    "with a fresh key if missing; the current key "
                                                    "file's own path = a fresh key in place)."),
                                     QStringLiteral("PATH"));
    for (const auto* o : {&pass, &passStdin, &keyFile})
        p.addOption(*o);
    if (auto stop =
            inv.parse(p,
                      QStringLiteral("Re-encrypt every secret of the file vault under a new "
                                     "key or passphrase, atomically: the old vault stays "
                                     "valid until the new one replaces it. Without options "
                                     "the vault keeps its kind of key and gets a new one."),
                      0, 0))
        return *stop;
    const bool stdinPass = p.isSet(passStdin);
    if ((p.isSet(pass) || stdinPass) && p.isSet(keyFile))
        return usageError(inv.commandName(),
                          QStringLiteral("--passphrase and --key-file exclude each other"));
    const Paths paths = inv.paths();
    const SecretStore::VaultLocation loc = SecretStore::vaultLocation(paths);
    auto info = FileVault::inspect(loc.vaultFile);
    if (!info)
        return reportError(info.error());
    if (!info->exists)
        return reportError(Error::make(Error::Code::NotFound,
                                       QStringLiteral("no vault at %1; create one with: vivarium "
                                                      "vault init")
                                           .arg(loc.vaultFile)));
    const bool wasPassphrase = info->keySource == VaultInfo::KeySource::Passphrase;
    QList<QByteArray> lines = stdinPass ? stdinLines() : QList<QByteArray>();
    auto cleanup = qScopeGuard([&lines] {
        for (auto& l : lines)
            wipe(l);
    });
    // With --passphrase-stdin the current passphrase of a passphrase vault comes first.
    const bool currentFromStdin = stdinPass && wasPassphrase && loc.passphraseFile.isEmpty();
    if (currentFromStdin) {
        if (lines.size() < 2)
            return usageError(inv.commandName(),
                              QStringLiteral("--passphrase-stdin: expected the current and the "
                                             "new passphrase on two lines"));
        const QByteArray current = lines.takeFirst();
        SecretStore::setPassphrasePrompt([current](const QString&, int attempt) {
            if (attempt > 1)
                return Result<QByteArray>(
                    fail(Error::Code::Validation, QStringLiteral("wrong current passphrase on "
                                                                 "standard input")));
            return Result<QByteArray>(current);
        });
    }
    auto open = SecretStore::openDefault(paths, QStringLiteral("vault"));
    if (currentFromStdin)
        installVaultPassphrasePrompt();
    if (!open)
        return reportError(open.error());
    auto* vault = dynamic_cast<FileVault*>(open->store.get());
    if (!vault)
        return reportError(Error::make(Error::Code::Internal, QStringLiteral("not a file vault")));
    auto keys = vault->keys();
    if (!keys)
        return reportError(keys.error());
    const QString oldKeyFile = vault->keyFile();

    const bool toPassphrase = p.isSet(pass) || stdinPass || (!p.isSet(keyFile) && wasPassphrase);
    QString what;
    if (toPassphrase) {
        QByteArray secret;
        if (stdinPass) {
            if (lines.isEmpty() || lines.first().isEmpty())
                return usageError(inv.commandName(),
                                  QStringLiteral("--passphrase-stdin: no new passphrase on "
                                                 "standard input"));
            secret = lines.first();
        } else {
            auto typed = promptNewPassphrase();
            if (!typed)
                return reportError(typed.error());
            secret = *typed;
        }
        Status s = vault->rotateToPassphrase(secret);
        wipe(secret);
        if (!s)
            return reportError(s.error());
        what = QStringLiteral("a new passphrase (%1)").arg(kdfText(vault->kdfParams()));
        if (!loc.passphraseFile.isEmpty())
            printErr(QStringLiteral("vivarium: note: write the new passphrase into %1; running "
                                    "vivarium processes read it again when they next need the "
                                    "vault")
                         .arg(loc.passphraseWords));
    } else {
        const QString target = p.isSet(keyFile) ? absolute(p.value(keyFile)) : oldKeyFile;
        if (auto s = vault->rotateToKeyFile(target); !s)
            return reportError(s.error());
        what = target == oldKeyFile ? QStringLiteral("a fresh key in %1").arg(target)
                                    : QStringLiteral("the key in %1").arg(target);
        adviseKeyFile(loc, target);
    }
    // The generated key beside the vault opens nothing now (only old backups): remove it.
    if (!oldKeyFile.isEmpty() && loc.keyFileIsDefault &&
        absolute(oldKeyFile) == absolute(loc.keyFile) &&
        absolute(vault->keyFile()) != absolute(oldKeyFile)) {
        if (QFile::remove(oldKeyFile))
            printErr(QStringLiteral("vivarium: removed the old key file %1").arg(oldKeyFile));
    }
    printOut(QStringLiteral("Rotated vault %1: %2 secret(s) re-encrypted under %3")
                 .arg(loc.vaultFile)
                 .arg(keys->size())
                 .arg(what));
    return ExitOk;
}

} // namespace vivarium::cli
