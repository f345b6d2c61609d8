// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Settings.h"

#include "vivarium/core/Store.h"

#include <QHostAddress>
#include <QRegularExpression>

namespace vivarium {

namespace {

constexpr auto ProviderPlaceholder = "<provider>";

bool matchesPattern(const QString& pattern, const QString& key)
{
    const qsizetype at = pattern.indexOf(QLatin1String(ProviderPlaceholder));
    if (at < 0)
        return pattern == key;
    const QString head = pattern.left(at);
    const QString tail = pattern.mid(at + qsizetype(qstrlen(ProviderPlaceholder)));
    if (!key.startsWith(head) || !key.endsWith(tail) || key.size() <= head.size() + tail.size())
        return false;
    static const QRegularExpression id(QStringLiteral("^[a-z][a-z0-9_-]*$"));
    return id.match(key.mid(head.size(), key.size() - head.size() - tail.size())).hasMatch();
}

} // namespace

const QList<Settings::Definition>& Settings::definitions()
{
    static const QList<Definition> all{
        {QStringLiteral("secrets.backend"), QStringLiteral("enum"), QStringLiteral("auto"),
         {QStringLiteral("auto"), QStringLiteral("keychain"), QStringLiteral("vault")}, 0, 0,
         QStringLiteral("where secret values live: the OS keychain, the encrypted file vault, "
                        "or auto (the keychain where a secret service answers, else the vault)")},
        {QStringLiteral("runs.max_concurrent"), QStringLiteral("int"), QStringLiteral("4"), {}, 1,
         64, QStringLiteral("runs that may execute at once; more wait in the queue")},
        {QStringLiteral("runs.shutdown_grace_seconds"), QStringLiteral("int"),
         QStringLiteral("30"), {}, 0, 3600,
         QStringLiteral("seconds live runs get to finish when `vivarium serve` stops (SIGTERM); "
                        "then they end as interrupted")},
        {QStringLiteral("api.enabled"), QStringLiteral("bool"), QStringLiteral("false"), {}, 0, 0,
         QStringLiteral("serve the localhost HTTP API with the engine")},
        {QStringLiteral("api.listen"), QStringLiteral("listen"), QStringLiteral("127.0.0.1:8765"),
         {}, 0, 0, QStringLiteral("address and port of the HTTP API (loopback only)")},
        {QStringLiteral("oauth.<provider>.client_id"), QStringLiteral("string"), QString(), {}, 0,
         0, QStringLiteral("client ID of your own OAuth app for a provider")},
        // Webhook delivery (docs/webhooks.md); read when the engine starts.
        {QStringLiteral("webhooks.max_attempts"), QStringLiteral("int"), QStringLiteral("15"), {},
         1, 100, QStringLiteral("attempts per webhook delivery before it is dead")},
        {QStringLiteral("webhooks.retry_base_ms"), QStringLiteral("int"), QStringLiteral("5000"),
         {}, 10, 3'600'000,
         QStringLiteral("webhook retry backoff base: attempt n+1 waits up to base * 2^(n-1)")},
        {QStringLiteral("webhooks.timeout_s"), QStringLiteral("int"), QStringLiteral("15"), {}, 1,
         300, QStringLiteral("seconds a webhook receiver has to answer one attempt")},
        {QStringLiteral("webhooks.max_concurrent"), QStringLiteral("int"), QStringLiteral("4"), {},
         1, 64, QStringLiteral("webhook deliveries in flight at once")},
        {QStringLiteral("gui.close_to_tray"), QStringLiteral("bool"), QStringLiteral("true"), {},
         0, 0,
         QStringLiteral("closing the desktop app's window keeps the engine running in the "
                        "system tray (Quit in the tray menu stops it)")},
        {QStringLiteral("gui.autostart"), QStringLiteral("bool"), QStringLiteral("false"), {}, 0,
         0,
         QStringLiteral("start the desktop app in the tray when you log in (an XDG autostart "
                        "entry, ~/.config/autostart/vivarium.desktop)")},
    };
    return all;
}

Result<Settings::Definition> Settings::definition(const QString& key)
{
    for (const Definition& d : definitions()) {
        if (matchesPattern(d.key, key))
            return d;
    }
    QStringList known;
    for (const Definition& d : definitions())
        known << d.key;
    return fail(Error::Code::NotFound, QStringLiteral("unknown setting '%1' (known: %2)")
                                           .arg(key, known.join(QStringLiteral(", "))));
}

Result<QString> Settings::normalize(const QString& key, const QString& value)
{
    auto def = definition(key);
    if (!def)
        return std::unexpected(def.error());
    const QString v = value.trimmed();
    auto bad = [&](const QString& why) {
        return fail(Error::Code::Validation,
                    QStringLiteral("setting '%1': '%2' %3").arg(key, value, why));
    };
    if (def->type == QLatin1String("enum")) {
        if (!def->choices.contains(v))
            return bad(QStringLiteral("is not one of %1").arg(def->choices.join(QStringLiteral(", "))));
        return v;
    }
    if (def->type == QLatin1String("int")) {
        bool ok = false;
        const int n = v.toInt(&ok);
        if (!ok || n < def->min || n > def->max)
            return bad(QStringLiteral("is not a whole number from %1 to %2").arg(def->min).arg(def->max));
        return QString::number(n);
    }
    if (def->type == QLatin1String("bool")) {
        const QString l = v.toLower();
        if (l == QLatin1String("true") || l == QLatin1String("on") || l == QLatin1String("1") ||
            l == QLatin1String("yes"))
            return QStringLiteral("true");
        if (l == QLatin1String("false") || l == QLatin1String("off") || l == QLatin1String("0") ||
            l == QLatin1String("no"))
            return QStringLiteral("false");
        return bad(QStringLiteral("is not true or false"));
    }
    if (def->type == QLatin1String("listen")) {
        const qsizetype colon = v.lastIndexOf(QLatin1Char(':'));
        bool ok = false;
        const int port = colon > 0 ? v.mid(colon + 1).toInt(&ok) : 0;
        QString host = colon > 0 ? v.left(colon) : QString();
        if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
            host = host.mid(1, host.size() - 2);
        const QHostAddress address(host);
        if (!ok || port < 1 || port > 65535 || address.isNull())
            return bad(QStringLiteral("is not ADDRESS:PORT (for example 127.0.0.1:8765)"));
        if (!address.isLoopback())
            return bad(QStringLiteral("is not a loopback address (use `serve --api --listen` "
                                      "with --allow-remote and TLS for anything else)"));
        return v;
    }
    if (v.contains(QLatin1Char('\n')) || v.size() > 1024)
        return bad(QStringLiteral("is not a single line of at most 1024 characters"));
    return v;
}

Result<QString> Settings::value(const QString& key) const
{
    auto def = definition(key);
    if (!def)
        return std::unexpected(def.error());
    auto stored = m_store.setting(key);
    if (stored)
        return *stored;
    if (stored.error().code != Error::Code::NotFound)
        return std::unexpected(stored.error());
    return def->defaultValue;
}

bool Settings::isSet(const QString& key) const
{
    return m_store.setting(key).has_value();
}

Status Settings::set(const QString& key, const QString& value)
{
    auto v = normalize(key, value);
    if (!v)
        return std::unexpected(v.error());
    return m_store.setSetting(key, *v);
}

Status Settings::unset(const QString& key)
{
    if (auto def = definition(key); !def)
        return std::unexpected(def.error());
    auto s = m_store.removeSetting(key);
    if (!s && s.error().code == Error::Code::NotFound)
        return {};
    return s;
}

QString Settings::secretBackend() const
{
    return value(QStringLiteral("secrets.backend")).value_or(QStringLiteral("auto"));
}

int Settings::maxConcurrentRuns() const
{
    return value(QStringLiteral("runs.max_concurrent")).value_or(QStringLiteral("4")).toInt();
}

bool Settings::apiEnabled() const
{
    return value(QStringLiteral("api.enabled")).value_or(QString()) == QLatin1String("true");
}

QString Settings::apiListen() const
{
    return value(QStringLiteral("api.listen")).value_or(QStringLiteral("127.0.0.1:8765"));
}

QString Settings::oauthClientId(const QString& provider) const
{
    return value(QStringLiteral("oauth.%1.client_id").arg(provider)).value_or(QString());
}

} // namespace vivarium
