// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

/**
 * The runner <-> broker wire protocol (docs/architecture.md, "Broker protocol").
 *
 * Transport: one Unix stream socket per run. Each message is one line of compact UTF-8 JSON
 * ending in '\n', at most MaxLineBytes. Requests carry an integer `id`; the answer carries the
 * same `id`. Events carry no id and get no answer.
 *
 * Runner -> broker
 *   {"type":"hello","id":1,"protocol":1}
 *   {"type":"llm","id":N,"request":<LlmRequest>}
 *   {"type":"provider","id":N,"call":{"provider"?,"connection"?,"method","url",
 *                                     "headers"?:{name:value}|[[name,value],...],"body"?}}
 *   {"type":"provider","id":N,"call":{"provider","connection"?,"operation","args"?}}
 *                                     (a manifest operation, docs/providers.md)
 *   {"type":"event","event":{"type":"tool.call"|"tool.result"|"log"|"run.output","data":{...}}}
 *   {"type":"finish","id":N,"status":"succeeded"|"failed","reason":"...","output":<json|null>}
 * Broker -> runner
 *   {"type":"result","id":1,"ok":true,"run":{"id","agent":<canonical agent JSON>,"input",
 *                                            "workspace","memory_dir"|null,
 *                                            "operations":[<operation tool>,...]}}
 *   {"type":"result","id":N,"ok":true,"response":<LlmResponse>}
 *   {"type":"result","id":N,"ok":false,"error":{"kind","message","http_status"?,"retryable"}}
 *   {"type":"result","id":N,"ok":true}                       (finish acknowledged)
 *   {"type":"result","id":N,"ok":true,"response":{"status","headers":{name:value},"body",
 *       "body_encoding":"utf-8"|"base64","truncated","bytes",
 *       "credential":"injected"|"none"|"not_bound_host"}}      (provider call; any status)
 *   {"type":"result","id":N,"ok":false,"error":{"kind":"policy"|"dns"|"connection"|"timeout"|
 *       "http"|"too_large"|"protocol"|"config"|"cancelled","rule","message"}} (provider call)
 *
 * The broker emits `llm.request`/`llm.response` events itself; the runner never sees a key,
 * a base URL or anything else of the endpoint.
 *
 * Provider calls (docs/broker.md): the broker checks, resolves, pins, adds the connection's
 * credential, sends, and redacts every known secret from the response. An upstream's 4xx/5xx
 * is an ok result with that status (the model needs the body); ok:false means the broker
 * refused (policy, with the rule) or no complete HTTP response came back. A 3xx is returned,
 * never followed. Repeated response headers are joined with ", ".
 */
namespace vivarium::protocol {

constexpr int Version = 1;
constexpr qsizetype MaxLineBytes = 16 * 1024 * 1024;
/** Environment variable through which the supervisor tells the runner where the socket is. */
constexpr const char* SocketEnv = "VIVARIUM_BROKER_SOCKET";

/** Error kinds in a failed result. */
namespace ErrorKind {
constexpr const char* Http = "http";             ///< the vendor answered with an error status
constexpr const char* Timeout = "timeout";       ///< connect or idle timeout
constexpr const char* Connection = "connection"; ///< refused, reset, DNS
constexpr const char* Cancelled = "cancelled";   ///< the run is being cancelled
constexpr const char* Config = "config";         ///< missing endpoint, key, or model
constexpr const char* Protocol = "protocol";     ///< malformed vendor or runner message
constexpr const char* Policy = "policy";         ///< the broker refused a provider call
constexpr const char* Dns = "dns";               ///< a provider host did not resolve
constexpr const char* TooLarge = "too_large";    ///< a provider request over the broker's limits
} // namespace ErrorKind

/** Serialize one message as a line (compact JSON + '\n'). */
QByteArray encode(const QJsonObject& message);

/**
 * Splits a byte stream into messages. Feed bytes as they arrive; take complete messages.
 * A line that is not a JSON object, or longer than MaxLineBytes, is a protocol error: the
 * reader stops and error() says why (the peer is then considered broken).
 */
class LineReader
{
public:
    void feed(const QByteArray& bytes);
    /** Next complete message, if any. */
    std::optional<QJsonObject> next();
    bool hasError() const { return !m_error.isEmpty(); }
    QString error() const { return m_error; }

private:
    QByteArray m_buffer;
    qsizetype m_scanFrom = 0;
    QString m_error;
};

} // namespace vivarium::protocol
