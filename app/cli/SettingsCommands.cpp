// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium settings list|get|set|unset: the typed settings of core/Settings.h.
#include "Cli.h"
#include "TextTable.h"

#include "vivarium/core/Settings.h"

#include <QJsonArray>
#include <QJsonObject>

namespace vivarium::cli {

int cmdSettingsList(Invocation& inv)
{
    QCommandLineParser p;
    p.addOption(jsonOption());
    if (auto stop =
            inv.parse(p, QStringLiteral("List settings with their values and defaults."), 0, 0))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    Settings settings(**store);
    QJsonArray arr;
    TextTable t({QStringLiteral("KEY"), QStringLiteral("VALUE"), QStringLiteral("DEFAULT"),
                 QStringLiteral("WHAT")});
    for (const Settings::Definition& d : Settings::definitions()) {
        // Pattern keys (oauth.<provider>.client_id) show only as a definition here.
        const bool pattern = d.key.contains(QLatin1Char('<'));
        const QString value = pattern ? QString() : settings.value(d.key).value_or(QString());
        const bool set = !pattern && settings.isSet(d.key);
        arr << QJsonObject{{QStringLiteral("key"), d.key},
                           {QStringLiteral("type"), d.type},
                           {QStringLiteral("value"), pattern ? QJsonValue() : QJsonValue(value)},
                           {QStringLiteral("default"), d.defaultValue},
                           {QStringLiteral("set"), set},
                           {QStringLiteral("choices"), QJsonArray::fromStringList(d.choices)},
                           {QStringLiteral("description"), d.description}};
        t.addRow({d.key,
                  pattern ? QStringLiteral("-")
                          : value + (set ? QString() : QStringLiteral(" (default)")),
                  d.defaultValue.isEmpty() ? QStringLiteral("-") : d.defaultValue, d.description});
    }
    if (p.isSet(jsonOption())) {
        printJson(arr);
        return ExitOk;
    }
    printOut(t.render(72));
    return ExitOk;
}

int cmdSettingsGet(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("KEY"), QStringLiteral("setting name"));
    if (auto stop =
            inv.parse(p, QStringLiteral("Print a setting's value (its default if unset)."), 1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto v = Settings(**store).value(p.positionalArguments().first());
    if (!v)
        return reportError(v.error());
    printOut(*v);
    return ExitOk;
}

int cmdSettingsSet(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("KEY"), QStringLiteral("setting name"));
    p.addPositionalArgument(QStringLiteral("VALUE"), QStringLiteral("new value"));
    if (auto stop = inv.parse(p,
                              QStringLiteral("Change a setting (checked before it is saved). "
                                             "A running engine reads it on its next start."),
                              2, 2))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    const QString key = p.positionalArguments().at(0);
    if (auto s = Settings(**store).set(key, p.positionalArguments().at(1)); !s)
        return reportError(s.error());
    printOut(QStringLiteral("%1 = %2").arg(key, Settings(**store).value(key).value_or(QString())));
    return ExitOk;
}

int cmdSettingsUnset(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("KEY"), QStringLiteral("setting name"));
    if (auto stop = inv.parse(p, QStringLiteral("Return a setting to its default."), 1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    const QString key = p.positionalArguments().first();
    if (auto s = Settings(**store).unset(key); !s)
        return reportError(s.error());
    printOut(QStringLiteral("%1 = %2 (default)")
                 .arg(key, Settings(**store).value(key).value_or(QString())));
    return ExitOk;
}

} // namespace vivarium::cli
