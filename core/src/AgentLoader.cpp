// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Logging.h"

#include "JsonText.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStringDecoder>
#include <QTimeZone>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

namespace vivarium {

namespace {

using jsontext::child;
using jsontext::describe;

const QString kAgentFileName = QStringLiteral("agent.json");
const QString kPromptFileName = QStringLiteral("prompt.md");

// Past 2^53 doubles stop being exact integers; nothing legitimate needs more.
constexpr double kMaxExactInteger = 9007199254740992.0;
// Durations beyond a year are certainly a typo (e.g. seconds where minutes were meant).
constexpr qint64 kMaxDurationS = 366LL * 24 * 3600;

const QStringList kTiers = {QStringLiteral("none"), QStringLiteral("landlock"),
                            QStringLiteral("bwrap"), QStringLiteral("container")};

QString quoteList(const QStringList& items)
{
    QStringList quoted;
    for (const QString& s : items)
        quoted << QLatin1Char('"') + s + QLatin1Char('"');
    return quoted.join(QStringLiteral(", "));
}

QString fileTooLarge(const QString& label, qint64 size)
{
    return QStringLiteral("%1: file is too large (%2 bytes, limit %3)")
        .arg(label)
        .arg(size)
        .arg(AgentLoader::MaxFileBytes);
}

/** Levenshtein distance, or 3 (no match) when the lengths alone rule out a near miss. */
int editDistance(const QString& a, const QString& b)
{
    // Unknown keys can be attacker-sized and numerous: only compare plausible typos.
    if (a.size() > 64 || b.size() > 64 || std::abs(a.size() - b.size()) > 2)
        return 3;
    std::array<int, 65> prev{};
    std::array<int, 65> cur{};
    for (qsizetype j = 0; j <= b.size(); ++j)
        prev[size_t(j)] = int(j);
    for (qsizetype i = 1; i <= a.size(); ++i) {
        cur[0] = int(i);
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const int subst = prev[size_t(j - 1)] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[size_t(j)] = std::min({prev[size_t(j)] + 1, cur[size_t(j - 1)] + 1, subst});
        }
        prev = cur;
    }
    return prev[size_t(b.size())];
}

/** Why an authorized URI pattern is malformed, or an empty string if it is fine. */
QString uriPatternProblem(QString s)
{
    static const QStringList methods = {QStringLiteral("GET"),     QStringLiteral("HEAD"),
                                        QStringLiteral("POST"),    QStringLiteral("PUT"),
                                        QStringLiteral("PATCH"),   QStringLiteral("DELETE"),
                                        QStringLiteral("OPTIONS"), QStringLiteral("*")};
    if (s.startsWith(QLatin1Char('!')))
        s = s.mid(1);
    const qsizetype space = s.indexOf(QLatin1Char(' '));
    if (space >= 0) {
        if (!methods.contains(s.left(space)))
            return QStringLiteral("the method must be one of GET, HEAD, POST, PUT, PATCH, "
                                  "DELETE, OPTIONS or *");
        s = s.mid(space + 1);
    }
    if (s.isEmpty())
        return QStringLiteral("it is empty");
    for (const QChar c : std::as_const(s)) {
        if (c.isSpace())
            return QStringLiteral("it contains white space");
    }
    const qsizetype sep = s.indexOf(QStringLiteral("://"));
    if (sep < 0)
        return QStringLiteral("the scheme is missing (start with https://)");
    const QString scheme = s.left(sep);
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return QStringLiteral("the scheme must be http or https");
    const QString rest = s.mid(sep + 3);
    if (rest.contains(QLatin1Char('#')))
        return QStringLiteral("fragments (#...) are not allowed");
    const qsizetype slash = rest.indexOf(QLatin1Char('/'));
    const QString authority = slash < 0 ? rest : rest.left(slash);
    if (authority.contains(QLatin1Char('@')))
        return QStringLiteral("user info (user@) is not allowed; credentials belong in "
                              "connections");
    QString host = authority;
    QString port;
    if (authority.startsWith(QLatin1Char('['))) {
        const qsizetype close = authority.indexOf(QLatin1Char(']'));
        if (close < 0)
            return QStringLiteral("the IPv6 host is missing its closing \"]\"");
        host = authority.mid(1, close - 1);
        const QString after = authority.mid(close + 1);
        if (!after.isEmpty() && !after.startsWith(QLatin1Char(':')))
            return QStringLiteral("unexpected text after the IPv6 host");
        port = after.mid(1);
        static const QRegularExpression v6(QStringLiteral("\\A[0-9A-Fa-f:.]+\\z"));
        if (!host.isEmpty() && !v6.match(host).hasMatch())
            return QStringLiteral("the IPv6 host is malformed");
        if (!after.isEmpty() && port.isEmpty())
            return QStringLiteral("the port is empty");
    } else {
        const qsizetype colon = authority.lastIndexOf(QLatin1Char(':'));
        if (colon >= 0) {
            host = authority.left(colon);
            port = authority.mid(colon + 1);
            if (port.isEmpty())
                return QStringLiteral("the port is empty");
        }
        static const QRegularExpression name(QStringLiteral("\\A[A-Za-z0-9*._-]+\\z"));
        if (!host.isEmpty() && !name.match(host).hasMatch())
            return QStringLiteral("the host contains characters that are not allowed");
    }
    if (host.isEmpty())
        return QStringLiteral("the host is missing");
    if (!port.isEmpty()) {
        bool ok = false;
        const int p = port.toInt(&ok);
        if (!ok || p < 1 || p > 65535 || !port.front().isDigit())
            return QStringLiteral("the port must be a number from 1 to 65535");
    }
    if (slash < 0)
        return QStringLiteral("the path is missing (end with \"/**\" to allow every path)");
    return {};
}

bool isCronShape(const QString& cron)
{
    static const QStringList macros = {QStringLiteral("@yearly"),  QStringLiteral("@annually"),
                                       QStringLiteral("@monthly"), QStringLiteral("@weekly"),
                                       QStringLiteral("@daily"),   QStringLiteral("@midnight"),
                                       QStringLiteral("@hourly"),  QStringLiteral("@reboot")};
    const QString t = cron.trimmed();
    if (t.startsWith(QLatin1Char('@')))
        return macros.contains(t);
    static const QRegularExpression ws(QStringLiteral("\\s+"));
    const qsizetype fields = t.split(ws, Qt::SkipEmptyParts).size();
    return fields == 5 || fields == 6;
}

/** Seconds in "90s", "15m", "1h30m", "2d"; nullopt if malformed or beyond a year. */
std::optional<qint64> parseDuration(const QString& s)
{
    static const QRegularExpression re(
        QStringLiteral("\\A(?:(\\d{1,9})d)?(?:(\\d{1,9})h)?(?:(\\d{1,9})m)?(?:(\\d{1,9})s)?\\z"));
    if (s.isEmpty())
        return std::nullopt;
    const QRegularExpressionMatch m = re.match(s);
    if (!m.hasMatch())
        return std::nullopt;
    const qint64 units[] = {86400, 3600, 60, 1};
    qint64 total = 0;
    for (int i = 0; i < 4; ++i)
        total += m.captured(i + 1).toLongLong() * units[i];
    if (total > kMaxDurationS)
        return std::nullopt;
    return total;
}

/** One diagnostic plus where it sits in the document, for reporting in reading order. */
struct Pending
{
    Diagnostic diagnostic;
    qsizetype order = 0;
};

/**
 * Walks the parsed document field by field, filling an AgentDefinition and collecting every
 * problem rather than stopping at the first: a user fixing a file wants the whole list.
 */
class Validator
{
public:
    Validator(QString file, QString baseDir, const KnownReferences& refs,
              const jsontext::Scan& scan)
        : m_file(std::move(file))
        , m_baseDir(std::move(baseDir))
        , m_refs(refs)
        , m_scan(scan)
    {}

    void run(const QJsonObject& root);

    const AgentDefinition& definition() const { return m_def; }
    QList<Diagnostic> errors() const { return sorted(m_errors); }
    QList<Diagnostic> warnings() const { return sorted(m_warnings); }
    void error(const QString& ptr, const QString& message) { add(m_errors, ptr, message); }

private:
    void add(QList<Pending>& list, const QString& ptr, const QString& message)
    {
        list.append({Diagnostic{m_file, ptr, message}, m_scan.orderOf(ptr)});
    }
    static QList<Diagnostic> sorted(QList<Pending> list)
    {
        std::stable_sort(list.begin(), list.end(),
                         [](const Pending& a, const Pending& b) { return a.order < b.order; });
        QList<Diagnostic> out;
        for (const Pending& p : list)
            out.append(p.diagnostic);
        return out;
    }
    void warn(const QString& ptr, const QString& message) { add(m_warnings, ptr, message); }
    void expected(const QString& ptr, const QString& what, const QJsonValue& got)
    {
        error(ptr, QStringLiteral("expected ") + what + QStringLiteral(", got ") + describe(got));
    }
    void missing(const QString& ptr, const QString& what)
    {
        error(ptr,
              QStringLiteral("required field is missing (expected ") + what + QLatin1Char(')'));
    }

    // Typed readers: each reports its own problem and returns nullopt on failure.
    std::optional<QJsonObject> object(const QString& ptr, const QJsonValue& v,
                                      const QStringList& allowed);
    std::optional<QJsonArray> array(const QString& ptr, const QJsonValue& v, const QString& of);
    std::optional<QString> string(const QString& ptr, const QJsonValue& v, bool nonEmpty);
    std::optional<QString> oneOf(const QString& ptr, const QJsonValue& v,
                                 const QStringList& choices);
    std::optional<bool> boolean(const QString& ptr, const QJsonValue& v);
    std::optional<qint64> integer(const QString& ptr, const QJsonValue& v, qint64 min,
                                  std::optional<qint64> max);
    std::optional<double> number(const QString& ptr, const QJsonValue& v, double min,
                                 std::optional<double> max);
    std::optional<int> duration(const QString& ptr, const QJsonValue& v);

    void readPrompt(const QJsonObject& root);
    std::optional<QString> readPromptFile(const QString& ptr, const QString& relative);
    void readModel(const QJsonValue& v);
    void readTools(const QJsonValue& v);
    void readProviders(const QJsonValue& v);
    void readLimits(const QJsonValue& v);
    void readSchedules(const QJsonValue& v);
    void readSandbox(const QJsonValue& v);
    void readApproval(const QJsonValue& v);
    void checkSchema(const QString& ptr, const QJsonValue& v);
    void checkReferences();

    QString m_file;
    QString m_baseDir;
    const KnownReferences& m_refs;
    const jsontext::Scan& m_scan;
    AgentDefinition m_def;
    QList<Pending> m_errors;
    QList<Pending> m_warnings;
    int m_suggestionBudget = 20;
};

std::optional<QJsonObject> Validator::object(const QString& ptr, const QJsonValue& v,
                                             const QStringList& allowed)
{
    if (!v.isObject()) {
        expected(ptr, QStringLiteral("an object"), v);
        return std::nullopt;
    }
    const QJsonObject o = v.toObject();
    const QString unknown =
        QStringLiteral("unknown field; allowed: ") + allowed.join(QStringLiteral(", "));
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (allowed.contains(it.key()))
            continue;
        QString message = unknown;
        // A near miss is almost always a typo: say which field was probably meant (for the
        // first few only: a file of thousands of unknown keys is not a typo).
        for (const QString& candidate : m_suggestionBudget-- > 0 ? allowed : QStringList()) {
            if (candidate.size() > 2 && editDistance(it.key(), candidate) <= 2) {
                message += QStringLiteral(" (did you mean \"") + candidate + QStringLiteral("\"?)");
                break;
            }
        }
        error(child(ptr, it.key()), message);
    }
    return o;
}

std::optional<QJsonArray> Validator::array(const QString& ptr, const QJsonValue& v,
                                           const QString& of)
{
    if (!v.isArray()) {
        expected(ptr, QStringLiteral("an array of ") + of, v);
        return std::nullopt;
    }
    return v.toArray();
}

std::optional<QString> Validator::string(const QString& ptr, const QJsonValue& v, bool nonEmpty)
{
    if (!v.isString() || (nonEmpty && v.toString().trimmed().isEmpty())) {
        expected(ptr, nonEmpty ? QStringLiteral("a non-empty string") : QStringLiteral("a string"),
                 v);
        return std::nullopt;
    }
    return v.toString();
}

std::optional<QString> Validator::oneOf(const QString& ptr, const QJsonValue& v,
                                        const QStringList& choices)
{
    if (!v.isString() || !choices.contains(v.toString())) {
        expected(ptr, QStringLiteral("one of ") + quoteList(choices), v);
        return std::nullopt;
    }
    return v.toString();
}

std::optional<bool> Validator::boolean(const QString& ptr, const QJsonValue& v)
{
    if (!v.isBool()) {
        expected(ptr, QStringLiteral("true or false"), v);
        return std::nullopt;
    }
    return v.toBool();
}

std::optional<qint64> Validator::integer(const QString& ptr, const QJsonValue& v, qint64 min,
                                         std::optional<qint64> max)
{
    const QString what = max ? QStringLiteral("an integer from %1 to %2").arg(min).arg(*max)
                             : QStringLiteral("an integer >= %1").arg(min);
    // isDouble() is false for booleans and strings, so "25" and true are refused here.
    const double d = v.toDouble();
    if (!v.isDouble() || !std::isfinite(d) || d != std::trunc(d) || d < double(min) ||
        d > (max ? double(*max) : kMaxExactInteger)) {
        expected(ptr, what, v);
        return std::nullopt;
    }
    return v.toInteger();
}

std::optional<double> Validator::number(const QString& ptr, const QJsonValue& v, double min,
                                        std::optional<double> max)
{
    const QString what = max ? QStringLiteral("a number from %1 to %2").arg(min).arg(*max)
                             : QStringLiteral("a number >= %1").arg(min);
    const double d = v.toDouble();
    if (!v.isDouble() || !std::isfinite(d) || d < min || (max && d > *max)) {
        expected(ptr, what, v);
        return std::nullopt;
    }
    return d;
}

std::optional<int> Validator::duration(const QString& ptr, const QJsonValue& v)
{
    std::optional<qint64> seconds;
    if (v.isString())
        seconds = parseDuration(v.toString());
    else if (v.isDouble() && v.toDouble() == std::trunc(v.toDouble()) && v.toDouble() >= 0 &&
             v.toDouble() <= double(kMaxDurationS))
        seconds = v.toInteger();
    if (!seconds) {
        expected(ptr,
                 QStringLiteral("a duration such as \"90s\", \"15m\" or \"1h30m\", or whole "
                                "seconds from 0 to %1")
                     .arg(kMaxDurationS),
                 v);
        return std::nullopt;
    }
    return int(*seconds);
}

void Validator::run(const QJsonObject& root)
{
    m_def.outputSchema = QJsonValue(QJsonValue::Undefined); // the member defaults to null
    static const QStringList allowed = {
        QStringLiteral("$schema"),     QStringLiteral("id"),      QStringLiteral("name"),
        QStringLiteral("description"), QStringLiteral("version"), QStringLiteral("prompt"),
        QStringLiteral("prompt_file"), QStringLiteral("model"),   QStringLiteral("tools"),
        QStringLiteral("providers"),   QStringLiteral("limits"),  QStringLiteral("output_schema"),
        QStringLiteral("schedules"),   QStringLiteral("sandbox"), QStringLiteral("approval")};
    object(QString(), root, allowed);

    if (root.contains(QStringLiteral("$schema")))
        string(QStringLiteral("/$schema"), root.value(QStringLiteral("$schema")), false);

    const QJsonValue id = root.value(QStringLiteral("id"));
    const QString idWhat = QStringLiteral(
        "an agent id (lowercase letters, digits, \"-\" and \"_\", starting with a letter or "
        "digit, at most 64 characters)");
    if (id.isUndefined())
        missing(QStringLiteral("/id"), idWhat);
    else if (!id.isString() || !AgentLoader::isValidId(id.toString()))
        expected(QStringLiteral("/id"), idWhat, id);
    else
        m_def.id = id.toString();

    const QJsonValue name = root.value(QStringLiteral("name"));
    const QString nameWhat = QStringLiteral("a non-empty string of at most 200 characters");
    if (name.isUndefined())
        missing(QStringLiteral("/name"), nameWhat);
    else if (!name.isString() || name.toString().trimmed().isEmpty() ||
             name.toString().size() > 200)
        expected(QStringLiteral("/name"), nameWhat, name);
    else
        m_def.name = name.toString();

    if (root.contains(QStringLiteral("description"))) {
        if (auto s = string(QStringLiteral("/description"),
                            root.value(QStringLiteral("description")), false))
            m_def.description = *s;
    }

    if (root.contains(QStringLiteral("version"))) {
        // The semver.org reference expression.
        static const QRegularExpression semver(
            QStringLiteral("\\A(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)"
                           "(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)"
                           "(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                           "(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?\\z"));
        const QJsonValue v = root.value(QStringLiteral("version"));
        if (!v.isString() || !semver.match(v.toString()).hasMatch())
            expected(QStringLiteral("/version"),
                     QStringLiteral("a semantic version MAJOR.MINOR.PATCH such as \"1.2.0\""), v);
        else
            m_def.version = v.toString();
    }

    readPrompt(root);

    if (root.contains(QStringLiteral("model")))
        readModel(root.value(QStringLiteral("model")));
    else
        missing(QStringLiteral("/model"), QStringLiteral("an object with endpoint and name"));

    if (root.contains(QStringLiteral("tools")))
        readTools(root.value(QStringLiteral("tools")));
    if (root.contains(QStringLiteral("providers")))
        readProviders(root.value(QStringLiteral("providers")));
    if (root.contains(QStringLiteral("limits")))
        readLimits(root.value(QStringLiteral("limits")));
    if (root.contains(QStringLiteral("output_schema"))) {
        const QJsonValue schema = root.value(QStringLiteral("output_schema"));
        checkSchema(QStringLiteral("/output_schema"), schema);
        m_def.outputSchema = schema;
    }
    if (root.contains(QStringLiteral("schedules")))
        readSchedules(root.value(QStringLiteral("schedules")));
    if (root.contains(QStringLiteral("sandbox")))
        readSandbox(root.value(QStringLiteral("sandbox")));
    if (root.contains(QStringLiteral("approval")))
        readApproval(root.value(QStringLiteral("approval")));

    checkReferences();
}

void Validator::readPrompt(const QJsonObject& root)
{
    const bool hasPrompt = root.contains(QStringLiteral("prompt"));
    const bool hasFile = root.contains(QStringLiteral("prompt_file"));
    if (!hasPrompt && !hasFile) {
        missing(QStringLiteral("/prompt"),
                QStringLiteral("a non-empty string, or \"prompt_file\" naming a file next to "
                               "the agent file"));
        return;
    }
    if (hasPrompt && hasFile)
        error(QStringLiteral("/prompt_file"),
              QStringLiteral("cannot be combined with \"prompt\"; give the prompt inline or "
                             "in a file, not both"));
    if (hasPrompt) {
        if (auto s = string(QStringLiteral("/prompt"), root.value(QStringLiteral("prompt")), true))
            m_def.prompt = *s;
    }
    if (hasFile) {
        const QString ptr = QStringLiteral("/prompt_file");
        if (auto rel = string(ptr, root.value(QStringLiteral("prompt_file")), true)) {
            if (auto text = readPromptFile(ptr, *rel); text && !hasPrompt)
                m_def.prompt = *text;
        }
    }
}

std::optional<QString> Validator::readPromptFile(const QString& ptr, const QString& relative)
{
    if (QDir::isAbsolutePath(relative) || relative.startsWith(QLatin1Char('~'))) {
        error(ptr, QStringLiteral("expected a path relative to the agent file's directory, got "
                                  "absolute path \"%1\"")
                       .arg(relative));
        return std::nullopt;
    }
    if (m_baseDir.isEmpty()) {
        error(ptr, QStringLiteral("cannot be resolved here (no directory to look in); put the "
                                  "prompt inline with \"prompt\""));
        return std::nullopt;
    }
    const QString path = QDir(m_baseDir).filePath(relative);
    const QFileInfo fi(path);
    if (!fi.exists()) {
        error(ptr, QStringLiteral("prompt file \"%1\" does not exist (looked for %2)")
                       .arg(relative, QDir::toNativeSeparators(path)));
        return std::nullopt;
    }
    if (!fi.isFile()) {
        error(ptr, QStringLiteral("prompt file \"%1\" is not a regular file").arg(relative));
        return std::nullopt;
    }
    if (fi.size() > AgentLoader::MaxFileBytes) {
        error(ptr, QStringLiteral("prompt file \"%1\" is too large (%2 bytes, limit %3)")
                       .arg(relative)
                       .arg(fi.size())
                       .arg(AgentLoader::MaxFileBytes));
        return std::nullopt;
    }
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        error(
            ptr,
            QStringLiteral("prompt file \"%1\" cannot be read: %2").arg(relative, f.errorString()));
        return std::nullopt;
    }
    QByteArray bytes = f.read(AgentLoader::MaxFileBytes + 1);
    if (bytes.size() > AgentLoader::MaxFileBytes) {
        error(ptr, QStringLiteral("prompt file \"%1\" is too large (more than %2 bytes)")
                       .arg(relative)
                       .arg(AgentLoader::MaxFileBytes));
        return std::nullopt;
    }
    if (bytes.startsWith(jsontext::kUtf8Bom))
        bytes.remove(0, 3);
    if (const qsizetype bad = jsontext::firstInvalidUtf8(bytes); bad >= 0) {
        const jsontext::Position pos = jsontext::positionAt(bytes, bad);
        error(ptr, QStringLiteral("prompt file \"%1\" is not valid UTF-8 (line %2, column %3)")
                       .arg(relative)
                       .arg(pos.line)
                       .arg(pos.column));
        return std::nullopt;
    }
    // One BOM was stripped above; fromUtf8() would silently drop a second one as well.
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::ConvertInitialBom);
    const QString text = decoder(bytes);
    if (text.trimmed().isEmpty()) {
        error(ptr, QStringLiteral("prompt file \"%1\" is empty").arg(relative));
        return std::nullopt;
    }
    return text;
}

void Validator::readModel(const QJsonValue& v)
{
    const QString ptr = QStringLiteral("/model");
    const auto o =
        object(ptr, v,
               {QStringLiteral("endpoint"), QStringLiteral("name"), QStringLiteral("temperature"),
                QStringLiteral("top_p"), QStringLiteral("max_tokens")});
    if (!o)
        return;
    ModelSpec& m = m_def.model;
    for (const QString& key : {QStringLiteral("endpoint"), QStringLiteral("name")}) {
        if (!o->contains(key)) {
            missing(child(ptr, key), QStringLiteral("a non-empty string"));
            continue;
        }
        if (auto s = string(child(ptr, key), o->value(key), true))
            (key == QLatin1String("endpoint") ? m.endpoint : m.name) = *s;
    }
    if (o->contains(QStringLiteral("temperature")))
        m.temperature = number(QStringLiteral("/model/temperature"),
                               o->value(QStringLiteral("temperature")), 0, 2);
    if (o->contains(QStringLiteral("top_p")))
        m.topP = number(QStringLiteral("/model/top_p"), o->value(QStringLiteral("top_p")), 0, 1);
    if (o->contains(QStringLiteral("max_tokens"))) {
        if (auto n = integer(QStringLiteral("/model/max_tokens"),
                             o->value(QStringLiteral("max_tokens")), 1, 1000000))
            m.maxTokens = int(*n);
    }
}

void Validator::readTools(const QJsonValue& v)
{
    const QString ptr = QStringLiteral("/tools");
    const auto o = object(
        ptr, v, {QStringLiteral("memory"), QStringLiteral("files"), QStringLiteral("shell")});
    if (!o)
        return;
    const std::pair<QString, bool*> fields[] = {{QStringLiteral("memory"), &m_def.tools.memory},
                                                {QStringLiteral("files"), &m_def.tools.files},
                                                {QStringLiteral("shell"), &m_def.tools.shell}};
    for (const auto& [key, target] : fields) {
        if (!o->contains(key))
            continue;
        if (auto b = boolean(child(ptr, key), o->value(key)))
            *target = *b;
    }
}

void Validator::readProviders(const QJsonValue& v)
{
    const QString ptr = QStringLiteral("/providers");
    const auto list = array(ptr, v, QStringLiteral("provider grants"));
    if (!list)
        return;
    QHash<QPair<QString, QString>, QString> seen; // (provider, connection) -> first pointer
    for (qsizetype i = 0; i < list->size(); ++i) {
        const QString at = child(ptr, i);
        const auto o = object(at, list->at(i),
                              {QStringLiteral("provider"), QStringLiteral("connection"),
                               QStringLiteral("operations"), QStringLiteral("authorized_uris")});
        if (!o)
            continue;
        ProviderGrant g;
        bool ok = true;
        const QJsonValue provider = o->value(QStringLiteral("provider"));
        const QString providerWhat =
            QStringLiteral("a provider id (lowercase letters, digits, \"-\" and \"_\")");
        if (provider.isUndefined()) {
            missing(child(at, QStringLiteral("provider")), providerWhat);
            ok = false;
        } else if (!provider.isString() || !AgentLoader::isValidId(provider.toString())) {
            expected(child(at, QStringLiteral("provider")), providerWhat, provider);
            ok = false;
        } else {
            g.provider = provider.toString();
        }
        if (o->contains(QStringLiteral("connection"))) {
            if (auto s = string(child(at, QStringLiteral("connection")),
                                o->value(QStringLiteral("connection")), true))
                g.connection = *s;
            else
                ok = false;
        }
        if (o->contains(QStringLiteral("operations"))) {
            const QString opsPtr = child(at, QStringLiteral("operations"));
            if (auto ops = array(opsPtr, o->value(QStringLiteral("operations")),
                                 QStringLiteral("operation names"))) {
                QSet<QString> seenOps;
                for (qsizetype j = 0; j < ops->size(); ++j) {
                    const auto op = string(child(opsPtr, j), ops->at(j), true);
                    if (!op)
                        continue;
                    if (seenOps.contains(*op)) {
                        error(child(opsPtr, j),
                              QStringLiteral("operation \"%1\" is listed twice").arg(*op));
                        continue;
                    }
                    seenOps.insert(*op);
                    g.operations.append(*op);
                }
            }
        }
        if (o->contains(QStringLiteral("authorized_uris"))) {
            const QString urisPtr = child(at, QStringLiteral("authorized_uris"));
            if (auto uris = array(urisPtr, o->value(QStringLiteral("authorized_uris")),
                                  QStringLiteral("URI patterns"))) {
                for (qsizetype j = 0; j < uris->size(); ++j) {
                    const QJsonValue u = uris->at(j);
                    const QString problem =
                        u.isString() ? uriPatternProblem(u.toString()) : QString();
                    if (!u.isString() || !problem.isEmpty()) {
                        QString what = QStringLiteral(
                            "an authorized URI \"[!][METHOD ]http(s)://host[:port]/path-glob\"");
                        if (!problem.isEmpty())
                            what += QStringLiteral(" (") + problem + QLatin1Char(')');
                        expected(child(urisPtr, j), what, u);
                        continue;
                    }
                    g.authorizedUris.append(u.toString());
                }
            }
        }
        if (ok) {
            const auto key = qMakePair(g.provider, g.connection);
            if (const auto prev = seen.constFind(key); prev != seen.cend()) {
                error(at,
                      QStringLiteral("provider \"%1\" with connection \"%2\" is already granted "
                                     "at %3; merge the two entries")
                          .arg(g.provider, g.connection, *prev));
                continue;
            }
            seen.insert(key, at);
        }
        m_def.providers.append(g);
    }
}

void Validator::readLimits(const QJsonValue& v)
{
    const QString ptr = QStringLiteral("/limits");
    const auto o = object(ptr, v,
                          {QStringLiteral("max_steps"), QStringLiteral("timeout_s"),
                           QStringLiteral("max_tokens"), QStringLiteral("max_cost_usd")});
    if (!o)
        return;
    LimitsSpec& l = m_def.limits;
    if (o->contains(QStringLiteral("max_steps"))) {
        if (auto n = integer(QStringLiteral("/limits/max_steps"),
                             o->value(QStringLiteral("max_steps")), 1, 10000))
            l.maxSteps = int(*n);
    }
    if (o->contains(QStringLiteral("timeout_s"))) {
        if (auto n = integer(QStringLiteral("/limits/timeout_s"),
                             o->value(QStringLiteral("timeout_s")), 1, 604800))
            l.timeoutS = int(*n);
    }
    if (o->contains(QStringLiteral("max_tokens")))
        l.maxTokens = integer(QStringLiteral("/limits/max_tokens"),
                              o->value(QStringLiteral("max_tokens")), 1, std::nullopt);
    if (o->contains(QStringLiteral("max_cost_usd")))
        l.maxCostUsd = number(QStringLiteral("/limits/max_cost_usd"),
                              o->value(QStringLiteral("max_cost_usd")), 0, std::nullopt);
}

void Validator::readSchedules(const QJsonValue& v)
{
    const QString ptr = QStringLiteral("/schedules");
    const auto list = array(ptr, v, QStringLiteral("schedules"));
    if (!list)
        return;
    for (qsizetype i = 0; i < list->size(); ++i) {
        const QString at = child(ptr, i);
        const auto o =
            object(at, list->at(i),
                   {QStringLiteral("cron"), QStringLiteral("tz"), QStringLiteral("overlap"),
                    QStringLiteral("misfire"), QStringLiteral("misfire_max_age"),
                    QStringLiteral("jitter"), QStringLiteral("enabled")});
        if (!o)
            continue;
        ScheduleSpec s;
        const QString cronWhat = QStringLiteral(
            "a cron expression with 5 or 6 fields (e.g. \"*/15 8-18 * * 1-5\") or one of "
            "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @reboot");
        const QJsonValue cron = o->value(QStringLiteral("cron"));
        if (cron.isUndefined())
            missing(child(at, QStringLiteral("cron")), cronWhat);
        else if (!cron.isString() || !isCronShape(cron.toString()))
            expected(child(at, QStringLiteral("cron")), cronWhat, cron);
        else
            s.cron = cron.toString();
        if (o->contains(QStringLiteral("tz"))) {
            const QJsonValue tz = o->value(QStringLiteral("tz"));
            if (!tz.isString() || !QTimeZone::isTimeZoneIdAvailable(tz.toString().toUtf8()))
                expected(child(at, QStringLiteral("tz")),
                         QStringLiteral("an IANA time zone such as \"Europe/Paris\" (leave it "
                                        "out for the system zone)"),
                         tz);
            else
                s.tz = tz.toString();
        }
        if (o->contains(QStringLiteral("overlap"))) {
            if (auto m = oneOf(
                    child(at, QStringLiteral("overlap")), o->value(QStringLiteral("overlap")),
                    {QStringLiteral("skip"), QStringLiteral("queue_one"), QStringLiteral("allow")}))
                s.overlap = *m;
        }
        if (o->contains(QStringLiteral("misfire"))) {
            if (auto m =
                    oneOf(child(at, QStringLiteral("misfire")), o->value(QStringLiteral("misfire")),
                          {QStringLiteral("run_once"), QStringLiteral("skip")}))
                s.misfire = *m;
        }
        if (o->contains(QStringLiteral("misfire_max_age")))
            s.misfireMaxAgeS = duration(child(at, QStringLiteral("misfire_max_age")),
                                        o->value(QStringLiteral("misfire_max_age")));
        if (o->contains(QStringLiteral("jitter")))
            s.jitterS =
                duration(child(at, QStringLiteral("jitter")), o->value(QStringLiteral("jitter")));
        if (o->contains(QStringLiteral("enabled"))) {
            if (auto b = boolean(child(at, QStringLiteral("enabled")),
                                 o->value(QStringLiteral("enabled"))))
                s.enabled = *b;
        }
        m_def.schedules.append(s);
    }
}

void Validator::readSandbox(const QJsonValue& v)
{
    const QString ptr = QStringLiteral("/sandbox");
    const auto o = object(ptr, v, {QStringLiteral("tier"), QStringLiteral("min_tier")});
    if (!o)
        return;
    bool ok = true;
    if (o->contains(QStringLiteral("tier"))) {
        if (auto t =
                oneOf(QStringLiteral("/sandbox/tier"), o->value(QStringLiteral("tier")), kTiers))
            m_def.sandbox.tier = *t;
        else
            ok = false;
    }
    if (o->contains(QStringLiteral("min_tier"))) {
        if (auto t = oneOf(QStringLiteral("/sandbox/min_tier"),
                           o->value(QStringLiteral("min_tier")), kTiers))
            m_def.sandbox.minTier = *t;
        else
            ok = false;
    }
    // The list is in strength order, so comparing indexes compares isolation.
    if (ok && kTiers.indexOf(m_def.sandbox.tier) < kTiers.indexOf(m_def.sandbox.minTier)) {
        const bool tierGiven = o->contains(QStringLiteral("tier"));
        error(tierGiven ? QStringLiteral("/sandbox/tier") : QStringLiteral("/sandbox/min_tier"),
              QStringLiteral("tier \"%1\" is below min_tier \"%2\"; lower min_tier as well if "
                             "this is really wanted")
                  .arg(m_def.sandbox.tier, m_def.sandbox.minTier));
    }
}

void Validator::readApproval(const QJsonValue& v)
{
    const auto o = object(QStringLiteral("/approval"), v, {QStringLiteral("mode")});
    if (!o || !o->contains(QStringLiteral("mode")))
        return;
    if (auto m =
            oneOf(QStringLiteral("/approval/mode"), o->value(QStringLiteral("mode")),
                  {QStringLiteral("never"), QStringLiteral("writes"), QStringLiteral("always")})) {
        m_def.approval.mode = *m;
        if (*m != QLatin1String("never"))
            warn(QStringLiteral("/approval/mode"),
                 QStringLiteral("approvals are not supported by this engine yet: runs of this "
                                "agent fail until approval.mode is \"never\""));
    }
}

void Validator::checkSchema(const QString& ptr, const QJsonValue& v)
{
    if (v.isBool())
        return;
    if (!v.isObject()) {
        expected(ptr, QStringLiteral("a JSON Schema (an object or a boolean)"), v);
        return;
    }
    static const QStringList types = {QStringLiteral("object"),  QStringLiteral("array"),
                                      QStringLiteral("string"),  QStringLiteral("number"),
                                      QStringLiteral("integer"), QStringLiteral("boolean"),
                                      QStringLiteral("null")};
    const QJsonObject o = v.toObject();
    if (o.contains(QStringLiteral("type"))) {
        const QJsonValue t = o.value(QStringLiteral("type"));
        const QString typePtr = child(ptr, QStringLiteral("type"));
        const QString what =
            QStringLiteral("a JSON Schema type or array of types among ") + quoteList(types);
        if (t.isArray()) {
            const QJsonArray list = t.toArray();
            if (list.isEmpty())
                expected(typePtr, what, t);
            for (qsizetype i = 0; i < list.size(); ++i) {
                if (!list.at(i).isString() || !types.contains(list.at(i).toString()))
                    expected(child(typePtr, i), what, list.at(i));
            }
        } else if (!t.isString() || !types.contains(t.toString())) {
            expected(typePtr, what, t);
        }
    }
    if (o.contains(QStringLiteral("properties"))) {
        const QJsonValue p = o.value(QStringLiteral("properties"));
        const QString propsPtr = child(ptr, QStringLiteral("properties"));
        if (!p.isObject()) {
            expected(propsPtr, QStringLiteral("an object mapping property names to schemas"), p);
        } else {
            const QJsonObject props = p.toObject();
            for (auto it = props.begin(); it != props.end(); ++it)
                checkSchema(child(propsPtr, it.key()), it.value());
        }
    }
    if (o.contains(QStringLiteral("required"))) {
        const QJsonValue r = o.value(QStringLiteral("required"));
        const QString reqPtr = child(ptr, QStringLiteral("required"));
        if (!r.isArray()) {
            expected(reqPtr, QStringLiteral("an array of property names"), r);
        } else {
            const QJsonArray list = r.toArray();
            for (qsizetype i = 0; i < list.size(); ++i) {
                if (!list.at(i).isString())
                    expected(child(reqPtr, i), QStringLiteral("a property name"), list.at(i));
            }
        }
    }
    if (o.contains(QStringLiteral("items"))) {
        const QJsonValue items = o.value(QStringLiteral("items"));
        const QString itemsPtr = child(ptr, QStringLiteral("items"));
        if (items.isArray()) { // tuple form of older drafts
            const QJsonArray list = items.toArray();
            for (qsizetype i = 0; i < list.size(); ++i)
                checkSchema(child(itemsPtr, i), list.at(i));
        } else {
            checkSchema(itemsPtr, items);
        }
    }
    if (o.contains(QStringLiteral("additionalProperties")))
        checkSchema(child(ptr, QStringLiteral("additionalProperties")),
                    o.value(QStringLiteral("additionalProperties")));
}

void Validator::checkReferences()
{
    if (m_refs.endpoints && !m_def.model.endpoint.isEmpty() &&
        !m_refs.endpoints->contains(m_def.model.endpoint))
        warn(QStringLiteral("/model/endpoint"),
             QStringLiteral("model endpoint \"%1\" is not configured on this machine (add it "
                            "with: vivarium model add %1 ...); runs fail until it exists")
                 .arg(m_def.model.endpoint));
    for (qsizetype i = 0; i < m_def.providers.size(); ++i) {
        const ProviderGrant& g = m_def.providers.at(i);
        const QString at = child(QStringLiteral("/providers"), i);
        if (m_refs.providers && !g.provider.isEmpty() && !m_refs.providers->contains(g.provider))
            warn(child(at, QStringLiteral("provider")),
                 QStringLiteral("provider \"%1\" is not in this machine's provider catalog "
                                "(resources/providers or your custom providers directory); runs "
                                "fail until it exists")
                     .arg(g.provider));
        // Connection names may be known bare or qualified by their provider.
        if (m_refs.connections && !g.connection.isEmpty() &&
            !m_refs.connections->contains(g.connection) &&
            !m_refs.connections->contains(g.provider + QLatin1Char('/') + g.connection))
            warn(child(at, QStringLiteral("connection")),
                 QStringLiteral("connection \"%1\" of provider \"%2\" does not exist on this "
                                "machine (create it with: vivarium connect %2 --name %1); "
                                "runs fail until it exists")
                     .arg(g.connection, g.provider));
    }
}

/** Error for a document that parsed but is not an object, e.g. `[...]` or `"text"`. */
Error notAnObject(const QString& label, const QJsonValue& v)
{
    const Diagnostic d{label, QString(),
                       QStringLiteral("expected a JSON object describing an agent, got ") +
                           describe(v)};
    return Error::make(Error::Code::Validation,
                       label + QStringLiteral(": 1 problem in agent definition"), {d.toString()});
}

/** Human-ordered, indented JSON for files people read; nested keys stay sorted. */
QByteArray prettyJson(const QJsonObject& o)
{
    static const QStringList order = {
        QStringLiteral("id"),      QStringLiteral("name"),          QStringLiteral("description"),
        QStringLiteral("version"), QStringLiteral("prompt"),        QStringLiteral("prompt_file"),
        QStringLiteral("model"),   QStringLiteral("tools"),         QStringLiteral("providers"),
        QStringLiteral("limits"),  QStringLiteral("output_schema"), QStringLiteral("schedules"),
        QStringLiteral("sandbox"), QStringLiteral("approval")};
    QStringList keys = order;
    for (const QString& k : o.keys()) {
        if (!keys.contains(k))
            keys.append(k);
    }
    QByteArray out = "{\n";
    bool first = true;
    for (const QString& k : std::as_const(keys)) {
        if (!o.contains(k))
            continue;
        if (!first)
            out += ",\n";
        first = false;
        // Serialize the member as a one-member object and lift its body out, re-indented.
        QByteArray member = QJsonDocument(QJsonObject{{k, o.value(k)}}).toJson();
        member = member.mid(2, member.size() - 5); // drop "{\n" and "\n}\n"
        out += member;
    }
    out += "\n}\n";
    return out;
}

Status writeAtomically(const QString& path, const QByteArray& bytes)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return fail(Error::Code::Io,
                    QStringLiteral("%1: cannot write: %2").arg(path, f.errorString()));
    if (f.write(bytes) != bytes.size() || !f.commit())
        return fail(Error::Code::Io,
                    QStringLiteral("%1: cannot write: %2").arg(path, f.errorString()));
    return {};
}

Status refuseExisting(const QString& path, bool overwrite)
{
    if (!overwrite && QFileInfo::exists(path))
        return fail(Error::Code::Conflict,
                    QStringLiteral("%1: already exists; refusing to overwrite it").arg(path));
    if (QFileInfo(path).isDir())
        return fail(Error::Code::Conflict,
                    QStringLiteral("%1: is a directory; cannot write a file there").arg(path));
    return {};
}

} // namespace

bool AgentLoader::isValidId(const QString& id)
{
    static const QRegularExpression re(QStringLiteral("\\A[a-z0-9][a-z0-9_-]{0,63}\\z"));
    return re.match(id).hasMatch();
}

Result<LoadedAgent> AgentLoader::loadPath(const QString& path, const KnownReferences& refs)
{
    const QFileInfo given(path);
    if (!given.exists())
        return fail(Error::Code::Io, QStringLiteral("%1: no such file or directory").arg(path));
    QString file = path;
    if (given.isDir()) {
        file = QDir(path).filePath(kAgentFileName);
        if (!QFileInfo::exists(file))
            return fail(Error::Code::Io,
                        QStringLiteral("%1: directory has no %2").arg(path, kAgentFileName));
    }
    const QFileInfo fi(file);
    if (!fi.isFile())
        return fail(Error::Code::Io, QStringLiteral("%1: not a regular file").arg(file));
    // Check the size first so a huge or endless file is never read into memory.
    if (fi.size() > MaxFileBytes)
        return fail(Error::Code::Io, fileTooLarge(file, fi.size()));
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return fail(Error::Code::Io,
                    QStringLiteral("%1: cannot read: %2").arg(file, f.errorString()));
    const QByteArray bytes = f.read(MaxFileBytes + 1);
    if (f.error() != QFileDevice::NoError)
        return fail(Error::Code::Io,
                    QStringLiteral("%1: cannot read: %2").arg(file, f.errorString()));
    return loadBytes(bytes, file, fi.absolutePath(), refs);
}

Result<LoadedAgent> AgentLoader::loadBytes(const QByteArray& input, const QString& fileLabel,
                                           const QString& baseDir, const KnownReferences& refs)
{
    if (input.size() > MaxFileBytes)
        return fail(Error::Code::Io, fileTooLarge(fileLabel, input.size()));
    QByteArray bytes = input;
    if (bytes.startsWith(jsontext::kUtf8Bom))
        bytes.remove(0, 3);
    if (bytes.trimmed().isEmpty())
        return fail(Error::Code::Parse,
                    QStringLiteral("%1: file is empty; expected a JSON object describing an agent")
                        .arg(fileLabel));
    if (const qsizetype bad = jsontext::firstInvalidUtf8(bytes); bad >= 0) {
        const jsontext::Position pos = jsontext::positionAt(bytes, bad);
        return fail(Error::Code::Parse,
                    QStringLiteral("%1:%2:%3: invalid UTF-8 (byte 0x%4); agent files must be "
                                   "UTF-8")
                        .arg(fileLabel)
                        .arg(pos.line)
                        .arg(pos.column)
                        .arg(uchar(bytes.at(bad)), 2, 16, QLatin1Char('0')));
    }

    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    if (pe.error != QJsonParseError::NoError) {
        // Qt only accepts objects and arrays on top; a lone scalar is valid JSON, just not an
        // agent, so say that rather than "illegal value".
        const QByteArray first = bytes.trimmed().left(1);
        if (first != "{" && first != "[") {
            const QJsonDocument wrapped = QJsonDocument::fromJson("[" + bytes + "]");
            if (wrapped.isArray() && wrapped.array().size() == 1)
                return std::unexpected(notAnObject(fileLabel, wrapped.array().at(0)));
        }
        const jsontext::Position pos =
            jsontext::positionAt(bytes, std::min<qsizetype>(pe.offset, bytes.size()));
        return fail(Error::Code::Parse, QStringLiteral("%1:%2:%3: invalid JSON: %4")
                                            .arg(fileLabel)
                                            .arg(pos.line)
                                            .arg(pos.column)
                                            .arg(pe.errorString()));
    }
    if (!doc.isObject())
        return std::unexpected(notAnObject(fileLabel, doc.array()));

    const jsontext::Scan scan = jsontext::scan(bytes);
    Validator validator(fileLabel, baseDir, refs, scan);
    for (const jsontext::Scan::Duplicate& dup : scan.duplicates) {
        validator.error(dup.pointer,
                        QStringLiteral("duplicate key (again at line %1, column %2); each key may "
                                       "appear only once")
                            .arg(dup.position.line)
                            .arg(dup.position.column));
    }
    validator.run(doc.object());

    const QList<Diagnostic> errors = validator.errors();
    if (!errors.isEmpty()) {
        // Every problem is reported, but a hostile file must not become megabytes of output.
        constexpr qsizetype MaxDetails = 200;
        QStringList details;
        for (qsizetype i = 0; i < errors.size() && i < MaxDetails; ++i)
            details << errors.at(i).toString();
        if (errors.size() > MaxDetails)
            details << QStringLiteral("%1: ... and %2 more problems")
                           .arg(fileLabel)
                           .arg(errors.size() - MaxDetails);
        qCDebug(lcAgents) << "rejected agent file" << fileLabel << "with" << errors.size()
                          << "problems";
        return fail(
            Error::Code::Validation,
            QStringLiteral("%1: %2 %3 in agent definition")
                .arg(fileLabel)
                .arg(errors.size())
                .arg(errors.size() == 1 ? QStringLiteral("problem") : QStringLiteral("problems")),
            details);
    }
    qCDebug(lcAgents) << "loaded agent" << validator.definition().id << "from" << fileLabel;
    return LoadedAgent{validator.definition(), validator.warnings()};
}

Status exportAgent(const AgentDefinition& def, const QString& path, bool overwrite)
{
    // Validate what we are about to write so an export always loads back.
    const QJsonObject canonical = def.toJson();
    const QByteArray inlineJson = prettyJson(canonical);
    if (auto check = AgentLoader::loadBytes(inlineJson, path, QString()); !check)
        return std::unexpected(check.error());

    if (path.endsWith(QStringLiteral(".json"), Qt::CaseInsensitive)) {
        if (auto ok = refuseExisting(path, overwrite); !ok)
            return ok;
        const QString parent = QFileInfo(path).absolutePath();
        if (!QDir().mkpath(parent))
            return fail(Error::Code::Io,
                        QStringLiteral("%1: cannot create directory %2").arg(path, parent));
        qCDebug(lcAgents) << "exporting agent" << def.id << "to" << path;
        return writeAtomically(path, inlineJson);
    }

    if (QFileInfo(path).exists() && !QFileInfo(path).isDir())
        return fail(Error::Code::Conflict,
                    QStringLiteral("%1: exists and is not a directory").arg(path));
    const QDir dir(path);
    const QString agentFile = dir.filePath(kAgentFileName);
    const QString promptFile = dir.filePath(kPromptFileName);
    for (const QString& target : {agentFile, promptFile}) {
        if (auto ok = refuseExisting(target, overwrite); !ok)
            return ok;
    }
    if (!QDir().mkpath(path))
        return fail(Error::Code::Io, QStringLiteral("%1: cannot create directory").arg(path));

    QJsonObject manifest = canonical;
    manifest.remove(QStringLiteral("prompt"));
    manifest.insert(QStringLiteral("prompt_file"), kPromptFileName);
    qCDebug(lcAgents) << "exporting agent" << def.id << "to directory" << path;
    // The prompt goes first: agent.json only appears once what it points at is in place.
    QByteArray promptBytes = def.prompt.toUtf8();
    // Loading strips one BOM from prompt files, so a prompt that really starts with U+FEFF
    // needs a second one to survive the trip.
    if (def.prompt.startsWith(QChar(0xFEFF)))
        promptBytes.prepend(jsontext::kUtf8Bom);
    if (auto ok = writeAtomically(promptFile, promptBytes); !ok)
        return ok;
    return writeAtomically(agentFile, prettyJson(manifest));
}

} // namespace vivarium
