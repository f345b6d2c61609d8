// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium model add|list|rm: model endpoint profiles; keys go to the vault, never the store.
#include "Cli.h"
#include "SecretInput.h"
#include "TextTable.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/ModelEndpoints.h"
#include "vivarium/core/SecretStore.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QUrl>

#include <cstdio>

namespace vivarium::cli {

namespace {

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

    if (p.isSet(keyStdin) && p.isSet(noKey))
        return usageError(inv.commandName(),
                          QStringLiteral("--key-stdin and --no-key exclude each other"));
    if (!p.isSet(baseUrl))
        return usageError(inv.commandName(), QStringLiteral("missing --base-url URL"));
    bool pricesOk = true;
    ModelEndpointChange change;
    change.name = p.positionalArguments().first();
    change.api = p.value(api);
    change.baseUrl = p.value(baseUrl);
    change.inputPricePerMTok = parsePrice(p, priceIn, &pricesOk);
    change.outputPricePerMTok = parsePrice(p, priceOut, &pricesOk);
    if (!pricesOk)
        return usageError(inv.commandName(), QStringLiteral("prices must be non-negative numbers"));
    // Checked before the key is read, so a typo in a flag does not swallow stdin for nothing.
    if (auto ok = ModelEndpoints::check(change); !ok)
        return usageError(inv.commandName(), ok.error().message);
    for (const QString& w : ModelEndpoints::warnings(change.api, change.baseUrl))
        printErr(QStringLiteral("vivarium: warning: ") + w);

    if (p.isSet(keyStdin)) {
        change.key = ModelEndpointChange::Key::Set;
        change.newKey = readStdinSecret();
        if (change.newKey.isEmpty())
            return usageError(inv.commandName(),
                              QStringLiteral("--key-stdin: no key on standard input"));
        if (auto ok = ModelEndpoints::check(change); !ok) {
            change.newKey.fill('\0');
            return usageError(inv.commandName(),
                              QStringLiteral("--key-stdin: ") + ok.error().message);
        }
    } else if (p.isSet(noKey)) {
        change.key = ModelEndpointChange::Key::Drop;
    }

    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    std::unique_ptr<SecretStore> secrets; // opened only when a key is involved
    auto saved = ModelEndpoints::save(
        **store,
        [&]() -> Result<SecretStore*> {
            auto opened = SecretStore::openDefault(inv.paths());
            if (!opened)
                return std::unexpected(opened.error());
            secrets = std::move(*opened);
            return secrets.get();
        },
        std::move(change));
    if (!saved)
        return reportError(saved.error());
    const ModelEndpointRecord& rec = saved->record;
    const QString& name = rec.name;
    const QString& apiName = rec.api;
    if (p.isSet(jsonOption())) {
        printJson(QJsonObject{{QStringLiteral("name"), name},
                              {QStringLiteral("api"), apiName},
                              {QStringLiteral("base_url"), rec.baseUrl},
                              {QStringLiteral("has_key"), !rec.secretKey.isEmpty()},
                              {QStringLiteral("updated"), saved->updated}});
    } else {
        printOut(QStringLiteral("%1 model endpoint %2 (%3, %4; %5)")
                     .arg(saved->updated ? QStringLiteral("Updated") : QStringLiteral("Added"),
                          name, apiName, rec.baseUrl, saved->keyNote));
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
    std::unique_ptr<SecretStore> secrets;
    auto users = ModelEndpoints::remove(
        **store,
        [&]() -> Result<SecretStore*> {
            auto opened = SecretStore::openDefault(inv.paths());
            if (!opened)
                return std::unexpected(opened.error());
            secrets = std::move(*opened);
            return secrets.get();
        },
        name);
    if (!users)
        return reportError(users.error());
    printOut(QStringLiteral("Removed model endpoint %1").arg(name));
    if (!users->isEmpty())
        printErr(QStringLiteral("vivarium: warning: agents still using it will fail until it is "
                                "added again: %1")
                     .arg(users->join(QStringLiteral(", "))));
    return ExitOk;
}

} // namespace vivarium::cli
