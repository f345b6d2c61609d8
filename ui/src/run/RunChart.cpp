// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/RunChart.h"

#include "run/RunFormat.h"
#include "run/RunLogging.h"
#include "vivarium/core/Store.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QCursor>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QStackedBarSeries>
#include <QStackedWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace vivarium {

using ui::RunFormat;

namespace {

constexpr int DefaultLimit = 30;
constexpr int MaxLimit = 500;

/** One charted run. */
struct Point
{
    RunRecord run;
    double seconds = 0;
    bool live = false;
};

/** The order the outcome sets are stacked and listed in the legend. */
const QList<RunStatus>& outcomeOrder()
{
    static const QList<RunStatus> order{
        RunStatus::Succeeded, RunStatus::Failed,      RunStatus::TimedOut,
        RunStatus::Cancelled, RunStatus::Interrupted, RunStatus::AwaitingApproval,
        RunStatus::Running,   RunStatus::Starting,    RunStatus::Queued};
    return order;
}

} // namespace

struct RunChart::Private
{
    Q_DECLARE_TR_FUNCTIONS(vivarium::RunChart)
public:
    RunChart* q = nullptr;
    Store* store = nullptr;
    QString agentId;
    int limit = DefaultLimit;
    QList<Point> points;

    QStackedWidget* stack = nullptr;
    QLabel* empty = nullptr;
    QWidget* content = nullptr;
    QChartView* view = nullptr;
    QLabel* summary = nullptr;

    void rebuild();
    /** The view does not delete the chart it shows when given another. */
    void setChart(QChart* chart)
    {
        QChart* old = view->chart();
        view->setChart(chart);
        if (old)
            old->deleteLater();
    }
    QString tooltip(int index) const;
    void showTip(int index);
};

QString RunChart::Private::tooltip(int index) const
{
    if (index < 0 || index >= points.size())
        return {};
    const Point& p = points.at(index);
    const RunRecord& r = p.run;
    QStringList lines;
    lines << QStringLiteral("<b>%1</b>").arg(r.id.toHtmlEscaped());
    QString status = RunFormat::statusText(r.status);
    if (!r.reason.isEmpty())
        status += QStringLiteral(" (%1)").arg(r.reason.toHtmlEscaped());
    lines << tr("Status: %1").arg(status);
    lines << tr("Queued: %1").arg(RunFormat::timestamp(r.createdAt));
    lines << (p.live ? tr("Running for: %1") : tr("Duration: %1"))
                 .arg(RunFormat::duration(qint64(p.seconds * 1000)));
    lines << tr("Steps: %1").arg(r.usage.steps);
    lines << tr("Tokens: %1 (%2 in / %3 out)")
                 .arg(RunFormat::count(r.usage.inputTokens + r.usage.outputTokens),
                      RunFormat::count(r.usage.inputTokens),
                      RunFormat::count(r.usage.outputTokens));
    lines << tr("Cost: %1")
                 .arg(r.usage.steps == 0 && !r.usage.unpriced
                          ? tr("no model call")
                          : RunFormat::cost(r.usage.costUsd, r.usage.unpriced));
    if (!r.trigger.isEmpty())
        lines << tr("Trigger: %1").arg(r.trigger.toHtmlEscaped());
    lines << tr("<i>Click to open the run</i>");
    return lines.join(QStringLiteral("<br>"));
}

void RunChart::Private::showTip(int index)
{
    QToolTip::showText(QCursor::pos(), tooltip(index), view);
}

void RunChart::Private::rebuild()
{
    points.clear();
    auto* chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    if (q->palette().color(QPalette::Window).lightness() < 128)
        chart->setTheme(QChart::ChartThemeDark);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));

    if (agentId.isEmpty()) {
        empty->setText(tr("<h3>No agent selected</h3>"));
        stack->setCurrentWidget(empty);
        setChart(chart);
        return;
    }
    RunFilter filter;
    filter.agentId = agentId;
    filter.limit = limit * 2 + 20; // ledger entries are left out below
    auto runs = store->runs(filter);
    if (!runs) {
        qCWarning(lcUiRun).noquote()
            << "could not read runs of" << agentId << ":" << runs.error().toString();
        empty->setText(tr("<h3>Could not read the runs</h3><p>%1</p>")
                           .arg(runs.error().message.toHtmlEscaped()));
        stack->setCurrentWidget(empty);
        setChart(chart);
        return;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const RunRecord& r : std::as_const(*runs)) {
        if (r.status == RunStatus::Skipped || r.status == RunStatus::Missed)
            continue; // they never ran; the schedule ledger lists them
        Point p;
        p.run = r;
        p.live = !isTerminal(r.status);
        const QDateTime from = r.startedAt.isValid() ? r.startedAt : r.createdAt;
        const QDateTime to = r.finishedAt.isValid() ? r.finishedAt : (p.live ? now : from);
        p.seconds = std::max<qint64>(0, from.msecsTo(to)) / 1000.0;
        points.prepend(p); // newest first from the store: oldest ends up left
        if (points.size() >= limit)
            break;
    }
    if (points.isEmpty()) {
        empty->setText(tr("<h3>No runs yet</h3><p>When agent <b>%1</b> has run, its recent "
                          "runs appear here: how long each took, how it ended, the tokens "
                          "and the cost.</p>")
                           .arg(agentId.toHtmlEscaped()));
        stack->setCurrentWidget(empty);
        setChart(chart);
        return;
    }

    // Categories must be unique: runs queued in the same second get invisible suffixes.
    QStringList categories;
    const bool sameDay = points.constFirst().run.createdAt.toLocalTime().date() ==
                         points.constLast().run.createdAt.toLocalTime().date();
    for (const Point& p : std::as_const(points)) {
        QString label = p.run.createdAt.toLocalTime().toString(
            sameDay ? QStringLiteral("HH:mm:ss") : QStringLiteral("MM-dd HH:mm"));
        while (categories.contains(label))
            label += QChar(0x200B);
        categories << label;
    }

    // Durations: one stacked set per outcome, so each run's single bar has its outcome color.
    double maxSeconds = 0;
    for (const Point& p : std::as_const(points))
        maxSeconds = std::max(maxSeconds, p.seconds);
    double unit = 1;
    QString unitName = tr("s");
    if (maxSeconds >= 2 * 3600) {
        unit = 3600;
        unitName = tr("h");
    } else if (maxSeconds >= 180) {
        unit = 60;
        unitName = tr("min");
    }
    auto* bars = new QStackedBarSeries;
    bars->setBarWidth(0.7);
    for (RunStatus s : outcomeOrder()) {
        const bool present = std::any_of(points.cbegin(), points.cend(),
                                         [&](const Point& p) { return p.run.status == s; });
        if (!present)
            continue;
        auto* set = new QBarSet(RunFormat::statusText(s));
        set->setColor(RunFormat::chartColor(s));
        set->setBorderColor(RunFormat::chartColor(s).darker(120));
        for (const Point& p : std::as_const(points))
            set->append(p.run.status == s ? p.seconds / unit : 0.0);
        QObject::connect(set, &QBarSet::hovered, q, [this](bool on, int index) {
            if (on)
                showTip(index);
            else
                QToolTip::hideText();
        });
        QObject::connect(set, &QBarSet::clicked, q, [this](int index) {
            if (index >= 0 && index < points.size())
                emit q->runActivated(points.at(index).run.id);
        });
        bars->append(set);
    }
    chart->addSeries(bars);

    auto* x = new QBarCategoryAxis;
    x->append(categories);
    if (points.size() > 10)
        x->setLabelsAngle(-60);
    chart->addAxis(x, Qt::AlignBottom);
    bars->attachAxis(x);

    auto* yDuration = new QValueAxis;
    yDuration->setTitleText(tr("Duration (%1)").arg(unitName));
    yDuration->setMin(0);
    yDuration->setMax(std::max(maxSeconds / unit * 1.1, 1.0));
    yDuration->setLabelFormat(QStringLiteral("%.0f"));
    yDuration->applyNiceNumbers();
    chart->addAxis(yDuration, Qt::AlignLeft);
    bars->attachAxis(yDuration);

    // Tokens: a line over the bars, on its own axis.
    auto* tokens = new QLineSeries;
    tokens->setName(tr("Tokens"));
    tokens->setPointsVisible(true);
    QPen tokenPen(QColor(0x3f, 0x51, 0xb5));
    tokenPen.setWidthF(2);
    tokens->setPen(tokenPen);
    qint64 maxTokens = 0;
    for (int i = 0; i < points.size(); ++i) {
        const RunUsage& u = points.at(i).run.usage;
        tokens->append(i, double(u.inputTokens + u.outputTokens));
        maxTokens = std::max(maxTokens, u.inputTokens + u.outputTokens);
    }
    chart->addSeries(tokens);
    tokens->attachAxis(x);
    auto* yTokens = new QValueAxis;
    yTokens->setTitleText(tr("Tokens"));
    yTokens->setMin(0);
    yTokens->setMax(std::max(double(maxTokens) * 1.1, 10.0));
    yTokens->setLabelFormat(QStringLiteral("%.0f"));
    yTokens->applyNiceNumbers();
    yTokens->setLinePenColor(tokenPen.color());
    yTokens->setLabelsColor(tokenPen.color());
    chart->addAxis(yTokens, Qt::AlignRight);
    tokens->attachAxis(yTokens);
    QObject::connect(tokens, &QLineSeries::hovered, q, [this](const QPointF& p, bool on) {
        if (on)
            showTip(int(std::lround(p.x())));
        else
            QToolTip::hideText();
    });

    // Cost: markers only for priced runs. An unpriced run has no point (its cost is unknown,
    // not zero); the summary counts them.
    auto* cost = new QScatterSeries;
    cost->setName(tr("Cost (USD)"));
    cost->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    cost->setMarkerSize(9);
    const QColor costColor(0x00, 0x89, 0x7b);
    cost->setColor(costColor);
    cost->setBorderColor(costColor.darker(130));
    double maxCost = 0;
    int unpriced = 0;
    double totalCost = 0;
    for (int i = 0; i < points.size(); ++i) {
        const RunUsage& u = points.at(i).run.usage;
        if (u.unpriced) {
            ++unpriced;
            continue;
        }
        if (u.steps == 0 || !u.costUsd)
            continue;
        cost->append(i, *u.costUsd);
        maxCost = std::max(maxCost, *u.costUsd);
        totalCost += *u.costUsd;
    }
    // Read before the series may be deleted below: the summary line needs it.
    const bool anyPriced = cost->count() > 0;
    if (anyPriced) {
        chart->addSeries(cost);
        cost->attachAxis(x);
        auto* yCost = new QValueAxis;
        yCost->setTitleText(tr("Cost (USD)"));
        yCost->setMin(0);
        yCost->setMax(maxCost * 1.1);
        yCost->applyNiceNumbers();
        yCost->setLabelFormat(maxCost < 0.1 ? QStringLiteral("$%.4f") : QStringLiteral("$%.2f"));
        yCost->setLinePenColor(costColor);
        yCost->setLabelsColor(costColor);
        chart->addAxis(yCost, Qt::AlignRight);
        cost->attachAxis(yCost);
        QObject::connect(cost, &QScatterSeries::hovered, q, [this](const QPointF& p, bool on) {
            if (on)
                showTip(int(std::lround(p.x())));
            else
                QToolTip::hideText();
        });
    } else {
        delete cost;
        cost = nullptr;
    }

    setChart(chart);
    stack->setCurrentWidget(content);

    // One line of insight under the chart.
    QHash<RunStatus, int> byStatus;
    QList<double> durations;
    for (const Point& p : std::as_const(points)) {
        ++byStatus[p.run.status];
        if (!p.live)
            durations << p.seconds;
    }
    QStringList parts;
    // No English catalogue is loaded: plurals are spelled out rather than "run(s)".
    parts << (points.size() == 1 ? tr("1 run") : tr("%1 runs").arg(points.size()));
    for (RunStatus s : outcomeOrder()) {
        if (const int n = byStatus.value(s))
            parts << QStringLiteral("<span style=\"color:%1\">%2 %3</span>")
                         .arg(RunFormat::chartColor(s).name())
                         .arg(n)
                         .arg(RunFormat::statusText(s).toLower());
    }
    if (!durations.isEmpty()) {
        std::sort(durations.begin(), durations.end());
        parts << tr("median %1")
                     .arg(RunFormat::duration(qint64(durations.at(durations.size() / 2) * 1000)));
    }
    QString costText = anyPriced || unpriced == 0
                           ? tr("cost %1").arg(RunFormat::cost(totalCost, false))
                           : QString();
    if (unpriced > 0)
        costText += (costText.isEmpty() ? QString() : QStringLiteral(" + ")) +
                    (unpriced == 1 ? tr("1 unpriced run") : tr("%1 unpriced runs").arg(unpriced));
    parts << costText;
    summary->setText(parts.join(QStringLiteral(" · ")));
}

RunChart::RunChart(Store* store, QWidget* parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    setObjectName(QStringLiteral("runChart"));

    d->empty = new QLabel(this);
    d->empty->setObjectName(QStringLiteral("runChartEmptyState"));
    d->empty->setAlignment(Qt::AlignCenter);
    d->empty->setWordWrap(true);

    d->content = new QWidget(this);
    auto* cl = new QVBoxLayout(d->content);
    cl->setContentsMargins(0, 0, 0, 0);
    d->view = new QChartView(d->content);
    d->view->setObjectName(QStringLiteral("runChartView"));
    d->view->setRenderHint(QPainter::Antialiasing);
    d->view->setMinimumHeight(220);
    d->summary = new QLabel(d->content);
    d->summary->setObjectName(QStringLiteral("runChartSummary"));
    d->summary->setTextFormat(Qt::RichText);
    d->summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    d->summary->setContentsMargins(6, 2, 6, 4);
    cl->addWidget(d->view, 1);
    cl->addWidget(d->summary);

    d->stack = new QStackedWidget(this);
    d->stack->addWidget(d->empty);
    d->stack->addWidget(d->content);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->addWidget(d->stack);
    d->rebuild();
}

RunChart::~RunChart() = default;

void RunChart::setRunLimit(int limit)
{
    d->limit = std::clamp(limit, 1, MaxLimit);
    if (!d->agentId.isEmpty())
        d->rebuild();
}

int RunChart::runLimit() const
{
    return d->limit;
}

QStringList RunChart::runIds() const
{
    QStringList ids;
    for (const Point& p : std::as_const(d->points))
        ids << p.run.id;
    return ids;
}

void RunChart::showAgent(const QString& agentId)
{
    d->agentId = agentId;
    d->rebuild();
}

void RunChart::refresh()
{
    d->rebuild();
}

} // namespace vivarium
