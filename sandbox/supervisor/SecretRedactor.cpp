// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SecretRedactor.h"

#include <QUrl>

#include <algorithm>

namespace vivarium {

namespace {
// Shorter values are too likely to occur by chance: redacting them would mangle ordinary text
// and reveal which short strings are secrets.
constexpr qsizetype MinSecretBytes = 6;
} // namespace

void SecretRedactor::addSecret(const QByteArray& secret)
{
    if (secret.size() < MinSecretBytes)
        return;
    const QList<QByteArray> forms{
        secret,
        secret.toBase64(),
        secret.toBase64(QByteArray::Base64Encoding | QByteArray::OmitTrailingEquals),
        secret.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals),
        secret.toPercentEncoding(),
        QUrl::toPercentEncoding(QString::fromUtf8(secret), {}, " "),
    };
    for (const QByteArray& f : forms) {
        const QString form = QString::fromUtf8(f);
        if (!form.isEmpty() && !m_forms.contains(form))
            m_forms.append(form);
    }
    std::sort(m_forms.begin(), m_forms.end(),
              [](const QString& a, const QString& b) { return a.size() > b.size(); });
}

QString SecretRedactor::redact(QString text) const
{
    for (const QString& form : m_forms)
        text.replace(form, QLatin1String(Marker));
    return text;
}

} // namespace vivarium
