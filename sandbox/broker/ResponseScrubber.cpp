// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ResponseScrubber.h"

#include <algorithm>

namespace vivarium {

namespace {

// Same floor as SecretRedactor: shorter values occur by chance in ordinary text.
constexpr qsizetype MinSecretBytes = 6;
// A base64 core shorter than this matches random base64 too often to be worth it.
constexpr qsizetype MinCoreChars = 8;
// A cut-off tail shorter than this is not recognizably a secret.
constexpr qsizetype MinTailChars = 4;

/**
 * The base64 characters that depend only on `secret` when it starts `shift` bytes into the
 * encoded data: each character carries 6 bits, so the ones straddling a neighbouring byte
 * differ with the context and are left out.
 */
QByteArray base64Core(const QByteArray& secret, int shift, QByteArray::Base64Options alphabet)
{
    const QByteArray data = QByteArray(shift, '\0') + secret + QByteArray(3, '\0');
    const QByteArray encoded = data.toBase64(alphabet | QByteArray::OmitTrailingEquals);
    const qsizetype startBit = 8 * qsizetype(shift);
    const qsizetype endBit = 8 * (qsizetype(shift) + secret.size());
    const qsizetype first = (startBit + 5) / 6;
    const qsizetype last = endBit / 6; // exclusive
    if (last - first < MinCoreChars)
        return {};
    return encoded.mid(first, last - first);
}

/**
 * Percent-encoding may write its hex digits in either case (%2f or %2F): match ASCII letters
 * case-insensitively. This also redacts case variants of the letters around them, which errs
 * on the safe side.
 */
void replaceIgnoringCase(QByteArray& bytes, const QByteArray& form)
{
    const QByteArray lowerForm = form.toLower();
    const QByteArray lower = bytes.toLower(); // ASCII only: offsets stay the same
    if (!lower.contains(lowerForm))
        return;
    QByteArray out;
    out.reserve(bytes.size());
    qsizetype from = 0;
    for (qsizetype at = lower.indexOf(lowerForm); at >= 0; at = lower.indexOf(lowerForm, from)) {
        out += QByteArrayView(bytes).sliced(from, at - from);
        out += ResponseScrubber::Marker;
        from = at + lowerForm.size();
    }
    out += QByteArrayView(bytes).sliced(from);
    bytes = out;
}

} // namespace

void ResponseScrubber::addForm(const QByteArray& form)
{
    if (form.isEmpty() || m_forms.contains(form))
        return;
    m_forms.append(form);
}

void ResponseScrubber::addSecret(const QByteArray& secret)
{
    if (secret.size() < MinSecretBytes)
        return;
    addForm(secret);
    const QByteArray upper = secret.toPercentEncoding();
    addForm(upper); // matched with the hex digits in any case (scrub())
    addForm(QByteArray(upper).replace("%20", "+"));
    for (const auto alphabet : {QByteArray::Base64Encoding, QByteArray::Base64UrlEncoding}) {
        addForm(secret.toBase64(alphabet)); // whole, padded: replaced before its core
        for (int shift = 0; shift < 3; ++shift)
            addForm(base64Core(secret, shift, alphabet));
    }
    std::sort(m_forms.begin(), m_forms.end(),
              [](const QByteArray& a, const QByteArray& b) { return a.size() > b.size(); });
}

QByteArray ResponseScrubber::scrub(QByteArray bytes, bool cutTail) const
{
    for (const QByteArray& form : m_forms) {
        if (form.contains('%'))
            replaceIgnoringCase(bytes, form);
        else
            bytes.replace(form, Marker);
    }
    if (!m_model.isEmpty()) {
        // Latin-1 maps every byte to one character and back, so this cannot damage a binary
        // body; the model keys it knows are ASCII.
        bytes = m_model.redact(QString::fromLatin1(bytes)).toLatin1();
    }
    if (cutTail) {
        for (const QByteArray& form : m_forms) {
            for (qsizetype n = qMin(form.size() - 1, bytes.size()); n >= MinTailChars; --n) {
                if (bytes.endsWith(QByteArrayView(form).first(n))) {
                    bytes.chop(n);
                    bytes += Marker;
                    break;
                }
            }
        }
    }
    return bytes;
}

QString ResponseScrubber::scrub(const QString& text) const
{
    return QString::fromUtf8(scrub(text.toUtf8()));
}

} // namespace vivarium
