// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SseParser.h"

namespace vivarium {

void SseParser::feed(QByteArrayView bytes)
{
    if (hasError() || bytes.isEmpty())
        return;
    m_buffer.append(bytes);

    if (!m_bomChecked) {
        // The spec strips one UTF-8 BOM at the very start; wait until we can tell.
        static constexpr char bom[] = "\xEF\xBB\xBF";
        const qsizetype n = std::min<qsizetype>(m_buffer.size(), 3);
        if (QByteArrayView(m_buffer).first(n) != QByteArrayView(bom, n)) {
            m_bomChecked = true;
        } else if (n == 3) {
            m_buffer.remove(0, 3);
            m_bomChecked = true;
        } else {
            return;
        }
    }

    qsizetype start = 0;
    if (m_skipLeadingLf && !m_buffer.isEmpty()) {
        if (m_buffer.front() == '\n')
            start = 1;
        m_skipLeadingLf = false;
    }
    qsizetype i = std::max(start, m_scanFrom);
    const qsizetype size = m_buffer.size();
    while (i < size) {
        const char c = m_buffer.at(i);
        if (c != '\n' && c != '\r') {
            ++i;
            continue;
        }
        processLine(QByteArrayView(m_buffer).sliced(start, i - start));
        if (c == '\r') {
            if (i + 1 < size) {
                if (m_buffer.at(i + 1) == '\n')
                    ++i;
            } else {
                m_skipLeadingLf = true; // the LF of a CRLF may arrive with the next chunk
            }
        }
        start = ++i;
    }
    m_buffer.remove(0, start);
    m_scanFrom = m_buffer.size();
    if (m_buffer.size() > MaxLineBytes)
        m_error = QStringLiteral("server-sent event line longer than %1 bytes").arg(MaxLineBytes);
}

QList<SseEvent> SseParser::takeEvents()
{
    QList<SseEvent> out;
    out.swap(m_events);
    return out;
}

void SseParser::processLine(QByteArrayView raw)
{
    if (raw.isEmpty()) {
        dispatch();
        return;
    }
    if (raw.front() == ':')
        return; // comment (keep-alives)
    QByteArrayView field = raw;
    QByteArrayView value;
    const qsizetype colon = raw.indexOf(':');
    if (colon >= 0) {
        field = raw.first(colon);
        value = raw.sliced(colon + 1);
        if (!value.isEmpty() && value.front() == ' ')
            value = value.sliced(1);
    }
    if (field == "data") {
        if (m_hasData)
            m_data.append(QLatin1Char('\n'));
        m_data.append(QString::fromUtf8(value));
        m_hasData = true;
    } else if (field == "event") {
        m_eventType = QString::fromUtf8(value);
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_lastId = QString::fromUtf8(value);
    }
    // "retry" and unknown fields are ignored: we never reconnect on our own.
}

void SseParser::dispatch()
{
    if (!m_hasData) {
        m_eventType.clear();
        return;
    }
    SseEvent e;
    if (!m_eventType.isEmpty())
        e.event = m_eventType;
    e.data = m_data;
    e.id = m_lastId;
    m_events.append(std::move(e));
    m_eventType.clear();
    m_data.clear();
    m_hasData = false;
}

} // namespace vivarium
