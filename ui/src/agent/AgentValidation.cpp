// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentValidation.h"

#include "vivarium/core/Store.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

namespace vivarium {

namespace {

/** The label the loader puts before each problem; stripped again below. */
const QString Label = QStringLiteral("agent");

FieldProblem fromDetail(const QString& detail, bool warning)
{
    QString rest = detail;
    const QString prefix = Label + QStringLiteral(": ");
    if (rest.startsWith(prefix))
        rest = rest.mid(prefix.size());
    FieldProblem p;
    p.warning = warning;
    if (rest.startsWith(QLatin1Char('/'))) {
        const qsizetype sep = rest.indexOf(QStringLiteral(": "));
        if (sep > 0) {
            p.pointer = rest.left(sep);
            p.message = rest.mid(sep + 2);
            return p;
        }
    }
    p.message = rest;
    return p;
}

} // namespace

QString FieldProblem::toString() const
{
    return pointer.isEmpty() ? message : pointer + QStringLiteral(": ") + message;
}

int AgentValidation::errorCount() const
{
    int n = 0;
    for (const FieldProblem& p : problems)
        n += !p.warning;
    return n;
}

QList<FieldProblem> AgentValidation::scheduleProblems(const QList<ScheduleSpec>& schedules)
{
    QList<FieldProblem> out;
    for (qsizetype i = 0; i < schedules.size(); ++i) {
        const ScheduleSpec& spec = schedules.at(i);
        ScheduleRecord check;
        check.cron = spec.cron;
        check.tz = spec.tz;
        check.overlap = spec.overlap;
        check.misfire = spec.misfire;
        if (auto ok = ScheduleRules::validate(check); !ok) {
            for (const QString& d : ok.error().details) {
                // "cron: day-of-week field: ..." -> pointer /schedules/i/cron
                const qsizetype sep = d.indexOf(QStringLiteral(": "));
                FieldProblem p;
                p.pointer =
                    QStringLiteral("/schedules/%1/%2").arg(i).arg(sep > 0 ? d.left(sep) : d);
                p.message = sep > 0 ? d.mid(sep + 2) : d;
                out.append(p);
            }
        }
    }
    return out;
}

AgentValidation AgentValidation::validate(const QJsonObject& document, const KnownReferences& refs)
{
    AgentValidation v;
    const QByteArray bytes = QJsonDocument(document).toJson(QJsonDocument::Indented);
    auto loaded = AgentLoader::loadBytes(bytes, Label, QString(), refs);
    QSet<QString> reported;
    if (loaded) {
        for (const Diagnostic& w : loaded->warnings)
            v.problems.append(FieldProblem{w.pointer, w.message, true});
    } else {
        const Error& e = loaded.error();
        if (e.details.isEmpty()) {
            v.problems.append(fromDetail(e.message, false));
        } else {
            for (const QString& d : e.details) {
                FieldProblem p = fromDetail(d, false);
                reported.insert(p.pointer);
                v.problems.append(p);
            }
        }
    }
    // What `agent add` checks after the loader: the cron text parsed for real. Read from the
    // document itself, so rows the loader refused still get checked where they can be.
    QList<ScheduleSpec> specs;
    const QJsonArray rows = document.value(QStringLiteral("schedules")).toArray();
    for (const QJsonValue& row : rows) {
        const QJsonObject o = row.toObject();
        ScheduleSpec s;
        s.cron = o.value(QStringLiteral("cron")).toString();
        s.tz = o.value(QStringLiteral("tz")).toString();
        s.overlap = o.value(QStringLiteral("overlap")).toString(QStringLiteral("skip"));
        s.misfire = o.value(QStringLiteral("misfire")).toString(QStringLiteral("run_once"));
        specs.append(s);
    }
    for (const FieldProblem& p : scheduleProblems(specs)) {
        if (!reported.contains(p.pointer))
            v.problems.append(p);
    }
    if (loaded && v.errorCount() == 0)
        v.definition = loaded->definition;
    // Errors first, each group in document order (stable).
    std::stable_sort(
        v.problems.begin(), v.problems.end(),
        [](const FieldProblem& a, const FieldProblem& b) { return !a.warning && b.warning; });
    return v;
}

QStringList AgentValidation::versionText(const AgentDefinition& definition)
{
    QJsonObject o = definition.toJson();
    o.remove(QStringLiteral("prompt"));
    QStringList lines = QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Indented))
                            .split(QLatin1Char('\n'));
    while (!lines.isEmpty() && lines.constLast().isEmpty())
        lines.removeLast();
    lines << QString() << QStringLiteral("--- prompt ---");
    lines << definition.prompt.split(QLatin1Char('\n'));
    return lines;
}

} // namespace vivarium
