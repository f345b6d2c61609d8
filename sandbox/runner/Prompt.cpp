// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Prompt.h"

#include "ConfinedDir.h"
#include "JsonText.h"
#include "RunSpec.h"

namespace vivarium::runner {

namespace {

constexpr int MaxIndexedMemoryFiles = 100;
constexpr QLatin1String MemoryIndexFile("MEMORY.md");

QString memorySection(ConfinedDir* memory)
{
    QString out = QStringLiteral("\n\n## Memory\n\n");
    bool truncated = false;
    const auto entries = memory->list(QStringLiteral("."), true, 1000, &truncated);
    if (!entries)
        return out + QStringLiteral("Your memory directory cannot be listed right now (%1).")
                         .arg(entries.error());
    QStringList files;
    bool hasIndex = false;
    for (const ConfinedDir::Entry& e : *entries) {
        if (e.kind != ConfinedDir::Entry::Kind::File)
            continue;
        hasIndex = hasIndex || e.path == MemoryIndexFile;
        if (files.size() < MaxIndexedMemoryFiles)
            files.append(QStringLiteral("- %1 (%2 bytes)").arg(e.path).arg(e.size));
    }
    if (files.isEmpty())
        return out + QStringLiteral("Your memory directory is empty: this may be your first run. "
                                    "Save what later runs should know with memory_write.");
    out += QStringLiteral("Files in your memory directory (read them with memory_read):\n") +
           files.join(QLatin1Char('\n'));
    if (truncated || files.size() >= MaxIndexedMemoryFiles)
        out += QStringLiteral("\n- ... (more files; use memory_list)");
    if (!hasIndex)
        return out;

    const auto chunk = memory->read(QString(MemoryIndexFile), 0, MaxMemoryIndexBytes);
    if (!chunk)
        return out;
    QByteArray data = chunk->data;
    if (data.size() < chunk->fileSize)
        data.truncate(completeUtf8Length(data));
    if (data.contains('\0') || !isValidUtf8(data))
        return out;
    out += QStringLiteral("\n\nContent of MEMORY.md:\n----- MEMORY.md -----\n") +
           QString::fromUtf8(data);
    if (data.size() < chunk->fileSize)
        out += QStringLiteral("\n[truncated: the first %1 of %2 bytes shown; read the rest with "
                              "memory_read]")
                   .arg(data.size())
                   .arg(chunk->fileSize);
    out += QStringLiteral("\n----- end of MEMORY.md -----");
    return out;
}

} // namespace

QString systemPrompt(const RunSpec& spec, const QStringList& toolNames, bool files,
                     ConfinedDir* memory)
{
    QString out = spec.prompt.trimmed();
    out += QStringLiteral("\n\n## Environment\n\nYou run unattended as an automated agent: nobody "
                          "answers questions during the run. ");
    if (toolNames.isEmpty()) {
        out += QStringLiteral("No tools are available in this run: answer directly.");
    } else {
        out += QStringLiteral("Act through your tools (%1); when you are done, reply with your "
                              "final answer in a message without tool calls.")
                   .arg(toolNames.join(QStringLiteral(", ")));
        if (files)
            out += QStringLiteral("\n- The file_* tools work in this run's workspace directory. "
                                  "Paths are relative to it (e.g. \"notes/todo.md\"); absolute "
                                  "paths and paths leading outside it are refused.");
        if (memory)
            out += QStringLiteral("\n- The memory_* tools work in your memory directory, which "
                                  "is kept between runs of this agent.");
        out += QStringLiteral("\n- When a tool fails, its result is marked as an error and says "
                              "why. Read the reason and fix the call or take another approach; "
                              "repeating an identical call gives the same result.");
    }
    QStringList limits{QStringLiteral("at most %1 model turns").arg(spec.maxSteps)};
    if (spec.maxTokens)
        limits.append(QStringLiteral("at most %1 tokens in total").arg(*spec.maxTokens));
    if (spec.maxCostUsd)
        limits.append(QStringLiteral("a budget of %1 USD").arg(*spec.maxCostUsd));
    out += QStringLiteral("\n- Limits of this run: ") + limits.join(QStringLiteral(", ")) +
           QLatin1Char('.');

    if (spec.hasOutputSchema())
        out += QStringLiteral("\n\n## Final answer\n\nYour final answer must be only a JSON value, "
                              "with no other text, that conforms to this JSON Schema:\n") +
               prettyJson(spec.outputSchema);

    if (memory)
        out += memorySection(memory);
    return out;
}

QString firstUserMessage(const QJsonValue& input)
{
    if (input.isString() && !input.toString().isEmpty())
        return input.toString();
    if (input.isNull() || input.isUndefined() || input.isString())
        return QStringLiteral("Begin.");
    return prettyJson(input);
}

} // namespace vivarium::runner
