// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ToolBox.h"

#include "ConfinedDir.h"
#include "JsonText.h"

#include "vivarium/protocol/JsonSchema.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace vivarium::runner {

namespace {

QJsonObject schema(const char* json)
{
    return QJsonDocument::fromJson(QByteArray(json)).object();
}

ToolSpec fileRead()
{
    return {QStringLiteral("file_read"),
            QStringLiteral(
                "Read a UTF-8 text file from this run's workspace. `path` is relative to the "
                "workspace (e.g. \"data/input.csv\"). At most 65536 bytes come back per call; "
                "when the file is longer, the result ends with a note giving the byte offset to "
                "pass as `offset` to read the next part. `max_bytes` lowers the per-call amount. "
                "Binary files are reported with their size instead of their content. Fails when "
                "the file does not exist: use file_list to see what is there."),
            schema(R"({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "minLength": 1,
                             "description": "File path relative to the workspace."},
                    "offset": {"type": "integer", "minimum": 0,
                               "description": "Byte offset to start reading at. Default 0."},
                    "max_bytes": {"type": "integer", "minimum": 1, "maximum": 65536,
                                  "description": "Most bytes to return. Default 65536."}
                },
                "required": ["path"],
                "additionalProperties": false
            })")};
}

ToolSpec fileWrite()
{
    return {QStringLiteral("file_write"),
            QStringLiteral(
                "Create or replace a text file in this run's workspace. `path` is relative to "
                "the workspace; missing parent directories are created. `content` becomes the "
                "whole file (UTF-8, at most 4 MiB per call): an existing file is overwritten, so "
                "to change part of a file, read it first and write back the complete new text."),
            schema(R"({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "minLength": 1,
                             "description": "File path relative to the workspace."},
                    "content": {"type": "string",
                                "description": "The complete new content of the file."}
                },
                "required": ["path", "content"],
                "additionalProperties": false
            })")};
}

ToolSpec fileList()
{
    return {QStringLiteral("file_list"),
            QStringLiteral(
                "List one directory of this run's workspace: subdirectories (ending in /) and "
                "files with their size in bytes. `path` is relative to the workspace and "
                "defaults to the workspace itself (\".\"). Call it again on a subdirectory to "
                "look inside."),
            schema(R"({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "minLength": 1,
                             "description": "Directory relative to the workspace. Default \".\"."}
                },
                "additionalProperties": false
            })")};
}

ToolSpec memoryRead()
{
    return {QStringLiteral("memory_read"),
            QStringLiteral(
                "Read a note from your persistent memory directory, which is kept between runs "
                "of this agent. `path` is relative to the memory directory (e.g. \"MEMORY.md\"). "
                "At most 65536 bytes come back. Use memory_list to see which notes exist."),
            schema(R"({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "minLength": 1,
                             "description": "Note path relative to the memory directory."}
                },
                "required": ["path"],
                "additionalProperties": false
            })")};
}

ToolSpec memoryWrite()
{
    return {QStringLiteral("memory_write"),
            QStringLiteral(
                "Save a note in your persistent memory directory so later runs of this agent "
                "can read it. `path` is relative to the memory directory; missing parent "
                "directories are created. `mode` \"overwrite\" (the default) replaces the whole "
                "file, \"append\" adds `content` at its end (add your own trailing newline). At "
                "most 4 MiB per call. MEMORY.md is shown to you at the start of every run: keep "
                "it a short index of what you know and where the details are."),
            schema(R"({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "minLength": 1,
                             "description": "Note path relative to the memory directory."},
                    "content": {"type": "string", "description": "Text to write."},
                    "mode": {"type": "string", "enum": ["overwrite", "append"],
                             "default": "overwrite",
                             "description": "overwrite replaces the file, append adds to its end."}
                },
                "required": ["path", "content"],
                "additionalProperties": false
            })")};
}

ToolSpec memoryList()
{
    return {QStringLiteral("memory_list"),
            QStringLiteral("List every file in your persistent memory directory, with its path "
                           "relative to that directory and its size in bytes. Takes no "
                           "arguments."),
            schema(R"({"type": "object", "properties": {}, "additionalProperties": false})")};
}

ToolResult failure(const QString& message)
{
    return {message, true};
}

QString quotedList(const QStringList& names)
{
    QStringList quoted;
    for (const QString& n : names)
        quoted.append(QLatin1Char('"') + n + QLatin1Char('"'));
    return quoted.join(QStringLiteral(", "));
}

} // namespace

ToolBox::ToolBox(ConfinedDir* workspace, ConfinedDir* memory)
    : m_workspace(workspace)
    , m_memory(memory)
{
    if (m_workspace)
        m_specs << fileRead() << fileWrite() << fileList();
    if (m_memory)
        m_specs << memoryRead() << memoryWrite() << memoryList();
}

void ToolBox::addTool(ToolSpec spec, Handler handler)
{
    m_handlers.insert(spec.name, std::move(handler));
    m_specs.append(std::move(spec));
}

QStringList ToolBox::names() const
{
    QStringList out;
    for (const ToolSpec& s : m_specs)
        out.append(s.name);
    return out;
}

ToolResult ToolBox::invoke(const ToolCall& call, bool cutOff) const
{
    const ToolSpec* spec = nullptr;
    for (const ToolSpec& s : m_specs) {
        if (s.name == call.name)
            spec = &s;
    }
    if (!spec) {
        if (m_specs.isEmpty())
            return failure(QStringLiteral("unknown tool \"%1\": no tools are available in this "
                                          "run, answer without calling any")
                               .arg(call.name));
        return failure(QStringLiteral("unknown tool \"%1\"; the available tools are: %2")
                           .arg(call.name, names().join(QStringLiteral(", "))));
    }

    QJsonValue args;
    const QByteArray raw = call.arguments.trimmed().toUtf8();
    if (raw.isEmpty()) {
        // Some models send nothing for a call without arguments; that only means {} when
        // nothing is required.
        QStringList required;
        for (const QJsonValue& r : spec->parameters.value(QStringLiteral("required")).toArray())
            required.append(r.toString());
        if (!required.isEmpty())
            return failure(QStringLiteral("invalid arguments: none were given; %1 expects a JSON "
                                          "object with %2")
                               .arg(call.name, quotedList(required)));
        args = QJsonObject();
    } else {
        QString error;
        const auto parsed = parseJson(raw, &error);
        if (!parsed)
            return failure(
                QStringLiteral("invalid arguments: not valid JSON (%1)").arg(error) +
                (cutOff ? QStringLiteral("; the response was cut off at the max_tokens limit, "
                                         "so the arguments are incomplete: make a smaller call")
                        : QString()));
        args = *parsed;
    }
    const QStringList problems = JsonSchema::validate(spec->parameters, args, 10);
    if (!problems.isEmpty())
        return failure(QStringLiteral("invalid arguments: ") + problems.join(QStringLiteral("; ")));
    return run(call.name, args.toObject());
}

ToolResult ToolBox::run(const QString& name, const QJsonObject& args) const
{
    if (const auto handler = m_handlers.constFind(name); handler != m_handlers.cend())
        return (*handler)(args);
    const QString path = args.value(QStringLiteral("path")).toString();
    if (name == QLatin1String("file_read"))
        return readText(m_workspace, path, qint64(args.value(QStringLiteral("offset")).toDouble(0)),
                        qint64(args.value(QStringLiteral("max_bytes")).toDouble(MaxReadBytes)),
                        true);
    if (name == QLatin1String("file_write"))
        return writeText(m_workspace, path, args.value(QStringLiteral("content")).toString(),
                         false);
    if (name == QLatin1String("file_list"))
        return listDir(args.value(QStringLiteral("path")).toString(QStringLiteral(".")));
    if (name == QLatin1String("memory_read"))
        return readText(m_memory, path, 0, MaxReadBytes, false);
    if (name == QLatin1String("memory_write"))
        return writeText(m_memory, path, args.value(QStringLiteral("content")).toString(),
                         args.value(QStringLiteral("mode")).toString() == QLatin1String("append"));
    if (name == QLatin1String("memory_list"))
        return listMemory();
    return failure(QStringLiteral("tool \"%1\" is not implemented").arg(name));
}

ToolResult ToolBox::readText(ConfinedDir* dir, const QString& path, qint64 offset, qint64 maxBytes,
                             bool offerOffset) const
{
    const auto chunk = dir->read(path, offset, maxBytes);
    if (!chunk)
        return failure(chunk.error());
    QByteArray data = chunk->data;
    const qint64 size = chunk->fileSize;
    if (size == 0)
        return {QStringLiteral("[%1 is an empty file]").arg(path), false};

    // An offset in the middle of a character starts at the next one; a cut in the middle of
    // one ends before it, so each part decodes on its own and offsets stay exact.
    qint64 start = offset;
    while (!data.isEmpty() && (uchar(data.at(0)) & 0xC0) == 0x80 && start - offset < 3) {
        data.remove(0, 1);
        ++start;
    }
    if (start + data.size() < size) {
        const qsizetype complete = completeUtf8Length(data);
        if (complete > 0)
            data.truncate(complete);
    }
    const qint64 end = start + data.size();
    if (data.contains('\0') || !isValidUtf8(data))
        return {QStringLiteral("%1 is a binary file (%2 bytes); only UTF-8 text can be shown")
                    .arg(path)
                    .arg(size),
                false};

    QString text = QString::fromUtf8(data);
    if (end < size) {
        text += offerOffset
                    ? QStringLiteral("\n[truncated: bytes %1-%2 of %3 shown; %4 more bytes; call "
                                     "file_read with offset %2 to continue]")
                          .arg(start)
                          .arg(end)
                          .arg(size)
                          .arg(size - end)
                    : QStringLiteral("\n[truncated: the first %1 of %2 bytes shown; %3 more bytes "
                                     "not shown]")
                          .arg(end)
                          .arg(size)
                          .arg(size - end);
    } else if (start > 0) {
        text += QStringLiteral("\n[bytes %1-%2 of %3 shown: end of file]")
                    .arg(start)
                    .arg(end)
                    .arg(size);
    }
    return {text, false};
}

ToolResult ToolBox::writeText(ConfinedDir* dir, const QString& path, const QString& content,
                              bool append) const
{
    const QByteArray data = content.toUtf8();
    if (data.size() > MaxWriteBytes)
        return failure(QStringLiteral("the content is %1 bytes; at most %2 bytes can be written "
                                      "in one call")
                           .arg(data.size())
                           .arg(MaxWriteBytes));
    const auto size = dir->write(path, data, append);
    if (!size)
        return failure(size.error());
    if (append)
        return {QStringLiteral("appended %1 bytes to %2 (now %3 bytes)")
                    .arg(data.size())
                    .arg(path)
                    .arg(*size),
                false};
    return {QStringLiteral("wrote %1 bytes to %2").arg(data.size()).arg(path), false};
}

ToolResult ToolBox::listDir(const QString& path) const
{
    bool truncated = false;
    const auto entries = m_workspace->list(path, false, MaxListEntries, &truncated);
    if (!entries)
        return failure(entries.error());
    if (entries->isEmpty())
        return {QStringLiteral("the directory %1 is empty").arg(path), false};
    QStringList lines;
    for (const ConfinedDir::Entry& e : *entries) {
        switch (e.kind) {
        case ConfinedDir::Entry::Kind::Directory:
            lines.append(e.path + QLatin1Char('/'));
            break;
        case ConfinedDir::Entry::Kind::File:
            lines.append(QStringLiteral("%1 (%2 bytes)").arg(e.path).arg(e.size));
            break;
        case ConfinedDir::Entry::Kind::Symlink:
            lines.append(QStringLiteral("%1 (symbolic link)").arg(e.path));
            break;
        case ConfinedDir::Entry::Kind::Other:
            lines.append(QStringLiteral("%1 (special file)").arg(e.path));
            break;
        }
    }
    if (truncated)
        lines.append(QStringLiteral("[only the first %1 entries are shown]").arg(MaxListEntries));
    return {lines.join(QLatin1Char('\n')), false};
}

ToolResult ToolBox::listMemory() const
{
    bool truncated = false;
    const auto entries = m_memory->list(QStringLiteral("."), true, MaxListEntries, &truncated);
    if (!entries)
        return failure(entries.error());
    QStringList lines;
    for (const ConfinedDir::Entry& e : *entries) {
        if (e.kind == ConfinedDir::Entry::Kind::File)
            lines.append(QStringLiteral("%1 (%2 bytes)").arg(e.path).arg(e.size));
        else if (e.kind == ConfinedDir::Entry::Kind::Symlink)
            lines.append(QStringLiteral("%1 (symbolic link)").arg(e.path));
    }
    if (lines.isEmpty())
        return {QStringLiteral("your memory directory is empty"), false};
    if (truncated)
        lines.append(QStringLiteral("[only the first %1 entries are shown]").arg(MaxListEntries));
    return {lines.join(QLatin1Char('\n')), false};
}

} // namespace vivarium::runner
