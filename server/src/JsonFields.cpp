// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/JsonFields.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace vivarium::server {

JsonFields::JsonFields(const QJsonObject& object, QString pointer)
    : m_object(object)
    , m_pointer(std::move(pointer))
{}

QString JsonFields::describe(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        return QStringLiteral("number %1").arg(v.toDouble());
    case QJsonValue::String: {
        QString s = v.toString();
        if (s.size() > 40)
            s = s.left(40) + QStringLiteral("...");
        return QStringLiteral("string \"%1\"").arg(s);
    }
    case QJsonValue::Array:
        return QStringLiteral("an array");
    case QJsonValue::Object:
        return QStringLiteral("an object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

QString JsonFields::pointerOf(const QString& name) const
{
    QString escaped = name;
    escaped.replace(QLatin1Char('~'), QStringLiteral("~0"))
        .replace(QLatin1Char('/'), QStringLiteral("~1"));
    return m_pointer + QLatin1Char('/') + escaped;
}

void JsonFields::addError(const QString& name, const QString& message)
{
    m_errors << QStringLiteral("%1: %2").arg(pointerOf(name), message);
}

void JsonFields::addError(const QString& name, qsizetype index, const QString& message)
{
    m_errors << QStringLiteral("%1/%2: %3").arg(pointerOf(name)).arg(index).arg(message);
}

std::optional<QJsonValue> JsonFields::take(const QString& name, bool required)
{
    m_read << name;
    const auto it = m_object.constFind(name);
    if (it == m_object.constEnd()) {
        if (required)
            addError(name, QStringLiteral("required field is missing"));
        return std::nullopt;
    }
    return it.value();
}

std::optional<QString> JsonFields::string(const QString& name, bool required, int maxLength)
{
    const auto v = take(name, required);
    if (!v)
        return std::nullopt;
    if (!v->isString()) {
        addError(name, QStringLiteral("expected a string, got %1").arg(describe(*v)));
        return std::nullopt;
    }
    const QString s = v->toString();
    if (s.size() > maxLength) {
        addError(name,
                 QStringLiteral("at most %1 characters, got %2").arg(maxLength).arg(s.size()));
        return std::nullopt;
    }
    return s;
}

std::optional<bool> JsonFields::boolean(const QString& name, bool required)
{
    const auto v = take(name, required);
    if (!v)
        return std::nullopt;
    if (!v->isBool()) {
        addError(name, QStringLiteral("expected true or false, got %1").arg(describe(*v)));
        return std::nullopt;
    }
    return v->toBool();
}

std::optional<qint64> JsonFields::integer(const QString& name, qint64 min, qint64 max,
                                          bool required)
{
    const auto v = take(name, required);
    if (!v)
        return std::nullopt;
    const double d = v->toDouble();
    if (!v->isDouble() || d != std::floor(d) || d < double(min) || d > double(max)) {
        addError(name, QStringLiteral("expected an integer from %1 to %2, got %3")
                           .arg(min)
                           .arg(max)
                           .arg(describe(*v)));
        return std::nullopt;
    }
    return qint64(d);
}

std::optional<QStringList> JsonFields::stringList(const QString& name, bool required)
{
    const auto v = take(name, required);
    if (!v)
        return std::nullopt;
    if (!v->isArray()) {
        addError(name, QStringLiteral("expected an array of strings, got %1").arg(describe(*v)));
        return std::nullopt;
    }
    QStringList out;
    const QJsonArray arr = v->toArray();
    for (qsizetype i = 0; i < arr.size(); ++i) {
        if (!arr.at(i).isString()) {
            addError(QStringLiteral("%1/%2").arg(name).arg(i),
                     QStringLiteral("expected a string, got %1").arg(describe(arr.at(i))));
            return std::nullopt;
        }
        out << arr.at(i).toString();
    }
    return out;
}

std::optional<QJsonValue> JsonFields::value(const QString& name, bool required)
{
    return take(name, required);
}

std::optional<QJsonObject> JsonFields::object(const QString& name, bool required)
{
    const auto v = take(name, required);
    if (!v)
        return std::nullopt;
    if (!v->isObject()) {
        addError(name, QStringLiteral("expected an object, got %1").arg(describe(*v)));
        return std::nullopt;
    }
    return v->toObject();
}

std::optional<ApiProblem> JsonFields::finish(const QString& what)
{
    QStringList allowed = m_read;
    allowed.removeDuplicates();
    for (auto it = m_object.constBegin(); it != m_object.constEnd(); ++it) {
        if (!m_read.contains(it.key()))
            addError(it.key(), QStringLiteral("unknown field; allowed: %1")
                                   .arg(allowed.join(QStringLiteral(", "))));
    }
    if (m_errors.isEmpty())
        return std::nullopt;
    return ApiProblem(ApiProblem::Kind::ValidationFailed,
                      QStringLiteral("%1 problem(s) in %2").arg(m_errors.size()).arg(what),
                      m_errors);
}

} // namespace vivarium::server
