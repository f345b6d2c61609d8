// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/protocol/JsonSchema.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QRegularExpression>
#include <QUrl>

#include <cmath>

namespace vivarium {

namespace {

// $ref chains deeper than this are treated as a cycle: a schema like {"$ref": "#"} would
// otherwise recurse without ever descending into the instance.
constexpr int MaxDepth = 64;

QString childPointer(const QString& ptr, QString key)
{
    key.replace(QLatin1Char('~'), QStringLiteral("~0"));
    key.replace(QLatin1Char('/'), QStringLiteral("~1"));
    return ptr + QLatin1Char('/') + key;
}

QString childPointer(const QString& ptr, qsizetype index)
{
    return ptr + QLatin1Char('/') + QString::number(index);
}

QString number(double d)
{
    if (d == std::trunc(d) && std::fabs(d) < 1e15)
        return QString::number(qint64(d));
    return QString::number(d, 'g', QLocale::FloatingPointShortest);
}

/** Compact JSON text of any value, scalars included (QJsonDocument only takes containers). */
QString compactJson(const QJsonValue& v)
{
    const QByteArray text = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(text.mid(1, text.size() - 2));
}

QString plural(qint64 n, const char* one, const char* many)
{
    return QString::number(n) + QLatin1Char(' ') + QLatin1String(n == 1 ? one : many);
}

/** The value's type and a short rendering, e.g. `number 3` or `string "abc"`. */
QString describe(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("boolean true") : QStringLiteral("boolean false");
    case QJsonValue::Double:
        return QStringLiteral("number ") + number(v.toDouble());
    case QJsonValue::String: {
        QString s = v.toString();
        const bool cut = s.size() > 40;
        if (cut)
            s.truncate(40);
        s = compactJson(s);
        if (cut)
            s.insert(s.size() - 1, QStringLiteral("..."));
        return QStringLiteral("string ") + s;
    }
    case QJsonValue::Array: {
        const qsizetype n = v.toArray().size();
        return n == 0 ? QStringLiteral("empty array")
                      : QStringLiteral("array of ") + plural(n, "item", "items");
    }
    case QJsonValue::Object: {
        const qsizetype n = v.toObject().size();
        return n == 0 ? QStringLiteral("empty object")
                      : QStringLiteral("object with ") + plural(n, "property", "properties");
    }
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("nothing");
}

bool isInteger(const QJsonValue& v)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    return std::isfinite(d) && d == std::trunc(d);
}

bool hasType(const QJsonValue& v, const QString& type)
{
    if (type == QLatin1String("string"))
        return v.isString();
    if (type == QLatin1String("number"))
        return v.isDouble();
    if (type == QLatin1String("integer"))
        return isInteger(v);
    if (type == QLatin1String("object"))
        return v.isObject();
    if (type == QLatin1String("array"))
        return v.isArray();
    if (type == QLatin1String("boolean"))
        return v.isBool();
    if (type == QLatin1String("null"))
        return v.isNull();
    return false;
}

QString typePhrase(const QString& type)
{
    if (type == QLatin1String("null"))
        return type;
    if (type == QLatin1String("object") || type == QLatin1String("array") ||
        type == QLatin1String("integer"))
        return QStringLiteral("an ") + type;
    return QStringLiteral("a ") + type;
}

/** Structural equality; numbers compare by value so 1 and 1.0 are the same. */
bool jsonEqual(const QJsonValue& a, const QJsonValue& b)
{
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case QJsonValue::Double:
        return a.toDouble() == b.toDouble();
    case QJsonValue::Array: {
        const QJsonArray x = a.toArray();
        const QJsonArray y = b.toArray();
        if (x.size() != y.size())
            return false;
        for (qsizetype i = 0; i < x.size(); ++i) {
            if (!jsonEqual(x.at(i), y.at(i)))
                return false;
        }
        return true;
    }
    case QJsonValue::Object: {
        const QJsonObject x = a.toObject();
        const QJsonObject y = b.toObject();
        if (x.size() != y.size())
            return false;
        for (auto it = x.begin(); it != x.end(); ++it) {
            const auto other = y.constFind(it.key());
            if (other == y.constEnd() || !jsonEqual(it.value(), other.value()))
                return false;
        }
        return true;
    }
    default:
        return a == b;
    }
}

/** Unicode code points, which is what minLength/maxLength count (not UTF-16 units). */
qsizetype codePoints(const QString& s)
{
    qsizetype n = 0;
    for (qsizetype i = 0; i < s.size(); ++i) {
        if (!(s.at(i).isLowSurrogate() && i > 0 && s.at(i - 1).isHighSurrogate()))
            ++n;
    }
    return n;
}

class Validator
{
public:
    Validator(const QJsonValue& root, int maxErrors)
        : m_root(root)
        , m_maxErrors(maxErrors)
    {}

    void check(const QJsonValue& schema, const QJsonValue& instance, const QString& ptr, int depth);
    QStringList errors() const { return m_errors; }
    bool full() const { return m_errors.size() >= m_maxErrors; }

private:
    void error(const QString& ptr, const QString& message)
    {
        if (!full())
            m_errors.append((ptr.isEmpty() ? QStringLiteral("/") : ptr) + QStringLiteral(": ") +
                            message);
    }
    /** Errors of `schema` against `instance` on its own, for anyOf/oneOf/not. */
    QStringList trial(const QJsonValue& schema, const QJsonValue& instance, const QString& ptr,
                      int depth, int maxErrors = 1) const
    {
        Validator sub(m_root, maxErrors);
        sub.check(schema, instance, ptr, depth);
        return sub.errors();
    }
    const QJsonValue* resolve(const QString& ref, QJsonValue* storage, QString* why) const;

    void checkType(const QJsonObject& s, const QJsonValue& v, const QString& ptr);
    void checkNumber(const QJsonObject& s, double x, const QString& ptr);
    void checkString(const QJsonObject& s, const QString& str, const QString& ptr);
    void checkArray(const QJsonObject& s, const QJsonArray& a, const QString& ptr, int depth);
    void checkObject(const QJsonObject& s, const QJsonObject& o, const QString& ptr, int depth);
    void checkCombinators(const QJsonObject& s, const QJsonValue& v, const QString& ptr, int depth);

    const QJsonValue& m_root;
    int m_maxErrors;
    QStringList m_errors;
};

void Validator::check(const QJsonValue& schema, const QJsonValue& instance, const QString& ptr,
                      int depth)
{
    if (full())
        return;
    if (schema.isBool()) {
        if (!schema.toBool())
            error(ptr, QStringLiteral("no value is allowed here (schema is false)"));
        return;
    }
    // Anything but an object or a boolean is not a schema; like an unknown keyword it
    // constrains nothing.
    if (!schema.isObject())
        return;
    const QJsonObject s = schema.toObject();

    if (s.contains(QStringLiteral("$ref"))) {
        const QString ref = s.value(QStringLiteral("$ref")).toString();
        if (depth >= MaxDepth) {
            error(ptr, QStringLiteral("$ref \"%1\" nested more than %2 levels deep (recursive "
                                      "schema?)")
                           .arg(ref)
                           .arg(MaxDepth));
            return;
        }
        QJsonValue storage;
        QString why;
        if (const QJsonValue* target = resolve(ref, &storage, &why))
            check(*target, instance, ptr, depth + 1);
        else
            error(ptr, why);
    }

    checkType(s, instance, ptr);

    if (const QJsonValue e = s.value(QStringLiteral("enum")); e.isArray()) {
        const QJsonArray options = e.toArray();
        bool found = false;
        for (const QJsonValue& o : options)
            found = found || jsonEqual(o, instance);
        if (!found) {
            QStringList shown;
            for (const QJsonValue& o : options)
                shown.append(compactJson(o));
            error(ptr, QStringLiteral("expected one of ") + shown.join(QStringLiteral(", ")) +
                           QStringLiteral(", got ") + describe(instance));
        }
    }
    if (s.contains(QStringLiteral("const"))) {
        const QJsonValue c = s.value(QStringLiteral("const"));
        if (!jsonEqual(c, instance))
            error(ptr, QStringLiteral("expected ") + compactJson(c) + QStringLiteral(", got ") +
                           describe(instance));
    }

    if (instance.isDouble())
        checkNumber(s, instance.toDouble(), ptr);
    else if (instance.isString())
        checkString(s, instance.toString(), ptr);
    else if (instance.isArray())
        checkArray(s, instance.toArray(), ptr, depth);
    else if (instance.isObject())
        checkObject(s, instance.toObject(), ptr, depth);

    checkCombinators(s, instance, ptr, depth);
}

const QJsonValue* Validator::resolve(const QString& ref, QJsonValue* storage, QString* why) const
{
    if (!ref.startsWith(QLatin1Char('#'))) {
        *why = QStringLiteral("$ref \"%1\" is not supported (only local references starting "
                              "with # are)")
                   .arg(ref);
        return nullptr;
    }
    // The fragment is URI-encoded, then RFC 6901 escaped.
    const QString pointer = QUrl::fromPercentEncoding(ref.mid(1).toUtf8());
    if (pointer.isEmpty())
        return &m_root;
    if (!pointer.startsWith(QLatin1Char('/'))) {
        *why = QStringLiteral("$ref \"%1\" is not a JSON pointer").arg(ref);
        return nullptr;
    }
    QJsonValue cur = m_root;
    const QStringList tokens = pointer.mid(1).split(QLatin1Char('/'));
    for (QString token : tokens) {
        token.replace(QStringLiteral("~1"), QStringLiteral("/"));
        token.replace(QStringLiteral("~0"), QStringLiteral("~"));
        if (cur.isObject() && cur.toObject().contains(token)) {
            cur = cur.toObject().value(token);
        } else if (cur.isArray()) {
            bool ok = false;
            const qsizetype i = token.toLongLong(&ok);
            if (!ok || i < 0 || i >= cur.toArray().size()) {
                *why = QStringLiteral("$ref \"%1\" does not resolve").arg(ref);
                return nullptr;
            }
            cur = cur.toArray().at(i);
        } else {
            *why = QStringLiteral("$ref \"%1\" does not resolve").arg(ref);
            return nullptr;
        }
    }
    *storage = cur;
    return storage;
}

void Validator::checkType(const QJsonObject& s, const QJsonValue& v, const QString& ptr)
{
    const QJsonValue t = s.value(QStringLiteral("type"));
    QStringList types;
    if (t.isString())
        types.append(t.toString());
    else if (t.isArray())
        for (const QJsonValue& x : t.toArray())
            types.append(x.toString());
    if (types.isEmpty())
        return;
    for (const QString& type : std::as_const(types)) {
        if (hasType(v, type))
            return;
    }
    QStringList phrases;
    for (const QString& type : std::as_const(types))
        phrases.append(typePhrase(type));
    QString expected = phrases.takeLast();
    if (!phrases.isEmpty())
        expected = phrases.join(QStringLiteral(", ")) + QStringLiteral(" or ") + expected;
    error(ptr, QStringLiteral("expected ") + expected + QStringLiteral(", got ") + describe(v));
}

void Validator::checkNumber(const QJsonObject& s, double x, const QString& ptr)
{
    const QString got = QStringLiteral(", got ") + describe(x);
    const QJsonValue min = s.value(QStringLiteral("minimum"));
    const QJsonValue max = s.value(QStringLiteral("maximum"));
    const QJsonValue exMin = s.value(QStringLiteral("exclusiveMinimum"));
    const QJsonValue exMax = s.value(QStringLiteral("exclusiveMaximum"));
    // Draft 4 spelled exclusivity as a boolean modifier of minimum/maximum.
    const bool minIsExclusive = exMin.isBool() && exMin.toBool();
    const bool maxIsExclusive = exMax.isBool() && exMax.toBool();
    if (min.isDouble()) {
        const double m = min.toDouble();
        if (minIsExclusive ? !(x > m) : !(x >= m))
            error(ptr, QStringLiteral("expected a number ") +
                           (minIsExclusive ? QStringLiteral("> ") : QStringLiteral(">= ")) +
                           number(m) + got);
    }
    if (max.isDouble()) {
        const double m = max.toDouble();
        if (maxIsExclusive ? !(x < m) : !(x <= m))
            error(ptr, QStringLiteral("expected a number ") +
                           (maxIsExclusive ? QStringLiteral("< ") : QStringLiteral("<= ")) +
                           number(m) + got);
    }
    if (exMin.isDouble() && !(x > exMin.toDouble()))
        error(ptr, QStringLiteral("expected a number > ") + number(exMin.toDouble()) + got);
    if (exMax.isDouble() && !(x < exMax.toDouble()))
        error(ptr, QStringLiteral("expected a number < ") + number(exMax.toDouble()) + got);
    if (const QJsonValue m = s.value(QStringLiteral("multipleOf")); m.isDouble()) {
        const double d = m.toDouble();
        if (d > 0) {
            // Tolerate binary rounding: 0.3 is a multiple of 0.1 for every practical purpose.
            const double q = x / d;
            const bool ok = std::isfinite(q) &&
                            std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
            if (!ok)
                error(ptr, QStringLiteral("expected a multiple of ") + number(d) + got);
        }
    }
}

void Validator::checkString(const QJsonObject& s, const QString& str, const QString& ptr)
{
    const qsizetype len = codePoints(str);
    if (const QJsonValue m = s.value(QStringLiteral("minLength")); m.isDouble()) {
        if (len < qint64(m.toDouble()))
            error(ptr, QStringLiteral("expected at least ") +
                           plural(qint64(m.toDouble()), "character", "characters") +
                           QStringLiteral(", got ") + QString::number(len));
    }
    if (const QJsonValue m = s.value(QStringLiteral("maxLength")); m.isDouble()) {
        if (len > qint64(m.toDouble()))
            error(ptr, QStringLiteral("expected at most ") +
                           plural(qint64(m.toDouble()), "character", "characters") +
                           QStringLiteral(", got ") + QString::number(len));
    }
    if (const QJsonValue p = s.value(QStringLiteral("pattern")); p.isString()) {
        // ECMA-262 semantics: unanchored search; \d etc. match ASCII only in JSON Schema but
        // PCRE2's defaults agree with that.
        const QRegularExpression re(p.toString());
        if (!re.isValid())
            error(ptr, QStringLiteral("the schema's pattern \"%1\" is not a valid regular "
                                      "expression: %2")
                           .arg(p.toString(), re.errorString()));
        else if (!re.match(str).hasMatch())
            error(ptr, QStringLiteral("expected a string matching the pattern ") + compactJson(p) +
                           QStringLiteral(", got ") + describe(str));
    }
}

void Validator::checkArray(const QJsonObject& s, const QJsonArray& a, const QString& ptr, int depth)
{
    const qsizetype n = a.size();
    if (const QJsonValue m = s.value(QStringLiteral("minItems")); m.isDouble()) {
        if (n < qint64(m.toDouble()))
            error(ptr, QStringLiteral("expected at least ") +
                           plural(qint64(m.toDouble()), "item", "items") +
                           QStringLiteral(", got ") + QString::number(n));
    }
    if (const QJsonValue m = s.value(QStringLiteral("maxItems")); m.isDouble()) {
        if (n > qint64(m.toDouble()))
            error(ptr, QStringLiteral("expected at most ") +
                           plural(qint64(m.toDouble()), "item", "items") +
                           QStringLiteral(", got ") + QString::number(n));
    }
    if (s.value(QStringLiteral("uniqueItems")).toBool()) {
        bool reported = false;
        for (qsizetype i = 0; i < n && !reported; ++i) {
            for (qsizetype j = i + 1; j < n && !reported; ++j) {
                if (jsonEqual(a.at(i), a.at(j))) {
                    error(ptr, QStringLiteral("expected unique items, but items %1 and %2 are "
                                              "equal")
                                   .arg(i)
                                   .arg(j));
                    reported = true;
                }
            }
        }
    }

    // Tuple validation: prefixItems (2020-12), or the older array form of items, with
    // additionalItems for the rest.
    QJsonArray prefix;
    QJsonValue rest{QJsonValue::Undefined};
    const QJsonValue items = s.value(QStringLiteral("items"));
    if (s.value(QStringLiteral("prefixItems")).isArray()) {
        prefix = s.value(QStringLiteral("prefixItems")).toArray();
        rest = items;
    } else if (items.isArray()) {
        prefix = items.toArray();
        rest = s.value(QStringLiteral("additionalItems"));
    } else {
        rest = items;
    }
    for (qsizetype i = 0; i < n && !full(); ++i) {
        if (i < prefix.size()) {
            check(prefix.at(i), a.at(i), childPointer(ptr, i), depth);
        } else if (rest.isBool() && !rest.toBool()) {
            error(childPointer(ptr, i),
                  QStringLiteral("item not allowed (at most %1 expected)").arg(prefix.size()));
            break;
        } else if (rest.isObject()) {
            check(rest, a.at(i), childPointer(ptr, i), depth);
        }
    }
}

void Validator::checkObject(const QJsonObject& s, const QJsonObject& o, const QString& ptr,
                            int depth)
{
    const qsizetype n = o.size();
    if (const QJsonValue m = s.value(QStringLiteral("minProperties")); m.isDouble()) {
        if (n < qint64(m.toDouble()))
            error(ptr, QStringLiteral("expected at least ") +
                           plural(qint64(m.toDouble()), "property", "properties") +
                           QStringLiteral(", got ") + QString::number(n));
    }
    if (const QJsonValue m = s.value(QStringLiteral("maxProperties")); m.isDouble()) {
        if (n > qint64(m.toDouble()))
            error(ptr, QStringLiteral("expected at most ") +
                           plural(qint64(m.toDouble()), "property", "properties") +
                           QStringLiteral(", got ") + QString::number(n));
    }
    for (const QJsonValue& r : s.value(QStringLiteral("required")).toArray()) {
        if (r.isString() && !o.contains(r.toString()))
            error(ptr, QStringLiteral("missing required property ") + compactJson(r));
    }

    const QJsonObject props = s.value(QStringLiteral("properties")).toObject();
    const QJsonObject patterns = s.value(QStringLiteral("patternProperties")).toObject();
    QList<QPair<QRegularExpression, QJsonValue>> compiled;
    for (auto it = patterns.begin(); it != patterns.end(); ++it)
        compiled.append({QRegularExpression(it.key()), it.value()});
    const QJsonValue additional = s.value(QStringLiteral("additionalProperties"));

    for (auto it = o.begin(); it != o.end() && !full(); ++it) {
        const QString p = childPointer(ptr, it.key());
        bool matched = false;
        if (const auto prop = props.constFind(it.key()); prop != props.constEnd()) {
            matched = true;
            check(prop.value(), it.value(), p, depth);
        }
        for (const auto& [re, sub] : std::as_const(compiled)) {
            if (re.isValid() && re.match(it.key()).hasMatch()) {
                matched = true;
                check(sub, it.value(), p, depth);
            }
        }
        if (matched)
            continue;
        if (additional.isBool() && !additional.toBool())
            error(p, QStringLiteral("property not allowed (additionalProperties is false)"));
        else if (additional.isObject())
            check(additional, it.value(), p, depth);
    }
}

void Validator::checkCombinators(const QJsonObject& s, const QJsonValue& v, const QString& ptr,
                                 int depth)
{
    for (const QJsonValue& sub : s.value(QStringLiteral("allOf")).toArray())
        check(sub, v, ptr, depth);

    // For a failed anyOf/oneOf, the first problem of each alternative tells the reader what
    // each branch wanted.
    const auto summarize = [](const QList<QStringList>& failures) {
        QStringList parts;
        for (qsizetype i = 0; i < failures.size(); ++i)
            parts.append(QStringLiteral("[%1] ").arg(i) + failures.at(i).value(0));
        return parts.join(QStringLiteral("; "));
    };

    if (const QJsonValue any = s.value(QStringLiteral("anyOf")); any.isArray()) {
        QList<QStringList> failures;
        bool ok = false;
        for (const QJsonValue& sub : any.toArray()) {
            const QStringList errs = trial(sub, v, ptr, depth);
            if (errs.isEmpty()) {
                ok = true;
                break;
            }
            failures.append(errs);
        }
        if (!ok && !failures.isEmpty())
            error(ptr, QStringLiteral("expected a value matching at least one of %1 schemas "
                                      "(anyOf), got %2: ")
                               .arg(failures.size())
                               .arg(describe(v)) +
                           summarize(failures));
    }

    if (const QJsonValue one = s.value(QStringLiteral("oneOf")); one.isArray()) {
        QList<QStringList> failures;
        QList<qsizetype> matches;
        const QJsonArray alternatives = one.toArray();
        for (qsizetype i = 0; i < alternatives.size(); ++i) {
            const QStringList errs = trial(alternatives.at(i), v, ptr, depth);
            if (errs.isEmpty())
                matches.append(i);
            else
                failures.append(errs);
        }
        if (matches.isEmpty() && !alternatives.isEmpty())
            error(ptr, QStringLiteral("expected a value matching exactly one of %1 schemas "
                                      "(oneOf), got %2 matching none: ")
                               .arg(alternatives.size())
                               .arg(describe(v)) +
                           summarize(failures));
        else if (matches.size() > 1)
            error(ptr, QStringLiteral("expected a value matching exactly one of %1 schemas "
                                      "(oneOf), but it matches %2 (schemas %3 and %4)")
                           .arg(alternatives.size())
                           .arg(matches.size())
                           .arg(matches.at(0))
                           .arg(matches.at(1)));
    }

    if (s.contains(QStringLiteral("not"))) {
        if (trial(s.value(QStringLiteral("not")), v, ptr, depth).isEmpty())
            error(ptr, QStringLiteral("expected a value not matching the schema in \"not\", "
                                      "got ") +
                           describe(v));
    }
}

} // namespace

QStringList JsonSchema::validate(const QJsonValue& schema, const QJsonValue& instance,
                                 int maxErrors)
{
    // Zero or fewer would make every instance look valid; one line is the least we report.
    Validator v(schema, std::max(1, maxErrors));
    v.check(schema, instance, QString(), 0);
    return v.errors();
}

} // namespace vivarium
