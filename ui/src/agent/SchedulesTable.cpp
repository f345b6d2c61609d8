// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "SchedulesTable.h"

#include "Format.h"
#include "Icons.h"

#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QComboBox>
#include <QCompleter>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QTimeZone>
#include <QVBoxLayout>

namespace vivarium {

namespace {

enum Column { Cron, Zone, Overlap, Misfire, MaxAge, Jitter, Enabled, When, ColumnCount };

const QStringList OverlapChoices = {QStringLiteral("skip"), QStringLiteral("queue_one"),
                                    QStringLiteral("allow")};
const QStringList MisfireChoices = {QStringLiteral("run_once"), QStringLiteral("skip")};

/** A combo box for a column with fixed choices. */
class ChoiceDelegate : public QStyledItemDelegate
{
public:
    ChoiceDelegate(QStringList choices, QObject* parent)
        : QStyledItemDelegate(parent)
        , m_choices(std::move(choices))
    {}
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem&,
                          const QModelIndex&) const override
    {
        auto* box = new QComboBox(parent);
        box->addItems(m_choices);
        return box;
    }
    void setEditorData(QWidget* editor, const QModelIndex& index) const override
    {
        static_cast<QComboBox*>(editor)->setCurrentText(index.data().toString());
    }
    void setModelData(QWidget* editor, QAbstractItemModel* model,
                      const QModelIndex& index) const override
    {
        model->setData(index, static_cast<QComboBox*>(editor)->currentText());
    }

private:
    QStringList m_choices;
};

/** IANA zone ids with completion. */
class ZoneDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem&,
                          const QModelIndex&) const override
    {
        auto* edit = new QLineEdit(parent);
        static const QStringList zones = [] {
            QStringList list;
            for (const QByteArray& id : QTimeZone::availableTimeZoneIds())
                list << QString::fromUtf8(id);
            return list;
        }();
        auto* completer = new QCompleter(zones, edit);
        completer->setCaseSensitivity(Qt::CaseInsensitive);
        completer->setFilterMode(Qt::MatchContains);
        edit->setCompleter(completer);
        edit->setPlaceholderText(ScheduleRules::systemZoneId());
        return edit;
    }
};

QString durationText(const std::optional<int>& s)
{
    return s ? ScheduleRules::formatDuration(*s) : QString();
}

/** A duration as typed: whole seconds become a number, anything else stays text. */
QJsonValue durationJson(const QString& text)
{
    bool ok = false;
    const qint64 n = text.toLongLong(&ok);
    return ok ? QJsonValue(n) : QJsonValue(text);
}

} // namespace

SchedulesTable::SchedulesTable(QWidget* parent)
    : QWidget(parent)
{
    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("agentSchedules"));
    m_table->setHorizontalHeaderLabels({tr("Cron"), tr("Time zone"), tr("If still running"),
                                        tr("After downtime"), tr("Catch up within"), tr("Jitter"),
                                        tr("On"), tr("When")});
    m_table->horizontalHeaderItem(Overlap)->setToolTip(
        tr("skip: drop the fire; queue_one: run once after; allow: run alongside"));
    m_table->horizontalHeaderItem(Misfire)->setToolTip(
        tr("run_once: one catch-up run if missed by at most the age; skip: record it missed"));
    m_table->horizontalHeaderItem(MaxAge)->setToolTip(tr("e.g. 1h, 90m (default 1h)"));
    m_table->horizontalHeaderItem(Jitter)->setToolTip(
        tr("a random delay up to this long, e.g. 30s, 5m"));
    m_table->verticalHeader()->setVisible(false);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setItemDelegateForColumn(Overlap, new ChoiceDelegate(OverlapChoices, m_table));
    m_table->setItemDelegateForColumn(Misfire, new ChoiceDelegate(MisfireChoices, m_table));
    m_table->setItemDelegateForColumn(Zone, new ZoneDelegate(m_table));
    QHeaderView* h = m_table->horizontalHeader();
    h->setStretchLastSection(true);
    h->resizeSection(Cron, 150);
    h->resizeSection(Zone, 140);
    h->resizeSection(Overlap, 110);
    h->resizeSection(Misfire, 110);
    h->resizeSection(MaxAge, 100);
    h->resizeSection(Jitter, 60);
    h->resizeSection(Enabled, 40);
    m_table->setTabKeyNavigation(false);

    auto* add = new QPushButton(icons::get(QStringLiteral("add")), tr("Add schedule"), this);
    add->setObjectName(QStringLiteral("agentAddSchedule"));
    m_remove = new QPushButton(icons::get(QStringLiteral("remove")), tr("Remove"), this);
    m_remove->setObjectName(QStringLiteral("agentRemoveSchedule"));
    m_remove->setEnabled(false);
    m_errors = new QLabel(this);
    m_errors->setObjectName(QStringLiteral("agentSchedulesError"));
    m_errors->setWordWrap(true);
    m_errors->setStyleSheet(QStringLiteral("color: #b01c1c;"));
    m_errors->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_errors->hide();

    auto* hint = new QLabel(tr("Standard cron, 5 fields (minute hour day month weekday) or 6 with "
                               "seconds first, or a macro such as @daily. Edit a cell with F2 or "
                               "a double click. Manual runs use the same agent."),
                            this);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);

    m_openEditor = new QPushButton(tr("Edit in the schedule editor…"), this);
    m_openEditor->setObjectName(QStringLiteral("agentScheduleOpenEditor"));
    m_openEditor->setToolTip(tr("The next fire times in any zone, and every policy, for the "
                                "selected schedule (saves a new version of the agent)"));
    m_openEditor->setEnabled(false);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(m_remove);
    buttons->addStretch();
    buttons->addWidget(m_openEditor);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(hint);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_errors);
    layout->addLayout(buttons);

    connect(add, &QPushButton::clicked, this, [this] {
        ScheduleSpec s;
        s.cron = QStringLiteral("0 9 * * 1-5");
        addRow(s);
        m_table->setCurrentCell(m_table->rowCount() - 1, Cron);
        m_table->editItem(m_table->item(m_table->rowCount() - 1, Cron));
        emit changed();
    });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        const int row = m_table->currentRow();
        if (row < 0)
            return;
        m_table->removeRow(row);
        emit changed();
    });
    connect(m_table, &QTableWidget::currentCellChanged, this, [this](int row) {
        m_remove->setEnabled(row >= 0);
        m_openEditor->setEnabled(row >= 0 && m_editorAvailable);
    });
    connect(m_openEditor, &QPushButton::clicked, this, [this] {
        if (m_table->currentRow() >= 0)
            emit openEditorRequested(m_table->currentRow());
    });
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (m_loading || item->column() == When)
            return;
        updateExplanation(item->row());
        emit changed();
    });
}

void SchedulesTable::addRow(const ScheduleSpec& spec)
{
    m_loading = true;
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    auto text = [&](int col, const QString& value) {
        auto* item = new QTableWidgetItem(value);
        m_table->setItem(row, col, item);
        return item;
    };
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    text(Cron, spec.cron)->setFont(mono);
    text(Zone, spec.tz);
    text(Overlap, spec.overlap);
    text(Misfire, spec.misfire);
    text(MaxAge, durationText(spec.misfireMaxAgeS));
    text(Jitter, durationText(spec.jitterS));
    auto* enabled = new QTableWidgetItem;
    enabled->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    enabled->setCheckState(spec.enabled ? Qt::Checked : Qt::Unchecked);
    m_table->setItem(row, Enabled, enabled);
    auto* when = new QTableWidgetItem;
    when->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    m_table->setItem(row, When, when);
    m_loading = false;
    updateExplanation(row);
}

void SchedulesTable::updateExplanation(int row)
{
    QTableWidgetItem* when = m_table->item(row, When);
    if (!when || !m_table->item(row, Cron))
        return;
    const QSignalBlocker block(m_table);
    const QString cron = m_table->item(row, Cron)->text();
    const QString zoneText = m_table->item(row, Zone)->text().trimmed();
    auto expr = CronExpression::parse(cron);
    if (!expr) {
        when->setText(QString());
        return;
    }
    const QTimeZone zone(zoneText.isEmpty() ? ScheduleRules::systemZoneId().toUtf8()
                                            : zoneText.toUtf8());
    QString text = expr->explain();
    if (expr->isReboot()) {
        text = tr("when the engine starts");
    } else if (zone.isValid()) {
        if (auto next = expr->next(QDateTime::currentDateTimeUtc(), zone))
            text += QStringLiteral(" · ") + tr("next %1").arg(Format::relative(*next));
    }
    if (m_table->item(row, Enabled)->checkState() != Qt::Checked)
        text = tr("(off) %1").arg(text);
    when->setText(text);
    when->setToolTip(text);
}

QJsonArray SchedulesTable::toJson() const
{
    QJsonArray out;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        auto cell = [&](int col) {
            QTableWidgetItem* i = m_table->item(row, col);
            return i ? i->text().trimmed() : QString();
        };
        QJsonObject o;
        o.insert(QStringLiteral("cron"), cell(Cron));
        if (!cell(Zone).isEmpty())
            o.insert(QStringLiteral("tz"), cell(Zone));
        o.insert(QStringLiteral("overlap"), cell(Overlap));
        o.insert(QStringLiteral("misfire"), cell(Misfire));
        if (!cell(MaxAge).isEmpty())
            o.insert(QStringLiteral("misfire_max_age"), durationJson(cell(MaxAge)));
        if (!cell(Jitter).isEmpty())
            o.insert(QStringLiteral("jitter"), durationJson(cell(Jitter)));
        o.insert(QStringLiteral("enabled"),
                 m_table->item(row, Enabled)->checkState() == Qt::Checked);
        out.append(o);
    }
    return out;
}

int SchedulesTable::count() const
{
    return m_table->rowCount();
}

void SchedulesTable::setSchedules(const QList<ScheduleSpec>& schedules)
{
    m_table->setRowCount(0);
    for (const ScheduleSpec& s : schedules)
        addRow(s);
    setProblems({});
}

void SchedulesTable::setProblems(const QList<FieldProblem>& problems)
{
    const QSignalBlocker block(m_table);
    static const QHash<QString, int> columns = {{QStringLiteral("cron"), Cron},
                                                {QStringLiteral("tz"), Zone},
                                                {QStringLiteral("overlap"), Overlap},
                                                {QStringLiteral("misfire"), Misfire},
                                                {QStringLiteral("misfire_max_age"), MaxAge},
                                                {QStringLiteral("jitter"), Jitter},
                                                {QStringLiteral("enabled"), Enabled}};
    for (int row = 0; row < m_table->rowCount(); ++row)
        for (int col = 0; col < When; ++col)
            if (QTableWidgetItem* i = m_table->item(row, col)) {
                i->setBackground(QBrush());
                i->setToolTip(QString());
            }
    QStringList lines;
    for (const FieldProblem& p : problems) {
        if (!p.pointer.startsWith(QLatin1String("/schedules")))
            continue;
        const QStringList parts = p.pointer.split(QLatin1Char('/'), Qt::SkipEmptyParts);
        const int row = parts.size() > 1 ? parts.at(1).toInt() : -1;
        const int col = parts.size() > 2 ? columns.value(parts.at(2), Cron) : Cron;
        if (row >= 0 && row < m_table->rowCount()) {
            if (QTableWidgetItem* i = m_table->item(row, col)) {
                i->setBackground(p.warning ? QColor(0xff, 0xf4, 0xd6) : QColor(0xfd, 0xe3, 0xe0));
                i->setToolTip(p.message);
            }
            lines << tr("Schedule %1, %2: %3")
                         .arg(row + 1)
                         .arg(parts.value(2, tr("entry")), p.message);
        } else {
            lines << p.message;
        }
    }
    m_errors->setText(lines.join(QLatin1Char('\n')));
    m_errors->setVisible(!lines.isEmpty());
}

void SchedulesTable::setEditorAvailable(bool available)
{
    m_editorAvailable = available;
    m_openEditor->setEnabled(available && m_table->currentRow() >= 0);
}

void SchedulesTable::focusPointer(const QString& pointer)
{
    const QStringList parts = pointer.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    const int row = parts.size() > 1 ? parts.at(1).toInt() : 0;
    if (row >= 0 && row < m_table->rowCount()) {
        m_table->setCurrentCell(row, Cron);
        m_table->setFocus();
    }
}

} // namespace vivarium
