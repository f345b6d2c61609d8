// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QUrlQuery>

namespace testsupport {

/**
 * The real OAuth server of the connection tests (tests/support/oidc/server.mjs, oidc-provider
 * from tests/npm) as a child process on 127.0.0.1, plus blocking helpers for its test
 * controls. Fails loudly when node or the npm packages are missing: CI has both.
 */
class OidcServer
{
public:
    OidcServer() = default;
    ~OidcServer();
    OidcServer(const OidcServer&) = delete;
    OidcServer& operator=(const OidcServer&) = delete;

    /** Start with extra server.mjs arguments (--access-ttl 8 ...). Empty string: started. */
    QString start(const QStringList& args = {});
    void stop();

    quint16 port() const { return m_port; }
    QString issuer() const { return m_issuer; }
    QString url(const QString& path) const { return m_issuer + path; }
    /** A client's secret ("vivarium-post", "vivarium-basic"); empty for vivarium-public. */
    QByteArray clientSecret(const QString& clientId) const;
    /** What the server printed on stderr so far. */
    QByteArray log();

    struct Reply
    {
        int status = 0;
        QByteArray body;
        QJsonObject json() const;
    };
    Reply get(const QString& pathOrUrl);
    Reply post(const QString& pathOrUrl, const QByteArray& formBody = {},
               const QByteArray& authorization = {});

    /** /test/browse: the server's scripted browser follows `url`. */
    QJsonObject browse(const QString& url, bool deny = false, bool follow = false);
    QJsonObject stats() { return get(QStringLiteral("/test/stats")).json(); }

    /**
     * A provider manifest for this server (user manifest JSON). `tokenAuth`:
     * client_secret_post | client_secret_basic | none.
     */
    QByteArray manifest(const QString& id,
                        const QString& tokenAuth = QStringLiteral("client_secret_post"),
                        bool withDevice = true, const QString& issuer = {}) const;

private:
    QProcess m_process;
    QByteArray m_log;
    quint16 m_port = 0;
    QString m_issuer;
    QJsonObject m_clients;
};

/** The node binary (QFAIL-worthy when empty). */
QString nodeBinary();
/** tests/support/oidc/browse.mjs as a $BROWSER command line. */
QString browserCommand(bool deny = false);

} // namespace testsupport
