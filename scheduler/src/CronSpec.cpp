// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Parsing cron text into bit sets, cronie's way (entry.c), plus the documented extensions.
#include "CronSpec.h"

#include <QRegularExpression>
#include <QStringList>

#include <bit>

namespace vivarium::cron {

namespace {

struct FieldDef
{
    FieldId id;
    int min;
    int max;
    const char* const* names; ///< three-letter names, index 0 = value `min` (or 0 for weekdays)
    int nameCount;
};

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldDef kSecond{FieldId::Second, 0, 59, nullptr, 0};
constexpr FieldDef kMinute{FieldId::Minute, 0, 59, nullptr, 0};
constexpr FieldDef kHour{FieldId::Hour, 0, 23, nullptr, 0};
constexpr FieldDef kDom{FieldId::DayOfMonth, 1, 31, nullptr, 0};
constexpr FieldDef kMonth{FieldId::Month, 1, 12, kMonthNames, 12};
constexpr FieldDef kDow{FieldId::DayOfWeek, 0, 7, kDayNames, 7};

Error fieldError(FieldId f, const QString& problem)
{
    return Error::make(Error::Code::Validation,
                       fieldName(f) + QStringLiteral(" field: ") + problem);
}

QString quoted(const QString& s)
{
    return QLatin1Char('"') + s + QLatin1Char('"');
}

QString rangeText(const FieldDef& def)
{
    return QStringLiteral("%1-%2").arg(def.min).arg(def.max);
}

bool allDigits(const QString& s)
{
    if (s.isEmpty())
        return false;
    for (QChar c : s)
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return false;
    return true;
}

bool allLetters(const QString& s)
{
    if (s.isEmpty())
        return false;
    for (QChar c : s)
        if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
              (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))))
            return false;
    return true;
}

/** A number small enough to range-check without overflow (longer digit runs are out of range). */
int smallNumber(const QString& digits)
{
    if (digits.size() > 4)
        return 99999;
    return digits.toInt();
}

/** One value: digits or, where the field has them, a three-letter name (any case). */
Result<int> parseValue(const FieldDef& def, const QString& token, const QString& element,
                       bool rangeEnd)
{
    if (token.isEmpty())
        return std::unexpected(
            fieldError(def.id, QStringLiteral("missing value in %1").arg(quoted(element))));
    if (allDigits(token)) {
        const int v = smallNumber(token);
        if (v < def.min || v > def.max)
            return std::unexpected(fieldError(
                def.id,
                QStringLiteral("%1 is out of range %2").arg(quoted(token), rangeText(def))));
        return v;
    }
    if (allLetters(token)) {
        if (!def.names)
            return std::unexpected(fieldError(
                def.id, QStringLiteral("%1 is not a number (names are only allowed in the month "
                                       "and day-of-week fields)")
                            .arg(quoted(token))));
        const QString lower = token.toLower();
        for (int i = 0; i < def.nameCount; ++i) {
            if (lower == QLatin1String(def.names[i])) {
                const int base = def.id == FieldId::Month ? 1 : 0;
                // "fri-sun" means Friday through Sunday: as a range end, Sunday is 7.
                if (def.id == FieldId::DayOfWeek && i == 0 && rangeEnd)
                    return 7;
                return i + base;
            }
        }
        return std::unexpected(
            fieldError(def.id, QStringLiteral("unknown name %1 (use %2..%3)")
                                   .arg(quoted(token), QLatin1String(def.names[0]),
                                        QLatin1String(def.names[def.nameCount - 1]))));
    }
    for (QChar c : token) {
        if (!c.isLetterOrNumber())
            return std::unexpected(
                fieldError(def.id, QStringLiteral("unexpected character %1 in %2")
                                       .arg(quoted(QString(c)), quoted(element))));
    }
    return std::unexpected(
        fieldError(def.id, QStringLiteral("%1 is not a valid value").arg(quoted(token))));
}

void setBit(Spec& spec, FieldId f, int v)
{
    switch (f) {
    case FieldId::Second:
        spec.seconds |= std::uint64_t(1) << v;
        break;
    case FieldId::Minute:
        spec.minutes |= std::uint64_t(1) << v;
        break;
    case FieldId::Hour:
        spec.hours |= std::uint32_t(1) << v;
        break;
    case FieldId::DayOfMonth:
        spec.days |= std::uint32_t(1) << v;
        break;
    case FieldId::Month:
        spec.months |= std::uint16_t(1u << v);
        break;
    case FieldId::DayOfWeek:
        spec.weekdays |= std::uint8_t(1u << (v % 7)); // 7 is Sunday, as in cronie
        break;
    }
}

/** Quartz-style day-of-month elements: L, L-n, LW, nW. Returns false if `e` is not one. */
Result<bool> parseDomExtension(const QString& e, Spec& spec)
{
    const QString u = e.toUpper();
    if (u == QLatin1String("L")) {
        spec.lastDayMinus |= 1u;
        return true;
    }
    if (u == QLatin1String("LW")) {
        spec.lastWeekday = true;
        return true;
    }
    if (u.startsWith(QLatin1String("L-"))) {
        const QString n = u.mid(2);
        if (!allDigits(n) || smallNumber(n) > 30)
            return std::unexpected(
                fieldError(FieldId::DayOfMonth,
                           QStringLiteral("%1: L-n needs n between 0 and 30").arg(quoted(e))));
        spec.lastDayMinus |= std::uint32_t(1) << smallNumber(n);
        return true;
    }
    if (u.endsWith(QLatin1Char('W'))) {
        const QString n = u.chopped(1);
        if (!allDigits(n))
            return std::unexpected(
                fieldError(FieldId::DayOfMonth,
                           QStringLiteral("%1: W needs a single day before it, as in 15W or LW")
                               .arg(quoted(e))));
        const int d = smallNumber(n);
        if (d < 1 || d > 31)
            return std::unexpected(fieldError(
                FieldId::DayOfMonth, QStringLiteral("%1 is out of range 1-31").arg(quoted(n))));
        spec.nearestWeekday |= std::uint32_t(1) << d;
        return true;
    }
    return false;
}

/** Quartz-style day-of-week elements: xL (last x-day), x#n (n-th x-day). */
Result<bool> parseDowExtension(const QString& e, Spec& spec)
{
    if (e.compare(QLatin1String("L"), Qt::CaseInsensitive) == 0)
        return std::unexpected(
            fieldError(FieldId::DayOfWeek,
                       QStringLiteral("\"L\" alone is not supported; write 6 or sat for "
                                      "Saturday, or 5L for the last Friday of the month")));
    const auto singleDay = [](const QString& t) { return allDigits(t) || allLetters(t); };
    const qsizetype hash = e.indexOf(QLatin1Char('#'));
    if (hash >= 0) {
        if (!singleDay(e.left(hash)))
            return std::unexpected(
                fieldError(FieldId::DayOfWeek,
                           QStringLiteral("%1: \"#\" must follow a single day, as in 5#3 or fri#3")
                               .arg(quoted(e))));
        auto day = parseValue(kDow, e.left(hash), e, false);
        if (!day)
            return std::unexpected(day.error());
        const QString n = e.mid(hash + 1);
        if (!allDigits(n) || smallNumber(n) < 1 || smallNumber(n) > 5)
            return std::unexpected(
                fieldError(FieldId::DayOfWeek,
                           QStringLiteral("%1: the number after # must be 1 to 5").arg(quoted(e))));
        spec.nthWeekday[size_t(smallNumber(n) - 1)] |= std::uint8_t(1u << (*day % 7));
        return true;
    }
    if (e.size() > 1 && (e.endsWith(QLatin1Char('L')) || e.endsWith(QLatin1Char('l')))) {
        // No day name ends in "l", so "friL" and "5L" are unambiguous.
        if (!singleDay(e.chopped(1)))
            return std::unexpected(
                fieldError(FieldId::DayOfWeek,
                           QStringLiteral("%1: \"L\" must follow a single day, as in 5L or friL")
                               .arg(quoted(e))));
        auto day = parseValue(kDow, e.chopped(1), e, false);
        if (!day)
            return std::unexpected(day.error());
        spec.lastOfWeekday |= std::uint8_t(1u << (*day % 7));
        return true;
    }
    return false;
}

Status parseField(const FieldDef& def, const QString& text, Spec& spec)
{
    const FieldId f = def.id;
    const bool dayField = f == FieldId::DayOfMonth || f == FieldId::DayOfWeek;
    if (text == QLatin1String("?")) {
        if (!dayField)
            return std::unexpected(fieldError(
                f, QStringLiteral("\"?\" is only allowed in the day-of-month and day-of-week "
                                  "fields")));
        for (int v = def.min; v <= def.max; ++v)
            setBit(spec, f, v);
        return {};
    }
    if (text.contains(QLatin1Char('?')))
        return std::unexpected(fieldError(
            f, QStringLiteral("\"?\" must stand alone (it means the same as \"*\"), got %1")
                   .arg(quoted(text))));
    if (text.contains(QLatin1Char('~')))
        return std::unexpected(fieldError(
            f,
            QStringLiteral("random ranges (\"~\") are not supported, got %1").arg(quoted(text))));

    const QStringList elements = text.split(QLatin1Char(','));
    for (const QString& e : elements) {
        if (e.isEmpty())
            return std::unexpected(
                fieldError(f, QStringLiteral("empty list element in %1").arg(quoted(text))));
        for (QChar c : e) {
            const bool ok = c.isLetterOrNumber() || c == QLatin1Char('*') ||
                            c == QLatin1Char('-') || c == QLatin1Char('/') || c == QLatin1Char('#');
            if (!ok || c.unicode() > 127)
                return std::unexpected(fieldError(f, QStringLiteral("unexpected character %1 in %2")
                                                         .arg(quoted(QString(c)), quoted(e))));
        }
        if (f == FieldId::DayOfMonth) {
            auto ext = parseDomExtension(e, spec);
            if (!ext)
                return std::unexpected(ext.error());
            if (*ext)
                continue;
        } else if (f == FieldId::DayOfWeek) {
            auto ext = parseDowExtension(e, spec);
            if (!ext)
                return std::unexpected(ext.error());
            if (*ext)
                continue;
        }
        if (e.contains(QLatin1Char('#')))
            return std::unexpected(fieldError(
                f, QStringLiteral("\"#\" is only allowed in the day-of-week field, as in 5#3, "
                                  "got %1")
                       .arg(quoted(e))));

        QString base = e;
        int step = 1;
        const qsizetype slash = e.indexOf(QLatin1Char('/'));
        bool hasStep = false;
        if (slash >= 0) {
            hasStep = true;
            base = e.left(slash);
            const QString stepText = e.mid(slash + 1);
            if (stepText.contains(QLatin1Char('/')))
                return std::unexpected(
                    fieldError(f, QStringLiteral("more than one \"/\" in %1").arg(quoted(e))));
            if (!allDigits(stepText))
                return std::unexpected(fieldError(f, QStringLiteral("step %1 in %2 is not a number")
                                                         .arg(quoted(stepText), quoted(e))));
            step = smallNumber(stepText);
            const int span = def.max - def.min + 1;
            if (step < 1)
                return std::unexpected(
                    fieldError(f, QStringLiteral("step %1 in %2 must be at least 1")
                                      .arg(quoted(stepText), quoted(e))));
            if (step > span)
                return std::unexpected(fieldError(
                    f, QStringLiteral("step %1 in %2 is larger than the field's range %3")
                           .arg(quoted(stepText), quoted(e), rangeText(def))));
            if (base.isEmpty())
                return std::unexpected(fieldError(
                    f, QStringLiteral("missing range before the step in %1").arg(quoted(e))));
        }

        int lo = def.min;
        int hi = def.max;
        if (base == QLatin1String("*")) {
            // "*" means first-last, optionally stepped.
        } else if (base.contains(QLatin1Char('*'))) {
            return std::unexpected(
                fieldError(f, QStringLiteral("unexpected character \"*\" in %1").arg(quoted(e))));
        } else {
            const qsizetype dash = base.indexOf(QLatin1Char('-'));
            if (dash < 0) {
                auto v = parseValue(def, base, e, false);
                if (!v)
                    return std::unexpected(v.error());
                lo = *v;
                // "a/n" means a through the field's maximum, stepping n (cronie, Debian cron).
                hi = hasStep ? def.max : *v;
            } else {
                const QString a = base.left(dash);
                const QString b = base.mid(dash + 1);
                if (a.isEmpty())
                    return std::unexpected(fieldError(
                        f, QStringLiteral("missing start of range in %1").arg(quoted(e))));
                if (b.contains(QLatin1Char('-')))
                    return std::unexpected(
                        fieldError(f, QStringLiteral("more than one \"-\" in %1").arg(quoted(e))));
                auto va = parseValue(def, a, e, false);
                if (!va)
                    return std::unexpected(va.error());
                auto vb = parseValue(def, b, e, true);
                if (!vb)
                    return std::unexpected(vb.error());
                if (*va > *vb)
                    return std::unexpected(fieldError(
                        f, QStringLiteral("range %1 is reversed (the start must not be after the "
                                          "end)")
                               .arg(quoted(base))));
                lo = *va;
                hi = *vb;
            }
        }
        for (int v = lo; v <= hi; v += step)
            setBit(spec, f, v);
    }
    return {};
}

struct Macro
{
    const char* name;
    const char* expansion; ///< nullptr for @reboot
};

constexpr Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"}, {"@reboot", nullptr},
};

QString knownMacros()
{
    QStringList names;
    for (const Macro& m : kMacros)
        names << QLatin1String(m.name);
    return names.join(QStringLiteral(", "));
}

/** A day the fields allow exists in some month they allow (checked over every month shape). */
bool canEverFire(const Spec& spec)
{
    for (int m = 1; m <= 12; ++m) {
        if (!(spec.months >> m & 1u))
            continue;
        const int shortest = m == 2 ? 28 : daysInMonth(2001, m);
        const int longest = m == 2 ? 29 : shortest;
        // Over the 400-year Gregorian cycle every month starts on every weekday, in leap and
        // common years alike, so these shapes are exactly the months that will occur.
        for (int dim = shortest; dim <= longest; ++dim)
            for (int wd = 0; wd < 7; ++wd)
                if (dayMaskForShape(spec, dim, wd))
                    return true;
    }
    return false;
}

} // namespace

QString fieldName(FieldId f)
{
    switch (f) {
    case FieldId::Second:
        return QStringLiteral("second");
    case FieldId::Minute:
        return QStringLiteral("minute");
    case FieldId::Hour:
        return QStringLiteral("hour");
    case FieldId::DayOfMonth:
        return QStringLiteral("day-of-month");
    case FieldId::Month:
        return QStringLiteral("month");
    case FieldId::DayOfWeek:
        return QStringLiteral("day-of-week");
    }
    return {};
}

std::uint32_t dayMaskForShape(const Spec& spec, int dim, int firstWeekday)
{
    const std::uint32_t monthDays =
        (dim >= 31 ? 0xFFFFFFFFu : (std::uint32_t(1) << (dim + 1)) - 1) & ~std::uint32_t(1);
    const auto weekdayOf = [&](int d) { return (firstWeekday + d - 1) % 7; };

    std::uint32_t dom = spec.days;
    for (std::uint32_t bits = spec.lastDayMinus; bits; bits &= bits - 1) {
        const int d = dim - std::countr_zero(bits);
        if (d >= 1)
            dom |= std::uint32_t(1) << d;
    }
    for (std::uint32_t bits = spec.nearestWeekday; bits; bits &= bits - 1) {
        int d = std::countr_zero(bits);
        if (d > dim)
            continue; // the day does not exist this month, so neither does its nearest weekday
        // Quartz: the weekday nearest the given day, without leaving the month.
        if (weekdayOf(d) == 6)
            d = d == 1 ? 3 : d - 1;
        else if (weekdayOf(d) == 0)
            d = d == dim ? d - 2 : d + 1;
        dom |= std::uint32_t(1) << d;
    }
    if (spec.lastWeekday) {
        int d = dim;
        if (weekdayOf(d) == 6)
            d -= 1;
        else if (weekdayOf(d) == 0)
            d -= 2;
        dom |= std::uint32_t(1) << d;
    }
    dom &= monthDays;

    std::uint32_t dow = 0;
    if (spec.weekdays) {
        for (int k = 0; k < 7; ++k) {
            if (!(spec.weekdays >> ((firstWeekday + k) % 7) & 1u))
                continue;
            for (int d = 1 + k; d <= dim; d += 7)
                dow |= std::uint32_t(1) << d;
        }
    }
    const int lastWeekdayOfMonth = weekdayOf(dim);
    for (std::uint32_t bits = spec.lastOfWeekday; bits; bits &= bits - 1) {
        const int w = std::countr_zero(bits);
        dow |= std::uint32_t(1) << (dim - (lastWeekdayOfMonth - w + 7) % 7);
    }
    for (int n = 0; n < 5; ++n) {
        for (std::uint32_t bits = spec.nthWeekday[size_t(n)]; bits; bits &= bits - 1) {
            const int w = std::countr_zero(bits);
            const int d = 1 + (w - firstWeekday + 7) % 7 + 7 * n;
            if (d <= dim)
                dow |= std::uint32_t(1) << d;
        }
    }

    // cronie (cron.c find_jobs): DOM_STAR or DOW_STAR -> both must match, else either.
    if (spec.domStar || spec.dowStar)
        return dom & dow;
    return dom | dow;
}

Result<Spec> parseSpec(const QString& text)
{
    Spec spec;
    if (text.isEmpty())
        return fail(Error::Code::Validation, QStringLiteral("empty cron expression"));

    const QStringList fields =
        text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
    if (fields.first().startsWith(QLatin1Char('@'))) {
        const QString name = fields.first().toLower();
        for (const Macro& m : kMacros) {
            if (name != QLatin1String(m.name))
                continue;
            if (fields.size() > 1)
                return fail(Error::Code::Validation,
                            QStringLiteral("unexpected text after %1: %2")
                                .arg(name, quoted(fields.mid(1).join(QLatin1Char(' ')))));
            if (!m.expansion) {
                spec.reboot = true;
                return spec;
            }
            return parseSpec(QLatin1String(m.expansion));
        }
        return fail(Error::Code::Validation, QStringLiteral("unknown macro %1 (known: %2)")
                                                 .arg(quoted(fields.first()), knownMacros()));
    }

    if (fields.size() != 5 && fields.size() != 6)
        return fail(Error::Code::Validation,
                    QStringLiteral("expected 5 or 6 fields, got %1").arg(fields.size()));

    spec.hasSeconds = fields.size() == 6;
    const qsizetype first = spec.hasSeconds ? 1 : 0;
    if (spec.hasSeconds) {
        spec.seconds = 0;
        if (auto ok = parseField(kSecond, fields.at(0), spec); !ok)
            return std::unexpected(ok.error());
        spec.texts[size_t(FieldId::Second)] = fields.at(0);
    } else {
        spec.texts[size_t(FieldId::Second)] = QStringLiteral("0");
    }
    const FieldDef* defs[] = {&kMinute, &kHour, &kDom, &kMonth, &kDow};
    for (qsizetype i = 0; i < 5; ++i) {
        const QString& t = fields.at(first + i);
        if (auto ok = parseField(*defs[i], t, spec); !ok)
            return std::unexpected(ok.error());
        spec.texts[size_t(defs[i]->id)] = t;
    }
    const auto starred = [](const QString& t) {
        return t.startsWith(QLatin1Char('*')) || t == QLatin1String("?");
    };
    spec.minuteStar = starred(spec.texts[size_t(FieldId::Minute)]);
    spec.hourStar = starred(spec.texts[size_t(FieldId::Hour)]);
    spec.domStar = starred(spec.texts[size_t(FieldId::DayOfMonth)]);
    spec.dowStar = starred(spec.texts[size_t(FieldId::DayOfWeek)]);

    if (!canEverFire(spec)) {
        const QString& dom = spec.texts[size_t(FieldId::DayOfMonth)];
        const QString& month = spec.texts[size_t(FieldId::Month)];
        const QString& dow = spec.texts[size_t(FieldId::DayOfWeek)];
        if (spec.dowStar && spec.weekdays == 0x7F && !spec.hasDowExtensions())
            return fail(Error::Code::Validation,
                        QStringLiteral("the expression can never fire: day-of-month %1 never "
                                       "occurs in month %2")
                            .arg(quoted(dom), quoted(month)));
        return fail(Error::Code::Validation,
                    QStringLiteral("the expression can never fire: no day in month %1 matches "
                                   "day-of-month %2 and day-of-week %3")
                        .arg(quoted(month), quoted(dom), quoted(dow)));
    }
    return spec;
}

} // namespace vivarium::cron
