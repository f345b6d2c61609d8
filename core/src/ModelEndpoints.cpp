// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/ModelEndpoints.h"

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/SecretStore.h"

#include <QUrl>

#include <cmath>

namespace vivarium {

namespace {

Result<SecretStore*> openSecrets(const ModelEndpoints::SecretsProvider& secrets)
{
    if (!secrets)
        return fail(Error::Code::Internal, QStringLiteral("no secret store for the API key"));
    auto vault = secrets();
    if (vault && !*vault)
        return fail(Error::Code::Internal, QStringLiteral("no secret store for the API key"));
    return vault;
}

} // namespace

QString ModelEndpoints::secretKeyFor(const QString& name)
{
    return QStringLiteral("model-endpoint/%1/api-key").arg(name);
}

Status ModelEndpoints::check(const ModelEndpointChange& change)
{
    if (!AgentLoader::isValidId(change.name))
        return fail(Error::Code::Validation,
                    QStringLiteral("endpoint name \"%1\" must match [a-z0-9][a-z0-9_-]{0,63}")
                        .arg(change.name));
    if (change.api != QLatin1String("openai") && change.api != QLatin1String("anthropic"))
        return fail(
            Error::Code::Validation,
            QStringLiteral("the API must be openai or anthropic, got \"%1\"").arg(change.api));
    const QUrl url(change.baseUrl, QUrl::StrictMode);
    if (!url.isValid() ||
        (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) ||
        url.host().isEmpty() || !url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment())
        return fail(Error::Code::Validation,
                    QStringLiteral("the base URL must be an http(s) URL with a host and no "
                                   "credentials, query or fragment, got \"%1\"")
                        .arg(change.baseUrl));
    if (change.key == ModelEndpointChange::Key::Set) {
        if (change.newKey.isEmpty())
            return fail(Error::Code::Validation, QStringLiteral("the API key is empty"));
        if (change.newKey.contains('\n') || change.newKey.contains('\r'))
            return fail(Error::Code::Validation,
                        QStringLiteral("the API key must be a single line"));
    }
    for (const auto& price : {change.inputPricePerMTok, change.outputPricePerMTok}) {
        if (price && (!std::isfinite(*price) || *price < 0))
            return fail(Error::Code::Validation,
                        QStringLiteral("prices must be non-negative numbers"));
    }
    return {};
}

QString ModelEndpoints::normalizedBaseUrl(const QString& baseUrl)
{
    return QUrl(baseUrl, QUrl::StrictMode).adjusted(QUrl::StripTrailingSlash).toString();
}

QStringList ModelEndpoints::warnings(const QString& api, const QString& baseUrl)
{
    const QUrl url(baseUrl, QUrl::StrictMode);
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    QStringList out;
    if (api == QLatin1String("anthropic") && path.endsWith(QLatin1String("/v1")))
        out << QStringLiteral("Anthropic base URLs do not include /v1 (the client adds "
                              "/v1/messages); did you mean %1?")
                   .arg(url.adjusted(QUrl::RemovePath).toString() + path.chopped(3));
    if (api == QLatin1String("openai") && !path.endsWith(QLatin1String("/v1")) &&
        !path.contains(QLatin1String("/v1/")))
        out << QStringLiteral("OpenAI-compatible base URLs usually end in /v1 (the client adds "
                              "/chat/completions)");
    return out;
}

Result<ModelEndpointSaved> ModelEndpoints::save(Store& store, const SecretsProvider& secrets,
                                                ModelEndpointChange change)
{
    // Whatever happens, this copy of the key does not outlive the call.
    struct Wipe
    {
        QByteArray& bytes;
        ~Wipe() { bytes.fill('\0'); }
    } wipe{change.newKey};
    if (auto ok = check(change); !ok)
        return std::unexpected(ok.error());

    auto existing = store.modelEndpoint(change.name);
    if (!existing && existing.error().code != Error::Code::NotFound)
        return std::unexpected(existing.error());
    ModelEndpointSaved out;
    out.updated = existing.has_value();
    ModelEndpointRecord& rec = out.record;
    rec.name = change.name;
    rec.api = change.api;
    rec.baseUrl = normalizedBaseUrl(change.baseUrl);
    rec.inputPricePerMTok = change.inputPricePerMTok;
    rec.outputPricePerMTok = change.outputPricePerMTok;
    const bool hadKey = existing && !existing->secretKey.isEmpty();
    out.keyNote = QStringLiteral("no API key");
    if (change.key == ModelEndpointChange::Key::Set ||
        change.key == ModelEndpointChange::Key::Drop || hadKey) {
        auto vault = openSecrets(secrets);
        if (!vault)
            return std::unexpected(vault.error());
        if (change.key == ModelEndpointChange::Key::Set) {
            if (auto ok = (*vault)->write(secretKeyFor(change.name), change.newKey); !ok)
                return std::unexpected(ok.error());
            rec.secretKey = secretKeyFor(change.name);
            out.keyNote = QStringLiteral("API key stored in the vault");
        } else if (change.key == ModelEndpointChange::Key::Drop) {
            // Absent already is fine: the point is that no key remains.
            if (auto ok = (*vault)->remove(secretKeyFor(change.name));
                !ok && ok.error().code != Error::Code::NotFound)
                return std::unexpected(ok.error());
        } else {
            rec.secretKey = existing->secretKey; // changing the URL keeps the key
            out.keyNote = QStringLiteral("kept the existing API key");
        }
    }
    if (auto ok = store.saveModelEndpoint(rec); !ok)
        return std::unexpected(ok.error());
    if (auto saved = store.modelEndpoint(rec.name))
        out.record = *saved;
    return out;
}

Result<QStringList> ModelEndpoints::remove(Store& store, const SecretsProvider& secrets,
                                           const QString& name)
{
    auto existing = store.modelEndpoint(name);
    if (!existing)
        return std::unexpected(existing.error());
    if (!existing->secretKey.isEmpty()) {
        auto vault = openSecrets(secrets);
        if (!vault)
            return std::unexpected(vault.error());
        if (auto ok = (*vault)->remove(existing->secretKey);
            !ok && ok.error().code != Error::Code::NotFound)
            return std::unexpected(ok.error());
    }
    if (auto ok = store.removeModelEndpoint(name); !ok)
        return std::unexpected(ok.error());
    QStringList users;
    if (auto agents = store.agentSummaries())
        for (const AgentSummary& a : *agents)
            if (a.modelEndpoint == name)
                users << a.id;
    return users;
}

} // namespace vivarium
