// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QString>

namespace vivarium::server {

/** Token buckets by key (an API key id, a client address): `rate` per second, burst 2 s. */
class RateLimiter
{
public:
    explicit RateLimiter(double ratePerSecond)
        : m_rate(ratePerSecond)
    {
        m_clock.start();
    }

    /** Take one token: 0 when allowed, else whole seconds until one is available (>= 1). */
    int take(const QString& key)
    {
        if (m_rate <= 0)
            return 0;
        const double burst = qMax(1.0, m_rate * 2);
        const qint64 now = m_clock.elapsed();
        if (m_buckets.size() > 10'000)
            prune(now);
        auto it = m_buckets.find(key);
        if (it == m_buckets.end())
            it = m_buckets.insert(key, Bucket{burst, now});
        it->tokens = qMin(burst, it->tokens + double(now - it->lastMs) * m_rate / 1000.0);
        it->lastMs = now;
        if (it->tokens >= 1.0) {
            it->tokens -= 1.0;
            return 0;
        }
        return qMax(1, int((1.0 - it->tokens) / m_rate + 0.999));
    }

private:
    struct Bucket
    {
        double tokens;
        qint64 lastMs;
    };
    void prune(qint64 now)
    {
        for (auto it = m_buckets.begin(); it != m_buckets.end();)
            it = (now - it->lastMs > 600'000) ? m_buckets.erase(it) : std::next(it);
    }

    double m_rate;
    QElapsedTimer m_clock;
    QHash<QString, Bucket> m_buckets;
};

} // namespace vivarium::server
