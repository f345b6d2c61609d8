// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Secrets benchmarks (docs/secrets.md): with 1,000 secrets in the file vault, the open (key
// file; passphrase with the default Argon2id cost), read (warm, and right after another
// process changed the file) and write latency; the keychain's read and write latency against a
// real gnome-keyring on a private bus started here. Medians of several runs, each beside the
// baseline of an in-memory store measured in the same run.
#include "KeychainSecretStore.h"
#include "vivarium/core/SecretStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace vivarium;

namespace {

constexpr int kSecrets = 1000;
constexpr int kRuns = 7;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

QString keyName(int i)
{
    return QStringLiteral("connection/%1/oauth-refresh-token").arg(i, 4, 10, QLatin1Char('0'));
}

QByteArray valueFor(int i)
{
    // Realistic sizes: API keys and tokens of 40 to 200 bytes.
    return QByteArray(40 + (i * 37) % 160, char('a' + i % 26));
}

/** Median microseconds per read over kRuns batches of `n` random reads. */
double readLatencyUs(SecretStore& s, int n, int keys)
{
    std::vector<double> runs;
    for (int r = 0; r < kRuns; ++r) {
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < n; ++i) {
            auto v = s.read(keyName(int(QRandomGenerator::global()->bounded(keys))));
            if (!v) {
                std::fprintf(stderr, "read failed: %s\n", qPrintable(v.error().message));
                std::exit(1);
            }
        }
        runs.push_back(double(t.nsecsElapsed()) / 1000.0 / n);
    }
    return median(runs);
}

double writeLatencyMs(SecretStore& s, int n)
{
    std::vector<double> samples;
    for (int i = 0; i < n; ++i) {
        QElapsedTimer t;
        t.start();
        if (auto w =
                s.write(keyName(int(QRandomGenerator::global()->bounded(kSecrets))), valueFor(i));
            !w) {
            std::fprintf(stderr, "write failed: %s\n", qPrintable(w.error().message));
            std::exit(1);
        }
        samples.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    return median(samples);
}

struct Keyring
{
    QTemporaryDir tmp;
    QString busPid;
    std::unique_ptr<QProcess> daemon;
    QString error;

    bool start()
    {
        const QString bus = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
        const QString gk = QStandardPaths::findExecutable(QStringLiteral("gnome-keyring-daemon"));
        if (bus.isEmpty() || gk.isEmpty()) {
            error = QStringLiteral("dbus-daemon or gnome-keyring-daemon not installed");
            return false;
        }
        QDir(tmp.path()).mkpath(QStringLiteral("home"));
        QDir(tmp.path()).mkpath(QStringLiteral("run"));
        QFile conf(tmp.filePath(QStringLiteral("bus.conf")));
        if (!conf.open(QIODevice::WriteOnly))
            return false;
        conf.write(QStringLiteral("<busconfig><type>session</type><listen>unix:dir=%1</listen>"
                                  "<auth>EXTERNAL</auth><policy context=\"default\">"
                                  "<allow send_destination=\"*\" eavesdrop=\"true\"/>"
                                  "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>"
                                  "</busconfig>\n")
                       .arg(tmp.path())
                       .toUtf8());
        conf.close();
        QProcess p;
        p.start(bus, {QStringLiteral("--config-file=") + conf.fileName(), QStringLiteral("--fork"),
                      QStringLiteral("--print-address=1"), QStringLiteral("--print-pid=1")});
        if (!p.waitForFinished(10000) || p.exitCode() != 0) {
            error = QStringLiteral("dbus-daemon did not start");
            return false;
        }
        const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
        if (lines.size() < 2)
            return false;
        const QByteArray address = lines.at(0).trimmed();
        busPid = QString::fromUtf8(lines.at(1).trimmed());
        // GLib ends a process whose session bus goes away: stop the bus after we exit.
        QProcess::startDetached(
            QStringLiteral("/bin/sh"),
            {QStringLiteral("-c"), QStringLiteral("exec >/dev/null 2>&1 </dev/null; while kill -0 "
                                                  "%1; do sleep 0.2; done; kill %2")
                                       .arg(::getpid())
                                       .arg(busPid)});
        qputenv("DBUS_SESSION_BUS_ADDRESS", address);
        daemon = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), tmp.filePath(QStringLiteral("home")));
        env.insert(QStringLiteral("XDG_DATA_HOME"),
                   tmp.filePath(QStringLiteral("home/.local/share")));
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), tmp.filePath(QStringLiteral("run")));
        daemon->setProcessEnvironment(env);
        daemon->start(gk, {QStringLiteral("--foreground"), QStringLiteral("--unlock"),
                           QStringLiteral("--components=secrets")});
        if (!daemon->waitForStarted(5000)) {
            error = QStringLiteral("gnome-keyring-daemon did not start");
            return false;
        }
        daemon->write("bench-keyring-password");
        daemon->closeWriteChannel();
        return true;
    }
    ~Keyring()
    {
        if (daemon) {
            daemon->terminate();
            daemon->waitForFinished(5000);
        }
    }
};

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    QTemporaryDir dir;
    const QString vaultFile = dir.filePath(QStringLiteral("vault.bin"));
    const QString keyFile = dir.filePath(QStringLiteral("vault.key"));

    // Baseline: the same reads from memory.
    MemorySecretStore memory;
    for (int i = 0; i < kSecrets; ++i)
        (void)memory.write(keyName(i), valueFor(i));
    const double memRead = readLatencyUs(memory, 20000, kSecrets);

    // Fill the vault (each write is a full locked read-modify-write with fsync).
    QElapsedTimer fill;
    fill.start();
    {
        auto v = FileVault::open(vaultFile, keyFile, true);
        if (!v) {
            std::fprintf(stderr, "%s\n", qPrintable(v.error().message));
            return 1;
        }
        for (int i = 0; i < kSecrets; ++i)
            if (!(*v)->write(keyName(i), valueFor(i)))
                return 1;
    }
    const double fillMs = double(fill.elapsed());

    std::vector<double> opens;
    for (int r = 0; r < kRuns; ++r) {
        QElapsedTimer t;
        t.start();
        auto v = FileVault::open(vaultFile, keyFile, false);
        if (!v || !(*v)->read(keyName(1)))
            return 1;
        opens.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    auto vault = FileVault::open(vaultFile, keyFile, false);
    const double warmRead = readLatencyUs(**vault, 5000, kSecrets);
    // Another process changed the file: the next read re-reads and re-authenticates it.
    auto other = FileVault::open(vaultFile, keyFile, false);
    std::vector<double> changed;
    for (int r = 0; r < 30; ++r) {
        (void)(*other)->write(keyName(r), valueFor(r + 1));
        QElapsedTimer t;
        t.start();
        if (!(*vault)->read(keyName(500)))
            return 1;
        changed.push_back(double(t.nsecsElapsed()) / 1000.0);
    }
    const double changedRead = median(changed);
    const double writeMs = writeLatencyMs(**vault, 40);
    const qint64 vaultBytes = QFileInfo(vaultFile).size();

    // Passphrase vault with the default Argon2id cost: the unlock is the KDF.
    const QString passVault = dir.filePath(QStringLiteral("pass.bin"));
    {
        auto pv = FileVault::openWithPassphrase(passVault, "benchmark passphrase");
        for (int i = 0; i < kSecrets && pv; ++i)
            (void)(*pv)->write(keyName(i), valueFor(i));
    }
    std::vector<double> unlocks;
    for (int r = 0; r < 5; ++r) {
        QElapsedTimer t;
        t.start();
        auto pv = FileVault::openWithPassphrase(passVault, "benchmark passphrase");
        if (!pv || !(*pv)->read(keyName(1)))
            return 1;
        unlocks.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    const VaultKdfParams kdf = VaultKdfParams::defaults();

    std::printf("secrets: file vault with %d secrets (%lld bytes), medians of %d runs\n", kSecrets,
                qlonglong(vaultBytes), kRuns);
    std::printf("  baseline: in-memory store read          %9.3f us\n", memRead);
    std::printf("  vault read, warm (file unchanged)        %9.3f us   %7.0fx memory\n", warmRead,
                warmRead / memRead);
    std::printf("  vault read after another writer          %9.3f us   %7.0fx memory\n",
                changedRead, changedRead / memRead);
    std::printf("  vault write (lock, re-encrypt, fsync)    %9.3f ms\n", writeMs);
    std::printf("  vault open, key file (+ first read)      %9.3f ms\n", median(opens));
    std::printf("  vault open, passphrase (Argon2id %u passes, %llu MiB, + first read) %9.1f ms\n",
                kdf.opsLimit, qulonglong(kdf.memLimitBytes >> 20), median(unlocks));
    std::printf("  filling 1,000 secrets one write at a time %8.0f ms\n", fillMs);

    // The keychain, against a real gnome-keyring started here.
    Keyring keyring;
    if (!keyring.start()) {
        std::printf("keychain: skipped (%s)\n", qPrintable(keyring.error));
        return 0;
    }
    KeychainSecretStore::Options o;
    o.retryDelayMs = 1500;
    KeychainSecretStore kc(dir.filePath(QStringLiteral("kc-data")), o);
    const auto probe = kc.probe();
    if (!probe.ok) {
        std::printf("keychain: skipped (%s)\n", qPrintable(probe.detail));
        return 0;
    }
    constexpr int kKeychainSecrets = 100;
    std::vector<double> kwrites;
    for (int i = 0; i < kKeychainSecrets; ++i) {
        QElapsedTimer t;
        t.start();
        if (!kc.write(keyName(i), valueFor(i)))
            return 1;
        kwrites.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    const double kread = readLatencyUs(kc, 50, kKeychainSecrets);
    // The first probe above waited for the keyring to come up; this one times a running one.
    const auto probeAgain = kc.probe();
    std::printf("keychain: gnome-keyring on a private bus, %d secrets, medians of %d runs\n",
                kKeychainSecrets, kRuns);
    std::printf("  keychain read                            %9.3f ms   %7.0fx memory, %5.1fx "
                "vault\n",
                kread / 1000.0, kread / memRead, kread / warmRead);
    std::printf("  keychain write (entry + index update)    %9.3f ms\n", median(kwrites));
    std::printf("  keychain probe (write, read, delete)     %9lld ms\n",
                qlonglong(probeAgain.elapsedMs));
    return 0;
}
