// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The OAuth client, the token store and the engine's refresher against a real, strict
// authorization server (oidc-provider, tests/support/oidc/server.mjs): PKCE and single-use
// codes enforced by the server, the three client authentication methods, refresh token
// rotation and reuse detection ending in needs_reconnect, one refresh in flight across threads,
// revocation, `iss`, and the refresher keeping a short-lived token fresh on its own.
#include "OidcServer.h"
#include "TestSupport.h"

#include "vivarium/core/ConnectionRefresher.h"
#include "vivarium/core/ConnectionTokens.h"
#include "vivarium/core/OAuthClient.h"
#include "vivarium/core/Paths.h"
#include "vivarium/core/ProviderManifest.h"
#include "vivarium/core/SecretStore.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace vivarium;
using namespace testsupport;

namespace {

#define VERIFY_OK(expr)                                                                            \
    do {                                                                                           \
        const auto& result_ = (expr);                                                              \
        QVERIFY2(result_.has_value(), qPrintable(result_ ? QString() : result_.error().message));  \
    } while (0)

const QString Redirect = QStringLiteral("http://127.0.0.1:49152/callback");

/** A data directory with a store, a memory vault and the server's manifest. */
struct Fixture
{
    QTemporaryDir dir;
    std::unique_ptr<Store> store;
    MemorySecretStore secrets;
    ProviderManifest manifest;

    QString dataDir() const { return dir.path(); }
    ConnectionTokens tokens() { return ConnectionTokens(*store, secrets, dataDir()); }
};

} // namespace

class tst_ConnectOAuth : public QObject
{
    Q_OBJECT
private:
    OidcServer m_server;

    /** Fixture for client `clientId` with its auth method. */
    bool setUp(Fixture& f, OidcServer& server,
               const QString& clientId = QStringLiteral("vivarium-post"),
               const QString& method = QStringLiteral("client_secret_post"))
    {
        if (!f.dir.isValid())
            return false;
        auto store = Store::open(f.dir.filePath(QStringLiteral("vivarium.db")));
        if (!store)
            return false;
        f.store = std::move(*store);
        const QByteArray json = server.manifest(QStringLiteral("testidp"), method);
        if (!writeFile(f.dir.filePath(QStringLiteral("providers/testidp.json")), json))
            return false;
        auto m = ProviderCatalog::load(f.dir.filePath(QStringLiteral("providers")))
                     .find(QStringLiteral("testidp"));
        if (!m) {
            qWarning() << m.error().toString();
            return false;
        }
        f.manifest = *m;
        if (!Settings(*f.store).set(QStringLiteral("oauth.testidp.client_id"), clientId))
            return false;
        const QByteArray secret = server.clientSecret(clientId);
        if (!secret.isEmpty())
            (void)f.secrets.write(
                ConnectionSecretKeys::oauthClientSecret(QStringLiteral("testidp")), secret);
        return true;
    }

    OAuthClient client(Fixture& f)
    {
        auto id = ConnectionTokens::clientIdentity(*f.store, f.secrets, f.manifest);
        return OAuthClient(f.manifest.auth.oauth2, id ? *id : OAuthClientIdentity{});
    }

    /** The browser part: sign in and consent, return what the redirect carried. */
    AuthorizationResponse authorize(OidcServer& server, const PendingAuthorization& p)
    {
        const QJsonObject r = server.browse(p.authorizationUrl.toString(QUrl::FullyEncoded));
        auto parsed = AuthorizationResponse::parse(r.value(QStringLiteral("redirect")).toString());
        return parsed ? *parsed : AuthorizationResponse{};
    }

    /** A connection "work" with a fresh grant saved through ConnectionTokens. */
    bool connect(Fixture& f, OidcServer& server)
    {
        OAuthClient c = client(f);
        auto p = c.beginAuthorization(Redirect, f.manifest.auth.oauth2.scopes);
        if (!p)
            return false;
        const AuthorizationResponse r = authorize(server, *p);
        if (!c.checkAuthorizationResponse(*p, r))
            return false;
        auto t = c.exchangeCode(*p, r.code);
        if (!t)
            return false;
        ConnectionRecord rec;
        rec.name = QStringLiteral("work");
        rec.provider = QStringLiteral("testidp");
        rec.auth = QStringLiteral("oauth2");
        rec.scopes = p->scopes;
        return f.tokens().saveGrant(rec, *t).has_value();
    }

    QByteArray vault(Fixture& f, const QString& which)
    {
        const QString key =
            which == QLatin1String("refresh")
                ? ConnectionSecretKeys::refreshToken(QStringLiteral("testidp"),
                                                     QStringLiteral("work"))
                : ConnectionSecretKeys::token(QStringLiteral("testidp"), QStringLiteral("work"));
        return f.secrets.read(key).value_or(QByteArray());
    }

private slots:
    void initTestCase()
    {
        const QString error = m_server.start();
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void codeFlowWithEachClientAuthentication_data()
    {
        QTest::addColumn<QString>("clientId");
        QTest::addColumn<QString>("method");
        QTest::newRow("client_secret_post") << "vivarium-post"
                                            << "client_secret_post";
        QTest::newRow("client_secret_basic") << "vivarium-basic"
                                             << "client_secret_basic";
        QTest::newRow("none (public, PKCE)") << "vivarium-public"
                                             << "none";
    }
    void codeFlowWithEachClientAuthentication()
    {
        QFETCH(QString, clientId);
        QFETCH(QString, method);
        Fixture f;
        QVERIFY(setUp(f, m_server, clientId, method));
        OAuthClient c = client(f);
        auto p = c.beginAuthorization(Redirect, f.manifest.auth.oauth2.scopes);
        VERIFY_OK(p);
        const AuthorizationResponse r = authorize(m_server, *p);
        QVERIFY(!r.code.isEmpty());
        QVERIFY(r.hasIss); // RFC 9207: the server says who it is
        QCOMPARE(r.iss, m_server.issuer());
        VERIFY_OK(c.checkAuthorizationResponse(*p, r));
        auto t = c.exchangeCode(*p, r.code);
        VERIFY_OK(t);
        QVERIFY(!t->accessToken.isEmpty());
        QVERIFY(!t->refreshToken.isEmpty());
        QCOMPARE(t->tokenType, QStringLiteral("Bearer"));
        QVERIFY(t->expiresAt > QDateTime::currentDateTimeUtc());
        QCOMPARE(t->scopes, (QStringList{QStringLiteral("openid"), QStringLiteral("email"),
                                         QStringLiteral("things:read")}));
        auto info = c.userinfo(t->accessToken);
        VERIFY_OK(info);
        QCOMPARE(OAuthClient::accountFromUserinfo(*info), QStringLiteral("test-user@example.test"));
    }

    void wrongClientSecretIsInvalidClient()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        (void)f.secrets.write(ConnectionSecretKeys::oauthClientSecret(QStringLiteral("testidp")),
                              "not-the-secret");
        OAuthClient c = client(f);
        auto p = c.beginAuthorization(Redirect, {QStringLiteral("openid")});
        const AuthorizationResponse r = authorize(m_server, *p);
        auto t = c.exchangeCode(*p, r.code);
        QVERIFY(!t);
        QVERIFY2(t.error().is("invalid_client"), qPrintable(t.error().message));
        QVERIFY(!t.error().message.contains(QStringLiteral("not-the-secret")));
    }

    void wrongPkceVerifierIsRejected()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        OAuthClient c = client(f);
        auto p = c.beginAuthorization(Redirect, {QStringLiteral("openid")});
        const AuthorizationResponse r = authorize(m_server, *p);
        PendingAuthorization tampered = *p;
        tampered.codeVerifier = OAuthClient::randomToken(); // an attacker's guess
        auto t = c.exchangeCode(tampered, r.code);
        QVERIFY(!t);
        QVERIFY2(t.error().is("invalid_grant"), qPrintable(t.error().message));
        QCOMPARE(int(t.error().kind), int(OAuthError::Kind::Protocol));
        QCOMPARE(t.error().httpStatus, 400);
        QVERIFY2(t.error().message.startsWith(QStringLiteral("the token endpoint refused the "
                                                             "request: invalid_grant")),
                 qPrintable(t.error().message));
        // And no verifier at all is refused too (PKCE is required).
        tampered.codeVerifier.clear();
        auto none = c.exchangeCode(tampered, r.code);
        QVERIFY(!none);
    }

    void reusedCodeIsRejected()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        OAuthClient c = client(f);
        auto p = c.beginAuthorization(Redirect, {QStringLiteral("openid")});
        const AuthorizationResponse r = authorize(m_server, *p);
        auto first = c.exchangeCode(*p, r.code);
        VERIFY_OK(first);
        auto second = c.exchangeCode(*p, r.code);
        QVERIFY(!second);
        QVERIFY2(second.error().is("invalid_grant"), qPrintable(second.error().message));
        // The server revokes what the code gave when it is replayed (RFC 6749 4.1.2).
        auto refresh = c.refresh(first->refreshToken, {});
        QVERIFY(!refresh);
        QVERIFY(refresh.error().is("invalid_grant"));
    }

    void redirectUriMustMatch()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        OAuthClient c = client(f);
        auto p = c.beginAuthorization(Redirect, {QStringLiteral("openid")});
        const AuthorizationResponse r = authorize(m_server, *p);
        PendingAuthorization other = *p;
        other.redirectUri = QStringLiteral("http://127.0.0.1:49153/callback");
        auto t = c.exchangeCode(other, r.code);
        QVERIFY(!t);
        QVERIFY(t.error().is("invalid_grant"));
    }

    void issuerMismatchIsRefused()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        OAuth2Config cfg = f.manifest.auth.oauth2;
        cfg.issuer = QStringLiteral("https://id.example.com");
        auto id = ConnectionTokens::clientIdentity(*f.store, f.secrets, f.manifest);
        OAuthClient c(cfg, *id);
        auto p = c.beginAuthorization(Redirect, {QStringLiteral("openid")});
        const AuthorizationResponse r = authorize(m_server, *p);
        auto checked = c.checkAuthorizationResponse(*p, r);
        QVERIFY(!checked);
        QCOMPARE(checked.error().error, QStringLiteral("iss_mismatch"));
        QVERIFY(checked.error().message.contains(m_server.issuer()));
    }

    void refreshRotationAndReuseDetection()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        QVERIFY(connect(f, m_server));
        const QByteArray rt1 = vault(f, QStringLiteral("refresh"));
        const QByteArray at1 = vault(f, QStringLiteral("access"));
        QVERIFY(!rt1.isEmpty() && !at1.isEmpty());
        auto rec = f.store->connection(QStringLiteral("work"));
        VERIFY_OK(rec);
        QCOMPARE(rec->status, QStringLiteral("ok"));
        QCOMPARE(rec->meta.value(QStringLiteral("has_refresh_token")).toBool(), true);

        // Not due: nothing happens without force.
        ConnectionTokens::RefreshOptions how;
        RefreshOutcome out = f.tokens().refresh(f.manifest, QStringLiteral("work"), how);
        QCOMPARE(int(out.kind), int(RefreshOutcome::Kind::NotDue));
        QCOMPARE(vault(f, QStringLiteral("refresh")), rt1);

        how.force = true;
        out = f.tokens().refresh(f.manifest, QStringLiteral("work"), how);
        QVERIFY2(out.kind == RefreshOutcome::Kind::Refreshed, qPrintable(out.message));
        QVERIFY(out.message.contains(QStringLiteral("rotated")));
        const QByteArray rt2 = vault(f, QStringLiteral("refresh"));
        QVERIFY(!rt2.isEmpty() && rt2 != rt1);
        QVERIFY(vault(f, QStringLiteral("access")) != at1);
        rec = f.store->connection(QStringLiteral("work"));
        QCOMPARE(rec->status, QStringLiteral("ok"));
        QVERIFY(rec->meta.contains(QStringLiteral("refreshed_at")));

        // Someone replays the old refresh token: the server revokes the whole family.
        auto id = ConnectionTokens::clientIdentity(*f.store, f.secrets, f.manifest);
        auto replay = OAuthClient(f.manifest.auth.oauth2, *id).refresh(rt1, {});
        QVERIFY(!replay);
        QVERIFY(replay.error().is("invalid_grant"));

        // Our next refresh (with the current token) is refused: needs_reconnect, with why.
        out = f.tokens().refresh(f.manifest, QStringLiteral("work"), how);
        QCOMPARE(int(out.kind), int(RefreshOutcome::Kind::NeedsReconnect));
        rec = f.store->connection(QStringLiteral("work"));
        QCOMPARE(rec->status, QStringLiteral("needs_reconnect"));
        QVERIFY2(rec->statusReason.contains(QStringLiteral("invalid_grant")),
                 qPrintable(rec->statusReason));
        QVERIFY(rec->statusReason.contains(QStringLiteral("vivarium connect testidp --name work")));
        QVERIFY(!rec->statusReason.contains(QString::fromUtf8(rt2)));
        // The access token died with the family (RFC 7662 introspection says inactive).
        const QJsonObject introspection =
            m_server
                .post(QStringLiteral("/token/introspection"),
                      "token=" + vault(f, QStringLiteral("access")) +
                          "&client_id=vivarium-post&client_secret=" +
                          m_server.clientSecret(QStringLiteral("vivarium-post")))
                .json();
        QCOMPARE(introspection.value(QStringLiteral("active")).toBool(true), false);
    }

    void oneRefreshInFlightAcrossThreads()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        QVERIFY(connect(f, m_server));
        // Make it due: an hour-long token that "expires" in 10 s.
        auto rec = f.store->connection(QStringLiteral("work"));
        rec->expiresAt = QDateTime::currentDateTimeUtc().addSecs(10);
        rec->meta.insert(
            QStringLiteral("obtained_at"),
            QDateTime::currentDateTimeUtc().addSecs(-3590).toString(Qt::ISODateWithMs));
        QVERIFY(f.store->saveConnection(*rec));
        const int before = m_server.stats()
                               .value(QStringLiteral("token"))
                               .toObject()
                               .value(QStringLiteral("refresh_token"))
                               .toInt();
        // The data directory's file vault: the threads share it like processes would.
        QVERIFY(Settings(*f.store).set(QStringLiteral("secrets.backend"), QStringLiteral("vault")));
        auto vaultA = SecretStore::openDefault(Paths(f.dataDir()));
        VERIFY_OK(vaultA);
        const QStringList keys = f.secrets.keys().value_or(QStringList());
        for (const QString& key : keys) {
            const Status written = (*vaultA)->write(key, *f.secrets.read(key));
            QVERIFY2(written, qPrintable(written ? QString() : written.error().message));
        }
        std::atomic<int> refreshed{0};
        std::atomic<int> notDue{0};
        QList<QThread*> threads;
        for (int i = 0; i < 4; ++i) {
            threads << QThread::create([&] {
                auto store = Store::open(f.dir.filePath(QStringLiteral("vivarium.db")));
                auto v = SecretStore::openDefault(Paths(f.dataDir()));
                if (!store || !v) {
                    qWarning() << "open failed";
                    return;
                }
                ConnectionTokens tokens(**store, **v, f.dataDir());
                const RefreshOutcome out = tokens.refresh(f.manifest, QStringLiteral("work"), {});
                if (out.kind == RefreshOutcome::Kind::Refreshed)
                    ++refreshed;
                else if (out.kind == RefreshOutcome::Kind::NotDue)
                    ++notDue;
                else
                    qWarning() << out.message;
            });
        }
        for (QThread* t : threads)
            t->start();
        for (QThread* t : threads) {
            QVERIFY(t->wait(60'000));
            delete t;
        }
        QCOMPARE(refreshed.load(), 1);
        QCOMPARE(notDue.load(), 3);
        const int after = m_server.stats()
                              .value(QStringLiteral("token"))
                              .toObject()
                              .value(QStringLiteral("refresh_token"))
                              .toInt();
        QCOMPARE(after - before, 1);
    }

    void revocationEndsTheGrant()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        QVERIFY(connect(f, m_server));
        const QByteArray rt = vault(f, QStringLiteral("refresh"));
        const int revocations = m_server.stats().value(QStringLiteral("revocations")).toInt();
        auto removal = f.tokens().remove(&f.manifest, QStringLiteral("work"));
        VERIFY_OK(removal);
        QVERIFY2(removal->revoked, qPrintable(removal->note));
        QCOMPARE(m_server.stats().value(QStringLiteral("revocations")).toInt(), revocations + 1);
        QVERIFY(f.secrets.keys()->filter(QStringLiteral("connection/")).isEmpty());
        QVERIFY(!f.store->connection(QStringLiteral("work")));
        auto id = ConnectionTokens::clientIdentity(*f.store, f.secrets, f.manifest);
        auto after = OAuthClient(f.manifest.auth.oauth2, *id).refresh(rt, {});
        QVERIFY(!after);
        QVERIFY(after.error().is("invalid_grant"));
    }

    void removeStillWorksWhenTheProviderIsDown()
    {
        Fixture f;
        OidcServer server;
        QVERIFY(server.start().isEmpty());
        QVERIFY(setUp(f, server));
        QVERIFY(connect(f, server));
        server.stop();
        auto removal = f.tokens().remove(&f.manifest, QStringLiteral("work"));
        VERIFY_OK(removal);
        QVERIFY(!removal->revoked);
        QVERIFY2(removal->note.contains(QStringLiteral("could not reach the revocation endpoint")),
                 qPrintable(removal->note));
        QVERIFY(f.secrets.keys()->filter(QStringLiteral("connection/")).isEmpty());
    }

    void refreshFailureKeepsTokensAndSaysWhy()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        QVERIFY(connect(f, m_server));
        const QByteArray rt = vault(f, QStringLiteral("refresh"));
        QCOMPARE(m_server.post(QStringLiteral("/test/fail?path=/token&status=500&count=1")).status,
                 200);
        ConnectionTokens::RefreshOptions how;
        how.force = true;
        RefreshOutcome out = f.tokens().refresh(f.manifest, QStringLiteral("work"), how);
        QCOMPARE(int(out.kind), int(RefreshOutcome::Kind::Failed));
        QVERIFY2(out.message.contains(QStringLiteral("answered HTTP 500")),
                 qPrintable(out.message));
        auto rec = f.store->connection(QStringLiteral("work"));
        QCOMPARE(rec->status, QStringLiteral("error"));
        QCOMPARE(vault(f, QStringLiteral("refresh")), rt); // nothing lost
        out = f.tokens().refresh(f.manifest, QStringLiteral("work"), how);
        QVERIFY2(out.kind == RefreshOutcome::Kind::Refreshed, qPrintable(out.message));
        QCOMPARE(f.store->connection(QStringLiteral("work"))->status, QStringLiteral("ok"));
    }

    void refresherKeepsTheTokenFresh()
    {
        // Access tokens live 6 s: the refresher renews each when half of it is gone.
        OidcServer server;
        QVERIFY(server.start({QStringLiteral("--access-ttl"), QStringLiteral("6")}).isEmpty());
        Fixture f;
        QVERIFY(setUp(f, server));
        QVERIFY(connect(f, server));
        const QDateTime firstExpiry = f.store->connection(QStringLiteral("work"))->expiresAt;
        const QByteArray rt1 = vault(f, QStringLiteral("refresh"));
        ConnectionRefresher refresher(f.store.get(), &f.secrets, f.dataDir());
        QList<RefreshOutcome::Kind> outcomes;
        refresher.setListener([&](const QString& name, const RefreshOutcome& out) {
            QCOMPARE(name, QStringLiteral("work"));
            outcomes << out.kind;
        });
        refresher.start();
        QTRY_VERIFY_WITH_TIMEOUT(outcomes.size() >= 2, 20'000);
        QCOMPARE(outcomes.at(0), RefreshOutcome::Kind::Refreshed);
        QCOMPARE(outcomes.at(1), RefreshOutcome::Kind::Refreshed);
        auto rec = f.store->connection(QStringLiteral("work"));
        QVERIFY(rec->expiresAt > firstExpiry);
        QCOMPARE(rec->status, QStringLiteral("ok"));
        const QByteArray rtNow = vault(f, QStringLiteral("refresh"));
        QVERIFY(rtNow != rt1);

        // The grant is revoked behind our back: the next refresh marks needs_reconnect, once.
        auto id = ConnectionTokens::clientIdentity(*f.store, f.secrets, f.manifest);
        QVERIFY(OAuthClient(f.manifest.auth.oauth2, *id)
                    .revoke(rtNow, QStringLiteral("refresh_token")));
        QTRY_VERIFY_WITH_TIMEOUT(outcomes.contains(RefreshOutcome::Kind::NeedsReconnect), 15'000);
        rec = f.store->connection(QStringLiteral("work"));
        QCOMPARE(rec->status, QStringLiteral("needs_reconnect"));
        const qsizetype n = outcomes.size();
        QTest::qWait(4000); // left alone from now on
        QCOMPARE(outcomes.size(), n);
        refresher.stop();
    }

    void expiredWithoutRefreshTokenNeedsReconnect()
    {
        Fixture f;
        QVERIFY(setUp(f, m_server));
        QVERIFY(connect(f, m_server));
        QVERIFY(f.secrets.remove(
            ConnectionSecretKeys::refreshToken(QStringLiteral("testidp"), QStringLiteral("work"))));
        auto rec = f.store->connection(QStringLiteral("work"));
        rec->expiresAt = QDateTime::currentDateTimeUtc().addSecs(-1);
        rec->meta.insert(QStringLiteral("has_refresh_token"), false);
        QVERIFY(f.store->saveConnection(*rec));
        const RefreshOutcome out = f.tokens().refresh(f.manifest, QStringLiteral("work"), {});
        QCOMPARE(int(out.kind), int(RefreshOutcome::Kind::NeedsReconnect));
        QCOMPARE(f.store->connection(QStringLiteral("work"))->status,
                 QStringLiteral("needs_reconnect"));
    }
};

QTEST_GUILESS_MAIN(tst_ConnectOAuth)
#include "tst_ConnectOAuth.moc"
