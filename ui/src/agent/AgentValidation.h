// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/AgentDefinition.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace vivarium {

class Store;

/** One problem of an agent definition, where it is (JSON pointer) and what is wrong. */
struct FieldProblem
{
    QString pointer; ///< "/limits/max_steps", "" for the whole definition
    QString message; ///< exactly the loader's (and so `vivarium agent add`'s) words
    bool warning = false;

    /** "/pointer: message", the CLI's line without its file name. */
    QString toString() const;
};

/** What validating the editor's form gave. */
struct AgentValidation
{
    std::optional<AgentDefinition> definition; ///< set when there is no error
    QList<FieldProblem> problems;              ///< errors and warnings, in document order

    int errorCount() const;
    bool ok() const { return definition.has_value() && errorCount() == 0; }

    /**
     * Run an agent document through AgentLoader (the same validation, messages and JSON
     * pointers as `vivarium agent add`) and then the full schedule check `agent add` does with
     * ScheduleRules. `refs` decides which references only warn.
     */
    static AgentValidation validate(const QJsonObject& document, const KnownReferences& refs);

    /**
     * The schedule problems `vivarium agent add` reports after the loader (cron parsed for
     * real, the zone checked), each as "/schedules/<i>/<field>: ...".
     */
    static QList<FieldProblem> scheduleProblems(const QList<ScheduleSpec>& schedules);

    /**
     * An agent version as text lines for comparing two versions: its canonical JSON (indented,
     * keys sorted) without the prompt, then the prompt's own lines, so a one-word prompt change
     * is one changed line, not a whole JSON string.
     */
    static QStringList versionText(const AgentDefinition& definition);
};

} // namespace vivarium
