// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Paths.h"
#include "vivarium/core/SecretStore.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

namespace {

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestFileVault : public QObject
{
    Q_OBJECT
private slots:
    void roundTripAndNoPlaintext()
    {
        QTemporaryDir dir;
        const QString vault = dir.filePath(QStringLiteral("vault.bin"));
        const QString key = dir.filePath(QStringLiteral("vault.key"));
        const QByteArray canary = "sk-canary-5e1d8b2a";
        {
            auto v = FileVault::open(vault, key, true);
            QVERIFY(v.has_value());
            QVERIFY((*v)->write(QStringLiteral("model-endpoint/x/api-key"), canary).has_value());
            QVERIFY((*v)->write(QStringLiteral("other"), QByteArray("\0\x01\xff", 3)).has_value());
        }
        QVERIFY(QFile::permissions(key) == (QFile::ReadOwner | QFile::WriteOwner) ||
                QFile::permissions(key) ==
                    (QFile::ReadOwner | QFile::WriteOwner | QFile::ReadUser | QFile::WriteUser));
        const QByteArray blob = readAll(vault);
        QVERIFY(!blob.contains(canary));
        QVERIFY(!blob.contains(canary.toBase64()));
        auto v = FileVault::open(vault, key, false);
        QVERIFY(v.has_value());
        QCOMPARE((*v)->read(QStringLiteral("model-endpoint/x/api-key")).value(), canary);
        QCOMPARE((*v)->read(QStringLiteral("other")).value(), QByteArray("\0\x01\xff", 3));
        QCOMPARE((*v)->keys().value(), (QStringList{QStringLiteral("model-endpoint/x/api-key"),
                                                    QStringLiteral("other")}));
        QVERIFY((*v)->remove(QStringLiteral("other")).has_value());
        QCOMPARE((*v)->read(QStringLiteral("other")).error().code, Error::Code::NotFound);
        QCOMPARE((*v)->remove(QStringLiteral("other")).error().code, Error::Code::NotFound);
    }

    void tamperingAndWrongKeyAreDetected()
    {
        QTemporaryDir dir;
        const QString vault = dir.filePath(QStringLiteral("vault.bin"));
        const QString key = dir.filePath(QStringLiteral("vault.key"));
        {
            auto v = FileVault::open(vault, key, true);
            QVERIFY((*v)->write(QStringLiteral("k"), "value").has_value());
        }
        const QByteArray good = readAll(vault);
        // Flip one byte of the ciphertext.
        QByteArray bad = good;
        bad[bad.size() - 5] = char(bad.at(bad.size() - 5) ^ 0x40);
        QFile f(vault);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(bad);
        f.close();
        auto v = FileVault::open(vault, key, false);
        auto r = (*v)->read(QStringLiteral("k"));
        QVERIFY(!r.has_value());
        QVERIFY(r.error().message.contains(QStringLiteral("cannot be decrypted")));
        // A write must not silently replace a vault it cannot read.
        QVERIFY(!(*v)->write(QStringLiteral("k2"), "x").has_value());
        QCOMPARE(readAll(vault), bad);

        // Truncated file.
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(good.left(20));
        f.close();
        QVERIFY(!(*v)->read(QStringLiteral("k")).has_value());

        // Right file, wrong key.
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(good);
        f.close();
        const QString otherKey = dir.filePath(QStringLiteral("other.key"));
        auto w = FileVault::open(vault, otherKey, true);
        QVERIFY(w.has_value());
        auto wr = (*w)->read(QStringLiteral("k"));
        QVERIFY(!wr.has_value());
        QVERIFY(wr.error().message.contains(QStringLiteral("wrong key")));
    }

    void keyFileFormatsAndPermissions()
    {
        QTemporaryDir dir;
        const QString key = dir.filePath(QStringLiteral("hex.key"));
        QFile f(key);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(32, '\x11').toHex() + "\n");
        f.close();
        QFile::setPermissions(key, QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(FileVault::open(dir.filePath(QStringLiteral("v")), key, false).has_value());

        QFile::setPermissions(key, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther);
        auto r = FileVault::open(dir.filePath(QStringLiteral("v")), key, false);
        QVERIFY(!r.has_value());
        QVERIFY(r.error().message.contains(QStringLiteral("readable by other users")));

        const QString shortKey = dir.filePath(QStringLiteral("short.key"));
        QFile s(shortKey);
        QVERIFY(s.open(QIODevice::WriteOnly));
        s.write("too short");
        s.close();
        QFile::setPermissions(shortKey, QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(!FileVault::open(dir.filePath(QStringLiteral("v")), shortKey, false).has_value());
        QCOMPARE(FileVault::open(dir.filePath(QStringLiteral("v")),
                                 dir.filePath(QStringLiteral("none")), false)
                     .error()
                     .code,
                 Error::Code::NotFound);
    }

    void defaultBackendHonoursKeyFileEnvironment()
    {
        QTemporaryDir dir;
        const QString key = dir.filePath(QStringLiteral("external.key"));
        QFile f(key);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(32, '\x22').toBase64());
        f.close();
        QFile::setPermissions(key, QFile::ReadOwner | QFile::WriteOwner);
        qputenv("VIVARIUM_VAULT_KEY_FILE", key.toLocal8Bit());
        auto s = SecretStore::openDefault(Paths(dir.path()));
        qunsetenv("VIVARIUM_VAULT_KEY_FILE");
        QVERIFY(s.has_value());
        QVERIFY((*s)->describe().contains(QStringLiteral("external.key")));
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("vault.key"))));
    }

    void memoryStore()
    {
        MemorySecretStore m;
        QVERIFY(m.write(QStringLiteral("a"), "1").has_value());
        QCOMPARE(m.read(QStringLiteral("a")).value(), QByteArray("1"));
        QCOMPARE(m.read(QStringLiteral("b")).error().code, Error::Code::NotFound);
    }
};

QTEST_GUILESS_MAIN(TestFileVault)
#include "tst_FileVault.moc"
