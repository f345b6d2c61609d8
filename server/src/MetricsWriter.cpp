// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/MetricsWriter.h"

#include <cmath>

namespace vivarium::server {

namespace {

QByteArray escapeLabel(const QString& v)
{
    QByteArray out;
    for (const char c : v.toUtf8()) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

QByteArray number(double v)
{
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v))
        return "NaN";
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        return QByteArray::number(qint64(v));
    return QByteArray::number(v, 'g', 12);
}

} // namespace

void MetricsWriter::family(const QString& name, const QString& type, const QString& help)
{
    m_text += "# HELP " + name.toUtf8() + ' ' + help.toUtf8() + '\n';
    m_text += "# TYPE " + name.toUtf8() + ' ' + type.toUtf8() + '\n';
}

void MetricsWriter::sample(const QString& name, const Labels& labels, double value)
{
    m_text += name.toUtf8();
    if (!labels.isEmpty()) {
        m_text += '{';
        bool first = true;
        for (const auto& [k, v] : labels) {
            if (!first)
                m_text += ',';
            first = false;
            m_text += k.toUtf8() + "=\"" + escapeLabel(v) + '"';
        }
        m_text += '}';
    }
    m_text += ' ' + number(value) + '\n';
}

} // namespace vivarium::server
