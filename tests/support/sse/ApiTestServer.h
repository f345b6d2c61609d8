// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "RawHttp.h"

#include <QByteArrayList>
#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QString>

#include <memory>

namespace testsupport {

/**
 * The real `vivarium serve --api` on 127.0.0.1 (a free port) over its own data directory, the
 * fake model vendor as a process beside it, and helpers to call the API as a script would.
 * Every response is kept so a test can scan them all for secrets at the end.
 */
class ApiTestServer
{
public:
    explicit ApiTestServer(QString dataDir);
    ~ApiTestServer();

    QString dataDir() const { return m_dataDir; }
    /** Start vivarium-fake-model with this script; returns its port (0 on failure). */
    quint16 startFakeModel(const QString& scriptPath, bool repeat = true);
    /** `vivarium serve --api --listen 127.0.0.1:0 --rate-limit 0 <extra>`; false + log. */
    bool startServe(const QStringList& extra = {});
    void stopServe();
    quint16 port() const { return m_port; }
    qint64 servePid() const;
    QByteArray serveLog() const { return m_serveLog; }

    /** `vivarium api-key create NAME --scope ...`: the secret. */
    QByteArray createKey(const QString& name, const QStringList& scopes);

    /** A request with `Authorization: Bearer key` (if any) and a JSON body (if any). */
    RawResponse call(const QByteArray& method, const QByteArray& path, const QByteArray& key,
                     const QJsonValue& body = QJsonValue::Undefined,
                     const QList<QPair<QByteArray, QByteArray>>& headers = {});
    /** Raw bytes, recorded like call(). */
    RawResponse raw(const QByteArray& bytes, int timeoutMs = 10000, qint64 keepSending = 0);
    /** Everything every response held (status lines, headers, bodies). */
    QByteArray transcript() const { return m_transcript; }

    /** Poll GET /v1/runs/{id} until terminal; the run, or an empty object on timeout. */
    QJsonObject waitForRun(const QByteArray& key, const QString& runId, int timeoutMs = 30000);

private:
    QString m_dataDir;
    std::unique_ptr<QProcess> m_serve;
    QList<std::shared_ptr<QProcess>> m_fakes;
    QByteArray m_serveLog;
    quint16 m_port = 0;
    QByteArray m_transcript;
};

} // namespace testsupport
