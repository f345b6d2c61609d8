// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace vivarium::server {

/** Builds a Prometheus text exposition (format 0.0.4) for GET /metrics. */
class MetricsWriter
{
public:
    using Labels = QList<QPair<QString, QString>>;

    /** Start a metric family: `# HELP` and `# TYPE` (counter, gauge, histogram). */
    void family(const QString& name, const QString& type, const QString& help);
    /** One sample line; label values are escaped. */
    void sample(const QString& name, const Labels& labels, double value);
    void sample(const QString& name, double value) { sample(name, {}, value); }

    QByteArray text() const { return m_text; }

private:
    QByteArray m_text;
};

} // namespace vivarium::server
