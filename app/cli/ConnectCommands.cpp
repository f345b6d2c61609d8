// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium connect, connections list|test|refresh|rm, oauth-app set|list|rm (docs/connections.md).
// Secret values are read from stdin or a no-echo prompt and go to the SecretStore only; nothing
// here prints one.
#include "Cli.h"
#include "SecretInput.h"
#include "TextTable.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/ConnectionSetup.h"
#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/OAuthClient.h"
#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"
#include "vivarium/sandbox/ProviderCalls.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QSocketNotifier>
#include <QUrl>

#include <cstdio>
#include <unistd.h>
#include <utility>

namespace vivarium::cli {

namespace {

/** What every connection command opens. */
struct Context
{
    std::unique_ptr<Store> store;
    std::unique_ptr<SecretStore> secrets;
    ProviderCatalog catalog;
    QString dataDir;

    ConnectionTokens tokens() { return ConnectionTokens(*store, *secrets, dataDir); }
};

Result<Context> openContext(const Invocation& inv, bool withSecrets = true)
{
    Context c;
    auto store = inv.openStore();
    if (!store)
        return std::unexpected(store.error());
    c.store = std::move(*store);
    c.dataDir = inv.paths().dataDir();
    if (withSecrets) {
        auto secrets = SecretStore::openDefault(inv.paths());
        if (!secrets)
            return std::unexpected(secrets.error());
        c.secrets = std::move(*secrets);
    }
    c.catalog = ProviderCatalog::load(c.dataDir + QStringLiteral("/providers"));
    return c;
}

QString authName(ProviderAuth::Kind kind)
{
    return connection_setup::authName(kind);
}

QJsonObject connectionJson(const ConnectionRecord& c)
{
    return QJsonObject{{QStringLiteral("name"), c.name},
                       {QStringLiteral("provider"), c.provider},
                       {QStringLiteral("auth"), c.auth},
                       {QStringLiteral("account"), c.account},
                       {QStringLiteral("scopes"), QJsonArray::fromStringList(c.scopes)},
                       {QStringLiteral("status"), c.status},
                       {QStringLiteral("status_reason"),
                        c.statusReason.isEmpty() ? QJsonValue() : QJsonValue(c.statusReason)},
                       {QStringLiteral("expires_at"), jsonTime(c.expiresAt)},
                       {QStringLiteral("checked_at"), jsonTime(c.checkedAt)},
                       {QStringLiteral("meta"), c.meta},
                       {QStringLiteral("created_at"), jsonTime(c.createdAt)},
                       {QStringLiteral("updated_at"), jsonTime(c.updatedAt)}};
}

QString inWords(qint64 seconds)
{
    return connection_setup::durationInWords(seconds);
}

// --- the browser and stdin ----------------------------------------------------------------

bool hasDisplay()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY") ||
           !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
}

/**
 * Open `url` in the user's browser: $BROWSER when set (the common convention, first entry of
 * a colon list, `%s` replaced by the URL), else xdg-open (open on macOS) when a display is
 * present. Never Qt Gui: the headless binary must not link it.
 */
bool openBrowser(const QString& url)
{
    QString browser = qEnvironmentVariable("BROWSER").section(QLatin1Char(':'), 0, 0).trimmed();
    QStringList args;
    if (browser.isEmpty()) {
        if (!hasDisplay())
            return false;
#ifdef Q_OS_MACOS
        browser = QStringLiteral("open");
#else
        browser = QStringLiteral("xdg-open");
#endif
    }
    args = QProcess::splitCommand(browser);
    if (args.isEmpty())
        return false;
    const QString program = args.takeFirst();
    bool substituted = false;
    for (QString& a : args) {
        if (a.contains(QLatin1String("%s"))) {
            a.replace(QLatin1String("%s"), url);
            substituted = true;
        }
    }
    if (!substituted)
        args << url;
    QProcess p;
    p.setProgram(program);
    p.setArguments(args);
    p.setStandardInputFile(QProcess::nullDevice());
    return p.startDetached();
}

/** Lines typed or piped on stdin, delivered through the event loop. */
class StdinLines
{
public:
    explicit StdinLines(std::function<void(const QString&)> onLine)
        : m_onLine(std::move(onLine))
        , m_notifier(STDIN_FILENO, QSocketNotifier::Read)
    {
        QObject::connect(&m_notifier, &QSocketNotifier::activated, &m_notifier,
                         [this] { readSome(); });
    }

private:
    void readSome()
    {
        char buf[4096];
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) {
            m_notifier.setEnabled(false); // EOF (or an error): nothing more will come
            if (!m_buffer.trimmed().isEmpty())
                m_onLine(QString::fromUtf8(std::exchange(m_buffer, {})).trimmed());
            return;
        }
        m_buffer.append(buf, n);
        if (m_buffer.size() > 64 * 1024)
            m_buffer = m_buffer.right(64 * 1024);
        for (qsizetype nl = m_buffer.indexOf('\n'); nl >= 0; nl = m_buffer.indexOf('\n')) {
            const QString line = QString::fromUtf8(m_buffer.left(nl)).trimmed();
            m_buffer.remove(0, nl + 1);
            if (!line.isEmpty())
                m_onLine(line);
        }
    }

    std::function<void(const QString&)> m_onLine;
    QSocketNotifier m_notifier;
    QByteArray m_buffer;
};

// --- OAuth flows --------------------------------------------------------------------------

/**
 * The authorization code flow with PKCE through a loopback redirect (RFC 8252), or a redirect
 * URL pasted on stdin when the browser runs on another machine (core's AuthorizationCodeFlow,
 * which the desktop app's wizard uses too). `finish` stores the tokens; the browser's page
 * tells the outcome of the whole thing.
 */
OAuthResult<QString> codeFlow(const OAuthClient& client, const ProviderManifest& m,
                              const QStringList& scopes, bool tryBrowser, int timeoutS,
                              const std::function<Result<QString>(TokenSet&)>& finish)
{
    AuthorizationCodeFlow flow(client, m.name, finish);
    auto begun = flow.start(scopes);
    if (!begun)
        return std::unexpected(begun.error());

    const QString url = begun->toString(QUrl::FullyEncoded);
    const bool opened = tryBrowser && openBrowser(url);
    printErr(QStringLiteral("To connect %1, %2:\n\n  %3\n")
                 .arg(m.name,
                      opened ? QStringLiteral("sign in in the browser window that opened (or "
                                              "open this URL yourself)")
                             : QStringLiteral("open this URL in a browser and sign in"),
                      url));
    printErr(QStringLiteral("Waiting for the redirect to %1 (up to %2). If the browser runs on "
                            "another machine and cannot reach it, paste the address it ended "
                            "on here and press Enter:")
                 .arg(flow.redirectUri(), inWords(timeoutS)));

    bool pasted = false;
    StdinLines stdinLines([&](const QString& line) {
        if (pasted)
            return;
        // A paste that is not a redirect at all gets another chance; anything else ends it.
        if (!AuthorizationCodeFlow::looksLikeRedirect(line)) {
            printErr(QStringLiteral("vivarium: that is not the redirect address (it needs "
                                    "?code=...&state=...); paste the whole address from the "
                                    "browser's address bar"));
            return;
        }
        pasted = true;
        flow.completeWith(line);
    });
    return flow.wait(timeoutS);
}

/** RFC 8628: show the code, poll until approved. */
OAuthResult<QString> deviceFlow(const OAuthClient& client, const ProviderManifest& m,
                                const QStringList& scopes, bool tryBrowser,
                                const std::function<Result<QString>(TokenSet&)>& finish)
{
    auto device = client.startDeviceAuthorization(scopes);
    if (!device)
        return std::unexpected(device.error());
    auto wipeDevice = qScopeGuard([&] { device->deviceCode.fill('\0'); });
    const QString complete = device->verificationUriComplete;
    const bool opened = tryBrowser && !complete.isEmpty() && openBrowser(complete);
    QString text = QStringLiteral("To connect %1, open %2 on any device and enter the code:\n\n"
                                  "  %3\n")
                       .arg(m.name, device->verificationUri, device->userCode);
    if (!complete.isEmpty())
        text += QStringLiteral("\n(or open %1%2)\n")
                    .arg(complete, opened ? QStringLiteral(", already opened here") : QString());
    text += QStringLiteral("Waiting for approval (the code expires in %1)...")
                .arg(inWords(QDateTime::currentDateTimeUtc().secsTo(device->expiresAt)));
    printErr(text);
    auto tokens = client.waitForDeviceToken(*device, scopes, [](const QString& note) {
        printErr(QStringLiteral("vivarium: %1").arg(note));
    });
    if (!tokens)
        return std::unexpected(tokens.error());
    auto summary = finish(*tokens);
    tokens->wipe();
    if (!summary) {
        OAuthError e;
        e.kind = OAuthError::Kind::Config;
        e.message = summary.error().message;
        return std::unexpected(e);
    }
    return *summary;
}

// --- connect ------------------------------------------------------------------------------

/** One line from stdin (echoed: not a secret), or from a prompt on a terminal. */
QString readPlainLine(const QString& label)
{
    if (stdinIsTerminal()) {
        std::fputs(label.toLocal8Bit().constData(), stderr);
        std::fflush(stderr);
    }
    QByteArray line;
    for (int c = std::fgetc(stdin); c != EOF && c != '\n'; c = std::fgetc(stdin))
        if (line.size() < 4096)
            line.append(char(c));
    return QString::fromUtf8(line).trimmed();
}

/**
 * The connection's non-secret fields: the manifest's connection_fields and, where the
 * manifest lets the connection name its key header, api_key_in/name/prefix. From --field
 * KEY=VALUE, else a prompt on a terminal. Every problem at once.
 */
Result<QJsonObject> connectionFields(const ProviderManifest& m, const QStringList& given)
{
    QStringList allowed;
    for (const ConnectionField& f : m.connectionFields)
        allowed << f.name;
    if (m.auth.kind == ProviderAuth::Kind::ApiKey && m.auth.apiKeyConfigurable)
        allowed << QStringLiteral("api_key_in") << QStringLiteral("api_key_name")
                << QStringLiteral("api_key_prefix");
    QJsonObject meta;
    QStringList problems;
    for (const QString& kv : given) {
        const qsizetype eq = kv.indexOf(QLatin1Char('='));
        const QString key = kv.left(eq).trimmed();
        if (eq <= 0 || !allowed.contains(key)) {
            problems << QStringLiteral("--field %1: %2 takes %3")
                            .arg(kv, m.id,
                                 allowed.isEmpty() ? QStringLiteral("no fields")
                                                   : QStringLiteral("KEY=VALUE with KEY one of ") +
                                                         allowed.join(QStringLiteral(", ")));
            continue;
        }
        meta.insert(key, kv.mid(eq + 1));
    }
    for (const ConnectionField& f : m.connectionFields) {
        if (meta.contains(f.name) || !f.required)
            continue;
        if (stdinIsTerminal()) {
            const QString v = readPlainLine(QStringLiteral("%1 (%2): ").arg(f.name, f.description));
            if (!v.isEmpty()) {
                meta.insert(f.name, v);
                continue;
            }
        }
        problems << QStringLiteral("missing --field %1=VALUE: %2").arg(f.name, f.description);
    }
    if (const QString in = meta.value(QStringLiteral("api_key_in")).toString();
        meta.contains(QStringLiteral("api_key_in")) && in != QLatin1String("header") &&
        in != QLatin1String("query"))
        problems << QStringLiteral("--field api_key_in=%1: expected header or query").arg(in);
    if (!problems.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("%1 needs connection fields").arg(m.id),
                    problems);
    if (!m.connectionFields.isEmpty()) {
        if (auto url = ProviderCatalog::resolveBaseUrl(m, meta); !url)
            return std::unexpected(url.error());
    }
    return meta;
}

/** The answer of a successful connect, in text or JSON. */
int printConnected(const ConnectionRecord& c, bool json, const QString& extra = {})
{
    if (json) {
        printJson(connectionJson(c));
        return ExitOk;
    }
    QString line = QStringLiteral("Connected %1 as connection \"%2\"").arg(c.provider, c.name);
    if (!c.account.isEmpty())
        line += QStringLiteral(" (%1)").arg(c.account);
    if (!c.scopes.isEmpty())
        line += QStringLiteral("; scopes: %1").arg(c.scopes.join(QLatin1Char(' ')));
    if (c.expiresAt.isValid())
        line += QStringLiteral("; token valid for %1, refreshed automatically")
                    .arg(inWords(QDateTime::currentDateTimeUtc().secsTo(c.expiresAt)));
    if (!extra.isEmpty())
        line += QStringLiteral("; ") + extra;
    printOut(line);
    return ExitOk;
}

int connectOAuth(const Invocation& inv, Context& ctx, const ProviderManifest& m,
                 ConnectionRecord record, bool device, bool noBrowser, int timeoutS, bool json)
{
    auto identity = ConnectionTokens::clientIdentity(*ctx.store, *ctx.secrets, m);
    if (!identity)
        return reportError(identity.error(), inv.commandName());
    record.meta.insert(QStringLiteral("client_id"), identity->clientId);
    record.meta.insert(QStringLiteral("flow"), device ? QStringLiteral("device_code")
                                                      : QStringLiteral("authorization_code"));
    OAuthClient client(m.auth.oauth2, std::move(*identity));
    const QStringList scopes = record.scopes;

    auto finish = [&](TokenSet& tokens) -> Result<QString> {
        QString warning;
        record.account = connection_setup::account(client, m, tokens.accessToken, &warning);
        if (!warning.isEmpty())
            printErr(QStringLiteral("vivarium: warning: %1").arg(warning));
        if (auto s = ctx.tokens().saveGrant(record, tokens); !s)
            return std::unexpected(s.error());
        return record.account.isEmpty() ? QStringLiteral("You can close this tab.")
                                        : QStringLiteral("Signed in as %1.").arg(record.account);
    };
    const bool tryBrowser = !noBrowser;
    auto done = device ? deviceFlow(client, m, scopes, tryBrowser, finish)
                       : codeFlow(client, m, scopes, tryBrowser, timeoutS, finish);
    if (!done)
        return reportError(done.error().toError(), QStringLiteral("connect %1").arg(m.id));
    auto saved = ctx.store->connection(record.name);
    if (!saved)
        return reportError(saved.error());
    return printConnected(*saved, json);
}

int connectWithSecret(const Invocation& inv, Context& ctx, const ProviderManifest& m,
                      ConnectionRecord record, const QString& user, bool json)
{
    if (stdinIsTerminal() && !m.auth.setupUrl.isEmpty())
        printErr(QStringLiteral("Get one at %1").arg(m.auth.setupUrl));
    QByteArray secret;
    QString name = user;
    if (m.auth.kind == ProviderAuth::Kind::ApiKey) {
        auto key = readSecretLine(QStringLiteral("API key for %1: ").arg(m.name));
        if (!key)
            return reportError(key.error(), inv.commandName());
        secret = std::move(*key);
    } else {
        if (name.isEmpty()) {
            if (!stdinIsTerminal())
                return usageError(inv.commandName(),
                                  QStringLiteral("--user is required when the password comes "
                                                 "from standard input"));
            name = readPlainLine(QStringLiteral("User name for %1: ").arg(m.name));
        }
        if (auto ok = connection_setup::checkBasicUser(name); !ok)
            return usageError(inv.commandName(), ok.error().message);
        auto password = readSecretLine(QStringLiteral("Password for %1: ").arg(name));
        if (!password)
            return reportError(password.error(), inv.commandName());
        secret = std::move(*password);
    }
    auto tokens = ctx.tokens();
    if (auto s = connection_setup::saveSecret(tokens, m, record, name, secret); !s)
        return reportError(s.error(), inv.commandName());
    auto saved = ctx.store->connection(record.name);
    if (!saved)
        return reportError(saved.error());
    if (json) {
        printJson(connectionJson(*saved));
        return ExitOk;
    }
    printOut(QStringLiteral("Saved connection \"%1\" to %2 (%3 in the vault; check it with "
                            "`vivarium connections test %1`)")
                 .arg(record.name, m.id,
                      m.auth.kind == ProviderAuth::Kind::ApiKey ? QStringLiteral("key")
                                                                : QStringLiteral("password")));
    return ExitOk;
}

Result<ProviderManifest> findProvider(const Context& ctx, const QString& id)
{
    auto m = ctx.catalog.find(id);
    if (!m && !ctx.catalog.problems().isEmpty()) {
        Error e = m.error();
        e.details << ctx.catalog.problems();
        return std::unexpected(e);
    }
    return m;
}

} // namespace

int cmdConnect(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("PROVIDER"),
                            QStringLiteral("provider id (see the provider catalog)"));
    const QCommandLineOption name(QStringLiteral("name"),
                                  QStringLiteral("Connection name agents use (default: the "
                                                 "provider id)."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption noBrowser(QStringLiteral("no-browser"),
                                       QStringLiteral("OAuth: do not open a browser; print the "
                                                      "URL and wait for the redirect or a "
                                                      "pasted redirect address."));
    const QCommandLineOption device(QStringLiteral("device"),
                                    QStringLiteral("OAuth: use the device flow (a code to enter "
                                                   "on another device), where the provider "
                                                   "has one."));
    const QCommandLineOption scope(QStringLiteral("scope"),
                                   QStringLiteral("OAuth scope to request instead of the "
                                                  "provider's defaults (repeatable)."),
                                   QStringLiteral("SCOPE"));
    const QCommandLineOption field(QStringLiteral("field"),
                                   QStringLiteral("A connection field the provider asks for "
                                                  "(repeatable), e.g. base_url=https://..."),
                                   QStringLiteral("KEY=VALUE"));
    const QCommandLineOption user(QStringLiteral("user"),
                                  QStringLiteral("basic: the user name (the password is read "
                                                 "from stdin or a prompt)."),
                                  QStringLiteral("USER"));
    const QCommandLineOption timeout(QStringLiteral("timeout"),
                                     QStringLiteral("OAuth: seconds to wait for the sign-in "
                                                    "(default 300)."),
                                     QStringLiteral("SECONDS"));
    for (const auto* o :
         {&name, &noBrowser, &device, &scope, &field, &user, &timeout, &jsonOption()})
        p.addOption(*o);
    if (auto stop = inv.parse(p,
                              QStringLiteral("Connect a provider: OAuth sign-in in the browser "
                                             "(or a device code), or an API key / password "
                                             "read from stdin or a no-echo prompt."),
                              1, 1))
        return *stop;
    const QString providerId = p.positionalArguments().first();
    const QString connName = p.isSet(name) ? p.value(name) : providerId;
    if (auto ok = connection_setup::checkName(connName); !ok)
        return usageError(inv.commandName(), ok.error().message);
    int timeoutS = 300;
    if (p.isSet(timeout)) {
        bool ok = false;
        timeoutS = p.value(timeout).toInt(&ok);
        if (!ok || timeoutS < 1 || timeoutS > 3600)
            return usageError(inv.commandName(),
                              QStringLiteral("--timeout must be 1 to 3600 seconds"));
    }
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    auto m = findProvider(*ctx, providerId);
    if (!m)
        return reportError(m.error(), inv.commandName());
    if (auto existing = ctx->store->connection(connName); existing && existing->provider != m->id)
        return reportError(Error::make(Error::Code::Conflict,
                                       QStringLiteral("connection \"%1\" already exists for "
                                                      "provider %2; remove it first or choose "
                                                      "another --name")
                                           .arg(connName, existing->provider)),
                           inv.commandName());

    const bool isOAuth = m->auth.kind == ProviderAuth::Kind::OAuth2;
    if (!isOAuth && (p.isSet(device) || p.isSet(noBrowser) || p.isSet(scope)))
        return usageError(inv.commandName(),
                          QStringLiteral("--device, --no-browser and --scope are for OAuth "
                                         "providers; %1 uses %2")
                              .arg(m->id, authName(m->auth.kind)));
    if (p.isSet(user) && m->auth.kind != ProviderAuth::Kind::Basic)
        return usageError(inv.commandName(),
                          QStringLiteral("--user is for providers with basic auth"));
    auto meta = connectionFields(*m, p.values(field));
    if (!meta)
        return reportError(meta.error(), inv.commandName());

    QStringList scopes;
    for (const QString& s : p.values(scope))
        scopes << s.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    ConnectionRecord record = connection_setup::newRecord(*m, connName, *meta, scopes);
    if (isOAuth) {
        const bool hasDevice = !m->auth.oauth2.deviceAuthorizationEndpoint.isEmpty();
        if (p.isSet(device) && !hasDevice)
            return usageError(inv.commandName(),
                              QStringLiteral("--device: %1 has no device authorization "
                                             "endpoint; use --no-browser and paste the "
                                             "redirect address instead")
                                  .arg(m->id));
        // No way to open a browser here and none asked for: the device flow fits best.
        const bool headless = qEnvironmentVariableIsEmpty("BROWSER") && !hasDisplay();
        const bool useDevice = p.isSet(device) || (headless && hasDevice && !p.isSet(noBrowser));
        return connectOAuth(inv, *ctx, *m, record, useDevice, p.isSet(noBrowser), timeoutS,
                            p.isSet(jsonOption()));
    }
    if (m->auth.kind == ProviderAuth::Kind::None) {
        record.status = QStringLiteral("untested");
        if (auto s = ctx->store->saveConnection(record); !s)
            return reportError(s.error(), inv.commandName());
        auto saved = ctx->store->connection(record.name);
        if (!saved)
            return reportError(saved.error());
        return printConnected(*saved, p.isSet(jsonOption()),
                              QStringLiteral("no credential needed"));
    }
    return connectWithSecret(inv, *ctx, *m, record, p.value(user), p.isSet(jsonOption()));
}

int cmdConnectionsList(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p,
                              QStringLiteral("List connections: metadata and health only (secret "
                                             "values are never shown)."),
                              0, 0))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto list = (*store)->connections();
    if (!list)
        return reportError(list.error());
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const ConnectionRecord& c : *list)
            arr << connectionJson(c);
        printJson(arr);
        return ExitOk;
    }
    if (list->isEmpty()) {
        printOut(QStringLiteral("No connections yet. Add one with: vivarium connect PROVIDER"));
        return ExitOk;
    }
    TextTable t({QStringLiteral("NAME"), QStringLiteral("PROVIDER"), QStringLiteral("AUTH"),
                 QStringLiteral("ACCOUNT"), QStringLiteral("STATUS"), QStringLiteral("EXPIRES"),
                 QStringLiteral("CHECKED")});
    QStringList reasons;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const ConnectionRecord& c : *list) {
        t.addRow({c.name, c.provider, c.auth, c.account.isEmpty() ? QStringLiteral("-") : c.account,
                  c.status,
                  c.expiresAt.isValid()
                      ? QStringLiteral("in %1").arg(inWords(now.secsTo(c.expiresAt)))
                      : QStringLiteral("-"),
                  c.checkedAt.isValid() ? humanTime(c.checkedAt) : QStringLiteral("never")});
        if (!c.statusReason.isEmpty())
            reasons << QStringLiteral("  %1: %2").arg(c.name, c.statusReason);
    }
    printOut(t.render(40));
    if (!reasons.isEmpty())
        printOut(reasons.join(QLatin1Char('\n')));
    return ExitOk;
}

int cmdConnectionsTest(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("connection name"));
    const QCommandLineOption allowLocal(
        QStringLiteral("allow-local"),
        QStringLiteral("Let the provider's own endpoint be a local address (development "
                       "servers on 127.0.0.1); the broker refuses local addresses otherwise."));
    p.addOption(allowLocal);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p,
                              QStringLiteral("Call the provider's health-check operation with the "
                                             "connection's credential and record the outcome."),
                              1, 1))
        return *stop;
    const QString name = p.positionalArguments().first();
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    auto record = ctx->store->connection(name);
    if (!record)
        return reportError(record.error());
    auto m = findProvider(*ctx, record->provider);
    if (!m)
        return reportError(m.error(), inv.commandName());

    ProviderCallOptions options;
    if (p.isSet(allowLocal)) {
        if (auto base = ProviderCatalog::resolveBaseUrl(*m, record->meta)) {
            const QUrl u(*base);
            options.localEndpoints << QStringLiteral("%1:%2").arg(
                u.host(), QString::number(u.port(u.scheme() == QLatin1String("https") ? 443 : 80)));
        }
    }
    const bool oauth = record->auth == QLatin1String("oauth2");
    auto refreshIfDue = [&](bool force) -> std::optional<int> {
        ConnectionTokens::RefreshOptions how;
        how.force = force;
        const RefreshOutcome out = ctx->tokens().refresh(*m, name, how);
        if (out.kind == RefreshOutcome::Kind::NeedsReconnect) {
            printErr(QStringLiteral("vivarium: %1: %2").arg(name, out.message));
            return ExitFailure;
        }
        if (out.kind == RefreshOutcome::Kind::Failed || out.kind == RefreshOutcome::Kind::Busy)
            printErr(QStringLiteral("vivarium: warning: %1: %2").arg(name, out.message));
        return std::nullopt;
    };
    if (oauth && record->status != QLatin1String("needs_reconnect")) {
        if (auto stop = refreshIfDue(false))
            return *stop;
    }
    auto fresh = ctx->store->connection(name);
    if (!fresh)
        return reportError(fresh.error());
    auto result = testConnection(*m, *fresh, *ctx->secrets, options);
    if (result && result->status == 401 && oauth && !fresh->meta.isEmpty() &&
        fresh->meta.value(QStringLiteral("has_refresh_token")).toBool() &&
        fresh->status != QLatin1String("needs_reconnect")) {
        // The token may have been revoked early: one forced refresh, then one more try.
        if (auto stop = refreshIfDue(true))
            return *stop;
        if (auto again = ctx->store->connection(name))
            result = testConnection(*m, *again, *ctx->secrets, options);
    }
    if (!result) {
        // The call could not be made (refused by the broker's rules, unreachable, no test
        // operation): a failure of the check, not of the command line.
        if (result.error().code != Error::Code::Unsupported)
            (void)ctx->store->setConnectionStatus(name, QStringLiteral("error"),
                                                  result.error().message);
        reportError(result.error(), inv.commandName());
        return ExitFailure;
    }
    const auto verdict = connection_setup::testVerdict(record->provider, name, result->ok,
                                                       result->status, result->message);
    const QString& status = verdict.status;
    const QString& reason = verdict.reason;
    if (auto s = ctx->store->setConnectionStatus(name, status, reason); !s)
        return reportError(s.error());
    if (p.isSet(jsonOption())) {
        printJson(QJsonObject{
            {QStringLiteral("name"), name},
            {QStringLiteral("ok"), result->ok},
            {QStringLiteral("status"), status},
            {QStringLiteral("status_reason"), reason.isEmpty() ? QJsonValue() : QJsonValue(reason)},
            {QStringLiteral("http_status"), result->status},
            {QStringLiteral("operation"), result->operation},
            {QStringLiteral("url"), result->url},
            {QStringLiteral("credential"), result->credential},
            {QStringLiteral("latency_ms"), double(result->latencyMs)},
            {QStringLiteral("message"), result->message}});
    } else if (result->ok) {
        printOut(
            QStringLiteral("%1: ok (%2, %3 ms)").arg(name, result->message).arg(result->latencyMs));
    } else {
        printErr(QStringLiteral("vivarium: %1: %2: %3").arg(name, status, reason));
    }
    return result->ok ? ExitOk : ExitFailure;
}

int cmdConnectionsRefresh(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("connection name"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Refresh an OAuth connection's access token now "
                                             "(the engine does it ahead of expiry by itself)."),
                              1, 1))
        return *stop;
    const QString name = p.positionalArguments().first();
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    auto record = ctx->store->connection(name);
    if (!record)
        return reportError(record.error());
    auto m = findProvider(*ctx, record->provider);
    if (!m)
        return reportError(m.error(), inv.commandName());
    ConnectionTokens::RefreshOptions how;
    how.force = true;
    const RefreshOutcome out = ctx->tokens().refresh(*m, name, how);
    if (out.kind != RefreshOutcome::Kind::Refreshed) {
        printErr(QStringLiteral("vivarium: %1: %2").arg(name, out.message));
        return ExitFailure;
    }
    printOut(QStringLiteral("%1: %2; the token is valid for %3")
                 .arg(name, out.message,
                      out.expiresAt.isValid()
                          ? inWords(QDateTime::currentDateTimeUtc().secsTo(out.expiresAt))
                          : QStringLiteral("an unknown time")));
    return ExitOk;
}

int cmdConnectionsRemove(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("connection name"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Remove a connection: revoke its grant at the "
                                             "provider where possible, delete its secrets and "
                                             "its record."),
                              1, 1))
        return *stop;
    const QString name = p.positionalArguments().first();
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    auto record = ctx->store->connection(name);
    if (!record)
        return reportError(record.error());
    auto m = ctx->catalog.find(record->provider);
    auto removed = ctx->tokens().remove(m ? &*m : nullptr, name);
    if (!removed)
        return reportError(removed.error(), inv.commandName());
    if (removed->revoked)
        printOut(QStringLiteral("Removed connection %1 (%2)").arg(name, removed->note));
    else
        printOut(QStringLiteral("Removed connection %1").arg(name));
    if (!removed->revoked && !removed->note.isEmpty())
        printErr(QStringLiteral("vivarium: warning: %1").arg(removed->note));
    return ExitOk;
}

// --- oauth-app ----------------------------------------------------------------------------

int cmdOAuthAppSet(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("PROVIDER"), QStringLiteral("provider id"));
    const QCommandLineOption clientId(QStringLiteral("client-id"),
                                      QStringLiteral("Client ID of your OAuth app."),
                                      QStringLiteral("ID"));
    const QCommandLineOption secretStdin(QStringLiteral("client-secret-stdin"),
                                         QStringLiteral("Read the client secret from stdin (a "
                                                        "no-echo prompt on a terminal) into the "
                                                        "vault."));
    const QCommandLineOption noSecret(QStringLiteral("no-client-secret"),
                                      QStringLiteral("Forget a stored client secret (a public "
                                                     "client: PKCE only)."));
    for (const auto* o : {&clientId, &secretStdin, &noSecret})
        p.addOption(*o);
    if (auto stop = inv.parse(p,
                              QStringLiteral("Set the OAuth app Vivarium signs in with for a "
                                             "provider. Register it with the redirect URI "
                                             "http://127.0.0.1/callback (any port)."),
                              1, 1))
        return *stop;
    const QString provider = p.positionalArguments().first();
    if (!p.isSet(clientId) || p.value(clientId).trimmed().isEmpty())
        return usageError(inv.commandName(), QStringLiteral("missing --client-id"));
    if (p.isSet(secretStdin) && p.isSet(noSecret))
        return usageError(inv.commandName(),
                          QStringLiteral("--client-secret-stdin and --no-client-secret exclude "
                                         "each other"));
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    auto m = findProvider(*ctx, provider);
    if (!m)
        return reportError(m.error(), inv.commandName());
    if (m->auth.kind != ProviderAuth::Kind::OAuth2)
        return usageError(inv.commandName(), QStringLiteral("%1 does not use OAuth (it uses %2)")
                                                 .arg(provider, authName(m->auth.kind)));
    QByteArray secret;
    if (p.isSet(secretStdin)) {
        auto s = readSecretLine(QStringLiteral("Client secret for %1: ").arg(provider));
        if (!s)
            return reportError(s.error(), inv.commandName());
        secret = std::move(*s);
    }
    Settings settings(*ctx->store);
    if (auto s = settings.set(QStringLiteral("oauth.%1.client_id").arg(provider),
                              p.value(clientId).trimmed());
        !s) {
        secret.fill('\0');
        return reportError(s.error(), inv.commandName());
    }
    const QString key = ConnectionSecretKeys::oauthClientSecret(provider);
    QString note = QStringLiteral("kept the stored client secret, if any");
    if (!secret.isEmpty()) {
        Status s = ctx->secrets->write(key, secret);
        secret.fill('\0');
        if (!s)
            return reportError(s.error(), inv.commandName());
        note = QStringLiteral("client secret stored in the vault");
    } else if (p.isSet(noSecret)) {
        if (auto s = ctx->secrets->remove(key); !s && s.error().code != Error::Code::NotFound)
            return reportError(s.error(), inv.commandName());
        note = QStringLiteral("no client secret (public client)");
    }
    printOut(QStringLiteral("OAuth app for %1 set (client ID %2; %3)")
                 .arg(provider, p.value(clientId).trimmed(), note));
    return ExitOk;
}

int cmdOAuthAppList(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop =
            inv.parse(p, QStringLiteral("List OAuth providers and the app set for each."), 0, 0))
        return *stop;
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    Settings settings(*ctx->store);
    QJsonArray arr;
    TextTable t({QStringLiteral("PROVIDER"), QStringLiteral("CLIENT ID"), QStringLiteral("SECRET"),
                 QStringLiteral("DEVICE FLOW"), QStringLiteral("REGISTER AT")});
    for (const ProviderManifest& m : ctx->catalog.manifests()) {
        if (m.auth.kind != ProviderAuth::Kind::OAuth2)
            continue;
        const QString id = settings.oauthClientId(m.id);
        auto secret = ctx->secrets->read(ConnectionSecretKeys::oauthClientSecret(m.id));
        const bool hasSecret = secret.has_value();
        if (secret)
            secret->fill('\0');
        const bool device = !m.auth.oauth2.deviceAuthorizationEndpoint.isEmpty();
        arr << QJsonObject{
            {QStringLiteral("provider"), m.id},
            {QStringLiteral("client_id"), id.isEmpty() ? QJsonValue() : QJsonValue(id)},
            {QStringLiteral("has_client_secret"), hasSecret},
            {QStringLiteral("device_flow"), device},
            {QStringLiteral("setup_url"), m.auth.setupUrl}};
        t.addRow({m.id, id.isEmpty() ? QStringLiteral("(not set)") : id,
                  hasSecret ? QStringLiteral("in vault") : QStringLiteral("-"),
                  device ? QStringLiteral("yes") : QStringLiteral("no"),
                  m.auth.setupUrl.isEmpty() ? QStringLiteral("-") : m.auth.setupUrl});
    }
    if (p.isSet(jsonOption())) {
        printJson(arr);
        return ExitOk;
    }
    printOut(t.render(60));
    printOut(QStringLiteral("Redirect URI to register: http://127.0.0.1/callback (any port)"));
    return ExitOk;
}

int cmdOAuthAppRemove(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("PROVIDER"), QStringLiteral("provider id"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Forget the OAuth app of a provider (client ID and "
                                             "secret). Existing connections stop refreshing."),
                              1, 1))
        return *stop;
    const QString provider = p.positionalArguments().first();
    auto ctx = openContext(inv);
    if (!ctx)
        return reportError(ctx.error());
    Settings settings(*ctx->store);
    if (auto s = settings.unset(QStringLiteral("oauth.%1.client_id").arg(provider)); !s)
        return reportError(s.error(), inv.commandName());
    if (auto s = ctx->secrets->remove(ConnectionSecretKeys::oauthClientSecret(provider));
        !s && s.error().code != Error::Code::NotFound)
        return reportError(s.error(), inv.commandName());
    printOut(QStringLiteral("Removed the OAuth app of %1").arg(provider));
    return ExitOk;
}

} // namespace vivarium::cli
