// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QIcon>
#include <QString>

namespace vivarium::icons {

/** An icon of resources/icons by base name ("run", "agents", ...): SVG, sharp at any scale. */
QIcon get(const QString& name);

} // namespace vivarium::icons
