// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium schedule add|list|rm|pause|resume
#include "Cli.h"
#include "TextTable.h"

#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace vivarium::cli {

namespace {

/** What a listing says about one schedule: computed here, so it works with no engine. */
struct ScheduleView
{
    QString state; ///< active | paused | invalid
    QString problem;
    QString explain;
    QTimeZone zone;
    QString nextFire; ///< ISO with the zone's offset; "" when none
    QString lastFire;
};

ScheduleView viewOf(const ScheduleRecord& s, const QDateTime& now)
{
    ScheduleView v;
    v.zone = ScheduleRules::zoneOf(s);
    v.lastFire = ScheduleRules::formatInstant(s.lastFireAt, v.zone);
    auto cron = CronExpression::parse(s.cron);
    if (!cron) {
        v.state = QStringLiteral("invalid");
        v.problem = QStringLiteral("cron: ") + cron.error().message;
        return v;
    }
    v.explain = cron->explain();
    if (!v.zone.isValid()) {
        v.state = QStringLiteral("invalid");
        v.problem = QStringLiteral("tz: unknown time zone \"%1\"").arg(s.tz);
        return v;
    }
    v.state = s.paused ? QStringLiteral("paused") : QStringLiteral("active");
    if (s.paused || cron->isReboot())
        return v;
    // What the engine would fire next if it ran now: fires already past are missed ones.
    QDateTime from = now;
    for (const QDateTime& t : {s.lastFireAt, s.updatedAt})
        if (t.isValid() && t > from)
            from = t;
    if (const auto next = cron->next(from, v.zone))
        v.nextFire = ScheduleRules::formatInstant(*next, v.zone);
    return v;
}

QString zoneLabel(const ScheduleRecord& s)
{
    return s.tz.isEmpty() ? ScheduleRules::systemZoneId() + QStringLiteral(" (system)") : s.tz;
}

QString policyText(const ScheduleRecord& s)
{
    QString text = s.overlap + QStringLiteral(" / ") + s.misfire;
    if (s.misfire == QLatin1String("run_once"))
        text += QLatin1Char(' ') + ScheduleRules::formatDuration(s.misfireMaxAgeS);
    if (s.jitterS > 0)
        text += QStringLiteral(" / jitter ") + ScheduleRules::formatDuration(s.jitterS);
    return text;
}

QJsonValue textOrNull(const QString& s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

QJsonObject scheduleJson(const ScheduleRecord& s, const ScheduleView& v)
{
    return QJsonObject{
        {QStringLiteral("id"), s.id},
        {QStringLiteral("agent"), s.agentId},
        {QStringLiteral("source"), s.source},
        {QStringLiteral("cron"), s.cron},
        {QStringLiteral("tz"), s.tz.isEmpty() ? ScheduleRules::systemZoneId() : s.tz},
        {QStringLiteral("overlap"), s.overlap},
        {QStringLiteral("misfire"), s.misfire},
        {QStringLiteral("misfire_max_age_s"), s.misfireMaxAgeS},
        {QStringLiteral("jitter_s"), s.jitterS},
        {QStringLiteral("input"), s.input.isUndefined() ? QJsonValue::Null : s.input},
        {QStringLiteral("paused"), s.paused},
        {QStringLiteral("state"), v.state},
        {QStringLiteral("problem"), textOrNull(v.problem)},
        {QStringLiteral("explain"), textOrNull(v.explain)},
        {QStringLiteral("next_fire"), textOrNull(v.nextFire)},
        {QStringLiteral("last_fire"), textOrNull(v.lastFire)},
        {QStringLiteral("pending_fire"),
         textOrNull(ScheduleRules::formatInstant(s.pendingFireAt, v.zone))},
        {QStringLiteral("created_at"), jsonTime(s.createdAt)},
        {QStringLiteral("updated_at"), jsonTime(s.updatedAt)},
    };
}

/** Parse a duration option into `*out`; a usage error (exit 2) names the option and text. */
std::optional<int> durationOption(const QCommandLineParser& p, const QCommandLineOption& o,
                                  const QString& command, int* out)
{
    if (!p.isSet(o))
        return std::nullopt;
    const auto seconds = ScheduleRules::parseDuration(p.value(o));
    if (!seconds) {
        return usageError(
            command, QStringLiteral("--%1: %2")
                         .arg(o.names().constFirst(), ScheduleRules::durationProblem(p.value(o))));
    }
    *out = int(*seconds);
    return std::nullopt;
}

/** The one-id commands: rm, pause, resume. */
int withScheduleId(Invocation& inv, const QString& description,
                   const std::function<int(Store&, const QString&)>& body)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("ID"),
                            QStringLiteral("schedule id (see vivarium schedule list)"));
    if (auto stop = inv.parse(p, description, 1, 1))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    return body(**store, p.positionalArguments().first());
}

} // namespace

int cmdScheduleAdd(Invocation& inv)
{
    QCommandLineParser p;
    p.addPositionalArgument(QStringLiteral("AGENT"), QStringLiteral("agent id"));
    const QCommandLineOption cron(
        QStringLiteral("cron"),
        QStringLiteral("Cron expression: 5 fields, or 6 with leading seconds, or a macro "
                       "(@hourly, @daily, @reboot, ...). Check one with vivarium cron next."),
        QStringLiteral("EXPR"));
    const QCommandLineOption tz(QStringLiteral("tz"),
                                QStringLiteral("IANA time zone (default: the system zone, "
                                               "stored explicitly)."),
                                QStringLiteral("ZONE"));
    const QCommandLineOption overlap(QStringLiteral("overlap"),
                                     QStringLiteral("When the previous run is still live: skip "
                                                    "(default), queue_one, allow."),
                                     QStringLiteral("POLICY"), QStringLiteral("skip"));
    const QCommandLineOption misfire(
        QStringLiteral("misfire"),
        QStringLiteral("Fires missed while the engine was down or asleep: run_once (default: "
                       "run the latest if recent enough) or skip. All are recorded."),
        QStringLiteral("POLICY"), QStringLiteral("run_once"));
    const QCommandLineOption maxAge(QStringLiteral("misfire-max-age"),
                                    QStringLiteral("run_once only runs a missed fire at most "
                                                   "this old (default 1h)."),
                                    QStringLiteral("DURATION"));
    const QCommandLineOption jitter(QStringLiteral("jitter"),
                                    QStringLiteral("Delay each fire by a random 0..DURATION."),
                                    QStringLiteral("DURATION"));
    const QCommandLineOption input(QStringLiteral("input"),
                                   QStringLiteral("Input of every run, as JSON."),
                                   QStringLiteral("JSON"));
    const QCommandLineOption paused(QStringLiteral("paused"),
                                    QStringLiteral("Add it paused (resume it later)."));
    for (const QCommandLineOption* o :
         {&cron, &tz, &overlap, &misfire, &maxAge, &jitter, &input, &paused, &jsonOption()})
        p.addOption(*o);
    if (auto stop = inv.parse(p,
                              QStringLiteral("Schedule an agent with a cron expression. A "
                                             "running engine picks the change up within a few "
                                             "seconds."),
                              1, 1))
        return *stop;
    if (!p.isSet(cron))
        return usageError(inv.commandName(), QStringLiteral("missing --cron EXPR"));

    ScheduleRecord s;
    s.agentId = p.positionalArguments().first();
    s.cron = p.value(cron).trimmed();
    s.tz = p.value(tz);
    if (p.isSet(tz) && s.tz.isEmpty())
        return usageError(inv.commandName(), QStringLiteral("--tz: empty time zone"));
    s.overlap = p.value(overlap);
    s.misfire = p.value(misfire);
    s.misfireMaxAgeS = ScheduleRules::DefaultMisfireMaxAgeS;
    s.paused = p.isSet(paused);
    if (auto code = durationOption(p, maxAge, inv.commandName(), &s.misfireMaxAgeS))
        return *code;
    if (auto code = durationOption(p, jitter, inv.commandName(), &s.jitterS))
        return *code;
    if (p.isSet(input)) {
        auto value = ScheduleRules::parseInput(p.value(input));
        if (!value)
            return usageError(inv.commandName(),
                              QStringLiteral("--input: ") + value.error().message);
        s.input = *value;
    }
    if (auto ok = ScheduleRules::validate(s); !ok)
        return reportError(ok.error(), inv.commandName());

    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    auto added = (*store)->addSchedule(s);
    if (!added)
        return reportError(added.error());
    const ScheduleView v = viewOf(*added, QDateTime::currentDateTimeUtc());
    if (p.isSet(jsonOption())) {
        printJson(scheduleJson(*added, v));
        return ExitOk;
    }
    QString text = QStringLiteral("Added schedule %1 to agent %2: %3 in %4%5\n")
                       .arg(added->id, added->agentId, added->cron, added->tz,
                            p.isSet(tz) ? QString() : QStringLiteral(" (the system zone)"));
    text += QStringLiteral("  %1\n").arg(v.explain);
    if (added->paused)
        text +=
            QStringLiteral("  paused: resume with vivarium schedule resume %1\n").arg(added->id);
    else if (!v.nextFire.isEmpty())
        text += QStringLiteral("  next fire %1\n").arg(v.nextFire);
    else
        text += QStringLiteral("  fires when the engine starts\n");
    printOut(text);
    return ExitOk;
}

int cmdScheduleList(Invocation& inv)
{
    QCommandLineParser p;
    const QCommandLineOption agent(QStringLiteral("agent"),
                                   QStringLiteral("Only this agent's schedules."),
                                   QStringLiteral("ID"));
    p.addOption(agent);
    p.addOption(jsonOption());
    if (auto stop = inv.parse(p,
                              QStringLiteral("List schedules with their next fire time in their "
                                             "own time zone."),
                              0, 0))
        return *stop;
    auto store = inv.openStore();
    if (!store)
        return reportError(store.error());
    if (p.isSet(agent)) {
        // A typo in --agent should not look like "no schedules".
        if (auto versions = (*store)->agentVersions(p.value(agent)); !versions)
            return reportError(versions.error());
    }
    auto list = (*store)->schedules(p.value(agent));
    if (!list)
        return reportError(list.error());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (p.isSet(jsonOption())) {
        QJsonArray arr;
        for (const ScheduleRecord& s : std::as_const(*list))
            arr << scheduleJson(s, viewOf(s, now));
        printJson(arr);
        return ExitOk;
    }
    if (list->isEmpty()) {
        printOut(QStringLiteral("No schedules. Add one with: vivarium schedule add AGENT --cron "
                                "EXPR (or a \"schedules\" entry in the agent's file)"));
        return ExitOk;
    }
    TextTable t({QStringLiteral("ID"), QStringLiteral("AGENT"), QStringLiteral("CRON"),
                 QStringLiteral("TZ"), QStringLiteral("POLICY"), QStringLiteral("STATE"),
                 QStringLiteral("LAST FIRE"), QStringLiteral("NEXT FIRE"), QStringLiteral("WHEN")});
    for (const ScheduleRecord& s : std::as_const(*list)) {
        const ScheduleView v = viewOf(s, now);
        QString next = v.nextFire;
        if (next.isEmpty() && v.state == QLatin1String("active"))
            next = QStringLiteral("at engine start");
        t.addRow({s.id, s.agentId, s.cron, zoneLabel(s), policyText(s), v.state,
                  v.lastFire.isEmpty() ? QStringLiteral("-") : v.lastFire,
                  next.isEmpty() ? QStringLiteral("-") : next,
                  v.problem.isEmpty() ? v.explain : v.problem});
    }
    printOut(t.render(100));
    return ExitOk;
}

int cmdScheduleRemove(Invocation& inv)
{
    return withScheduleId(
        inv,
        QStringLiteral("Remove a schedule added with schedule add. Its past runs stay; "
                       "schedules from an agent's file go by editing the agent."),
        [](Store& store, const QString& id) {
            if (auto ok = store.removeSchedule(id); !ok)
                return reportError(ok.error());
            printOut(QStringLiteral("Removed schedule %1").arg(id));
            return int(ExitOk);
        });
}

int cmdSchedulePause(Invocation& inv)
{
    return withScheduleId(
        inv, QStringLiteral("Pause a schedule: no fires (and none recorded missed) until resumed."),
        [](Store& store, const QString& id) {
            auto changed = store.setSchedulePaused(id, true);
            if (!changed)
                return reportError(changed.error());
            printOut(*changed ? QStringLiteral("Paused schedule %1").arg(id)
                              : QStringLiteral("Schedule %1 was already paused").arg(id));
            return int(ExitOk);
        });
}

int cmdScheduleResume(Invocation& inv)
{
    return withScheduleId(inv, QStringLiteral("Resume a paused schedule; fires count from now."),
                          [](Store& store, const QString& id) {
                              auto changed = store.setSchedulePaused(id, false);
                              if (!changed)
                                  return reportError(changed.error());
                              QString text =
                                  *changed ? QStringLiteral("Resumed schedule %1").arg(id)
                                           : QStringLiteral("Schedule %1 was not paused").arg(id);
                              if (auto s = store.schedule(id)) {
                                  const ScheduleView v =
                                      viewOf(*s, QDateTime::currentDateTimeUtc());
                                  if (!v.nextFire.isEmpty())
                                      text += QStringLiteral(": next fire %1").arg(v.nextFire);
                              }
                              printOut(text);
                              return int(ExitOk);
                          });
}

} // namespace vivarium::cli
