// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Run.h"
#include "vivarium/core/Store.h"

#include <QJsonObject>
#include <QJsonValue>

namespace vivarium::server {

/** JSON shapes shared by controllers (documented in resources/openapi.json). */
namespace repr {

/** ISO 8601 UTC with milliseconds, or null. */
QJsonValue time(const QDateTime& t);
QJsonValue textOrNull(const QString& s);
/** A run with usage and links (self, events, cancel, agent). */
QJsonObject run(const RunRecord& r);
/** One journal entry: {seq, type, ts, data}. */
QJsonObject event(const RunEvent& e);
QJsonObject apiKey(const Store::ApiKeyRecord& k);
/** The compact JSON text of an object. */
QByteArray compact(const QJsonObject& o);

} // namespace repr

} // namespace vivarium::server
