// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The cron commands arrive with the scheduler issue.
#include "Cli.h"

namespace vivarium::cli {

int cmdCronNext(Invocation& inv)
{
    return usageError(inv.commandName(), QStringLiteral("not available in this build yet"));
}

int cmdCronExplain(Invocation& inv)
{
    return usageError(inv.commandName(), QStringLiteral("not available in this build yet"));
}

} // namespace vivarium::cli
