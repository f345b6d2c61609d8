// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "UriTester.h"

namespace vivarium {

// PLACEHOLDER (issue 8): wire to the broker's matcher (ProviderCallPolicy::normalizeUrl +
// matchUris) once the sandbox exposes it in a public header; until then nothing is guessed.
bool UriTester::available()
{
    return false;
}

std::optional<UriTester::Verdict> UriTester::test(const QStringList& patterns,
                                                  const QString& method, const QString& url)
{
    Q_UNUSED(patterns);
    Q_UNUSED(method);
    Q_UNUSED(url);
    return std::nullopt;
}

} // namespace vivarium
