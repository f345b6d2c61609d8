// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/sandbox/LlmClient.h"

#include <QRegularExpression>

#include <array>

namespace vivarium {

namespace {

struct Price
{
    const char* model;
    double inputPerMTok;
    double outputPerMTok;
};

// List prices in USD per million tokens. A model missing here is unpriced (shown as unknown,
// never as $0); endpoints can override both prices in their config.
constexpr std::array<Price, 25> Prices{{
    {"gpt-4o", 2.5, 10},
    {"gpt-4o-mini", 0.15, 0.6},
    {"gpt-4.1", 2, 8},
    {"gpt-4.1-mini", 0.4, 1.6},
    {"gpt-4.1-nano", 0.1, 0.4},
    {"gpt-5", 1.25, 10},
    {"gpt-5-mini", 0.25, 2},
    {"gpt-5-nano", 0.05, 0.4},
    {"o1", 15, 60},
    {"o3", 2, 8},
    {"o3-mini", 1.1, 4.4},
    {"o4-mini", 1.1, 4.4},
    {"claude-3-haiku", 0.25, 1.25},
    {"claude-3-5-haiku", 0.8, 4},
    {"claude-haiku-4-5", 1, 5},
    {"claude-3-5-sonnet", 3, 15},
    {"claude-3-7-sonnet", 3, 15},
    {"claude-sonnet-4", 3, 15},
    {"claude-sonnet-4-5", 3, 15},
    {"claude-3-opus", 15, 75},
    {"claude-opus-4", 15, 75},
    {"claude-opus-4-1", 15, 75},
    {"claude-opus-4-5", 5, 25},
    {"gpt-4-turbo", 10, 30},
    {"gpt-3.5-turbo", 0.5, 1.5},
}};

const Price* lookup(const QString& model)
{
    // Vendors pin snapshots with a date suffix ("claude-sonnet-4-20250514",
    // "gpt-4o-2024-08-06") or an alias ("claude-3-5-haiku-latest"). The suffix must be exactly
    // that, so "gpt-4o-mini" never matches "gpt-4o".
    static const QRegularExpression suffix(
        QStringLiteral("^-(\\d{8}|\\d{4}-\\d{2}-\\d{2}|latest)$"));
    const QString name = model.trimmed().toLower();
    for (const Price& p : Prices) {
        const QLatin1String key(p.model);
        if (name == key)
            return &p;
        if (name.startsWith(key) && suffix.match(QStringView(name).sliced(key.size())).hasMatch())
            return &p;
    }
    return nullptr;
}

} // namespace

std::optional<double> PriceTable::cost(const QString& model, const Usage& usage,
                                       const EndpointConfig* overrides)
{
    // Plain doubles with flags: GCC 12 at -O2 warns (falsely) about std::optional here.
    const Price* builtIn = lookup(model);
    bool haveIn = builtIn != nullptr;
    bool haveOut = builtIn != nullptr;
    double in = builtIn ? builtIn->inputPerMTok : 0.0;
    double out = builtIn ? builtIn->outputPerMTok : 0.0;
    if (overrides && overrides->inputPricePerMTok) {
        in = *overrides->inputPricePerMTok;
        haveIn = true;
    }
    if (overrides && overrides->outputPricePerMTok) {
        out = *overrides->outputPricePerMTok;
        haveOut = true;
    }
    if (!haveIn || !haveOut)
        return std::nullopt;
    // Cached input tokens (reads and writes) are counted at the plain input price: simple,
    // and an upper bound for reads, which vendors discount.
    return (double(usage.inputTokens) * in + double(usage.outputTokens) * out) / 1e6;
}

} // namespace vivarium
