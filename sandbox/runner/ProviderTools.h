// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "ToolBox.h"

#include <QJsonObject>

namespace vivarium::runner {

class BrokerConnection;
struct RunSpec;

/**
 * The provider tools (docs/broker.md, docs/providers.md): `http_request`, offered when the
 * agent has providers, and one tool per granted manifest operation (`<provider>_<operation>`,
 * the spec's `operations`, arguments validated against the operation's schema like every
 * tool's). They hold no credential and open no socket: every call is a `provider` message to
 * the broker (`{"call": {"provider", "connection"?, "operation", "args"}}` for operations),
 * which checks it, adds the connection's credential and redacts the answer. Refusals and HTTP
 * error statuses come back to the model as error results with the broker's reason.
 */
void addProviderTools(ToolBox& tools, BrokerConnection& broker, const RunSpec& spec);

/** What the model reads for the broker's answer to a provider call. */
ToolResult providerResult(const QJsonObject& answer);

} // namespace vivarium::runner
