// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>

#include <optional>

// Small JSON and text helpers the runner needs in several places.
namespace vivarium::runner {

/**
 * Parse any JSON value, scalars included (QJsonDocument alone only takes objects and arrays).
 * On failure returns nullopt and sets `error` to a readable reason with the byte offset.
 */
std::optional<QJsonValue> parseJson(const QByteArray& text, QString* error = nullptr);

/** Compact JSON text of any value. Object keys come out sorted, so equal values compare equal. */
QString compactJson(const QJsonValue& value);

/** Indented JSON for objects and arrays, compact for scalars: what a model reads best. */
QString prettyJson(const QJsonValue& value);

/**
 * Length of `bytes` without a trailing incomplete UTF-8 sequence, i.e. where a cut made at the
 * end of `bytes` falls back to so that it splits no character.
 */
qsizetype completeUtf8Length(const QByteArray& bytes);

/** True if `bytes` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
bool isValidUtf8(const QByteArray& bytes);

/**
 * `text` cut to at most `maxBytes` of UTF-8, with a note saying how much was left out.
 * Returned unchanged when it fits.
 */
QString truncateWithNote(const QString& text, qsizetype maxBytes);

} // namespace vivarium::runner
