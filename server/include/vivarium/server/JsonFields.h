// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/server/ApiProblem.h"

#include <QJsonObject>
#include <QSet>
#include <QString>
#include <QStringList>

#include <optional>

namespace vivarium::server {

/**
 * Strict reading of a JSON request body: each read names a field; wrong types and missing
 * required fields are collected, and finish() adds every field nobody read as unknown, so one
 * 422 lists every problem ("/input: ...", "/agnet: unknown field; allowed: agent, input").
 */
class JsonFields
{
public:
    explicit JsonFields(const QJsonObject& object, QString pointer = {});

    std::optional<QString> string(const QString& name, bool required = false, int maxLength = 1024);
    std::optional<bool> boolean(const QString& name, bool required = false);
    std::optional<qint64> integer(const QString& name, qint64 min, qint64 max,
                                  bool required = false);
    std::optional<QStringList> stringList(const QString& name, bool required = false);
    /** Any JSON value (present: returned as is, null included). */
    std::optional<QJsonValue> value(const QString& name, bool required = false);
    std::optional<QJsonObject> object(const QString& name, bool required = false);

    /** Record a problem with a field found by the caller's own checks. */
    void addError(const QString& name, const QString& message);
    /** A problem with one item of an array field: "/name/index: message". */
    void addError(const QString& name, qsizetype index, const QString& message);
    /** Record a problem line that already names its JSON pointer ("/webhook/url: ..."). */
    void addLine(const QString& line) { m_errors << line; }
    bool hasErrors() const { return !m_errors.isEmpty(); }
    /** nullopt when all is well, else a ValidationFailed problem listing every error. */
    std::optional<ApiProblem> finish(const QString& what);

    /** "string \"x\"", "number 3", "an object", ... for messages. */
    static QString describe(const QJsonValue& v);

private:
    std::optional<QJsonValue> take(const QString& name, bool required);
    QString pointerOf(const QString& name) const;

    QJsonObject m_object;
    QString m_pointer;
    QStringList m_read;
    QStringList m_errors;
};

} // namespace vivarium::server
