// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/TimelineModel.h"

#include "run/RunFormat.h"

#include <QBrush>
#include <QFont>
#include <QGuiApplication>
#include <QIcon>
#include <QJsonArray>
#include <QJsonObject>
#include <QPainter>
#include <QPixmap>

#include <climits>

namespace vivarium {

using ui::RunFormat;

struct TimelineModel::Node
{
    Node* parent = nullptr;
    std::vector<std::unique_ptr<Node>> children;
    int row = 0;
    bool attached = false; ///< top-level rows: already announced to views
    Kind kind = Kind::Other;
    Severity severity = Severity::Normal;
    qint64 seq = 0;
    QString type;
    QDateTime ts;
    int step = 0;
    QString event;   ///< the event column
    QString base;    ///< a pending row's details without "waiting…", for when it is closed
    QString details; ///< one line, elided
    QString full;    ///< everything, untruncated
    QString title;
    qint64 durationMs = -1;
    QString tokens;
    QString cost;

    Node* top()
    {
        Node* n = this;
        while (n->parent && n->parent->parent)
            n = n->parent;
        return n;
    }
};

struct TimelineModel::Batch
{
    std::vector<std::unique_ptr<Node>> fresh; ///< new top-level rows, in order
    int firstTouched = INT_MAX;               ///< range of attached top-level rows changed
    int lastTouched = -1;
    bool totals = false;
};

namespace {

QString str(const QJsonObject& o, const char* key)
{
    return o.value(QLatin1String(key)).toString();
}

/** A small colored dot per kind of row: the timeline reads at a glance. */
QIcon dot(const QColor& color)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(color);
    p.drawEllipse(QRectF(1.5, 1.5, 9, 9));
    return QIcon(pm);
}

QColor kindColor(TimelineModel::Kind kind, TimelineModel::Severity severity)
{
    using S = TimelineModel::Severity;
    using K = TimelineModel::Kind;
    if (severity == S::Error)
        return QColor(0xd3, 0x2f, 0x2f);
    if (severity == S::Warning)
        return QColor(0xe0, 0x8e, 0x0b);
    switch (kind) {
    case K::ModelTurn:
        return QColor(0x1e, 0x7b, 0xd6);
    case K::ToolCall:
        return QColor(0x8e, 0x44, 0xad);
    case K::Approval:
        return QColor(0xd4, 0xa0, 0x17);
    case K::Output:
        return QColor(0x2e, 0x9d, 0x4f);
    case K::Finished:
        return severity == S::Success ? QColor(0x2e, 0x9d, 0x4f) : QColor(0x80, 0x80, 0x80);
    case K::Lifecycle:
    case K::Log:
    case K::Other:
    case K::Part:
        break;
    }
    return QColor(0x9e, 0x9e, 0x9e);
}

QString tokensText(qint64 in, qint64 out)
{
    return TimelineModel::tr("%1 in / %2 out").arg(RunFormat::count(in), RunFormat::count(out));
}

} // namespace

TimelineModel::TimelineModel(QObject* parent)
    : QAbstractItemModel(parent)
    , m_root(std::make_unique<Node>())
{}

TimelineModel::~TimelineModel() = default;

void TimelineModel::clear()
{
    beginResetModel();
    m_root = std::make_unique<Node>();
    m_lastSeq = 0;
    m_eventCount = 0;
    m_gap = false;
    m_start = QDateTime();
    m_totals = Totals{};
    m_finished.reset();
    m_turnByStep.clear();
    m_toolByCallId.clear();
    m_approvalById.clear();
    m_output = nullptr;
    m_finishedNode = nullptr;
    endResetModel();
    emit totalsChanged();
}

int TimelineModel::appendEvents(const QList<RunEvent>& events)
{
    m_gap = false;
    Batch batch;
    int taken = 0;
    for (const RunEvent& e : events) {
        if (e.seq <= m_lastSeq)
            continue; // already shown (replay and live overlap)
        if (e.seq != m_lastSeq + 1) {
            m_gap = true; // the caller reads the missing ones from the store
            break;
        }
        take(e, batch);
        m_lastSeq = e.seq;
        ++m_eventCount;
        ++taken;
    }
    if (batch.lastTouched >= 0)
        emit dataChanged(index(batch.firstTouched, 0), index(batch.lastTouched, ColumnCount - 1));
    if (!batch.fresh.empty()) {
        const int first = int(m_root->children.size());
        beginInsertRows({}, first, first + int(batch.fresh.size()) - 1);
        for (auto& n : batch.fresh) {
            n->attached = true;
            m_root->children.push_back(std::move(n));
        }
        endInsertRows();
    }
    if (batch.totals)
        emit totalsChanged();
    return taken;
}

QModelIndex TimelineModel::outputIndex() const
{
    return m_output && m_output->attached ? indexOf(m_output) : QModelIndex();
}

QModelIndex TimelineModel::finishedIndex() const
{
    return m_finishedNode && m_finishedNode->attached ? indexOf(m_finishedNode) : QModelIndex();
}

TimelineModel::Node* TimelineModel::addTop(Batch& batch, std::unique_ptr<Node> node)
{
    node->parent = m_root.get();
    node->row = int(m_root->children.size() + batch.fresh.size());
    Node* raw = node.get();
    batch.fresh.push_back(std::move(node));
    return raw;
}

void TimelineModel::addChild(Batch& batch, Node* parent, std::unique_ptr<Node> child)
{
    Q_UNUSED(batch);
    child->parent = parent;
    child->row = int(parent->children.size());
    child->kind = Kind::Part;
    if (parent->top()->attached) {
        beginInsertRows(indexOf(parent), child->row, child->row);
        parent->children.push_back(std::move(child));
        endInsertRows();
    } else {
        parent->children.push_back(std::move(child));
    }
}

void TimelineModel::touched(Batch& batch, Node* node)
{
    Node* top = node->top();
    if (!top->attached)
        return; // announced with its insertion
    if (top != node) {
        emit dataChanged(indexOf(node, 0), indexOf(node, ColumnCount - 1));
        return;
    }
    batch.firstTouched = std::min(batch.firstTouched, top->row);
    batch.lastTouched = std::max(batch.lastTouched, top->row);
}

void TimelineModel::closePending(Batch& batch, const QString& why)
{
    auto close = [&](Node* n) {
        if (n->severity != Severity::Pending)
            return;
        n->severity = Severity::Warning;
        n->details = RunFormat::elide(n->base + QStringLiteral(" · ") + why, DetailsChars);
        touched(batch, n);
    };
    for (Node* n : std::as_const(m_turnByStep))
        close(n);
    for (Node* n : std::as_const(m_toolByCallId))
        close(n);
    for (Node* n : std::as_const(m_approvalById))
        close(n);
}

void TimelineModel::take(const RunEvent& e, Batch& batch)
{
    if (!m_start.isValid())
        m_start = e.ts;
    const QJsonObject& d = e.data;
    const int step = d.value(QStringLiteral("step")).toInt();

    auto make = [&](Kind kind, const QString& event) {
        auto n = std::make_unique<Node>();
        n->kind = kind;
        n->seq = e.seq;
        n->type = e.type;
        n->ts = e.ts;
        n->step = step;
        n->event = event;
        n->title = event;
        n->full = RunFormat::prettyJson(d);
        return n;
    };
    auto part = [&](const QString& label, const QString& text) {
        auto n = std::make_unique<Node>();
        n->seq = e.seq;
        n->type = e.type;
        n->ts = e.ts;
        n->step = step;
        n->event = label;
        n->details = RunFormat::elide(text, DetailsChars);
        n->full = text;
        return n;
    };

    if (e.type == QLatin1String("run.queued")) {
        auto n = make(Kind::Lifecycle, tr("Queued"));
        n->details = tr("agent %1 v%2 · %3")
                         .arg(str(d, "agent"))
                         .arg(d.value(QStringLiteral("agent_version")).toInt())
                         .arg(str(d, "trigger"));
        addTop(batch, std::move(n));
    } else if (e.type == QLatin1String("run.started")) {
        auto n = make(Kind::Lifecycle, tr("Started"));
        const QString tier = d.value(QStringLiteral("tier")).toString(QStringLiteral("none"));
        if (tier == QLatin1String("none")) {
            n->severity = Severity::Warning;
            n->details = tr("runner pid %1 · UNSANDBOXED (tier none)")
                             .arg(d.value(QStringLiteral("runner_pid")).toInt());
        } else {
            n->details = tr("runner pid %1 · sandbox %2")
                             .arg(d.value(QStringLiteral("runner_pid")).toInt())
                             .arg(tier);
        }
        addTop(batch, std::move(n));
    } else if (e.type == QLatin1String("llm.request")) {
        auto n = make(Kind::ModelTurn, tr("Model"));
        n->title = tr("Model turn %1").arg(step);
        n->severity = Severity::Pending;
        n->base = tr("→ %1 · %2 messages · %3 tools")
                      .arg(str(d, "model"))
                      .arg(d.value(QStringLiteral("messages")).toInt())
                      .arg(d.value(QStringLiteral("tools")).toArray().size());
        n->details = n->base + tr(" · waiting for the model…");
        m_turnByStep.insert(step, addTop(batch, std::move(n)));
    } else if (e.type == QLatin1String("llm.response")) {
        Node* n = m_turnByStep.value(step);
        if (!n) {
            auto fresh = make(Kind::ModelTurn, tr("Model"));
            fresh->title = tr("Model turn %1").arg(step);
            n = addTop(batch, std::move(fresh));
            m_turnByStep.insert(step, n);
        } else {
            n->durationMs = n->ts.msecsTo(e.ts);
            n->full = RunFormat::prettyJson(d);
            touched(batch, n);
        }
        const QJsonObject u = d.value(QStringLiteral("usage")).toObject();
        const qint64 in = qint64(u.value(QStringLiteral("input_tokens")).toDouble());
        const qint64 out = qint64(u.value(QStringLiteral("output_tokens")).toDouble());
        const QJsonValue c = d.value(QStringLiteral("cost_usd"));
        n->tokens = tokensText(in, out);
        n->cost = c.isDouble() ? RunFormat::cost(c.toDouble(), false) : RunFormat::cost({}, true);
        m_totals.steps = std::max(m_totals.steps, step);
        m_totals.inputTokens += in;
        m_totals.outputTokens += out;
        if (c.isDouble())
            m_totals.costUsd += c.toDouble();
        else
            m_totals.unpriced = true;
        batch.totals = true;

        QStringList calls;
        for (const QJsonValue& v : d.value(QStringLiteral("tool_calls")).toArray())
            calls << v.toObject().value(QStringLiteral("name")).toString();
        const QString text = str(d, "text");
        const QString refusal = str(d, "refusal");
        const QString stop = str(d, "stop_reason");
        QString what;
        if (!refusal.isEmpty())
            what = tr("refused: %1").arg(refusal);
        else if (!calls.isEmpty())
            what = tr("calls %1").arg(calls.join(QStringLiteral(", ")));
        else if (!text.isEmpty())
            what = QStringLiteral("“%1”").arg(text);
        else
            what = tr("(empty answer)");
        if (!stop.isEmpty() && stop != QLatin1String("end_turn") &&
            stop != QLatin1String("tool_use") && stop != QLatin1String("stop") &&
            stop != QLatin1String("tool_calls"))
            what += tr(" · stopped: %1").arg(stop);
        n->severity = refusal.isEmpty() && stop != QLatin1String("max_tokens") ? Severity::Normal
                                                                               : Severity::Warning;
        n->details = RunFormat::elide(tr("← %1").arg(what), DetailsChars);
        if (!text.isEmpty()) {
            QString full = text;
            if (d.value(QStringLiteral("text_truncated")).toBool())
                full += tr("\n\n[truncated in the journal]");
            addChild(batch, n, part(tr("reply"), full));
        }
        if (!refusal.isEmpty())
            addChild(batch, n, part(tr("refusal"), refusal));
    } else if (e.type == QLatin1String("tool.call")) {
        const QString name = str(d, "name");
        const QJsonValue args = d.value(QStringLiteral("arguments"));
        auto n = make(Kind::ToolCall, tr("Tool"));
        n->title = tr("Tool call %1").arg(name);
        n->severity = Severity::Pending;
        n->base = RunFormat::elide(tr("%1 %2").arg(name, RunFormat::compactJson(args)),
                                   DetailsChars - 20);
        n->details = n->base + tr(" · running…");
        Node* raw = addTop(batch, std::move(n));
        addChild(batch, raw, part(tr("arguments"), RunFormat::prettyJson(args)));
        const QString id = str(d, "call_id");
        m_toolByCallId.insert(id.isEmpty() ? QStringLiteral("%1/%2").arg(step).arg(name) : id, raw);
        ++m_totals.toolCalls;
        batch.totals = true;
    } else if (e.type == QLatin1String("tool.result")) {
        const QString name = str(d, "name");
        const QString id = str(d, "call_id");
        const QString key = id.isEmpty() ? QStringLiteral("%1/%2").arg(step).arg(name) : id;
        Node* n = m_toolByCallId.value(key);
        if (!n) {
            auto fresh = make(Kind::ToolCall, tr("Tool"));
            fresh->title = tr("Tool call %1").arg(name);
            n = addTop(batch, std::move(fresh));
            m_toolByCallId.insert(key, n);
        } else {
            touched(batch, n);
        }
        const bool error = d.value(QStringLiteral("is_error")).toBool();
        const QString content = str(d, "content");
        n->severity = error ? Severity::Error : Severity::Normal;
        n->durationMs = qint64(d.value(QStringLiteral("duration_ms")).toDouble(-1));
        QString args;
        if (!n->children.empty())
            args = n->children.front()->full;
        n->details = RunFormat::elide(error ? tr("%1 → ERROR: %2").arg(name, content)
                                            : tr("%1 → %2").arg(name, content),
                                      DetailsChars);
        n->full = tr("%1\n\narguments:\n%2\n\n%3:\n%4")
                      .arg(name, args, error ? tr("error") : tr("result"), content);
        addChild(batch, n, part(error ? tr("error") : tr("result"), content));
        if (error) {
            ++m_totals.toolErrors;
            ++m_totals.errors;
            batch.totals = true;
        }
    } else if (e.type == QLatin1String("log")) {
        const QString level = str(d, "level");
        const bool isError = level == QLatin1String("error");
        const bool isWarning = level == QLatin1String("warn") || level == QLatin1String("warning");
        auto n = make(Kind::Log, isError ? tr("Error") : isWarning ? tr("Warning") : tr("Log"));
        n->title = tr("Log (%1)").arg(level);
        const QString message = str(d, "message");
        n->details = RunFormat::elide(message, DetailsChars);
        if (isError) {
            n->severity = Severity::Error;
            ++m_totals.errors;
            batch.totals = true;
            // A failed model call leaves its turn waiting: end it there too.
            if (Node* turn = m_turnByStep.value(step);
                turn && turn->severity == Severity::Pending && step > 0) {
                turn->severity = Severity::Error;
                turn->durationMs = turn->ts.msecsTo(e.ts);
                turn->details = RunFormat::elide(tr("← %1").arg(message), DetailsChars);
                touched(batch, turn);
            }
        } else if (isWarning) {
            n->severity = Severity::Warning;
        }
        addTop(batch, std::move(n));
    } else if (e.type == QLatin1String("approval.requested")) {
        auto n = make(Kind::Approval, tr("Approval"));
        n->severity = Severity::Pending;
        const QString what = !str(d, "tool").isEmpty() ? str(d, "tool") : str(d, "name");
        n->title = tr("Approval for %1").arg(what);
        n->base = RunFormat::elide(
            tr("requested for %1 %2")
                .arg(what, RunFormat::compactJson(d.value(QStringLiteral("arguments")))),
            DetailsChars - 30);
        n->details = n->base + tr(" · waiting for a decision…");
        QString id = str(d, "approval_id");
        if (id.isEmpty())
            id = str(d, "id");
        m_approvalById.insert(id, addTop(batch, std::move(n)));
    } else if (e.type == QLatin1String("approval.resolved")) {
        QString id = str(d, "approval_id");
        if (id.isEmpty())
            id = str(d, "id");
        Node* n = m_approvalById.value(id);
        if (!n) {
            n = addTop(batch, make(Kind::Approval, tr("Approval")));
        } else {
            n->durationMs = n->ts.msecsTo(e.ts);
            n->full += QStringLiteral("\n\n") + RunFormat::prettyJson(d);
            touched(batch, n);
        }
        QString decision = str(d, "decision");
        if (decision.isEmpty() && d.contains(QStringLiteral("approved")))
            decision = d.value(QStringLiteral("approved")).toBool() ? QStringLiteral("approved")
                                                                    : QStringLiteral("denied");
        const bool ok = decision == QLatin1String("approved") ||
                        decision == QLatin1String("approve") || decision == QLatin1String("allow");
        n->severity = ok ? Severity::Success : Severity::Error;
        const QString by = str(d, "by");
        n->details = by.isEmpty() ? tr("%1").arg(decision) : tr("%1 by %2").arg(decision, by);
    } else if (e.type == QLatin1String("run.output")) {
        auto n = make(Kind::Output, tr("Output"));
        n->title = tr("Output");
        n->severity = Severity::Success;
        const QJsonValue output = d.value(QStringLiteral("output"));
        n->details = RunFormat::elide(RunFormat::compactJson(output), DetailsChars);
        n->full = RunFormat::prettyJson(output);
        m_output = addTop(batch, std::move(n));
    } else if (e.type == QLatin1String("run.finished")) {
        const QString statusName = str(d, "status");
        const std::optional<RunStatus> status = runStatusFromString(statusName);
        auto n = make(Kind::Finished, tr("Finished"));
        n->title = tr("Run finished");
        const QJsonObject u = d.value(QStringLiteral("usage")).toObject();
        const QString reason = str(d, "reason");
        if (status) {
            m_finished = status;
            n->severity = *status == RunStatus::Succeeded     ? Severity::Success
                          : *status == RunStatus::Cancelled   ? Severity::Warning
                          : *status == RunStatus::Interrupted ? Severity::Warning
                                                              : Severity::Error;
        }
        if (!u.isEmpty()) {
            m_totals.steps = u.value(QStringLiteral("steps")).toInt(m_totals.steps);
            m_totals.inputTokens = qint64(u.value(QStringLiteral("input_tokens")).toDouble());
            m_totals.outputTokens = qint64(u.value(QStringLiteral("output_tokens")).toDouble());
            const QJsonValue c = u.value(QStringLiteral("cost_usd"));
            m_totals.unpriced = u.value(QStringLiteral("unpriced")).toBool() || !c.isDouble();
            m_totals.costUsd = c.toDouble();
            // A run that never got an answer has nothing to count: blank, not "0" or "$0".
            if (m_totals.steps > 0 || m_totals.inputTokens + m_totals.outputTokens > 0) {
                n->tokens = tokensText(m_totals.inputTokens, m_totals.outputTokens);
                n->cost = RunFormat::cost(m_totals.costUsd, m_totals.unpriced);
            } else if (m_totals.unpriced) {
                n->cost = RunFormat::cost({}, true);
            }
        }
        if (n->severity == Severity::Error)
            ++m_totals.errors;
        batch.totals = true;
        n->durationMs = qint64(d.value(QStringLiteral("duration_ms")).toDouble(-1));
        QString what = status ? RunFormat::statusText(*status) : statusName;
        if (!reason.isEmpty())
            what += QStringLiteral(" · ") + reason;
        if (!str(d, "ended_by").isEmpty())
            what += tr(" · ended by %1").arg(str(d, "ended_by"));
        n->details = RunFormat::elide(what, DetailsChars);
        closePending(batch, tr("no answer: the run ended"));
        m_finishedNode = addTop(batch, std::move(n));
    } else {
        auto n = make(Kind::Other, e.type);
        n->details = RunFormat::elide(RunFormat::compactJson(d), DetailsChars);
        addTop(batch, std::move(n));
    }
}

// --- QAbstractItemModel -------------------------------------------------------------------

TimelineModel::Node* TimelineModel::nodeOf(const QModelIndex& index) const
{
    return index.isValid() ? static_cast<Node*>(index.internalPointer()) : m_root.get();
}

QModelIndex TimelineModel::indexOf(Node* node, int column) const
{
    if (!node || node == m_root.get())
        return {};
    return createIndex(node->row, column, node);
}

QModelIndex TimelineModel::index(int row, int column, const QModelIndex& parent) const
{
    const Node* p = nodeOf(parent);
    if (row < 0 || column < 0 || column >= ColumnCount || row >= int(p->children.size()))
        return {};
    return createIndex(row, column, p->children[size_t(row)].get());
}

QModelIndex TimelineModel::parent(const QModelIndex& child) const
{
    if (!child.isValid())
        return {};
    Node* n = static_cast<Node*>(child.internalPointer());
    return indexOf(n->parent);
}

int TimelineModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    return int(nodeOf(parent)->children.size());
}

int TimelineModel::columnCount(const QModelIndex&) const
{
    return ColumnCount;
}

QVariant TimelineModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid())
        return {};
    const Node* n = static_cast<const Node*>(index.internalPointer());
    const int col = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (col) {
        case TimeColumn: {
            if (n->kind == Kind::Part || !m_start.isValid())
                return {};
            const qint64 ms = m_start.msecsTo(n->ts);
            return QStringLiteral("+%1:%2.%3")
                .arg(ms / 60000)
                .arg(ms / 1000 % 60, 2, 10, QLatin1Char('0'))
                .arg(ms / 100 % 10);
        }
        case StepColumn:
            return n->step > 0 && n->kind != Kind::Part ? QVariant(n->step) : QVariant();
        case EventColumn:
            return n->event;
        case DurationColumn:
            return n->durationMs >= 0 ? RunFormat::duration(n->durationMs) : QString();
        case TokensColumn:
            return n->tokens;
        case CostColumn:
            return n->cost;
        case DetailsColumn:
            return n->details;
        }
        return {};
    case Qt::ToolTipRole:
        if (col == TimeColumn)
            return RunFormat::timestamp(n->ts);
        if (col == DetailsColumn || col == EventColumn) {
            constexpr int TipChars = 1500;
            if (n->full.size() <= TipChars)
                return n->full;
            return QString(n->full.left(TipChars) +
                           tr("\n… %1 more characters: select the row to see everything")
                               .arg(n->full.size() - TipChars));
        }
        if (col == CostColumn && n->cost == RunFormat::cost({}, true))
            return tr("The model has no known price: the cost is unknown, not zero.");
        return {};
    case Qt::TextAlignmentRole:
        if (col == StepColumn)
            return QVariant(Qt::AlignHCenter | Qt::AlignVCenter);
        if (col == DurationColumn || col == TokensColumn || col == CostColumn || col == TimeColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::DecorationRole:
        if (col == EventColumn && n->kind != Kind::Part && qGuiApp) {
            static QHash<QRgb, QIcon> cache; // a handful of colors: one icon each
            const QColor c = kindColor(n->kind, n->severity);
            if (!cache.contains(c.rgb()))
                cache.insert(c.rgb(), dot(c));
            return cache.value(c.rgb());
        }
        return {};
    case Qt::ForegroundRole:
        if (n->severity == Severity::Error && (col == EventColumn || col == DetailsColumn))
            return QBrush(QColor(0xc6, 0x28, 0x28));
        if (n->severity == Severity::Warning && (col == EventColumn || col == DetailsColumn))
            return QBrush(QColor(0xb2, 0x6a, 0x00));
        if (n->kind == Kind::Part && col == EventColumn)
            return QBrush(QColor(0x80, 0x80, 0x80));
        return {};
    case Qt::BackgroundRole:
        // Translucent, so it tints light and dark palettes alike.
        if (n->severity == Severity::Error && n->kind != Kind::Part)
            return QBrush(QColor(0xd3, 0x2f, 0x2f, 36));
        return {};
    case Qt::FontRole:
        if (n->severity == Severity::Pending) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        if (n->kind == Kind::Finished || n->kind == Kind::Output) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    case KindRole:
        return int(n->kind);
    case SeverityRole:
        return int(n->severity);
    case SeqRole:
        return n->seq;
    case FullTextRole:
        return n->full;
    case EventTypeRole:
        return n->type;
    case TitleRole:
        if (n->kind == Kind::Part && n->parent)
            return QStringLiteral("%1 · %2").arg(n->parent->title, n->event);
        return n->title;
    }
    return {};
}

QVariant TimelineModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case StepColumn:
        return tr("Step");
    case EventColumn:
        return tr("Event");
    case DurationColumn:
        return tr("Duration");
    case TokensColumn:
        return tr("Tokens");
    case CostColumn:
        return tr("Cost");
    case DetailsColumn:
        return tr("Details");
    }
    return {};
}

} // namespace vivarium
