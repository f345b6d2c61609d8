// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ProviderTools.h"

#include "BrokerConnection.h"
#include "JsonText.h"
#include "RunSpec.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace vivarium::runner {

namespace {

/** The body shown to the model: the same budget as file_read, so one call cannot flood it. */
constexpr qsizetype MaxBodyBytes = ToolBox::MaxReadBytes;
/** Header text shown; the rest is rarely useful to a model. */
constexpr qsizetype MaxHeaderBytes = 4 * 1024;
constexpr qsizetype MaxListedUris = 20;

QString grantName(const QJsonObject& grant)
{
    const QString provider = grant.value(QStringLiteral("provider")).toString();
    const QString connection = grant.value(QStringLiteral("connection")).toString();
    return connection.isEmpty() ? provider : provider + QLatin1Char('/') + connection;
}

ToolSpec httpRequestSpec(const RunSpec& spec)
{
    QJsonArray providers;
    QStringList reach;
    qsizetype listed = 0;
    for (const QJsonValue& g : spec.providers) {
        const QJsonObject grant = g.toObject();
        const QString provider = grant.value(QStringLiteral("provider")).toString();
        if (!providers.contains(provider))
            providers.append(provider);
        QStringList uris;
        for (const QJsonValue& u : grant.value(QStringLiteral("authorized_uris")).toArray()) {
            if (listed++ < MaxListedUris)
                uris.append(u.toString());
        }
        reach.append(QStringLiteral("%1: %2").arg(
            grantName(grant), uris.isEmpty() ? QStringLiteral("(no authorized URIs: every call "
                                                              "is refused)")
                                             : uris.join(QStringLiteral(", "))));
    }
    const QString description =
        QStringLiteral(
            "Make one HTTP request to a provider this agent is connected to. The request goes "
            "through the broker, which allows only the agent's authorized URIs (a leading ! "
            "denies), adds the connection's credential itself (never set Authorization, Cookie "
            "or Host), does not follow redirects, and removes secrets from the answer. The "
            "result starts with the HTTP status line and headers, then the body (at most 65536 "
            "bytes shown). A 3xx is returned with its Location; request that URL yourself if "
            "it is authorized. Refusals say which rule refused. Authorized here:\n- ") +
        reach.join(QStringLiteral("\n- "));
    QJsonObject properties{
        {QStringLiteral("provider"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                     {QStringLiteral("enum"), providers},
                     {QStringLiteral("description"),
                      QStringLiteral("Provider to use; may be left out when only one provider "
                                     "allows the URL.")}}},
        {QStringLiteral("connection"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                     {QStringLiteral("description"),
                      QStringLiteral("Connection of the provider; left out: the one granted.")}}},
        {QStringLiteral("method"),
         QJsonObject{
             {QStringLiteral("type"), QStringLiteral("string")},
             {QStringLiteral("enum"),
              QJsonArray{QStringLiteral("GET"), QStringLiteral("HEAD"), QStringLiteral("POST"),
                         QStringLiteral("PUT"), QStringLiteral("PATCH"), QStringLiteral("DELETE"),
                         QStringLiteral("OPTIONS")}}}},
        {QStringLiteral("url"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                     {QStringLiteral("minLength"), 1},
                     {QStringLiteral("description"),
                      QStringLiteral("Absolute https:// URL, query string included.")}}},
        {QStringLiteral("headers"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                     {QStringLiteral("additionalProperties"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}},
                     {QStringLiteral("description"),
                      QStringLiteral("Extra request headers, e.g. {\"Accept\": "
                                     "\"application/json\"}.")}}},
        {QStringLiteral("body"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                     {QStringLiteral("description"),
                      QStringLiteral("Request body (text), e.g. JSON; set Content-Type.")}}}};
    return {QStringLiteral("http_request"), description,
            QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                        {QStringLiteral("properties"), properties},
                        {QStringLiteral("required"),
                         QJsonArray{QStringLiteral("method"), QStringLiteral("url")}},
                        {QStringLiteral("additionalProperties"), false}}};
}

} // namespace

ToolResult providerResult(const QJsonObject& answer)
{
    if (!answer.value(QStringLiteral("ok")).toBool()) {
        const QJsonObject e = answer.value(QStringLiteral("error")).toObject();
        const QString kind = e.value(QStringLiteral("kind")).toString();
        const QString rule = e.value(QStringLiteral("rule")).toString();
        const QString message = e.value(QStringLiteral("message")).toString();
        if (kind == QLatin1String("policy"))
            return {QStringLiteral("the broker refused this request (%1): %2").arg(rule, message),
                    true};
        return {QStringLiteral("the request failed (%1): %2").arg(kind, message), true};
    }
    const QJsonObject r = answer.value(QStringLiteral("response")).toObject();
    const int status = r.value(QStringLiteral("status")).toInt();
    QString head = QStringLiteral("HTTP %1\n").arg(status);
    const QJsonObject headers = r.value(QStringLiteral("headers")).toObject();
    QString headerText;
    for (auto it = headers.begin(); it != headers.end(); ++it)
        headerText += it.key() + QStringLiteral(": ") + it.value().toString() + QLatin1Char('\n');
    head += truncateWithNote(headerText, MaxHeaderBytes);

    QString body = r.value(QStringLiteral("body")).toString();
    const qint64 bytes = qint64(r.value(QStringLiteral("bytes")).toDouble());
    if (r.value(QStringLiteral("body_encoding")).toString() == QLatin1String("base64"))
        body = QStringLiteral("[binary body of %1 bytes, base64-encoded]\n").arg(bytes) + body;
    QString text = head + QLatin1Char('\n') + truncateWithNote(body, MaxBodyBytes);
    if (r.value(QStringLiteral("truncated")).toBool())
        text += QStringLiteral("\n[the broker cut the response at its size limit]");
    if (status >= 300 && status < 400 && headers.contains(QStringLiteral("location")))
        text += QStringLiteral("\n[redirect not followed: request %1 yourself if it is an "
                               "authorized URI]")
                    .arg(headers.value(QStringLiteral("location")).toString());
    const QString credential = r.value(QStringLiteral("credential")).toString();
    if ((status == 401 || status == 403) && credential != QLatin1String("injected"))
        text += QStringLiteral("\n[no credential was sent: this host is not the one the "
                               "connection's credential is bound to]");
    return {text, status >= 400};
}

namespace {

/**
 * A manifest operation as a tool. When several connections grant it, the model picks one with
 * a required `connection` argument (manifests may not use that name).
 */
void addOperationTool(ToolBox& tools, BrokerConnection& broker, const QJsonObject& op)
{
    const QString name = op.value(QStringLiteral("name")).toString();
    if (tools.names().contains(name))
        return; // a built-in tool of that name wins; the operation stays reachable by http_request
    const QString provider = op.value(QStringLiteral("provider")).toString();
    const QString operation = op.value(QStringLiteral("operation")).toString();
    QStringList connections;
    for (const QJsonValue& c : op.value(QStringLiteral("connections")).toArray())
        connections.append(c.toString());
    QJsonObject parameters = op.value(QStringLiteral("parameters")).toObject();
    const bool choose = connections.size() > 1;
    if (choose) {
        QJsonObject props = parameters.value(QStringLiteral("properties")).toObject();
        QJsonArray names;
        for (const QString& c : std::as_const(connections))
            names.append(c);
        props.insert(QStringLiteral("connection"),
                     QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                 {QStringLiteral("enum"), names},
                                 {QStringLiteral("description"),
                                  QStringLiteral("Which connection of %1 to use.").arg(provider)}});
        parameters.insert(QStringLiteral("properties"), props);
        QJsonArray required = parameters.value(QStringLiteral("required")).toArray();
        required.append(QStringLiteral("connection"));
        parameters.insert(QStringLiteral("required"), required);
    }
    const QString fixed = connections.size() == 1 ? connections.first() : QString();
    tools.addTool(
        {name, op.value(QStringLiteral("description")).toString(), parameters},
        [&broker, provider, operation, choose, fixed](const QJsonObject& args) -> ToolResult {
            QJsonObject rest = args;
            const QString connection =
                choose ? rest.take(QStringLiteral("connection")).toString() : fixed;
            QJsonObject call{{QStringLiteral("provider"), provider},
                             {QStringLiteral("operation"), operation},
                             {QStringLiteral("args"), rest}};
            if (!connection.isEmpty())
                call.insert(QStringLiteral("connection"), connection);
            const auto answer =
                broker.request({{QStringLiteral("type"), QStringLiteral("provider")},
                                {QStringLiteral("call"), call}});
            if (!answer)
                return {QStringLiteral("the broker is unreachable: ") + broker.error(), true};
            return providerResult(*answer);
        });
}

} // namespace

void addProviderTools(ToolBox& tools, BrokerConnection& broker, const RunSpec& spec)
{
    for (const QJsonValue& op : spec.operations)
        addOperationTool(tools, broker, op.toObject());
    if (!spec.hasProviders)
        return;
    tools.addTool(httpRequestSpec(spec), [&broker](const QJsonObject& args) -> ToolResult {
        QJsonObject call;
        for (const char* key : {"provider", "connection", "method", "url", "headers", "body"}) {
            const QJsonValue v = args.value(QLatin1String(key));
            if (!v.isUndefined())
                call.insert(QLatin1String(key), v);
        }
        const auto answer = broker.request(
            {{QStringLiteral("type"), QStringLiteral("provider")}, {QStringLiteral("call"), call}});
        if (!answer)
            return {QStringLiteral("the broker is unreachable: ") + broker.error(), true};
        return providerResult(*answer);
    });
}

} // namespace vivarium::runner
