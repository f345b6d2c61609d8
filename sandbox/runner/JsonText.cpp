// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "JsonText.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace vivarium::runner {

std::optional<QJsonValue> parseJson(const QByteArray& text, QString* error)
{
    // Wrapping in an array lets QJsonDocument take a top-level scalar; a second value after
    // the first shows up as a second element and is refused below.
    QByteArray wrapped;
    wrapped.reserve(text.size() + 2);
    wrapped.append('[').append(text).append(']');
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &err);
    if (err.error != QJsonParseError::NoError) {
        if (error) {
            const qsizetype offset = qBound(qsizetype(0), qsizetype(err.offset) - 1, text.size());
            *error = QStringLiteral("%1 at byte %2").arg(err.errorString()).arg(offset);
        }
        return std::nullopt;
    }
    const QJsonArray wrapper = doc.array();
    if (wrapper.size() != 1) {
        if (error)
            *error = wrapper.isEmpty() ? QStringLiteral("no JSON value")
                                       : QStringLiteral("more than one JSON value");
        return std::nullopt;
    }
    return wrapper.at(0);
}

QString compactJson(const QJsonValue& value)
{
    const QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(text.mid(1, text.size() - 2));
}

QString prettyJson(const QJsonValue& value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented))
            .trimmed();
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented))
            .trimmed();
    return compactJson(value);
}

qsizetype completeUtf8Length(const QByteArray& bytes)
{
    const qsizetype n = bytes.size();
    // Find the lead byte of the last character (at most 3 continuation bytes back) and check
    // that all the bytes it announces are there.
    for (qsizetype back = 1; back <= 4 && back <= n; ++back) {
        const uchar c = uchar(bytes.at(n - back));
        if ((c & 0xC0) == 0x80)
            continue;
        const qsizetype need = c < 0x80             ? 1
                               : (c & 0xE0) == 0xC0 ? 2
                               : (c & 0xF0) == 0xE0 ? 3
                               : (c & 0xF8) == 0xF0 ? 4
                                                    : 1;
        return need > back ? n - back : n;
    }
    return n;
}

bool isValidUtf8(const QByteArray& bytes)
{
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.constData());
    const qsizetype n = bytes.size();
    qsizetype i = 0;
    while (i < n) {
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        int len = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (int k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

QString truncateWithNote(const QString& text, qsizetype maxBytes)
{
    const QByteArray utf8 = text.toUtf8();
    if (utf8.size() <= maxBytes)
        return text;
    const qsizetype cut = completeUtf8Length(utf8.left(maxBytes));
    return QString::fromUtf8(utf8.left(cut)) +
           QStringLiteral("\n[truncated: %1 more bytes not shown]").arg(utf8.size() - cut);
}

} // namespace vivarium::runner
