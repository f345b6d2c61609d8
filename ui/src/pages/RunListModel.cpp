// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "RunListModel.h"

#include "Format.h"

#include <QFont>

namespace vivarium {

namespace {

qint64 durationMs(const RunRecord& r)
{
    if (!r.startedAt.isValid())
        return -1;
    const QDateTime end = r.finishedAt.isValid() ? r.finishedAt : QDateTime::currentDateTimeUtc();
    return r.startedAt.msecsTo(end);
}

} // namespace

RunListModel::RunListModel(Store* store, QObject* parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{}

int RunListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RunListModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Status:
        return tr("Status");
    case Agent:
        return tr("Agent");
    case Started:
        return tr("Created");
    case Duration:
        return tr("Duration");
    case Trigger:
        return tr("Trigger");
    case Steps:
        return tr("Steps");
    case Tokens:
        return tr("Tokens");
    case Cost:
        return tr("Cost");
    case Reason:
        return tr("Reason");
    }
    return {};
}

QVariant RunListModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const RunRecord& r = m_rows.at(index.row());
    if (role == RunIdRole)
        return r.id;
    if (role == AgentIdRole)
        return r.agentId;
    if (role == LiveRole)
        return !isTerminal(r.status);
    if (role == Qt::ToolTipRole && index.column() != Reason && index.column() != Started)
        return r.id;
    switch (index.column()) {
    case Status:
        if (role == Qt::DisplayRole)
            return Format::status(r.status);
        if (role == Qt::DecorationRole)
            return Format::statusIcon(r.status);
        if (role == Qt::ForegroundRole)
            return Format::statusColor(r.status);
        break;
    case Agent:
        if (role == Qt::DisplayRole)
            return m_agentNames.value(r.agentId, r.agentId);
        break;
    case Started:
        if (role == Qt::DisplayRole)
            return Format::relative(
                r.scheduledFor.isValid() && !r.startedAt.isValid() ? r.scheduledFor : r.createdAt);
        if (role == Qt::ToolTipRole) {
            QString tip = tr("Created %1").arg(Format::absolute(r.createdAt));
            if (r.startedAt.isValid())
                tip += QLatin1Char('\n') + tr("Started %1").arg(Format::absolute(r.startedAt));
            if (r.finishedAt.isValid())
                tip += QLatin1Char('\n') + tr("Finished %1").arg(Format::absolute(r.finishedAt));
            if (r.scheduledFor.isValid())
                tip += QLatin1Char('\n') +
                       tr("Scheduled for %1").arg(Format::absolute(r.scheduledFor));
            return tip;
        }
        break;
    case Duration:
        if (role == Qt::DisplayRole)
            return Format::duration(durationMs(r));
        if (role == Qt::TextAlignmentRole)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Trigger:
        if (role == Qt::DisplayRole)
            return r.trigger;
        break;
    case Steps:
        if (role == Qt::DisplayRole)
            return r.usage.steps > 0 ? QString::number(r.usage.steps) : QString();
        if (role == Qt::TextAlignmentRole)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Tokens:
        if (role == Qt::DisplayRole) {
            const qint64 t = r.usage.inputTokens + r.usage.outputTokens;
            return t > 0 ? Format::count(t) : QString();
        }
        if (role == Qt::TextAlignmentRole)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Cost:
        if (role == Qt::DisplayRole)
            return Format::cost(r.usage);
        if (role == Qt::TextAlignmentRole)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case Reason:
        if (role == Qt::DisplayRole || role == Qt::ToolTipRole)
            return r.reason;
        break;
    default:
        break;
    }
    return {};
}

bool RunListModel::matches(const RunRecord& run) const
{
    if (!m_filter.agentId.isEmpty() && run.agentId != m_filter.agentId)
        return false;
    if (m_filter.status && run.status != *m_filter.status)
        return false;
    const QString t = m_filter.text.trimmed();
    if (t.isEmpty())
        return true;
    for (const QString& field : {run.id, run.agentId, m_agentNames.value(run.agentId), run.trigger,
                                 run.reason, Format::status(run.status)}) {
        if (field.contains(t, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

bool RunListModel::canFetchMore(const QModelIndex& parent) const
{
    return !parent.isValid() && !m_exhausted && m_error.isEmpty();
}

void RunListModel::fetchMore(const QModelIndex& parent)
{
    if (!canFetchMore(parent))
        return;
    QList<RunRecord> found;
    int scanned = 0;
    while (found.size() < PageSize && scanned < ScanLimit) {
        RunFilter f;
        f.agentId = m_filter.agentId;
        f.status = m_filter.status;
        f.beforeId = m_cursor;
        f.limit = m_filter.text.trimmed().isEmpty() ? PageSize : 500;
        auto page = m_store->runs(f);
        if (!page) {
            m_error = page.error().message;
            break;
        }
        for (const RunRecord& r : std::as_const(*page)) {
            if (matches(r) && !m_index.contains(r.id))
                found.append(r);
        }
        scanned += int(page->size());
        if (!page->isEmpty())
            m_cursor = page->constLast().id;
        if (page->size() < f.limit) {
            m_exhausted = true;
            break;
        }
    }
    if (!found.isEmpty()) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + found.size() - 1));
        m_rows.append(found);
        reindex();
        endInsertRows();
    }
    emit pageLoaded();
}

void RunListModel::setFilter(const Filter& filter)
{
    beginResetModel();
    m_filter = filter;
    m_rows.clear();
    m_index.clear();
    m_cursor.clear();
    m_exhausted = false;
    m_error.clear();
    endResetModel();
    fetchMore({});
}

void RunListModel::setAgentNames(const QHash<QString, QString>& names)
{
    m_agentNames = names;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, Agent), index(int(m_rows.size()) - 1, Agent));
}

void RunListModel::upsert(const RunRecord& run)
{
    const int row = rowOf(run.id);
    if (row >= 0) {
        if (!matches(run)) { // e.g. filtered by status and it just moved on
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            reindex();
            endRemoveRows();
            return;
        }
        m_rows[row] = run;
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
        return;
    }
    if (!matches(run))
        return;
    // Newest first: find its place by id (ULIDs sort by creation time).
    int at = 0;
    while (at < m_rows.size() && m_rows.at(at).id > run.id)
        ++at;
    if (at == m_rows.size() && !m_exhausted)
        return; // older than what is loaded: paging will bring it
    beginInsertRows({}, at, at);
    m_rows.insert(at, run);
    reindex();
    endInsertRows();
}

void RunListModel::refreshRecent()
{
    QStringList live;
    for (const RunRecord& r : std::as_const(m_rows))
        if (!isTerminal(r.status))
            live << r.id;
    for (const QString& id : std::as_const(live))
        if (auto r = m_store->run(id))
            upsert(*r);
    Store::RunQuery q;
    q.agentId = m_filter.agentId;
    q.status = m_filter.status;
    q.limit = 200;
    if (!m_rows.isEmpty())
        q.since = m_rows.constFirst().createdAt;
    if (auto recent = m_store->queryRuns(q)) {
        for (auto it = recent->crbegin(); it != recent->crend(); ++it)
            upsert(*it);
    }
}

void RunListModel::tick()
{
    for (int i = 0; i < m_rows.size(); ++i)
        if (!isTerminal(m_rows.at(i).status) && m_rows.at(i).startedAt.isValid())
            emit dataChanged(index(i, Duration), index(i, Duration));
}

int RunListModel::rowOf(const QString& runId) const
{
    return m_index.value(runId, -1);
}

void RunListModel::reindex()
{
    m_index.clear();
    for (int i = 0; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).id, i);
}

} // namespace vivarium
