// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ApiTestServer.h"

#include "TestSupport.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

#include <csignal>

namespace testsupport {

ApiTestServer::ApiTestServer(QString dataDir)
    : m_dataDir(std::move(dataDir))
{}

ApiTestServer::~ApiTestServer()
{
    stopServe();
    for (auto& f : m_fakes) {
        f->kill();
        f->waitForFinished(5000);
    }
}

quint16 ApiTestServer::startFakeModel(const QString& scriptPath, bool repeat)
{
    auto p = std::make_shared<QProcess>();
    QStringList args{QStringLiteral("--script"), scriptPath};
    if (repeat)
        args << QStringLiteral("--repeat");
    p->start(bin(QStringLiteral("vivarium-fake-model")), args);
    if (!p->waitForStarted(10000))
        return 0;
    QElapsedTimer t;
    t.start();
    QByteArray out;
    while (t.elapsed() < 10000) {
        p->waitForReadyRead(200);
        out += p->readAllStandardOutput();
        const auto m =
            QRegularExpression(QStringLiteral("PORT (\\d+)")).match(QString::fromLatin1(out));
        if (m.hasMatch()) {
            m_fakes << p;
            return quint16(m.captured(1).toUInt());
        }
    }
    return 0;
}

bool ApiTestServer::startServe(const QStringList& extra)
{
    m_serve = std::make_unique<QProcess>();
    m_serveLog.clear();
    QStringList args{QStringLiteral("serve"),      QStringLiteral("--api"),
                     QStringLiteral("--listen"),   QStringLiteral("127.0.0.1:0"),
                     QStringLiteral("--data-dir"), m_dataDir};
    if (!extra.contains(QStringLiteral("--rate-limit")))
        args << QStringLiteral("--rate-limit") << QStringLiteral("0");
    args << extra;
    m_serve->start(bin(QStringLiteral("vivarium")), args);
    if (!m_serve->waitForStarted(10000))
        return false;
    QElapsedTimer t;
    t.start();
    static const QRegularExpression rx(QStringLiteral("HTTP API on http://127\\.0\\.0\\.1:(\\d+)"));
    while (t.elapsed() < 20000 && m_serve->state() == QProcess::Running) {
        m_serve->waitForReadyRead(100);
        m_serveLog += m_serve->readAllStandardError();
        const auto m = rx.match(QString::fromUtf8(m_serveLog));
        if (m.hasMatch()) {
            m_port = quint16(m.captured(1).toUInt());
            // Keep draining its log so the pipe never fills.
            QObject::connect(m_serve.get(), &QProcess::readyReadStandardError, m_serve.get(),
                             [this] { m_serveLog += m_serve->readAllStandardError(); });
            return true;
        }
    }
    m_serveLog += m_serve->readAllStandardError();
    qWarning().noquote() << "serve did not start:" << m_serveLog;
    return false;
}

void ApiTestServer::stopServe()
{
    if (!m_serve)
        return;
    if (m_serve->state() != QProcess::NotRunning) {
        ::kill(pid_t(m_serve->processId()), SIGTERM);
        if (!m_serve->waitForFinished(20000))
            m_serve->kill();
        m_serve->waitForFinished(5000);
    }
    m_serveLog += m_serve->readAllStandardError();
    m_serve.reset();
    m_port = 0;
}

qint64 ApiTestServer::servePid() const
{
    return m_serve ? m_serve->processId() : 0;
}

QByteArray ApiTestServer::createKey(const QString& name, const QStringList& scopes)
{
    QStringList args{QStringLiteral("api-key"), QStringLiteral("create"), name};
    for (const QString& s : scopes)
        args << QStringLiteral("--scope") << s;
    const ProcessResult r = runCli(m_dataDir, args);
    if (r.exitCode != 0) {
        qWarning().noquote() << r.describe();
        return {};
    }
    return r.out.trimmed();
}

RawResponse ApiTestServer::call(const QByteArray& method, const QByteArray& path,
                                const QByteArray& key, const QJsonValue& body,
                                const QList<QPair<QByteArray, QByteArray>>& headers)
{
    QList<QPair<QByteArray, QByteArray>> all = headers;
    if (!key.isEmpty())
        all.append(qMakePair(QByteArray("Authorization"), "Bearer " + key));
    QByteArray bytes;
    if (!body.isUndefined()) {
        all.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
        bytes = body.isArray() ? QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact)
                               : QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
    }
    return raw(rawRequest(m_port, method, path, all, bytes));
}

RawResponse ApiTestServer::raw(const QByteArray& bytes, int timeoutMs, qint64 keepSending)
{
    RawResponse r = rawExchange(m_port, bytes, timeoutMs, keepSending);
    m_transcript += QByteArray::number(r.status) + '\n';
    for (const auto& [k, v] : r.headers)
        m_transcript += k + ": " + v + '\n';
    m_transcript += r.body + '\n';
    return r;
}

QJsonObject ApiTestServer::waitForRun(const QByteArray& key, const QString& runId, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        const RawResponse r = call("GET", "/v1/runs/" + runId.toLatin1() + "?wait=5", key);
        const QJsonObject run = r.json().object();
        if (run.value(QStringLiteral("terminal")).toBool())
            return run;
        QTest::qWait(50);
    }
    return {};
}

} // namespace testsupport
