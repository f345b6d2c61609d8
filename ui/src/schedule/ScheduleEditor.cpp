// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/ui/ScheduleEditor.h"

#include "run/RunFormat.h"
#include "schedule/ScheduleLogging.h"
#include "schedule/WrapLabel.h"
#include "schedule/ZonePicker.h"
#include "vivarium/scheduler/CronExpression.h"
#include "vivarium/scheduler/ScheduleRules.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTimeZone>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace vivarium {

using ui::RunFormat;
using ui::WrapLabel;
using ui::ZonePicker;

namespace {

constexpr int PreviewCount = 10;
const char* const ErrorStyle = "color: #c62828;";

/** "in 3 h 05 min" / "in 2 d 4 h": how far a fire is from the preview's start. */
QString fromNow(qint64 secs)
{
    if (secs < 60)
        return ScheduleEditor::tr("in %1 s").arg(secs);
    if (secs < 3600)
        return ScheduleEditor::tr("in %1 min").arg(secs / 60);
    if (secs < 86400)
        return ScheduleEditor::tr("in %1 h %2 min")
            .arg(secs / 3600)
            .arg(secs / 60 % 60, 2, 10, QLatin1Char('0'));
    return ScheduleEditor::tr("in %1 d %2 h").arg(secs / 86400).arg(secs / 3600 % 24);
}

QString offsetText(int offsetSecs)
{
    const int a = std::abs(offsetSecs);
    return QStringLiteral("UTC%1%2:%3")
        .arg(offsetSecs < 0 ? QChar(0x2212) : QLatin1Char('+'))
        .arg(a / 3600, 2, 10, QLatin1Char('0'))
        .arg(a / 60 % 60, 2, 10, QLatin1Char('0'));
}

/** Same spec (what and how it fires), ignoring the paused state and bookkeeping. */
bool sameSpec(const ScheduleRecord& a, const ScheduleRecord& b)
{
    return a.cron.trimmed() == b.cron.trimmed() && a.tz == b.tz && a.overlap == b.overlap &&
           a.misfire == b.misfire && a.misfireMaxAgeS == b.misfireMaxAgeS &&
           a.jitterS == b.jitterS &&
           (a.input == b.input || ((a.input.isNull() || a.input.isUndefined()) &&
                                   (b.input.isNull() || b.input.isUndefined())));
}

} // namespace

struct ScheduleEditor::Private
{
    Q_DECLARE_TR_FUNCTIONS(vivarium::ScheduleEditor)
public:
    ScheduleEditor* q = nullptr;
    Store* store = nullptr;
    ScheduleRecord original; ///< what is edited; id empty for a new schedule
    bool agentKnown = false;
    QDateTime previewStart;
    bool valid = false;

    QLabel* heading = nullptr;
    QLabel* state = nullptr;
    QLineEdit* cron = nullptr;
    QToolButton* presets = nullptr;
    QLabel* cronStatus = nullptr;
    ZonePicker* zone = nullptr;
    QLabel* zoneStatus = nullptr;
    QLabel* previewTitle = nullptr;
    QTreeWidget* preview = nullptr;
    QComboBox* overlap = nullptr;
    QComboBox* misfire = nullptr;
    QLineEdit* maxAge = nullptr;
    QLineEdit* jitter = nullptr;
    QLabel* policyStatus = nullptr;
    QPlainTextEdit* input = nullptr;
    QLabel* inputStatus = nullptr;
    QCheckBox* paused = nullptr;
    QLabel* saveStatus = nullptr;
    QPushButton* saveButton = nullptr;
    QPushButton* cancelButton = nullptr;

    void build();
    void load(const ScheduleRecord& s);
    void revalidate();
    void showPreview(const std::optional<CronExpression>& expr, const QTimeZone& zone);
    bool isAgentSchedule() const { return original.source == QLatin1String("agent"); }
    Result<QString> write(const ScheduleRecord& s);
    Result<QString> writeAgentSchedule(const ScheduleRecord& s);
};

void ScheduleEditor::Private::build()
{
    q->setObjectName(QStringLiteral("scheduleEditor"));
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);

    heading = new QLabel(q);
    heading->setObjectName(QStringLiteral("scheduleHeading"));
    heading->setTextFormat(Qt::RichText);
    heading->setWordWrap(true);
    state = new QLabel(q);
    state->setObjectName(QStringLiteral("scheduleState"));
    state->setWordWrap(true);
    state->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // --- when ---
    auto* when = new QGroupBox(tr("When"), q);
    auto* wf = new QFormLayout(when);
    wf->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    cron = new QLineEdit(when);
    cron->setObjectName(QStringLiteral("cronEdit"));
    cron->setFont(mono);
    cron->setPlaceholderText(QStringLiteral("*/15 8-18 * * 1-5"));
    cron->setClearButtonEnabled(true);
    cron->setToolTip(tr("<p>Five fields: <tt>minute hour day-of-month month day-of-week</tt>, "
                        "or six with seconds first. Lists <tt>1,15</tt>, ranges <tt>1-5</tt>, "
                        "steps <tt>*/15</tt>, names <tt>mon-fri</tt>, <tt>jan</tt>; macros "
                        "<tt>@hourly @daily @weekly @monthly @yearly @reboot</tt>. If both day "
                        "fields are restricted, either may match (as cron does).</p>"));
    presets = new QToolButton(when);
    presets->setObjectName(QStringLiteral("cronPresetsButton"));
    presets->setText(tr("Presets"));
    presets->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(presets);
    const QList<QPair<QString, QString>> examples{
        {tr("Every 15 minutes"), QStringLiteral("*/15 * * * *")},
        {tr("Every hour, on the hour"), QStringLiteral("0 * * * *")},
        {tr("Every day at 09:00"), QStringLiteral("0 9 * * *")},
        {tr("Weekdays at 08:00"), QStringLiteral("0 8 * * mon-fri")},
        {tr("Every 15 minutes, 08:00-18:59 on weekdays"), QStringLiteral("*/15 8-18 * * 1-5")},
        {tr("Mondays at 09:00"), QStringLiteral("0 9 * * mon")},
        {tr("The 1st of every month at 06:00"), QStringLiteral("0 6 1 * *")},
        {tr("The last day of every month at 23:00"), QStringLiteral("0 23 L * *")},
        {tr("Each time the engine starts"), QStringLiteral("@reboot")},
    };
    for (const auto& [label, expr] : examples) {
        QAction* a = menu->addAction(QStringLiteral("%1    %2").arg(label, expr));
        QObject::connect(a, &QAction::triggered, q, [this, expr = expr] {
            cron->setText(expr);
            cron->setFocus();
        });
    }
    presets->setMenu(menu);
    auto* cronRow = new QHBoxLayout;
    cronRow->addWidget(cron, 1);
    cronRow->addWidget(presets);
    wf->addRow(tr("&Cron expression:"), cronRow);
    static_cast<QLabel*>(wf->labelForField(cronRow))->setBuddy(cron);
    cronStatus = new WrapLabel(when);
    cronStatus->setObjectName(QStringLiteral("cronStatus"));
    cronStatus->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    cronStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    wf->addRow(QString(), cronStatus);

    zone = new ZonePicker(when);
    zone->setObjectName(QStringLiteral("zonePicker"));
    wf->addRow(tr("&Time zone:"), zone);
    zoneStatus = new WrapLabel(when);
    zoneStatus->setObjectName(QStringLiteral("zoneStatus"));
    wf->addRow(QString(), zoneStatus);

    // --- policies ---
    auto* policies = new QGroupBox(tr("Policies"), q);
    auto* pf = new QFormLayout(policies);
    pf->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    overlap = new QComboBox(policies);
    overlap->setObjectName(QStringLiteral("overlapCombo"));
    overlap->addItem(tr("Skip the fire (recorded as skipped)"), QStringLiteral("skip"));
    overlap->addItem(tr("Queue one fire, run it when the previous run ends"),
                     QStringLiteral("queue_one"));
    overlap->addItem(tr("Start anyway (runs may overlap)"), QStringLiteral("allow"));
    pf->addRow(tr("If the previous run is still &going:"), overlap);
    misfire = new QComboBox(policies);
    misfire->setObjectName(QStringLiteral("misfireCombo"));
    misfire->addItem(tr("Run the latest missed fire once, if recent"), QStringLiteral("run_once"));
    misfire->addItem(tr("Skip every missed fire (recorded as missed)"), QStringLiteral("skip"));
    pf->addRow(tr("After &downtime or sleep:"), misfire);
    maxAge = new QLineEdit(policies);
    maxAge->setObjectName(QStringLiteral("misfireMaxAgeEdit"));
    maxAge->setPlaceholderText(QStringLiteral("1h"));
    maxAge->setToolTip(tr("A missed fire older than this is not run, only recorded. "
                          "Durations: 90s, 15m, 1h30m, 2d or whole seconds."));
    pf->addRow(tr("…if missed by at &most:"), maxAge);
    jitter = new QLineEdit(policies);
    jitter->setObjectName(QStringLiteral("jitterEdit"));
    jitter->setPlaceholderText(QStringLiteral("0s"));
    jitter->setToolTip(tr("Delay each fire by a random 0..this, to spread load. Keep it below "
                          "the schedule's period."));
    pf->addRow(tr("&Jitter:"), jitter);
    policyStatus = new WrapLabel(policies);
    policyStatus->setObjectName(QStringLiteral("policyStatus"));
    policyStatus->setStyleSheet(QLatin1String(ErrorStyle));
    policyStatus->hide();
    pf->addRow(QString(), policyStatus);

    // --- input ---
    auto* inputBox = new QGroupBox(tr("Input of every run (JSON, optional)"), q);
    auto* il = new QVBoxLayout(inputBox);
    input = new QPlainTextEdit(inputBox);
    input->setObjectName(QStringLiteral("inputEdit"));
    input->setFont(mono);
    input->setPlaceholderText(QStringLiteral("{\"since\": \"yesterday\"}"));
    input->setTabChangesFocus(true);
    input->setMaximumHeight(QFontMetrics(mono).lineSpacing() * 5 + 12);
    inputStatus = new QLabel(inputBox);
    inputStatus->setObjectName(QStringLiteral("inputStatus"));
    inputStatus->setWordWrap(true);
    il->addWidget(input);
    il->addWidget(inputStatus);

    paused = new QCheckBox(tr("&Paused: no fires, and none recorded as missed, until resumed"), q);
    paused->setObjectName(QStringLiteral("pausedCheck"));

    // --- preview ---
    auto* previewBox = new QGroupBox(tr("Next fire times"), q);
    auto* pl = new QVBoxLayout(previewBox);
    previewTitle = new QLabel(previewBox);
    previewTitle->setObjectName(QStringLiteral("previewTitle"));
    previewTitle->setWordWrap(true);
    previewTitle->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    preview = new QTreeWidget(previewBox);
    preview->setObjectName(QStringLiteral("firePreview"));
    preview->setRootIsDecorated(false);
    preview->setUniformRowHeights(true);
    preview->setAlternatingRowColors(true);
    preview->setSelectionMode(QAbstractItemView::NoSelection);
    preview->setFocusPolicy(Qt::NoFocus);
    preview->setHeaderLabels({tr("Date"), tr("Time"), tr("Offset"), tr("From now")});
    preview->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    preview->header()->setStretchLastSection(true);
    preview->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    pl->addWidget(previewTitle);
    pl->addWidget(preview, 1);
    pl->addStretch(0);

    saveStatus = new QLabel(q);
    saveStatus->setObjectName(QStringLiteral("saveStatus"));
    saveStatus->setWordWrap(true);
    saveStatus->setStyleSheet(QLatin1String(ErrorStyle));
    saveStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    saveStatus->hide();
    auto* buttons = new QDialogButtonBox(q);
    saveButton = buttons->addButton(QDialogButtonBox::Save);
    saveButton->setObjectName(QStringLiteral("saveScheduleButton"));
    saveButton->setDefault(true);
    cancelButton = buttons->addButton(QDialogButtonBox::Cancel);
    cancelButton->setObjectName(QStringLiteral("cancelScheduleButton"));
    QObject::connect(saveButton, &QPushButton::clicked, q, [this] { q->save(); });
    QObject::connect(cancelButton, &QPushButton::clicked, q, [this] { emit q->cancelled(); });

    auto* left = new QVBoxLayout;
    left->addWidget(when);
    left->addWidget(policies);
    left->addWidget(inputBox);
    left->addWidget(paused);
    left->addStretch(1);
    auto* columns = new QHBoxLayout;
    columns->addLayout(left, 4);
    columns->addWidget(previewBox, 3);
    auto* lay = new QVBoxLayout(q);
    lay->addWidget(heading);
    lay->addWidget(state);
    lay->addLayout(columns, 1);
    lay->addWidget(saveStatus);
    lay->addWidget(buttons);

    const auto changed = [this] { revalidate(); };
    QObject::connect(cron, &QLineEdit::textChanged, q, changed);
    QObject::connect(zone, &ZonePicker::zoneChanged, q, changed);
    QObject::connect(overlap, &QComboBox::currentIndexChanged, q, changed);
    QObject::connect(misfire, &QComboBox::currentIndexChanged, q, changed);
    QObject::connect(maxAge, &QLineEdit::textChanged, q, changed);
    QObject::connect(jitter, &QLineEdit::textChanged, q, changed);
    QObject::connect(input, &QPlainTextEdit::textChanged, q, changed);
    QObject::connect(paused, &QCheckBox::toggled, q, changed);
}

void ScheduleEditor::Private::load(const ScheduleRecord& s)
{
    original = s;
    saveStatus->hide();
    const QSignalBlocker b1(cron), b2(zone), b3(overlap), b4(misfire), b5(maxAge), b6(jitter),
        b7(input), b8(paused);
    cron->setText(s.cron);
    zone->setZoneId(s.tz.isEmpty() ? ScheduleRules::systemZoneId() : s.tz);
    overlap->setCurrentIndex(std::max(0, overlap->findData(s.overlap)));
    misfire->setCurrentIndex(std::max(0, misfire->findData(s.misfire)));
    maxAge->setText(ScheduleRules::formatDuration(s.misfireMaxAgeS));
    jitter->setText(ScheduleRules::formatDuration(s.jitterS));
    input->setPlainText(s.input.isNull() || s.input.isUndefined() ? QString()
                                                                  : RunFormat::prettyJson(s.input));
    paused->setChecked(s.paused);

    // The agent's name, and what saving will do.
    QString agentName;
    agentKnown = false;
    int version = 0;
    if (auto a = store->agent(s.agentId)) {
        agentKnown = true;
        agentName = a->definition.name;
        version = a->latestVersion;
    }
    const QString who = agentName.isEmpty() || agentName == s.agentId
                            ? QStringLiteral("<b>%1</b>").arg(s.agentId.toHtmlEscaped())
                            : QStringLiteral("<b>%1</b> (%2)")
                                  .arg(agentName.toHtmlEscaped(), s.agentId.toHtmlEscaped());
    if (s.id.isEmpty())
        heading->setText(tr("<h3>New schedule for %1</h3>").arg(who));
    else
        heading->setText(tr("<h3>Schedule %1 of %2</h3>").arg(s.id.toHtmlEscaped(), who));

    QStringList facts;
    if (isAgentSchedule())
        facts << tr("This schedule comes from the agent's definition: saving a change creates "
                    "version %1 of the agent. It cannot have an input of its own.")
                     .arg(version + 1);
    if (!s.id.isEmpty()) {
        const QTimeZone z = ScheduleRules::zoneOf(s);
        if (s.lastFireAt.isValid())
            facts
                << tr("Last fire handled: %1.").arg(ScheduleRules::formatInstant(s.lastFireAt, z));
        else
            facts << tr("It has not fired yet.");
        if (s.pendingFireAt.isValid())
            facts << tr("A fire for %1 is queued behind a live run.")
                         .arg(ScheduleRules::formatInstant(s.pendingFireAt, z));
        facts << tr("Changing when or how it fires starts it afresh: fires count from the save.");
    }
    state->setText(facts.join(QLatin1Char(' ')));
    state->setVisible(!facts.isEmpty());
    input->setEnabled(!isAgentSchedule());
    if (isAgentSchedule())
        input->setPlaceholderText(tr("(schedules of an agent's definition have no input)"));
    revalidate();
}

void ScheduleEditor::Private::revalidate()
{
    saveStatus->hide();
    bool ok = agentKnown;

    // Cron: the parser's own words, as `vivarium cron` prints them.
    std::optional<CronExpression> expr;
    const QString text = cron->text().trimmed();
    if (text.isEmpty()) {
        cronStatus->setStyleSheet(QString());
        cronStatus->setText(tr("Enter a cron expression, or pick a preset."));
        ok = false;
    } else if (auto parsed = CronExpression::parse(text); !parsed) {
        cronStatus->setStyleSheet(QLatin1String(ErrorStyle));
        cronStatus->setText(QStringLiteral("✗ ") + parsed.error().message);
        ok = false;
    } else {
        expr = *parsed;
        cronStatus->setStyleSheet(QString());
        cronStatus->setText(QStringLiteral("✓ ") + expr->explain());
    }
    // A red frame on the field at fault, beside the message.
    cron->setStyleSheet(!text.isEmpty() && !expr
                            ? QStringLiteral("QLineEdit { border: 1px solid #c62828; "
                                             "border-radius: 2px; padding: 2px; }")
                            : QString());

    // Zone: always shown, with its offset now.
    const QString zoneText = zone->zoneId();
    QTimeZone tz;
    if (zoneText.isEmpty() || !QTimeZone::isTimeZoneIdAvailable(zoneText.toUtf8())) {
        zoneStatus->setStyleSheet(QLatin1String(ErrorStyle));
        zoneStatus->setText(
            zoneText.isEmpty()
                ? tr("✗ pick a time zone")
                : QStringLiteral("✗ unknown time zone \"%1\" (use an IANA name such as "
                                 "\"Europe/Paris\")")
                      .arg(zoneText));
        ok = false;
    } else {
        tz = QTimeZone(zoneText.toUtf8());
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QString line =
            tr("%1 now (%2)").arg(offsetText(tz.offsetFromUtc(now)), tz.abbreviation(now));
        if (zoneText == ScheduleRules::systemZoneId())
            line += tr(" · the system zone");
        else
            line += tr(" · the system zone is %1").arg(ScheduleRules::systemZoneId());
        zoneStatus->setStyleSheet(QString());
        zoneStatus->setText(line);
    }

    // Durations and policy, with the CLI's messages.
    QStringList policyProblems;
    const bool runOnce = misfire->currentData().toString() == QLatin1String("run_once");
    maxAge->setEnabled(runOnce);
    if (runOnce && !maxAge->text().trimmed().isEmpty()) {
        if (const QString why = ScheduleRules::durationProblem(maxAge->text()); !why.isEmpty())
            policyProblems << tr("Max age: %1").arg(why);
    }
    if (!jitter->text().trimmed().isEmpty()) {
        if (const QString why = ScheduleRules::durationProblem(jitter->text()); !why.isEmpty())
            policyProblems << tr("Jitter: %1").arg(why);
    }
    policyStatus->setText(policyProblems.join(QLatin1Char('\n')));
    policyStatus->setVisible(!policyProblems.isEmpty());
    if (!policyProblems.isEmpty())
        ok = false;

    // Input JSON.
    const QString json = input->toPlainText().trimmed();
    if (json.isEmpty()) {
        inputStatus->setStyleSheet(QString());
        inputStatus->setText(isAgentSchedule() ? QString() : tr("No input: runs start with none."));
    } else if (auto v = ScheduleRules::parseInput(json); !v) {
        inputStatus->setStyleSheet(QLatin1String(ErrorStyle));
        inputStatus->setText(QStringLiteral("✗ ") + v.error().message);
        ok = false;
    } else {
        inputStatus->setStyleSheet(QString());
        inputStatus->setText(tr("✓ valid JSON"));
    }

    showPreview(expr, tz);
    valid = ok;
    saveButton->setEnabled(ok);
}

void ScheduleEditor::Private::showPreview(const std::optional<CronExpression>& expr,
                                          const QTimeZone& zone)
{
    preview->clear();
    preview->hide(); // an empty table with headers says less than the sentence above it
    if (!expr || !zone.isValid()) {
        previewTitle->setText(!expr ? tr("Fire times appear here once the expression is valid.")
                                    : tr("Fire times appear here once the zone is valid."));
        return;
    }
    if (expr->isReboot()) {
        previewTitle->setText(tr("Fires once each time the engine starts; never by the clock."));
        return;
    }
    const QDateTime after = previewStart.isValid() ? previewStart : QDateTime::currentDateTimeUtc();
    const QList<QDateTime> times = expr->next(after, zone, PreviewCount);
    QString title =
        tr("The next %1 fire times in %2, after %3:")
            .arg(times.size())
            .arg(QString::fromUtf8(zone.id()), ScheduleRules::formatInstant(after, zone));
    if (paused->isChecked())
        title += tr(" (paused: none of them fires until it is resumed)");
    if (times.isEmpty())
        title = tr("No fire time within the next 400 years.");
    previewTitle->setText(title);

    QList<QTreeWidgetItem*> items;
    int previousOffset = times.isEmpty() ? 0 : zone.offsetFromUtc(times.constFirst());
    for (const QDateTime& t : times) {
        const QDateTime local = t.toTimeZone(zone);
        const int offset = local.offsetFromUtc();
        auto* it = new QTreeWidgetItem(
            {local.toString(QStringLiteral("ddd yyyy-MM-dd")),
             local.toString(QStringLiteral("HH:mm:ss")),
             QStringLiteral("%1 %2").arg(offsetText(offset), zone.abbreviation(t)),
             fromNow(after.secsTo(t))});
        const QString iso = ScheduleRules::formatInstant(t, zone);
        it->setData(0, Qt::UserRole, iso);
        for (int c = 0; c < 4; ++c)
            it->setToolTip(c, iso);
        if (offset != previousOffset) {
            // A daylight-saving change between two fires: worth a look.
            QFont f = it->font(2);
            f.setBold(true);
            it->setFont(2, f);
            it->setForeground(2, QColor(0xb2, 0x6a, 0x00));
            it->setToolTip(2, tr("%1\nThe UTC offset changes before this fire (daylight "
                                 "saving time).")
                                  .arg(iso));
        }
        previousOffset = offset;
        items << it;
    }
    preview->addTopLevelItems(items);
    preview->setVisible(!items.isEmpty());
}

Result<QString> ScheduleEditor::Private::writeAgentSchedule(const ScheduleRecord& s)
{
    // "<agent>#<n>": the n-th entry of the definition; a new version carries the change,
    // exactly what `agent add` of an edited file does.
    const int hash = s.id.lastIndexOf(QLatin1Char('#'));
    bool numeric = false;
    const int n = hash < 0 ? 0 : s.id.mid(hash + 1).toInt(&numeric);
    auto agent = store->agent(s.agentId);
    if (!agent)
        return std::unexpected(agent.error());
    AgentDefinition def = agent->definition;
    if (!numeric || n < 1 || n > def.schedules.size())
        return fail(Error::Code::Conflict,
                    tr("schedule %1 is no longer in the definition of agent %2 (it was edited "
                       "meanwhile): reopen it")
                        .arg(s.id, s.agentId));
    ScheduleSpec& spec = def.schedules[n - 1];
    spec.cron = s.cron;
    if (s.tz != original.tz || !spec.tz.isEmpty())
        spec.tz = s.tz; // an empty zone stays "the system zone" unless one was picked
    spec.overlap = s.overlap;
    spec.misfire = s.misfire;
    if (spec.misfireMaxAgeS || s.misfireMaxAgeS != ScheduleRules::DefaultMisfireMaxAgeS)
        spec.misfireMaxAgeS = s.misfireMaxAgeS;
    if (spec.jitterS || s.jitterS != 0)
        spec.jitterS = s.jitterS;
    Status st = store->transaction([&]() -> Status {
        if (auto saved = store->saveAgent(def); !saved)
            return std::unexpected(saved.error());
        // A rewritten entry takes `paused` from `enabled`; the box says what the user wants.
        if (auto p = store->setSchedulePaused(s.id, s.paused); !p)
            return std::unexpected(p.error());
        return {};
    });
    if (!st)
        return std::unexpected(st.error());
    return s.id;
}

Result<QString> ScheduleEditor::Private::write(const ScheduleRecord& s)
{
    if (original.id.isEmpty()) {
        auto added = store->addSchedule(s);
        if (!added)
            return std::unexpected(added.error());
        return added->id;
    }
    if (sameSpec(s, original)) {
        // Only paused changed (or nothing): keep the schedule's history and plan.
        if (auto p = store->setSchedulePaused(s.id, s.paused); !p)
            return std::unexpected(p.error());
        return s.id;
    }
    if (isAgentSchedule())
        return writeAgentSchedule(s);
    // A CLI schedule has no update: replace it under the same id, in one transaction, so
    // its runs (trigger schedule:<id>) stay its history and nothing can fire in between.
    QString id;
    Status st = store->transaction([&]() -> Status {
        if (auto r = store->removeSchedule(s.id); !r)
            return r;
        auto added = store->addSchedule(s);
        if (!added)
            return std::unexpected(added.error());
        id = added->id;
        return {};
    });
    if (!st)
        return std::unexpected(st.error());
    return id;
}

ScheduleEditor::ScheduleEditor(Store* store, QWidget* parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    d->build();
    d->load(ScheduleRecord{});
}

ScheduleEditor::~ScheduleEditor() = default;

void ScheduleEditor::setAgent(const QString& agentId)
{
    ScheduleRecord s;
    s.agentId = agentId;
    s.tz = ScheduleRules::systemZoneId();
    s.misfireMaxAgeS = ScheduleRules::DefaultMisfireMaxAgeS;
    s.input = QJsonValue();
    d->load(s);
    if (!d->agentKnown) {
        d->saveStatus->setText(tr("Agent %1 does not exist (or was removed).").arg(agentId));
        d->saveStatus->show();
    }
}

void ScheduleEditor::setSchedule(const ScheduleRecord& schedule)
{
    d->load(schedule);
}

ScheduleRecord ScheduleEditor::currentSchedule() const
{
    ScheduleRecord s = d->original;
    s.cron = d->cron->text().trimmed();
    s.tz = d->zone->zoneId();
    s.overlap = d->overlap->currentData().toString();
    s.misfire = d->misfire->currentData().toString();
    const QString age = d->maxAge->text().trimmed();
    if (age.isEmpty())
        s.misfireMaxAgeS = ScheduleRules::DefaultMisfireMaxAgeS;
    else if (auto secs = ScheduleRules::parseDuration(age))
        s.misfireMaxAgeS = int(*secs);
    const QString jit = d->jitter->text().trimmed();
    if (jit.isEmpty())
        s.jitterS = 0;
    else if (auto secs = ScheduleRules::parseDuration(jit))
        s.jitterS = int(*secs);
    const QString json = d->input->toPlainText().trimmed();
    if (json.isEmpty())
        s.input = QJsonValue();
    else if (auto v = ScheduleRules::parseInput(json))
        s.input = *v;
    s.paused = d->paused->isChecked();
    return s;
}

bool ScheduleEditor::isValid() const
{
    return d->valid;
}

QString ScheduleEditor::scheduleId() const
{
    return d->original.id;
}

void ScheduleEditor::setPreviewStart(const QDateTime& after)
{
    d->previewStart = after;
    d->revalidate();
}

bool ScheduleEditor::save()
{
    d->revalidate();
    if (!d->valid)
        return false;
    const ScheduleRecord s = currentSchedule();
    // The same checks as `vivarium schedule add`, in its words.
    if (auto ok = ScheduleRules::validate(s); !ok) {
        d->saveStatus->setText(
            tr("Not saved: %1").arg(ok.error().details.join(QStringLiteral("; "))));
        d->saveStatus->show();
        return false;
    }
    auto written = d->write(s);
    if (!written) {
        qCWarning(lcUiSchedule).noquote()
            << "could not save schedule of" << s.agentId << ":" << written.error().toString();
        d->saveStatus->setText(tr("Not saved: %1").arg(written.error().toString()));
        d->saveStatus->show();
        return false;
    }
    qCInfo(lcUiSchedule).noquote() << "saved schedule" << *written << "of agent" << s.agentId;
    // Show what is stored now, so a second save edits the same schedule.
    if (auto stored = d->store->schedule(*written))
        d->load(*stored);
    emit saved(*written);
    return true;
}

} // namespace vivarium
