// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "CurlTransport.h"

#include <QDateTime>

#include <optional>

namespace vivarium {

/**
 * When and how long to wait before trying a model call again. Exponential backoff with full
 * jitter (a uniform pick in [0, min(max, initial * 2^(attempt-1))]) spreads retries of many
 * runs; a server's own Retry-After / retry-after-ms wins but is capped at the maximum so a
 * hostile or confused server cannot park a run.
 */
class RetryPolicy
{
public:
    /** 429, 500, 502, 503, 504 and 529 (Anthropic overloaded). */
    static bool isRetryableStatus(int status);
    /**
     * The server's requested delay in ms: `retry-after-ms`, else `Retry-After` as seconds
     * (fractions allowed) or an HTTP date relative to `now`. nullopt when absent or unparsable.
     */
    static std::optional<qint64>
    serverDelayMs(const HttpHead& head, const QDateTime& now = QDateTime::currentDateTimeUtc());
    /** Delay before attempt `failedAttempt + 1` (failedAttempt >= 1). */
    static qint64 backoffMs(int failedAttempt, int initialBackoffMs, int maxBackoffMs,
                            std::optional<qint64> serverDelayMs);
};

} // namespace vivarium
