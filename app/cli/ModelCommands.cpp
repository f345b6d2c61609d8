// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium model add|list|rm: model endpoint profiles; keys go to the vault, never the store.
#include "Cli.h"
#include "SecretInput.h"
#include "TextTable.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/SecretStore.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QUrl>

#include <cstdio>

namespace vivarium::cli {

namespace {

QString secretKeyFor(const QString& endpoint)
{
    return QStringLiteral("model-endpoint/%1/api-key").arg(endpoint);
}

std::optional<double> parsePrice(const QCommandLineParser& p, const QCommandLineOption& o, bool* ok)
{
    if (!p.isSet(o))
        return std::nullopt;
    bool good = false;
    const double v = p.value(o).toDouble(&good);
    if (!good || v < 0) {
        *ok = false;
        return std::nullopt;
    }
    return v;
}

} // namespace

int cmdModelAdd(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("NAME"),
                            QStringLiteral("endpoint name that agents use in model.endpoint"));
    const QCommandLineOption api(QStringLiteral("api"),
                                 QStringLiteral("Wire format: openai (OpenAI, Ollama, llama.cpp, "
                                                "vLLM, LM Studio, OpenRouter) or anthropic."),
                                 QStringLiteral("API"));
    const QCommandLineOption baseUrl(QStringLiteral("base-url"),
                                     QStringLiteral("As the vendor SDKs take it: OpenAI-compatible "
                                                    "URLs include /v1 "
                                                    "(http://127.0.0.1:11434/v1), Anthropic's does "
                                                    "not (https://api.anthropic.com)."),
                                     QStringLiteral("URL"));
    const QCommandLineOption keyStdin(QStringLiteral("key-stdin"),
                                      QStringLiteral("Read the API key from standard input and "
                                                     "store it in the vault."));
    const QCommandLineOption noKey(QStringLiteral("no-key"),
                                   QStringLiteral("Drop a previously stored key (local servers)."));
    const QCommandLineOption priceIn(QStringLiteral("price-input"),
                                     QStringLiteral("USD per million input tokens (overrides the "
                                                    "built-in price table)."),
                                     QStringLiteral("USD"));
    const QCommandLineOption priceOut(QStringLiteral("price-output"),
                                      QStringLiteral("USD per million output tokens."),
                                      QStringLiteral("USD"));
    for (const auto* o : {&api, &baseUrl, &keyStdin, &noKey, &priceIn, &priceOut, &jsonOption()})
        p.addOption(*o);
    if (auto stop = inv.parse(p, QStringLiteral("Add or update a model endpoint."), 1, 1))
        return *stop;

    const QString name = p.positionalArguments().first();
    if (!AgentLoader::isValidId(name))
        return usageError(
            inv.commandName(),
            QStringLiteral("endpoint name \"%1\" must match [a-z0-9][a-z0-9_-]{0,63}").arg(name));
    const QString apiName = p.value(api);
    if (apiName != QLatin1String("openai") && apiName != QLatin1String("anthropic"))
        return usageError(
            inv.commandName(),
            QStringLiteral("--api must be openai or anthropic, got \"%1\"").arg(apiName));
    const QUrl url(p.value(baseUrl), QUrl::StrictMode);
    if (!p.isSet(baseUrl) || !url.isValid() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) ||
        url.host().isEmpty() || !url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment())
        return usageError(inv.commandName(),
                          QStringLiteral("--base-url must be an http(s) URL with a host and no "
                                         "credentials, query or fragment, got \"%1\"")
                              .arg(p.value(baseUrl)));
    if (p.isSet(keyStdin) && p.isSet(noKey))
        return usageError(inv.commandName(),
                          QStringLiteral("--key-stdin and --no-key exclude each other"));
    bool pricesOk = true;
    const auto in = parsePrice(p, priceIn, &pricesOk);
    const auto out = parsePrice(p, priceOut, &pricesOk);
    if (!pricesOk)
        return usageError(inv.commandName(), QStringLiteral("prices must be non-negative numbers"));

    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    if (apiName == QLatin1String("anthropic") && path.endsWith(QLatin1String("/v1")))
        printErr(QStringLiteral("vivarium: warning: Anthropic base URLs do not include /v1 (the "
                                "client adds /v1/messages); did you mean %1?")
                     .arg(url.adjusted(QUrl::RemovePath).toString() + path.chopped(3)));
    if (apiName == QLatin1String("openai") && !path.endsWith(QLatin1String("/v1")) &&
        !path.contains(QLatin1String("/v1/")))
        printErr(QStringLiteral("vivarium: warning: OpenAI-compatible base URLs usually end in /v1 "
                                "(the client adds /chat/completions)"));

    QByteArray key;
    if (p.isSet(keyStdin)) {
        key = readStdinSecret();
        if (key.isEmpty())
            return usageError(inv.commandName(),
                              QStringLiteral("--key-stdin: no key on standard input"));
        if (key.contains('\n') || key.contains('\r'))
            return usageError(inv.commandName(),
                              QStringLiteral("--key-stdin: the key must be a single line"));
    }

    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto existing = (*store)->modelEndpoint(name);
    ModelEndpointRecord rec;
    rec.name = name;
    rec.api = apiName;
    rec.baseUrl = url.adjusted(QUrl::StripTrailingSlash).toString();
    rec.inputPricePerMTok = in;
    rec.outputPricePerMTok = out;
    QString keyNote;
    if (!key.isEmpty() || p.isSet(noKey) || (existing && !existing->secretKey.isEmpty())) {
        auto secrets = SecretStore::openDefault(inv.paths());
        if (!secrets)
            return reportError(secrets.error());
        if (!key.isEmpty()) {
            Status s = (*secrets)->write(secretKeyFor(name), key);
            key.fill('\0');
            if (!s)
                return reportError(s.error());
            rec.secretKey = secretKeyFor(name);
            keyNote = QStringLiteral("API key stored in the vault");
        } else if (p.isSet(noKey)) {
            (void)(*secrets)->remove(secretKeyFor(name));
            keyNote = QStringLiteral("no API key");
        } else {
            rec.secretKey = existing->secretKey; // re-adding to change the URL keeps the key
            keyNote = QStringLiteral("kept the existing API key");
        }
    } else {
        keyNote = QStringLiteral("no API key");
    }
    if (auto s = (*store)->saveModelEndpoint(rec); !s)
        return reportError(s.error());
    if (p.isSet(jsonOption())) {
        printJson(QJsonObject{{QStringLiteral("name"), name},
                              {QStringLiteral("api"), apiName},
                              {QStringLiteral("base_url"), rec.baseUrl},
                              {QStringLiteral("has_key"), !rec.secretKey.isEmpty()},
                              {QStringLiteral("updated"), existing.has_value()}});
    } else {
        printOut(QStringLiteral("%1 model endpoint %2 (%3, %4; %5)")
                     .arg(existing ? QStringLiteral("Updated") : QStringLiteral("Added"), name,
                          apiName, rec.baseUrl, keyNote));
    }
    return ExitOk;
}

int cmdModelList(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop =
            inv.parse(p, QStringLiteral("List model endpoints (keys are never shown)."), 0, 0))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto list = (*store)->modelEndpoints();
    if (!list)
        return reportError(list.error());
    auto price = [](const std::optional<double>& v) {
        return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
    };
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const ModelEndpointRecord& e : *list)
            arr << QJsonObject{
                {QStringLiteral("name"), e.name},
                {QStringLiteral("api"), e.api},
                {QStringLiteral("base_url"), e.baseUrl},
                {QStringLiteral("has_key"), !e.secretKey.isEmpty()},
                {QStringLiteral("input_price_per_mtok"), price(e.inputPricePerMTok)},
                {QStringLiteral("output_price_per_mtok"), price(e.outputPricePerMTok)},
                {QStringLiteral("created_at"), jsonTime(e.createdAt)},
                {QStringLiteral("updated_at"), jsonTime(e.updatedAt)}};
        printJson(arr);
        return ExitOk;
    }
    if (list->isEmpty()) {
        printOut(QStringLiteral("No model endpoints yet. Add one with: vivarium model add NAME "
                                "--api openai|anthropic --base-url URL [--key-stdin]"));
        return ExitOk;
    }
    TextTable t({QStringLiteral("NAME"), QStringLiteral("API"), QStringLiteral("BASE URL"),
                 QStringLiteral("KEY"), QStringLiteral("PRICES (USD/MTok in/out)")});
    for (const ModelEndpointRecord& e : *list) {
        const QString prices =
            e.inputPricePerMTok || e.outputPricePerMTok
                ? QStringLiteral("%1 / %2").arg(
                      e.inputPricePerMTok ? QString::number(*e.inputPricePerMTok)
                                          : QStringLiteral("table"),
                      e.outputPricePerMTok ? QString::number(*e.outputPricePerMTok)
                                           : QStringLiteral("table"))
                : QStringLiteral("built-in table");
        t.addRow({e.name, e.api, e.baseUrl,
                  e.secretKey.isEmpty() ? QStringLiteral("none") : QStringLiteral("in vault"),
                  prices});
    }
    printOut(t.render(60));
    return ExitOk;
}

int cmdModelRemove(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("endpoint name"));
    if (auto stop =
            inv.parse(p, QStringLiteral("Remove a model endpoint and its stored key."), 1, 1))
        return *stop;
    const QString name = p.positionalArguments().first();
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto existing = (*store)->modelEndpoint(name);
    if (!existing)
        return reportError(existing.error());
    if (!existing->secretKey.isEmpty()) {
        auto secrets = SecretStore::openDefault(inv.paths());
        if (!secrets)
            return reportError(secrets.error());
        if (auto s = (*secrets)->remove(existing->secretKey);
            !s && s.error().code != Error::Code::NotFound)
            return reportError(s.error());
    }
    if (auto s = (*store)->removeModelEndpoint(name); !s)
        return reportError(s.error());
    QStringList users;
    if (auto agents = (*store)->agentSummaries())
        for (const AgentSummary& a : *agents)
            if (a.modelEndpoint == name)
                users << a.id;
    printOut(QStringLiteral("Removed model endpoint %1").arg(name));
    if (!users.isEmpty())
        printErr(QStringLiteral("vivarium: warning: agents still using it will fail until it is "
                                "added again: %1")
                     .arg(users.join(QStringLiteral(", "))));
    return ExitOk;
}

} // namespace vivarium::cli
