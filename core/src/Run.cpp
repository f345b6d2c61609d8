// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/Run.h"

#include <array>
#include <utility>

namespace vivarium {

namespace {

// Storage names are part of the schema (CHECK constraint) and the HTTP API: never rename.
constexpr std::array<std::pair<RunStatus, const char*>, 11> StatusNames{{
    {RunStatus::Queued, "queued"},
    {RunStatus::Starting, "starting"},
    {RunStatus::Running, "running"},
    {RunStatus::AwaitingApproval, "awaiting_approval"},
    {RunStatus::Succeeded, "succeeded"},
    {RunStatus::Failed, "failed"},
    {RunStatus::TimedOut, "timed_out"},
    {RunStatus::Cancelled, "cancelled"},
    {RunStatus::Interrupted, "interrupted"},
    {RunStatus::Skipped, "skipped"},
    {RunStatus::Missed, "missed"},
}};

} // namespace

QString runStatusName(RunStatus s)
{
    for (const auto& [status, name] : StatusNames) {
        if (status == s)
            return QString::fromLatin1(name);
    }
    return QString();
}

std::optional<RunStatus> runStatusFromString(const QString& s)
{
    for (const auto& [status, name] : StatusNames) {
        if (s == QLatin1String(name))
            return status;
    }
    return std::nullopt;
}

bool isTerminal(RunStatus s)
{
    switch (s) {
    case RunStatus::Queued:
    case RunStatus::Starting:
    case RunStatus::Running:
    case RunStatus::AwaitingApproval:
        return false;
    case RunStatus::Succeeded:
    case RunStatus::Failed:
    case RunStatus::TimedOut:
    case RunStatus::Cancelled:
    case RunStatus::Interrupted:
    case RunStatus::Skipped:
    case RunStatus::Missed:
        return true;
    }
    return false;
}

} // namespace vivarium
