// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

// Private helpers for reporting on JSON text: RFC 6901 pointers, UTF-8 checks, line/column
// positions, and a scan that finds duplicate keys (QJsonDocument silently keeps the last one).

#include <QByteArray>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QLocale>
#include <QSet>
#include <QString>

#include <cmath>

namespace vivarium::jsontext {

inline const QByteArray kUtf8Bom = QByteArrayLiteral("\xEF\xBB\xBF");

/** `ptr` extended by one object member, escaping `~` and `/` as RFC 6901 requires. */
inline QString child(const QString& ptr, QString key)
{
    key.replace(QLatin1Char('~'), QStringLiteral("~0"));
    key.replace(QLatin1Char('/'), QStringLiteral("~1"));
    return ptr + QLatin1Char('/') + key;
}

/** `ptr` extended by one array index. */
inline QString child(const QString& ptr, qsizetype index)
{
    return ptr + QLatin1Char('/') + QString::number(index);
}

/** A value's JSON type and a short rendering of it, e.g. `string "25"` or `number 2.5`. */
inline QString describe(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("boolean true") : QStringLiteral("boolean false");
    case QJsonValue::Double: {
        const double d = v.toDouble();
        if (d == std::trunc(d) && std::fabs(d) < 1e15)
            return QStringLiteral("number ") + QString::number(qint64(d));
        return QStringLiteral("number ") + QString::number(d, 'g', QLocale::FloatingPointShortest);
    }
    case QJsonValue::String: {
        QString s = v.toString();
        const bool cut = s.size() > 40;
        if (cut)
            s.truncate(40);
        s.replace(QLatin1Char('\\'), QStringLiteral("\\\\"));
        s.replace(QLatin1Char('"'), QStringLiteral("\\\""));
        s.replace(QLatin1Char('\n'), QStringLiteral("\\n"));
        s.replace(QLatin1Char('\r'), QStringLiteral("\\r"));
        s.replace(QLatin1Char('\t'), QStringLiteral("\\t"));
        return QStringLiteral("string \"") + s +
               (cut ? QStringLiteral("...\"") : QStringLiteral("\""));
    }
    case QJsonValue::Array: {
        const qsizetype n = v.toArray().size();
        if (n == 0)
            return QStringLiteral("empty array");
        return QStringLiteral("array of %1 %2")
            .arg(n)
            .arg(n == 1 ? QStringLiteral("item") : QStringLiteral("items"));
    }
    case QJsonValue::Object: {
        const qsizetype n = v.toObject().size();
        if (n == 0)
            return QStringLiteral("empty object");
        return QStringLiteral("object with %1 %2")
            .arg(n)
            .arg(n == 1 ? QStringLiteral("field") : QStringLiteral("fields"));
    }
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

/** Offset of the first byte that is not well-formed UTF-8 (RFC 3629), or -1. */
inline qsizetype firstInvalidUtf8(const QByteArray& bytes)
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
            return i;
        }
        if (i + len > n)
            return i;
        for (int k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are all invalid.
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return -1;
}

/** 1-based line and column (in characters, not bytes) of a byte offset. */
struct Position
{
    int line = 1;
    int column = 1;
};

/** Moves `pos` past one byte; continuation bytes belong to the previous character. */
inline void advance(Position& pos, unsigned char c)
{
    if (c == '\n') {
        ++pos.line;
        pos.column = 1;
    } else if ((c & 0xC0) != 0x80) {
        ++pos.column;
    }
}

inline Position positionAt(const QByteArray& bytes, qsizetype offset)
{
    Position pos;
    for (qsizetype i = 0; i < offset && i < bytes.size(); ++i)
        advance(pos, static_cast<unsigned char>(bytes.at(i)));
    return pos;
}

/** Where each pointer starts in the text, and which keys repeat within one object. */
struct Scan
{
    struct Duplicate
    {
        QString pointer;
        Position position;
    };
    QHash<QString, qsizetype> offsets; ///< first occurrence of each member key or element
    QList<Duplicate> duplicates;

    /** Sort key for `ptr`: its own offset, else that of its nearest existing ancestor. */
    qsizetype orderOf(QString ptr) const
    {
        for (;;) {
            if (const auto it = offsets.constFind(ptr); it != offsets.cend())
                return *it;
            const qsizetype slash = ptr.lastIndexOf(QLatin1Char('/'));
            if (slash < 0)
                return 0;
            ptr.truncate(slash);
        }
    }
};

namespace detail {

// Recursive descent over text QJsonDocument has already accepted, so it only needs to be
// robust (never loop or overrun), not to diagnose syntax.
class Scanner
{
public:
    explicit Scanner(const QByteArray& bytes)
        : m_b(bytes)
    {}

    Scan run()
    {
        skipWs();
        value(QString());
        // Duplicates were found front to back, so one pass turns offsets into positions
        // (a per-duplicate positionAt() would be quadratic on a file full of them).
        Position pos;
        qsizetype at = 0;
        for (qsizetype d = 0; d < m_scan.duplicates.size(); ++d) {
            const qsizetype target = m_dupOffsets.at(d);
            for (; at < target; ++at)
                advance(pos, static_cast<unsigned char>(m_b.at(at)));
            m_scan.duplicates[d].position = pos;
        }
        return std::move(m_scan);
    }

private:
    bool atEnd() const { return m_i >= m_b.size(); }
    char peek() const { return atEnd() ? '\0' : m_b.at(m_i); }
    void skipWs()
    {
        while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
            ++m_i;
    }

    void value(const QString& ptr)
    {
        skipWs();
        if (peek() == '{')
            object(ptr);
        else if (peek() == '[')
            array(ptr);
        else if (peek() == '"')
            string();
        else
            while (!atEnd() && !QByteArrayView(",]} \t\r\n").contains(peek()))
                ++m_i;
    }

    void object(const QString& ptr)
    {
        ++m_i; // '{'
        QSet<QString> seen;
        for (;;) {
            skipWs();
            if (peek() != '"') { // '}' of an empty object, or text we do not understand
                ++m_i;
                return;
            }
            const qsizetype keyAt = m_i;
            const QString key = string();
            const QString member = child(ptr, key);
            if (seen.contains(key)) {
                m_scan.duplicates.append({member, {}});
                m_dupOffsets.append(keyAt);
            }
            seen.insert(key);
            if (!m_scan.offsets.contains(member))
                m_scan.offsets.insert(member, keyAt);
            skipWs();
            if (peek() != ':')
                return;
            ++m_i;
            value(member);
            skipWs();
            if (peek() == ',') {
                ++m_i;
                continue;
            }
            ++m_i; // '}'
            return;
        }
    }

    void array(const QString& ptr)
    {
        ++m_i; // '['
        for (qsizetype index = 0;; ++index) {
            skipWs();
            if (atEnd() || peek() == ']') {
                ++m_i;
                return;
            }
            const QString element = child(ptr, index);
            if (!m_scan.offsets.contains(element))
                m_scan.offsets.insert(element, m_i);
            const qsizetype before = m_i;
            value(element);
            skipWs();
            if (peek() == ',') {
                ++m_i;
                continue;
            }
            if (m_i == before) // no progress: bail out rather than spin
                return;
            ++m_i; // ']'
            return;
        }
    }

    /** Decodes a string token, escapes included; leaves m_i after the closing quote. */
    QString string()
    {
        ++m_i; // opening quote
        QString out;
        qsizetype runStart = m_i;
        // Decode exactly as QJsonDocument does (fromUtf8 drops a leading U+FEFF), so
        // pointers name the keys QJsonObject holds.
        auto flush = [&] { out += QString::fromUtf8(m_b.constData() + runStart, m_i - runStart); };
        while (!atEnd() && peek() != '"') {
            if (peek() != '\\') {
                ++m_i;
                continue;
            }
            flush();
            ++m_i;
            const char e = peek();
            ++m_i;
            switch (e) {
            case 'b':
                out += QLatin1Char('\b');
                break;
            case 'f':
                out += QLatin1Char('\f');
                break;
            case 'n':
                out += QLatin1Char('\n');
                break;
            case 'r':
                out += QLatin1Char('\r');
                break;
            case 't':
                out += QLatin1Char('\t');
                break;
            case 'u': {
                // UTF-16 code units; surrogate pairs recombine naturally in QString.
                bool ok = false;
                const ushort unit = m_b.mid(m_i, 4).toUShort(&ok, 16);
                m_i = std::min(m_i + 4, m_b.size());
                if (ok)
                    out += QChar(unit);
                break;
            }
            default:
                out += QLatin1Char(e);
                break; // '"', '\\', '/'
            }
            runStart = m_i;
        }
        flush();
        if (!atEnd())
            ++m_i; // closing quote
        return out;
    }

    const QByteArray& m_b;
    qsizetype m_i = 0;
    Scan m_scan;
    QList<qsizetype> m_dupOffsets; ///< parallel to m_scan.duplicates
};

} // namespace detail

/** Scan JSON text that QJsonDocument accepted. */
inline Scan scan(const QByteArray& bytes)
{
    return detail::Scanner(bytes).run();
}

} // namespace vivarium::jsontext
