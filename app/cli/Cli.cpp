// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Cli.h"

#include <algorithm>

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimeZone>

#include <cstdio>

namespace vivarium::cli {

namespace {

struct CommandSpec
{
    QStringList words;
    QString summary;
    int (*fn)(Invocation&);
};

const QList<CommandSpec>& commands()
{
    static const QList<CommandSpec> list = {
        {{QStringLiteral("serve")},
         QStringLiteral("run the engine (schedules, runs) until stopped"),
         cmdServe},
        {{QStringLiteral("agent"), QStringLiteral("add")},
         QStringLiteral("add or update an agent from a file or directory"),
         cmdAgentAdd},
        {{QStringLiteral("agent"), QStringLiteral("list")},
         QStringLiteral("list agents"),
         cmdAgentList},
        {{QStringLiteral("agent"), QStringLiteral("show")},
         QStringLiteral("show an agent's definition (any version)"),
         cmdAgentShow},
        {{QStringLiteral("agent"), QStringLiteral("versions")},
         QStringLiteral("list an agent's saved versions"),
         cmdAgentVersions},
        {{QStringLiteral("agent"), QStringLiteral("rm")},
         QStringLiteral("remove an agent"),
         cmdAgentRemove},
        {{QStringLiteral("agent"), QStringLiteral("export")},
         QStringLiteral("write an agent as a portable package"),
         cmdAgentExport},
        {{QStringLiteral("runs"), QStringLiteral("list")},
         QStringLiteral("list runs, newest first"),
         cmdRunsList},
        {{QStringLiteral("runs"), QStringLiteral("show")},
         QStringLiteral("show one run"),
         cmdRunsShow},
        {{QStringLiteral("runs"), QStringLiteral("cancel")},
         QStringLiteral("cancel a queued or running run"),
         cmdRunsCancel},
        {{QStringLiteral("run")},
         QStringLiteral("run an agent now and wait for the result"),
         cmdRun},
        {{QStringLiteral("settings"), QStringLiteral("list")},
         QStringLiteral("list settings, their values and defaults"),
         cmdSettingsList},
        {{QStringLiteral("settings"), QStringLiteral("get")},
         QStringLiteral("print a setting"),
         cmdSettingsGet},
        {{QStringLiteral("settings"), QStringLiteral("set")},
         QStringLiteral("change a setting"),
         cmdSettingsSet},
        {{QStringLiteral("settings"), QStringLiteral("unset")},
         QStringLiteral("return a setting to its default"),
         cmdSettingsUnset},
        {{QStringLiteral("model"), QStringLiteral("add")},
         QStringLiteral("add or update a model endpoint (key via --key-stdin)"),
         cmdModelAdd},
        {{QStringLiteral("model"), QStringLiteral("list")},
         QStringLiteral("list model endpoints"),
         cmdModelList},
        {{QStringLiteral("model"), QStringLiteral("rm")},
         QStringLiteral("remove a model endpoint and its key"),
         cmdModelRemove},
        {{QStringLiteral("cron"), QStringLiteral("next")},
         QStringLiteral("print the next fire times of a cron expression"),
         cmdCronNext},
        {{QStringLiteral("cron"), QStringLiteral("explain")},
         QStringLiteral("say a cron expression in words"),
         cmdCronExplain},
        {{QStringLiteral("schedule"), QStringLiteral("add")},
         QStringLiteral("schedule an agent with a cron expression"), cmdScheduleAdd},
        {{QStringLiteral("schedule"), QStringLiteral("list")},
         QStringLiteral("list schedules with their next fire time"), cmdScheduleList},
        {{QStringLiteral("schedule"), QStringLiteral("rm")}, QStringLiteral("remove a schedule"),
         cmdScheduleRemove},
        {{QStringLiteral("schedule"), QStringLiteral("pause")}, QStringLiteral("pause a schedule"),
         cmdSchedulePause},
        {{QStringLiteral("schedule"), QStringLiteral("resume")},
         QStringLiteral("resume a paused schedule"), cmdScheduleResume},
        {{QStringLiteral("connect")},
         QStringLiteral("connect a provider (OAuth sign-in, API key or password)"), cmdConnect},
        {{QStringLiteral("connections"), QStringLiteral("list")},
         QStringLiteral("list connections and their health"), cmdConnectionsList},
        {{QStringLiteral("connections"), QStringLiteral("test")},
         QStringLiteral("check a connection against its provider"), cmdConnectionsTest},
        {{QStringLiteral("connections"), QStringLiteral("refresh")},
         QStringLiteral("refresh an OAuth connection's token now"), cmdConnectionsRefresh},
        {{QStringLiteral("connections"), QStringLiteral("rm")},
         QStringLiteral("revoke and remove a connection"), cmdConnectionsRemove},
        {{QStringLiteral("oauth-app"), QStringLiteral("set")},
         QStringLiteral("set the OAuth app (client ID/secret) of a provider"), cmdOAuthAppSet},
        {{QStringLiteral("oauth-app"), QStringLiteral("list")},
         QStringLiteral("list OAuth providers and their apps"), cmdOAuthAppList},
        {{QStringLiteral("oauth-app"), QStringLiteral("rm")},
         QStringLiteral("forget the OAuth app of a provider"), cmdOAuthAppRemove},
        {{QStringLiteral("audit")}, QStringLiteral("list or --verify the audit trail"), cmdAudit},
        {{QStringLiteral("sandbox"), QStringLiteral("run")},
         QStringLiteral("run a command in an agent's sandbox"),
         cmdSandboxRun},
        {{QStringLiteral("vault"), QStringLiteral("init")},
         QStringLiteral("create the encrypted file vault (key file or passphrase)"), cmdVaultInit},
        {{QStringLiteral("vault"), QStringLiteral("status")},
         QStringLiteral("which secrets backend is in use and why; vault details"), cmdVaultStatus},
        {{QStringLiteral("vault"), QStringLiteral("rotate")},
         QStringLiteral("re-encrypt the vault under a new key or passphrase"), cmdVaultRotate},
        {{QStringLiteral("api-key"), QStringLiteral("create")},
         QStringLiteral("create an HTTP API key (printed once)"), cmdApiKeyCreate},
        {{QStringLiteral("api-key"), QStringLiteral("list")},
         QStringLiteral("list HTTP API keys"), cmdApiKeyList},
        {{QStringLiteral("api-key"), QStringLiteral("revoke")},
         QStringLiteral("revoke an HTTP API key"), cmdApiKeyRevoke},
        {{QStringLiteral("doctor")},
         QStringLiteral("check the data directory, store and host sandbox support"),
         cmdDoctor},
    };
    return list;
}

QString globalUsage()
{
    QString text = QStringLiteral(
        "Usage: vivarium [--data-dir DIR] COMMAND [ARGS]\n\n"
        "Vivarium runs LLM agents with real tools, on schedules, sandboxed.\n\nCommands:\n");
    // The widest command name sets the column, so a long one never runs into its summary.
    qsizetype width = 0;
    for (const CommandSpec& c : commands())
        width = std::max(width, c.words.join(QLatin1Char(' ')).size());
    for (const CommandSpec& c : commands())
        text += QStringLiteral("  %1  %2\n")
                    .arg(c.words.join(QLatin1Char(' ')), -int(width))
                    .arg(c.summary);
    text += QStringLiteral(
        "\nGlobal options:\n"
        "  --data-dir DIR    data directory (default: $VIVARIUM_DATA_DIR, else\n"
        "                    the platform app-data directory, ~/.local/share/vivarium)\n"
        "  -h, --help        help for vivarium or for a command (vivarium agent add --help)\n"
        "  --version         print the version\n\n"
        "Exit codes: 0 ok, 1 failure, 2 usage or validation error; `run`: 0 succeeded,\n"
        "1 failed, 3 timed out, cancelled or interrupted.\n");
    return text;
}

bool takesValue(const QString& arg)
{
    // Global options that consume the next argument, so it is not mistaken for a command word.
    return arg == QLatin1String("--data-dir");
}

} // namespace

Invocation::Invocation(QStringList commandWords, QStringList args)
    : m_words(std::move(commandWords))
    , m_args(std::move(args))
{}

std::optional<int> Invocation::parse(QCommandLineParser& parser, const QString& description,
                                     int minPositional, int maxPositional)
{
    parser.setApplicationDescription(description);
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption dataDir(QStringLiteral("data-dir"),
                                     QStringLiteral("Data directory (default: $VIVARIUM_DATA_DIR "
                                                    "or the platform app-data path)."),
                                     QStringLiteral("DIR"));
    parser.addOption(dataDir);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    parser.addOption(help);

    QStringList argv = m_args;
    argv.prepend(QStringLiteral("vivarium ") + commandName());
    if (!parser.parse(argv))
        return usageError(commandName(), parser.errorText());
    if (parser.isSet(help)) {
        QString text = parser.helpText();
        // Qt prints "Usage: <argv0> [options]": make argv0 the command the user typed.
        printOut(text);
        return ExitOk;
    }
    const qsizetype n = parser.positionalArguments().size();
    if (n < minPositional)
        return usageError(commandName(), QStringLiteral("missing argument (see --help)"));
    if (maxPositional >= 0 && n > maxPositional)
        return usageError(commandName(), QStringLiteral("unexpected argument \"%1\"")
                                             .arg(parser.positionalArguments().at(maxPositional)));
    m_dataDir = parser.value(dataDir);
    return std::nullopt;
}

Paths Invocation::paths() const
{
    return Paths(Paths::resolveDataDir(m_dataDir));
}

Result<std::unique_ptr<Store>> Invocation::openStore() const
{
    const Paths p = paths();
    if (auto ok = Paths::ensurePrivateDir(p.dataDir()); !ok)
        return std::unexpected(ok.error());
    return Store::open(p.storeFile());
}

int exitCodeFor(const Error& error)
{
    switch (error.code) {
    case Error::Code::Validation:
    case Error::Code::Parse:
        return ExitUsage;
    default:
        return ExitFailure;
    }
}

int reportError(const Error& error, const QString& context)
{
    QString line = QStringLiteral("vivarium: ");
    if (!context.isEmpty())
        line += context + QStringLiteral(": ");
    line += error.message;
    printErr(line);
    for (const QString& d : error.details)
        printErr(QStringLiteral("  ") + d);
    return exitCodeFor(error);
}

int usageError(const QString& command, const QString& message)
{
    printErr(QStringLiteral("vivarium %1: %2").arg(command, message));
    return ExitUsage;
}

const QCommandLineOption& jsonOption()
{
    static const QCommandLineOption o(QStringLiteral("json"),
                                      QStringLiteral("Print JSON for scripts."));
    return o;
}

void printOut(const QString& text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    if (!text.endsWith(QLatin1Char('\n')))
        std::fputc('\n', stdout);
}

void printErr(const QString& text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    if (!text.endsWith(QLatin1Char('\n')))
        std::fputc('\n', stderr);
}

void printJson(const QJsonValue& value)
{
    QJsonDocument doc =
        value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
    printOut(QString::fromUtf8(doc.toJson(QJsonDocument::Indented)));
}

QString humanTime(const QDateTime& t)
{
    if (!t.isValid())
        return {};
    return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QJsonValue jsonTime(const QDateTime& t)
{
    if (!t.isValid())
        return QJsonValue::Null;
    return t.toUTC().toString(Qt::ISODateWithMs);
}

int runCommand(const QStringList& words, const QStringList& args)
{
    for (const CommandSpec& c : commands()) {
        if (c.words == words) {
            Invocation inv(words, args);
            return c.fn(inv);
        }
    }
    if (words.size() == 1) {
        // A group without its subcommand: list what the group offers.
        QStringList subs;
        for (const CommandSpec& c : commands())
            if (c.words.size() == 2 && c.words.first() == words.first())
                subs << c.words.last();
        if (!subs.isEmpty())
            return usageError(words.first(), QStringLiteral("missing subcommand (one of: %1)")
                                                 .arg(subs.join(QStringLiteral(", "))));
    }
    return usageError(words.join(QLatin1Char(' ')),
                      QStringLiteral("unknown command (see vivarium --help)"));
}

int run(int argc, char** argv)
{
    QStringList all;
    for (int i = 1; i < argc; ++i)
        all << QString::fromLocal8Bit(argv[i]);

    // Find the command words (first one or two non-option arguments); everything else,
    // global options included, goes to the command's own parser.
    QStringList words;
    QStringList rest;
    bool groupExpectsSub = false;
    for (qsizetype i = 0; i < all.size(); ++i) {
        const QString& a = all.at(i);
        if (a == QLatin1String("--")) {
            rest += all.mid(i);
            break;
        }
        const bool wantWord = words.isEmpty() || (groupExpectsSub && words.size() == 1);
        if (wantWord && !a.startsWith(QLatin1Char('-'))) {
            words << a;
            groupExpectsSub = false;
            for (const CommandSpec& c : commands())
                if (c.words.size() == 2 && c.words.first() == a && words.size() == 1)
                    groupExpectsSub = true;
            continue;
        }
        rest << a;
        if (takesValue(a) && i + 1 < all.size())
            rest << all.at(++i);
    }

    if (words.isEmpty()) {
        if (rest.contains(QStringLiteral("--version")) || rest.contains(QStringLiteral("-V"))) {
            printOut(QStringLiteral("vivarium %1").arg(QStringLiteral(VIVARIUM_VERSION)));
            return ExitOk;
        }
        if (rest.contains(QStringLiteral("--help")) || rest.contains(QStringLiteral("-h"))) {
            printOut(globalUsage());
            return ExitOk;
        }
        printErr(globalUsage());
        return ExitUsage;
    }
    // Commands print what matters themselves; the engine's info log belongs to `serve` only.
    // QT_LOGGING_RULES still overrides this for debugging.
    if (words != QStringList{QStringLiteral("serve")} &&
        qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.info=false"));
    installVaultPassphrasePrompt();
    return runCommand(words, rest);
}

} // namespace vivarium::cli
