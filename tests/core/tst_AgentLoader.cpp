// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/AgentDefinition.h"

#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;

Q_DECLARE_METATYPE(vivarium::Error::Code)

namespace {

QString fixture(const QString& relative)
{
    return testsupport::sourceDir() + QStringLiteral("/tests/core/fixtures/agents/") + relative;
}

QString example(const QString& relative)
{
    return testsupport::sourceDir() + QStringLiteral("/resources/examples/") + relative;
}

/**
 * A minimal valid agent with top-level members replaced; null removes one (QJsonObject's
 * initializer list turns Undefined into null anyway).
 */
QByteArray agent(const QJsonObject& changes = {})
{
    QJsonObject o{
        {QStringLiteral("id"), QStringLiteral("t")},
        {QStringLiteral("name"), QStringLiteral("Test")},
        {QStringLiteral("prompt"), QStringLiteral("Do it.")},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("local")},
                                              {QStringLiteral("name"), QStringLiteral("m")}}}};
    for (auto it = changes.begin(); it != changes.end(); ++it) {
        if (it.value().isNull())
            o.remove(it.key());
        else
            o.insert(it.key(), it.value());
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

/** The minimal agent with one more member written as raw JSON text. */
QByteArray agentWith(const QByteArray& member)
{
    QByteArray base = agent();
    base.chop(1); // the closing brace
    return base + ',' + member + '}';
}

QJsonObject parse(const char* json)
{
    return QJsonDocument::fromJson(json).object();
}

QJsonObject provider(const QJsonObject& extra = {})
{
    QJsonObject p{{QStringLiteral("provider"), QStringLiteral("gmail")}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        p.insert(it.key(), it.value());
    return p;
}

QByteArray withProvider(const QJsonObject& p)
{
    return agent({{QStringLiteral("providers"), QJsonArray{p}}});
}

QByteArray withSchedule(const QJsonObject& extra)
{
    QJsonObject s{{QStringLiteral("cron"), QStringLiteral("0 * * * *")}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (it.value().isNull())
            s.remove(it.key());
        else
            s.insert(it.key(), it.value());
    }
    return agent({{QStringLiteral("schedules"), QJsonArray{s}}});
}

/** Field-by-field equality, reported through QCOMPARE so the first difference is named. */
void compareDefinitions(const AgentDefinition& a, const AgentDefinition& b)
{
    QCOMPARE(a.id, b.id);
    QCOMPARE(a.name, b.name);
    QCOMPARE(a.description, b.description);
    QCOMPARE(a.version, b.version);
    QCOMPARE(a.prompt, b.prompt);
    QCOMPARE(a.model.endpoint, b.model.endpoint);
    QCOMPARE(a.model.name, b.model.name);
    QCOMPARE(a.model.temperature, b.model.temperature);
    QCOMPARE(a.model.topP, b.model.topP);
    QCOMPARE(a.model.maxTokens, b.model.maxTokens);
    QCOMPARE(a.tools.memory, b.tools.memory);
    QCOMPARE(a.tools.files, b.tools.files);
    QCOMPARE(a.tools.shell, b.tools.shell);
    QCOMPARE(a.providers.size(), b.providers.size());
    for (qsizetype i = 0; i < a.providers.size(); ++i) {
        QCOMPARE(a.providers[i].provider, b.providers[i].provider);
        QCOMPARE(a.providers[i].connection, b.providers[i].connection);
        QCOMPARE(a.providers[i].operations, b.providers[i].operations);
        QCOMPARE(a.providers[i].authorizedUris, b.providers[i].authorizedUris);
    }
    QCOMPARE(a.limits.maxSteps, b.limits.maxSteps);
    QCOMPARE(a.limits.timeoutS, b.limits.timeoutS);
    QCOMPARE(a.limits.maxTokens, b.limits.maxTokens);
    QCOMPARE(a.limits.maxCostUsd, b.limits.maxCostUsd);
    QCOMPARE(a.outputSchema, b.outputSchema);
    QCOMPARE(a.schedules.size(), b.schedules.size());
    for (qsizetype i = 0; i < a.schedules.size(); ++i) {
        QCOMPARE(a.schedules[i].cron, b.schedules[i].cron);
        QCOMPARE(a.schedules[i].tz, b.schedules[i].tz);
        QCOMPARE(a.schedules[i].overlap, b.schedules[i].overlap);
        QCOMPARE(a.schedules[i].misfire, b.schedules[i].misfire);
        QCOMPARE(a.schedules[i].misfireMaxAgeS, b.schedules[i].misfireMaxAgeS);
        QCOMPARE(a.schedules[i].jitterS, b.schedules[i].jitterS);
        QCOMPARE(a.schedules[i].enabled, b.schedules[i].enabled);
    }
    QCOMPARE(a.sandbox.tier, b.sandbox.tier);
    QCOMPARE(a.sandbox.minTier, b.sandbox.minTier);
    QCOMPARE(a.approval.mode, b.approval.mode);
    QCOMPARE(a.toJson(), b.toJson());
}

QString describeError(const Error& e)
{
    return QStringLiteral("code %1: %2").arg(int(e.code)).arg(e.toString());
}

} // namespace

class TestAgentLoader : public QObject
{
    Q_OBJECT
private slots:
    void isValidId_data();
    void isValidId();
    void badBytes_data();
    void badBytes();
    void badFixtures_data();
    void badFixtures();
    void severalProblemsAllReportedInOrder();
    void hugeFiles();
    void missingPaths();
    void diagnosticToString();
    void examplesLoad();
    void directoryAgentFixture();
    void bomIsStripped();
    void warnings();
    void defaults();
    void versions();
    void integralNumbers();
    void durations_data();
    void durations();
    void roundTrip_data();
    void roundTrip();
    void canonicalJsonShape();
    void exportToDirectory();
    void exportKeepsPromptBytes();
    void exportToJsonFile();
    void exportRefusesOverwrite();
    void exportRejectsInvalidDefinition();
};

void TestAgentLoader::isValidId_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("valid");
    QTest::newRow("simple") << "inbox-triage" << true;
    QTest::newRow("digit first") << "1st_agent" << true;
    QTest::newRow("one char") << "a" << true;
    QTest::newRow("64 chars") << QString(64, QLatin1Char('a')) << true;
    QTest::newRow("65 chars") << QString(65, QLatin1Char('a')) << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("uppercase") << "Inbox" << false;
    QTest::newRow("space") << "inbox triage" << false;
    QTest::newRow("leading dash") << "-inbox" << false;
    QTest::newRow("leading underscore") << "_inbox" << false;
    QTest::newRow("dot") << "inbox.triage" << false;
    QTest::newRow("slash") << "a/b" << false;
    QTest::newRow("non-ascii") << QStringLiteral("caf\u00e9") << false;
    QTest::newRow("trailing newline") << "inbox\n" << false;
}

void TestAgentLoader::isValidId()
{
    QFETCH(QString, id);
    QFETCH(bool, valid);
    QCOMPARE(AgentLoader::isValidId(id), valid);
}

void TestAgentLoader::badBytes_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<Error::Code>("code");
    QTest::addColumn<QString>("expected");

    const auto V = Error::Code::Validation;
    const auto P = Error::Code::Parse;
    const QJsonValue none; // null: removes the member

    // Required fields and the prompt/prompt_file pair.
    QTest::newRow("missing id") << agent({{"id", none}}) << V
                                << "/id: required field is missing (expected an agent id";
    QTest::newRow("missing name") << agent({{"name", none}}) << V
                                  << "/name: required field is missing";
    QTest::newRow("missing model")
        << agent({{"model", none}}) << V << "/model: required field is missing";
    QTest::newRow("missing prompt")
        << agent({{"prompt", none}}) << V << "/prompt: required field is missing";
    QTest::newRow("prompt and prompt_file") << agent({{"prompt_file", "prompt.md"}}) << V
                                            << "/prompt_file: cannot be combined with \"prompt\"";
    QTest::newRow("prompt_file without a directory")
        << agent({{"prompt", none}, {"prompt_file", "prompt.md"}}) << V
        << "/prompt_file: cannot be resolved here";
    QTest::newRow("prompt_file absolute")
        << agent({{"prompt", none}, {"prompt_file", "/etc/passwd"}}) << V
        << "/prompt_file: expected a path relative to the agent file's directory";
    QTest::newRow("empty prompt") << agent({{"prompt", ""}}) << V
                                  << "/prompt: expected a non-empty string, got string \"\"";
    QTest::newRow("prompt is an object")
        << agent({{"prompt", QJsonObject{{"text", "x"}}}}) << V
        << "/prompt: expected a non-empty string, got object with 1 field";

    // Identity fields.
    QTest::newRow("id with spaces and capitals")
        << agent({{"id", "Inbox Triage"}}) << V
        << "/id: expected an agent id (lowercase letters, digits, \"-\" and \"_\", starting "
           "with a letter or digit, at most 64 characters), got string \"Inbox Triage\"";
    QTest::newRow("id is a number") << agent({{"id", 3}}) << V << "/id: expected an agent id";
    QTest::newRow("id too long") << agent({{"id", QString(65, QLatin1Char('x'))}}) << V
                                 << "/id: expected an agent id";
    QTest::newRow("name is an int")
        << agent({{"name", 5}}) << V
        << "/name: expected a non-empty string of at most 200 characters, got number 5";
    QTest::newRow("name too long") << agent({{"name", QString(201, QLatin1Char('n'))}}) << V
                                   << "/name: expected a non-empty string of at most 200";
    QTest::newRow("description is a bool") << agent({{"description", true}}) << V
                                           << "/description: expected a string, got boolean true";
    QTest::newRow("version not semver")
        << agent({{"version", "1.0"}}) << V
        << "/version: expected a semantic version MAJOR.MINOR.PATCH such as \"1.2.0\", got "
           "string \"1.0\"";
    QTest::newRow("version with trailing newline")
        << agent({{"version", "1.0.0\n"}}) << V << "got string \"1.0.0\\n\"";
    QTest::newRow("version leading zero")
        << agent({{"version", "1.02.0"}}) << V << "/version: expected a semantic version";
    QTest::newRow("$schema is a number")
        << agent({{"$schema", 1}}) << V << "/$schema: expected a string, got number 1";
    QTest::newRow("unknown top-level field")
        << agent({{"tags", QJsonArray{"a"}}}) << V
        << "/tags: unknown field; allowed: $schema, id, name, description, version, prompt, "
           "prompt_file, model, tools, providers, limits, output_schema, schedules, sandbox, "
           "approval";
    QTest::newRow("unknown field is pointer-escaped")
        << agent({{"a/b~c", 1}}) << V << "/a~1b~0c: unknown field";

    // model
    QTest::newRow("model is a string")
        << agent({{"model", "llama"}}) << V << "/model: expected an object, got string \"llama\"";
    QTest::newRow("model endpoint missing")
        << agent({{"model", parse(R"({"name": "m"})")}}) << V
        << "/model/endpoint: required field is missing (expected a non-empty string)";
    QTest::newRow("model name is an int")
        << agent({{"model", parse(R"({"endpoint": "local", "name": 3})")}}) << V
        << "/model/name: expected a non-empty string, got number 3";
    QTest::newRow("temperature is a bool")
        << agent({{"model", parse(R"({"endpoint": "e", "name": "m", "temperature": true})")}}) << V
        << "/model/temperature: expected a number from 0 to 2, got boolean true";
    QTest::newRow("temperature out of range")
        << agent({{"model", parse(R"({"endpoint": "e", "name": "m", "temperature": 2.5})")}}) << V
        << "/model/temperature: expected a number from 0 to 2, got number 2.5";
    QTest::newRow("top_p is a string")
        << agent({{"model", parse(R"({"endpoint": "e", "name": "m", "top_p": "0.9"})")}}) << V
        << "/model/top_p: expected a number from 0 to 1, got string \"0.9\"";
    QTest::newRow("model max_tokens zero")
        << agent({{"model", parse(R"({"endpoint": "e", "name": "m", "max_tokens": 0})")}}) << V
        << "/model/max_tokens: expected an integer from 1 to 1000000, got number 0";
    QTest::newRow("unknown model field")
        << agent({{"model", parse(R"({"endpoint": "e", "name": "m", "temprature": 1})")}}) << V
        << "/model/temprature: unknown field; allowed: endpoint, name, temperature, top_p, "
           "max_tokens (did you mean \"temperature\"?)";

    // tools
    QTest::newRow("tools is an array") << agent({{"tools", QJsonArray{"shell"}}}) << V
                                       << "/tools: expected an object, got array of 1 item";
    QTest::newRow("tool flag is a string")
        << agent({{"tools", parse(R"({"shell": "yes"})")}}) << V
        << "/tools/shell: expected true or false, got string \"yes\"";
    QTest::newRow("unknown tool") << agent({{"tools", parse(R"({"network": true})")}}) << V
                                  << "/tools/network: unknown field; allowed: memory, files, shell";

    // providers
    QTest::newRow("providers is an object")
        << agent({{"providers", parse(R"({"provider": "gmail"})")}}) << V
        << "/providers: expected an array of provider grants, got object with 1 field";
    QTest::newRow("provider entry is a string")
        << agent({{"providers", QJsonArray{"gmail"}}}) << V
        << "/providers/0: expected an object, got string \"gmail\"";
    QTest::newRow("unknown provider field")
        << withProvider(provider({{"scopez", QJsonArray{"read"}}})) << V
        << "/providers/0/scopez: unknown field; allowed: provider, connection, operations, "
           "authorized_uris";
    QTest::newRow("provider missing") << withProvider(parse(R"({"connection": "work"})")) << V
                                      << "/providers/0/provider: required field is missing";
    QTest::newRow("provider bad id") << withProvider(provider({{"provider", "G mail"}})) << V
                                     << "/providers/0/provider: expected a provider id";
    QTest::newRow("connection empty") << withProvider(provider({{"connection", ""}})) << V
                                      << "/providers/0/connection: expected a non-empty string";
    QTest::newRow("operations is a string")
        << withProvider(provider({{"operations", "search_messages"}})) << V
        << "/providers/0/operations: expected an array of operation names, got string";
    QTest::newRow("operation empty")
        << withProvider(provider({{"operations", QJsonArray{"a", ""}}})) << V
        << "/providers/0/operations/1: expected a non-empty string, got string \"\"";
    QTest::newRow("operation twice")
        << withProvider(provider({{"operations", QJsonArray{"a", "b", "a"}}})) << V
        << "/providers/0/operations/2: operation \"a\" is listed twice";
    QTest::newRow("uri ftp scheme")
        << withProvider(provider({{"authorized_uris", QJsonArray{"ftp://files.example.com/**"}}}))
        << V
        << "/providers/0/authorized_uris/0: expected an authorized URI "
           "\"[!][METHOD ]http(s)://host[:port]/path-glob\" (the scheme must be http or https), "
           "got string \"ftp://files.example.com/**\"";
    QTest::newRow("uri with userinfo")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https://me:pw@api.x.com/**"}}}))
        << V << "/providers/0/authorized_uris/0: expected an authorized URI";
    QTest::newRow("uri userinfo reason")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https://me@api.x.com/**"}}})) << V
        << "(user info (user@) is not allowed";
    QTest::newRow("uri without host")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https:///v1/**"}}})) << V
        << "/providers/0/authorized_uris/0: expected an authorized URI "
           "\"[!][METHOD ]http(s)://host[:port]/path-glob\" (the host is missing)";
    QTest::newRow("uri with fragment")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https://x.com/a#b"}}})) << V
        << "(fragments (#...) are not allowed)";
    QTest::newRow("uri bad method")
        << withProvider(provider({{"authorized_uris", QJsonArray{"FETCH https://x.com/**"}}})) << V
        << "(the method must be one of GET";
    QTest::newRow("uri bad port")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https://x.com:70000/**"}}})) << V
        << "(the port must be a number from 1 to 65535)";
    QTest::newRow("uri without path")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https://x.com"}}})) << V
        << "(the path is missing";
    QTest::newRow("uri not a string")
        << withProvider(provider({{"authorized_uris", QJsonArray{"https://x.com/**", 7}}})) << V
        << "/providers/0/authorized_uris/1: expected an authorized URI "
           "\"[!][METHOD ]http(s)://host[:port]/path-glob\", got number 7";
    QTest::newRow("duplicate provider and connection")
        << agent({{"providers", QJsonArray{provider({{"connection", "work"}}),
                                           provider({{"connection", "home"}}),
                                           provider({{"connection", "work"}})}}})
        << V
        << "/providers/2: provider \"gmail\" with connection \"work\" is already granted at "
           "/providers/0";

    // limits
    QTest::newRow("max_steps is a string")
        << agent({{"limits", parse(R"({"max_steps": "25"})")}}) << V
        << "/limits/max_steps: expected an integer from 1 to 10000, got string \"25\"";
    QTest::newRow("max_steps not integral")
        << agent({{"limits", parse(R"({"max_steps": 25.5})")}}) << V
        << "/limits/max_steps: expected an integer from 1 to 10000, got number 25.5";
    QTest::newRow("max_steps is a bool")
        << agent({{"limits", parse(R"({"max_steps": true})")}}) << V
        << "/limits/max_steps: expected an integer from 1 to 10000, got boolean true";
    QTest::newRow("max_steps zero") << agent({{"limits", parse(R"({"max_steps": 0})")}}) << V
                                    << "/limits/max_steps: expected an integer from 1 to 10000";
    QTest::newRow("timeout_s too big")
        << agent({{"limits", parse(R"({"timeout_s": 604801})")}}) << V
        << "/limits/timeout_s: expected an integer from 1 to 604800, got number 604801";
    QTest::newRow("max_cost_usd negative")
        << agent({{"limits", parse(R"({"max_cost_usd": -1})")}}) << V
        << "/limits/max_cost_usd: expected a number >= 0, got number -1";
    QTest::newRow("limits max_tokens null")
        << agent({{"limits", parse(R"({"max_tokens": null})")}}) << V
        << "/limits/max_tokens: expected an integer >= 1, got null";
    QTest::newRow("limits is an array")
        << agent({{"limits", QJsonArray{}}}) << V << "/limits: expected an object, got empty array";

    // output_schema
    QTest::newRow("output_schema is a string")
        << agent({{"output_schema", "object"}}) << V
        << "/output_schema: expected a JSON Schema (an object or a boolean), got string";
    QTest::newRow("output_schema bad type")
        << agent({{"output_schema", parse(R"({"type": "obj"})")}}) << V
        << "/output_schema/type: expected a JSON Schema type or array of types among "
           "\"object\", \"array\", \"string\", \"number\", \"integer\", \"boolean\", \"null\", "
           "got string \"obj\"";
    QTest::newRow("output_schema bad type in array")
        << agent({{"output_schema", parse(R"({"type": ["string", 3]})")}}) << V
        << "/output_schema/type/1: expected a JSON Schema type";
    QTest::newRow("output_schema nested property type")
        << agent({{"output_schema",
                   parse(R"({"type": "object", "properties": {"x": {"type": "text"}}})")}})
        << V << "/output_schema/properties/x/type: expected a JSON Schema type";
    QTest::newRow("output_schema items type")
        << agent({{"output_schema",
                   parse(R"({"properties": {"l": {"type": "array", "items": {"type": 1}}}})")}})
        << V << "/output_schema/properties/l/items/type: expected a JSON Schema type";
    QTest::newRow("output_schema properties array")
        << agent({{"output_schema", parse(R"({"properties": []})")}}) << V
        << "/output_schema/properties: expected an object mapping property names to schemas";
    QTest::newRow("output_schema property is a number")
        << agent({{"output_schema", parse(R"({"properties": {"x": 1}})")}}) << V
        << "/output_schema/properties/x: expected a JSON Schema (an object or a boolean), got "
           "number 1";
    QTest::newRow("output_schema required string")
        << agent({{"output_schema", parse(R"({"required": "x"})")}}) << V
        << "/output_schema/required: expected an array of property names, got string \"x\"";

    // schedules
    QTest::newRow("schedules is an object")
        << agent({{"schedules", parse(R"({"cron": "@daily"})")}}) << V
        << "/schedules: expected an array of schedules, got object with 1 field";
    QTest::newRow("cron missing") << withSchedule({{"cron", none}, {"tz", "UTC"}}) << V
                                  << "/schedules/0/cron: required field is missing";
    QTest::newRow("cron words") << withSchedule({{"cron", "every day"}}) << V
                                << "/schedules/0/cron: expected a cron expression with 5 or 6 "
                                   "fields (e.g. \"*/15 8-18 * * 1-5\")";
    QTest::newRow("cron four fields")
        << withSchedule({{"cron", "0 8 * *"}}) << V << "got string \"0 8 * *\"";
    QTest::newRow("cron seven fields") << withSchedule({{"cron", "0 0 8 * * 1 2026"}}) << V
                                       << "/schedules/0/cron: expected a cron expression";
    QTest::newRow("cron unknown macro") << withSchedule({{"cron", "@fortnightly"}}) << V
                                        << "/schedules/0/cron: expected a cron expression";
    QTest::newRow("bad tz") << withSchedule({{"tz", "Mars/Olympus_Mons"}}) << V
                            << "/schedules/0/tz: expected an IANA time zone such as "
                               "\"Europe/Paris\" (leave it out for the system zone), got string "
                               "\"Mars/Olympus_Mons\"";
    QTest::newRow("bad overlap")
        << withSchedule({{"overlap", "queue"}}) << V
        << "/schedules/0/overlap: expected one of \"skip\", \"queue_one\", \"allow\", got string "
           "\"queue\"";
    QTest::newRow("bad misfire") << withSchedule({{"misfire", "catch_up"}}) << V
                                 << "/schedules/0/misfire: expected one of \"run_once\", \"skip\"";
    QTest::newRow("bad duration word")
        << withSchedule({{"jitter", "soon"}}) << V
        << "/schedules/0/jitter: expected a duration such as \"90s\", \"15m\" or \"1h30m\", or "
           "whole seconds from 0 to 31622400, got string \"soon\"";
    QTest::newRow("bad duration order") << withSchedule({{"misfire_max_age", "30m1h"}}) << V
                                        << "/schedules/0/misfire_max_age: expected a duration";
    QTest::newRow("duration with trailing newline")
        << withSchedule({{"jitter", "90s\n"}}) << V << "/schedules/0/jitter: expected a duration";
    QTest::newRow("negative duration")
        << withSchedule({{"jitter", -5}}) << V << "/schedules/0/jitter: expected a duration";
    QTest::newRow("fractional duration")
        << withSchedule({{"jitter", 1.5}}) << V << "/schedules/0/jitter: expected a duration";
    QTest::newRow("duration over a year") << withSchedule({{"misfire_max_age", "400d"}}) << V
                                          << "/schedules/0/misfire_max_age: expected a duration";
    QTest::newRow("enabled is a string") << withSchedule({{"enabled", "yes"}}) << V
                                         << "/schedules/0/enabled: expected true or false";
    QTest::newRow("unknown schedule field")
        << withSchedule({{"timezone", "UTC"}}) << V
        << "/schedules/0/timezone: unknown field; allowed: cron, tz, overlap, misfire, "
           "misfire_max_age, jitter, enabled";

    // sandbox and approval
    QTest::newRow("bad sandbox tier")
        << agent({{"sandbox", parse(R"({"tier": "docker"})")}}) << V
        << "/sandbox/tier: expected one of \"none\", \"landlock\", \"bwrap\", \"container\", "
           "got string \"docker\"";
    QTest::newRow("tier below default min_tier")
        << agent({{"sandbox", parse(R"({"tier": "none"})")}}) << V
        << "/sandbox/tier: tier \"none\" is below min_tier \"landlock\"";
    QTest::newRow("tier below explicit min_tier")
        << agent({{"sandbox", parse(R"({"tier": "landlock", "min_tier": "bwrap"})")}}) << V
        << "/sandbox/tier: tier \"landlock\" is below min_tier \"bwrap\"";
    QTest::newRow("min_tier above default tier")
        << agent({{"sandbox", parse(R"({"min_tier": "container"})")}}) << V
        << "/sandbox/min_tier: tier \"bwrap\" is below min_tier \"container\"";
    QTest::newRow("bad approval mode")
        << agent({{"approval", parse(R"({"mode": "sometimes"})")}}) << V
        << "/approval/mode: expected one of \"never\", \"writes\", \"always\", got string "
           "\"sometimes\"";
    QTest::newRow("unknown approval field")
        << agent({{"approval", parse(R"({"mode": "never", "timeout": 5})")}}) << V
        << "/approval/timeout: unknown field; allowed: mode";

    // Duplicate keys, which QJsonDocument would silently collapse.
    QTest::newRow("duplicate top-level key")
        << QByteArray("{\"id\": \"t\", \"name\": \"A\", \"prompt\": \"p\",\n"
                      " \"model\": {\"endpoint\": \"e\", \"name\": \"m\"},\n \"name\": \"B\"}")
        << V << "/name: duplicate key (again at line 3, column 2)";
    QTest::newRow("duplicate key in model") << QByteArray(R"({"id": "t", "name": "A", "prompt": "p",
                          "model": {"endpoint": "e", "name": "m", "endpoint": "f"}})")
                                            << V << "/model/endpoint: duplicate key";
    QTest::newRow("duplicate key in limits")
        << agentWith(R"("limits": {"max_steps": 3, "max_steps": 300})") << V
        << "/limits/max_steps: duplicate key";
    QTest::newRow("duplicate key deep in a schema")
        << agentWith(R"("output_schema": {"properties": {"a": {"type": "string", "type": "x"}}})")
        << V << "/output_schema/properties/a/type: duplicate key";
    // QJsonDocument decodes a key's leading U+FEFF away; the duplicate scan must agree.
    QTest::newRow("key differing by a leading U+FEFF")
        << agentWith("\"\xEF\xBB\xBFname\": \"Other\"") << V << "agent.json: /name: duplicate key";
    QTest::newRow("duplicate escaped key")
        << agentWith(R"("tools": {"shell": true, "sh\u0065ll": false})") << V
        << "/tools/shell: duplicate key";

    // Syntax and encoding.
    QTest::newRow("missing comma") << QByteArray("{\n  \"id\": \"t\"\n  \"name\": \"x\"\n}") << P
                                   << "agent.json:3:4: invalid JSON: unterminated object";
    QTest::newRow("trailing comma")
        << QByteArray("{\"id\": \"t\",\n}") << P << "agent.json:2:2: invalid JSON:";
    QTest::newRow("garbage after the object")
        << QByteArray(agent() + "\n}") << P << "agent.json:2:1: invalid JSON: garbage at the end";
    QTest::newRow("unterminated string") << QByteArray("{\"id\": \"t") << P << "agent.json:1:";
    QTest::newRow("empty file") << QByteArray() << P
                                << "agent.json: file is empty; expected a JSON object";
    QTest::newRow("only white space") << QByteArray(" \n\t\n") << P << "agent.json: file is empty";
    QTest::newRow("only a BOM") << QByteArray("\xEF\xBB\xBF") << P << "agent.json: file is empty";
    QTest::newRow("top-level array")
        << QByteArray("[{\"id\": \"t\"}]") << V
        << "agent.json: expected a JSON object describing an agent, got array of 1 item";
    QTest::newRow("top-level string")
        << QByteArray("\"hello\"") << V
        << "agent.json: expected a JSON object describing an agent, got string \"hello\"";
    QTest::newRow("top-level number") << QByteArray("42\n") << V << "got number 42";
    QTest::newRow("invalid UTF-8")
        << QByteArray("{\"id\": \"t\",\n \"name\": \"caf\xE9\"}") << P
        << "agent.json:2:14: invalid UTF-8 (byte 0xe9); agent files must be UTF-8";
    QTest::newRow("overlong UTF-8")
        << QByteArray("{\"id\": \"\xC0\xAF\"}") << P << "agent.json:1:9: invalid UTF-8 (byte 0xc0)";
    QTest::newRow("UTF-8 surrogate") << QByteArray("{\"id\": \"\xED\xA0\x80\"}") << P
                                     << "agent.json:1:9: invalid UTF-8 (byte 0xed)";
    QTest::newRow("truncated UTF-8")
        << QByteArray("{\"id\": \"\xE2\x82") << P << "agent.json:1:9: invalid UTF-8";
    QTest::newRow("bytes over the limit")
        << QByteArray(AgentLoader::MaxFileBytes + 1, ' ') << Error::Code::Io
        << "agent.json: file is too large (1048577 bytes, limit 1048576)";
}

void TestAgentLoader::badBytes()
{
    QFETCH(QByteArray, json);
    QFETCH(Error::Code, code);
    QFETCH(QString, expected);
    const auto r = AgentLoader::loadBytes(json, QStringLiteral("agent.json"), QString());
    QVERIFY2(!r, json.left(300).constData());
    QVERIFY2(r.error().code == code, qPrintable(describeError(r.error())));
    QVERIFY2(r.error().toString().contains(expected), qPrintable(describeError(r.error())));
    if (code == Error::Code::Validation) {
        QVERIFY(r.error().message.startsWith(QStringLiteral("agent.json: ")));
        QVERIFY(r.error().message.contains(QStringLiteral(" in agent definition")));
        QVERIFY(!r.error().details.isEmpty());
        for (const QString& d : r.error().details)
            QVERIFY2(d.startsWith(QStringLiteral("agent.json: ")), qPrintable(d));
    } else {
        QVERIFY(r.error().details.isEmpty());
    }
}

void TestAgentLoader::badFixtures_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<Error::Code>("code");
    QTest::addColumn<QString>("expected");
    const QString bad = fixture(QStringLiteral("bad/"));
    QTest::newRow("prompt file missing")
        << QString(bad + "prompt-file-missing") << Error::Code::Validation
        << QString(bad + "prompt-file-missing/agent.json: /prompt_file: prompt file "
                         "\"missing.md\" does not exist");
    QTest::newRow("prompt file is a directory")
        << QString(bad + "prompt-file-is-dir/agent.json") << Error::Code::Validation
        << "/prompt_file: prompt file \"prompts\" is not a regular file";
    QTest::newRow("prompt file empty")
        << QString(bad + "prompt-file-empty") << Error::Code::Validation
        << "/prompt_file: prompt file \"prompt.md\" is empty";
    QTest::newRow("invalid UTF-8 file")
        << QString(bad + "invalid-utf8.json") << Error::Code::Parse
        << QString(bad + "invalid-utf8.json:3:17: invalid UTF-8 (byte 0xe9)");
    QTest::newRow("syntax error") << QString(bad + "syntax-error.json") << Error::Code::Parse
                                  << QString(bad + "syntax-error.json:4:6: invalid JSON: ");
}

void TestAgentLoader::badFixtures()
{
    QFETCH(QString, path);
    QFETCH(Error::Code, code);
    QFETCH(QString, expected);
    const auto r = AgentLoader::loadPath(path);
    QVERIFY(!r);
    QVERIFY2(r.error().code == code, qPrintable(describeError(r.error())));
    QVERIFY2(r.error().toString().contains(expected), qPrintable(describeError(r.error())));
}

void TestAgentLoader::severalProblemsAllReportedInOrder()
{
    const QString path = fixture(QStringLiteral("bad/several-problems.json"));
    const auto r = AgentLoader::loadPath(path);
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::Validation);
    const QStringList expected = {
        QStringLiteral("/id: expected an agent id"),
        QStringLiteral("/name: expected a non-empty string of at most 200 characters, got "
                       "string \"\""),
        QStringLiteral("/model/endpoint: required field is missing"),
        QStringLiteral("/model/name: required field is missing"),
        QStringLiteral("/model/temperature: expected a number from 0 to 2, got string \"hot\""),
        QStringLiteral("/tools/shell: expected true or false"),
        QStringLiteral("/providers/0/scopez: unknown field"),
        QStringLiteral("/providers/0/authorized_uris/0: expected an authorized URI"),
        QStringLiteral("/limits/max_steps: expected an integer from 1 to 10000, got string \"25\""),
        QStringLiteral("/limits/timeout_s: expected an integer from 1 to 604800, got number 0"),
        QStringLiteral("/schedules/0/cron: expected a cron expression"),
        QStringLiteral("/schedules/0/tz: expected an IANA time zone"),
        QStringLiteral("/schedules/0/jitter: expected a duration"),
        QStringLiteral("/sandbox/tier: tier \"none\" is below min_tier \"landlock\""),
        QStringLiteral("/colour: unknown field"),
    };
    QCOMPARE(r.error().message,
             QStringLiteral("%1: %2 problems in agent definition").arg(path).arg(expected.size()));
    QCOMPARE(r.error().details.size(), expected.size());
    // Reported in document order, so the list reads like the file.
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const QString& d = r.error().details.at(i);
        QVERIFY2(
            d.startsWith(path + QStringLiteral(": ") + expected.at(i)),
            qPrintable(QStringLiteral("#%1: %2\n  expected: %3").arg(i).arg(d, expected.at(i))));
    }
}

void TestAgentLoader::hugeFiles()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString big = tmp.filePath(QStringLiteral("big.json"));
    QByteArray content = agent();
    content.append(QByteArray(AgentLoader::MaxFileBytes, ' '));
    QVERIFY(testsupport::writeFile(big, content));
    auto r = AgentLoader::loadPath(big);
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::Io);
    QCOMPARE(r.error().message, QStringLiteral("%1: file is too large (%2 bytes, limit 1048576)")
                                    .arg(big)
                                    .arg(content.size()));

    // Exactly at the limit is fine.
    content.truncate(AgentLoader::MaxFileBytes);
    QVERIFY(testsupport::writeFile(big, content));
    r = AgentLoader::loadPath(big);
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));

    // The prompt file has the same limit.
    const QString dir = tmp.filePath(QStringLiteral("pkg"));
    QVERIFY(testsupport::writeFile(dir + QStringLiteral("/agent.json"),
                                   agent({{"prompt", QJsonValue()}, {"prompt_file", "p.md"}})));
    QVERIFY(testsupport::writeFile(dir + QStringLiteral("/p.md"),
                                   QByteArray(AgentLoader::MaxFileBytes + 10, 'x')));
    r = AgentLoader::loadPath(dir);
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::Validation);
    QVERIFY2(r.error().toString().contains(
                 QStringLiteral("/prompt_file: prompt file \"p.md\" is too large (1048586 bytes, "
                                "limit 1048576)")),
             qPrintable(r.error().toString()));

    // A prompt file that is not UTF-8.
    QVERIFY(testsupport::writeFile(dir + QStringLiteral("/p.md"), "line one\nna\xEFve\n"));
    r = AgentLoader::loadPath(dir);
    QVERIFY(!r);
    QVERIFY2(r.error().toString().contains(QStringLiteral(
                 "/prompt_file: prompt file \"p.md\" is not valid UTF-8 (line 2, column 3)")),
             qPrintable(r.error().toString()));
}

void TestAgentLoader::missingPaths()
{
    QTemporaryDir tmp;
    const QString missing = tmp.filePath(QStringLiteral("nope.json"));
    auto r = AgentLoader::loadPath(missing);
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::Io);
    QCOMPARE(r.error().message, missing + QStringLiteral(": no such file or directory"));

    r = AgentLoader::loadPath(tmp.path());
    QVERIFY(!r);
    QCOMPARE(r.error().code, Error::Code::Io);
    QCOMPARE(r.error().message, tmp.path() + QStringLiteral(": directory has no agent.json"));
}

void TestAgentLoader::diagnosticToString()
{
    QCOMPARE((Diagnostic{QStringLiteral("a.json"), QStringLiteral("/x/0"), QStringLiteral("m")})
                 .toString(),
             QStringLiteral("a.json: /x/0: m"));
    QCOMPARE((Diagnostic{QStringLiteral("a.json"), QString(), QStringLiteral("m")}).toString(),
             QStringLiteral("a.json: m"));
}

void TestAgentLoader::examplesLoad()
{
    const auto triage = AgentLoader::loadPath(example(QStringLiteral("inbox-triage")));
    QVERIFY2(triage, triage ? "" : qPrintable(triage.error().toString()));
    const AgentDefinition& t = triage->definition;
    QCOMPARE(t.id, QStringLiteral("inbox-triage"));
    QCOMPARE(t.name, QStringLiteral("Inbox triage"));
    QCOMPARE(t.version, QStringLiteral("1.0.0"));
    QVERIFY(t.prompt.startsWith(QStringLiteral("You triage the user's work inbox.")));
    QCOMPARE(t.model.endpoint, QStringLiteral("local"));
    QCOMPARE(t.model.name, QStringLiteral("llama3.1"));
    QCOMPARE(t.model.temperature, std::optional<double>(0.0));
    QCOMPARE(t.providers.size(), 1);
    QCOMPARE(t.providers[0].provider, QStringLiteral("gmail"));
    QCOMPARE(t.providers[0].connection, QStringLiteral("work"));
    QCOMPARE(t.providers[0].operations, QStringList{QStringLiteral("search_messages")});
    QCOMPARE(t.providers[0].authorizedUris,
             QStringList{QStringLiteral("https://gmail.googleapis.com/gmail/v1/users/me/**")});
    QCOMPARE(t.limits.maxSteps, 25);
    QCOMPARE(t.limits.timeoutS, 900);
    QCOMPARE(t.limits.maxCostUsd, std::optional<double>(0.5));
    QVERIFY(t.outputSchema.isObject());
    QCOMPARE(t.schedules.size(), 1);
    QCOMPARE(t.schedules[0].cron, QStringLiteral("*/15 8-18 * * 1-5"));
    QCOMPARE(t.schedules[0].tz, QStringLiteral("Europe/Paris"));
    QVERIFY(triage->warnings.isEmpty()); // no references given, nothing to warn about

    // The example from the design brief, verbatim, also loads.
    QTemporaryDir tmp;
    QVERIFY(QFile::copy(example(QStringLiteral("inbox-triage/prompt.md")),
                        tmp.filePath(QStringLiteral("prompt.md"))));
    const QByteArray brief =
        R"({"id": "inbox-triage", "name": "Inbox triage", "prompt_file": "prompt.md",
 "model": {"endpoint": "local", "name": "llama3.1", "temperature": 0},
 "tools": {"memory": true, "files": true, "shell": false},
 "providers": [{"provider": "gmail", "connection": "work",
                "operations": ["search_messages"],
                "authorized_uris": ["https://gmail.googleapis.com/gmail/v1/users/me/**"]}],
 "limits": {"max_steps": 25, "timeout_s": 900, "max_cost_usd": 0.5},
 "output_schema": {"type": "object"},
 "schedules": [{"cron": "*/15 8-18 * * 1-5", "tz": "Europe/Paris"}]})";
    const auto b =
        AgentLoader::loadBytes(brief, QStringLiteral("brief.json"), tmp.path(),
                               KnownReferences{QSet<QString>{}, QSet<QString>{}, QSet<QString>{}});
    QVERIFY2(b, b ? "" : qPrintable(b.error().toString()));
    QCOMPARE(b->warnings.size(), 3);

    const auto digest = AgentLoader::loadPath(example(QStringLiteral("daily-digest.json")));
    QVERIFY2(digest, digest ? "" : qPrintable(digest.error().toString()));
    const AgentDefinition& d = digest->definition;
    QCOMPARE(d.id, QStringLiteral("daily-digest"));
    QVERIFY(d.prompt.contains(QStringLiteral("daily digest")));
    QCOMPARE(d.model.maxTokens, std::optional<int>(4000));
    QCOMPARE(d.limits.maxTokens, std::optional<qint64>(200000));
    QCOMPARE(d.schedules[0].misfireMaxAgeS, std::optional<int>(7200));
    QCOMPARE(d.schedules[0].jitterS, std::optional<int>(300));
    QVERIFY(d.providers.isEmpty());
}

void TestAgentLoader::directoryAgentFixture()
{
    const auto r = AgentLoader::loadPath(fixture(QStringLiteral("good/directory-agent")));
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));
    const AgentDefinition& d = r->definition;
    QFile prompt(fixture(QStringLiteral("good/directory-agent/prompt.md")));
    QVERIFY(prompt.open(QIODevice::ReadOnly));
    QCOMPARE(d.prompt, QString::fromUtf8(prompt.readAll()));
    QCOMPARE(d.model.topP, std::optional<double>(0.9));
    QCOMPARE(d.model.maxTokens, std::optional<int>(2048));
    QCOMPARE(d.tools.memory, true);
    QCOMPARE(d.tools.files, true);
    QCOMPARE(d.tools.shell, true);
    QCOMPARE(d.providers[0].connection, QString());
    QCOMPARE(d.providers[0].authorizedUris.size(), 3);
    QCOMPARE(d.limits.maxSteps, 10);
    QCOMPARE(d.limits.maxTokens, std::optional<qint64>(50000));
    QCOMPARE(d.outputSchema, QJsonValue(true));
    QCOMPARE(d.schedules[0].overlap, QStringLiteral("queue_one"));
    QCOMPARE(d.schedules[0].misfire, QStringLiteral("skip"));
    QCOMPARE(d.schedules[0].jitterS, std::optional<int>(30));
    QCOMPARE(d.schedules[0].enabled, false);
    QCOMPARE(d.sandbox.tier, QStringLiteral("container"));
    QCOMPARE(d.sandbox.minTier, QStringLiteral("bwrap"));
    QCOMPARE(d.approval.mode, QStringLiteral("always"));
    // Approvals are not built: the loader says runs will fail rather than run unapproved.
    bool warned = false;
    for (const auto& w : r->warnings)
        warned = warned || (w.pointer == QStringLiteral("/approval/mode") &&
                            w.message.contains(QStringLiteral("not supported")));
    QVERIFY(warned);
}

void TestAgentLoader::bomIsStripped()
{
    const auto r = AgentLoader::loadPath(fixture(QStringLiteral("good/with-bom.json")));
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));
    QCOMPARE(r->definition.id, QStringLiteral("with-bom"));
}

void TestAgentLoader::warnings()
{
    const QString path = example(QStringLiteral("inbox-triage"));
    const QString label = path + QStringLiteral("/agent.json");
    KnownReferences empty{QSet<QString>{}, QSet<QString>{}, QSet<QString>{}};
    auto r = AgentLoader::loadPath(path, empty);
    QVERIFY(r);
    QCOMPARE(r->warnings.size(), 3);
    QCOMPARE(r->warnings[0].file, label);
    QCOMPARE(r->warnings[0].pointer, QStringLiteral("/model/endpoint"));
    QCOMPARE(r->warnings[0].toString(),
             label + QStringLiteral(": /model/endpoint: model endpoint \"local\" is not "
                                    "configured on this machine (add it with: vivarium model add "
                                    "local ...); runs fail until it exists"));
    QCOMPARE(r->warnings[1].pointer, QStringLiteral("/providers/0/provider"));
    QVERIFY(r->warnings[1].message.startsWith(
        QStringLiteral("provider \"gmail\" is not in this machine's provider catalog")));
    QCOMPARE(r->warnings[2].pointer, QStringLiteral("/providers/0/connection"));
    QVERIFY(r->warnings[2].message.startsWith(
        QStringLiteral("connection \"work\" of provider \"gmail\" does not exist")));

    KnownReferences known{QSet<QString>{QStringLiteral("local")},
                          QSet<QString>{QStringLiteral("gmail")},
                          QSet<QString>{QStringLiteral("work")}};
    r = AgentLoader::loadPath(path, known);
    QVERIFY(r);
    QVERIFY(r->warnings.isEmpty());

    // A connection may also be known by its qualified name.
    known.connections = QSet<QString>{QStringLiteral("gmail/work")};
    r = AgentLoader::loadPath(path, known);
    QVERIFY(r);
    QVERIFY(r->warnings.isEmpty());

    // Only the kinds that are known are checked.
    KnownReferences partial;
    partial.providers = QSet<QString>{};
    r = AgentLoader::loadPath(path, partial);
    QVERIFY(r);
    QCOMPARE(r->warnings.size(), 1);
    QCOMPARE(r->warnings[0].pointer, QStringLiteral("/providers/0/provider"));

    // A grant without a connection has nothing to check on that side.
    const auto noConn = AgentLoader::loadBytes(withProvider(provider()), QStringLiteral("a.json"),
                                               QString(), empty);
    QVERIFY(noConn);
    QCOMPARE(noConn->warnings.size(), 2);
}

void TestAgentLoader::defaults()
{
    const auto r = AgentLoader::loadPath(fixture(QStringLiteral("good/minimal.json")));
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));
    const AgentDefinition& d = r->definition;
    QCOMPARE(d.description, QString());
    QCOMPARE(d.version, QString());
    QCOMPARE(d.prompt, QStringLiteral("Say hello."));
    QVERIFY(!d.model.temperature);
    QVERIFY(!d.model.topP);
    QVERIFY(!d.model.maxTokens);
    QCOMPARE(d.tools.memory, true);
    QCOMPARE(d.tools.files, true);
    QCOMPARE(d.tools.shell, false);
    QVERIFY(d.providers.isEmpty());
    QCOMPARE(d.limits.maxSteps, 25);
    QCOMPARE(d.limits.timeoutS, 900);
    QVERIFY(!d.limits.maxTokens);
    QVERIFY(!d.limits.maxCostUsd);
    QVERIFY(d.outputSchema.isUndefined());
    QVERIFY(d.schedules.isEmpty());
    QCOMPARE(d.sandbox.tier, QStringLiteral("bwrap"));
    QCOMPARE(d.sandbox.minTier, QStringLiteral("landlock"));
    QCOMPARE(d.approval.mode, QStringLiteral("never"));

    const auto s = AgentLoader::loadBytes(withSchedule({}), QStringLiteral("s.json"), QString());
    QVERIFY(s);
    const ScheduleSpec& spec = s->definition.schedules.at(0);
    QCOMPARE(spec.tz, QString());
    QCOMPARE(spec.overlap, QStringLiteral("skip"));
    QCOMPARE(spec.misfire, QStringLiteral("run_once"));
    QVERIFY(!spec.misfireMaxAgeS);
    QVERIFY(!spec.jitterS);
    QCOMPARE(spec.enabled, true);
}

void TestAgentLoader::versions()
{
    for (const char* v : {"0.0.1", "1.2.3", "10.20.30-rc.1", "1.0.0-alpha-a.b-c+build.1-aef"}) {
        const auto r = AgentLoader::loadBytes(agent({{QStringLiteral("version"), v}}),
                                              QStringLiteral("v.json"), QString());
        QVERIFY2(r, v);
        QCOMPARE(r->definition.version, QString::fromLatin1(v));
    }
}

void TestAgentLoader::integralNumbers()
{
    const auto r = AgentLoader::loadBytes(
        agentWith(
            R"("limits": {"max_steps": 25.0, "timeout_s": 1e2, "max_tokens": 9007199254740992})"),
        QStringLiteral("n.json"), QString());
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));
    QCOMPARE(r->definition.limits.maxSteps, 25);
    QCOMPARE(r->definition.limits.timeoutS, 100);
    QCOMPARE(r->definition.limits.maxTokens, std::optional<qint64>(9007199254740992LL));
}

void TestAgentLoader::durations_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<int>("seconds");
    QTest::newRow("90s") << QJsonValue(QStringLiteral("90s")) << 90;
    QTest::newRow("15m") << QJsonValue(QStringLiteral("15m")) << 900;
    QTest::newRow("1h") << QJsonValue(QStringLiteral("1h")) << 3600;
    QTest::newRow("1h30m") << QJsonValue(QStringLiteral("1h30m")) << 5400;
    QTest::newRow("1d2h3m4s") << QJsonValue(QStringLiteral("1d2h3m4s")) << 93784;
    QTest::newRow("integer") << QJsonValue(45) << 45;
    QTest::newRow("zero") << QJsonValue(0) << 0;
    QTest::newRow("integral double") << QJsonValue(60.0) << 60;
}

void TestAgentLoader::durations()
{
    QFETCH(QJsonValue, value);
    QFETCH(int, seconds);
    const auto r =
        AgentLoader::loadBytes(withSchedule({{QStringLiteral("jitter"), value},
                                             {QStringLiteral("misfire_max_age"), value}}),
                               QStringLiteral("d.json"), QString());
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));
    QCOMPARE(r->definition.schedules[0].jitterS, std::optional<int>(seconds));
    QCOMPARE(r->definition.schedules[0].misfireMaxAgeS, std::optional<int>(seconds));
}

void TestAgentLoader::roundTrip_data()
{
    QTest::addColumn<QString>("path");
    QTest::newRow("inbox-triage") << example(QStringLiteral("inbox-triage"));
    QTest::newRow("daily-digest") << example(QStringLiteral("daily-digest.json"));
    QTest::newRow("minimal") << fixture(QStringLiteral("good/minimal.json"));
    QTest::newRow("directory-agent") << fixture(QStringLiteral("good/directory-agent"));
}

void TestAgentLoader::roundTrip()
{
    QFETCH(QString, path);
    const auto original = AgentLoader::loadPath(path);
    QVERIFY2(original, original ? "" : qPrintable(original.error().toString()));
    const QJsonObject canonical = original->definition.toJson();
    for (const auto format : {QJsonDocument::Compact, QJsonDocument::Indented}) {
        const QByteArray bytes = QJsonDocument(canonical).toJson(format);
        const auto again =
            AgentLoader::loadBytes(bytes, QStringLiteral("canonical.json"), QString());
        QVERIFY2(again, again ? "" : qPrintable(again.error().toString()));
        compareDefinitions(again->definition, original->definition);
        if (QTest::currentTestFailed())
            return;
        // Stable bytes: the store hashes them to notice changes.
        QCOMPARE(QJsonDocument(again->definition.toJson()).toJson(QJsonDocument::Compact),
                 QJsonDocument(canonical).toJson(QJsonDocument::Compact));
    }
}

void TestAgentLoader::canonicalJsonShape()
{
    const auto minimal = AgentLoader::loadPath(fixture(QStringLiteral("good/minimal.json")));
    QVERIFY(minimal);
    QCOMPARE(QJsonDocument(minimal->definition.toJson()).toJson(QJsonDocument::Compact),
             QByteArray(R"({"approval":{"mode":"never"},"id":"minimal",)"
                        R"("limits":{"max_steps":25,"timeout_s":900},)"
                        R"("model":{"endpoint":"local","name":"llama3.1"},"name":"Minimal agent",)"
                        R"("prompt":"Say hello.","sandbox":{"min_tier":"landlock","tier":"bwrap"},)"
                        R"("tools":{"files":true,"memory":true,"shell":false}})"));

    const auto digest = AgentLoader::loadPath(example(QStringLiteral("daily-digest.json")));
    QVERIFY(digest);
    const QJsonObject j = digest->definition.toJson();
    const QJsonObject schedule = j.value(QStringLiteral("schedules")).toArray().at(0).toObject();
    QCOMPARE(schedule.value(QStringLiteral("misfire_max_age")), QJsonValue(7200));
    QCOMPARE(schedule.value(QStringLiteral("jitter")), QJsonValue(300));
    QCOMPARE(schedule.value(QStringLiteral("overlap")), QJsonValue(QStringLiteral("skip")));
    QCOMPARE(schedule.value(QStringLiteral("enabled")), QJsonValue(true));
    QVERIFY(!j.contains(QStringLiteral("prompt_file")));
    QVERIFY(j.value(QStringLiteral("prompt")).toString().startsWith(QStringLiteral("You write")));
}

void TestAgentLoader::exportToDirectory()
{
    const auto original = AgentLoader::loadPath(fixture(QStringLiteral("good/directory-agent")));
    QVERIFY(original);
    QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("out/directory-agent"));
    const auto s = exportAgent(original->definition, dir);
    QVERIFY2(s, s ? "" : qPrintable(s.error().toString()));

    QFile prompt(dir + QStringLiteral("/prompt.md"));
    QVERIFY(prompt.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(prompt.readAll()), original->definition.prompt);
    QFile manifest(dir + QStringLiteral("/agent.json"));
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    const QByteArray text = manifest.readAll();
    const QJsonObject o = QJsonDocument::fromJson(text).object();
    QCOMPARE(o.value(QStringLiteral("prompt_file")).toString(), QStringLiteral("prompt.md"));
    QVERIFY(!o.contains(QStringLiteral("prompt")));
    QVERIFY2(text.startsWith("{\n    \"id\": \"directory-agent\",\n    \"name\": "),
             text.constData());

    const auto back = AgentLoader::loadPath(dir);
    QVERIFY2(back, back ? "" : qPrintable(back.error().toString()));
    compareDefinitions(back->definition, original->definition);
}

void TestAgentLoader::exportKeepsPromptBytes()
{
    // Line endings, trailing white space and even a leading U+FEFF survive both package forms.
    const QString prompt =
        QStringLiteral("\uFEFFFirst line\r\nSecond line  \n\n\"quoted\" \\ tab\t\n");
    const auto r = AgentLoader::loadBytes(agent({{QStringLiteral("prompt"), prompt}}),
                                          QStringLiteral("p.json"), QString());
    QVERIFY2(r, r ? "" : qPrintable(r.error().toString()));
    QCOMPARE(r->definition.prompt, prompt);
    QTemporaryDir tmp;
    for (const QString& target :
         {tmp.filePath(QStringLiteral("dir")), tmp.filePath(QStringLiteral("f.json"))}) {
        QVERIFY(exportAgent(r->definition, target));
        const auto back = AgentLoader::loadPath(target);
        QVERIFY2(back, back ? "" : qPrintable(back.error().toString()));
        QCOMPARE(back->definition.prompt, prompt);
    }
}

void TestAgentLoader::exportToJsonFile()
{
    const auto original = AgentLoader::loadPath(example(QStringLiteral("inbox-triage")));
    QVERIFY(original);
    QTemporaryDir tmp;
    const QString file = tmp.filePath(QStringLiteral("nested/triage.json"));
    const auto s = exportAgent(original->definition, file);
    QVERIFY2(s, s ? "" : qPrintable(s.error().toString()));
    QVERIFY(!QFileInfo::exists(tmp.filePath(QStringLiteral("nested/prompt.md"))));
    const auto back = AgentLoader::loadPath(file);
    QVERIFY2(back, back ? "" : qPrintable(back.error().toString()));
    compareDefinitions(back->definition, original->definition);
}

void TestAgentLoader::exportRefusesOverwrite()
{
    const auto original = AgentLoader::loadPath(example(QStringLiteral("daily-digest.json")));
    QVERIFY(original);
    QTemporaryDir tmp;

    const QString file = tmp.filePath(QStringLiteral("digest.json"));
    QVERIFY(exportAgent(original->definition, file));
    auto s = exportAgent(original->definition, file);
    QVERIFY(!s);
    QCOMPARE(s.error().code, Error::Code::Conflict);
    QVERIFY2(s.error().message.contains(file), qPrintable(s.error().message));
    AgentDefinition changed = original->definition;
    changed.name = QStringLiteral("Renamed");
    QVERIFY(exportAgent(changed, file, true));
    const auto back = AgentLoader::loadPath(file);
    QVERIFY(back);
    QCOMPARE(back->definition.name, QStringLiteral("Renamed"));

    // In a directory package either file existing blocks the export.
    const QString dir = tmp.filePath(QStringLiteral("pkg"));
    QVERIFY(testsupport::writeFile(dir + QStringLiteral("/prompt.md"), "keep me"));
    s = exportAgent(original->definition, dir);
    QVERIFY(!s);
    QCOMPARE(s.error().code, Error::Code::Conflict);
    QVERIFY2(s.error().message.contains(dir + QStringLiteral("/prompt.md")),
             qPrintable(s.error().message));
    QVERIFY(!QFileInfo::exists(dir + QStringLiteral("/agent.json")));
    QVERIFY(exportAgent(original->definition, dir, true));
    const auto pkg = AgentLoader::loadPath(dir);
    QVERIFY(pkg);
    compareDefinitions(pkg->definition, original->definition);
}

void TestAgentLoader::exportRejectsInvalidDefinition()
{
    AgentDefinition def; // no id, no name, no prompt, no model
    QTemporaryDir tmp;
    const QString file = tmp.filePath(QStringLiteral("bad.json"));
    const auto s = exportAgent(def, file);
    QVERIFY(!s);
    QCOMPARE(s.error().code, Error::Code::Validation);
    QVERIFY(!QFileInfo::exists(file));
}

QTEST_GUILESS_MAIN(TestAgentLoader)
#include "tst_AgentLoader.moc"
