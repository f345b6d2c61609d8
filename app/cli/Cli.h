// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/Store.h"

#include <QCommandLineParser>
#include <QJsonValue>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace vivarium::cli {

/** Exit codes every command uses (README "Exit codes"). */
enum ExitCode : int {
    ExitOk = 0,
    ExitFailure = 1,
    ExitUsage = 2, ///< bad arguments or invalid input (validation)
    ExitRunDidNotFinish = 3,
};

/** What a command gets: its own arguments and shared helpers. */
class Invocation
{
public:
    Invocation(QStringList commandWords, QStringList args);

    /** e.g. "agent add": used in usage and error lines. */
    QString commandName() const { return m_words.join(QLatin1Char(' ')); }

    /**
     * Parse this command's arguments. Adds --data-dir and --help. Returns an exit code when the
     * command must stop now (help printed: 0; usage error printed: 2).
     */
    std::optional<int> parse(QCommandLineParser& parser, const QString& description,
                             int minPositional, int maxPositional);

    /** The data directory chosen by --data-dir / VIVARIUM_DATA_DIR / the platform default. */
    Paths paths() const;
    /**
     * Open (creating and migrating if needed) the store of the data directory. Works beside a
     * running engine: SQLite in WAL mode lets the CLI and `serve` share the file.
     */
    Result<std::unique_ptr<Store>> openStore() const;

private:
    QStringList m_words;
    QStringList m_args;
    QString m_dataDir;
};

/** Print "vivarium: <message>" (and each detail) to stderr; returns the exit code for it. */
int reportError(const Error& error, const QString& context = {});
/** Exit code for an error: validation and parse problems are usage errors (2), others 1. */
int exitCodeFor(const Error& error);
/** Print a usage problem and return ExitUsage. */
int usageError(const QString& command, const QString& message);

/** The `--json` option every listing and show command offers. */
const QCommandLineOption& jsonOption();

void printOut(const QString& text);
void printErr(const QString& text);
/** Pretty JSON to stdout, one trailing newline. */
void printJson(const QJsonValue& value);

/** Timestamps for humans: local time, to the second. Empty for an invalid date. */
QString humanTime(const QDateTime& t);
/** Timestamps for scripts: ISO 8601 UTC with milliseconds, or null. */
QJsonValue jsonTime(const QDateTime& t);

int runCommand(const QStringList& words, const QStringList& args);

// Commands, one function each (AgentCommands.cpp, RunCommands.cpp, ...).
int cmdServe(Invocation& inv);
int cmdDoctor(Invocation& inv);
int cmdAgentAdd(Invocation& inv);
int cmdAgentList(Invocation& inv);
int cmdAgentShow(Invocation& inv);
int cmdAgentVersions(Invocation& inv);
int cmdAgentRemove(Invocation& inv);
int cmdAgentExport(Invocation& inv);
int cmdRunsList(Invocation& inv);
int cmdRunsShow(Invocation& inv);
int cmdRunsCancel(Invocation& inv);
int cmdRun(Invocation& inv);
int cmdModelAdd(Invocation& inv);
int cmdModelList(Invocation& inv);
int cmdModelRemove(Invocation& inv);
int cmdAudit(Invocation& inv);
int cmdSandboxRun(Invocation& inv);
int cmdCronNext(Invocation& inv);
int cmdCronExplain(Invocation& inv);
int cmdScheduleAdd(Invocation& inv);
int cmdScheduleList(Invocation& inv);
int cmdScheduleRemove(Invocation& inv);
int cmdSchedulePause(Invocation& inv);
int cmdScheduleResume(Invocation& inv);
int cmdApiKeyCreate(Invocation& inv);
int cmdApiKeyList(Invocation& inv);
int cmdApiKeyRevoke(Invocation& inv);
int cmdConnect(Invocation& inv); // ConnectCommands.cpp
int cmdConnectionsList(Invocation& inv);
int cmdConnectionsTest(Invocation& inv);
int cmdConnectionsRefresh(Invocation& inv);
int cmdConnectionsRemove(Invocation& inv);
int cmdOAuthAppSet(Invocation& inv);
int cmdOAuthAppList(Invocation& inv);
int cmdOAuthAppRemove(Invocation& inv);
int cmdSettingsList(Invocation& inv);
int cmdSettingsGet(Invocation& inv);
int cmdSettingsSet(Invocation& inv);
int cmdSettingsUnset(Invocation& inv);
int cmdVaultInit(Invocation& inv); // VaultCommands.cpp
int cmdVaultStatus(Invocation& inv);
int cmdVaultRotate(Invocation& inv);
/** Lets a passphrase vault ask at the terminal (no echo); called once before any command. */
void installVaultPassphrasePrompt();

/** Entry point used by main(): dispatches argv to a command. */
int run(int argc, char** argv);

} // namespace vivarium::cli
