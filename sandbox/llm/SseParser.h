// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace vivarium {

/** One dispatched server-sent event. */
struct SseEvent
{
    QString event = QStringLiteral("message"); ///< `event:` field, "message" when absent
    QString data;                              ///< `data:` lines joined with '\n'
    QString id;                                ///< last event id seen so far
};

/**
 * Server-sent events parser following the WHATWG "event stream interpretation": lines end in
 * LF, CRLF or CR; `:` starts a comment; a blank line dispatches; several `data:` lines join
 * with LF; an event without data is dropped. Bytes may be split anywhere (also inside UTF-8
 * sequences or between CR and LF): only complete lines are decoded, and every line break is
 * ASCII, so a multi-byte character never straddles two decoded lines.
 */
class SseParser
{
public:
    /// A line longer than this is treated as a broken stream (protects the broker's memory).
    static constexpr qsizetype MaxLineBytes = 16 * 1024 * 1024;

    /** Feeds bytes; complete events are appended to the queue that takeEvents() drains. */
    void feed(QByteArrayView bytes);
    /** Events dispatched so far and not yet taken, oldest first. */
    QList<SseEvent> takeEvents();
    bool hasError() const { return !m_error.isEmpty(); }
    QString error() const { return m_error; }

private:
    void processLine(QByteArrayView line);
    void dispatch();

    QByteArray m_buffer;
    qsizetype m_scanFrom = 0;
    bool m_skipLeadingLf = false; ///< the previous chunk ended in CR: a following LF is its pair
    bool m_bomChecked = false;
    QString m_eventType;
    QString m_data;
    bool m_hasData = false;
    QString m_lastId;
    QList<SseEvent> m_events;
    QString m_error;
};

} // namespace vivarium
