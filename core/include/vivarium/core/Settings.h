// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QList>
#include <QString>

namespace vivarium {

class Store;

/**
 * Typed settings over the store's `settings` table: one definition per key (type, default,
 * what it does, how it is checked), so the CLI (`vivarium settings`), the GUI and the engine
 * agree. Unknown keys and bad values are refused with a sentence naming the key. Settings are
 * never secret: secret values belong in the SecretStore.
 */
class Settings
{
public:
    struct Definition
    {
        QString key;  ///< "secrets.backend", or a pattern with <provider>
        QString type; ///< "enum" | "int" | "bool" | "string" | "listen"
        QString defaultValue;
        QStringList choices; ///< enum only
        int min = 0;         ///< int only
        int max = 0;
        QString description;
    };

    /** Every known key, in display order. */
    static const QList<Definition>& definitions();
    /** The definition a key falls under (patterns included); NotFound lists the known keys. */
    static Result<Definition> definition(const QString& key);
    /** Validation error naming the key and what is allowed; the canonical text otherwise. */
    static Result<QString> normalize(const QString& key, const QString& value);

    explicit Settings(Store& store)
        : m_store(store)
    {}

    /** The stored value, or the default when unset. Unknown keys: NotFound. */
    Result<QString> value(const QString& key) const;
    /** True when the key has a stored value (not just its default). */
    bool isSet(const QString& key) const;
    Status set(const QString& key, const QString& value);
    /** Back to the default; not an error when already unset. */
    Status unset(const QString& key);

    // Typed accessors for what the engine reads; each falls back to the default.
    /** "auto" (keychain where a secret service answers, else vault) | "keychain" | "vault". */
    QString secretBackend() const;
    int maxConcurrentRuns() const;
    bool apiEnabled() const;
    QString apiListen() const; ///< "127.0.0.1:8765"
    /** The user's own OAuth app for a provider (`oauth.<provider>.client_id`); may be empty. */
    QString oauthClientId(const QString& provider) const;

private:
    Store& m_store;
};

} // namespace vivarium
