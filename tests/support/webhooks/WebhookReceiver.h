// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <functional>

namespace testsupport {

/**
 * The node webhook receiver (tests/support/webhooks/receiver.mjs) as a child process on
 * 127.0.0.1: every delivery is verified with the reference `standardwebhooks` library against
 * the secrets set for its path, recorded, and answered as scripted. Every call is bounded.
 */
class WebhookReceiver
{
public:
    WebhookReceiver() = default;
    ~WebhookReceiver();

    /** Start node and wait for the port; false with errorText() set if that fails. */
    bool start();
    void stop();
    QString errorText() const { return m_error; }
    quint16 port() const { return m_port; }
    /** "http://127.0.0.1:<port><path>" */
    QString url(const QString& path) const;

    /** Answers for `path`, in order, then 200 forever (see receiver.mjs for the fields). */
    bool script(const QString& path, const QJsonArray& responses, const QStringList& secrets = {});
    bool setSecrets(const QString& path, const QStringList& secrets);
    /** Every delivery so far, in arrival order. */
    QJsonArray deliveries() const;
    /** Deliveries whose path is `path`. */
    QJsonArray deliveriesTo(const QString& path) const;
    /** Re-verify every recorded delivery with `secrets`: [{id, verified: [..], errors: [..]}]. */
    QJsonArray verify(const QStringList& secrets) const;
    /** {"max_concurrent": N, "open": N} */
    QJsonObject stats() const;
    bool clear();

    /** Poll until `done(deliveries)` or `timeoutMs`. */
    bool waitFor(const std::function<bool(const QJsonArray&)>& done, int timeoutMs) const;
    /** Poll until at least `count` deliveries to `path` arrived. */
    bool waitForCount(const QString& path, int count, int timeoutMs) const;

private:
    QJsonValue call(const QByteArray& method, const QString& path, const QJsonObject& body) const;

    QProcess m_node;
    quint16 m_port = 0;
    QString m_error;
};

/** One blocking HTTP request on 127.0.0.1 with a timeout (QNetworkAccessManager + loop). */
struct HttpResult
{
    int status = 0; ///< 0: no answer
    QByteArray body;
    QString error;
    QList<QPair<QByteArray, QByteArray>> headers;
    QJsonObject json() const;
};
HttpResult httpRequest(const QByteArray& method, const QString& url, const QByteArray& body = {},
                       const QList<QPair<QByteArray, QByteArray>>& headers = {},
                       int timeoutMs = 15000);

} // namespace testsupport
