// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace vivarium {

/**
 * Removes known secret values from text that came back from outside (DESIGN section 5: raw,
 * base64 and URL-encoded forms). A vendor that echoes the key in an error body, or a model
 * that repeats a header, must not carry it into an event, an audit row or the sandbox.
 */
class SecretRedactor
{
public:
    /** Marker that replaces a secret. */
    static constexpr const char* Marker = "[REDACTED]";

    void addSecret(const QByteArray& secret);
    bool isEmpty() const { return m_forms.isEmpty(); }
    /** `text` with every known form of every secret replaced by Marker. */
    QString redact(QString text) const;

private:
    QList<QString> m_forms; ///< longest first, so a longer form is never half-replaced
};

} // namespace vivarium
