// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "SseParser.h"
#include "vivarium/sandbox/LlmClient.h"

#include <optional>

namespace vivarium {

/**
 * Turns a vendor's stream of server-sent events into one LlmResponse. Feed every event in
 * order; once isComplete() the stream reached its vendor-defined end ([DONE] or message_stop).
 * A stream that stops before that is incomplete, whatever it delivered.
 */
class StreamAssembler
{
public:
    virtual ~StreamAssembler() = default;

    virtual void onEvent(const SseEvent& event) = 0;
    /** The vendor's end-of-stream marker arrived. */
    virtual bool isComplete() const = 0;
    /** The response assembled so far. */
    virtual LlmResponse response() const = 0;

    /** A malformed event or an error the vendor sent mid-stream; nothing more is accepted. */
    const std::optional<LlmError>& error() const { return m_error; }
    void setDeltaCallback(LlmDeltaCallback callback) { m_onDelta = std::move(callback); }

protected:
    void fail(LlmError error)
    {
        if (!m_error)
            m_error = std::move(error);
    }
    void emitDelta(const QString& text) const
    {
        if (m_onDelta && !text.isEmpty())
            m_onDelta(text);
    }

private:
    std::optional<LlmError> m_error;
    LlmDeltaCallback m_onDelta;
};

} // namespace vivarium
