// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium api-key create|list|revoke: keys for the HTTP API. The secret is printed once, at
// creation; the store keeps only its SHA-256.
#include "Cli.h"
#include "TextTable.h"

#include <QJsonArray>
#include <QJsonObject>

namespace vivarium::cli {

namespace {

QJsonObject keyJson(const Store::ApiKeyRecord& k)
{
    return QJsonObject{{QStringLiteral("id"), k.id},
                       {QStringLiteral("name"), k.name},
                       {QStringLiteral("prefix"), QString(QStringLiteral("viv_") + k.prefix)},
                       {QStringLiteral("scopes"), QJsonArray::fromStringList(k.scopes)},
                       {QStringLiteral("created_at"), jsonTime(k.createdAt)},
                       {QStringLiteral("last_used_at"), jsonTime(k.lastUsedAt)},
                       {QStringLiteral("revoked_at"), jsonTime(k.revokedAt)}};
}

} // namespace

int cmdApiKeyCreate(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("NAME"),
                            QStringLiteral("what the key is for (n8n, ci); shown in run "
                                           "triggers as api:NAME"));
    const QCommandLineOption scope(
        QStringLiteral("scope"),
        QStringLiteral("A scope the key holds; repeat for several (%1). Default: runs:read "
                       "and runs:write.")
            .arg(Store::apiScopes().join(QStringLiteral(", "))),
        QStringLiteral("SCOPE"));
    p.addOption(scope);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p,
                              QStringLiteral("Create an API key for the HTTP API. The key is "
                                             "printed once and cannot be shown again."),
                              1, 1))
        return *stop;
    QStringList scopes;
    for (const QString& v : p.values(scope))
        for (const QString& s : v.split(QLatin1Char(','), Qt::SkipEmptyParts))
            scopes << s.trimmed();
    if (scopes.isEmpty())
        scopes = {QStringLiteral("runs:read"), QStringLiteral("runs:write")};
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto created = (*store)->createApiKey(p.positionalArguments().first(), scopes);
    if (!created)
        return reportError(created.error());
    if (p.isSet(jsonOption())) {
        QJsonObject o = keyJson(created->record);
        o.insert(QStringLiteral("key"), created->secret);
        printJson(o);
        return ExitOk;
    }
    printOut(created->secret);
    printErr(QStringLiteral("vivarium: created API key %1 (%2) with scopes %3. The key above is "
                            "shown only now: store it where your client keeps secrets.")
                 .arg(created->record.id, created->record.name,
                      created->record.scopes.join(QStringLiteral(", "))));
    return ExitOk;
}

int cmdApiKeyList(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p, QStringLiteral("List API keys (never their secrets)."), 0, 0))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto keys = (*store)->apiKeys();
    if (!keys)
        return reportError(keys.error());
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const Store::ApiKeyRecord& k : std::as_const(*keys))
            arr << keyJson(k);
        printJson(arr);
        return ExitOk;
    }
    if (keys->isEmpty()) {
        printOut(QStringLiteral("No API keys. Create one: vivarium api-key create NAME --scope "
                                "runs:write"));
        return ExitOk;
    }
    TextTable t({QStringLiteral("ID"), QStringLiteral("NAME"), QStringLiteral("SCOPES"),
                 QStringLiteral("CREATED"), QStringLiteral("LAST USED"), QStringLiteral("STATE")});
    for (const Store::ApiKeyRecord& k : std::as_const(*keys))
        t.addRow({k.id, k.name, k.scopes.join(QLatin1Char(' ')), humanTime(k.createdAt),
                  k.lastUsedAt.isValid() ? humanTime(k.lastUsedAt) : QStringLiteral("never"),
                  k.isRevoked() ? QStringLiteral("revoked ") + humanTime(k.revokedAt)
                                : QStringLiteral("live")});
    printOut(t.render(40));
    return ExitOk;
}

int cmdApiKeyRevoke(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("KEY"),
                            QStringLiteral("key id (key_...) or the name of a live key"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Revoke an API key: the running API refuses it from "
                                             "its next request."),
                              1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto revoked = (*store)->revokeApiKey(p.positionalArguments().first());
    if (!revoked)
        return reportError(revoked.error());
    printOut(QStringLiteral("Revoked API key %1 (%2)").arg(revoked->id, revoked->name));
    return ExitOk;
}

} // namespace vivarium::cli
