// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RetryPolicy.h"

#include <QLocale>
#include <QRandomGenerator>
#include <QTimeZone>

namespace vivarium {

bool RetryPolicy::isRetryableStatus(int status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504 ||
           status == 529;
}

std::optional<qint64> RetryPolicy::serverDelayMs(const HttpHead& head, const QDateTime& now)
{
    bool ok = false;
    const QByteArray ms = head.header("retry-after-ms").trimmed();
    if (!ms.isEmpty()) {
        const double v = ms.toDouble(&ok);
        if (ok && v >= 0)
            return qint64(v);
    }
    const QByteArray ra = head.header("retry-after").trimmed();
    if (ra.isEmpty())
        return std::nullopt;
    const double seconds = ra.toDouble(&ok);
    if (ok)
        return seconds >= 0 ? std::optional<qint64>(qint64(seconds * 1000)) : std::nullopt;
    // IMF-fixdate, e.g. "Fri, 21 Nov 2025 09:36:59 GMT" (the only form servers send today).
    QDateTime at = QLocale::c().toDateTime(QString::fromLatin1(ra),
                                           QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    if (!at.isValid())
        return std::nullopt;
    at.setTimeZone(QTimeZone::utc());
    return std::max<qint64>(0, now.msecsTo(at));
}

qint64 RetryPolicy::backoffMs(int failedAttempt, int initialBackoffMs, int maxBackoffMs,
                              std::optional<qint64> serverDelayMs)
{
    const qint64 cap = std::max(0, maxBackoffMs);
    if (serverDelayMs)
        return std::min(*serverDelayMs, cap);
    const int shift = std::clamp(failedAttempt - 1, 0, 30);
    const qint64 ceiling = std::min(cap, qint64(std::max(0, initialBackoffMs)) << shift);
    if (ceiling <= 0)
        return 0;
    return qint64(QRandomGenerator::global()->bounded(quint64(ceiling) + 1));
}

} // namespace vivarium
