// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QJsonValue>
#include <QString>
#include <QStringList>

// The opening of a run's conversation (DESIGN section 4, step 1).
namespace vivarium::runner {

class ConfinedDir;
struct RunSpec;

/** Largest part of MEMORY.md shown in the system prompt, in bytes. */
constexpr qint64 MaxMemoryIndexBytes = 16 * 1024;

/**
 * The agent's prompt, then what the model needs to know about where it runs: the tools it has,
 * the workspace, that tool errors come back as results, its limits, the output schema, and
 * its memory (an index of the files and the content of MEMORY.md) when `memory` is given.
 */
QString systemPrompt(const RunSpec& spec, const QStringList& toolNames, bool files,
                     ConfinedDir* memory);

/** The run input as the first user message: a string as is, other JSON pretty-printed. */
QString firstUserMessage(const QJsonValue& input);

} // namespace vivarium::runner
