// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/protocol/Conversation.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace vivarium::runner {

class ConfinedDir;

/** What a tool call produced: the text the model sees, and whether it is an error. */
struct ToolResult
{
    QString content;
    bool isError = false;
};

/**
 * The built-in tools the runner offers: file_read/file_write/file_list in the workspace and
 * memory_read/memory_write/memory_list in the agent's memory directory. Each has a JSON Schema
 * (additionalProperties false) the arguments are validated against before it runs. Every
 * failure comes back as an error result with a reason the model can act on; nothing here ends
 * the run.
 */
class ToolBox
{
public:
    static constexpr qint64 MaxReadBytes = 64 * 1024;
    static constexpr qint64 MaxWriteBytes = 4 * 1024 * 1024;
    static constexpr int MaxListEntries = 1000;

    /** File tools when `workspace` is non-null, memory tools when `memory` is. Not owned. */
    ToolBox(ConfinedDir* workspace, ConfinedDir* memory);

    /** Runs a tool added from outside with its validated arguments. */
    using Handler = std::function<ToolResult(const QJsonObject& args)>;
    /**
     * Offer one more tool, validated against its schema like the built-ins: the extension
     * point for the provider tools (ProviderTools.h: http_request now, the manifest's named
     * operations later).
     */
    void addTool(ToolSpec spec, Handler handler);

    const QList<ToolSpec>& specs() const { return m_specs; }
    QStringList names() const;
    /**
     * Parse and validate the arguments, then run the call. `cutOff`: the response stopped at
     * max_tokens, which the error for unparsable arguments mentions.
     */
    ToolResult invoke(const ToolCall& call, bool cutOff) const;

private:
    ToolResult run(const QString& name, const QJsonObject& args) const;
    ToolResult readText(ConfinedDir* dir, const QString& path, qint64 offset, qint64 maxBytes,
                        bool offerOffset) const;
    ToolResult writeText(ConfinedDir* dir, const QString& path, const QString& content,
                         bool append) const;
    ToolResult listDir(const QString& path) const;
    ToolResult listMemory() const;

    ConfinedDir* m_workspace;
    ConfinedDir* m_memory;
    QList<ToolSpec> m_specs;
    QHash<QString, Handler> m_handlers;
};

} // namespace vivarium::runner
