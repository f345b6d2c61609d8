// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium doctor: what this data directory and this host can do, found by trying.
#include "Cli.h"

#include "vivarium/core/EngineLock.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"
#include "vivarium/sandbox/HostProbe.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

namespace vivarium::cli {

int cmdDoctor(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Print JSON for scripts."));
    p.addOption(json);
    if (auto stop = inv.parse(p,
                              QStringLiteral("Check the data directory, the store and what "
                                             "this host supports. Creates nothing."),
                              0, 0))
        return *stop;

    const Paths paths = inv.paths();
    bool healthy = true;
    QJsonObject report;
    report.insert(QStringLiteral("version"), QStringLiteral(VIVARIUM_VERSION));

    // Data directory
    const QFileInfo dirInfo(paths.dataDir());
    QJsonObject dataDir{{QStringLiteral("path"), paths.dataDir()},
                        {QStringLiteral("exists"), dirInfo.isDir()},
                        {QStringLiteral("writable"), dirInfo.isDir() && dirInfo.isWritable()}};
    report.insert(QStringLiteral("data_dir"), dataDir);

    // Store: opened (and migrated) only if it already exists; doctor creates nothing.
    QJsonObject store{{QStringLiteral("path"), paths.storeFile()},
                      {QStringLiteral("latest_schema"), Store::latestSchemaVersion()}};
    QString secretsSetting = QStringLiteral("auto");
    if (QFileInfo::exists(paths.storeFile())) {
        auto s = Store::open(paths.storeFile());
        if (s)
            secretsSetting = Settings(**s).secretBackend();
        if (!s) {
            healthy = false;
            store.insert(QStringLiteral("error"), s.error().toString());
        } else {
            store.insert(QStringLiteral("schema"), (*s)->schemaVersion());
            store.insert(QStringLiteral("journal_mode"), (*s)->journalMode());
            store.insert(QStringLiteral("sqlite"), (*s)->sqliteVersion());
            auto integrity = (*s)->integrityCheck();
            const bool intact = integrity && *integrity;
            healthy = healthy && intact;
            store.insert(QStringLiteral("integrity"),
                         intact ? QStringLiteral("ok") : QStringLiteral("FAILED"));
            // Loading every current definition doubles as a check that each still validates.
            if (auto agents = (*s)->agents()) {
                store.insert(QStringLiteral("agents"), int(agents->size()));
            } else {
                healthy = false;
                store.insert(QStringLiteral("error"), agents.error().toString());
            }
        }
    } else {
        store.insert(QStringLiteral("schema"), QJsonValue::Null);
    }
    report.insert(QStringLiteral("store"), store);

    // Engine
    const auto holder = EngineLock::holder(paths.lockFile());
    report.insert(QStringLiteral("engine"),
                  QJsonObject{{QStringLiteral("running"), holder.has_value()},
                              {QStringLiteral("pid"), holder ? QJsonValue(double(*holder))
                                                             : QJsonValue(QJsonValue::Null)}});

    // Secrets: which backend and why. The keychain is probed (an entry written, read and
    // deleted); the vault is only inspected, never unlocked or created.
    const SecretBackendDiagnosis sec = SecretStore::diagnose(paths, secretsSetting);
    healthy = healthy && sec.healthy;
    report.insert(QStringLiteral("secrets"),
                  QJsonObject{{QStringLiteral("setting"), sec.setting},
                              {QStringLiteral("backend"), sec.backend},
                              {QStringLiteral("reason"), sec.reason},
                              {QStringLiteral("healthy"), sec.healthy},
                              {QStringLiteral("keychain_service"), sec.keychainService},
                              {QStringLiteral("keychain_probed"), sec.keychainProbed},
                              {QStringLiteral("keychain_answers"), sec.keychainAnswers},
                              {QStringLiteral("keychain_detail"), sec.keychainDetail},
                              {QStringLiteral("vault_file"), sec.vaultFile},
                              {QStringLiteral("vault_exists"), sec.vaultExists},
                              {QStringLiteral("vault_key_source"), sec.vaultKeySource}});

    // Host isolation features
    const QList<HostFeature> features = HostProbe::probe();
    QJsonArray host;
    for (const HostFeature& f : features)
        host << QJsonObject{{QStringLiteral("feature"), f.name},
                            {QStringLiteral("available"), f.available},
                            {QStringLiteral("detail"), f.detail}};
    report.insert(QStringLiteral("host"), host);
    // Sandbox tiers: each one tried for real (docs/sandbox.md).
    const QList<TierSupport> tiers = HostProbe::probeTiers();
    QJsonArray tierList;
    for (const TierSupport& t : tiers)
        tierList << QJsonObject{{QStringLiteral("tier"), sandboxTierName(t.tier)},
                                {QStringLiteral("available"), t.available},
                                {QStringLiteral("detail"), t.detail}};
    report.insert(QStringLiteral("sandbox_tiers"), tierList);
    report.insert(QStringLiteral("healthy"), healthy);

    if (p.isSet(json)) {
        printJson(report);
        return healthy ? ExitOk : ExitFailure;
    }

    QString t;
    auto line = [&t](const QString& k, const QString& v) {
        t += QStringLiteral("%1 %2\n").arg(k, -16).arg(v);
    };
    t += QStringLiteral("Vivarium %1\n").arg(QStringLiteral(VIVARIUM_VERSION));
    line(QStringLiteral("Data directory"),
         paths.dataDir() + (dirInfo.isDir()
                                ? (dirInfo.isWritable() ? QStringLiteral(" (writable)")
                                                        : QStringLiteral(" (NOT writable)"))
                                : QStringLiteral(" (not created yet; made on first use)")));
    if (store.contains(QStringLiteral("error"))) {
        line(QStringLiteral("Store"),
             QStringLiteral("ERROR: ") + store.value(QStringLiteral("error")).toString());
    } else if (store.value(QStringLiteral("schema")).isNull()) {
        line(QStringLiteral("Store"), QStringLiteral("not created yet"));
    } else {
        line(QStringLiteral("Store"),
             QStringLiteral(
                 "%1\n%2 schema %3 of %4, journal %5, SQLite %6, integrity %7, %8 agent(s)")
                 .arg(paths.storeFile(), QString(17, QLatin1Char(' ')))
                 .arg(store.value(QStringLiteral("schema")).toInt())
                 .arg(Store::latestSchemaVersion())
                 .arg(store.value(QStringLiteral("journal_mode")).toString(),
                      store.value(QStringLiteral("sqlite")).toString(),
                      store.value(QStringLiteral("integrity")).toString())
                 .arg(store.value(QStringLiteral("agents")).toInt()));
    }
    line(QStringLiteral("Engine"),
         holder ? QStringLiteral("running (pid %1)").arg(*holder) : QStringLiteral("not running"));
    const QString indent(17, QLatin1Char(' '));
    line(QStringLiteral("Secrets"), (sec.backend.isEmpty() ? QStringLiteral("NONE") : sec.backend) +
                                        QStringLiteral(" (%1)").arg(sec.reason));
    t += indent + QStringLiteral("keychain: %1\n").arg(sec.keychainDetail);
    t += indent +
         QStringLiteral("vault: %1 (%2), %3\n")
             .arg(sec.vaultFile,
                  sec.vaultExists ? QStringLiteral("exists") : QStringLiteral("not created yet"),
                  sec.vaultKeySource);
    t += QStringLiteral("Sandbox tiers (an agent's min_tier is never undercut)\n");
    for (const TierSupport& tier : tiers)
        t += QStringLiteral("  %1 %2 %3\n")
                 .arg(sandboxTierName(tier.tier), -16)
                 .arg(tier.available ? QStringLiteral("yes") : QStringLiteral("no "))
                 .arg(tier.detail);
    t += QStringLiteral("Host isolation features\n");
    for (const HostFeature& f : features)
        t += QStringLiteral("  %1 %2 %3\n")
                 .arg(f.name, -16)
                 .arg(f.available ? QStringLiteral("yes") : QStringLiteral("no "))
                 .arg(f.detail);
    printOut(t);
    return healthy ? ExitOk : ExitFailure;
}

} // namespace vivarium::cli
