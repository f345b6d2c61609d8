// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "AgentListModel.h"

#include "Format.h"
#include "Icons.h"

#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QFont>
#include <QSet>

namespace vivarium {

AgentListModel::AgentListModel(Store* store, QObject* parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{}

int AgentListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int AgentListModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AgentListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Agent");
    case LastRun:
        return tr("Last run");
    case NextRun:
        return tr("Next run");
    case Model:
        return tr("Model");
    case Sandbox:
        return tr("Sandbox");
    case Action:
        return QString();
    }
    return {};
}

QVariant AgentListModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row& r = m_rows.at(index.row());
    const AgentSummary& a = r.summary;
    if (role == AgentIdRole)
        return a.id;
    if (role == TierRole)
        return a.sandboxTier;
    if (role == SearchTextRole)
        return QStringList{a.id, a.name, a.description, a.modelEndpoint, a.modelName}.join(
            QLatin1Char('\n'));

    switch (index.column()) {
    case Name:
        if (role == Qt::DisplayRole)
            return a.name;
        if (role == SortRole)
            return a.name.toLower();
        if (role == Qt::ToolTipRole)
            return a.description.isEmpty()
                       ? tr("%1 (version %2)").arg(a.id).arg(a.version)
                       : tr("%1 (version %2)\n%3").arg(a.id).arg(a.version).arg(a.description);
        if (role == Qt::DecorationRole)
            return icons::get(QStringLiteral("agents"));
        break;
    case LastRun: {
        if (!r.lastRun) {
            if (role == Qt::DisplayRole)
                return tr("Never run");
            if (role == Qt::ForegroundRole)
                return QColor(0x6b, 0x77, 0x85);
            if (role == SortRole)
                return QString();
            break;
        }
        const RunRecord& run = *r.lastRun;
        const QDateTime when = run.finishedAt.isValid()
                                   ? run.finishedAt
                                   : (run.startedAt.isValid() ? run.startedAt : run.createdAt);
        if (role == Qt::DisplayRole) {
            if (!isTerminal(run.status))
                return tr("%1 · since %2").arg(Format::status(run.status), Format::relative(when));
            return tr("%1 · %2").arg(Format::status(run.status), Format::relative(when));
        }
        if (role == Qt::DecorationRole)
            return Format::statusIcon(run.status);
        if (role == Qt::ForegroundRole)
            return Format::statusColor(run.status);
        if (role == Qt::ToolTipRole) {
            QString tip =
                tr("%1 %2\n%3").arg(run.id, Format::status(run.status), Format::absolute(when));
            if (!run.reason.isEmpty())
                tip += QLatin1Char('\n') + run.reason;
            return tip;
        }
        if (role == SortRole)
            return run.id;
        break;
    }
    case NextRun:
        if (role == Qt::DisplayRole) {
            if (r.next.at.isValid())
                return Format::relative(r.next.at);
            if (r.next.note.isEmpty())
                return QStringLiteral("—");
            return r.next.note;
        }
        if (role == Qt::ToolTipRole)
            return r.next.at.isValid()
                       ? QString(Format::absolute(r.next.at) + QLatin1Char('\n') + r.next.detail)
                       : r.next.detail;
        if (role == Qt::ForegroundRole && !r.next.at.isValid())
            return QColor(0x6b, 0x77, 0x85);
        if (role == SortRole)
            return r.next.at.isValid() ? r.next.at.toMSecsSinceEpoch()
                                       : std::numeric_limits<qint64>::max();
        break;
    case Model:
        if (role == Qt::DisplayRole || role == SortRole)
            return QString(a.modelEndpoint + QStringLiteral(" / ") + a.modelName);
        if (role == Qt::ToolTipRole)
            return tr("Endpoint %1, model %2").arg(a.modelEndpoint, a.modelName);
        break;
    case Sandbox:
        if (role == Qt::DisplayRole || role == SortRole)
            return Format::tierLabel(a.sandboxTier);
        if (role == Qt::ToolTipRole)
            return Format::tierSentence(a.sandboxTier);
        break;
    case Action:
        if (role == Qt::DisplayRole)
            return tr("Run now");
        if (role == Qt::ToolTipRole)
            return m_canRun ? tr("Start a run of %1 now").arg(a.name)
                            : tr("This window cannot start runs");
        break;
    default:
        break;
    }
    return {};
}

QHash<QString, AgentListModel::NextFire>
AgentListModel::nextFires(const QList<ScheduleRecord>& schedules, const QDateTime& now)
{
    QHash<QString, NextFire> out;
    QHash<QString, std::optional<CronExpression>> parsed; // the same text parses once
    for (const ScheduleRecord& s : schedules) {
        NextFire& n = out[s.agentId];
        auto it = parsed.find(s.cron);
        if (it == parsed.end()) {
            auto c = CronExpression::parse(s.cron);
            it = parsed.insert(s.cron, c ? std::optional<CronExpression>(*c) : std::nullopt);
        }
        const QString zone = s.tz.isEmpty() ? ScheduleRules::systemZoneId() : s.tz;
        const QString words = *it ? tr("%1 (%2), %3").arg((*it)->explain(), s.cron, zone) : s.cron;
        if (!n.detail.isEmpty())
            n.detail += QLatin1Char('\n');
        n.detail += s.paused ? tr("paused: %1").arg(words) : words;
        if (s.paused || !*it) {
            if (!n.at.isValid() && n.note.isEmpty())
                n.note = s.paused ? tr("Paused") : QString();
            continue;
        }
        if ((*it)->isReboot()) {
            if (!n.at.isValid())
                n.note = tr("At engine start");
            continue;
        }
        const auto at = (*it)->next(now, ScheduleRules::zoneOf(s));
        if (at && (!n.at.isValid() || *at < n.at)) {
            n.at = *at;
            n.note.clear();
        }
    }
    return out;
}

Status AgentListModel::reload()
{
    auto summaries = m_store->agentSummaries();
    if (!summaries)
        return std::unexpected(summaries.error());
    auto schedules = m_store->schedules();
    const auto fires = schedules ? nextFires(*schedules, QDateTime::currentDateTimeUtc())
                                 : QHash<QString, NextFire>();
    QList<Row> rows;
    rows.reserve(summaries->size());
    for (const AgentSummary& a : std::as_const(*summaries)) {
        Row r;
        r.summary = a;
        RunFilter f;
        f.agentId = a.id;
        f.limit = 1;
        if (auto runs = m_store->runs(f); runs && !runs->isEmpty())
            r.lastRun = runs->constFirst();
        r.next = fires.value(a.id);
        rows.append(std::move(r));
    }
    beginResetModel();
    m_rows = std::move(rows);
    m_index.clear();
    for (int i = 0; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).summary.id, i);
    endResetModel();
    return {};
}

void AgentListModel::updateAgents(const QSet<QString>& agentIds)
{
    for (const QString& id : agentIds) {
        const int row = rowOf(id);
        if (row < 0)
            continue;
        RunFilter f;
        f.agentId = id;
        f.limit = 1;
        auto runs = m_store->runs(f);
        if (!runs)
            continue;
        m_rows[row].lastRun =
            runs->isEmpty() ? std::nullopt : std::optional<RunRecord>(runs->constFirst());
        emit dataChanged(index(row, LastRun), index(row, LastRun));
    }
}

void AgentListModel::updateNextFires()
{
    auto schedules = m_store->schedules();
    if (!schedules || m_rows.isEmpty())
        return;
    const auto fires = nextFires(*schedules, QDateTime::currentDateTimeUtc());
    for (Row& r : m_rows)
        r.next = fires.value(r.summary.id);
    emit dataChanged(index(0, LastRun), index(int(m_rows.size()) - 1, NextRun));
}

int AgentListModel::rowOf(const QString& agentId) const
{
    return m_index.value(agentId, -1);
}

const AgentListModel::Row* AgentListModel::rowFor(const QString& agentId) const
{
    const int row = rowOf(agentId);
    return row < 0 ? nullptr : &m_rows.at(row);
}

QStringList AgentListModel::agentIds() const
{
    QStringList ids;
    for (const Row& r : m_rows)
        ids << r.summary.id;
    return ids;
}

void AgentListModel::setCanRun(bool canRun)
{
    m_canRun = canRun;
}

} // namespace vivarium
