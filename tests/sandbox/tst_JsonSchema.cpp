// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/protocol/JsonSchema.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace vivarium;

namespace {

/** Any JSON value from text, scalars included. */
QJsonValue json(const QByteArray& text)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + text + "]", &err);
    if (err.error != QJsonParseError::NoError || doc.array().size() != 1)
        qFatal("bad JSON in test data: %s", text.constData());
    return doc.array().at(0);
}

// One function per keyword group keeps each small enough for the optimizer's debug info.
void addBooleanRows()
{
    const QStringList ok;

    // Boolean schemas.
    QTest::newRow("true schema") << QByteArray("true") << QByteArray("{\"a\":1}") << ok;
    QTest::newRow("false schema") << QByteArray("false") << QByteArray("1")
                                  << QStringList{"/: no value is allowed here (schema is false)"};
    QTest::newRow("false property")
        << QByteArray(R"({"properties":{"x":false}})") << QByteArray(R"({"x":1})")
        << QStringList{"/x: no value is allowed here (schema is false)"};
    QTest::newRow("empty schema") << QByteArray("{}") << QByteArray("[1,\"a\"]") << ok;
    QTest::newRow("unknown keywords ignored")
        << QByteArray(R"({"format":"email","x-whatever":3,"title":"t"})") << QByteArray("\"no\"")
        << ok;
}

void addTypeRows()
{
    const QStringList ok;

    // type
    QTest::newRow("string ok") << QByteArray(R"({"type":"string"})") << QByteArray("\"a\"") << ok;
    QTest::newRow("string bad") << QByteArray(R"({"type":"string"})") << QByteArray("3")
                                << QStringList{"/: expected a string, got number 3"};
    QTest::newRow("number ok int") << QByteArray(R"({"type":"number"})") << QByteArray("3") << ok;
    QTest::newRow("number ok frac")
        << QByteArray(R"({"type":"number"})") << QByteArray("2.5") << ok;
    QTest::newRow("number bad") << QByteArray(R"({"type":"number"})") << QByteArray("\"3\"")
                                << QStringList{"/: expected a number, got string \"3\""};
    QTest::newRow("integer ok") << QByteArray(R"({"type":"integer"})") << QByteArray("3") << ok;
    QTest::newRow("integer ok 3.0")
        << QByteArray(R"({"type":"integer"})") << QByteArray("3.0") << ok;
    QTest::newRow("integer bad") << QByteArray(R"({"type":"integer"})") << QByteArray("2.5")
                                 << QStringList{"/: expected an integer, got number 2.5"};
    QTest::newRow("boolean ok") << QByteArray(R"({"type":"boolean"})") << QByteArray("false") << ok;
    QTest::newRow("boolean bad") << QByteArray(R"({"type":"boolean"})") << QByteArray("0")
                                 << QStringList{"/: expected a boolean, got number 0"};
    QTest::newRow("null ok") << QByteArray(R"({"type":"null"})") << QByteArray("null") << ok;
    QTest::newRow("null bad") << QByteArray(R"({"type":"null"})") << QByteArray("false")
                              << QStringList{"/: expected null, got boolean false"};
    QTest::newRow("object ok") << QByteArray(R"({"type":"object"})") << QByteArray("{}") << ok;
    QTest::newRow("object bad") << QByteArray(R"({"type":"object"})") << QByteArray("[1,2]")
                                << QStringList{"/: expected an object, got array of 2 items"};
    QTest::newRow("array ok") << QByteArray(R"({"type":"array"})") << QByteArray("[]") << ok;
    QTest::newRow("array bad") << QByteArray(R"({"type":"array"})") << QByteArray(R"({"a":1})")
                               << QStringList{"/: expected an array, got object with 1 property"};
    QTest::newRow("type list ok") << QByteArray(R"({"type":["string","null"]})")
                                  << QByteArray("null") << ok;
    QTest::newRow("type list bad")
        << QByteArray(R"({"type":["string","integer","null"]})") << QByteArray("true")
        << QStringList{"/: expected a string, an integer or null, got boolean true"};
    QTest::newRow("long string shortened")
        << QByteArray(R"({"type":"number"})")
        << QByteArray("\"0123456789012345678901234567890123456789XYZ\"")
        << QStringList{
               "/: expected a number, got string \"0123456789012345678901234567890123456789...\""};
}

void addEnumConstRows()
{
    const QStringList ok;

    // enum / const
    QTest::newRow("enum ok") << QByteArray(R"({"enum":["a","b",1]})") << QByteArray("1.0") << ok;
    QTest::newRow("enum bad") << QByteArray(R"({"enum":["a","b"]})") << QByteArray("\"c\"")
                              << QStringList{"/: expected one of \"a\", \"b\", got string \"c\""};
    QTest::newRow("enum object ok") << QByteArray(R"({"enum":[{"a":1,"b":[1,2]}]})")
                                    << QByteArray(R"({"b":[1,2],"a":1})") << ok;
    QTest::newRow("const ok") << QByteArray(R"({"const":{"x":[1,null]}})")
                              << QByteArray(R"({"x":[1,null]})") << ok;
    QTest::newRow("const bad") << QByteArray(R"({"const":5})") << QByteArray("3")
                               << QStringList{"/: expected 5, got number 3"};
    QTest::newRow("const null bad") << QByteArray(R"({"const":null})") << QByteArray("0")
                                    << QStringList{"/: expected null, got number 0"};
}

void addObjectRows()
{
    const QStringList ok;

    // properties, required, additionalProperties, patternProperties
    QTest::newRow("nested pointer")
        << QByteArray(R"({"properties":{"items":{"type":"array","items":{"type":"object",
                         "properties":{"name":{"type":"string"}}}}}})")
        << QByteArray(R"({"items":[{"name":"ok"},{"name":3}]})")
        << QStringList{"/items/1/name: expected a string, got number 3"};
    QTest::newRow("required ok") << QByteArray(R"({"required":["path"]})")
                                 << QByteArray(R"({"path":"x"})") << ok;
    QTest::newRow("required bad") << QByteArray(
                                         R"({"type":"object","required":["path","content"]})")
                                  << QByteArray(R"({"content":""})")
                                  << QStringList{"/: missing required property \"path\""};
    QTest::newRow("required nested")
        << QByteArray(R"({"properties":{"a":{"required":["b"]}}})") << QByteArray(R"({"a":{}})")
        << QStringList{"/a: missing required property \"b\""};
    QTest::newRow("required ignores non-object")
        << QByteArray(R"({"required":["a"]})") << QByteArray("3") << ok;
    QTest::newRow("additional false ok")
        << QByteArray(R"({"properties":{"a":{}},"additionalProperties":false})")
        << QByteArray(R"({"a":1})") << ok;
    QTest::newRow("additional false bad")
        << QByteArray(R"({"properties":{"a":{}},"additionalProperties":false})")
        << QByteArray(R"({"a":1,"extra":2})")
        << QStringList{"/extra: property not allowed (additionalProperties is false)"};
    QTest::newRow("additional schema")
        << QByteArray(R"({"properties":{"a":{}},"additionalProperties":{"type":"integer"}})")
        << QByteArray(R"({"a":"s","b":1,"c":"x"})")
        << QStringList{"/c: expected an integer, got string \"x\""};
    QTest::newRow("pattern properties")
        << QByteArray(R"({"patternProperties":{"^n_":{"type":"number"}},
                         "additionalProperties":false})")
        << QByteArray(R"({"n_a":1,"n_b":"x","z":0})")
        << QStringList{"/n_b: expected a number, got string \"x\"",
                       "/z: property not allowed (additionalProperties is false)"};
    QTest::newRow("pointer escaping")
        << QByteArray(R"({"properties":{"a/b":{"type":"string"},"m~n":{"type":"string"}}})")
        << QByteArray(R"({"a/b":1,"m~n":2})")
        << QStringList{"/a~1b: expected a string, got number 1",
                       "/m~0n: expected a string, got number 2"};
    QTest::newRow("minProperties bad")
        << QByteArray(R"({"minProperties":2})") << QByteArray(R"({"a":1})")
        << QStringList{"/: expected at least 2 properties, got 1"};
    QTest::newRow("maxProperties bad")
        << QByteArray(R"({"maxProperties":1})") << QByteArray(R"({"a":1,"b":2})")
        << QStringList{"/: expected at most 1 property, got 2"};
    QTest::newRow("min/maxProperties ok")
        << QByteArray(R"({"minProperties":1,"maxProperties":1})") << QByteArray(R"({"a":1})") << ok;
}

void addArrayRows()
{
    const QStringList ok;

    // Arrays
    QTest::newRow("items ok") << QByteArray(R"({"items":{"type":"integer"}})")
                              << QByteArray("[1,2,3]") << ok;
    QTest::newRow("items bad") << QByteArray(R"({"items":{"type":"integer"}})")
                               << QByteArray("[1,\"2\",3.5]")
                               << QStringList{"/1: expected an integer, got string \"2\"",
                                              "/2: expected an integer, got number 3.5"};
    QTest::newRow("prefixItems") << QByteArray(
                                        R"({"prefixItems":[{"type":"string"},{"type":"integer"}],
                         "items":{"type":"boolean"}})")
                                 << QByteArray("[\"a\",1,true,2]")
                                 << QStringList{"/3: expected a boolean, got number 2"};
    QTest::newRow("prefixItems items false")
        << QByteArray(R"({"prefixItems":[{"type":"string"}],"items":false})")
        << QByteArray("[\"a\",1]") << QStringList{"/1: item not allowed (at most 1 expected)"};
    QTest::newRow("prefixItems short ok")
        << QByteArray(R"({"prefixItems":[{"type":"string"},{"type":"string"}],"items":false})")
        << QByteArray("[\"a\"]") << ok;
    QTest::newRow("items array form")
        << QByteArray(R"({"items":[{"type":"string"}],"additionalItems":false})")
        << QByteArray("[3,4]")
        << QStringList{"/0: expected a string, got number 3",
                       "/1: item not allowed (at most 1 expected)"};
    QTest::newRow("minItems bad") << QByteArray(R"({"minItems":2})") << QByteArray("[1]")
                                  << QStringList{"/: expected at least 2 items, got 1"};
    QTest::newRow("maxItems bad") << QByteArray(R"({"maxItems":1})") << QByteArray("[1,2]")
                                  << QStringList{"/: expected at most 1 item, got 2"};
    QTest::newRow("min/maxItems ok")
        << QByteArray(R"({"minItems":1,"maxItems":2})") << QByteArray("[1,2]") << ok;
    QTest::newRow("uniqueItems ok")
        << QByteArray(R"({"uniqueItems":true})") << QByteArray("[1,\"1\",[1],{\"a\":1}]") << ok;
    QTest::newRow("uniqueItems bad numbers")
        << QByteArray(R"({"uniqueItems":true})") << QByteArray("[1,2,1.0]")
        << QStringList{"/: expected unique items, but items 0 and 2 are equal"};
    QTest::newRow("uniqueItems bad objects")
        << QByteArray(R"({"uniqueItems":true})") << QByteArray(R"([{"a":1,"b":2},{"b":2,"a":1}])")
        << QStringList{"/: expected unique items, but items 0 and 1 are equal"};
    QTest::newRow("uniqueItems false")
        << QByteArray(R"({"uniqueItems":false})") << QByteArray("[1,1]") << ok;
}

void addStringRows()
{
    const QStringList ok;

    // Strings
    QTest::newRow("minLength bad") << QByteArray(R"({"minLength":3})") << QByteArray("\"ab\"")
                                   << QStringList{"/: expected at least 3 characters, got 2"};
    QTest::newRow("maxLength bad") << QByteArray(R"({"maxLength":1})") << QByteArray("\"ab\"")
                                   << QStringList{"/: expected at most 1 character, got 2"};
    QTest::newRow("length counts code points")
        << QByteArray(R"({"minLength":2,"maxLength":2})")
        << QByteArray("\"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\"") << ok;
    QTest::newRow("length ignores non-strings")
        << QByteArray(R"({"minLength":5})") << QByteArray("1") << ok;
    QTest::newRow("pattern ok") << QByteArray(R"({"pattern":"b+"})") << QByteArray("\"abbc\"")
                                << ok;
    QTest::newRow("pattern bad")
        << QByteArray(R"({"pattern":"^a+$"})") << QByteArray("\"b\"")
        << QStringList{"/: expected a string matching the pattern \"^a+$\", got string \"b\""};
    QTest::newRow("pattern invalid")
        << QByteArray(R"({"pattern":"(a"})") << QByteArray("\"a\"")
        << QStringList{"/: the schema's pattern \"(a\" is not a valid regular expression: "
                       "missing closing parenthesis"};
}

void addNumberRows()
{
    const QStringList ok;

    // Numbers
    QTest::newRow("minimum ok") << QByteArray(R"({"minimum":1})") << QByteArray("1") << ok;
    QTest::newRow("minimum bad") << QByteArray(R"({"minimum":1})") << QByteArray("0.5")
                                 << QStringList{"/: expected a number >= 1, got number 0.5"};
    QTest::newRow("maximum ok") << QByteArray(R"({"maximum":1})") << QByteArray("1") << ok;
    QTest::newRow("maximum bad") << QByteArray(R"({"maximum":1})") << QByteArray("2")
                                 << QStringList{"/: expected a number <= 1, got number 2"};
    QTest::newRow("exclusiveMinimum ok")
        << QByteArray(R"({"exclusiveMinimum":0})") << QByteArray("0.1") << ok;
    QTest::newRow("exclusiveMinimum bad")
        << QByteArray(R"({"exclusiveMinimum":0})") << QByteArray("0")
        << QStringList{"/: expected a number > 0, got number 0"};
    QTest::newRow("exclusiveMaximum bad")
        << QByteArray(R"({"exclusiveMaximum":10})") << QByteArray("10")
        << QStringList{"/: expected a number < 10, got number 10"};
    QTest::newRow("exclusiveMaximum ok")
        << QByteArray(R"({"exclusiveMaximum":10})") << QByteArray("9.99") << ok;
    QTest::newRow("draft4 exclusive bool")
        << QByteArray(R"({"minimum":0,"exclusiveMinimum":true,"maximum":5,
                         "exclusiveMaximum":true})")
        << QByteArray("5") << QStringList{"/: expected a number < 5, got number 5"};
    QTest::newRow("multipleOf ok")
        << QByteArray(R"({"multipleOf":0.1})") << QByteArray("0.3") << ok;
    QTest::newRow("multipleOf int ok")
        << QByteArray(R"({"multipleOf":3})") << QByteArray("-9") << ok;
    QTest::newRow("multipleOf bad")
        << QByteArray(R"({"multipleOf":0.1})") << QByteArray("0.35")
        << QStringList{"/: expected a multiple of 0.1, got number 0.35"};
    QTest::newRow("number keywords ignore strings")
        << QByteArray(R"({"minimum":3})") << QByteArray("\"1\"") << ok;
}

void addCombinatorRows()
{
    const QStringList ok;

    // Combinators
    QTest::newRow("allOf ok") << QByteArray(R"({"allOf":[{"type":"integer"},{"minimum":1}]})")
                              << QByteArray("2") << ok;
    QTest::newRow("allOf bad") << QByteArray(R"({"allOf":[{"type":"integer"},{"minimum":1}]})")
                               << QByteArray("0.5")
                               << QStringList{"/: expected an integer, got number 0.5",
                                              "/: expected a number >= 1, got number 0.5"};
    QTest::newRow("anyOf ok") << QByteArray(R"({"anyOf":[{"type":"string"},{"type":"number"}]})")
                              << QByteArray("1") << ok;
    QTest::newRow("anyOf bad")
        << QByteArray(R"({"anyOf":[{"type":"string"},{"type":"number"}]})") << QByteArray("true")
        << QStringList{"/: expected a value matching at least one of 2 schemas (anyOf), got "
                       "boolean true: [0] /: expected a string, got boolean true; [1] /: "
                       "expected a number, got boolean true"};
    QTest::newRow("oneOf ok") << QByteArray(R"({"oneOf":[{"type":"integer"},{"type":"string"}]})")
                              << QByteArray("1") << ok;
    QTest::newRow("oneOf none")
        << QByteArray(R"({"oneOf":[{"type":"integer"},{"type":"string"}]})") << QByteArray("null")
        << QStringList{"/: expected a value matching exactly one of 2 schemas (oneOf), got null "
                       "matching none: [0] /: expected an integer, got null; [1] /: expected a "
                       "string, got null"};
    QTest::newRow("oneOf many")
        << QByteArray(R"({"oneOf":[{"type":"integer"},{"type":"number"},{"minimum":0}]})")
        << QByteArray("1")
        << QStringList{"/: expected a value matching exactly one of 3 schemas (oneOf), but it "
                       "matches 3 (schemas 0 and 1)"};
    QTest::newRow("not ok") << QByteArray(R"({"not":{"type":"string"}})") << QByteArray("1") << ok;
    QTest::newRow("not bad")
        << QByteArray(R"({"not":{"type":"string"}})") << QByteArray("\"s\"")
        << QStringList{"/: expected a value not matching the schema in \"not\", got string \"s\""};
    QTest::newRow("combinator at pointer")
        << QByteArray(R"({"properties":{"a":{"anyOf":[{"const":1},{"const":2}]}}})")
        << QByteArray(R"({"a":3})")
        << QStringList{"/a: expected a value matching at least one of 2 schemas (anyOf), got "
                       "number 3: [0] /a: expected 1, got number 3; [1] /a: expected 2, got "
                       "number 3"};
}

void addRefRows()
{
    const QStringList ok;

    // $ref
    QTest::newRow("ref defs ok")
        << QByteArray(
               R"({"$defs":{"name":{"type":"string"}},"properties":{"n":{"$ref":"#/$defs/name"}}})")
        << QByteArray(R"({"n":"x"})") << ok;
    QTest::newRow("ref defs bad")
        << QByteArray(
               R"({"$defs":{"name":{"type":"string"}},"properties":{"n":{"$ref":"#/$defs/name"}}})")
        << QByteArray(R"({"n":1})") << QStringList{"/n: expected a string, got number 1"};
    QTest::newRow("ref definitions")
        << QByteArray(
               R"({"definitions":{"pos":{"minimum":0}},"items":{"$ref":"#/definitions/pos"}})")
        << QByteArray("[1,-1]") << QStringList{"/1: expected a number >= 0, got number -1"};
    QTest::newRow("ref escaped pointer")
        << QByteArray(R"({"$defs":{"a/b":{"type":"integer"},"c d":{"type":"null"}},
                         "properties":{"x":{"$ref":"#/$defs/a~1b"},"y":{"$ref":"#/$defs/c%20d"}}})")
        << QByteArray(R"({"x":"s","y":1})")
        << QStringList{"/x: expected an integer, got string \"s\"",
                       "/y: expected null, got number 1"};
    QTest::newRow("ref root recursive")
        << QByteArray(R"({"type":"object","properties":{"name":{"type":"string"},
                         "children":{"type":"array","items":{"$ref":"#"}}},
                         "additionalProperties":false})")
        << QByteArray(R"({"name":"a","children":[{"name":"b","children":[{"name":3}]}]})")
        << QStringList{"/children/0/children/0/name: expected a string, got number 3"};
    QTest::newRow("ref unresolvable") << QByteArray(R"({"$ref":"#/$defs/nope"})") << QByteArray("1")
                                      << QStringList{"/: $ref \"#/$defs/nope\" does not resolve"};
    QTest::newRow("ref remote unsupported")
        << QByteArray(R"({"$ref":"https://example.com/s.json"})") << QByteArray("1")
        << QStringList{"/: $ref \"https://example.com/s.json\" is not supported (only local "
                       "references starting with # are)"};
    QTest::newRow("ref cycle")
        << QByteArray(
               R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})")
        << QByteArray("1")
        << QStringList{"/: $ref \"#/$defs/a\" nested more than 64 levels deep (recursive "
                       "schema?)"};
    QTest::newRow("ref with siblings")
        << QByteArray(R"({"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":1})")
        << QByteArray("\"ab\"") << QStringList{"/: expected at most 1 character, got 2"};
}

} // namespace

class TestJsonSchema : public QObject
{
    Q_OBJECT
private slots:
    void validate_data();
    void validate();
    void maxErrorsCaps();
    void zeroMaxErrorsStillReports();
    void deepRecursiveRefTerminates();
};

void TestJsonSchema::validate_data()
{
    QTest::addColumn<QByteArray>("schema");
    QTest::addColumn<QByteArray>("instance");
    QTest::addColumn<QStringList>("expected");
    addBooleanRows();
    addTypeRows();
    addEnumConstRows();
    addObjectRows();
    addArrayRows();
    addStringRows();
    addNumberRows();
    addCombinatorRows();
    addRefRows();
}

void TestJsonSchema::validate()
{
    QFETCH(QByteArray, schema);
    QFETCH(QByteArray, instance);
    QFETCH(QStringList, expected);
    QCOMPARE(JsonSchema::validate(json(schema), json(instance)), expected);
}

void TestJsonSchema::maxErrorsCaps()
{
    const QJsonValue schema = json(R"({"items":{"type":"string"}})");
    const QJsonValue instance = json("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22]");
    QCOMPARE(JsonSchema::validate(schema, instance).size(), 20);
    const QStringList three = JsonSchema::validate(schema, instance, 3);
    QCOMPARE(three.size(), 3);
    QCOMPARE(three.at(2), QStringLiteral("/2: expected a string, got number 3"));
}

void TestJsonSchema::zeroMaxErrorsStillReports()
{
    // An empty list means "valid", so a cap of 0 must not hide a failure.
    QCOMPARE(JsonSchema::validate(json(R"({"type":"string"})"), json("1"), 0).size(), 1);
}

void TestJsonSchema::deepRecursiveRefTerminates()
{
    const QJsonValue schema = json(R"({"$ref":"#"})");
    const QStringList errors = JsonSchema::validate(schema, json("{}"));
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors.at(0).contains(QStringLiteral("nested more than 64 levels")));
}

QTEST_APPLESS_MAIN(TestJsonSchema)
#include "tst_JsonSchema.moc"
