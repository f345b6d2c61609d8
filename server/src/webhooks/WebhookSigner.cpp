// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The Standard Webhooks symmetric scheme: HMAC-SHA256 over "<id>.<timestamp>.<body>" with the
// base64-decoded secret as the key, sent as "v1,<base64>".
#include "vivarium/server/WebhookService.h"

#include <sodium.h>

namespace vivarium::webhooksign {

namespace {

constexpr auto SecretPrefix = "whsec_";
constexpr int SecretBytes = 32;

void ensureSodium()
{
    // Idempotent and thread-safe after the first call; returns 1 when already initialised.
    static const int ready = sodium_init();
    Q_UNUSED(ready);
}

} // namespace

QString newSecret()
{
    ensureSodium();
    QByteArray raw(SecretBytes, Qt::Uninitialized);
    randombytes_buf(raw.data(), size_t(raw.size()));
    const QString secret = QLatin1String(SecretPrefix) + QString::fromLatin1(raw.toBase64());
    sodium_memzero(raw.data(), size_t(raw.size()));
    return secret;
}

QByteArray secretKey(const QString& secret)
{
    QString text = secret.trimmed();
    if (text.startsWith(QLatin1String(SecretPrefix)))
        text = text.mid(int(qstrlen(SecretPrefix)));
    auto decoded =
        QByteArray::fromBase64Encoding(text.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return {};
    return *decoded;
}

QString sign(const QByteArray& key, const QString& msgId, qint64 timestamp, const QByteArray& body)
{
    ensureSodium();
    const QByteArray prefix = msgId.toUtf8() + '.' + QByteArray::number(timestamp) + '.';
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.constData()),
                                size_t(key.size()));
    crypto_auth_hmacsha256_update(
        &state, reinterpret_cast<const unsigned char*>(prefix.constData()), quint64(prefix.size()));
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.constData()),
                                  quint64(body.size()));
    QByteArray mac(crypto_auth_hmacsha256_BYTES, Qt::Uninitialized);
    crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
    sodium_memzero(&state, sizeof state);
    return QStringLiteral("v1,") + QString::fromLatin1(mac.toBase64());
}

} // namespace vivarium::webhooksign
