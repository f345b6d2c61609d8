// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// `vivarium connections test NAME`: the manifest's test operation, once, through the broker's
// rules, on the calling thread (vivarium/sandbox/ProviderCalls.h).
#include "vivarium/sandbox/ProviderCalls.h"

#include "BrokerLogging.h"
#include "ProviderCallPolicy.h"
#include "ProviderCaller.h"

#include "vivarium/core/Store.h"
#include "vivarium/sandbox/LlmClient.h"

#include <QElapsedTimer>
#include <QJsonDocument>

namespace vivarium {

namespace {

constexpr qint64 MaxTestBodyBytes = 256 * 1024;

std::unexpected<Error> refused(const ProviderCallError& e)
{
    const Error::Code code = e.kind == QLatin1String("policy") || e.kind == QLatin1String("config")
                                 ? Error::Code::Validation
                                 : Error::Code::Io;
    return fail(code, QStringLiteral("%1 (%2): %3").arg(e.kind, e.rule, e.message));
}

} // namespace

Result<ConnectionTestResult> testConnection(const ProviderManifest& manifest,
                                            const ConnectionRecord& connection,
                                            SecretStore& secrets,
                                            const ProviderCallOptions& options)
{
    QElapsedTimer clock;
    clock.start();
    if (manifest.testOperation.isEmpty())
        return fail(Error::Code::Unsupported,
                    QStringLiteral("provider \"%1\" has no test operation: make a call with it "
                                   "to see whether the connection works")
                        .arg(manifest.id));
    if (connection.provider != manifest.id)
        return fail(Error::Code::Validation,
                    QStringLiteral("connection \"%1\" is of provider \"%2\", not \"%3\"")
                        .arg(connection.name, connection.provider, manifest.id));
    auto rendered = ProviderCatalog::render(manifest, manifest.testOperation, {}, connection.meta);
    if (!rendered)
        return std::unexpected(rendered.error());

    ProviderCallRequest request;
    request.provider = manifest.id;
    request.connection = connection.name;
    request.operation = manifest.testOperation;
    request.method = rendered->method;
    request.url = rendered->url;
    for (const auto& [name, value] : std::as_const(rendered->headers))
        request.headers.append({QString::fromLatin1(name), QString::fromUtf8(value)});
    request.body = rendered->body;
    ProviderGrant grant;
    grant.provider = manifest.id;
    grant.connection = connection.name;
    grant.operations = {manifest.testOperation};
    grant.authorizedUris = manifest.authorizedUris;
    // a) and b): the same request checks and the manifest's authorized URIs.
    auto checked = ProviderCallPolicy({grant}, options.maxRequestBodyBytes).check(request);
    if (!checked)
        return refused(checked.error());

    ProviderCallJob job;
    job.call = *checked;
    for (const QString& e : options.localEndpoints) {
        if (ProviderCallPolicy::normalizeEndpoint(e) == checked->url.endpoint())
            job.explicitlyLocal = true;
    }
    std::optional<ProviderCredential> credential;
    if (auto c = ConnectionCredentialSource::forRecord(manifest, connection, &secrets)) {
        credential = std::move(*c);
    } else if (c.error().code != Error::Code::NotFound) {
        return std::unexpected(c.error());
    }
    auto state = ProviderCaller::attachCredential(job, std::move(credential), connection.name);
    if (!state)
        return refused(state.error());

    // c) to f): resolve and check, pin, TLS, the credential, limits, redaction.
    job.resolver = options.resolver;
    job.maxResponseBytes = qMin(options.maxResponseBytes, MaxTestBodyBytes);
    job.connectTimeoutMs = options.connectTimeoutMs;
    job.totalTimeoutMs = options.totalTimeoutMs;
    const CancelToken never;
    const ProviderCallOutcome outcome = ProviderCaller::execute(job, never);

    ConnectionTestResult result;
    result.operation = manifest.testOperation;
    result.url = checked->url.auditUrl();
    result.credential = *state;
    result.latencyMs = clock.elapsed();
    if (outcome.error)
        return refused(*outcome.error);
    result.status = outcome.status;
    result.ok = outcome.status >= 200 && outcome.status < 300;
    const QJsonDocument doc = QJsonDocument::fromJson(outcome.body);
    if (doc.isObject())
        result.body = doc.object();
    const QString what =
        QStringLiteral("HTTP %1 from %2 %3").arg(outcome.status).arg(checked->method, result.url);
    if (result.ok) {
        result.message = what;
    } else if (outcome.status == 401 || outcome.status == 403) {
        result.message = what + (*state == QLatin1String("injected")
                                     ? QStringLiteral(": the provider rejected the credential; "
                                                      "run `vivarium connect %1 --name %2` again")
                                           .arg(manifest.id, connection.name)
                                     : QStringLiteral(": no credential was sent (%1)").arg(*state));
    } else {
        result.message = what;
    }
    qCInfo(lcBroker).noquote() << "connection test" << connection.name << "->" << result.message;
    return result;
}

} // namespace vivarium
