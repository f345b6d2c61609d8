// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/AgentDefinition.h"

#include <QString>

namespace vivarium {

class Store;

/**
 * The model endpoints, providers (built-in and the data directory's) and connections that
 * exist on this machine, for the loader's dangling-reference warnings. One answer for the CLI,
 * the API and the desktop app. A kind the store cannot read stays unknown (no warnings) rather
 * than empty (a warning for every reference).
 */
KnownReferences machineReferences(const Store& store, const QString& dataDir);

} // namespace vivarium
