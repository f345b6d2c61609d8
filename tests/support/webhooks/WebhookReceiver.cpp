// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "WebhookReceiver.h"

#include "TestSupport.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QThread>
#include <QTimer>

namespace testsupport {

HttpResult httpRequest(const QByteArray& method, const QString& url, const QByteArray& body,
                       const QList<QPair<QByteArray, QByteArray>>& headers, int timeoutMs)
{
    QNetworkAccessManager nam;
    nam.setProxy(QNetworkProxy::NoProxy);
    QNetworkRequest request{QUrl(url)};
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    bool hasType = false;
    for (const auto& [name, value] : headers) {
        request.setRawHeader(name, value);
        hasType = hasType || name.compare("content-type", Qt::CaseInsensitive) == 0;
    }
    if (!body.isEmpty() && !hasType)
        request.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/json"));
    QNetworkReply* reply = nam.sendCustomRequest(request, method, body);
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    timer.start(timeoutMs);
    loop.exec();
    HttpResult r;
    if (!reply->isFinished()) {
        reply->abort();
        r.error = QStringLiteral("timed out after %1 ms").arg(timeoutMs);
    } else {
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.headers = reply->rawHeaderPairs();
        if (r.status == 0)
            r.error = reply->errorString();
    }
    delete reply;
    return r;
}

QJsonObject HttpResult::json() const
{
    return QJsonDocument::fromJson(body).object();
}

WebhookReceiver::~WebhookReceiver()
{
    stop();
}

bool WebhookReceiver::start()
{
    const QString script =
        QDir(sourceDir()).absoluteFilePath(QStringLiteral("tests/support/webhooks/receiver.mjs"));
    m_node.setProgram(QStringLiteral("node"));
    m_node.setArguments({script});
    m_node.setProcessChannelMode(QProcess::SeparateChannels);
    m_node.start();
    if (!m_node.waitForStarted(10000)) {
        m_error = QStringLiteral("cannot start node: %1").arg(m_node.errorString());
        return false;
    }
    QByteArray out;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 15000 && !out.contains('\n')) {
        m_node.waitForReadyRead(200);
        out += m_node.readAllStandardOutput();
        if (m_node.state() != QProcess::Running)
            break;
    }
    const QJsonObject hello = QJsonDocument::fromJson(out.left(out.indexOf('\n'))).object();
    m_port = quint16(hello.value(QStringLiteral("port")).toInt());
    if (m_port == 0) {
        m_error =
            QStringLiteral("receiver did not report its port: %1 %2")
                .arg(QString::fromUtf8(out), QString::fromUtf8(m_node.readAllStandardError()));
        return false;
    }
    return true;
}

void WebhookReceiver::stop()
{
    if (m_node.state() == QProcess::NotRunning)
        return;
    m_node.closeWriteChannel(); // the receiver exits when stdin ends
    if (!m_node.waitForFinished(3000)) {
        m_node.kill();
        m_node.waitForFinished(3000);
    }
}

QString WebhookReceiver::url(const QString& path) const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path);
}

QJsonValue WebhookReceiver::call(const QByteArray& method, const QString& path,
                                 const QJsonObject& body) const
{
    const HttpResult r = httpRequest(
        method, url(path),
        method == "GET" ? QByteArray() : QJsonDocument(body).toJson(QJsonDocument::Compact), {},
        10000);
    if (r.status != 200) {
        qWarning().noquote() << "receiver" << path << r.status << r.error << r.body;
        return QJsonValue();
    }
    const QJsonDocument doc = QJsonDocument::fromJson(r.body);
    return doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());
}

bool WebhookReceiver::script(const QString& path, const QJsonArray& responses,
                             const QStringList& secrets)
{
    QJsonObject body{{QStringLiteral("path"), path}, {QStringLiteral("responses"), responses}};
    if (!secrets.isEmpty())
        body.insert(QStringLiteral("secrets"), QJsonArray::fromStringList(secrets));
    return call("POST", QStringLiteral("/__control/script"), body).isObject();
}

bool WebhookReceiver::setSecrets(const QString& path, const QStringList& secrets)
{
    return call("POST", QStringLiteral("/__control/secrets"),
                {{QStringLiteral("path"), path},
                 {QStringLiteral("secrets"), QJsonArray::fromStringList(secrets)}})
        .isObject();
}

QJsonArray WebhookReceiver::deliveries() const
{
    return call("GET", QStringLiteral("/__control/deliveries"), {}).toArray();
}

QJsonArray WebhookReceiver::deliveriesTo(const QString& path) const
{
    QJsonArray out;
    for (const QJsonValue& d : deliveries()) {
        if (d.toObject().value(QStringLiteral("path")).toString() == path)
            out.append(d);
    }
    return out;
}

QJsonArray WebhookReceiver::verify(const QStringList& secrets) const
{
    return call("POST", QStringLiteral("/__control/verify"),
                {{QStringLiteral("secrets"), QJsonArray::fromStringList(secrets)}})
        .toArray();
}

QJsonObject WebhookReceiver::stats() const
{
    return call("GET", QStringLiteral("/__control/stats"), {}).toObject();
}

bool WebhookReceiver::clear()
{
    return call("POST", QStringLiteral("/__control/clear"), {}).isObject();
}

bool WebhookReceiver::waitFor(const std::function<bool(const QJsonArray&)>& done,
                              int timeoutMs) const
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (done(deliveries()))
            return true;
        // Keep the caller's event loop turning: an in-process service delivers meanwhile.
        QEventLoop loop;
        QTimer::singleShot(50, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return done(deliveries());
}

bool WebhookReceiver::waitForCount(const QString& path, int count, int timeoutMs) const
{
    return waitFor(
        [&](const QJsonArray& all) {
            int n = 0;
            for (const QJsonValue& d : all)
                n += d.toObject().value(QStringLiteral("path")).toString() == path ? 1 : 0;
            return n >= count;
        },
        timeoutMs);
}

} // namespace testsupport
