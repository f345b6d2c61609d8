// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QString>
#include <QStringList>

#include <optional>

namespace vivarium {

/**
 * "Would the broker allow this URL?" for the agent editor. It must be the broker's own
 * matcher (sandbox/broker/ProviderCallPolicy: normalization, globs, deny wins), never a copy
 * that could disagree with it. That matcher is not reachable through a public sandbox header
 * yet, so available() is false and the editor says so instead of guessing.
 */
class UriTester
{
public:
    struct Verdict
    {
        bool allowed = false;
        QString pattern; ///< the deciding pattern
        QString message; ///< the broker's words
    };

    static bool available();
    /** nullopt while !available(). */
    static std::optional<Verdict> test(const QStringList& patterns, const QString& method,
                                       const QString& url);
};

} // namespace vivarium
