// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "supervisor/SecretRedactor.h"

#include <QByteArray>
#include <QList>

namespace vivarium {

/**
 * Removes every known secret of a run from what a provider sent back (DESIGN section 5), on
 * bytes, so binary bodies are covered too. Per secret: raw; percent-encoded (upper and lower
 * hex, and form encoding with "+"); base64, standard and URL-safe, at each of the three
 * alignments a secret can have inside a longer encoded value (`Basic base64(user:token)`), so
 * only the characters that depend on the secret alone are matched. The model key comes as the
 * run's SecretRedactor and is applied after, byte-transparently.
 *
 * A token the upstream mints in its response cannot be known here: it passes (docs/broker.md).
 */
class ResponseScrubber
{
public:
    static constexpr const char* Marker = SecretRedactor::Marker;

    void addSecret(const QByteArray& secret);
    void setModelRedactor(const SecretRedactor& redactor) { m_model = redactor; }
    bool isEmpty() const { return m_forms.isEmpty() && m_model.isEmpty(); }

    /**
     * `bytes` with every form replaced by Marker. `cutTail`: the bytes were truncated, so a
     * form may have been cut in half at the end: a trailing prefix of one is dropped too.
     */
    QByteArray scrub(QByteArray bytes, bool cutTail = false) const;
    QString scrub(const QString& text) const;

private:
    void addForm(const QByteArray& form);

    QList<QByteArray> m_forms; ///< longest first
    SecretRedactor m_model;
};

} // namespace vivarium
