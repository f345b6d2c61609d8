// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "ConfinedDir.h"
#include "RunSpec.h"

#include "vivarium/protocol/Conversation.h"

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <memory>
#include <optional>

namespace vivarium::runner {

class BrokerConnection;
class ToolBox;

/**
 * One run, start to end (DESIGN section 4): hello, build the conversation, then model turns
 * and tool calls until a final answer or a limit, then finish.
 *
 * Finish reasons (status failed): `max_steps`, `token_budget`, `cost_budget`, `no_progress`,
 * `output_invalid`, `llm_error: <kind>: <message>`, `model_refused: <text>`.
 */
class AgentLoop
{
public:
    /** Identical calls before the tool result carries a warning, and before the run stops. */
    static constexpr int RepeatWarnAt = 3;
    static constexpr int RepeatStopAt = 5;
    /** Tool result text kept in a tool.result event, in bytes. */
    static constexpr qsizetype MaxEventContentBytes = 16 * 1024;

    explicit AgentLoop(BrokerConnection& broker);
    ~AgentLoop();
    AgentLoop(const AgentLoop&) = delete;
    AgentLoop& operator=(const AgentLoop&) = delete;

    /**
     * Run to the broker's acknowledgement of finish: 0. A broken connection or an unusable
     * answer from the broker: 1, and error() says why.
     */
    int exec();
    QString error() const { return m_error; }

private:
    /** How the run ends. */
    struct Outcome
    {
        bool succeeded = false;
        QString reason;
        QJsonValue output; ///< null unless succeeded
    };

    void openDirectories();
    /** nullopt: the connection broke. */
    std::optional<Outcome> loop();
    /** Handles one model answer without tool calls; nullopt means "ask again" (repair). */
    std::optional<Outcome> finalAnswer(const LlmResponse& response, bool* broken);
    /** Runs the calls of one turn; an Outcome if the no-progress guard ends the run. */
    std::optional<Outcome> runToolCalls(const LlmResponse& response, int step, bool* broken);
    /** Append to the conversation, kept as compact JSON (see m_conversation). */
    void append(const ChatMessage& message);
    bool log(const char* level, const QString& message);
    int fatal(const QString& why);

    BrokerConnection& m_broker;
    RunSpec m_spec;
    ConfinedDir m_workspace;
    ConfinedDir m_memory;
    std::unique_ptr<ToolBox> m_tools;
    /**
     * The conversation, each message already encoded as compact JSON. The whole conversation is
     * sent on every turn; keeping it as UTF-8 once and splicing it into the request line, rather
     * than as QStrings re-encoded through a QJsonObject tree each turn, keeps the runner's
     * memory close to the conversation's size.
     */
    QList<QByteArray> m_conversation;
    QHash<QByteArray, int> m_callCounts; ///< SHA-256 of name + canonical arguments -> calls
    bool m_repairUsed = false;
    QString m_error;
};

} // namespace vivarium::runner
