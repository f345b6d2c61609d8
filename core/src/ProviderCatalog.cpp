// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Provider manifests: parsing with every problem reported at its JSON path, the catalog of
// built-in and user manifests, and rendering an operation into an HTTP request
// (docs/providers.md).
#include "vivarium/core/ProviderManifest.h"

#include "JsonText.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

#include <algorithm>
#include <cmath>

namespace vivarium {

namespace {

Q_LOGGING_CATEGORY(lcProviders, "vivarium.core.providers", QtInfoMsg)

/** A manifest file larger than this is refused: real ones are a few KiB. */
constexpr qint64 MaxManifestBytes = 1024 * 1024;
constexpr qsizetype MaxIdChars = 32;
constexpr qsizetype MaxOperationChars = 31; ///< `<id>_<operation>` stays within 64 (tool names)
const QString BuiltInDir = QStringLiteral(":/vivarium/providers");

const QRegularExpression& idPattern()
{
    static const QRegularExpression re(QStringLiteral("^[a-z][a-z0-9_-]*$"));
    return re;
}

const QRegularExpression& namePattern()
{
    static const QRegularExpression re(QStringLiteral("^[a-z][a-z0-9_]*$"));
    return re;
}

const QRegularExpression& labelPattern()
{
    static const QRegularExpression re(QStringLiteral("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"));
    return re;
}

const QStringList& operationMethods()
{
    static const QStringList m{QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"),
                               QStringLiteral("PATCH"), QStringLiteral("DELETE")};
    return m;
}

QString quoted(const QStringList& items)
{
    QStringList out;
    for (const QString& s : items)
        out << QLatin1Char('"') + s + QLatin1Char('"');
    return out.join(QStringLiteral(", "));
}

/** Collects problems, each at the JSON path of what is wrong (`operations[2].path`). */
class Problems
{
public:
    void add(const QString& path, const QString& message)
    {
        m_lines.append(path.isEmpty() ? message : path + QStringLiteral(": ") + message);
    }
    bool isEmpty() const { return m_lines.isEmpty(); }
    QStringList lines() const { return m_lines; }

private:
    QStringList m_lines;
};

QString member(const QString& path, const QString& key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

QString element(const QString& path, qsizetype index)
{
    return path + QLatin1Char('[') + QString::number(index) + QLatin1Char(']');
}

void checkKeys(const QJsonObject& o, const QString& path, const QStringList& known, Problems& p)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString& key = it.key();
        if (known.contains(key) || key.startsWith(QLatin1Char('$')))
            continue;
        p.add(member(path, key),
              QStringLiteral("unknown key (expected one of %1)").arg(quoted(known)));
    }
}

/** An optional string member: empty when absent; a problem when not a string. */
QString optString(const QJsonObject& o, const QString& path, const QString& key, Problems& p)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isString()) {
        p.add(member(path, key),
              QStringLiteral("expected a string, got %1").arg(jsontext::describe(v)));
        return {};
    }
    return v.toString();
}

QString reqString(const QJsonObject& o, const QString& path, const QString& key, Problems& p)
{
    if (!o.contains(key)) {
        p.add(member(path, key), QStringLiteral("missing (a non-empty string)"));
        return {};
    }
    const QString s = optString(o, path, key, p);
    if (o.value(key).isString() && s.trimmed().isEmpty())
        p.add(member(path, key), QStringLiteral("may not be empty"));
    return s;
}

std::optional<bool> optBool(const QJsonObject& o, const QString& path, const QString& key,
                            Problems& p)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return std::nullopt;
    if (!v.isBool()) {
        p.add(member(path, key),
              QStringLiteral("expected true or false, got %1").arg(jsontext::describe(v)));
        return std::nullopt;
    }
    return v.toBool();
}

QStringList optStrings(const QJsonObject& o, const QString& path, const QString& key, Problems& p)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return {};
    if (!v.isArray()) {
        p.add(member(path, key),
              QStringLiteral("expected an array of strings, got %1").arg(jsontext::describe(v)));
        return {};
    }
    QStringList out;
    const QJsonArray a = v.toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!a.at(i).isString() || a.at(i).toString().isEmpty())
            p.add(element(member(path, key), i),
                  QStringLiteral("expected a non-empty string, got %1")
                      .arg(jsontext::describe(a.at(i))));
        else
            out.append(a.at(i).toString());
    }
    return out;
}

bool isLoopbackHost(const QString& host)
{
    if (host == QLatin1String("localhost"))
        return true;
    QString h = host;
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
        h = h.mid(1, h.size() - 2);
    QHostAddress a;
    return a.setAddress(h) && a.isLoopback();
}

bool isTchar(QChar c)
{
    if (c.unicode() > 0x7f)
        return false;
    const char ch = char(c.unicode());
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(ch);
}

bool isToken(const QString& s)
{
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), isTchar);
}

/** Headers the broker sets or refuses itself (docs/broker.md rule a). */
QString forbiddenHeaderReason(const QString& name)
{
    const QString lower = name.toLower();
    static const QStringList Credential{QStringLiteral("authorization"),
                                        QStringLiteral("proxy-authorization"),
                                        QStringLiteral("cookie")};
    if (Credential.contains(lower) || lower.startsWith(QLatin1String("proxy-")))
        return QStringLiteral("carries credentials, which come from the connection");
    static const QStringList Broker{QStringLiteral("host"),
                                    QStringLiteral("content-length"),
                                    QStringLiteral("transfer-encoding"),
                                    QStringLiteral("connection"),
                                    QStringLiteral("keep-alive"),
                                    QStringLiteral("te"),
                                    QStringLiteral("trailer"),
                                    QStringLiteral("upgrade"),
                                    QStringLiteral("expect"),
                                    QStringLiteral("http2-settings"),
                                    QStringLiteral("accept-encoding")};
    if (Broker.contains(lower))
        return QStringLiteral("is set by the broker");
    return {};
}

QList<QPair<QString, QString>> parseHeaders(const QJsonObject& o, const QString& path, Problems& p)
{
    QList<QPair<QString, QString>> out;
    const QJsonValue v = o.value(QStringLiteral("headers"));
    if (v.isUndefined())
        return out;
    const QString here = member(path, QStringLiteral("headers"));
    if (!v.isObject()) {
        p.add(here, QStringLiteral("expected an object of header names to values, got %1")
                        .arg(jsontext::describe(v)));
        return out;
    }
    const QJsonObject h = v.toObject();
    for (auto it = h.begin(); it != h.end(); ++it) {
        const QString at = member(here, it.key());
        if (!isToken(it.key())) {
            p.add(at, QStringLiteral("not a valid header name"));
            continue;
        }
        if (const QString why = forbiddenHeaderReason(it.key()); !why.isEmpty()) {
            p.add(at, QStringLiteral("may not be set: it %1").arg(why));
            continue;
        }
        if (!it.value().isString()) {
            p.add(at, QStringLiteral("expected a string, got %1").arg(jsontext::describe(*it)));
            continue;
        }
        const QString value = it.value().toString();
        if (std::any_of(value.begin(), value.end(), [](QChar c) {
                return (c.unicode() < 0x20 && c != QLatin1Char('\t')) || c.unicode() == 0x7f;
            })) {
            p.add(at, QStringLiteral("the value contains a control character"));
            continue;
        }
        out.append({it.key(), value});
    }
    return out;
}

/**
 * An absolute URL the engine may call: https, or http to a loopback host (test servers); no
 * user info, query or fragment. `allowPath`: a base path may follow the host.
 */
QString urlProblem(const QString& text, bool allowPath = true, bool allowQuery = false)
{
    const QUrl u(text, QUrl::StrictMode);
    if (!u.isValid() || u.isRelative() || u.host().isEmpty())
        return QStringLiteral("\"%1\" is not an absolute URL").arg(text);
    const QString scheme = u.scheme().toLower();
    if (scheme == QLatin1String("http")) {
        if (!isLoopbackHost(u.host().toLower()))
            return QStringLiteral("must use https (http only for a loopback host, in tests)");
    } else if (scheme != QLatin1String("https")) {
        return QStringLiteral("must use https, not \"%1\"").arg(u.scheme());
    }
    if (!u.userInfo().isEmpty())
        return QStringLiteral("may not hold user info (user@host)");
    if (u.hasFragment())
        return QStringLiteral("may not have a fragment (#...)");
    if (u.hasQuery() && !allowQuery)
        return QStringLiteral("may not have a query (?...)");
    if (!allowPath && !u.path().isEmpty() && u.path() != QLatin1String("/"))
        return QStringLiteral("may not have a path");
    return {};
}

void checkUrl(const QJsonObject& o, const QString& path, const QString& key, bool required,
              QString& out, Problems& p)
{
    out = required ? reqString(o, path, key, p) : optString(o, path, key, p);
    if (out.isEmpty())
        return;
    if (const QString why = urlProblem(
            out, true, key == QLatin1String("setup_url") || key == QLatin1String("docs_url"));
        !why.isEmpty())
        p.add(member(path, key), why);
}

/**
 * An authorized-URI pattern, structurally: `[!][METHOD ]scheme://host[:port]/path-glob`. The
 * broker's parser (sandbox/broker/ProviderCallPolicy) is the authority; tests check that it
 * reads every shipped pattern the same way.
 */
QString patternProblem(QString s)
{
    if (s.startsWith(QLatin1Char('!')))
        s = s.mid(1);
    if (const qsizetype space = s.indexOf(QLatin1Char(' ')); space >= 0) {
        const QString method = s.left(space);
        static const QStringList Methods{QStringLiteral("*"),      QStringLiteral("GET"),
                                         QStringLiteral("HEAD"),   QStringLiteral("POST"),
                                         QStringLiteral("PUT"),    QStringLiteral("PATCH"),
                                         QStringLiteral("DELETE"), QStringLiteral("OPTIONS")};
        if (!Methods.contains(method))
            return QStringLiteral("\"%1\" is not a method (%2)")
                .arg(method, Methods.join(QLatin1Char(' ')));
        s = s.mid(space + 1);
    }
    if (std::any_of(s.begin(), s.end(), [](QChar c) { return c.isSpace() || c.unicode() < 0x20; }))
        return QStringLiteral("white space or a control character");
    const qsizetype sep = s.indexOf(QStringLiteral("://"));
    if (sep < 0)
        return QStringLiteral("no scheme (expected [!][METHOD ]https://host[:port]/path-glob)");
    const QString scheme = s.left(sep).toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return QStringLiteral("the scheme must be http or https");
    const QString rest = s.mid(sep + 3);
    const qsizetype slash = rest.indexOf(QLatin1Char('/'));
    if (slash < 0)
        return QStringLiteral("no path (end with / or /** to allow everything under the host)");
    const QString authority = rest.left(slash);
    const QString path = rest.mid(slash);
    if (authority.contains(QLatin1Char('@')) || path.contains(QLatin1Char('?')) ||
        path.contains(QLatin1Char('#')))
        return QStringLiteral("user info, query or fragment in a pattern");
    QString host = authority;
    QString port;
    if (authority.startsWith(QLatin1Char('['))) {
        const qsizetype close = authority.indexOf(QLatin1Char(']'));
        if (close < 0)
            return QStringLiteral("unclosed IPv6 host");
        host = authority.mid(1, close - 1);
        QHostAddress a;
        if (!a.setAddress(host))
            return QStringLiteral("\"%1\" is not an IPv6 address").arg(host);
        const QString after = authority.mid(close + 1);
        if (!after.isEmpty() && !after.startsWith(QLatin1Char(':')))
            return QStringLiteral("text after the IPv6 host");
        port = after.mid(1);
    } else {
        if (const qsizetype colon = authority.lastIndexOf(QLatin1Char(':')); colon >= 0) {
            host = authority.left(colon);
            port = authority.mid(colon + 1);
        }
        if (host.isEmpty())
            return QStringLiteral("no host");
        for (const QString& label : host.split(QLatin1Char('.'))) {
            if (label.isEmpty())
                return QStringLiteral("\"%1\" is not a usable host (empty label)").arg(host);
            for (const QChar c : label) {
                const bool ok = c.isLetterOrNumber() || c == QLatin1Char('-') ||
                                c == QLatin1Char('_') || c == QLatin1Char('*');
                if (!ok)
                    return QStringLiteral("\"%1\" is not a usable host").arg(host);
            }
        }
    }
    if (!port.isEmpty() || authority.endsWith(QLatin1Char(':'))) {
        bool ok = false;
        const int n = port.toInt(&ok);
        if (!ok || n < 1 || n > 65535)
            return QStringLiteral("bad port \"%1\"").arg(port);
    }
    return {};
}

/** Literal text of a path template: what may stand in a URL path as is. */
bool isPathLiteral(const QString& text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.unicode() > 0x7e || c.unicode() <= 0x20)
            return false;
        if (c.isLetterOrNumber() || QStringView(u"-._~!$&'()*+,;=:@/").contains(c))
            continue;
        auto hex = [](QChar h) {
            return (h >= QLatin1Char('0') && h <= QLatin1Char('9')) ||
                   (h.toLower() >= QLatin1Char('a') && h.toLower() <= QLatin1Char('f'));
        };
        if (c == QLatin1Char('%') && i + 2 < text.size() && hex(text.at(i + 1)) &&
            hex(text.at(i + 2))) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

struct TemplatePart
{
    bool placeholder = false;
    QString text; ///< literal text, or the placeholder's name
};

/** Splits `a/{b}/c`; nullopt when braces do not pair up. */
std::optional<QList<TemplatePart>> splitTemplate(const QString& t)
{
    QList<TemplatePart> parts;
    QString literal;
    for (qsizetype i = 0; i < t.size(); ++i) {
        const QChar c = t.at(i);
        if (c == QLatin1Char('}'))
            return std::nullopt;
        if (c != QLatin1Char('{')) {
            literal += c;
            continue;
        }
        const qsizetype close = t.indexOf(QLatin1Char('}'), i + 1);
        if (close < 0)
            return std::nullopt;
        const QString name = t.mid(i + 1, close - i - 1);
        if (name.contains(QLatin1Char('{')))
            return std::nullopt;
        if (!literal.isEmpty())
            parts.append({false, literal});
        literal.clear();
        parts.append({true, name});
        i = close;
    }
    if (!literal.isEmpty())
        parts.append({false, literal});
    return parts;
}

QString jsonTypeOf(const QJsonObject& schema)
{
    const QJsonValue t = schema.value(QStringLiteral("type"));
    if (t.isString())
        return t.toString();
    if (!schema.value(QStringLiteral("enum")).isUndefined())
        return QStringLiteral("enum");
    if (!schema.value(QStringLiteral("const")).isUndefined())
        return QStringLiteral("const");
    return {};
}

bool isScalarType(const QString& type)
{
    static const QStringList Scalar{QStringLiteral("string"), QStringLiteral("integer"),
                                    QStringLiteral("number"), QStringLiteral("boolean"),
                                    QStringLiteral("enum"),   QStringLiteral("const")};
    return Scalar.contains(type);
}

/** Where an argument goes: its `x-in`, else path if the template names it, else by method. */
QString locationOf(const QJsonObject& schema, const QString& name, const QSet<QString>& pathNames,
                   const QString& method)
{
    const QString in = schema.value(QStringLiteral("x-in")).toString();
    if (!in.isEmpty())
        return in;
    if (pathNames.contains(name))
        return QStringLiteral("path");
    return method == QLatin1String("GET") || method == QLatin1String("DELETE")
               ? QStringLiteral("query")
               : QStringLiteral("body");
}

void parseParameters(const QJsonObject& op, const QString& path, ProviderOperation& out,
                     const QSet<QString>& pathNames, Problems& p)
{
    const QString here = member(path, QStringLiteral("parameters"));
    const QJsonValue v = op.value(QStringLiteral("parameters"));
    if (v.isUndefined()) {
        out.parameters = QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                                     {QStringLiteral("properties"), QJsonObject()},
                                     {QStringLiteral("additionalProperties"), false}};
    } else if (!v.isObject()) {
        p.add(here,
              QStringLiteral("expected a JSON Schema object, got %1").arg(jsontext::describe(v)));
        return;
    } else {
        out.parameters = v.toObject();
    }
    const QJsonObject& schema = out.parameters;
    if (schema.value(QStringLiteral("type")).toString() != QLatin1String("object"))
        p.add(member(here, QStringLiteral("type")), QStringLiteral("must be \"object\""));
    // Model APIs refuse tool schemas that branch at the top (Anthropic's input_schema does).
    for (const char* key : {"anyOf", "oneOf", "allOf", "not", "if", "$ref"}) {
        if (schema.contains(QLatin1String(key)))
            p.add(member(here, QLatin1String(key)),
                  QStringLiteral("not allowed at the top of a tool's parameters (model APIs "
                                 "refuse it); describe the alternatives instead"));
    }
    const QString bodyFormat =
        schema.value(QStringLiteral("x-body")).toString(QStringLiteral("json"));
    if (bodyFormat != QLatin1String("json") && bodyFormat != QLatin1String("form"))
        p.add(member(here, QStringLiteral("x-body")),
              QStringLiteral("must be \"json\" or \"form\""));
    else
        out.bodyFormat = bodyFormat;

    const QJsonValue propsValue = schema.value(QStringLiteral("properties"));
    QJsonObject props;
    if (!propsValue.isUndefined() && !propsValue.isObject())
        p.add(member(here, QStringLiteral("properties")),
              QStringLiteral("expected an object, got %1").arg(jsontext::describe(propsValue)));
    else
        props = propsValue.toObject();

    QStringList required;
    const QJsonValue reqValue = schema.value(QStringLiteral("required"));
    if (!reqValue.isUndefined()) {
        if (!reqValue.isArray()) {
            p.add(member(here, QStringLiteral("required")),
                  QStringLiteral("expected an array of property names"));
        } else {
            const QJsonArray a = reqValue.toArray();
            for (qsizetype i = 0; i < a.size(); ++i) {
                const QString name = a.at(i).toString();
                if (!a.at(i).isString() || !props.contains(name))
                    p.add(element(member(here, QStringLiteral("required")), i),
                          QStringLiteral("%1 is not a property").arg(jsontext::describe(a.at(i))));
                else
                    required.append(name);
            }
        }
    }
    const QString ap = member(here, QStringLiteral("additionalProperties"));
    if (schema.value(QStringLiteral("additionalProperties")).isUndefined())
        p.add(ap, QStringLiteral("missing: set it to false so a misspelt argument is an error "
                                 "rather than dropped"));
    else if (schema.value(QStringLiteral("additionalProperties")) != QJsonValue(false))
        p.add(ap, QStringLiteral("must be false: every argument needs a place in the request"));

    const QString method = out.method;
    QSet<QString> wireNames[4];
    const QStringList locations{QStringLiteral("path"), QStringLiteral("query"),
                                QStringLiteral("body"), QStringLiteral("header")};
    for (auto it = props.begin(); it != props.end(); ++it) {
        const QString name = it.key();
        const QString at = member(member(here, QStringLiteral("properties")), name);
        if (!it.value().isObject()) {
            p.add(at,
                  QStringLiteral("expected a schema object, got %1").arg(jsontext::describe(*it)));
            continue;
        }
        static const QRegularExpression ArgName(QStringLiteral("^[A-Za-z0-9_.-]{1,64}$"));
        if (!ArgName.match(name).hasMatch()) {
            p.add(at, QStringLiteral("an argument name holds letters, digits, _ . - (at most 64): "
                                     "model APIs refuse others; put the wire name in x-name"));
            continue;
        }
        if (name == QLatin1String("connection")) {
            p.add(at, QStringLiteral("\"connection\" is reserved: the runner adds it when an "
                                     "agent has several connections of the provider"));
            continue;
        }
        const QJsonObject prop = it.value().toObject();
        const QJsonValue inValue = prop.value(QStringLiteral("x-in"));
        if (!inValue.isUndefined() && !locations.contains(inValue.toString())) {
            p.add(member(at, QStringLiteral("x-in")),
                  QStringLiteral("must be one of %1, got %2")
                      .arg(quoted(locations), jsontext::describe(inValue)));
            continue;
        }
        const QString in = locationOf(prop, name, pathNames, method);
        const QJsonValue wireValue = prop.value(QStringLiteral("x-name"));
        if (!wireValue.isUndefined() && (!wireValue.isString() || wireValue.toString().isEmpty()))
            p.add(member(at, QStringLiteral("x-name")),
                  QStringLiteral("expected a non-empty string"));
        const QString wire = wireValue.toString(name);
        const QString type = jsonTypeOf(prop);
        const QString style = prop.value(QStringLiteral("x-style")).toString();
        if (!prop.value(QStringLiteral("x-style")).isUndefined() &&
            (in != QLatin1String("query") ||
             !QStringList{QStringLiteral("form"), QStringLiteral("comma"),
                          QStringLiteral("brackets")}
                  .contains(style)))
            p.add(member(at, QStringLiteral("x-style")),
                  QStringLiteral("only query parameters have a style: \"form\" (repeat the name), "
                                 "\"comma\" or \"brackets\""));
        if (in == QLatin1String("path")) {
            if (!pathNames.contains(name))
                p.add(at, QStringLiteral("is a path parameter but the path has no {%1}").arg(name));
            if (!required.contains(name))
                p.add(at, QStringLiteral("is a path parameter, so it must be required"));
            if (!isScalarType(type))
                p.add(at, QStringLiteral("a path parameter needs a scalar type (string, integer, "
                                         "number, boolean or an enum)"));
        } else if (pathNames.contains(name)) {
            p.add(at, QStringLiteral("the path names {%1} but x-in says \"%2\"").arg(name, in));
        }
        if (in == QLatin1String("header")) {
            if (!isToken(wire))
                p.add(at, QStringLiteral("\"%1\" is not a valid header name").arg(wire));
            else if (const QString why = forbiddenHeaderReason(wire); !why.isEmpty())
                p.add(at, QStringLiteral("header \"%1\" may not be set: it %2").arg(wire, why));
            if (!isScalarType(type))
                p.add(at, QStringLiteral("a header parameter needs a scalar type"));
        }
        if (in == QLatin1String("body") &&
            (method == QLatin1String("GET") || method == QLatin1String("DELETE")))
            p.add(at, QStringLiteral("a %1 request has no body; use x-in \"query\"").arg(method));
        QSet<QString>& seen = wireNames[locations.indexOf(in)];
        const QString key = in == QLatin1String("header") ? wire.toLower() : wire;
        if (seen.contains(key))
            p.add(at, QStringLiteral("another parameter already goes to %1 \"%2\"").arg(in, wire));
        seen.insert(key);
    }
    for (const QString& name : pathNames) {
        if (!props.contains(name))
            p.add(member(path, QStringLiteral("path")),
                  QStringLiteral("placeholder {%1} has no parameter").arg(name));
    }
}

void parseOperation(const QJsonObject& o, const QString& path, ProviderOperation& op, Problems& p)
{
    checkKeys(o, path,
              {QStringLiteral("name"), QStringLiteral("description"), QStringLiteral("method"),
               QStringLiteral("path"), QStringLiteral("parameters"), QStringLiteral("writes"),
               QStringLiteral("scopes"), QStringLiteral("headers"), QStringLiteral("query"),
               QStringLiteral("body")},
              p);
    op.name = reqString(o, path, QStringLiteral("name"), p);
    if (!op.name.isEmpty() && !namePattern().match(op.name).hasMatch())
        p.add(member(path, QStringLiteral("name")),
              QStringLiteral("\"%1\" must match [a-z][a-z0-9_]*").arg(op.name));
    else if (op.name.size() > MaxOperationChars)
        p.add(member(path, QStringLiteral("name")),
              QStringLiteral("longer than %1 characters").arg(MaxOperationChars));
    op.description = reqString(o, path, QStringLiteral("description"), p);
    op.method = reqString(o, path, QStringLiteral("method"), p);
    if (!op.method.isEmpty() && !operationMethods().contains(op.method))
        p.add(member(path, QStringLiteral("method")),
              QStringLiteral("\"%1\" is not one of %2 (upper case)")
                  .arg(op.method, operationMethods().join(QLatin1Char(' '))));
    if (const auto writes = optBool(o, path, QStringLiteral("writes"), p))
        op.writes = *writes;
    else if (!o.contains(QStringLiteral("writes")))
        p.add(member(path, QStringLiteral("writes")),
              QStringLiteral("missing: say whether the operation changes anything (true or "
                             "false)"));
    op.scopes = optStrings(o, path, QStringLiteral("scopes"), p);
    op.headers = parseHeaders(o, path, p);

    const QJsonValue query = o.value(QStringLiteral("query"));
    if (!query.isUndefined()) {
        if (!query.isObject()) {
            p.add(member(path, QStringLiteral("query")),
                  QStringLiteral("expected an object of parameter names to strings"));
        } else {
            const QJsonObject q = query.toObject();
            for (auto it = q.begin(); it != q.end(); ++it) {
                if (!it.value().isString())
                    p.add(member(member(path, QStringLiteral("query")), it.key()),
                          QStringLiteral("expected a string, got %1").arg(jsontext::describe(*it)));
                else
                    op.query.append({it.key(), it.value().toString()});
            }
        }
    }
    const QJsonValue body = o.value(QStringLiteral("body"));
    if (!body.isUndefined()) {
        if (!body.isObject())
            p.add(member(path, QStringLiteral("body")),
                  QStringLiteral("expected an object of fixed body members"));
        else
            op.body = body.toObject();
        if (op.method == QLatin1String("GET") || op.method == QLatin1String("DELETE"))
            p.add(member(path, QStringLiteral("body")),
                  QStringLiteral("a %1 request has no body").arg(op.method));
    }

    op.path = reqString(o, path, QStringLiteral("path"), p);
    QSet<QString> pathNames;
    if (!op.path.isEmpty()) {
        const QString at = member(path, QStringLiteral("path"));
        const auto parts = splitTemplate(op.path);
        if (!op.path.startsWith(QLatin1Char('/'))) {
            p.add(at, QStringLiteral("must start with \"/\" (it is appended to base_url)"));
        } else if (!parts) {
            p.add(at, QStringLiteral("unbalanced { } in the template"));
        } else {
            for (const TemplatePart& part : *parts) {
                if (!part.placeholder) {
                    if (part.text.contains(QLatin1Char('?')) ||
                        part.text.contains(QLatin1Char('#')))
                        p.add(at, QStringLiteral("may not hold a query or fragment: use "
                                                 "x-in \"query\" parameters or the "
                                                 "operation's \"query\""));
                    else if (!isPathLiteral(part.text))
                        p.add(at, QStringLiteral("\"%1\" has characters that must be "
                                                 "percent-encoded")
                                      .arg(part.text));
                    const QStringList segments = part.text.split(QLatin1Char('/'));
                    for (const QString& s : segments) {
                        if (s == QLatin1String(".") || s == QLatin1String(".."))
                            p.add(at, QStringLiteral("has a \".\" or \"..\" segment"));
                    }
                    if (part.text.contains(QStringLiteral("//")))
                        p.add(at, QStringLiteral("has an empty segment (//)"));
                    continue;
                }
                static const QRegularExpression Param(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
                if (!Param.match(part.text).hasMatch())
                    p.add(
                        at,
                        QStringLiteral("placeholder {%1} is not a parameter name").arg(part.text));
                else if (pathNames.contains(part.text))
                    p.add(at, QStringLiteral("placeholder {%1} appears twice").arg(part.text));
                pathNames.insert(part.text);
            }
        }
    }
    parseParameters(o, path, op, pathNames, p);
}

void parseOAuth2(const QJsonObject& a, const QString& path, OAuth2Config& c, Problems& p)
{
    checkUrl(a, path, QStringLiteral("authorization_endpoint"), true, c.authorizationEndpoint, p);
    checkUrl(a, path, QStringLiteral("token_endpoint"), true, c.tokenEndpoint, p);
    checkUrl(a, path, QStringLiteral("device_authorization_endpoint"), false,
             c.deviceAuthorizationEndpoint, p);
    checkUrl(a, path, QStringLiteral("revocation_endpoint"), false, c.revocationEndpoint, p);
    checkUrl(a, path, QStringLiteral("userinfo_endpoint"), false, c.userinfoEndpoint, p);
    c.issuer = optString(a, path, QStringLiteral("issuer"), p);
    c.scopes = optStrings(a, path, QStringLiteral("scopes"), p);
    for (qsizetype i = 0; i < c.scopes.size(); ++i) {
        if (std::any_of(c.scopes.at(i).begin(), c.scopes.at(i).end(),
                        [](QChar ch) { return ch.isSpace() || ch == QLatin1Char(','); }))
            p.add(element(member(path, QStringLiteral("scopes")), i),
                  QStringLiteral("a scope may not contain white space or a comma"));
    }
    if (a.contains(QStringLiteral("scope_separator"))) {
        c.scopeSeparator = optString(a, path, QStringLiteral("scope_separator"), p);
        if (c.scopeSeparator != QLatin1String(" ") && c.scopeSeparator != QLatin1String(","))
            p.add(member(path, QStringLiteral("scope_separator")),
                  QStringLiteral("must be \" \" or \",\""));
    }
    if (const auto pkce = optBool(a, path, QStringLiteral("pkce"), p))
        c.pkce = *pkce;
    const QJsonValue extra = a.value(QStringLiteral("extra_authorization_params"));
    if (!extra.isUndefined()) {
        const QString at = member(path, QStringLiteral("extra_authorization_params"));
        if (!extra.isObject()) {
            p.add(at, QStringLiteral("expected an object of strings"));
        } else {
            static const QStringList Reserved{QStringLiteral("client_id"),
                                              QStringLiteral("redirect_uri"),
                                              QStringLiteral("state"),
                                              QStringLiteral("scope"),
                                              QStringLiteral("response_type"),
                                              QStringLiteral("code_challenge"),
                                              QStringLiteral("code_challenge_method")};
            const QJsonObject e = extra.toObject();
            for (auto it = e.begin(); it != e.end(); ++it) {
                if (!it.value().isString())
                    p.add(member(at, it.key()), QStringLiteral("expected a string"));
                else if (Reserved.contains(it.key()))
                    p.add(member(at, it.key()), QStringLiteral("is set by the OAuth flow itself"));
                else
                    c.extraAuthorizationParams.insert(it.key(), it.value().toString());
            }
        }
    }
    if (a.contains(QStringLiteral("token_endpoint_auth"))) {
        c.tokenEndpointAuth = optString(a, path, QStringLiteral("token_endpoint_auth"), p);
        static const QStringList Methods{QStringLiteral("client_secret_post"),
                                         QStringLiteral("client_secret_basic"),
                                         QStringLiteral("none")};
        if (!Methods.contains(c.tokenEndpointAuth))
            p.add(member(path, QStringLiteral("token_endpoint_auth")),
                  QStringLiteral("must be one of %1").arg(quoted(Methods)));
    }
}

void parseAuth(const QJsonObject& root, ProviderAuth& auth, Problems& p)
{
    const QString path = QStringLiteral("auth");
    const QJsonValue v = root.value(path);
    if (v.isUndefined()) {
        p.add(path, QStringLiteral("missing (an object with \"type\": \"oauth2\", \"api_key\", "
                                   "\"basic\" or \"none\")"));
        return;
    }
    if (!v.isObject()) {
        p.add(path, QStringLiteral("expected an object, got %1").arg(jsontext::describe(v)));
        return;
    }
    const QJsonObject a = v.toObject();
    const QString type = reqString(a, path, QStringLiteral("type"), p);
    checkUrl(a, path, QStringLiteral("setup_url"), false, auth.setupUrl, p);
    const QStringList common{QStringLiteral("type"), QStringLiteral("setup_url")};
    if (type == QLatin1String("oauth2")) {
        auth.kind = ProviderAuth::Kind::OAuth2;
        checkKeys(a, path,
                  common + QStringList{QStringLiteral("authorization_endpoint"),
                                       QStringLiteral("token_endpoint"),
                                       QStringLiteral("device_authorization_endpoint"),
                                       QStringLiteral("revocation_endpoint"),
                                       QStringLiteral("userinfo_endpoint"),
                                       QStringLiteral("issuer"), QStringLiteral("scopes"),
                                       QStringLiteral("scope_separator"), QStringLiteral("pkce"),
                                       QStringLiteral("extra_authorization_params"),
                                       QStringLiteral("token_endpoint_auth")},
                  p);
        parseOAuth2(a, path, auth.oauth2, p);
        auth.apiKeyName = QStringLiteral("Authorization");
        auth.apiKeyPrefix = QStringLiteral("Bearer ");
    } else if (type == QLatin1String("api_key")) {
        auth.kind = ProviderAuth::Kind::ApiKey;
        checkKeys(a, path,
                  common + QStringList{QStringLiteral("in"), QStringLiteral("name"),
                                       QStringLiteral("prefix"), QStringLiteral("configurable")},
                  p);
        auth.apiKeyIn = a.contains(QStringLiteral("in"))
                            ? optString(a, path, QStringLiteral("in"), p)
                            : QStringLiteral("header");
        if (auth.apiKeyIn != QLatin1String("header") && auth.apiKeyIn != QLatin1String("query"))
            p.add(member(path, QStringLiteral("in")),
                  QStringLiteral("must be \"header\" or \"query\""));
        auth.apiKeyName = reqString(a, path, QStringLiteral("name"), p);
        auth.apiKeyPrefix = optString(a, path, QStringLiteral("prefix"), p);
        if (auth.apiKeyIn == QLatin1String("header") && !auth.apiKeyName.isEmpty()) {
            const QString lower = auth.apiKeyName.toLower();
            if (!isToken(auth.apiKeyName))
                p.add(member(path, QStringLiteral("name")),
                      QStringLiteral("\"%1\" is not a valid header name").arg(auth.apiKeyName));
            else if (lower != QLatin1String("authorization") &&
                     !forbiddenHeaderReason(auth.apiKeyName).isEmpty())
                p.add(member(path, QStringLiteral("name")),
                      QStringLiteral("header \"%1\" cannot carry a key").arg(auth.apiKeyName));
        }
        if (auth.apiKeyIn == QLatin1String("query") && !auth.apiKeyPrefix.isEmpty())
            p.add(member(path, QStringLiteral("prefix")),
                  QStringLiteral("a key in the query has no prefix"));
        if (std::any_of(auth.apiKeyPrefix.begin(), auth.apiKeyPrefix.end(),
                        [](QChar c) { return c.unicode() < 0x20 || c.unicode() == 0x7f; }))
            p.add(member(path, QStringLiteral("prefix")),
                  QStringLiteral("contains a control character"));
        if (const auto c = optBool(a, path, QStringLiteral("configurable"), p))
            auth.apiKeyConfigurable = *c;
    } else if (type == QLatin1String("basic")) {
        auth.kind = ProviderAuth::Kind::Basic;
        checkKeys(a, path, common, p);
    } else if (type == QLatin1String("none")) {
        auth.kind = ProviderAuth::Kind::None;
        checkKeys(a, path, common, p);
    } else if (!type.isEmpty()) {
        p.add(member(path, QStringLiteral("type")),
              QStringLiteral("\"%1\" is not one of \"oauth2\", \"api_key\", \"basic\", \"none\"")
                  .arg(type));
    }
}

/**
 * base_url: https (or loopback http), no query, fragment or user info; placeholders of
 * connection fields as a whole host label, a whole path segment, or the whole URL.
 */
void checkBaseUrl(ProviderManifest& m, Problems& p)
{
    const QString at = QStringLiteral("base_url");
    QSet<QString> fields;
    for (const ConnectionField& f : std::as_const(m.connectionFields))
        fields.insert(f.name);
    const auto parts = splitTemplate(m.baseUrl);
    if (!parts) {
        p.add(at, QStringLiteral("unbalanced { } in the template"));
        return;
    }
    QString probe; // the URL with each placeholder replaced by a harmless stand-in
    bool whole = false;
    for (const TemplatePart& part : *parts) {
        if (!part.placeholder) {
            probe += part.text;
            continue;
        }
        if (!fields.contains(part.text)) {
            p.add(at, QStringLiteral("placeholder {%1} is not a connection field (declare it in "
                                     "connection_fields)")
                          .arg(part.text));
            return;
        }
        if (parts->size() == 1) {
            whole = true;
            break;
        }
        probe += QStringLiteral("x");
    }
    if (whole)
        return; // the connection gives the URL; the credential host follows it

    if (const QString why = urlProblem(probe); !why.isEmpty()) {
        p.add(at, why);
        return;
    }
    if (probe.endsWith(QLatin1Char('/')))
        p.add(at, QStringLiteral("may not end with \"/\" (operation paths start with one)"));
    const QUrl u(probe);
    const QString prefix = u.scheme() + QStringLiteral("://");
    // A placeholder may be a whole host label or a whole path segment, nothing in between.
    const qsizetype hostEnd = m.baseUrl.indexOf(QLatin1Char('/'), prefix.size());
    const QString authority =
        m.baseUrl.mid(prefix.size(), hostEnd < 0 ? -1 : hostEnd - prefix.size());
    const QString basePath = hostEnd < 0 ? QString() : m.baseUrl.mid(hostEnd);
    if (authority.contains(QLatin1Char('{'))) {
        for (const QString& label : authority.split(QLatin1Char('.'))) {
            if (label.contains(QLatin1Char('{')) &&
                !QRegularExpression(QStringLiteral("^\\{[a-z][a-z0-9_]*\\}$"))
                     .match(label)
                     .hasMatch())
                p.add(at, QStringLiteral("a placeholder in the host must be a whole label"));
        }
    }
    for (const QString& segment : basePath.split(QLatin1Char('/'))) {
        if (segment.contains(QLatin1Char('{')) &&
            !QRegularExpression(QStringLiteral("^\\{[a-z][a-z0-9_]*\\}$"))
                 .match(segment)
                 .hasMatch())
            p.add(at, QStringLiteral("a placeholder in the path must be a whole segment"));
    }
    // A host with a placeholder leaves it empty: resolveCredentialHost() per connection.
    if (!authority.contains(QLatin1Char('{')) && m.credentialHost.isEmpty())
        m.credentialHost = u.host().toLower();
}

QString scalarText(const QJsonValue& v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double: {
        const double d = v.toDouble();
        if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
            return QString::number(qint64(d));
        return QString::number(d, 'g', QLocale::FloatingPointShortest);
    }
    default:
        return {};
    }
}

bool isScalar(const QJsonValue& v)
{
    return v.isString() || v.isBool() || v.isDouble();
}

QByteArray encode(const QString& text)
{
    return QUrl::toPercentEncoding(text);
}

/** `name[key]=value` pairs the way Stripe and Rails read nested form and query data. */
void flatten(const QString& name, const QJsonValue& v, QList<QPair<QString, QString>>& out)
{
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            flatten(name + QLatin1Char('[') + it.key() + QLatin1Char(']'), *it, out);
    } else if (v.isArray()) {
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i)
            flatten(name + QLatin1Char('[') + QString::number(i) + QLatin1Char(']'), a.at(i), out);
    } else if (!v.isNull() && !v.isUndefined()) {
        out.append({name, scalarText(v)});
    }
}

QByteArray joinPairs(const QList<QPair<QString, QString>>& pairs)
{
    QByteArray out;
    for (const auto& [k, v] : pairs) {
        if (!out.isEmpty())
            out += '&';
        out += encode(k) + '=' + encode(v);
    }
    return out;
}

/** A value standing in for one path segment: percent-encoded, never `.`, `..` or empty. */
Result<QString> segmentValue(const QString& what, const QString& text)
{
    if (text.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("%1 is empty").arg(what));
    if (text == QLatin1String(".") || text == QLatin1String(".."))
        return fail(Error::Code::Validation,
                    QStringLiteral("%1 may not be \".\" or \"..\"").arg(what));
    return QString::fromLatin1(encode(text));
}

Result<ProviderManifest> parseObject(const QJsonObject& root, const QString& sourcePath)
{
    Problems p;
    ProviderManifest m;
    m.sourcePath = sourcePath;
    checkKeys(root, {},
              {QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("description"),
               QStringLiteral("docs_url"), QStringLiteral("base_url"),
               QStringLiteral("credential_host"), QStringLiteral("connection_fields"),
               QStringLiteral("headers"), QStringLiteral("auth"), QStringLiteral("authorized_uris"),
               QStringLiteral("operations"), QStringLiteral("test_operation")},
              p);
    m.id = reqString(root, {}, QStringLiteral("id"), p);
    if (!m.id.isEmpty() && !idPattern().match(m.id).hasMatch())
        p.add(QStringLiteral("id"), QStringLiteral("\"%1\" must match [a-z][a-z0-9_-]*").arg(m.id));
    else if (m.id.size() > MaxIdChars)
        p.add(QStringLiteral("id"), QStringLiteral("longer than %1 characters").arg(MaxIdChars));
    m.name = reqString(root, {}, QStringLiteral("name"), p);
    m.description = optString(root, {}, QStringLiteral("description"), p);
    checkUrl(root, {}, QStringLiteral("docs_url"), false, m.docsUrl, p);

    const QJsonValue fields = root.value(QStringLiteral("connection_fields"));
    if (!fields.isUndefined()) {
        const QString at = QStringLiteral("connection_fields");
        if (!fields.isArray()) {
            p.add(at, QStringLiteral("expected an array of {name, description, required?}"));
        } else {
            const QJsonArray a = fields.toArray();
            QSet<QString> seen;
            for (qsizetype i = 0; i < a.size(); ++i) {
                const QString here = element(at, i);
                if (!a.at(i).isObject()) {
                    p.add(here, QStringLiteral("expected an object"));
                    continue;
                }
                const QJsonObject f = a.at(i).toObject();
                checkKeys(f, here,
                          {QStringLiteral("name"), QStringLiteral("description"),
                           QStringLiteral("required")},
                          p);
                ConnectionField field;
                field.name = reqString(f, here, QStringLiteral("name"), p);
                field.description = reqString(f, here, QStringLiteral("description"), p);
                if (const auto r = optBool(f, here, QStringLiteral("required"), p))
                    field.required = *r;
                if (!field.name.isEmpty() && !namePattern().match(field.name).hasMatch())
                    p.add(member(here, QStringLiteral("name")),
                          QStringLiteral("\"%1\" must match [a-z][a-z0-9_]*").arg(field.name));
                else if (seen.contains(field.name))
                    p.add(member(here, QStringLiteral("name")),
                          QStringLiteral("\"%1\" is declared twice").arg(field.name));
                seen.insert(field.name);
                m.connectionFields.append(field);
            }
        }
    }

    m.baseUrl = reqString(root, {}, QStringLiteral("base_url"), p);
    m.credentialHost = optString(root, {}, QStringLiteral("credential_host"), p).toLower();
    if (!m.credentialHost.isEmpty()) {
        const QUrl probe(QStringLiteral("https://") + m.credentialHost + QStringLiteral("/"),
                         QUrl::StrictMode);
        if (!probe.isValid() || probe.host().toLower() != m.credentialHost ||
            m.credentialHost.contains(QLatin1Char(':')))
            p.add(QStringLiteral("credential_host"),
                  QStringLiteral("\"%1\" is not a host name (no scheme, port or path)")
                      .arg(m.credentialHost));
    }
    if (!m.baseUrl.isEmpty())
        checkBaseUrl(m, p);

    m.headers = parseHeaders(root, {}, p);
    parseAuth(root, m.auth, p);

    const QJsonValue uris = root.value(QStringLiteral("authorized_uris"));
    m.authorizedUris = optStrings(root, {}, QStringLiteral("authorized_uris"), p);
    if (uris.isArray()) {
        const QJsonArray a = uris.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (!a.at(i).isString())
                continue;
            if (const QString why = patternProblem(a.at(i).toString()); !why.isEmpty())
                p.add(element(QStringLiteral("authorized_uris"), i), why);
        }
    }

    const QJsonValue ops = root.value(QStringLiteral("operations"));
    if (!ops.isUndefined() && !ops.isArray()) {
        p.add(QStringLiteral("operations"),
              QStringLiteral("expected an array, got %1").arg(jsontext::describe(ops)));
    } else {
        const QJsonArray a = ops.toArray();
        QSet<QString> names;
        for (qsizetype i = 0; i < a.size(); ++i) {
            const QString at = element(QStringLiteral("operations"), i);
            if (!a.at(i).isObject()) {
                p.add(
                    at,
                    QStringLiteral("expected an object, got %1").arg(jsontext::describe(a.at(i))));
                continue;
            }
            ProviderOperation op;
            parseOperation(a.at(i).toObject(), at, op, p);
            if (!op.name.isEmpty() && names.contains(op.name))
                p.add(member(at, QStringLiteral("name")),
                      QStringLiteral("\"%1\" is already an operation").arg(op.name));
            names.insert(op.name);
            m.operations.append(op);
        }
    }

    m.testOperation = optString(root, {}, QStringLiteral("test_operation"), p);
    if (!m.testOperation.isEmpty()) {
        const ProviderOperation* op = m.operation(m.testOperation);
        if (!op) {
            p.add(QStringLiteral("test_operation"),
                  QStringLiteral("\"%1\" is not an operation").arg(m.testOperation));
        } else {
            if (!op->parameters.value(QStringLiteral("required")).toArray().isEmpty())
                p.add(QStringLiteral("test_operation"),
                      QStringLiteral("\"%1\" has required parameters; the test call has none")
                          .arg(m.testOperation));
            if (op->writes)
                p.add(QStringLiteral("test_operation"),
                      QStringLiteral("\"%1\" writes; a test must not change anything")
                          .arg(m.testOperation));
        }
    }

    if (!p.isEmpty()) {
        const QStringList lines = p.lines();
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: %2 problem%3 in the provider manifest")
                        .arg(sourcePath)
                        .arg(lines.size())
                        .arg(lines.size() == 1 ? QString() : QStringLiteral("s")),
                    lines);
    }
    return m;
}

} // namespace

// --- manifest -----------------------------------------------------------------------------

const ProviderOperation* ProviderManifest::operation(const QString& name) const
{
    for (const ProviderOperation& op : operations) {
        if (op.name == name)
            return &op;
    }
    return nullptr;
}

// --- parsing ------------------------------------------------------------------------------

Result<ProviderManifest> ProviderCatalog::parse(const QByteArray& json, const QString& sourcePath)
{
    if (json.size() > MaxManifestBytes)
        return fail(
            Error::Code::Validation,
            QStringLiteral("%1: larger than %2 bytes").arg(sourcePath).arg(MaxManifestBytes));
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError) {
        const jsontext::Position at = jsontext::positionAt(json, error.offset);
        return fail(Error::Code::Parse, QStringLiteral("%1:%2:%3: not valid JSON: %4")
                                            .arg(sourcePath)
                                            .arg(at.line)
                                            .arg(at.column)
                                            .arg(error.errorString()));
    }
    if (!doc.isObject())
        return fail(Error::Code::Parse,
                    QStringLiteral("%1: a provider manifest is a JSON object").arg(sourcePath));
    // QJsonDocument keeps the last of two equal keys; a manifest saying two things is an error.
    const jsontext::Scan scan = jsontext::scan(json);
    if (!scan.duplicates.isEmpty()) {
        QStringList lines;
        for (const auto& d : scan.duplicates)
            lines.append(QStringLiteral("%1 (line %2): key given twice")
                             .arg(d.pointer, QString::number(d.position.line)));
        return fail(Error::Code::Validation,
                    QStringLiteral("%1: duplicate keys in the provider manifest").arg(sourcePath),
                    lines);
    }
    return parseObject(doc.object(), sourcePath);
}

ProviderCatalog ProviderCatalog::load(const QString& userDir)
{
    ProviderCatalog catalog;
    QHash<QString, ProviderManifest> byId;
    auto readDir = [&](const QString& dir, bool builtIn) {
        const QDir d(dir);
        const QStringList files =
            d.entryList({QStringLiteral("*.json")}, QDir::Files | QDir::Readable, QDir::Name);
        for (const QString& name : files) {
            const QString path = d.filePath(name);
            QFile f(path);
            if (f.size() > MaxManifestBytes) {
                catalog.m_problems.append(QStringLiteral("%1: larger than %2 bytes; skipped")
                                              .arg(path)
                                              .arg(MaxManifestBytes));
                continue;
            }
            if (!f.open(QIODevice::ReadOnly)) {
                catalog.m_problems.append(
                    QStringLiteral("%1: cannot be read (%2); skipped").arg(path, f.errorString()));
                continue;
            }
            auto m = parse(f.readAll(), path);
            if (m && m->id != QFileInfo(name).completeBaseName()) {
                m = fail(Error::Code::Validation,
                         QStringLiteral("%1: the id \"%2\" is not the file's name (%3.json)")
                             .arg(path, m->id, QFileInfo(name).completeBaseName()));
            }
            if (!m) {
                QString line = m.error().message;
                if (!m.error().details.isEmpty())
                    line += QStringLiteral(": ") + m.error().details.join(QStringLiteral("; "));
                catalog.m_problems.append(line + QStringLiteral("; skipped"));
                qCWarning(lcProviders).noquote() << line;
                continue;
            }
            m->builtIn = builtIn;
            if (!builtIn && byId.contains(m->id))
                qCInfo(lcProviders).noquote() << path << "replaces the built-in provider" << m->id;
            byId.insert(m->id, *m);
        }
    };
    readDir(BuiltInDir, true);
    if (!userDir.isEmpty() && QFileInfo(userDir).isDir())
        readDir(userDir, false);
    QStringList ids = byId.keys();
    ids.sort();
    for (const QString& id : std::as_const(ids))
        catalog.m_manifests.append(byId.value(id));
    return catalog;
}

QString ProviderCatalog::userDirectory(const QString& dataDir)
{
    return dataDir + QStringLiteral("/providers");
}

Result<ProviderManifest> ProviderCatalog::find(const QString& id) const
{
    QStringList known;
    for (const ProviderManifest& m : m_manifests) {
        if (m.id == id)
            return m;
        known.append(m.id);
    }
    return fail(
        Error::Code::NotFound,
        QStringLiteral("no provider \"%1\" (known: %2)")
            .arg(id, known.isEmpty() ? QStringLiteral("none") : known.join(QStringLiteral(", "))));
}

// --- connection fields --------------------------------------------------------------------

Result<QString> ProviderCatalog::resolveBaseUrl(const ProviderManifest& manifest,
                                                const QJsonObject& connectionMeta)
{
    if (!manifest.baseUrl.contains(QLatin1Char('{')))
        return manifest.baseUrl;
    const auto parts = splitTemplate(manifest.baseUrl);
    if (!parts)
        return fail(Error::Code::Validation,
                    QStringLiteral("provider \"%1\": base_url is malformed").arg(manifest.id));
    auto field = [&](const QString& name) -> Result<QString> {
        const QJsonValue v = connectionMeta.value(name);
        if (!v.isString() || v.toString().trimmed().isEmpty()) {
            QString hint;
            for (const ConnectionField& f : manifest.connectionFields) {
                if (f.name == name)
                    hint = QStringLiteral(" (%1)").arg(f.description);
            }
            return fail(Error::Code::Validation,
                        QStringLiteral("the connection has no \"%1\"%2: run `vivarium connect` "
                                       "again to set it")
                            .arg(name, hint));
        }
        return v.toString().trimmed();
    };
    if (parts->size() == 1 && parts->first().placeholder) {
        auto url = field(parts->first().text);
        if (!url)
            return url;
        QString text = *url;
        while (text.endsWith(QLatin1Char('/')))
            text.chop(1);
        if (const QString why = urlProblem(text); !why.isEmpty())
            return fail(Error::Code::Validation, QStringLiteral("the connection's %1 \"%2\" %3")
                                                     .arg(parts->first().text, text, why));
        return text;
    }
    const qsizetype schemeEnd = manifest.baseUrl.indexOf(QStringLiteral("://")) + 3;
    QString out;
    qsizetype offset = 0;
    for (const TemplatePart& part : *parts) {
        if (!part.placeholder) {
            out += part.text;
            offset += part.text.size();
            continue;
        }
        auto value = field(part.text);
        if (!value)
            return std::unexpected(value.error());
        const qsizetype pathStart = manifest.baseUrl.indexOf(QLatin1Char('/'), schemeEnd);
        const bool inHost = pathStart < 0 || offset < pathStart;
        if (inHost) {
            const QString label = value->toLower();
            if (!labelPattern().match(label).hasMatch())
                return fail(Error::Code::Validation,
                            QStringLiteral("the connection's %1 \"%2\" is not one host label "
                                           "(letters, digits, -)")
                                .arg(part.text, *value));
            out += label;
        } else {
            auto segment =
                segmentValue(QStringLiteral("the connection's %1").arg(part.text), *value);
            if (!segment)
                return std::unexpected(segment.error());
            out += *segment;
        }
        offset += part.text.size() + 2;
    }
    if (const QString why = urlProblem(out); !why.isEmpty())
        return fail(
            Error::Code::Validation,
            QStringLiteral("provider \"%1\": the base URL %2 %3").arg(manifest.id, out, why));
    return out;
}

Result<QString> ProviderCatalog::resolveCredentialHost(const ProviderManifest& manifest,
                                                       const QJsonObject& connectionMeta)
{
    if (!manifest.credentialHost.isEmpty())
        return manifest.credentialHost;
    auto base = resolveBaseUrl(manifest, connectionMeta);
    if (!base)
        return std::unexpected(base.error());
    return QUrl(*base).host().toLower();
}

// --- tools --------------------------------------------------------------------------------

QString ProviderCatalog::toolName(const QString& provider, const QString& operation)
{
    return provider + QLatin1Char('_') + operation;
}

namespace {

QJsonValue withoutExtensions(const QJsonValue& v)
{
    if (v.isArray()) {
        QJsonArray out;
        for (const QJsonValue& item : v.toArray())
            out.append(withoutExtensions(item));
        return out;
    }
    if (!v.isObject())
        return v;
    QJsonObject out;
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key().startsWith(QLatin1String("x-")))
            continue;
        // Under "properties" the keys are argument names, which may start with anything.
        if (it.key() == QLatin1String("properties") && it.value().isObject()) {
            QJsonObject props;
            const QJsonObject in = it.value().toObject();
            for (auto p = in.begin(); p != in.end(); ++p)
                props.insert(p.key(), withoutExtensions(*p));
            out.insert(it.key(), props);
            continue;
        }
        out.insert(it.key(), withoutExtensions(*it));
    }
    return out;
}

} // namespace

QJsonObject ProviderCatalog::modelSchema(const ProviderOperation& operation)
{
    return withoutExtensions(operation.parameters).toObject();
}

// --- rendering ----------------------------------------------------------------------------

Result<RenderedRequest> ProviderCatalog::render(const ProviderManifest& manifest,
                                                const QString& operation, const QJsonObject& args)
{
    return render(manifest, operation, args, {});
}

Result<RenderedRequest> ProviderCatalog::render(const ProviderManifest& manifest,
                                                const QString& operation, const QJsonObject& args,
                                                const QJsonObject& connectionMeta)
{
    const ProviderOperation* op = manifest.operation(operation);
    if (!op) {
        QStringList names;
        for (const ProviderOperation& o : manifest.operations)
            names.append(o.name);
        return fail(
            Error::Code::NotFound,
            QStringLiteral("provider \"%1\" has no operation \"%2\" (operations: %3)")
                .arg(manifest.id, operation,
                     names.isEmpty() ? QStringLiteral("none") : names.join(QStringLiteral(", "))));
    }
    auto base = resolveBaseUrl(manifest, connectionMeta);
    if (!base)
        return std::unexpected(base.error());

    const QJsonObject props = op->parameters.value(QStringLiteral("properties")).toObject();
    QSet<QString> pathNames;
    const auto parts = splitTemplate(op->path);
    if (!parts)
        return fail(
            Error::Code::Validation,
            QStringLiteral("operation \"%1\": the path template is malformed").arg(operation));
    for (const TemplatePart& part : *parts) {
        if (part.placeholder)
            pathNames.insert(part.text);
    }
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (!props.contains(it.key()))
            return fail(Error::Code::Validation,
                        QStringLiteral("operation \"%1\" has no parameter \"%2\"")
                            .arg(operation, it.key()));
    }

    // Path: every placeholder one encoded segment (or part of one): a "/" becomes %2F, which
    // the broker refuses, so an argument can never reach another path.
    QString path;
    for (const TemplatePart& part : *parts) {
        if (!part.placeholder) {
            path += part.text;
            continue;
        }
        const QJsonValue v = args.value(part.text);
        if (v.isUndefined() || v.isNull())
            return fail(Error::Code::Validation,
                        QStringLiteral("missing path parameter \"%1\"").arg(part.text));
        if (!isScalar(v))
            return fail(Error::Code::Validation,
                        QStringLiteral("path parameter \"%1\" must be a string or a number, got %2")
                            .arg(part.text, jsontext::describe(v)));
        auto segment =
            segmentValue(QStringLiteral("path parameter \"%1\"").arg(part.text), scalarText(v));
        if (!segment)
            return std::unexpected(segment.error());
        path += *segment;
    }

    RenderedRequest out;
    out.method = op->method;
    QList<QPair<QString, QString>> query = op->query;
    QJsonObject body;
    QList<QPair<QString, QString>> headers = manifest.headers;
    auto setHeader = [&headers](const QString& name, const QString& value) {
        for (auto& h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0) {
                h.second = value;
                return;
            }
        }
        headers.append({name, value});
    };
    for (const auto& [name, value] : op->headers)
        setHeader(name, value);

    for (auto it = props.begin(); it != props.end(); ++it) {
        const QString& name = it.key();
        const QJsonValue v = args.value(name);
        if (v.isUndefined() || v.isNull())
            continue;
        const QJsonObject prop = it.value().toObject();
        const QString in = locationOf(prop, name, pathNames, op->method);
        const QString wire = prop.value(QStringLiteral("x-name")).toString(name);
        if (in == QLatin1String("path")) {
            continue;
        } else if (in == QLatin1String("query")) {
            const QString style =
                prop.value(QStringLiteral("x-style")).toString(QStringLiteral("form"));
            if (v.isArray() && style == QLatin1String("comma")) {
                QStringList items;
                for (const QJsonValue& item : v.toArray())
                    items.append(
                        isScalar(item)
                            ? scalarText(item)
                            : QString::fromUtf8(
                                  QJsonDocument(item.toObject()).toJson(QJsonDocument::Compact)));
                query.append({wire, items.join(QLatin1Char(','))});
            } else if (v.isArray() && style == QLatin1String("form")) {
                for (const QJsonValue& item : v.toArray()) {
                    if (!isScalar(item))
                        return fail(Error::Code::Validation,
                                    QStringLiteral("query parameter \"%1\" holds a list of "
                                                   "strings or numbers, got %2")
                                        .arg(name, jsontext::describe(item)));
                    query.append({wire, scalarText(item)});
                }
            } else if (v.isArray() || v.isObject()) {
                flatten(wire, v, query);
            } else {
                query.append({wire, scalarText(v)});
            }
        } else if (in == QLatin1String("header")) {
            if (!isScalar(v))
                return fail(Error::Code::Validation,
                            QStringLiteral("header parameter \"%1\" must be a string or a number")
                                .arg(name));
            const QString text = scalarText(v);
            if (std::any_of(text.begin(), text.end(), [](QChar c) {
                    return (c.unicode() < 0x20 && c != QLatin1Char('\t')) || c.unicode() == 0x7f;
                }))
                return fail(Error::Code::Validation,
                            QStringLiteral("header parameter \"%1\" contains a control character")
                                .arg(name));
            setHeader(wire, text);
        } else {
            body.insert(wire, v);
        }
    }
    for (auto it = op->body.begin(); it != op->body.end(); ++it)
        body.insert(it.key(), *it);

    out.url = *base + path;
    if (!query.isEmpty())
        out.url += QLatin1Char('?') + QString::fromLatin1(joinPairs(query));

    const bool hasBodyMethod = op->method == QLatin1String("POST") ||
                               op->method == QLatin1String("PUT") ||
                               op->method == QLatin1String("PATCH");
    QString contentType;
    if (hasBodyMethod || !body.isEmpty()) {
        if (op->bodyFormat == QLatin1String("form")) {
            QList<QPair<QString, QString>> pairs;
            for (auto it = body.begin(); it != body.end(); ++it)
                flatten(it.key(), *it, pairs);
            out.body = joinPairs(pairs);
            contentType = QStringLiteral("application/x-www-form-urlencoded");
        } else {
            out.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
            contentType = QStringLiteral("application/json");
        }
    }
    bool hasContentType = false;
    for (const auto& [name, value] : std::as_const(headers)) {
        hasContentType =
            hasContentType || name.compare(QLatin1String("Content-Type"), Qt::CaseInsensitive) == 0;
        out.headers.append({name.toLatin1(), value.toUtf8()});
    }
    if (!contentType.isEmpty() && !hasContentType)
        out.headers.append({QByteArrayLiteral("Content-Type"), contentType.toLatin1()});
    return out;
}

} // namespace vivarium
