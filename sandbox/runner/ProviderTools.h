// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "ToolBox.h"

#include <QJsonObject>

namespace vivarium::runner {

class BrokerConnection;
struct RunSpec;

/**
 * The provider tools (docs/broker.md). Today one: `http_request`, offered only when the agent
 * has providers. It holds no credential and opens no socket: every call is a `provider`
 * message to the broker, which checks it, adds the connection's credential and redacts the
 * answer. Refusals and HTTP error statuses come back to the model as error results with the
 * broker's reason.
 *
 * Extension point: the provider catalog issue adds the manifest's named operations here, one
 * ToolBox::addTool per operation, each sending `{"call": {"operation", "args"}}`.
 */
void addProviderTools(ToolBox& tools, BrokerConnection& broker, const RunSpec& spec);

/** What the model reads for the broker's answer to a provider call. */
ToolResult providerResult(const QJsonObject& answer);

} // namespace vivarium::runner
