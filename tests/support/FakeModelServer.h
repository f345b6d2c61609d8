// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrl>

#include <memory>

namespace testsupport {

/**
 * A scripted stand-in for model vendors, speaking their exact wire formats over HTTP/1.1 on
 * 127.0.0.1 only:
 *   POST /v1/chat/completions  OpenAI chat completions  (OpenAI base URL: http://127.0.0.1:P/v1)
 *   POST /v1/messages          Anthropic Messages       (Anthropic base URL: http://127.0.0.1:P)
 * A query string is ignored; other paths get 404, other methods 405 (neither consumes a turn).
 * Streams mirror the real captures in conformance/llm-fixtures: `chat.completion.chunk`
 * objects, a finish chunk, the usage chunk (only when the request set
 * stream_options.include_usage) and `data: [DONE]`; or message_start, content blocks (text
 * first, then tool_use with input_json_delta pieces), a ping, message_delta, message_stop.
 * Streams use chunked transfer encoding, so a reset mid-stream is visible as one; every
 * response ends with `Connection: close`.
 *
 * The server runs on its own thread, so a test may call a blocking client on its main thread.
 * Every request is recorded (headers, body) and can be inspected from any thread.
 *
 * SCRIPT: an ordered list of turns (JSON objects), one consumed per model request, shared by
 * both formats. A script file is either that JSON array or {"turns": [...], "repeat": bool}.
 * When the script is exhausted the server answers {"text": "(script exhausted)"}, unless
 * repeat is on, in which case it starts over from the first turn.
 *
 * Turn fields (all optional):
 *   "text": "hello"                        assistant text
 *   "tool_calls": [{"id": "call_1", "name": "file_read", "arguments": "{\"path\":\"a.txt\"}"}]
 *                                          parallel tool calls; `arguments` is sent verbatim
 *                                          (may be "" or invalid JSON; an object is serialized);
 *                                          `id` defaults to call_fake_N / toolu_fake_N.
 *                                          Anthropic non-streaming needs an object `input`:
 *                                          arguments that are not a JSON object become {} there.
 *   "refusal": "I can't help with that"    OpenAI: refusal deltas/field, finish_reason stop;
 *                                          Anthropic: a text block, stop_reason refusal
 *   "stop_reason": end_turn|tool_use|max_tokens|stop_sequence|refusal|content_filter
 *                                          (Anthropic words; OpenAI gets stop, tool_calls,
 *                                          length, stop, stop, content_filter). With max_tokens
 *                                          the last content block is left open, as Anthropic
 *                                          does when it cuts a tool input off.
 *                                          Default: tool_use if tool calls, refusal if a
 *                                          refusal, else end_turn.
 *   "usage": {"input_tokens": 10, "output_tokens": 5, "cached_tokens": 0}   (these defaults)
 *   "model": "..."                         default: the request's model
 *   "stream": true | false | "auto"        default "auto": what the request asked for
 *   "chunk_bytes": N                       split the body into writes of N bytes (one HTTP
 *                                          chunk each when streaming; anywhere, including inside
 *                                          UTF-8 sequences), each flushed separately ...
 *   "chunk_delay_ms": N                    ... this long apart (default 1 with chunk_bytes,
 *                                          else 0: one write per SSE event, back to back)
 *   "piece_chars": N                       text/arguments per delta event (default 4)
 *   "delay_ms": N                          wait before sending anything
 *   "headers": {"name": "value"}           extra response headers
 *   "close": true                          close the connection after this answer (by
 *                                          default connections persist, HTTP/1.1 keep-alive,
 *                                          as the vendors' servers do, unless the request
 *                                          says `Connection: close`)
 * Failure modes:
 *   "status": 429|500|401|...              error response with the vendor's error JSON:
 *                                          OpenAI {"error":{"message","type","param","code"}},
 *                                          Anthropic {"type":"error","error":{"type","message"}}
 *   "error": "invalid api key"             its message (default "fake error")
 *   "error_type": "rate_limit_error"       its type (default from the status and format)
 *   "retry_after": 1 | "Fri, 21 Nov ..."   Retry-After header (number: seconds; string: as is)
 *   "retry_after_ms": 250                  retry-after-ms header
 *   "reset_after_bytes": N                 send N body bytes of the normal answer, then reset
 *                                          the connection (TCP RST)
 *   "hang": true                           read the request and never answer
 *   "error_event": "overloaded_error"      Anthropic: message_start, ping, then `event: error`
 *                                          and the end of the stream; OpenAI: a first chunk, then
 *                                          `data: {"error":{...}}` and the end (no [DONE])
 *   "raw_sse_file": PATH                   send this file verbatim as the event stream
 *   "raw_json_file": PATH                  send this file verbatim as the JSON body
 *                                          (relative paths: against setBaseDir(), by default
 *                                          the script file's directory, else the working dir)
 * Unknown fields are ignored (there is no request matching: turns are consumed in order).
 * A script without delays is the "zero latency" mode for benchmarks.
 */
class FakeModelServer
{
public:
    struct Request
    {
        QByteArray method;
        QByteArray path;                              ///< without the query string
        QList<QPair<QByteArray, QByteArray>> headers; ///< as received
        QByteArray body;
        QJsonObject json;   ///< the body parsed, empty if it was not a JSON object
        int turnIndex = -1; ///< which script turn answered it; -1: none (404/405/exhausted)

        /** A header's value, name compared case-insensitively; empty if absent. */
        QByteArray header(const QByteArray& name) const;
        bool hasHeader(const QByteArray& name) const;
    };

    FakeModelServer();
    ~FakeModelServer();
    FakeModelServer(const FakeModelServer&) = delete;
    FakeModelServer& operator=(const FakeModelServer&) = delete;

    /** Replaces the script and rewinds to its first turn. */
    void setScript(const QJsonArray& turns);
    void addTurn(const QJsonObject& turn);
    /** Reads a script file (see above); also sets the base dir to the file's directory. */
    bool loadScriptFile(const QString& path, QString* error = nullptr);
    void setRepeat(bool repeat);
    /**
     * Pick each request's turn by its conversation's step (the number of assistant messages
     * it carries) instead of in arrival order, so concurrent conversations each walk the
     * script from the start. Script file form: {"turns": [...], "turn_by": "step"}.
     */
    void setTurnByStep(bool byStep);
    void setBaseDir(const QString& dir);

    /** Listens on 127.0.0.1:`port` (0: any free port) on the server's own thread. */
    bool start(quint16 port = 0);
    void stop();
    quint16 port() const;
    QUrl openAiBaseUrl() const;
    QUrl anthropicBaseUrl() const;

    QList<Request> requests() const;
    int requestCount() const;
    void clearRequests();
    /** Turns consumed so far. */
    int turnsServed() const;
    /** TCP connections accepted since start: how a test sees that a client reuses them. */
    int connectionsAccepted() const;
    /** Blocks until `count` requests were recorded or `timeoutMs` passed. */
    bool waitForRequests(int count, int timeoutMs) const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace testsupport
