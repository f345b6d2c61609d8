// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"
#include "vivarium/core/Store.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace vivarium {

class SecretStore;

/** A change to a model endpoint profile, as `vivarium model add` and the desktop app make it. */
struct ModelEndpointChange
{
    enum class Key {
        Keep, ///< the stored key stays (a new endpoint has none)
        Set,  ///< store `newKey`
        Drop, ///< remove a stored key (local servers)
    };

    QString name;    ///< what agents put in model.endpoint
    QString api;     ///< "openai" | "anthropic"
    QString baseUrl; ///< as the vendors' SDKs take it
    Key key = Key::Keep;
    QByteArray newKey; ///< Key::Set only; save() wipes its copy after use
    std::optional<double> inputPricePerMTok;
    std::optional<double> outputPricePerMTok;
};

/** What save() did. */
struct ModelEndpointSaved
{
    ModelEndpointRecord record;
    bool updated = false; ///< an endpoint of that name existed before
    /** "API key stored in the vault" | "kept the existing API key" | "no API key". */
    QString keyNote;
};

/**
 * Model endpoint profiles as `vivarium model add|rm` and the desktop app's settings edit them,
 * so both check and store them the same way. Keys go to the SecretStore under secretKeyFor(),
 * never into the Store, a log line or an error message.
 */
class ModelEndpoints
{
public:
    /**
     * Hands out the secret store only when a key is written, dropped or kept, so a change
     * that touches no key never opens (or unlocks) one. The pointer stays owned by the caller.
     */
    using SecretsProvider = std::function<Result<SecretStore*>()>;

    /** The vault key of an endpoint's API key: "model-endpoint/<name>/api-key". */
    static QString secretKeyFor(const QString& name);

    /**
     * Validation error naming the field at fault: the name ([a-z0-9][a-z0-9_-]{0,63}), the api,
     * the base URL (http(s) with a host, no credentials, query or fragment), a key that is empty
     * or not a single line, a negative price.
     */
    static Status check(const ModelEndpointChange& change);
    /** The base URL as stored: trailing slashes removed. Assumes check() passed. */
    static QString normalizedBaseUrl(const QString& baseUrl);
    /** Hints for a valid base URL that is probably wrong (where /v1 belongs), one per line. */
    static QStringList warnings(const QString& api, const QString& baseUrl);

    /** check(), then write or drop the key, then the record (createdAt kept on update). */
    static Result<ModelEndpointSaved> save(Store& store, const SecretsProvider& secrets,
                                           ModelEndpointChange change);
    /**
     * Remove the endpoint and its stored key (NotFound names it). Returns the agents that still
     * name it: their runs fail until it is added again.
     */
    static Result<QStringList> remove(Store& store, const SecretsProvider& secrets,
                                      const QString& name);
};

} // namespace vivarium
