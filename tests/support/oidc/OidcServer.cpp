// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "OidcServer.h"

#include "TestSupport.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QStandardPaths>
#include <QTimer>
#include <QUrl>

namespace testsupport {

QString nodeBinary()
{
    return QStandardPaths::findExecutable(QStringLiteral("node"));
}

QString browserCommand(bool deny)
{
    QString cmd = nodeBinary() + QLatin1Char(' ') + sourceDir() +
                  QStringLiteral("/tests/support/oidc/browse.mjs");
    if (deny)
        cmd += QStringLiteral(" --deny");
    return cmd;
}

OidcServer::~OidcServer()
{
    stop();
}

QString OidcServer::start(const QStringList& args)
{
    const QString node = nodeBinary();
    if (node.isEmpty())
        return QStringLiteral("node is not on PATH (CI installs Node 20)");
    const QString script = sourceDir() + QStringLiteral("/tests/support/oidc/server.mjs");
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    m_process.start(node, QStringList{script} + args);
    if (!m_process.waitForStarted(10'000))
        return QStringLiteral("could not start node: %1").arg(m_process.errorString());
    QElapsedTimer t;
    t.start();
    while (!m_process.canReadLine() && t.elapsed() < 20'000 &&
           m_process.state() == QProcess::Running)
        m_process.waitForReadyRead(200);
    m_log += m_process.readAllStandardError();
    if (!m_process.canReadLine())
        return QStringLiteral("server.mjs did not start (is `npm ci` done in tests/npm?): %1")
            .arg(QString::fromUtf8(m_log));
    const QJsonObject hello = QJsonDocument::fromJson(m_process.readLine()).object();
    m_port = quint16(hello.value(QStringLiteral("port")).toInt());
    m_issuer = hello.value(QStringLiteral("issuer")).toString();
    m_clients = hello.value(QStringLiteral("clients")).toObject();
    if (m_port == 0)
        return QStringLiteral("server.mjs printed no port");
    return {};
}

void OidcServer::stop()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.closeWriteChannel(); // the server exits when its stdin closes
        if (!m_process.waitForFinished(3000)) {
            m_process.kill();
            m_process.waitForFinished(3000);
        }
    }
}

QByteArray OidcServer::clientSecret(const QString& clientId) const
{
    return m_clients.value(clientId).toObject().value(QStringLiteral("secret")).toString().toUtf8();
}

QByteArray OidcServer::log()
{
    m_log += m_process.readAllStandardError();
    return m_log;
}

QJsonObject OidcServer::Reply::json() const
{
    return QJsonDocument::fromJson(body).object();
}

namespace {

OidcServer::Reply exchange(const QByteArray& method, const QUrl& url, const QByteArray& body,
                           const QByteArray& authorization)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(60'000);
    if (method == "POST")
        request.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/x-www-form-urlencoded"));
    if (!authorization.isEmpty())
        request.setRawHeader("Authorization", authorization);
    QNetworkReply* reply = method == "POST" ? nam.post(request, body) : nam.get(request);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(65'000, &loop, &QEventLoop::quit);
    loop.exec();
    OidcServer::Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    delete reply;
    return r;
}

} // namespace

OidcServer::Reply OidcServer::get(const QString& pathOrUrl)
{
    const QString u = pathOrUrl.startsWith(QLatin1Char('/')) ? url(pathOrUrl) : pathOrUrl;
    return exchange("GET", QUrl(u), {}, {});
}

OidcServer::Reply OidcServer::post(const QString& pathOrUrl, const QByteArray& formBody,
                                   const QByteArray& authorization)
{
    const QString u = pathOrUrl.startsWith(QLatin1Char('/')) ? url(pathOrUrl) : pathOrUrl;
    return exchange("POST", QUrl(u), formBody, authorization);
}

QJsonObject OidcServer::browse(const QString& target, bool deny, bool follow)
{
    QString path =
        QStringLiteral("/test/browse?url=") + QString::fromLatin1(QUrl::toPercentEncoding(target));
    if (deny)
        path += QStringLiteral("&deny=1");
    if (follow)
        path += QStringLiteral("&follow=1");
    return get(path).json();
}

QByteArray OidcServer::manifest(const QString& id, const QString& tokenAuth, bool withDevice,
                                const QString& issuer) const
{
    QJsonObject auth{
        {QStringLiteral("type"), QStringLiteral("oauth2")},
        {QStringLiteral("authorization_endpoint"), url(QStringLiteral("/auth"))},
        {QStringLiteral("token_endpoint"), url(QStringLiteral("/token"))},
        {QStringLiteral("revocation_endpoint"), url(QStringLiteral("/token/revocation"))},
        {QStringLiteral("userinfo_endpoint"), url(QStringLiteral("/me"))},
        {QStringLiteral("issuer"), issuer.isEmpty() ? m_issuer : issuer},
        {QStringLiteral("scopes"), QJsonArray{QStringLiteral("openid"), QStringLiteral("email"),
                                              QStringLiteral("things:read")}},
        {QStringLiteral("pkce"), true},
        {QStringLiteral("token_endpoint_auth"), tokenAuth},
        {QStringLiteral("setup_url"), url(QStringLiteral("/apps"))}};
    if (withDevice)
        auth.insert(QStringLiteral("device_authorization_endpoint"),
                    url(QStringLiteral("/device/auth")));
    const QJsonObject op{{QStringLiteral("name"), QStringLiteral("me")},
                         {QStringLiteral("description"), QStringLiteral("Who the connection is.")},
                         {QStringLiteral("method"), QStringLiteral("GET")},
                         {QStringLiteral("path"), QStringLiteral("/me")},
                         {QStringLiteral("writes"), false},
                         {QStringLiteral("parameters"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                                      {QStringLiteral("properties"), QJsonObject{}},
                                      {QStringLiteral("additionalProperties"), false}}}};
    const QJsonObject m{
        {QStringLiteral("id"), id},
        {QStringLiteral("name"), QStringLiteral("Test IdP")},
        {QStringLiteral("description"), QStringLiteral("oidc-provider on 127.0.0.1")},
        {QStringLiteral("base_url"), m_issuer},
        {QStringLiteral("auth"), auth},
        {QStringLiteral("authorized_uris"), QJsonArray{QString(m_issuer + QStringLiteral("/**"))}},
        {QStringLiteral("test_operation"), QStringLiteral("me")},
        {QStringLiteral("operations"), QJsonArray{op}}};
    return QJsonDocument(m).toJson();
}

} // namespace testsupport
