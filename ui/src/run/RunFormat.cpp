// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "run/RunFormat.h"

#include "Format.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

namespace vivarium::ui {

QString RunFormat::statusText(RunStatus status)
{
    return Format::status(status); // the runs list and the run view word it alike
}

QColor RunFormat::statusColor(RunStatus status)
{
    return Format::statusColor(status);
}

QColor RunFormat::chartColor(RunStatus status)
{
    // One distinct color per outcome: the chart's legend must tell every one apart.
    switch (status) {
    case RunStatus::Succeeded:
        return QColor(0x2e, 0x9d, 0x4f);
    case RunStatus::Failed:
        return QColor(0xd3, 0x2f, 0x2f);
    case RunStatus::TimedOut:
        return QColor(0xef, 0x6c, 0x00);
    case RunStatus::Interrupted:
        return QColor(0xa1, 0x88, 0x7f);
    case RunStatus::Cancelled:
        return QColor(0x90, 0x90, 0x90);
    case RunStatus::AwaitingApproval:
        return QColor(0xd4, 0xa0, 0x17);
    case RunStatus::Running:
    case RunStatus::Starting:
        return QColor(0x1e, 0x7b, 0xd6);
    case RunStatus::Queued:
        return QColor(0x7f, 0xa7, 0xd1);
    case RunStatus::Skipped:
    case RunStatus::Missed:
        return QColor(0xbd, 0xbd, 0xbd);
    }
    return QColor(Qt::gray);
}

QString RunFormat::cost(std::optional<double> usd, bool unpriced)
{
    if (unpriced || !usd)
        return tr("unpriced");
    return QStringLiteral("$%1").arg(*usd, 0, 'f', *usd < 0.01 ? 4 : 2);
}

QString RunFormat::count(qint64 n)
{
    return QLocale().toString(n); // grouped: 28,440 reads better than 28440
}

QString RunFormat::duration(qint64 ms)
{
    return Format::duration(ms);
}

QString RunFormat::timestamp(const QDateTime& t)
{
    if (!t.isValid())
        return {};
    return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString RunFormat::prettyJson(const QJsonValue& v)
{
    if (v.isString())
        return v.toString();
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Indented))
            .trimmed();
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Indented))
            .trimmed();
    return compactJson(v);
}

QString RunFormat::compactJson(const QJsonValue& v)
{
    if (v.isString())
        return v.toString();
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', 15);
    return QStringLiteral("null");
}

QString RunFormat::elide(const QString& text, int max)
{
    // Only the head is looked at: a 1 MiB tool result must not cost a full simplified() copy.
    QString one = text.left(max * 4).simplified();
    if (one.size() > max || text.size() > max * 4)
        return one.left(max - 1) + QChar(0x2026);
    return one;
}

} // namespace vivarium::ui
