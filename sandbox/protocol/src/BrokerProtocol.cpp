// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/protocol/BrokerProtocol.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace vivarium::protocol {

QByteArray encode(const QJsonObject& message)
{
    QByteArray line = QJsonDocument(message).toJson(QJsonDocument::Compact);
    line.append('\n');
    return line;
}

void LineReader::feed(const QByteArray& bytes)
{
    if (hasError())
        return;
    m_buffer.append(bytes);
}

std::optional<QJsonObject> LineReader::next()
{
    if (hasError())
        return std::nullopt;
    const qsizetype nl = m_buffer.indexOf('\n', m_scanFrom);
    if (nl < 0) {
        m_scanFrom = m_buffer.size();
        if (m_buffer.size() > MaxLineBytes)
            m_error = QStringLiteral("message longer than %1 bytes").arg(MaxLineBytes);
        return std::nullopt;
    }
    const QByteArray line = m_buffer.left(nl);
    m_buffer.remove(0, nl + 1);
    m_scanFrom = 0;
    if (line.size() > MaxLineBytes) {
        m_error = QStringLiteral("message longer than %1 bytes").arg(MaxLineBytes);
        return std::nullopt;
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()) {
        m_error = err.error != QJsonParseError::NoError
                      ? QStringLiteral("invalid JSON at byte %1: %2")
                            .arg(err.offset)
                            .arg(err.errorString())
                      : QStringLiteral("message is not a JSON object");
        return std::nullopt;
    }
    return doc.object();
}

} // namespace vivarium::protocol
